"""Issue 12.12: `make run LAN=true` serves phones on the same Wi-Fi, and a second start skips
the work the first one did."""

import os
import subprocess
import sys

from django.conf import settings

from tests.live import ROOT


def _manage(*args, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path}/run.sqlite3",
        MEDIA_ROOT=str(tmp_path / "media"),
        DEBUG="true",
        PORT="8123",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_lan_mode_listens_everywhere_and_prints_the_lan_address_with_the_cashier():
    plan = subprocess.run(
        ["make", "-n", "run", "LAN=true"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "--bind 0.0.0.0" in plan
    assert (
        "--bind 127.0.0.1"
        in subprocess.run(["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True).stdout
    )
    assert settings.LAN_ADDRESS is None  # off unless asked


def test_the_second_start_neither_migrates_nor_loads_the_demo_again(tmp_path):
    first = _manage("start_demo", tmp_path=tmp_path, LAN="true")
    assert "Applying" in first and "demo restaurant is ready" in first

    second = _manage("start_demo", tmp_path=tmp_path, LAN="true")
    assert "Applying" not in second and "demo not loaded" in second
    lan = _manage("shell", "-c", "from django.conf import settings; print(settings.LAN_ADDRESS)",
                  tmp_path=tmp_path, LAN="true").split()[-1]  # fmt: skip
    assert lan and lan != "None"
    assert f"http://{lan}:8123/t/" in second  # the links a phone opens, and the QR codes
    assert f"收银 Cashier:  http://{lan}:8123/cashier/" in second
