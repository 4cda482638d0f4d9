"""Backups of the whole restaurant: the database and the uploaded photos, into one folder per
backup, compressed, with a manifest and SHA-256 checksums, optionally encrypted; retention by
day and month; restore into an empty database. `manage.py backup` and `manage.py restore` are
thin wrappers; README.md, "Backups", says how to schedule them and why it is built so.

A backup set is a folder `diancan-<UTC time>` holding:
- `database.pgdump` (`pg_dump --format=custom`, compressed by pg_dump) or `database.sqlite3.gz`
  (SQLite's online backup API into a copy, then gzip);
- `media.tar.gz` (MEDIA_ROOT, the dishes' photos);
- each of them `<name>.enc` instead when encrypted (below);
- `manifest.json` (what, when, versions, sizes, checksums, the last ledger hash) and
  `SHA256SUMS` (the same checksums, for `sha256sum -c`).
It is written under a `.partial-…` name and renamed when complete: a backup cut short never
looks like one.

Encryption (`BACKUP_PASSPHRASE`, or another variable named with --passphrase-env): scrypt
(n=2^15, r=8, p=1, a random 16-byte salt per backup) makes a 256-bit key from the passphrase;
each file is AES-256-GCM in 1 MiB chunks, each chunk's nonce a per-file random prefix and its
number, its associated data the file's header, its number and whether it is the last one, so a
chunk changed, swapped, dropped or cut off fails to decrypt. The manifest (not secret: names,
sizes, versions) carries a key check, so a wrong passphrase is told apart from a damaged file.
"""

import base64
import gzip
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import django
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from restaurant.lib.alerts import Alert, alert_raise
from restaurant.lib.once import run_claim, run_done, run_failed

FORMAT = "diancan-backup/1"
SET_NAME = re.compile(r"diancan-(\d{8}T\d{6}Z)")
MAGIC = b"DIANCAN-ENC1"
CHUNK = 1 << 20
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
KEY_CHECK = b"diancan backup key check"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says what to do."""


# Encryption ---------------------------------------------------------------------------------


def derive_key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, **SCRYPT).derive(passphrase.encode())


def _chunk_aad(header: bytes, number: int, last: bool) -> bytes:
    return header + struct.pack(">I?", number, last)


def encrypt_stream(key: bytes, source: IO[bytes], target: IO[bytes]) -> None:
    """`source` to `target` as MAGIC, chunk size, nonce prefix, then sealed chunks."""
    header = MAGIC + struct.pack(">I", CHUNK) + os.urandom(8)
    target.write(header)
    aead = AESGCM(key)
    number, chunk = 0, source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        nonce = header[-8:] + struct.pack(">I", number)
        target.write(aead.encrypt(nonce, chunk, _chunk_aad(header, number, last)))
        if last:
            return
        number, chunk = number + 1, following


def decrypt_stream(key: bytes, source: IO[bytes], name: str) -> Iterator[bytes]:
    """The plain chunks of an encrypted file; BackupError when any of it does not check."""
    header = source.read(len(MAGIC) + 12)
    if not header.startswith(MAGIC):
        raise BackupError(f"{name} is not an encrypted Diancan backup file (damaged?).")
    (size,) = struct.unpack(">I", header[len(MAGIC) : len(MAGIC) + 4])
    aead = AESGCM(key)
    number, sealed = 0, source.read(size + 16)
    while True:
        following = source.read(size + 16)
        last = not following
        nonce = header[-8:] + struct.pack(">I", number)
        try:
            yield aead.decrypt(nonce, sealed, _chunk_aad(header, number, last))
        except InvalidTag:
            raise BackupError(
                f"{name} is damaged: part {number + 1} does not decrypt (changed or cut short)."
            ) from None
        if last:
            return
        number, sealed = number + 1, following


def key_check(key: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, KEY_CHECK, None)).decode()


def key_matches(key: bytes, check: str) -> bool:
    raw = base64.b64decode(check)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], None) == KEY_CHECK
    except InvalidTag:
        return False


# Helpers --------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_env_and_args(database: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """libpq's environment and arguments for the database of a DATABASES entry."""
    env = {**os.environ}
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if database.get(key):
            args += [flag, str(database[key])]
    return env, args + ["--dbname", str(database["NAME"])]


def _run(command: list[str], env: dict[str, str], **kwargs: Any) -> None:
    try:
        subprocess.run(command, env=env, check=True, capture_output=True, **kwargs)
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed: install the PostgreSQL client of the server's "
            "major version (Debian: apt install postgresql-client)."
        ) from None
    except subprocess.CalledProcessError as error:
        message = error.stderr.decode("utf-8", "replace").strip()[-800:]
        raise BackupError(f"{command[0]} failed ({error.returncode}): {message}") from None


def _tool_version(tool: str) -> str:
    try:
        return subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        return ""


def _migrations() -> dict[str, str]:
    """The last migration applied of each app: what a restore must run under."""
    last: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).migration_qs.values_list("app", "name"):
        last[app] = max(last.get(app, ""), name)
    return dict(sorted(last.items()))


def _ledger_state() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM payments_ledgerentry")
        (count,) = cursor.fetchone()
        cursor.execute("SELECT hash FROM payments_ledgerentry ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    return {"entries": count, "last_hash": row[0] if row else None}


# Backup ---------------------------------------------------------------------------------------


def _dump_database(folder: Path) -> tuple[str, str]:
    """The database into `folder`: (file name, tool and server versions)."""
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        env, args = _pg_env_and_args(database)
        target = folder / "database.pgdump"
        _run(["pg_dump", "--format=custom", "--compress=6", "--no-owner", "--no-privileges",
              "--file", str(target), *args], env)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (server,) = cursor.fetchone()
        return target.name, f"PostgreSQL {server}; {_tool_version('pg_dump')}"
    if connection.vendor == "sqlite":
        copy = folder / "database.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(copy) as duplicate:
            connection.connection.backup(duplicate)  # the online backup API: a consistent copy
        duplicate.close()
        packed = folder / "database.sqlite3.gz"
        with copy.open("rb") as source, gzip.open(packed, "wb", compresslevel=6) as out:
            shutil.copyfileobj(source, out, CHUNK)
        copy.unlink()
        return packed.name, f"SQLite {sqlite3.sqlite_version}"
    raise BackupError(f"Backups of a {connection.vendor} database are not supported.")


def _pack_media(folder: Path) -> str:
    media = Path(settings.MEDIA_ROOT)
    target = folder / "media.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as archive:
        if media.is_dir():
            for path in sorted(media.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=str(path.relative_to(media)), recursive=False)
    return target.name


@dataclass
class Backup:
    folder: Path
    manifest: dict[str, Any]


def backup_create(
    *, to: Path, passphrase: str | None = None, media: bool = True, now: datetime | None = None
) -> Backup:
    """Make one backup set under `to`; returns it. BackupError when it cannot."""
    now = (now or datetime.now(UTC)).astimezone(UTC)  # the set's name is in UTC
    to.mkdir(parents=True, exist_ok=True)
    name = f"diancan-{now.strftime('%Y%m%dT%H%M%SZ')}"
    final = to / name
    if final.exists():
        raise BackupError(f"{final} exists already: one backup a second at most.")
    partial = Path(tempfile.mkdtemp(prefix=f".partial-{name}-", dir=to))
    try:
        database_file, database_version = _dump_database(partial)
        files = [database_file] + ([_pack_media(partial)] if media else [])
        encryption: dict[str, Any] | None = None
        if passphrase:
            salt = os.urandom(16)
            key = derive_key(passphrase, salt)
            encryption = {
                "scheme": "scrypt + AES-256-GCM in 1 MiB chunks",
                "kdf": {"name": "scrypt", **SCRYPT, "salt": base64.b64encode(salt).decode()},
                "key_check": key_check(key),
            }
            for index, plain_name in enumerate(files):
                plain = partial / plain_name
                with plain.open("rb") as source, (partial / f"{plain_name}.enc").open("wb") as out:
                    encrypt_stream(key, source, out)
                plain.unlink()
                files[index] = f"{plain_name}.enc"
        described = [
            {"name": f, "bytes": (partial / f).stat().st_size, "sha256": sha256_of(partial / f)}
            for f in files
        ]
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(timespec="seconds"),
            "restaurant": settings.RESTAURANT_NAME,
            "database": {
                "vendor": connection.vendor,
                "file": database_file,
                "version": database_version,
            },  # fmt: skip
            "media": media,
            "versions": {
                "python": platform.python_version(),
                "django": django.get_version(),
                "migrations": _migrations(),
            },
            "ledger": _ledger_state(),
            "encryption": encryption,
            "files": described,
        }
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        (partial / "SHA256SUMS").write_text(
            "".join(f"{f['sha256']}  {f['name']}\n" for f in described)
        )
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(final, manifest)


def backup_sets(folder: Path) -> list[tuple[datetime, Path]]:
    """The complete backup sets in `folder`, oldest first."""
    found = []
    for path in folder.iterdir() if folder.is_dir() else ():
        match = SET_NAME.fullmatch(path.name)
        if match and (path / "manifest.json").is_file():
            moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            found.append((moment, path))
    return sorted(found)


def backups_prune(*, folder: Path, daily: int, monthly: int) -> list[Path]:
    """Keep the newest set of each of the last `daily` days and of the last `monthly` months
    (days and months in the restaurant's time zone) that have one; delete the rest. Returns
    what was deleted. The newest set is always kept."""
    zone = ZoneInfo(settings.TIME_ZONE)
    sets = backup_sets(folder)
    keep: set[Path] = {sets[-1][1]} if sets else set()
    for width, count in ((10, daily), (7, monthly)):  # "YYYY-MM-DD", "YYYY-MM"
        newest: dict[str, Path] = {}
        for moment, path in sets:  # oldest first: the last one of each period wins
            newest[moment.astimezone(zone).date().isoformat()[:width]] = path
        keep.update(newest[period] for period in sorted(newest)[-count:] if count > 0)
    deleted = [path for _moment, path in sets if path not in keep]
    for path in deleted:
        shutil.rmtree(path)
    return deleted


# Restore --------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} holds no manifest.json: not a Diancan backup.") from None
    except ValueError:
        raise BackupError(f"{folder}/manifest.json is damaged (not JSON).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{folder} is not a {FORMAT} backup.")
    return manifest


def backup_verify(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file there, of its size and SHA-256; BackupError naming the first that is not."""
    sums = {}
    sums_file = folder / "SHA256SUMS"
    if sums_file.is_file():
        for line in sums_file.read_text().splitlines():
            digest, _, name = line.partition("  ")
            sums[name] = digest
    for entry in manifest["files"]:
        path = folder / entry["name"]
        if not path.is_file():
            raise BackupError(f"The backup is incomplete: {entry['name']} is missing.")
        if sums.get(entry["name"], entry["sha256"]) != entry["sha256"]:
            raise BackupError("The backup is damaged: SHA256SUMS and manifest.json disagree.")
        if path.stat().st_size != entry["bytes"] or sha256_of(path) != entry["sha256"]:
            raise BackupError(
                f"The backup is damaged: {entry['name']} does not match its SHA-256 checksum."
            )


def _plain_chunks(path: Path, key: bytes | None) -> Iterator[bytes]:
    with path.open("rb") as source:
        if key is None:
            yield from iter(lambda: source.read(CHUNK), b"")
        else:
            yield from decrypt_stream(key, source, path.name)


def _database_is_empty() -> list[str]:
    return connection.introspection.table_names()


def _restore_database(folder: Path, manifest: dict[str, Any], key: bytes | None) -> None:
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(
            f"This backup is of a {vendor} database; DATABASE_URL points at {connection.vendor}."
        )
    tables = _database_is_empty()
    if tables:
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} is not empty ({len(tables)} "
            "tables): restore only into an empty one. Create a new database (createdb …), point "
            "DATABASE_URL at it and run restore again."
        )
    stored = next(f["name"] for f in manifest["files"] if f["name"].startswith("database."))
    if vendor == "postgresql":
        env, args = _pg_env_and_args(connection.settings_dict)
        connection.close()  # pg_restore works in its own session
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                   "--single-transaction", *args]  # fmt: skip
        with tempfile.TemporaryFile() as plain:
            for chunk in _plain_chunks(folder / stored, key):
                plain.write(chunk)
            plain.seek(0)
            _run(command, env, stdin=plain)
        return
    target = Path(connection.settings_dict["NAME"])
    connection.close()
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as packed:
        for chunk in _plain_chunks(folder / stored, key):
            packed.write(chunk)
    try:
        with gzip.open(packed.name, "rb") as source, target.open("wb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    except (OSError, EOFError) as error:
        target.unlink(missing_ok=True)
        raise BackupError(f"{stored} is damaged: {error}") from None
    finally:
        os.unlink(packed.name)
    with sqlite3.connect(target) as check:
        (verdict,) = check.execute("PRAGMA integrity_check").fetchone()
    check.close()
    if verdict != "ok":
        raise BackupError(f"The restored SQLite database does not check out: {verdict}")


def _restore_media(folder: Path, manifest: dict[str, Any], key: bytes | None) -> int:
    stored = next((f["name"] for f in manifest["files"] if f["name"].startswith("media.")), None)
    if stored is None:
        return 0
    media = Path(settings.MEDIA_ROOT)
    if media.is_dir() and any(p.is_file() for p in media.rglob("*")):
        raise BackupError(
            f"MEDIA_ROOT ({media}) is not empty: restore the photos only into an empty folder."
        )
    media.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as plain:
        for chunk in _plain_chunks(folder / stored, key):
            plain.write(chunk)
        plain.seek(0)
        with tarfile.open(fileobj=plain, mode="r:gz") as archive:
            members = archive.getmembers()
            archive.extractall(media, filter="data")  # no absolute paths, no ../, no links out
    return len(members)


def migrations_check(manifest: dict[str, Any]) -> list[str]:
    """Refuse a backup made by a newer Diancan (migrations this code does not have); return
    the apps whose code is newer than the backup (`manage.py migrate` brings them up)."""
    on_disk = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    backed_up = manifest["versions"]["migrations"]
    unknown = [f"{app}.{name}" for app, name in backed_up.items() if (app, name) not in on_disk]
    if unknown:
        raise BackupError(
            "This backup was made by a newer Diancan (migrations this code does not have: "
            + ", ".join(unknown)
            + "): restore it with that version, or a newer one."
        )
    newest: dict[str, str] = {}
    for app, name in on_disk:
        newest[app] = max(newest.get(app, ""), name)
    return sorted(app for app, name in backed_up.items() if newest.get(app, name) > name)


def backup_restore(*, folder: Path, passphrase: str | None = None, media: bool = True) -> dict:
    """Check the backup whole (checksums, then the passphrase), then restore the database
    (which must be empty) and the photos (into an empty MEDIA_ROOT). Returns the manifest."""
    manifest = read_manifest(folder)
    backup_verify(folder, manifest)
    manifest["to_migrate"] = migrations_check(manifest)
    key = None
    encryption = manifest.get("encryption")
    if encryption:
        if not passphrase:
            raise BackupError(
                "This backup is encrypted: give its passphrase (BACKUP_PASSPHRASE, or the "
                "variable named with --passphrase-env)."
            )
        key = derive_key(passphrase, base64.b64decode(encryption["kdf"]["salt"]))
        if not key_matches(key, encryption["key_check"]):
            raise BackupError("Wrong passphrase: it is not the one this backup was made with.")
    _restore_database(folder, manifest, key)
    if media:
        manifest["media_files_restored"] = _restore_media(folder, manifest, key)
    return manifest


# The worker's scheduled backup -----------------------------------------------------------------

logger = logging.getLogger("worker")
BACKUP_LEASE = timedelta(hours=2)  # a copy that dies mid-backup leaves it to another after this
BACKUP_RETRY = timedelta(hours=1)  # a failed backup is tried again after this, the same day


def backup_due(*, now: datetime | None = None) -> int:
    """The worker's job: once a day, from BACKUP_AT (local time) on, one backup set into
    BACKUP_DIR (encrypted when BACKUP_PASSPHRASE is set), then the old sets pruned (keep
    BACKUP_KEEP_DAILY days and BACKUP_KEEP_MONTHLY months). Off when BACKUP_AT is not set.

    Once however many worker copies run: the day is claimed first (`run_claim`, a row per day).
    A failure is logged, raised as an alert for the manager (once a day) and tried again an
    hour later, the same day. A worker started after BACKUP_AT takes the day's backup at once
    (as systemd's Persistent=true). 1 when it made a backup."""
    if settings.BACKUP_AT is None:
        return 0
    now = now or datetime.now(UTC)
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    if local.time() < settings.BACKUP_AT:
        return 0
    day = local.date().isoformat()
    if not run_claim(job="backup", period=day, lease=BACKUP_LEASE, now=now):
        return 0
    folder = Path(settings.BACKUP_DIR)
    try:
        made = backup_create(
            to=folder, passphrase=os.environ.get("BACKUP_PASSPHRASE") or None, now=now
        )
        removed = backups_prune(
            folder=folder, daily=settings.BACKUP_KEEP_DAILY, monthly=settings.BACKUP_KEEP_MONTHLY
        )
    except Exception as error:  # a full disk, pg_dump missing, …: the manager must know
        logger.exception("worker: the scheduled backup of %s failed", day)
        run_failed(job="backup", period=day, error=str(error), retry_in=BACKUP_RETRY, now=now)
        alert_raise(
            key=f"backup:{day}",
            kind=Alert.Kind.BACKUP_FAILED,
            detail={"day": day, "error": str(error)[:300]},
        )
        return 0
    run_done(job="backup", period=day)
    logger.info("worker: backed up to %s; removed %d old sets", made.folder, len(removed))
    return 1
