"""The worker's scheduled backup (restaurant/backups.py, `backup_due`): off without BACKUP_AT;
from BACKUP_AT on, one backup set a day however many worker copies run (two real `manage.py
worker` processes on PostgreSQL here); old sets pruned to BACKUP_KEEP_DAILY days and
BACKUP_KEEP_MONTHLY months; a failure logged, kept, raised once as an alert for the manager and
tried again an hour later."""

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from restaurant.backups import backup_due, backup_sets
from restaurant.lib.alerts import Alert
from restaurant.lib.once import JobRun
from tests.live import Worker
from tests.writes import statements

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def fake_set(folder, moment):
    """An old backup set as `backup` names it (UTC), with the manifest that makes it one."""
    path = folder / f"diancan-{moment.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"format": "diancan-backup/1"}))
    return path


@pytest.fixture
def scheduled(settings, tmp_path):
    settings.BACKUP_AT = datetime.strptime("03:30", "%H:%M").time()
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "fish.jpg").write_bytes(b"\xff\xd8 a photo")
    settings.TIME_ZONE = "Asia/Shanghai"
    return settings


@pytest.mark.django_db
def test_without_backup_at_the_worker_takes_no_backup(settings, tmp_path):
    settings.BACKUP_AT = None
    settings.BACKUP_DIR = tmp_path / "backups"
    assert backup_due(now=local(2026, 12, 2, 12, 0)) == 0
    assert not (tmp_path / "backups").exists() and not JobRun.objects.exists()


@pytest.mark.django_db
def test_the_backup_waits_for_its_hour_then_runs_once_a_day(scheduled, needs_postgres):
    assert backup_due(now=local(2026, 12, 2, 3, 29)) == 0
    assert backup_sets(scheduled.BACKUP_DIR) == []
    assert backup_due(now=local(2026, 12, 2, 3, 30)) == 1
    with statements() as sent:
        assert backup_due(now=local(2026, 12, 2, 3, 35)) == 0  # the day has its backup
    assert len(sent) == 1 and sent.writes() == []  # one indexed read a round, nothing written
    assert backup_due(now=local(2026, 12, 2, 23, 59)) == 0
    [(moment, made)] = backup_sets(scheduled.BACKUP_DIR)
    assert moment == local(2026, 12, 2, 3, 30) and (made / "SHA256SUMS").is_file()
    assert backup_due(now=local(2026, 12, 3, 3, 30)) == 1  # the next day's
    assert [r.period for r in JobRun.objects.filter(job="backup").order_by("period")] == [
        "2026-12-02", "2026-12-03"
    ]  # fmt: skip


@pytest.mark.django_db
def test_retention_keeps_the_newest_of_the_last_days_and_months(scheduled, needs_postgres):
    scheduled.BACKUP_KEEP_DAILY, scheduled.BACKUP_KEEP_MONTHLY = 3, 3
    folder = scheduled.BACKUP_DIR
    kept_day_1 = fake_set(folder, local(2026, 12, 1, 3, 30))
    fake_set(folder, local(2026, 12, 1, 1, 0))  # an earlier one the same day
    kept_day_2 = fake_set(folder, local(2026, 11, 30, 3, 30))  # also November's newest
    for day in range(20, 30):
        fake_set(folder, local(2026, 11, day, 3, 30))
    kept_month = fake_set(folder, local(2026, 10, 31, 3, 30))  # October's newest
    fake_set(folder, local(2026, 10, 1, 3, 30))
    fake_set(folder, local(2026, 9, 30, 3, 30))  # a fourth month back: gone
    (folder / "notes.txt").write_text("not a backup: left alone")
    assert backup_due(now=local(2026, 12, 2, 3, 30)) == 1
    left = [path for _moment, path in backup_sets(folder)]
    new = folder / "diancan-20261201T193000Z"
    assert left == [kept_month, kept_day_2, kept_day_1, new]
    assert (folder / "notes.txt").exists()


@pytest.mark.django_db
def test_a_failed_backup_is_one_alert_and_is_tried_again_an_hour_later(
    scheduled, tmp_path, caplog, needs_postgres
):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the backups' folder should be")
    scheduled.BACKUP_DIR = blocked
    at = local(2026, 12, 2, 3, 30)
    assert backup_due(now=at) == 0
    assert "the scheduled backup of 2026-12-02 failed" in caplog.text
    [alert] = Alert.objects.all()
    assert alert.kind == Alert.Kind.BACKUP_FAILED and alert.key == "backup:2026-12-02"
    assert alert.detail["day"] == "2026-12-02" and "File exists" in alert.detail["error"]
    run = JobRun.objects.get(job="backup")
    assert run.done_at is None and "File exists" in run.error
    assert backup_due(now=at + timedelta(minutes=5)) == 0  # not again at once
    assert JobRun.objects.get(job="backup").attempts == 1
    assert backup_due(now=at + timedelta(hours=2)) == 0  # tried again, failed again
    assert JobRun.objects.get(job="backup").attempts == 2
    assert Alert.objects.count() == 1  # one alert for the day
    blocked.unlink()
    assert backup_due(now=at + timedelta(hours=4)) == 1  # the folder is back: the day's backup
    assert len(backup_sets(blocked)) == 1 and JobRun.objects.get(job="backup").done_at


@pytest.mark.django_db(transaction=True)
def test_two_workers_take_the_days_backup_once(tmp_path, needs_postgres):
    folder, media = tmp_path / "backups", tmp_path / "media"
    media.mkdir()
    env = {"BACKUP_AT": "00:00", "BACKUP_DIR": str(folder), "MEDIA_ROOT": str(media)}
    workers = [Worker("--every", "0.2", log_dir=tmp_path, env=env) for _ in range(2)]
    try:
        deadline = time.monotonic() + 120
        while not JobRun.objects.filter(job="backup", done_at__isnull=False).exists():
            assert time.monotonic() < deadline, [w.output()[-2000:] for w in workers]
            time.sleep(0.2)
        time.sleep(2)  # ten more rounds each: nobody backs up the day again
    finally:
        for worker in workers:
            worker.stop()
    assert len(backup_sets(folder)) == 1
    [run] = JobRun.objects.filter(job="backup")
    assert run.attempts == 1 and run.error == ""
    said = [w.output().count("worker: backed up to") for w in workers]
    assert sorted(said) == [0, 1], [w.output()[-2000:] for w in workers]


def test_backup_at_is_read_as_a_time_of_day_and_a_bad_one_stops_the_start():
    from tests.production import manage

    shown = manage("shell", "-c", "from django.conf import settings; print(settings.BACKUP_AT)",
                   BACKUP_AT="03:30")  # fmt: skip
    assert shown.returncode == 0 and shown.stdout.splitlines()[-1] == "03:30:00", shown.stderr
    bad = manage("check", BACKUP_AT="3pm")
    assert bad.returncode != 0
    assert "BACKUP_AT must be a time of day as HH:MM (04:00), not '3pm'" in bad.stderr
