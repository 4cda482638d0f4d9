"""A local Alipay OpenAPI simulator (当面付 and 手机网站支付), for development and tests only.

    python -m simulators.alipay --port 8802 --keys-dir /tmp/alipay-sim

It speaks the merchant side of the OpenAPI gateway (`/gateway.do`, GET or form POST) as the
real one does: every request must carry `app_id`, `method`, `charset=utf-8`, `sign_type=RSA2`,
a fresh `timestamp` and a `sign` = base64(SHA256withRSA(app private key, the sorted `k=v`
pairs joined by `&`, without `sign`)); every answer is `{"<method>_response": {…}, "sign": …}`
signed with the Alipay key over the exact text of the response object. Notifications are
form POSTs to the order's `notify_url`, signed over the sorted pairs without `sign` and
`sign_type`, retried on Alipay's schedule until answered with the body `success`.

At start it makes the app's key pair and Alipay's key pair, an app id and a seller id (PID),
and writes under --keys-dir `app_private_key.pem`, `alipay_public_key.pem` and `alipay.env`
(every ALIPAY_ variable the product needs). Its first line on stdout is a JSON object with its
`url` and that `env`.

Served methods: `alipay.trade.precreate` (a `qr_code`: the simulator's own cashier page),
`alipay.trade.wap.pay` (the phone is sent to the gateway with the signed request; the
simulator's cashier page approves or declines, then goes back to `return_url`),
`alipay.trade.query`, `alipay.trade.close`, `alipay.trade.refund` (synchronous, idempotent by
`out_request_no`), `alipay.trade.fastpay.refund.query`. Unsigned controls under `/sim/` as in
simulators/wechatpay.py. See payments/README.md, "The simulators".
"""

import argparse
import html
import io
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulators.controls import answer_common, send_or_hold
from simulators.wechatpay import new_rsa_key, pem_private, pem_public, rsa_sign, rsa_verify

CHINA = timezone(timedelta(hours=8))
# Alipay's schedule after the first try: 4m, 10m, 10m, 1h, 2h, 6h, 15h.
REAL_RETRY_DELAYS = (0, 240, 600, 600, 3600, 7200, 21600, 54000)
MAX_SKEW = 600


def china_now():
    return datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def content(params):
    """The signed text: the sorted `k=v` pairs joined by `&` (values as they are, unencoded)."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()))


def yuan(value):
    """A strict amount in yuan ("12.50"), or None."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return amount.quantize(Decimal("0.01"))


class Keys:
    def __init__(self):
        self.app_id = "2021" + "".join(secrets.choice("0123456789") for _ in range(12))
        self.seller_id = "2088" + "".join(secrets.choice("0123456789") for _ in range(12))
        self.app = new_rsa_key()
        self.alipay = new_rsa_key()
        self.wrong = new_rsa_key()

    def write(self, folder, url):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        private, public = folder / "app_private_key.pem", folder / "alipay_public_key.pem"
        private.write_bytes(pem_private(self.app))
        os.chmod(private, 0o600)
        public.write_bytes(pem_public(self.alipay))
        env = {
            "ALIPAY_APPID": self.app_id,
            "ALIPAY_SELLER_ID": self.seller_id,
            "ALIPAY_PRIVATE_KEY": str(private),
            "ALIPAY_PUBLIC_KEY": str(public),
            "ALIPAY_GATEWAY_URL": url + "/gateway.do",
        }
        (folder / "alipay.env").write_text(
            "".join(f"export {name}={value}\n" for name, value in env.items())
        )
        return env


class Gateway:
    def __init__(self, keys, url, retry_delays):
        self.keys = keys
        self.url = url
        self.lock = threading.RLock()
        self.orders = {}  # out_trade_no → order
        self.by_token = {}  # cashier page token → out_trade_no
        self.refunds = {}  # (out_trade_no, out_request_no) → refund
        self.deliveries = []
        self.controls: dict[str, Any] = {
            "delivery": "http",
            "retry_delays": list(retry_delays),
            "notify_times": 1,
            "notify_wrong_key": False,
            "latency": 0.0,
            "unreachable": False,
            "refund_refuse": None,  # {"sub_code": …, "sub_msg": …}
            "close_ignored": False,
            # 付款码 (bar_code): "success", "userpaying" (10003: the payer must confirm with
            # /sim/orders/<no>/decide), or a refusal {"sub_code", "sub_msg"}.
            "code_answer": "success",
        }
        self.initial_controls = json.loads(json.dumps(self.controls))
        self.bills = {}  # download token → zip bytes
        self.held = []  # notifications held back (delivery "held") until /sim/release

    # Requests and answers ----------------------------------------------------------------

    def check(self, params):
        """None when the merchant's request is signed right, else (sub_code, sub_msg)."""
        if params.get("app_id") != self.keys.app_id:
            return "isv.invalid-app-id", "无效的AppID参数"
        if params.get("sign_type") != "RSA2":
            return "isv.invalid-signature-type", "无效的签名类型"
        if params.get("charset", "").lower() != "utf-8":
            return "isv.invalid-charset", "字符集错误"
        try:
            sent = datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return "isv.invalid-timestamp", "非法的时间戳参数"
        if abs((sent.replace(tzinfo=CHINA) - datetime.now(CHINA)).total_seconds()) > MAX_SKEW:
            return "isv.invalid-timestamp", "时间戳过期"
        unsigned = {k: v for k, v in params.items() if k != "sign"}
        if not rsa_verify(
            self.keys.app.public_key(), content(unsigned).encode(), params.get("sign", "")
        ):
            return "isv.invalid-signature", "验签出错"
        return None

    def answer(self, method, data):
        """The signed JSON text of an answer to `method`."""
        name = method.replace(".", "_") + "_response"
        inner = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        sign = rsa_sign(self.keys.alipay, inner.encode())
        return '{"' + name + '":' + inner + ',"sign":"' + sign + '"}'

    @staticmethod
    def failed(sub_code, sub_msg, code="40004", msg="Business Failed"):
        return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}

    # Orders ------------------------------------------------------------------------------

    def create(self, params, biz, product):
        amount = yuan(biz.get("total_amount"))
        if not biz.get("out_trade_no") or not biz.get("subject") or amount is None:
            return None, self.failed("ACQ.INVALID_PARAMETER", "参数无效")
        with self.lock:
            order = self.orders.get(biz["out_trade_no"])
            if order is not None:
                if order["state"] in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                    return None, self.failed("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
                if order["state"] == "TRADE_CLOSED":
                    return None, self.failed("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
                if order["total"] != amount:
                    return None, self.failed("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
                return order, None
            token = secrets.token_urlsafe(16)
            order = {
                "out_trade_no": biz["out_trade_no"],
                "subject": biz["subject"],
                "total": amount,
                "product": product,
                "notify_url": params.get("notify_url", ""),
                "return_url": params.get("return_url", ""),
                "time_expire": biz.get("time_expire"),
                "state": "WAIT_BUYER_PAY",
                # A precreated QR code's trade exists once a buyer scans it (as at Alipay).
                "seen": product == "QUICK_WAP_WAY",
                "trade_no": None,
                "gmt_payment": None,
                "refunded": Decimal("0.00"),
                "token": token,
                "buyer_id": "2088" + "".join(secrets.choice("0123456789") for _ in range(12)),
            }
            self.orders[order["out_trade_no"]] = order
            self.by_token[token] = order["out_trade_no"]
        return order, None

    def code_pay(self, params, biz):
        """alipay.trade.pay, scene bar_code: paid at once, or the payer confirms (10003)."""
        code = str(biz.get("auth_code", ""))
        if biz.get("scene") != "bar_code":
            return self.failed("ACQ.INVALID_PARAMETER", "scene 无效")
        if not (code.isdigit() and 16 <= len(code) <= 24 and 25 <= int(code[:2]) <= 30):
            return self.failed("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败")
        answer = self.controls["code_answer"]
        if isinstance(answer, dict):
            return self.failed(answer.get("sub_code", "ACQ.BUYER_BALANCE_NOT_ENOUGH"),
                               answer.get("sub_msg", "买家余额不足"))  # fmt: skip
        order, error = self.create(params, biz, "FACE_TO_FACE_PAYMENT")
        if error:
            return error
        with self.lock:
            order["seen"] = True
        if answer == "userpaying":
            return {
                "code": "10003",
                "msg": " order success pay inprocess",
                "out_trade_no": order["out_trade_no"],
                "total_amount": f"{order['total']:.2f}",
            }
        self.decide(order["out_trade_no"], True)
        with self.lock:
            return {"code": "10000", "msg": "Success", **self.trade(order)}

    def bill_url(self, biz):
        """alipay.data.dataservice.bill.downloadurl.query: a zip of the day's trade bill."""
        day = biz.get("bill_date", "")
        if biz.get("bill_type") != "trade" or len(day) != 10:
            return self.failed("isp.bill_not_exist", "账单不存在")
        detail = [
            "#支付宝业务明细查询",
            f"#账号：[{self.keys.seller_id}0156]",
            f"#起始日期：[{day} 00:00:00]   终止日期：[{day} 23:59:59]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,"
            "对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
            "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
            "退款批次号/请求号,服务费（元）,分润（元）,备注",
        ]
        paid = refunded = Decimal("0.00")
        count = 0
        with self.lock:
            for o in self.orders.values():
                if o["trade_no"] and (o["gmt_payment"] or "").startswith(day):
                    paid += o["total"]
                    count += 1
                    detail.append(",".join([
                        o["trade_no"], o["out_trade_no"], "交易", o["subject"], o["gmt_payment"],
                        o["gmt_payment"], "", "", "", "", "159****5620", f"{o['total']:.2f}",
                        f"{o['total']:.2f}", "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00",
                        "0.00", "", f"{-(o['total'] * Decimal('0.006')).quantize(Decimal('0.01'))}",
                        "0.00", "",
                    ]))  # fmt: skip
            for (out_trade_no, number), r in self.refunds.items():
                o = self.orders[out_trade_no]
                refunded += r["amount"]
                count += 1
                detail.append(",".join([
                    o["trade_no"], out_trade_no, "退款", o["subject"], r["answer"]["gmt_refund_pay"],
                    r["answer"]["gmt_refund_pay"], "", "", "", "", "159****5620",
                    f"{-r['amount']:.2f}", f"{-r['amount']:.2f}", "0.00", "0.00", "0.00", "0.00",
                    "0.00", "", "0.00", "0.00", number, "0.00", "0.00", "",
                ]))  # fmt: skip
        detail += [
            "#-----------------------------------------业务明细列表结束------------------------------------",
            f"#交易合计：{count}笔，商家实收共{paid - refunded:.2f}元",
            f"#导出时间：[{china_now()}]",
        ]
        summary = ["#支付宝业务汇总查询", "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）",
                   f"合计,,{count},{len(self.refunds)},{paid:.2f},{paid - refunded:.2f}"]  # fmt: skip
        buffer = io.BytesIO()
        name = f"{self.keys.seller_id}0156_{day.replace('-', '')}"
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"{name}_业务明细.csv", "\r\n".join(detail).encode("gbk"))
            archive.writestr(f"{name}_业务明细(汇总).csv", "\r\n".join(summary).encode("gbk"))
        token = secrets.token_urlsafe(16)
        with self.lock:
            self.bills[token] = buffer.getvalue()
        return {"code": "10000", "msg": "Success",
                "bill_download_url": f"{self.url}/bills/{token}.csv.zip"}  # fmt: skip

    def expired(self, order):
        if not order["time_expire"]:
            return False
        limit = datetime.strptime(order["time_expire"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        return limit < datetime.now(CHINA)

    def decide(self, out_trade_no, approve):
        with self.lock:
            order = self.orders.get(out_trade_no)
            if order is None:
                return False, "交易不存在"
            if order["state"] != "WAIT_BUYER_PAY":
                return False, f"交易状态为 {order['state']}"
            if self.expired(order):
                return False, "交易已超时"
            order["seen"] = True
            if approve:
                order["state"] = "TRADE_SUCCESS"
                order["trade_no"] = datetime.now(CHINA).strftime("%Y%m%d") + "".join(
                    secrets.choice("0123456789") for _ in range(20)
                )
                order["gmt_payment"] = china_now()
            else:
                order["state"] = "TRADE_CLOSED"
        self.notify_later(out_trade_no)
        return True, ""

    def trade(self, order):
        view = {
            "out_trade_no": order["out_trade_no"],
            "trade_status": order["state"],
            "total_amount": f"{order['total']:.2f}",
            "buyer_user_id": order["buyer_id"],
        }
        if order["trade_no"]:
            view["trade_no"] = order["trade_no"]
            view["send_pay_date"] = order["gmt_payment"]
            view["buyer_pay_amount"] = f"{order['total']:.2f}"
            view["receipt_amount"] = f"{order['total']:.2f}"
        return view

    def find(self, biz):
        order = self.orders.get(biz.get("out_trade_no") or "")
        if order is None and biz.get("trade_no"):
            order = next(
                (o for o in self.orders.values() if o["trade_no"] == biz["trade_no"]), None
            )
        return order

    def api(self, params):
        """(method, answer data) of one merchant API call, already checked as signed."""
        method = params.get("method", "")
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            return method, self.failed("isv.invalid-biz-content", "业务参数格式错误", "40002")
        if method == "alipay.data.dataservice.bill.downloadurl.query":
            return method, self.bill_url(biz)
        if method == "alipay.trade.pay":
            return method, self.code_pay(params, biz)
        if method == "alipay.trade.precreate":
            order, error = self.create(params, biz, "FACE_TO_FACE_PAYMENT")
            if error:
                return method, error
            return method, {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": order["out_trade_no"],
                # The real qr_code is https://qr.alipay.com/…; the simulator's is its cashier.
                "qr_code": f"{self.url}/cashier/{order['token']}",
            }
        with self.lock:
            order = self.find(biz)
            if method == "alipay.trade.query":
                if order is None or not order["seen"]:
                    return method, self.failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
                return method, {"code": "10000", "msg": "Success", **self.trade(order)}
            if method == "alipay.trade.cancel":
                if order is None:
                    return method, self.failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
                action = "refund" if order["state"] == "TRADE_SUCCESS" else "close"
                if action == "refund":
                    order["refunded"] = order["total"]  # the money goes back to the payer
                order["state"] = "TRADE_CLOSED"
                return method, {"code": "10000", "msg": "Success", "retry_flag": "N",
                                "out_trade_no": order["out_trade_no"], "action": action}  # fmt: skip
            if method == "alipay.trade.close":
                if order is None or not order["seen"]:
                    return method, self.failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
                if order["state"] in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                    return method, self.failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
                if not self.controls["close_ignored"]:
                    order["state"] = "TRADE_CLOSED"
                return method, {"code": "10000", "msg": "Success",
                                "out_trade_no": order["out_trade_no"]}  # fmt: skip
            if method == "alipay.trade.refund":
                return method, self.refund(order, biz)
            if method == "alipay.trade.fastpay.refund.query":
                refund = self.refunds.get(
                    (order["out_trade_no"] if order else "", biz.get("out_request_no"))
                )
                if refund is None:
                    return method, {"code": "10000", "msg": "Success"}  # no such refund
                return method, {
                    "code": "10000",
                    "msg": "Success",
                    "out_trade_no": order["out_trade_no"],
                    "trade_no": order["trade_no"],
                    "out_request_no": refund["out_request_no"],
                    "refund_amount": f"{refund['amount']:.2f}",
                    "total_amount": f"{order['total']:.2f}",
                    "refund_status": "REFUND_SUCCESS",
                }
        return method, self.failed("isv.invalid-method", "不存在的方法名", "40002")

    def refund(self, order, biz):
        if order is None:
            return self.failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        number = biz.get("out_request_no") or order["out_trade_no"]
        existing = self.refunds.get((order["out_trade_no"], number))
        if existing is not None:  # the same request number again: the same refund, no new money
            return {**existing["answer"], "fund_change": "N"}
        refused = self.controls["refund_refuse"]
        if refused:
            return self.failed(refused["sub_code"], refused["sub_msg"])
        if order["state"] not in ("TRADE_SUCCESS", "TRADE_CLOSED") or not order["trade_no"]:
            return self.failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        amount = yuan(biz.get("refund_amount"))
        if amount is None:
            return self.failed("ACQ.INVALID_PARAMETER", "退款金额无效")
        if order["refunded"] + amount > order["total"]:
            return self.failed("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        order["refunded"] += amount
        if order["refunded"] == order["total"]:
            order["state"] = "TRADE_CLOSED"
        answer = {
            "code": "10000",
            "msg": "Success",
            "trade_no": order["trade_no"],
            "out_trade_no": order["out_trade_no"],
            "buyer_logon_id": "159****5620",
            "fund_change": "Y",
            "refund_fee": f"{order['refunded']:.2f}",
            "gmt_refund_pay": china_now(),
            "send_back_fee": f"{amount:.2f}",
        }
        self.refunds[(order["out_trade_no"], number)] = {
            "out_request_no": number,
            "amount": amount,
            "answer": answer,
        }
        return answer

    # Notifications -----------------------------------------------------------------------

    def notification(self, out_trade_no, overrides=None):
        """(url, form fields) of the notification about an order as it is now, signed."""
        overrides = overrides or {}
        with self.lock:
            order = self.orders[out_trade_no]
            fields = {
                "notify_time": china_now(),
                "notify_type": "trade_status_sync",
                "notify_id": secrets.token_hex(16),
                "charset": "utf-8",
                "version": "1.0",
                "app_id": self.keys.app_id,
                "seller_id": self.keys.seller_id,
                "out_trade_no": order["out_trade_no"],
                "trade_status": order["state"],
                "total_amount": f"{order['total']:.2f}",
                "subject": order["subject"],
                "buyer_id": order["buyer_id"],
                "gmt_create": china_now(),
            }
            if order["trade_no"]:
                fields["trade_no"] = order["trade_no"]
                fields["gmt_payment"] = order["gmt_payment"]
                fields["receipt_amount"] = fields["buyer_pay_amount"] = fields["total_amount"]
            url = order["notify_url"]
        for name in ("app_id", "seller_id", "total_amount", "trade_status", "notify_time",
                     "out_trade_no"):  # fmt: skip
            if name in overrides:
                fields[name] = overrides[name]
        wrong = overrides.get("wrong_key", self.controls["notify_wrong_key"])
        fields["sign"] = rsa_sign(self.keys.wrong if wrong else self.keys.alipay,
                                  content(fields).encode())  # fmt: skip
        fields["sign_type"] = "RSA2"
        return url, fields

    def notify_later(self, out_trade_no):
        if self.orders[out_trade_no]["notify_url"]:
            send_or_hold(self, (out_trade_no,))

    def deliver(self, out_trade_no):
        """POST until the merchant answers the body `success`, on Alipay's schedule."""
        for delay in self.controls["retry_delays"]:
            time.sleep(delay)
            url, fields = self.notification(out_trade_no)
            request = urllib.request.Request(
                url,
                data=urllib.parse.urlencode(fields).encode(),
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    text = answer.read().decode("utf-8", "replace").strip()
                    self.record(out_trade_no, f"{answer.status} {text}")
                    if text == "success":
                        return
            except urllib.error.HTTPError as error:
                self.record(
                    out_trade_no, f"{error.code} {error.read()[:50].decode('utf-8', 'replace')}"
                )
            except OSError as error:
                self.record(out_trade_no, f"error: {error}")
        self.record(out_trade_no, "gave up")

    def record(self, key, outcome):
        with self.lock:
            self.deliveries.append({"key": key, "outcome": outcome})


class Handler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        if os.environ.get("SIMULATOR_QUIET") != "1":
            sys.stderr.write("alipay-sim: " + format % args + "\n")

    def send(self, status, body=b"", content_type="application/json; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in dict(headers).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def json_answer(self, status, data):
        self.send(status, json.dumps(data, ensure_ascii=False, default=str).encode())

    def page(self, status, text):
        self.send(status, text.encode(), "text/html; charset=utf-8")

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def route(self, method):
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if split.path == "/gateway.do":
                params = {k: v[0] for k, v in parse_qs(split.query).items()}
                if method == "POST" and body:
                    params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
                return self.gateway_do(params)
            if split.path.startswith("/sim/"):
                return self.control(method, split.path, body)
            if split.path.startswith("/bills/"):
                with self.gateway.lock:
                    data = self.gateway.bills.get(split.path[7:].removesuffix(".csv.zip"))
                if data is None:
                    return self.json_answer(404, {"error": "no such bill"})
                return self.send(200, data, "application/zip")
            if split.path.startswith("/cashier/"):
                return self.cashier(method, split.path, body)
            self.json_answer(404, {"error": "no such path"})
        except Exception as error:  # say what broke, never hang
            self.json_answer(500, {"error": repr(error)})

    def gateway_do(self, params):
        gateway = self.gateway
        if gateway.controls["unreachable"]:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if gateway.controls["latency"]:
            time.sleep(gateway.controls["latency"])
        method = params.get("method", "")
        refused = gateway.check(params)
        if method == "alipay.trade.wap.pay":
            # The phone itself arrives here with the signed request: the cashier page.
            if refused:
                return self.page(400, f"<h1>错误</h1><p>{html.escape(refused[1])}</p>")
            biz = json.loads(params.get("biz_content") or "{}")
            order, error = gateway.create(params, biz, "QUICK_WAP_WAY")
            if error:
                return self.page(409, f"<h1>错误</h1><p>{html.escape(error['sub_msg'])}</p>")
            return self.page(200, self.render(order, ""))
        if refused:
            data = gateway.failed(refused[0], refused[1], "40002", "Invalid Arguments")
        else:
            method, data = gateway.api(params)
        self.send(200, gateway.answer(method or "error", data).encode())

    def control(self, method, path, body):
        gateway = self.gateway
        data = json.loads(body) if body else {}
        if answer_common(self, gateway, method, path, data):
            return None
        if path.startswith("/sim/refunds/"):
            _sim, _refunds, out_trade_no, number = path.strip("/").split("/")
            with gateway.lock:
                refund = gateway.refunds.get((out_trade_no, number))
                return self.json_answer(200 if refund else 404, refund or {})
        if path == "/sim/notification" and method == "POST":
            if data.get("key") not in gateway.orders:
                return self.json_answer(404, {"error": "no such order"})
            url, fields = gateway.notification(data["key"], data.get("overrides"))
            return self.json_answer(200, {"url": url, "fields": fields})
        return self.json_answer(404, {"error": "no such control"})

    def cashier(self, method, path, body):
        """The buyer's page (the precreated qr_code, and wap.pay): approve or decline."""
        parts = path.strip("/").split("/")
        gateway = self.gateway
        with gateway.lock:
            out_trade_no = gateway.by_token.get(parts[1] if len(parts) > 1 else "")
            if out_trade_no:
                gateway.orders[out_trade_no]["seen"] = True  # scanned: the trade exists now
                order = dict(gateway.orders[out_trade_no])
            else:
                order = None
        if order is None:
            return self.page(404, "<h1>交易不存在</h1>")
        if method == "POST" and parts[2:] == ["decide"]:
            form = parse_qs(body.decode())
            ok, message = gateway.decide(out_trade_no, form.get("action", [""])[0] == "approve")
            back = order["return_url"]
            if ok and back.startswith(("http://", "https://")):
                return self.send(302, headers={"Location": back})
            with gateway.lock:
                order = dict(gateway.orders[out_trade_no])
            return self.page(200 if ok else 409, self.render(order, message))
        return self.page(200, self.render(order, ""))

    def render(self, order, message):
        state = order["state"]
        buttons = (
            f'<form method="post" action="/cashier/{html.escape(order["token"])}/decide">'
            '<button name="action" value="approve" data-testid="approve">确认付款</button> '
            '<button name="action" value="decline" data-testid="decline">取消</button></form>'
            if state == "WAIT_BUYER_PAY"
            else ""
        )
        error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
        return (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>支付宝（模拟器）</title></head><body>"
            "<h1>支付宝 · 模拟器</h1><p>仅供开发与测试，不会扣款。</p>"
            f"<p>{html.escape(order['subject'])}</p>"
            f'<p class="amount" data-testid="amount">¥{order["total"]:.2f}</p>'
            f'<p data-testid="state">{html.escape(state)}</p>{error}{buttons}'
            "</body></html>"
        )


def serve(port, keys_dir, retry_delays, host="127.0.0.1"):
    keys = Keys()
    server = ThreadingHTTPServer((host, port), Handler)
    url = f"http://{host}:{server.server_address[1]}"
    Handler.gateway = Gateway(keys, url, retry_delays)
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
    parser.add_argument("--port", type=int, default=8802, help="0 picks a free port")
    parser.add_argument("--keys-dir", default="var/simulators/alipay")
    parser.add_argument(
        "--retry-delays",
        default=",".join(str(d) for d in REAL_RETRY_DELAYS),
        help="seconds before each notification try, comma-separated (default: Alipay's)",
    )
    args = parser.parse_args(argv)
    serve(args.port, args.keys_dir, [float(d) for d in args.retry_delays.split(",") if d.strip()])


if __name__ == "__main__":
    main()
