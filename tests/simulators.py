"""The gateway simulators (simulators/), started as real processes on free loopback ports."""

import json
import subprocess
import sys
import urllib.error
import urllib.request

from tests.live import ROOT, end

DEFAULT_CONTROLS = {
    "delivery": "off",
    "retry_delays": [0, 0.2, 0.5, 1],
    "notify_times": 1,
    "notify_wrong_key": False,
    "latency": 0.0,
    "unreachable": False,
    "refund_refuse": None,
    "refund_settle_delay": 0.05,
    "close_ignored": False,
    "code_answer": "success",
}
WECHATPAY_CONTROLS = {**DEFAULT_CONTROLS, "sign_with": "public_key", "userpaying_shape": "202"}


class Simulator:
    """`python -m simulators.<module>` in a process of its own; its keys in `keys_dir`."""

    module = ""
    defaults = DEFAULT_CONTROLS

    def __init__(self, keys_dir):
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"simulators.{self.module}", "--port", "0",
             "--keys-dir", str(keys_dir), "--retry-delays", "0,0.2,0.5,1"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={"SIMULATOR_QUIET": "1", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        first = self.process.stdout.readline()
        if not first:
            end(self.process)
            raise RuntimeError(f"the {self.module} simulator did not start")
        started = json.loads(first)
        self.url, self.env = started["url"], started["env"]

    def call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method="GET" if body is None else "POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def controls(self, **changes):
        return self.call("/sim/controls", {**changes})[1]

    def reset(self):
        """Every control back to the simulator's start, then the tests' defaults."""
        self.call("/sim/reset", {})
        self.controls(**self.defaults)

    def decide(self, out_trade_no, action="approve"):
        return self.call(f"/sim/orders/{out_trade_no}/decide", {"action": action})

    def order(self, out_trade_no):
        return self.call(f"/sim/orders/{out_trade_no}")[1]

    def deliveries(self):
        return self.call("/sim/deliveries")[1]

    def stop(self):
        end(self.process)
        self.process.stdout.close()


class WeChatPaySim(Simulator):
    module = "wechatpay"
    defaults = WECHATPAY_CONTROLS

    def rotate_certificate(self):
        """A new platform certificate, published and signing from now: its serial."""
        return self.call("/sim/rotate-certificate", {})[1]["serial"]

    def certificate_serials(self):
        return self.call("/sim/certificates")[1]["serials"]

    def refund(self, out_refund_no):
        return self.call(f"/sim/refunds/{out_refund_no}")[1]

    def notification(self, key, kind="transaction", **overrides):
        """The signed notification the gateway would send now: (headers, body bytes)."""
        status, answer = self.call(
            "/sim/notification", {"kind": kind, "key": key, "overrides": overrides}
        )
        assert status == 200, answer
        return answer["headers"], answer["body"].encode()


ALIPAY_CONTROLS = {
    "delivery": "off",
    "retry_delays": [0, 0.2, 0.5, 1],
    "notify_times": 1,
    "notify_wrong_key": False,
    "latency": 0.0,
    "unreachable": False,
    "refund_refuse": None,
    "close_ignored": False,
    "code_answer": "success",
}


class AlipaySim(Simulator):
    module = "alipay"
    defaults = ALIPAY_CONTROLS

    def refund(self, out_trade_no, out_request_no):
        return self.call(f"/sim/refunds/{out_trade_no}/{out_request_no}")[1]

    def notification(self, key, **overrides):
        """The signed form fields Alipay would POST now."""
        status, answer = self.call("/sim/notification", {"key": key, "overrides": overrides})
        assert status == 200, answer
        return answer["fields"]
