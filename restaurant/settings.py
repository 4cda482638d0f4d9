"""Diancan settings. Every knob comes from the environment; bad values fail loudly.

Embedded default: a SQLite file, the in-memory channel layer and a local-memory cache, so that
one daphne process runs with no setup. `DATABASE_URL=postgres://…` and `REDIS_URL=redis://…`
switch to PostgreSQL, channels-redis and a Redis cache for any number of processes.
"""

import os
import socket
from datetime import time
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from payments.gateway_settings import GatewayConfigError, alipay_from_env, wechatpay_from_env

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_clock(name, default):
    """A time of day `HH:MM` (24-hour clock) as a `datetime.time`."""
    value = os.environ.get(name) or default
    hours, colon, minutes = value.partition(":")
    if colon and len(minutes) == 2 and hours.isdigit() and minutes.isdigit():
        if int(hours) < 24 and int(minutes) < 60:
            return time(int(hours), int(minutes))
    raise ImproperlyConfigured(f"{name} must be a time of day as HH:MM (04:00), not {value!r}")


def database_from_url(url):
    """Turn `sqlite:///path` or `postgres://user:pass@host:port/name` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file: sqlite:///db.sqlite3")
        name = path if os.path.isabs(path) or path == ":memory:" else str(BASE_DIR / path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # IMMEDIATE takes the write lock at BEGIN, so racing writers queue instead of
            # failing with "database is locked" halfway through a transaction.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            # A file, not memory, so that a daphne started by a test can open it too.
            "TEST": {"NAME": str(BASE_DIR / f"test-db-{os.getpid()}.sqlite3")},
        }
    if parts.scheme in ("postgres", "postgresql"):
        options = dict(parse_qsl(parts.query))
        pool_size = env_int("DB_POOL_SIZE", 20)
        if pool_size > 0:
            # Django's psycopg pool: a new connection per request costs half the page's rate.
            options["pool"] = {"min_size": 2, "max_size": pool_size, "timeout": 10}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 0,
            # The pool checks a connection before handing it out and replaces a dead one, so
            # after a database restart no request gets a connection the restart killed
            # (restaurant/lib/outage.py; tests/drills/test_database_restart.py).
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:// or postgres://, not {parts.scheme!r}"
    )


def lan_address():
    """This machine's address on its local network (the interface of its default route): no
    packet is sent, connecting a UDP socket only picks the route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"


DEBUG = env_bool("DEBUG", False)
# LAN=true (make run LAN=true): phones on the same Wi-Fi reach this machine; the links and QR
# codes carry its LAN address.
LAN = env_bool("LAN", False)
LAN_ADDRESS = lan_address() if LAN else None
SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not DEBUG:
    # Django's own deploy check asks for 50+ characters with 5+ different ones.
    if (
        not SECRET_KEY
        or SECRET_KEY.startswith(("dev-", "django-insecure"))
        or len(SECRET_KEY) < 50
        or len(set(SECRET_KEY)) < 5
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of 50+ characters when DEBUG is off "
            "(make run sets DEBUG=true for local use)."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must list this site's host names when DEBUG is off."
        )
else:
    SECRET_KEY = SECRET_KEY or "dev-insecure-key-only-for-local-use"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
    if LAN_ADDRESS:
        ALLOWED_HOSTS = [*ALLOWED_HOSTS, LAN_ADDRESS]

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
PUBLIC_URL = env_str(
    "PUBLIC_URL", f"http://{LAN_ADDRESS or '127.0.0.1'}:{env_int('PORT', 8000)}"
).rstrip("/")
RESTAURANT_NAME = env_str("RESTAURANT_NAME", "点餐小馆")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "csp",
    "restaurant.apps.AxesConfig",  # django-axes, named for the admin
    "template_partials",
    "ninja",
    "restaurant",
    "menu",
    "orders",
    "payments",
    "payments.members",
    "payments.coupons",
    "printing",
    "demo",
]

MIDDLEWARE = [
    "restaurant.lib.realtime.HoldEventsUntilAnswered",
    "django.middleware.security.SecurityMiddleware",
    "restaurant.lib.compression.GZipText",  # text only: photos are compressed already
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "restaurant.lib.parse.RefuseNul",
    "restaurant.lib.outage.DatabaseUnavailable",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Really last: keeps the whole chain in the request's thread (restaurant/lib/threads.py).
    "restaurant.lib.threads.StayInThread",
]

ROOT_URLCONF = "restaurant.urls"
ASGI_APPLICATION = "restaurant.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "restaurant.context.site",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CHANNEL_CAPACITY = env_int("CHANNEL_CAPACITY", 5000)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's default 5 s read timeout equals the layer's 5 s blocking receive and
                # kills idle consumers; its default pool of 100 is too small for many sockets.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 10,
                        "max_connections": env_int("REDIS_MAX_CONNECTIONS", 10000),
                    }
                ],
                "prefix": env_str("CHANNEL_PREFIX", "diancan"),
                # One Redis queue per process carries the pushes for all of its sockets; past
                # `capacity` a group_send drops its message for that process without a word.
                # The default (100) lost tickets in the kitchen benchmark's bursts.
                "capacity": CHANNEL_CAPACITY,
            },
        }
    }
    CACHES = {
        "default": {
            # Django's RedisCache, but a miss (not an error page) while Redis is away.
            "BACKEND": "restaurant.lib.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNEL_PREFIX", "diancan"),
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (django-axes), on /accounts/login/ and /admin/login/ alike: after
# LOGIN_FAILURE_LIMIT wrong passwords for one account from one address, that account is locked
# for that address, even with the right password, for LOGIN_LOCKOUT_MINUTES from the last try
# (or until `manage.py axes_reset_username <name>`). Keyed by account and address together, so
# nobody elsewhere can lock the cashier out during service by typing wrong passwords.
# TRUSTED_PROXY_COUNT: how many proxies in front append to X-Forwarded-For (0: use the peer).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
AXES_COOLOFF_TIME = LOGIN_LOCKOUT_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "restaurant.views.locked_out"
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff-home"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
CURRENCY = env_str("CURRENCY", "CNY")
# The business day (营业日) ends at this local time, not at midnight: a bill paid at 01:30 belongs
# to the evening before (restaurant/lib/business_day.py). Shifts, the day close, the reports and
# reconciliation all cut here.
BUSINESS_DAY_CUTOFF = env_clock("BUSINESS_DAY_CUTOFF", "04:00")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Served by Django itself unless a proxy in front serves /media/ (then set it off).
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)

# Backups (`manage.py backup`, README "Backups"): where they go and how many are kept.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
BACKUP_KEEP_DAILY = env_int("BACKUP_KEEP_DAILY", 7)
BACKUP_KEEP_MONTHLY = env_int("BACKUP_KEEP_MONTHLY", 12)
if BACKUP_KEEP_DAILY < 1 or BACKUP_KEEP_MONTHLY < 0:
    raise ImproperlyConfigured("BACKUP_KEEP_DAILY must be 1 or more, BACKUP_KEEP_MONTHLY 0 or more")
# The worker takes one backup a day from this local time on (`HH:MM`); unset: no scheduled
# backup in the worker (cron or a systemd timer may run `manage.py backup` instead).
BACKUP_AT = env_clock("BACKUP_AT", "03:30") if os.environ.get("BACKUP_AT") else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# HTTPS. On by default with DEBUG off: plain HTTP is redirected, cookies are sent over HTTPS
# only and browsers are told to come back over HTTPS only (HSTS) for a year. Behind a proxy
# that ends TLS, SECURE_PROXY_SSL_HEADER names the header it sets (e.g. X-Forwarded-Proto,
# value "https"); without it every request looks like plain HTTP and redirects for ever.
# /healthz stays reachable over plain HTTP for the load balancer's health checks.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is a promise to browsers' built-in lists that is slow to undo: only on request.
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
_proxy_header = env_str("SECURE_PROXY_SSL_HEADER")
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")

# Content-Security-Policy (django-csp), in force with and without DEBUG: scripts, styles,
# images and sockets come from this site only; no inline script, no eval. The one inline
# style (the diner page's "me" marker) carries the response's nonce. htmx's own indicator
# styles are off (base.html's htmx-config) because htmx would inject them inline.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Service flow: "pay_later" (先吃后付: order → kitchen → pay) or "pay_first" (先付后吃: order →
# pay → kitchen; an unpaid order expires and gives its stock back).
SERVICE_FLOW = env_str("SERVICE_FLOW", "pay_later")
if SERVICE_FLOW not in ("pay_later", "pay_first"):
    raise ImproperlyConfigured(f"SERVICE_FLOW must be pay_later or pay_first, not {SERVICE_FLOW!r}")
PAY_FIRST_EXPIRY_MINUTES = env_int("PAY_FIRST_EXPIRY_MINUTES", 15)

# The kitchen: a ticket turns amber, then red, after waiting this long; a diner may hurry
# (催菜) a dish once per URGE_INTERVAL_MINUTES. A dish voided while the kitchen had it stays on
# its ticket, struck through, until a cook clears it or KITCHEN_VOID_MINUTES pass.
KITCHEN_WARN_MINUTES = env_int("KITCHEN_WARN_MINUTES", 10)
KITCHEN_LATE_MINUTES = env_int("KITCHEN_LATE_MINUTES", 20)
KITCHEN_VOID_MINUTES = env_int("KITCHEN_VOID_MINUTES", 10)
URGE_INTERVAL_MINUTES = env_int("URGE_INTERVAL_MINUTES", 3)

# Ordering limits: anything beyond is refused as bad input. MAX_ORDER_LINES also bounds the rows
# of a table's cart (the cart is one order).
MAX_LINE_QUANTITY = env_int("MAX_LINE_QUANTITY", 99)
MAX_ORDER_LINES = env_int("MAX_ORDER_LINES", 100)
MAX_NOTE_LENGTH = env_int("MAX_NOTE_LENGTH", 200)
MAX_GUESTS = env_int("MAX_GUESTS", 50)

# Who starts a visit (a tab) at a free table: "staff" (开台: the host or a waiter opens the
# table, on the cashier's floor or the staff ordering page, before its phones can order) or
# "diner" (the first phone's order opens it). Staff by default in production: a photo of a
# printed table card cannot order for an empty table. README, "Visits".
TABLE_OPENING = env_str("TABLE_OPENING", "diner" if DEBUG else "staff")
if TABLE_OPENING not in ("staff", "diner"):
    raise ImproperlyConfigured(f"TABLE_OPENING must be staff or diner, not {TABLE_OPENING!r}")

# Limits per tab and per time, the same for pages and the API (README, "Limits"). A tab that
# reaches one is refused with a code naming it, and the cashier's floor flags it.
MAX_ORDER_PORTIONS = env_int("MAX_ORDER_PORTIONS", 200)
MAX_ORDERS_PER_MINUTE = env_int("MAX_ORDERS_PER_MINUTE", 6)
MAX_OPEN_LINES = env_int("MAX_OPEN_LINES", 300)
MAX_PENDING_PAYMENTS = env_int("MAX_PENDING_PAYMENTS", 3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes says "deleted 0 failed login attempts" at INFO on every login; lockouts are
    # warnings and still show.
    "loggers": {"django.channels.server": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# The bill: a service charge in percent of the bill after line discounts, and rounding of the
# total: "none", or "jiao" (抹零: down to 0.1 yuan) or "yuan" (down to a whole yuan).
SERVICE_CHARGE_PERCENT = env_str("SERVICE_CHARGE_PERCENT", "0")
BILL_ROUNDING = env_str("BILL_ROUNDING", "none")
if BILL_ROUNDING not in ("none", "jiao", "yuan"):
    raise ImproperlyConfigured(f"BILL_ROUNDING must be none, jiao or yuan, not {BILL_ROUNDING!r}")

# Payments. The built-in sandbox QR gateway (anyone can approve a payment there) is on by
# default only with DEBUG; its notifications are signed with SANDBOX_GATEWAY_SECRET.
SANDBOX_GATEWAY = env_bool("SANDBOX_GATEWAY", DEBUG)
SANDBOX_GATEWAY_SECRET = env_str("SANDBOX_GATEWAY_SECRET")
# With DEBUG off the sandbox is on only when SANDBOX_GATEWAY=true is set by name, with a secret
# of its own: never empty, never the development secret published in payments/conf.py.
if (
    SANDBOX_GATEWAY
    and not DEBUG
    and (
        len(SANDBOX_GATEWAY_SECRET) < 32
        or SANDBOX_GATEWAY_SECRET == "dev-sandbox-gateway-secret-not-for-production"
    )
):
    raise ImproperlyConfigured(
        "SANDBOX_GATEWAY_SECRET must be a secret of 32+ characters of its own (not the "
        "development one) when the sandbox runs with DEBUG off."
    )
SANDBOX_NOTIFY_URL = env_str("SANDBOX_NOTIFY_URL", PUBLIC_URL + "/api/v1/payments/notify/sandbox")
SANDBOX_DELIVERY = env_str("SANDBOX_DELIVERY", "http")
if SANDBOX_DELIVERY not in ("http", "off"):
    raise ImproperlyConfigured(f"SANDBOX_DELIVERY must be http or off, not {SANDBOX_DELIVERY!r}")
# How our client reaches the sandbox gateway: `local` calls its functions in this process (the
# default); `http` calls its API over the network at SANDBOX_GATEWAY_URL (default PUBLIC_URL),
# with a time-out, as a real gateway's client does (the fault drills use this path).
SANDBOX_TRANSPORT = env_str("SANDBOX_TRANSPORT", "local")
if SANDBOX_TRANSPORT not in ("local", "http"):
    raise ImproperlyConfigured(
        f"SANDBOX_TRANSPORT must be local or http, not {SANDBOX_TRANSPORT!r}"
    )
SANDBOX_GATEWAY_URL = env_str("SANDBOX_GATEWAY_URL", PUBLIC_URL).rstrip("/")
SANDBOX_TIMEOUT_SECONDS = env_int("SANDBOX_TIMEOUT_SECONDS", 5)
PAYMENT_EXPIRY_MINUTES = env_int("PAYMENT_EXPIRY_MINUTES", 10)
# The worker's jobs inside the daphne process (restaurant/worker_inside.py): what `manage.py serve`
# does on the embedded default, whose in-memory channel layer a separate worker process cannot
# reach. WORKER_EVERY_MS: the time between two rounds there.
WORKER_IN_PROCESS = env_bool("WORKER_IN_PROCESS", False)
WORKER_EVERY_MS = env_int("WORKER_EVERY_MS", 5000)

# The real gateways (payments/README.md, "WeChat Pay"): configured only from the environment; a
# gateway with none of its variables set is not offered, a partial or malformed one stops here.
try:
    WECHATPAY = wechatpay_from_env(os.environ, public_url=PUBLIC_URL)
    ALIPAY = alipay_from_env(os.environ, public_url=PUBLIC_URL)
except GatewayConfigError as error:
    raise ImproperlyConfigured(str(error)) from None

# Money controls (README, "Money controls"): beyond these a manager approves on the same screen.
# All of a bill's discounts together, in percent of its subtotal:
CASHIER_DISCOUNT_LIMIT_PERCENT = env_int("CASHIER_DISCOUNT_LIMIT_PERCENT", 20)
if not 0 <= CASHIER_DISCOUNT_LIMIT_PERCENT <= 100:
    raise ImproperlyConfigured("CASHIER_DISCOUNT_LIMIT_PERCENT must be from 0 to 100")
# Refunds given by hand on one bill, in yuan (automatic ones follow a void or discount):
CASHIER_REFUND_LIMIT = env_int("CASHIER_REFUND_LIMIT", 100)

# Members (payments/README.md, "Members"). How a payment by balance takes from principal (本金)
# and bonus (赠送金): "proportional" (both in the share they stand in) or "principal_first".
MEMBER_SPEND_ORDER = env_str("MEMBER_SPEND_ORDER", "proportional")
if MEMBER_SPEND_ORDER not in ("proportional", "principal_first"):
    raise ImproperlyConfigured(
        f"MEMBER_SPEND_ORDER must be proportional or principal_first, not {MEMBER_SPEND_ORDER!r}"
    )
# Points spent as money off: this many points are ¥1, on at most this share (percent) of a bill.
POINTS_PER_YUAN = env_int("POINTS_PER_YUAN", 100)
POINTS_MAX_PERCENT = env_int("POINTS_MAX_PERCENT", 50)
# Points earned in a year expire at its end (the worker's points job), when on.
POINTS_EXPIRE_AT_YEAR_END = env_bool("POINTS_EXPIRE_AT_YEAR_END", False)
# Wrong PINs in a row before a member's PIN locks, and for how long.
MEMBER_PIN_TRIES = env_int("MEMBER_PIN_TRIES", 5)
MEMBER_PIN_LOCK_MINUTES = env_int("MEMBER_PIN_LOCK_MINUTES", 15)
if CASHIER_REFUND_LIMIT < 0:
    raise ImproperlyConfigured("CASHIER_REFUND_LIMIT must be 0 or more (yuan)")
# Taking off a dish in one of these states:
VOID_APPROVAL_STATUSES = env_list("VOID_APPROVAL_STATUSES", ["served"])
if not set(VOID_APPROVAL_STATUSES) <= {"held", "queued", "cooking", "ready", "served"}:
    raise ImproperlyConfigured(
        "VOID_APPROVAL_STATUSES lists dish states: held, queued, cooking, ready, served"
    )
