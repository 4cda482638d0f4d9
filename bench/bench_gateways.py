"""Benchmark of the real gateways' path through their simulators: QR payments per second from
start to notified (WeChat Pay Native and Alipay precreate, 32 clients), and p50/p99 of 付款码 at
the till. It prints figures; it is not a test and asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/bench_gateways.py

On loopback only, bounded, stopping by itself: a database of its own (dropped at the end), the
two simulators (simulators/, delivering notifications over HTTP), one daphne with DEBUG off
configured from the simulators' WECHATPAY_ and ALIPAY_ variables, and no worker (nothing here
needs one). Each QR client, on its own tables, in turn: starts a ¥1 payment (desktop: Native or
precreate), approves it at the simulator as the payer would, and polls the payment until the
gateway's signed notification has made it paid; timed from the start to the paid answer. Then
each 付款码 client takes ¥1 payments with alternating WeChat and Alipay codes, each timed.
"""

import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import bench_payments as bp
from common import OUT, ROOT, SUFFIX, Daphne, free_port, load_demo, log, manage, percentile

bp.DATABASE = "diancan_bench_gw" + SUFFIX
CLIENTS = 32
QR_PER_CLIENT = 4  # per gateway
CODES_PER_CLIENT = 6
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) bench"


def start_simulator(module, folder):
    process = subprocess.Popen(
        [sys.executable, "-m", f"simulators.{module}", "--port", "0", "--keys-dir",
         str(folder / module), "--retry-delays", "0,0.5,1,2,5"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "SIMULATOR_QUIET": "1"},
    )  # fmt: skip
    assert process.stdout is not None
    started = json.loads(process.stdout.readline())
    return process, started["url"], started["env"]


def sim_post(url, body=None, method="POST"):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read()


async def qr_load(port, seated, gateway, sims):
    """Each client: start, approve at the simulator, poll until paid. Times start → paid."""
    latencies, errors = [], [0]
    loop = asyncio.get_running_loop()

    async def client(table):
        http = bp.Http(port)
        try:
            status, answer = await http.request(
                "GET", f"/api/v1/tables/{table['token']}/settlement"
            )
            version = json.loads(answer)["version"]
            for _ in range(QR_PER_CLIENT):
                began = time.perf_counter()
                body = json.dumps({"gateway": gateway, "amount": "1.00", "version": version,
                                   "key": uuid.uuid4().hex}).encode()  # fmt: skip
                status, answer = await http.request(
                    "POST", f"/api/v1/tables/{table['token']}/payments", body,
                    [("User-Agent", DESKTOP)],
                )  # fmt: skip
                if status != 201:
                    errors[0] += 1
                    continue
                payment = json.loads(answer)["payment"]
                reference = payment["receipt_url"].rstrip("/").rsplit("/", 1)[-1]
                sim = sims[gateway]
                if gateway == "alipay":  # the payer scans the code: the trade exists now
                    await loop.run_in_executor(None, sim_post, payment["code_url"], None, "GET")
                await loop.run_in_executor(
                    None, sim_post, f"{sim}/sim/orders/{reference}/decide", {"action": "approve"}
                )
                while True:
                    status, answer = await http.request(
                        "GET", f"/api/v1/tables/{table['token']}/payments/{payment['id']}"
                    )
                    state = json.loads(answer)
                    if state["payment"]["status"] != "pending":
                        break
                    await asyncio.sleep(0.02)
                if state["payment"]["status"] == "succeeded":
                    latencies.append((time.perf_counter() - began) * 1000)
                else:
                    errors[0] += 1
                version = state["settlement"]["version"]
        finally:
            http.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(table) for table in seated))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"rate": len(latencies) / elapsed, "count": len(latencies), "errors": errors[0],
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)}  # fmt: skip


async def code_load(port, seated, token):
    latencies, errors = [], [0]
    auth = [("Authorization", f"Bearer {token}")]

    async def client(number, table):
        http = bp.Http(port)
        try:
            version = await bp.refresh_version(http, table, auth)
            for turn in range(CODES_PER_CLIENT):
                code = f"13{number:04d}{turn:012d}" if turn % 2 else f"28{number:04d}{turn:012d}"
                body = json.dumps({"method": "qr", "auth_code": code, "amount": "1.00",
                                   "version": version, "key": uuid.uuid4().hex}).encode()  # fmt: skip
                began = time.perf_counter()
                status, answer = await http.request(
                    "POST", f"/api/v1/tabs/{table['tab']}/payments", body, auth
                )
                done = time.perf_counter()
                if status == 201 and json.loads(answer)["payment"]["status"] == "succeeded":
                    latencies.append((done - began) * 1000)
                    version = json.loads(answer)["settlement"]["version"]
                else:
                    errors[0] += 1
                    version = await bp.refresh_version(http, table, auth)
        finally:
            http.close()

    await asyncio.gather(*(client(i, table) for i, table in enumerate(seated)))
    latencies.sort()
    return {"count": len(latencies), "errors": errors[0],
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99)}  # fmt: skip


def main():
    port = free_port()
    database_url = bp.create_database()
    folder = tempfile.TemporaryDirectory(prefix="diancan-bench-gw-")
    from pathlib import Path

    children, daphne = [], None
    try:
        sims, env = {}, bp.environment(port, database_url)
        for module in ("wechatpay", "alipay"):
            process, url, variables = start_simulator(module, Path(folder.name))
            children.append(process)
            sims[module] = url
            env.update(variables)
        manage(env, "migrate", "--noinput")
        load_demo(env)
        manage(env, "collectstatic", "--noinput")
        seated, token = bp.seat_tables(env)
        daphne = Daphne(env, port, log_path=OUT / "daphne-gw.log")
        daphne.wait_until_ready()
        load_before = os.getloadavg()
        log(f"/ping with {CLIENTS} clients: the run's yardstick")
        ping_before = asyncio.run(bp.ping_load(port, CLIENTS))
        log(f"QR payments start → notified: {CLIENTS} clients × {QR_PER_CLIENT} per gateway")
        wechat = asyncio.run(qr_load(port, seated[:CLIENTS], "wechatpay", sims))
        alipay = asyncio.run(qr_load(port, seated[CLIENTS : 2 * CLIENTS], "alipay", sims))
        log(f"付款码: {CLIENTS} clients × {CODES_PER_CLIENT}")
        codes = asyncio.run(code_load(port, seated[2 * CLIENTS : 3 * CLIENTS], token))
        ping_after = asyncio.run(bp.ping_load(port, CLIENTS))
        load_after = os.getloadavg()
    finally:
        if daphne:
            daphne.stop()
        for child in children:
            child.terminate()
            child.wait(timeout=10)
        bp.drop_database()
        folder.cleanup()
    import django

    print(f"Diancan gateways benchmark · {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs · Python "
          f"{platform.python_version()} · Django {django.get_version()} · PostgreSQL"
          f" · one daphne, DEBUG off, the two simulators on loopback")  # fmt: skip
    print(f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load_before)};"
          f" after: {', '.join(f'{x:.1f}' for x in load_after)}")  # fmt: skip
    ping = (ping_before + ping_after) / 2
    print(f"/ping with the same {CLIENTS} clients: {ping_before:.1f}/s before, "
          f"{ping_after:.1f}/s after")  # fmt: skip
    for name, result in (("WeChat Pay Native", wechat), ("Alipay precreate", alipay)):
        print(f"{name}, start → approved → notified → paid, {CLIENTS} clients: "
              f"{result['rate']:.1f} payments/s ({result['count']} payments) = "
              f"{result['rate'] / ping:.3f}× /ping, p50 {result['p50']:.0f} ms, "
              f"p99 {result['p99']:.0f} ms, errors {result['errors']}")  # fmt: skip
    print(f"付款码 at the till (WeChat and Alipay alternating), {CLIENTS} clients: "
          f"{codes['count']} payments, p50 {codes['p50']:.0f} ms, p99 {codes['p99']:.0f} ms, "
          f"errors {codes['errors']}")  # fmt: skip


if __name__ == "__main__":
    main()
