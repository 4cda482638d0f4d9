"""A local WeChat Pay API v3 simulator, for development and tests only; never for production.

    python -m simulators.wechatpay --port 8801 --keys-dir /tmp/wechatpay-sim

It speaks the merchant side of API v3 as the real gateway does: every request must carry a valid
`Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,timestamp=…,serial_no=…`
(RSA-SHA256 over "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n" with the merchant key), and every
answer is signed with the platform key (`Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial`
= the public key id). Notifications are POSTed to the order's `notify_url`, signed the same way,
with the `resource` encrypted AEAD_AES_256_GCM under the APIv3 key, retried on the gateway's
schedule until answered 2xx.

At start it makes all the keys (the merchant's key pair, the platform's key pair, the APIv3 key)
and writes, under --keys-dir, `apiclient_key.pem` (the merchant's private key),
`pub_key.pem` (the platform public key) and `wechatpay.env` (every WECHATPAY_ variable the
product needs). Its first line on stdout is a JSON object with its `url` and that `env`.

Both ways WeChat Pay signs are spoken (the `sign_with` control): the 微信支付公钥 (its id in
`Wechatpay-Serial`), and the older platform certificates, served encrypted at
`/v3/certificates` (real X.509 certificates with their own keys; `/sim/rotate-certificate`
publishes a new one that signs from then on).

Served: Native (`/v3/pay/transactions/native`, a `code_url`), H5 (`/v3/pay/transactions/h5`,
an `h5_url` page where a person approves or declines, then goes back to `redirect_url`), query
by out_trade_no, close, refund (answered PROCESSING, then settled and notified), refund query.
Unsigned controls under `/sim/` (it listens on loopback only): decide an order, build a
notification without sending it, change the behaviour (decline, be slow or unreachable, notify
twice, notify with a wrong key, refuse refunds). See payments/README.md, "The simulators".
"""

import argparse
import base64
import gzip
import hashlib
import html
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from simulators.controls import answer_common, send_or_hold

CHINA = timezone(timedelta(hours=8))
# The real gateway's schedule (seconds before each try): 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/
# 3h/3h/3h/6h/6h. Tests and the demo pass a short one with --retry-delays.
REAL_RETRY_DELAYS = (0, 15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800,
                     21600, 21600)  # fmt: skip
MAX_SKEW = 300


def now_rfc3339():
    return datetime.now(CHINA).isoformat(timespec="seconds")


def new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_sign(key, message):
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key, message, signature):
    try:
        public_key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def pem_private(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_public(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class Certificate:
    """A platform certificate and its private key, as WeChat Pay keeps them."""

    def __init__(self, key, pem, serial, not_before, not_after):
        self.key, self.pem, self.serial = key, pem, serial
        self.not_before, self.not_after = not_before, not_after


def platform_certificate(mchid):
    """A fresh platform key and its X.509 certificate (self-signed here; WeChat Pay's are
    issued by its CA), valid five years, with a random serial shown as upper-case hex."""
    key = new_rsa_key()
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com (simulator)"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"Tenpay.com Root CA simulator {mchid}"),
    ])  # fmt: skip
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return Certificate(key, pem, format(certificate.serial_number, "X"),
                       certificate.not_valid_before_utc, certificate.not_valid_after_utc)  # fmt: skip


class Keys:
    """Everything both sides share, made fresh at start."""

    def __init__(self):
        self.mchid = str(1900000000 + secrets.randbelow(99999))
        self.appid = "wx" + secrets.token_hex(8)
        self.merchant = new_rsa_key()
        self.cert_serial = secrets.token_hex(20).upper()
        self.apiv3_key = secrets.token_urlsafe(24)[:32]
        self.platform = new_rsa_key()
        self.public_key_id = "PUB_KEY_ID_" + secrets.token_hex(16).upper()
        self.app_secret = secrets.token_hex(16)  # the official account's AppSecret (OAuth)
        self.wrong = new_rsa_key()  # signs notifications when told to sign with a wrong key
        # The older platform-certificate mode: certificates (newest last), each with its own
        # key; /v3/certificates serves them all, encrypted, and the newest signs.
        self.certificates = [platform_certificate(self.mchid)]

    def rotate(self):
        """A new platform certificate, published beside the old one and signing from now."""
        self.certificates.append(platform_certificate(self.mchid))
        return self.certificates[-1]

    def write(self, folder, url):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        private, public = folder / "apiclient_key.pem", folder / "pub_key.pem"
        private.write_bytes(pem_private(self.merchant))
        os.chmod(private, 0o600)
        public.write_bytes(pem_public(self.platform))
        env = {
            "WECHATPAY_MCHID": self.mchid,
            "WECHATPAY_APPID": self.appid,
            "WECHATPAY_PRIVATE_KEY": str(private),
            "WECHATPAY_CERT_SERIAL": self.cert_serial,
            "WECHATPAY_APIV3_KEY": self.apiv3_key,
            "WECHATPAY_PUBLIC_KEY": str(public),
            "WECHATPAY_PUBLIC_KEY_ID": self.public_key_id,
            "WECHATPAY_BASE_URL": url,
            "WECHATPAY_APP_SECRET": self.app_secret,
            "WECHAT_OAUTH_URL": url,
            "WECHAT_API_URL": url,
        }
        (folder / "wechatpay.env").write_text(
            "".join(f"export {name}={value}\n" for name, value in env.items())
        )
        return env


class Gateway:
    """The gateway's own records and behaviour; the HTTP handler below only translates."""

    def __init__(self, keys, url, retry_delays):
        self.keys = keys
        self.url = url
        self.lock = threading.RLock()
        self.orders = {}  # out_trade_no → order
        self.by_prepay = {}  # prepay_id → out_trade_no
        self.refunds = {}  # out_refund_no → refund
        self.deliveries = []  # (kind, key, status or error), for tests and people to read
        self.oauth_codes = {}  # code → openid, each used once
        self.controls: dict[str, Any] = {
            "delivery": "http",  # or "off": notifications are only built on request
            "retry_delays": list(retry_delays),
            "notify_times": 1,  # 2: every notification is delivered twice
            "notify_wrong_key": False,  # sign notifications with a key that is not the platform's
            "latency": 0.0,  # seconds before answering a merchant request
            "unreachable": False,  # drop merchant connections without an answer
            "refund_refuse": None,  # {"code": …, "message": …}: refunds are refused so
            "refund_settle_delay": 0.2,  # seconds from PROCESSING to SUCCESS
            "decline_reason": "用户取消支付",
            # Answer a close with 204 but leave the order payable: the race in which the payer
            # completes the payment while the merchant closes it (a late success follows).
            "close_ignored": False,
            # 付款码: "success", "userpaying" (the payer must confirm: approve or decline it
            # with /sim/orders/<no>/decide), or a refusal {"status", "code", "message"}.
            "code_answer": "success",
            # JSAPI: what the WeixinJSBridge stand-in's payer does: "approve" or "cancel".
            "jsapi_answer": "approve",
            "bill_corrupt": False,  # the downloaded bill does not match its hash_value
            # Who signs answers and notifications: "public_key" (微信支付公钥, the public key
            # id in Wechatpay-Serial) or "certificate" (the newest platform certificate, its
            # serial in Wechatpay-Serial: the older mode).
            "sign_with": "public_key",
            # 付款码 answered USERPAYING as "202" (HTTP 202, {"code": "USERPAYING"}) or as
            # "trade_state" (HTTP 200, the transaction with trade_state USERPAYING): the
            # documents found do not settle which (payments/README.md), the product takes both.
            "userpaying_shape": "202",
        }
        self.initial_controls = json.loads(json.dumps(self.controls))
        self.bills = {}  # download token → gzip bytes
        self.held = []  # notifications held back (delivery "held") until /sim/release

    # Signing -----------------------------------------------------------------------------

    def signer(self):
        """(key, serial) that signs now: the public key and its id, or the newest certificate."""
        if self.controls["sign_with"] == "certificate":
            newest = self.keys.certificates[-1]
            return newest.key, newest.serial
        return self.keys.platform, self.keys.public_key_id

    def signed_headers(self, body, *, key=None, timestamp=None, nonce=None):
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16).upper()
        message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
        signing_key, serial = self.signer()
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa_sign(key or signing_key, message),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def certificates(self):
        """/v3/certificates: every platform certificate, each encrypted under the APIv3 key."""
        data = []
        for certificate in self.keys.certificates:
            nonce = secrets.token_urlsafe(9)[:12]
            sealed = AESGCM(self.keys.apiv3_key.encode()).encrypt(
                nonce.encode(), certificate.pem.encode(), b"certificate"
            )
            data.append({
                "serial_no": certificate.serial,
                "effective_time": certificate.not_before.astimezone(CHINA).isoformat(),
                "expire_time": certificate.not_after.astimezone(CHINA).isoformat(),
                "encrypt_certificate": {
                    "algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                    "associated_data": "certificate",
                    "ciphertext": base64.b64encode(sealed).decode(),
                },
            })  # fmt: skip
        return 200, {"data": data}

    def check_authorization(self, method, path, body, authorization):
        """None when the merchant's request is signed right, else (status, code, message)."""
        scheme, _, params = (authorization or "").partition(" ")
        if scheme != "WECHATPAY2-SHA256-RSA2048":
            return 401, "SIGN_ERROR", "Authorization 缺失或类型错误"
        fields = {}
        for part in params.split(","):
            name, _, value = part.strip().partition("=")
            fields[name] = value.strip('"')
        if fields.get("mchid") != self.keys.mchid:
            return 401, "SIGN_ERROR", "商户号与签名不匹配"
        if fields.get("serial_no", "").upper() != self.keys.cert_serial:
            return 401, "SIGN_ERROR", "证书序列号错误"
        timestamp = fields.get("timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW:
            return 401, "SIGN_ERROR", "时间戳过期"
        message = f"{method}\n{path}\n{timestamp}\n{fields.get('nonce_str', '')}\n".encode()
        message += body + b"\n"
        if not rsa_verify(self.keys.merchant.public_key(), message, fields.get("signature", "")):
            return 401, "SIGN_ERROR", "签名错误"
        return None

    def encrypt(self, plain, associated_data):
        nonce = secrets.token_urlsafe(9)[:12]
        sealed = AESGCM(self.keys.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(plain, ensure_ascii=False).encode(), associated_data.encode()
        )
        return {
            "original_type": associated_data,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(sealed).decode(),
            "associated_data": associated_data,
            "nonce": nonce,
        }

    # Orders ------------------------------------------------------------------------------

    def create(self, trade_type, data):
        required = ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount")
        missing = [name for name in required if not data.get(name)]
        if missing:
            return 400, {"code": "PARAM_ERROR", "message": f"缺少参数 {', '.join(missing)}"}
        if data["mchid"] != self.keys.mchid or data["appid"] != self.keys.appid:
            return 400, {"code": "APPID_MCHID_NOT_MATCH", "message": "appid和mch_id不匹配"}
        total = data["amount"].get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            return 400, {"code": "PARAM_ERROR", "message": "amount.total 必须为正整数(分)"}
        if trade_type == "H5" and not (data.get("scene_info") or {}).get("payer_client_ip"):
            return 400, {"code": "PARAM_ERROR", "message": "缺少 scene_info.payer_client_ip"}
        if trade_type == "JSAPI" and not (data.get("payer") or {}).get("openid"):
            return 400, {"code": "PARAM_ERROR", "message": "缺少 payer.openid"}
        with self.lock:
            order = self.orders.get(data["out_trade_no"])
            if order is not None:
                if order["state"] == "SUCCESS":
                    return 400, {"code": "ORDERPAID", "message": "该订单已支付"}
                if order["state"] == "CLOSED":
                    return 400, {"code": "ORDER_CLOSED", "message": "订单已关闭"}
                if order["total"] != total:
                    return 400, {"code": "INVALID_REQUEST", "message": "订单号重复，参数不一致"}
            else:
                prepay_id = "wx" + datetime.now(CHINA).strftime("%d%H%M%S") + secrets.token_hex(12)
                order = {
                    "appid": data["appid"],
                    "mchid": data["mchid"],
                    "out_trade_no": data["out_trade_no"],
                    "description": data["description"],
                    "total": total,
                    "currency": data["amount"].get("currency", "CNY"),
                    "notify_url": data["notify_url"],
                    "trade_type": trade_type,
                    "time_expire": data.get("time_expire"),
                    "state": "NOTPAY",
                    "state_desc": "订单未支付",
                    "prepay_id": prepay_id,
                    "transaction_id": None,
                    "success_time": None,
                    "refunded": 0,
                    "openid": (data.get("payer") or {}).get("openid")
                    or "o" + secrets.token_urlsafe(20),
                }
                self.orders[order["out_trade_no"]] = order
                self.by_prepay[prepay_id] = order["out_trade_no"]
        page = f"{self.url}/pay/{order['prepay_id']}"
        if trade_type == "JSAPI":
            return 200, {"prepay_id": order["prepay_id"]}
        if trade_type == "NATIVE":
            # The real code_url is weixin://wxpay/bizpayurl?pr=…, which only the WeChat app
            # opens; the simulator's is its own approval page, so a person can scan it.
            return 200, {"code_url": page}
        return 200, {"h5_url": page + "?h5=1"}

    def code_pay(self, data):
        """付款码支付: the till sends the payer's code; paid at once, or the payer confirms."""
        required = ("appid", "mchid", "description", "out_trade_no", "amount", "payer")
        missing = [name for name in required if not data.get(name)]
        if missing:
            return 400, {"code": "PARAM_ERROR", "message": f"缺少参数 {', '.join(missing)}"}
        if data["mchid"] != self.keys.mchid or data["appid"] != self.keys.appid:
            return 400, {"code": "APPID_MCHID_NOT_MATCH", "message": "appid和mch_id不匹配"}
        code = str(data["payer"].get("auth_code", ""))
        if not (len(code) == 18 and code.isdigit() and 10 <= int(code[:2]) <= 15):
            return 400, {"code": "AUTH_CODE_INVALID", "message": "付款码无效，请重新扫码"}
        total = data["amount"].get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            return 400, {"code": "PARAM_ERROR", "message": "amount.total 必须为正整数(分)"}
        answer = self.controls["code_answer"]
        with self.lock:
            if data["out_trade_no"] in self.orders:
                return 400, {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"}
            if isinstance(answer, dict):
                return answer.get("status", 403), {
                    "code": answer.get("code", "NOTENOUGH"),
                    "message": answer.get("message", "用户余额不足"),
                }
            order = {
                "appid": data["appid"],
                "mchid": data["mchid"],
                "out_trade_no": data["out_trade_no"],
                "description": data["description"],
                "total": total,
                "currency": data["amount"].get("currency", "CNY"),
                "notify_url": "",
                "trade_type": "MICROPAY",
                "time_expire": None,
                "state": "USERPAYING",
                "state_desc": "用户支付中",
                "prepay_id": "",
                "transaction_id": None,
                "success_time": None,
                "refunded": 0,
                "openid": "o" + secrets.token_urlsafe(20),
            }
            self.orders[order["out_trade_no"]] = order
        if answer == "userpaying":
            if self.controls["userpaying_shape"] == "trade_state":
                with self.lock:
                    return 200, self.transaction_view(order)
            return 202, {"code": "USERPAYING", "message": "用户支付中，需要输入密码"}
        self.decide(order["out_trade_no"], True)
        with self.lock:
            return 200, self.transaction_view(order)

    def reverse(self, out_trade_no, data):
        """Reverse a 付款码 order: closed, and its money back to the payer if it was paid."""
        if data.get("mchid") != self.keys.mchid or data.get("appid") != self.keys.appid:
            return 400, {"code": "PARAM_ERROR", "message": "appid/mchid 错误"}
        with self.lock:
            order = self.orders.get(out_trade_no)
            if order is None:
                return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
            if order["state"] == "SUCCESS":
                order["refunded"] = order["total"]  # the money goes back to the payer
            order["state"], order["state_desc"] = "REVOKED", "已撤销"
        return 204, None

    # Bills -------------------------------------------------------------------------------

    def trade_bill(self, query):
        """/v3/bill/tradebill: the day's bill (Beijing dates), gzip, with its SHA1."""
        day = query.get("bill_date", "")
        if query.get("tar_type", "GZIP") != "GZIP" or len(day) != 10:
            return 400, {"code": "PARAM_ERROR", "message": "bill_date 或 tar_type 无效"}
        text = self.bill_text(day)
        digest = hashlib.sha1(text.encode()).hexdigest()
        if self.controls["bill_corrupt"]:
            text = text.replace("SUCCESS", "SUCCES5", 1) + "`tampered\n"
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.bills[token] = gzip.compress(text.encode())
        return 200, {"hash_type": "SHA1", "hash_value": digest,
                     "download_url": f"{self.url}/v3/billdownload/file?token={token}"}  # fmt: skip

    def bill_text(self, day):
        head = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
                "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
                "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
                "费率备注")  # fmt: skip
        lines, paid, refunded, fees = [head], 0, 0, 0
        with self.lock:
            orders = [dict(o) for o in self.orders.values() if o["transaction_id"]]
            refunds = [dict(r) for r in self.refunds.values() if r["status"] == "SUCCESS"]
        for o in orders:
            if not (o["success_time"] or "").startswith(day):
                continue
            fee = round(o["total"] * 0.006)
            paid, fees = paid + o["total"], fees + fee
            values = [o["success_time"].replace("T", " ")[:19], o["appid"], o["mchid"], "0", "",
                      o["transaction_id"], o["out_trade_no"], o["openid"], o["trade_type"],
                      "SUCCESS", "OTHERS", o["currency"], f"{o['total'] / 100:.2f}", "0.00", "0",
                      "0", "0.00", "0.00", "", "", o["description"], "", f"{fee / 100:.2f}",
                      "0.60%", f"{o['total'] / 100:.2f}", "0.00", ""]  # fmt: skip
            lines.append(",".join("`" + v for v in values))
        for r in refunds:
            if not (r["success_time"] or "").startswith(day):
                continue
            refunded += r["amount"]
            values = [r["success_time"].replace("T", " ")[:19], self.keys.appid, r["mchid"], "0",
                      "", r["transaction_id"], r["out_trade_no"], "", "NATIVE", "REFUND",
                      "OTHERS", r["currency"], "0.00", "0.00", r["refund_id"], r["out_refund_no"],
                      f"{r['amount'] / 100:.2f}", "0.00", "ORIGINAL", "SUCCESS", "", "", "0.00",
                      "0.60%", "0.00", f"{r['amount'] / 100:.2f}", ""]  # fmt: skip
            lines.append(",".join("`" + v for v in values))
        lines.append(
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
        )
        totals = [str(len(lines) - 2), f"{paid / 100:.2f}", f"{refunded / 100:.2f}", "0.00",
                  f"{fees / 100:.2f}", f"{paid / 100:.2f}", f"{refunded / 100:.2f}"]  # fmt: skip
        lines.append(",".join("`" + v for v in totals))
        return "\r\n".join(lines) + "\r\n"

    # OAuth (snsapi_base) and the WeixinJSBridge stand-in --------------------------------

    def oauth_code(self, query):
        """/connect/oauth2/authorize: WeChat's browser asks silently; a code for an openid."""
        if query.get("appid") != self.keys.appid:
            return None, "appid 无效"
        if query.get("scope") != "snsapi_base" or query.get("response_type") != "code":
            return None, "scope 或 response_type 无效"
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.oauth_codes[code] = query.get("openid") or "o" + secrets.token_urlsafe(20)
        return code, ""

    def oauth_token(self, query):
        """/sns/oauth2/access_token: the merchant's server exchanges the code (once)."""
        if query.get("appid") != self.keys.appid or query.get("secret") != self.keys.app_secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        with self.lock:
            openid = self.oauth_codes.pop(query.get("code", ""), None)
        if openid is None or query.get("grant_type") != "authorization_code":
            return {"errcode": 40029, "errmsg": "invalid code"}
        return {"access_token": secrets.token_urlsafe(32), "expires_in": 7200,
                "refresh_token": secrets.token_urlsafe(32), "openid": openid,
                "scope": "snsapi_base"}  # fmt: skip

    def jsapi_pay(self, params):
        """getBrandWCPayRequest, as WeChat's browser does it: paySign checked with the
        merchant's key, then the payer approves or cancels (the `jsapi_answer` control)."""
        fields = ("appId", "timeStamp", "nonceStr", "package")
        if params.get("signType") != "RSA" or not all(params.get(f) for f in fields):
            return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": "参数错误"}
        message = "".join(f"{params[f]}\n" for f in fields).encode()
        if params["appId"] != self.keys.appid or not rsa_verify(
            self.keys.merchant.public_key(), message, params.get("paySign", "")
        ):
            return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": "支付验证签名失败"}
        prepay_id = params["package"].removeprefix("prepay_id=")
        with self.lock:
            out_trade_no = self.by_prepay.get(prepay_id)
        if out_trade_no is None:
            return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": "prepay_id 无效"}
        if self.controls["jsapi_answer"] != "approve":
            return {"err_msg": "get_brand_wcpay_request:cancel"}
        ok, message = self.decide(out_trade_no, True)
        if not ok:
            return {"err_msg": "get_brand_wcpay_request:fail", "err_desc": message}
        return {"err_msg": "get_brand_wcpay_request:ok"}

    def expired(self, order):
        if not order["time_expire"]:
            return False
        return datetime.fromisoformat(order["time_expire"]) < datetime.now(UTC)

    def decide(self, out_trade_no, approve):
        """The payer approves or declines on the phone. Returns (ok, message)."""
        with self.lock:
            order = self.orders.get(out_trade_no)
            if order is None:
                return False, "订单不存在"
            if order["state"] not in ("NOTPAY", "USERPAYING"):
                return False, f"订单状态为 {order['state']}"
            if self.expired(order):
                return False, "订单已过期"
            if approve:
                order["state"], order["state_desc"] = "SUCCESS", "支付成功"
                order["transaction_id"] = "4200" + "".join(
                    secrets.choice("0123456789") for _ in range(24)
                )
                order["success_time"] = now_rfc3339()
            else:
                # The real gateway sends no notification for a payment that failed: the
                # merchant learns it by the query API.
                order["state"], order["state_desc"] = "PAYERROR", self.controls["decline_reason"]
        if approve and order["notify_url"]:  # 付款码 orders have no notify_url
            self.notify_later("transaction", out_trade_no)
        return True, ""

    def transaction_view(self, order):
        view = {
            "appid": order["appid"],
            "mchid": order["mchid"],
            "out_trade_no": order["out_trade_no"],
            "trade_type": order["trade_type"],
            "trade_state": order["state"],
            "trade_state_desc": order["state_desc"],
            "bank_type": "OTHERS",
            "attach": "",
            "amount": {
                "total": order["total"],
                "currency": order["currency"],
                "payer_total": order["total"] if order["state"] in ("SUCCESS", "REFUND") else 0,
                "payer_currency": order["currency"],
            },
        }
        if order["transaction_id"]:
            view["transaction_id"] = order["transaction_id"]
            view["success_time"] = order["success_time"]
            view["payer"] = {"openid": order["openid"]}
        return view

    def query(self, out_trade_no):
        with self.lock:
            order = self.orders.get(out_trade_no)
            if order is None:
                return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
            return 200, self.transaction_view(order)

    def close(self, out_trade_no, data):
        if data.get("mchid") != self.keys.mchid:
            return 400, {"code": "PARAM_ERROR", "message": "mchid 错误"}
        with self.lock:
            order = self.orders.get(out_trade_no)
            if order is None:
                return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
            if order["state"] in ("SUCCESS", "REFUND"):
                return 400, {"code": "ORDERPAID", "message": "订单已支付"}
            if order["state"] == "NOTPAY" and not self.controls["close_ignored"]:
                order["state"], order["state_desc"] = "CLOSED", "订单已关闭"
        return 204, None

    # Refunds -----------------------------------------------------------------------------

    def refund(self, data):
        out_refund_no = data.get("out_refund_no")
        amount = data.get("amount") or {}
        if not out_refund_no or not data.get("out_trade_no") and not data.get("transaction_id"):
            return 400, {"code": "PARAM_ERROR", "message": "缺少 out_refund_no 或订单号"}
        with self.lock:
            existing = self.refunds.get(out_refund_no)
            if existing is not None:  # the same refund number again: the same refund
                return 200, self.refund_view(existing)
            refused = self.controls["refund_refuse"]
            if refused:
                return 403, {"code": refused["code"], "message": refused["message"]}
            order = self.orders.get(data.get("out_trade_no") or "")
            if order is None:
                order = next(
                    (o for o in self.orders.values()
                     if o["transaction_id"] and o["transaction_id"] == data.get("transaction_id")),
                    None,
                )  # fmt: skip
            if order is None:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
            if order["state"] not in ("SUCCESS", "REFUND"):
                return 400, {"code": "INVALID_REQUEST", "message": "订单未支付，不能退款"}
            value = amount.get("refund")
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or value <= 0
                or amount.get("total") != order["total"]
                or amount.get("currency", "CNY") != order["currency"]
            ):
                return 400, {"code": "PARAM_ERROR", "message": "退款金额参数错误"}
            if order["refunded"] + value > order["total"]:
                return 400, {"code": "INVALID_REQUEST", "message": "退款金额超过订单可退金额"}
            order["refunded"] += value
            order["state"], order["state_desc"] = "REFUND", "转入退款"
            refund = {
                "refund_id": "5030" + "".join(secrets.choice("0123456789") for _ in range(25)),
                "out_refund_no": out_refund_no,
                "out_trade_no": order["out_trade_no"],
                "transaction_id": order["transaction_id"],
                "mchid": order["mchid"],
                "amount": value,
                "total": order["total"],
                "currency": order["currency"],
                "status": "PROCESSING",
                "create_time": now_rfc3339(),
                "success_time": None,
                "notify_url": data.get("notify_url") or order["notify_url"],
            }
            self.refunds[out_refund_no] = refund
        delay = self.controls["refund_settle_delay"]
        threading.Timer(delay, self.settle_refund, args=(out_refund_no,)).start()
        return 200, self.refund_view(refund)

    def settle_refund(self, out_refund_no):
        with self.lock:
            refund = self.refunds[out_refund_no]
            if refund["status"] != "PROCESSING":
                return
            refund["status"], refund["success_time"] = "SUCCESS", now_rfc3339()
        self.notify_later("refund", out_refund_no)

    def refund_view(self, refund):
        view = {
            "refund_id": refund["refund_id"],
            "out_refund_no": refund["out_refund_no"],
            "transaction_id": refund["transaction_id"],
            "out_trade_no": refund["out_trade_no"],
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": refund["create_time"],
            "status": refund["status"],
            "funds_account": "AVAILABLE",
            "amount": {
                "total": refund["total"],
                "refund": refund["amount"],
                "payer_total": refund["total"],
                "payer_refund": refund["amount"],
                "settlement_refund": refund["amount"],
                "settlement_total": refund["total"],
                "discount_refund": 0,
                "currency": refund["currency"],
            },
        }
        if refund["success_time"]:
            view["success_time"] = refund["success_time"]
        return view

    def query_refund(self, out_refund_no):
        with self.lock:
            refund = self.refunds.get(out_refund_no)
            if refund is None:
                return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"}
            return 200, self.refund_view(refund)

    # Notifications -----------------------------------------------------------------------

    def resource(self, kind, key):
        """The plain resource of a notification about an order or refund as it is now."""
        with self.lock:
            if kind == "transaction":
                return self.transaction_view(self.orders[key])
            refund = self.refunds[key]
            return {
                "mchid": refund["mchid"],
                "out_trade_no": refund["out_trade_no"],
                "transaction_id": refund["transaction_id"],
                "out_refund_no": refund["out_refund_no"],
                "refund_id": refund["refund_id"],
                "refund_status": refund["status"],
                "success_time": refund["success_time"],
                "user_received_account": "支付用户零钱",
                "amount": {
                    "total": refund["total"],
                    "refund": refund["amount"],
                    "payer_total": refund["total"],
                    "payer_refund": refund["amount"],
                },
            }

    def notification(self, kind, key, overrides=None, plain=None):
        """(url, headers, body) of the notification about an order or refund: as it is now,
        or as `plain` (the resource as it was when the notification became due)."""
        overrides = overrides or {}
        plain = json.loads(json.dumps(plain or self.resource(kind, key)))
        with self.lock:
            if kind == "transaction":
                event, summary = "TRANSACTION.SUCCESS", "支付成功"
                url = self.orders[key]["notify_url"]
            else:
                refund = self.refunds[key]
                event = {"SUCCESS": "REFUND.SUCCESS", "CLOSED": "REFUND.CLOSED"}.get(
                    plain["refund_status"], "REFUND.ABNORMAL"
                )
                summary, url = "退款成功", refund["notify_url"]
        for name in ("mchid", "appid", "trade_state", "out_trade_no"):
            if name in overrides:  # out_trade_no: a signed notification of an order not ours
                plain[name] = overrides[name]
        if "amount_total" in overrides:
            plain["amount"]["total"] = overrides["amount_total"]
            plain["amount"]["payer_total"] = overrides["amount_total"]
        if "currency" in overrides:
            plain["amount"]["currency"] = overrides["currency"]
        body = {
            "id": str(uuid.uuid4()),
            "create_time": now_rfc3339(),
            "resource_type": "encrypt-resource",
            "event_type": event,
            "summary": summary,
            "resource": self.encrypt(plain, kind),
        }
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        wrong = overrides.get("wrong_key", self.controls["notify_wrong_key"])
        headers = self.signed_headers(
            raw, key=self.keys.wrong if wrong else None, timestamp=overrides.get("timestamp")
        )
        return url, headers, raw

    def notify_later(self, kind, key):
        # The notification says what happened now (a later refund does not change it), signed
        # afresh at each try, as WeChat Pay's retries are.
        send_or_hold(self, (kind, key, self.resource(kind, key)))

    def deliver(self, kind, key, plain=None):
        """POST until answered 2xx, on the retry schedule; each try is signed afresh."""
        for delay in self.controls["retry_delays"]:
            time.sleep(delay)
            url, headers, body = self.notification(kind, key, plain=plain)
            request = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", **headers},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    self.record(kind, key, answer.status)
                    return
            except urllib.error.HTTPError as error:
                self.record(kind, key, error.code)
            except OSError as error:
                self.record(kind, key, f"error: {error}")
        self.record(kind, key, "gave up")

    def record(self, kind, key, outcome):
        with self.lock:
            self.deliveries.append({"kind": kind, "key": key, "outcome": outcome})


class Handler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if os.environ.get("SIMULATOR_QUIET") != "1":
            sys.stderr.write("wechatpay-sim: " + format % args + "\n")

    # Answers ---------------------------------------------------------------------------

    def send(self, status, body=b"", content_type="application/json; charset=utf-8", headers=()):
        self.send_response(status)
        if body or status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in dict(headers).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def api_answer(self, status, data):
        """A merchant API answer, signed with the platform key as the real gateway signs."""
        body = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
        headers = {"Request-ID": str(uuid.uuid4()), **self.gateway.signed_headers(body)}
        self.send(status, body, headers=headers)

    def json_answer(self, status, data):
        self.send(status, json.dumps(data, ensure_ascii=False).encode())

    def page(self, status, text):
        self.send(status, text.encode(), "text/html; charset=utf-8")

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # Routing ---------------------------------------------------------------------------

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        path = urlsplit(self.path).path
        body = self.body()
        try:
            if path.startswith("/v3/"):
                return self.merchant_api(method, body)
            if path.startswith("/sim/"):
                return self.control(method, path, body)
            if path.startswith("/pay/"):
                return self.phone_page(method, path, body)
            if path == "/connect/oauth2/authorize":
                return self.oauth_authorize()
            if path == "/sns/oauth2/access_token":
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                return self.json_answer(200, self.gateway.oauth_token(query))
            if path == "/jsbridge.js":
                return self.send(200, JSBRIDGE.replace("SIMULATOR", self.gateway.url).encode(),
                                 "application/javascript; charset=utf-8")  # fmt: skip
            if path == "/jsbridge/pay" and method == "POST":
                return self.send(
                    200,
                    json.dumps(self.gateway.jsapi_pay(json.loads(body or b"{}"))).encode(),
                    headers={"Access-Control-Allow-Origin": "*"},
                )
            self.json_answer(404, {"code": "NOT_FOUND", "message": "no such path"})
        except Exception as error:  # a simulator that says what broke, never a hang
            self.json_answer(500, {"code": "SYSTEM_ERROR", "message": repr(error)})

    def merchant_api(self, method, body):
        controls = self.gateway.controls
        if controls["unreachable"]:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if controls["latency"]:
            time.sleep(controls["latency"])
        refused = self.gateway.check_authorization(
            method, self.path, body, self.headers.get("Authorization")
        )
        if refused:
            status, code, message = refused
            return self.api_answer(status, {"code": code, "message": message})
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return self.api_answer(400, {"code": "PARAM_ERROR", "message": "请求体不是 JSON"})
        path = urlsplit(self.path).path
        query = parse_qs(urlsplit(self.path).query)
        parts = path.strip("/").split("/")
        gateway = self.gateway
        if method == "POST" and path == "/v3/pay/transactions/native":
            return self.api_answer(*gateway.create("NATIVE", data))
        if method == "POST" and path == "/v3/pay/transactions/jsapi":
            return self.api_answer(*gateway.create("JSAPI", data))
        if method == "POST" and path == "/v3/pay/transactions/h5":
            return self.api_answer(*gateway.create("H5", data))
        if method == "POST" and path == "/v3/pay/transactions/codepay":
            return self.api_answer(*gateway.code_pay(data))
        if parts[:4] == ["v3", "pay", "transactions", "out-trade-no"] and len(parts) >= 5:
            out_trade_no = parts[4]
            if method == "GET" and len(parts) == 5:
                if query.get("mchid", [""])[0] != gateway.keys.mchid:
                    return self.api_answer(400, {"code": "PARAM_ERROR", "message": "mchid 错误"})
                return self.api_answer(*gateway.query(out_trade_no))
            if method == "POST" and parts[5:] == ["close"]:
                return self.api_answer(*gateway.close(out_trade_no, data))
            if method == "POST" and parts[5:] == ["reverse"]:
                return self.api_answer(*gateway.reverse(out_trade_no, data))
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return self.api_answer(*gateway.refund(data))
        if method == "GET" and path == "/v3/certificates":
            return self.api_answer(*gateway.certificates())
        if method == "GET" and path == "/v3/bill/tradebill":
            return self.api_answer(*gateway.trade_bill({k: v[0] for k, v in query.items()}))
        if method == "GET" and path == "/v3/billdownload/file":
            with gateway.lock:
                data = gateway.bills.get(query.get("token", [""])[0])
            if data is None:
                return self.api_answer(
                    404, {"code": "RESOURCE_NOT_EXISTS", "message": "账单不存在"}
                )
            return self.send(200, data, "application/octet-stream")
        if method == "GET" and parts[:4] == ["v3", "refund", "domestic", "refunds"]:
            return self.api_answer(*gateway.query_refund(parts[4] if len(parts) > 4 else ""))
        return self.api_answer(404, {"code": "NOT_FOUND", "message": "接口不存在"})

    def control(self, method, path, body):
        gateway = self.gateway
        data = json.loads(body) if body else {}
        if answer_common(self, gateway, method, path, data):
            return None
        if path == "/sim/rotate-certificate" and method == "POST":
            with gateway.lock:
                certificate = gateway.keys.rotate()
            return self.json_answer(200, {"serial": certificate.serial})
        if path == "/sim/certificates":
            with gateway.lock:
                serials = [c.serial for c in gateway.keys.certificates]
            return self.json_answer(200, {"serials": serials})
        if path.startswith("/sim/refunds/"):
            with gateway.lock:
                refund = gateway.refunds.get(path.split("/")[3])
                return self.json_answer(200 if refund else 404, refund or {})
        if path == "/sim/notification" and method == "POST":
            kind = data.get("kind", "transaction")
            key = data.get("key")
            known = gateway.orders if kind == "transaction" else gateway.refunds
            if key not in known:
                return self.json_answer(404, {"error": "no such order or refund"})
            url, headers, raw = gateway.notification(kind, key, data.get("overrides"))
            if data.get("deliver"):
                threading.Thread(target=gateway.deliver, args=(kind, key), daemon=True).start()
            return self.json_answer(
                200, {"url": url, "headers": headers, "body": raw.decode("utf-8")}
            )
        return self.json_answer(404, {"error": "no such control"})

    def oauth_authorize(self):
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        code, error = self.gateway.oauth_code(query)
        back = query.get("redirect_uri", "")
        if code is None or not back.startswith(("http://", "https://")):
            return self.page(400, f"<h1>授权失败</h1><p>{html.escape(error or 'redirect_uri')}</p>")
        state = quote(query.get("state", ""), safe="")
        joiner = "&" if "?" in back else "?"
        self.send(302, headers={"Location": f"{back}{joiner}code={code}&state={state}"})

    def phone_page(self, method, path, body):
        """The payer's page (code_url and h5_url): the order, and approve or decline."""
        parts = path.strip("/").split("/")
        gateway = self.gateway
        with gateway.lock:
            out_trade_no = gateway.by_prepay.get(parts[1] if len(parts) > 1 else "")
            order = dict(gateway.orders[out_trade_no]) if out_trade_no else None
        if order is None:
            return self.page(404, "<h1>订单不存在</h1>")
        query = parse_qs(urlsplit(self.path).query)
        redirect = query.get("redirect_url", [""])[0]
        if method == "POST" and parts[2:] == ["decide"]:
            form = parse_qs(body.decode())
            approve = form.get("action", [""])[0] == "approve"
            ok, message = gateway.decide(out_trade_no, approve)
            if ok and redirect.startswith(("http://", "https://")):
                self.send(302, headers={"Location": redirect})
                return
            with gateway.lock:
                order = dict(gateway.orders[out_trade_no])
            return self.page(200 if ok else 409, self.render(order, redirect, message))
        return self.page(200, self.render(order, redirect, ""))

    def render(self, order, redirect, message):
        amount = f"{order['total'] / 100:.2f}"
        action = f"/pay/{order['prepay_id']}/decide"
        if redirect:
            action += "?redirect_url=" + quote(redirect, safe="")
        state = order["state"]
        buttons = (
            f'<form method="post" action="{html.escape(action)}">'
            '<button name="action" value="approve" data-testid="approve">确认支付</button> '
            '<button name="action" value="decline" data-testid="decline">取消支付</button></form>'
            if state == "NOTPAY"
            else ""
        )
        back = f'<p><a href="{html.escape(redirect)}">返回商家</a></p>' if redirect else ""
        error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
        return (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>微信支付（模拟器）</title></head><body>"
            "<h1>微信支付 · 模拟器</h1><p>仅供开发与测试，不会扣款。</p>"
            f"<p>{html.escape(order['description'])}</p>"
            f'<p class="amount" data-testid="amount">¥{amount}</p>'
            f'<p data-testid="state">{html.escape(state)}</p>{error}{buttons}{back}'
            "</body></html>"
        )


# What WeChat's browser injects into every page, as a stand-in: a test (or a developer) adds
# this script to the page (Playwright's add_init_script), and getBrandWCPayRequest goes to the
# simulator, which checks the paySign and plays the payer.
JSBRIDGE = """(function () {
  window.WeixinJSBridge = {
    invoke: function (name, params, callback) {
      if (name !== "getBrandWCPayRequest") { callback({err_msg: name + ":fail"}); return; }
      fetch("SIMULATOR/jsbridge/pay", {method: "POST", body: JSON.stringify(params)})
        .then(function (answer) { return answer.json(); })
        .then(callback, function () { callback({err_msg: "get_brand_wcpay_request:fail"}); });
    }
  };
  document.addEventListener("DOMContentLoaded", function () {
    document.dispatchEvent(new Event("WeixinJSBridgeReady"));
  });
})();
"""


def serve(port, keys_dir, retry_delays, host="127.0.0.1"):
    keys = Keys()
    server = ThreadingHTTPServer((host, port), Handler)
    url = f"http://{host}:{server.server_address[1]}"
    gateway = Gateway(keys, url, retry_delays)
    Handler.gateway = gateway
    env = keys.write(keys_dir, url)
    print(json.dumps({"url": url, "env": env}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8801, help="0 picks a free port")
    parser.add_argument("--keys-dir", default="var/simulators/wechatpay")
    parser.add_argument(
        "--retry-delays",
        default=",".join(str(d) for d in REAL_RETRY_DELAYS),
        help="seconds before each notification try, comma-separated (default: the real ones)",
    )
    args = parser.parse_args(argv)
    delays = [float(d) for d in args.retry_delays.split(",") if d.strip()]
    serve(args.port, args.keys_dir, delays)


if __name__ == "__main__":
    main()
