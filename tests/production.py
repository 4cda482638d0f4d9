"""Run manage.py in a fresh Python with production settings (DEBUG off): settings are read once
per process, so a test of what they refuse or allow starts its own."""

import os
import secrets
import subprocess
import sys

from tests.live import ROOT

SECRET = secrets.token_urlsafe(48)  # 64 characters
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": SECRET,
    "ALLOWED_HOSTS": "order.example.com",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "DATABASE_URL": "sqlite:///:memory:",
}
LEFT_OUT = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "SANDBOX_GATEWAY")


def manage(*args, **env):
    base = {key: value for key, value in os.environ.items() if key not in LEFT_OUT}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
