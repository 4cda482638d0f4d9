"""The real gateways' configuration, read from the environment by restaurant/settings.py.

Pure functions over a mapping (no Django, no app imports), so that settings.py can refuse a
partial or malformed configuration at start-up with a message that names the variable. A
gateway none of whose variables is set is simply not offered.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

WECHATPAY_GATEWAY = "https://api.mch.weixin.qq.com"

WECHATPAY_REQUIRED = (
    "WECHATPAY_MCHID",
    "WECHATPAY_APPID",
    "WECHATPAY_PRIVATE_KEY",
    "WECHATPAY_CERT_SERIAL",
    "WECHATPAY_APIV3_KEY",
)
# How answers and notifications are verified: the 微信支付公钥 and its id (public-key mode),
# or the platform certificates, downloaded into a folder (the older certificate mode), or both
# (while a merchant moves from one to the other, WeChat signs with either).
WECHATPAY_PUBLIC_KEY_PAIR = ("WECHATPAY_PUBLIC_KEY", "WECHATPAY_PUBLIC_KEY_ID")
WECHATPAY_CERT_DIR = "WECHATPAY_PLATFORM_CERT_DIR"
WECHATPAY_OPTIONAL = (
    *WECHATPAY_PUBLIC_KEY_PAIR,
    WECHATPAY_CERT_DIR,
    "WECHATPAY_BASE_URL",
    "WECHATPAY_NOTIFY_URL",
    "WECHATPAY_TIMEOUT",
    # JSAPI (inside WeChat) needs the official account's AppSecret for the snsapi_base OAuth
    # that gives the payer's openid; without it a phone in WeChat gets the H5 flow.
    "WECHATPAY_APP_SECRET",
    "WECHAT_OAUTH_URL",
    "WECHAT_API_URL",
)
WECHAT_OAUTH = "https://open.weixin.qq.com"
WECHAT_API = "https://api.weixin.qq.com"


class GatewayConfigError(ValueError):
    """A gateway's configuration is partial or malformed: the message says what to fix."""


def _pem(name, path, loader, kind):
    file = Path(path)
    if not file.is_file():
        raise GatewayConfigError(f"{name} must be the path of a PEM file; {path!r} is no file.")
    try:
        key = loader(file.read_bytes())
    except (ValueError, TypeError) as error:
        raise GatewayConfigError(f"{name}: {path} is not a PEM {kind} ({error}).") from None
    if not isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) or key.key_size < 2048:
        raise GatewayConfigError(f"{name}: {path} must hold an RSA {kind} of 2048 bits or more.")
    return file.read_text()


def _url(name, value):
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise GatewayConfigError(
            f"{name} must be a base URL like {WECHATPAY_GATEWAY}, not {value!r}"
        )
    return value.rstrip("/")


def wechatpay_from_env(environ, *, public_url):
    """WeChat Pay API v3 settings as a dict, or None when none of its variables is set."""
    given = {name: environ.get(name, "").strip() for name in WECHATPAY_REQUIRED}
    optional = {name: environ.get(name, "").strip() for name in WECHATPAY_OPTIONAL}
    if not any(given.values()) and not any(optional.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise GatewayConfigError(
            "WeChat Pay is partly configured: set " + ", ".join(missing) + " too "
            "(or unset every WECHATPAY_ variable to not offer WeChat Pay)."
        )
    if not re.fullmatch(r"\d{8,32}", given["WECHATPAY_MCHID"]):
        raise GatewayConfigError("WECHATPAY_MCHID must be the merchant number (digits).")
    if not re.fullmatch(r"wx[0-9A-Za-z]{8,30}", given["WECHATPAY_APPID"]):
        raise GatewayConfigError("WECHATPAY_APPID must be an app id like wx1234567890abcdef.")
    if not re.fullmatch(r"[0-9A-Fa-f]{8,64}", given["WECHATPAY_CERT_SERIAL"]):
        raise GatewayConfigError(
            "WECHATPAY_CERT_SERIAL must be the merchant certificate's hex serial."
        )
    if len(given["WECHATPAY_APIV3_KEY"].encode()) != 32:
        raise GatewayConfigError("WECHATPAY_APIV3_KEY must be the 32-character APIv3 key.")
    timeout = optional["WECHATPAY_TIMEOUT"] or "10"
    try:
        timeout = float(timeout)
    except ValueError:
        raise GatewayConfigError("WECHATPAY_TIMEOUT must be seconds, like 10.") from None
    if not 0 < timeout <= 60:
        raise GatewayConfigError("WECHATPAY_TIMEOUT must be more than 0 and at most 60 seconds.")
    private_key = _pem(
        "WECHATPAY_PRIVATE_KEY",
        given["WECHATPAY_PRIVATE_KEY"],
        lambda data: load_pem_private_key(data, password=None),
        "private key",
    )
    public_key, public_key_id = _wechatpay_public_key(optional)
    cert_dir = _wechatpay_cert_dir(optional[WECHATPAY_CERT_DIR])
    if public_key is None and cert_dir is None:
        raise GatewayConfigError(
            "WeChat Pay needs a way to verify its answers: set WECHATPAY_PUBLIC_KEY and "
            "WECHATPAY_PUBLIC_KEY_ID (the 微信支付公钥), or WECHATPAY_PLATFORM_CERT_DIR (a "
            "folder for the platform certificates, downloaded from the gateway), or both."
        )
    base_url = _url("WECHATPAY_BASE_URL", optional["WECHATPAY_BASE_URL"] or WECHATPAY_GATEWAY)
    notify_url = optional["WECHATPAY_NOTIFY_URL"] or (
        public_url.rstrip("/") + "/api/v1/payments/notify/wechatpay"
    )
    if not notify_url.startswith(("https://", "http://")):
        raise GatewayConfigError("WECHATPAY_NOTIFY_URL must be an http(s) URL.")
    app_secret = optional["WECHATPAY_APP_SECRET"]
    if app_secret and not re.fullmatch(r"[0-9A-Za-z]{16,64}", app_secret):
        raise GatewayConfigError("WECHATPAY_APP_SECRET must be the official account's AppSecret.")
    return {
        "app_secret": app_secret,
        "oauth_url": _url("WECHAT_OAUTH_URL", optional["WECHAT_OAUTH_URL"] or WECHAT_OAUTH),
        "api_url": _url("WECHAT_API_URL", optional["WECHAT_API_URL"] or WECHAT_API),
        "mchid": given["WECHATPAY_MCHID"],
        "appid": given["WECHATPAY_APPID"],
        "private_key": private_key,
        "cert_serial": given["WECHATPAY_CERT_SERIAL"].upper(),
        "apiv3_key": given["WECHATPAY_APIV3_KEY"],
        "public_key": public_key,
        "public_key_id": public_key_id,
        "cert_dir": cert_dir,
        "base_url": base_url,
        "notify_url": notify_url,
        "timeout": timeout,
    }


def _wechatpay_public_key(optional):
    """(PEM text, id) of the 微信支付公钥, or (None, None) when neither variable is set."""
    path, key_id = (optional[name] for name in WECHATPAY_PUBLIC_KEY_PAIR)
    if not path and not key_id:
        return None, None
    if not path or not key_id:
        raise GatewayConfigError(
            "WECHATPAY_PUBLIC_KEY and WECHATPAY_PUBLIC_KEY_ID go together: set both or neither."
        )
    if not re.fullmatch(r"PUB_KEY_ID_[0-9A-Za-z]{4,64}", key_id):
        raise GatewayConfigError("WECHATPAY_PUBLIC_KEY_ID must look like PUB_KEY_ID_0114….")
    return _pem("WECHATPAY_PUBLIC_KEY", path, load_pem_public_key, "public key"), key_id


def _wechatpay_cert_dir(value):
    """The platform certificates' folder (it must exist and be writable: the SDK keeps the
    certificates it downloads there, one `<serial>.pem` each), or None."""
    if not value:
        return None
    folder = Path(value)
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise GatewayConfigError(
            f"WECHATPAY_PLATFORM_CERT_DIR must be a folder this process can write; {value!r} "
            "is not (create it: the platform certificates are downloaded into it)."
        )
    return str(folder.resolve())


ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do"
ALIPAY_REQUIRED = ("ALIPAY_APPID", "ALIPAY_SELLER_ID", "ALIPAY_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY")
ALIPAY_OPTIONAL = ("ALIPAY_GATEWAY_URL", "ALIPAY_NOTIFY_URL", "ALIPAY_TIMEOUT")


def alipay_from_env(environ, *, public_url):
    """Alipay (当面付, 手机网站支付) settings as a dict, or None when none of its variables is set.

    ALIPAY_SELLER_ID (the merchant's PID, 2088…) is required beside the issue's four: a
    notification's `seller_id` must be checked against something."""
    given = {name: environ.get(name, "").strip() for name in ALIPAY_REQUIRED}
    optional = {name: environ.get(name, "").strip() for name in ALIPAY_OPTIONAL}
    if not any(given.values()) and not any(optional.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise GatewayConfigError(
            "Alipay is partly configured: set " + ", ".join(missing) + " too "
            "(or unset every ALIPAY_ variable to not offer Alipay)."
        )
    if not re.fullmatch(r"\d{16}", given["ALIPAY_APPID"]):
        raise GatewayConfigError("ALIPAY_APPID must be the 16-digit app id (2021…).")
    if not re.fullmatch(r"2088\d{12}", given["ALIPAY_SELLER_ID"]):
        raise GatewayConfigError(
            "ALIPAY_SELLER_ID must be the merchant's PID (2088 and 12 digits)."
        )
    timeout = optional["ALIPAY_TIMEOUT"] or "10"
    try:
        timeout = float(timeout)
    except ValueError:
        raise GatewayConfigError("ALIPAY_TIMEOUT must be seconds, like 10.") from None
    if not 0 < timeout <= 60:
        raise GatewayConfigError("ALIPAY_TIMEOUT must be more than 0 and at most 60 seconds.")
    private_key = _pem(
        "ALIPAY_PRIVATE_KEY",
        given["ALIPAY_PRIVATE_KEY"],
        lambda data: load_pem_private_key(data, password=None),
        "private key",
    )
    public_key = _pem(
        "ALIPAY_PUBLIC_KEY", given["ALIPAY_PUBLIC_KEY"], load_pem_public_key, "public key"
    )
    gateway = optional["ALIPAY_GATEWAY_URL"] or ALIPAY_GATEWAY
    parts = urlsplit(gateway)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.endswith(".do"):
        raise GatewayConfigError(
            f"ALIPAY_GATEWAY_URL must be the gateway's URL like {ALIPAY_GATEWAY}, not {gateway!r}"
        )
    notify_url = optional["ALIPAY_NOTIFY_URL"] or (
        public_url.rstrip("/") + "/api/v1/payments/notify/alipay"
    )
    if not notify_url.startswith(("https://", "http://")):
        raise GatewayConfigError("ALIPAY_NOTIFY_URL must be an http(s) URL.")
    return {
        "appid": given["ALIPAY_APPID"],
        "seller_id": given["ALIPAY_SELLER_ID"],
        "private_key": private_key,
        "public_key": public_key,
        "gateway_url": gateway,
        "notify_url": notify_url,
        "timeout": timeout,
    }
