"""Knobs of the payment side, read from settings (restaurant/settings.py reads the environment
and refuses bad values at start-up). Functions, so that tests can override settings."""

from django.conf import settings

DEV_SANDBOX_SECRET = "dev-sandbox-gateway-secret-not-for-production"


def sandbox_enabled():
    """The built-in sandbox gateway: on by default only with DEBUG (anyone can approve there).

    With DEBUG off only when SANDBOX_GATEWAY says so by name and its secret is not the one
    published here (anyone could sign notifications with it); settings.py refuses to start
    otherwise, and this holds even if settings are changed later.
    """
    if not settings.SANDBOX_GATEWAY:
        return False
    return settings.DEBUG or settings.SANDBOX_GATEWAY_SECRET not in ("", DEV_SANDBOX_SECRET)


def wechatpay_enabled():
    """WeChat Pay is offered when WECHATPAY_ is configured (settings.py checked it whole)."""
    return bool(getattr(settings, "WECHATPAY", None))


def alipay_enabled():
    """Alipay is offered when ALIPAY_ is configured (settings.py checked it whole)."""
    return bool(getattr(settings, "ALIPAY", None))


def sandbox_secret():
    return settings.SANDBOX_GATEWAY_SECRET or DEV_SANDBOX_SECRET


def sandbox_notify_url():
    """Where the sandbox sends its notifications: our own notify endpoint, over the network."""
    return settings.SANDBOX_NOTIFY_URL


def sandbox_delivery():
    """`http`: the sandbox POSTs each notification from a thread; `off`: it sends none."""
    return settings.SANDBOX_DELIVERY


def sandbox_transport():
    """`local`: our client calls the sandbox gateway in this process; `http`: over its API."""
    return settings.SANDBOX_TRANSPORT


def sandbox_gateway_url():
    return settings.SANDBOX_GATEWAY_URL


def sandbox_timeout():
    """Seconds our client waits for the sandbox gateway's answer over HTTP."""
    return settings.SANDBOX_TIMEOUT_SECONDS


def payment_expiry_minutes():
    """A QR payment not completed in this time expires (and is closed at the gateway)."""
    return settings.PAYMENT_EXPIRY_MINUTES


# A notification's timestamp may be this far from our clock (replays of old ones are refused).
NOTIFY_MAX_SKEW_SECONDS = 300
