"""Backups and restores (restaurant/backups.py, `manage.py backup` and `manage.py restore`).

The drill, on PostgreSQL with the real pg_dump and pg_restore: a day of business through the
services (cash, card, a QR payment and its notification, a void refunded automatically, a
refund by hand), an encrypted backup, a restore into a new database, and the ledger, every
bill's settlement, the day's figures and the books' totals equal to the fen; the photos back
byte for byte. A damaged file, a wrong passphrase and a database that is not empty are
refused with a clear message. Then the SQLite default the same way, and the pieces alone
(chunked encryption against tampering and truncation, retention by day and month).
"""

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

from orders import services as order_services
from orders.models import OrderLine, Table
from payments import services
from restaurant import backups
from tests.live import ROOT
from tests.payments.conftest import SECRET, approve, notify, qr_payment, seat

FIGURES = """
import json
from dataclasses import asdict
from django.db.models import Sum
from django.utils import timezone
from orders.models import Tab
from orders.settlement import build_settlements
from payments.models import LedgerEntry, Payment, Refund
from payments.reports.figures import day_figures
from restaurant.lib.business_day import business_day
tabs = sorted(Tab.objects.values_list("pk", flat=True))
print(json.dumps({
    "settlements": build_settlements(tabs),
    "day": asdict(day_figures(business_day(timezone.now()))),
    "ledger": {account: str(total) for account, total in LedgerEntry.objects.order_by("account")
               .values_list("account").annotate(total=Sum("amount"))},
    "entries": LedgerEntry.objects.count(),
    "last_hash": LedgerEntry.objects.order_by("-id").values_list("hash", flat=True).first(),
    "payments": list(Payment.objects.order_by("pk").values_list("pk", "status", "amount")),
    "refunds": list(Refund.objects.order_by("pk").values_list("pk", "status", "amount")),
}, default=str, sort_keys=True))
"""
PASSPHRASE = "正确 horse battery staple"
PHOTO = bytes(range(256)) * 40


def database_url(name):
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def manage(env, *args, ok=True):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    if ok:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def environment(database, media, **extra):
    return {
        "PATH": os.environ["PATH"], "DEBUG": "true", "DATABASE_URL": database,
        "REDIS_URL": os.environ.get("REDIS_URL", ""), "MEDIA_ROOT": str(media), **extra,
    }  # fmt: skip


def figures(env):
    return json.loads(manage(env, "shell", "--no-imports", "-c", FIGURES).stdout)


@pytest.fixture
def new_database(needs_postgres):
    """Empty PostgreSQL databases made for the test (the restore's targets), dropped after."""
    made = []
    admin = {**connection.settings_dict}

    def make():
        name = f"{admin['NAME']}_restored{len(made)}"
        with psycopg.connect(database_url("postgres"), autocommit=True) as admin_connection:
            admin_connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin_connection.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return database_url(name)

    yield make
    with psycopg.connect(database_url("postgres"), autocommit=True) as admin_connection:
        for name in made:
            admin_connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def a_day_of_business(menu, cashier, client, settings):
    """Four bills through the services, as a day at the till would make them."""
    settings.SANDBOX_GATEWAY = True
    settings.SANDBOX_GATEWAY_SECRET = SECRET
    settings.SANDBOX_DELIVERY = "off"
    settings.SERVICE_FLOW = "pay_later"
    tables = [Table.objects.create(code=f"B{n}", name=f"大厅 B{n}") for n in range(4)]
    tabs = [seat(table, menu, key=f"order-{n}") for n, table in enumerate(tables)]

    def pay(tab, method, amount, key, **more):
        version = type(tab).objects.get(pk=tab.pk).version
        return services.payment_start(tab_id=tab.pk, method=method, amount=amount,
                                      version=version, key=key, user=cashier, **more)[0]  # fmt: skip

    pay(tabs[0], "cash", "100", "cash-0")  # 50 due: 50 change
    pay(tabs[1], "card", "40", "card-1", terminal_ref="T1")
    pay(tabs[1], "cash", "10", "cash-1")
    cucumber = OrderLine.objects.get(order__tab=tabs[1], name="拍黄瓜")
    order_services.line_void(line_id=cucumber.pk, reason="太咸", user=cashier)  # 12 back
    qr = qr_payment(tabs[2], key="phone-2")
    assert notify(client, approve(qr)).status_code == 200
    paid = pay(tabs[3], "card", "50", "card-3", terminal_ref="T3")
    services.refund_create(
        payment_id=paid.pk, amount=Decimal("5.00"), reason="少上一道菜", user=cashier
    )


@pytest.mark.django_db(transaction=True)
def test_the_drill_a_day_backed_up_encrypted_and_restored_balances_to_the_fen(
    new_database, menu, cashier, client, settings, tmp_path
):
    a_day_of_business(menu, cashier, client, settings)
    media = tmp_path / "media"
    (media / "dishes").mkdir(parents=True)
    (media / "dishes" / "鲈鱼.webp").write_bytes(PHOTO)
    original = environment(database_url(connection.settings_dict["NAME"]), media,
                           BACKUP_PASSPHRASE=PASSPHRASE)  # fmt: skip
    before = figures(original)
    assert before["entries"] >= 6 and before["refunds"]
    assert "The ledger checks out" in manage(original, "check_ledger").stdout

    out = manage(original, "backup", "--to", str(tmp_path / "backups"), "--encrypt").stdout
    assert "(encrypted)" in out
    (folder,) = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    names = sorted(f["name"] for f in manifest["files"])
    assert names == ["database.pgdump.enc", "media.tar.gz.enc"]
    assert (
        manifest["database"]["vendor"] == "postgresql"
        and "pg_dump" in manifest["database"]["version"]
    )
    assert manifest["ledger"] == {"entries": before["entries"], "last_hash": before["last_hash"]}
    assert manifest["versions"]["migrations"]["payments"]
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert sums.returncode == 0, sums.stdout  # the standard tool agrees
    assert PHOTO[:64] not in (folder / "media.tar.gz.enc").read_bytes()

    restored_media = tmp_path / "restored-media"
    restored = environment(new_database(), restored_media, BACKUP_PASSPHRASE=PASSPHRASE)
    out = manage(restored, "restore", str(folder)).stdout
    assert "The ledger checks out" in out and "1 photo files" in out
    after = figures(restored)
    assert after == before  # every settlement, the day's figures, the ledger, to the fen
    assert (restored_media / "dishes" / "鲈鱼.webp").read_bytes() == PHOTO

    # Into a database that is not empty: refused, nothing touched.
    again = manage(restored, "restore", str(folder), "--no-media", ok=False)
    assert again.returncode != 0 and "is not empty" in again.stderr
    assert figures(restored) == before


@pytest.mark.django_db(transaction=True)
def test_a_damaged_file_or_a_wrong_passphrase_is_refused_clearly(
    new_database, menu, table, tmp_path
):
    seat(table, menu)
    media = tmp_path / "media"
    original = environment(database_url(connection.settings_dict["NAME"]), media,
                           BACKUP_PASSPHRASE=PASSPHRASE)  # fmt: skip
    manage(original, "backup", "--to", str(tmp_path / "backups"))
    (folder,) = (tmp_path / "backups").iterdir()
    target = environment(new_database(), tmp_path / "m2", BACKUP_PASSPHRASE="not it")
    wrong = manage(target, "restore", str(folder), ok=False)
    assert wrong.returncode != 0 and "Wrong passphrase" in wrong.stderr
    no_passphrase = manage({**target, "BACKUP_PASSPHRASE": ""}, "restore", str(folder), ok=False)
    assert "This backup is encrypted" in no_passphrase.stderr

    dump = folder / "database.pgdump.enc"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    damaged = manage({**target, "BACKUP_PASSPHRASE": PASSPHRASE}, "restore", str(folder), ok=False)
    assert damaged.returncode != 0
    assert "database.pgdump.enc does not match its SHA-256 checksum" in damaged.stderr
    with psycopg.connect(target["DATABASE_URL"]) as check:  # nothing was restored
        tables = check.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_the_sqlite_default_is_backed_up_and_restored_through_its_backup_api(tmp_path):
    media = tmp_path / "media"
    media.mkdir()
    (media / "photo.jpg").write_bytes(PHOTO)
    first = environment(f"sqlite:///{tmp_path / 'first.sqlite3'}", media, REDIS_URL="")
    manage(first, "migrate", "--no-input")
    manage(first, "shell", "--no-imports", "-c", "from orders.models import Table; "
           "[Table.objects.create(code=f'S{n}', name=f'桌 {n}') for n in range(3)]")  # fmt: skip
    manage(first, "backup", "--to", str(tmp_path / "backups"))
    (folder,) = (tmp_path / "backups").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == [
        "SHA256SUMS", "database.sqlite3.gz", "manifest.json", "media.tar.gz"
    ]  # fmt: skip
    second = environment(f"sqlite:///{tmp_path / 'second.sqlite3'}", tmp_path / "m2", REDIS_URL="")
    assert "The ledger checks out" in manage(second, "restore", str(folder)).stdout
    count = "from orders.models import Table; print(sorted(Table.objects.values_list('code', flat=True)))"
    assert (
        manage(second, "shell", "--no-imports", "-c", count).stdout
        == manage(first, "shell", "--no-imports", "-c", count).stdout
    )
    assert (tmp_path / "m2" / "photo.jpg").read_bytes() == PHOTO
    refused = manage(second, "restore", str(folder), "--no-media", ok=False)
    assert "is not empty" in refused.stderr


# The pieces ---------------------------------------------------------------------------------


def sealed(plain, key):
    out = io.BytesIO()
    backups.encrypt_stream(key, io.BytesIO(plain), out)
    return out.getvalue()


def opened(data, key):
    return b"".join(backups.decrypt_stream(key, io.BytesIO(data), "file"))


def test_chunked_encryption_round_trips_and_refuses_change_swap_and_truncation(monkeypatch):
    monkeypatch.setattr(backups, "CHUNK", 64)
    key = os.urandom(32)
    plain = os.urandom(64 * 3 + 10)
    data = sealed(plain, key)
    assert opened(data, key) == plain and opened(sealed(b"", key), key) == b""
    header, body = data[:24], data[24:]
    chunks = [body[i : i + 80] for i in range(0, len(body), 80)]
    changed = bytearray(data)
    changed[30] ^= 1
    cases = {
        "changed": bytes(changed),
        "swapped": header + chunks[1] + chunks[0] + b"".join(chunks[2:]),
        "cut at a chunk": header + b"".join(chunks[:-1]),
        "cut short": data[:-5],
        "other key": None,
    }
    for what, damaged in cases.items():
        with pytest.raises(backups.BackupError, match="damaged"):
            if damaged is None:
                opened(data, os.urandom(32))
            else:
                opened(damaged, key)
        assert what  # each case named for the failure message
    with pytest.raises(backups.BackupError, match="not an encrypted"):
        opened(b"plain text", key)
    assert backups.key_matches(key, backups.key_check(key))
    assert not backups.key_matches(os.urandom(32), backups.key_check(key))


def test_retention_keeps_the_newest_of_each_recent_day_and_month(tmp_path, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    start = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    made = []
    for day in range(120):  # two backups a day for four months
        for hour in (0, 12):
            moment = start + timedelta(days=day, hours=hour)
            folder = tmp_path / f"diancan-{moment.strftime('%Y%m%dT%H%M%SZ')}"
            folder.mkdir()
            (folder / "manifest.json").write_text("{}")
            made.append(moment)
    (tmp_path / ".partial-diancan-20260101T000000Z-x").mkdir()  # a cut-short one: not a set
    backups.backups_prune(folder=tmp_path, daily=7, monthly=3)
    kept = [moment for moment, _path in backups.backup_sets(tmp_path)]
    shanghai_days = {m.astimezone(backups.ZoneInfo("Asia/Shanghai")).date() for m in kept}
    assert max(kept) == made[-1]
    assert len(kept) == 7 + 3 - 1  # this month's newest is also the newest day's
    assert len(shanghai_days) == len(kept)  # one per day kept
    months = sorted({(m.year, m.month) for m in kept})
    assert months == [(2026, 2), (2026, 3), (2026, 4)]
    assert (tmp_path / ".partial-diancan-20260101T000000Z-x").exists()


def test_a_backup_from_a_newer_diancan_is_refused_and_an_older_one_says_migrate(db):
    current = backups._migrations()
    assert backups.migrations_check({"versions": {"migrations": current}}) == []
    newer = {**current, "payments": "9999_from_the_future"}
    with pytest.raises(backups.BackupError, match="newer Diancan.*payments.9999_from_the_future"):
        backups.migrations_check({"versions": {"migrations": newer}})
    older = {**current, "payments": "0001_initial"}
    assert backups.migrations_check({"versions": {"migrations": older}}) == ["payments"]
