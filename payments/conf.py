"""Knobs of the payment side.

Each is read from `restaurant/settings.py` when it defines it, else from the environment with
the same helpers (so a bad value still fails loudly), so that tests can override them with
pytest-django's `settings` fixture.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from restaurant.settings import env_bool, env_int, env_str

DEV_SANDBOX_SECRET = "dev-sandbox-gateway-secret-not-for-production"


def _get(name, read):
    if hasattr(settings, name):
        return getattr(settings, name)
    return read()


def sandbox_enabled():
    """The built-in sandbox gateway: on by default only with DEBUG (anyone can approve there)."""
    return _get("SANDBOX_GATEWAY", lambda: env_bool("SANDBOX_GATEWAY", settings.DEBUG))


def sandbox_secret():
    secret = _get("SANDBOX_GATEWAY_SECRET", lambda: env_str("SANDBOX_GATEWAY_SECRET"))
    if secret:
        return secret
    if settings.DEBUG:
        return DEV_SANDBOX_SECRET
    raise ImproperlyConfigured("SANDBOX_GATEWAY_SECRET must be set when DEBUG is off.")


def sandbox_notify_url():
    """Where the sandbox sends its notifications: our own notify endpoint, over the network."""
    return _get(
        "SANDBOX_NOTIFY_URL",
        lambda: env_str(
            "SANDBOX_NOTIFY_URL", settings.PUBLIC_URL + "/api/v1/payments/notify/sandbox"
        ),
    )


def sandbox_delivery():
    """`http`: the sandbox POSTs each notification from a thread; `off`: it sends none."""
    value = _get("SANDBOX_DELIVERY", lambda: env_str("SANDBOX_DELIVERY", "http"))
    if value not in ("http", "off"):
        raise ImproperlyConfigured(f"SANDBOX_DELIVERY must be http or off, not {value!r}")
    return value


def payment_expiry_minutes():
    """A QR payment not completed in this time expires (and is closed at the gateway)."""
    return _get("PAYMENT_EXPIRY_MINUTES", lambda: env_int("PAYMENT_EXPIRY_MINUTES", 10))


def cashier_discount_limit_percent():
    """A cashier may discount up to this share of the bill; a manager any amount."""
    return _get(
        "CASHIER_DISCOUNT_LIMIT_PERCENT", lambda: env_int("CASHIER_DISCOUNT_LIMIT_PERCENT", 20)
    )


# A notification's timestamp may be this far from our clock (replays of old ones are refused).
NOTIFY_MAX_SKEW_SECONDS = 300
