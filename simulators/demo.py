"""`make run`'s demo gateways: both simulators on loopback, then `manage.py serve` with the
WECHATPAY_ and ALIPAY_ variables they wrote, so that a new user sees WeChat Pay and Alipay on
the pay page and approves on the simulators' pages. Everything stops together.

    python -m simulators.demo --bind 127.0.0.1 --port 8000

Development only: it refuses to run unless DEBUG is on, and nothing in the product starts it.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIMULATORS = (("wechatpay", 8801), ("alipay", 8802))
# The demo's notifications arrive at once and are retried quickly (not the real schedule).
DEMO_RETRY_DELAYS = "0,2,5,15,30"


def start(module, port, keys_dir):
    process = subprocess.Popen(
        [sys.executable, "-m", f"simulators.{module}", "--port", str(port),
         "--keys-dir", str(keys_dir), "--retry-delays", DEMO_RETRY_DELAYS],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None  # stdout=PIPE
    first = process.stdout.readline()
    if not first:
        raise SystemExit(f"demo: the {module} simulator did not start (is port {port} taken?)")
    started = json.loads(first)
    print(f"demo: {module} simulator at {started['url']} (keys in {keys_dir})", flush=True)
    return process, started["env"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if os.environ.get("DEBUG", "").lower() not in ("1", "true", "yes", "on"):
        raise SystemExit(
            "demo: the gateway simulators run only with DEBUG=true (never in production)"
        )
    children, env = [], dict(os.environ)
    try:
        for module, port in SIMULATORS:
            if env.get({"wechatpay": "WECHATPAY_MCHID", "alipay": "ALIPAY_APPID"}[module]):
                print(f"demo: {module} is configured in the environment: no simulator for it")
                continue
            process, variables = start(module, port, ROOT / "var" / "simulators" / module)
            children.append(process)
            env.update(variables)
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--bind", args.bind, "--port", str(args.port)],
            cwd=ROOT,
            env=env,
        )
        children.append(serve)
        signal.signal(signal.SIGTERM, lambda *_: serve.terminate())
        try:
            serve.wait()
        except KeyboardInterrupt:
            serve.wait()
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
                child.wait(timeout=10)


if __name__ == "__main__":
    main()
