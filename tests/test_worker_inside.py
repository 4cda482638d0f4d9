"""The embedded default (no REDIS_URL, in-memory channel layer): `manage.py serve` runs the
worker inside its one daphne process, so what the worker does (a payment expiring) reaches the
open sockets, which a worker in a process of its own could not reach."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Payment
from tests import live
from tests.payments.conftest import qr_payment, sandbox_gateway, seat  # noqa: F401 (autouse)

pytestmark = pytest.mark.django_db(transaction=True)


def children_of(pid):
    listing = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [line.split(None, 1)[1] for line in listing.splitlines() if line.strip()]


def socket(port, path):
    from websockets.sync.client import connect

    url = f"http://127.0.0.1:{port}"
    return connect(
        url.replace("http", "ws") + path, additional_headers={"Origin": url}, open_timeout=10
    )


def receive_until(ws, needle, timeout):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            message = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(message)
        if needle in message:
            return message
    raise AssertionError(f"no message with {needle!r} within {timeout} s: {seen[-3:]}")


@pytest.fixture
def serve(tmp_path):
    """`manage.py serve` on the test database with no Redis: the embedded default."""
    port = live.free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DEBUG="true",
        DATABASE_URL=live.test_database_url(),
        DB_POOL_SIZE="4",
        WORKER_EVERY_MS="200",
        LOG_LEVEL="INFO",
        SANDBOX_DELIVERY="off",
    )
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=live.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while "worker: started" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            live.end(process)
            raise AssertionError(f"serve did not start its worker: {log.read_text()[-3000:]}")
        time.sleep(0.2)
    yield process, port, log
    live.end(process)


def test_an_expiry_by_the_worker_reaches_an_open_pay_page_in_embedded_mode(serve, table, menu):
    process, port, log = serve
    assert "started inside daphne" in log.read_text()
    running = children_of(process.pid)
    assert len(running) == 1 and "-m daphne" in running[0], running  # no worker process
    payment = qr_payment(seat(table, menu))  # due in PAYMENT_EXPIRY_MINUTES
    with socket(port, f"/ws/t/{table.token}/pay/?lang=en") as phone:
        first = receive_until(phone, f'id="payment-{payment.pk}"', 10)
        assert "status-pending" in first  # not yet due: the page shows it waiting
        # Now it falls due: only the worker's expiry, pushed, can tell the open page.
        Payment.objects.filter(pk=payment.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        pushed = receive_until(phone, "status-expired", 15)
    assert f'id="payment-{payment.pk}" class="payment-box status-expired"' in pushed
    # The worker wrote it (a read would only have shown it so).
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.EXPIRED
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
