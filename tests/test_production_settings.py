"""Production settings (DEBUG off) pass Django's deploy check with no warning behind a TLS
proxy, insist on a long secret key, redirect plain HTTP and send HSTS and the
Content-Security-Policy. Each case starts a fresh Python, since settings are read once."""

import secrets

from tests.production import manage


def test_the_deploy_check_finds_nothing_to_warn_about():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_secret_key_shorter_than_50_characters_stops_the_start():
    result = manage("check", SECRET_KEY="k" * 20 + secrets.token_urlsafe(21))
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random string of 50+ characters" in result.stderr


REQUESTS = """
from django.test import Client
client = Client(HTTP_HOST="order.example.com")
plain = client.get("/accounts/login/")
print("plain", plain.status_code, plain["Location"])
health = client.get("/healthz")
print("health", health.status_code)
proxied = client.get("/ping", HTTP_X_FORWARDED_PROTO="https")
print("proxied", proxied.status_code)
print("hsts", proxied["Strict-Transport-Security"])
print("csp", proxied["Content-Security-Policy"])
from django.conf import settings
print("cookies", settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)
"""


def test_behind_the_proxy_plain_http_is_redirected_and_https_gets_hsts_and_the_policy():
    result = manage("shell", "-c", REQUESTS)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert lines["plain"] == "301 https://order.example.com/accounts/login/"
    assert lines["health"] == "200"  # the load balancer checks over plain HTTP
    assert lines["proxied"] == "200"
    assert lines["hsts"] == "max-age=31536000; includeSubDomains"
    policy = set(lines["csp"].split("; "))
    assert {"script-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} <= policy
    assert lines["cookies"] == "True True"
