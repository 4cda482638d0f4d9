"""The worker: it expires QR payments not completed in time (closed at the gateway first) and
pay-first orders not paid in time, and several copies at once do each of these once."""

import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from menu.models import Dish
from orders import services as order_services
from orders.models import Order, OrderLine, TabEvent, Table
from payments.models import Payment, PaymentEvent, SandboxCharge
from restaurant.management.commands import worker
from restaurant.management.commands.worker import run_jobs
from tests.live import Worker

from .conftest import SECRET, charge_of, qr_payment, seat

PAST = timedelta(seconds=5)


def unpaid_fish_order(table, key="fish"):
    tab = order_services.tab_for_table(table=table)
    fish = Dish.objects.get(name="清蒸鲈鱼")
    order, _ = order_services.order_submit(
        tab=tab, key=key, guests=1, lines=[order_services.LineRequest(dish=fish.pk)]
    )
    assert order.awaiting_payment
    return order


def make_due(*, payments=(), orders=()):
    past = timezone.now() - PAST
    Payment.objects.filter(pk__in=[p.pk for p in payments]).update(expires_at=past)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(expires_at=past)


@pytest.mark.django_db
def test_a_round_of_the_worker_expires_what_is_due_and_nothing_else(
    table, other_table, menu, settings, commits
):
    tab = seat(table, menu)
    due, young = qr_payment(tab, "25.00", key="due"), qr_payment(tab, "25.00", key="young")
    settings.SERVICE_FLOW = "pay_first"
    unpaid, fresh = unpaid_fish_order(other_table, "late"), unpaid_fish_order(other_table, "new")
    assert Dish.objects.get(name="清蒸鲈鱼").stock == 3
    make_due(payments=[due], orders=[unpaid])
    with commits():
        run_jobs()
    assert Payment.objects.get(pk=due.pk).status == "expired"
    assert charge_of(due).status == SandboxCharge.Status.CLOSED
    assert Payment.objects.get(pk=young.pk).status == "pending"
    assert charge_of(young).status == SandboxCharge.Status.OPEN
    assert set(unpaid.lines.values_list("status", flat=True)) == {"voided"}
    assert set(fresh.lines.values_list("status", flat=True)) == {"queued"}
    assert Dish.objects.get(name="清蒸鲈鱼").stock == 4  # the late order's fish is back
    # A second round finds nothing more to do.
    before = list(PaymentEvent.objects.values_list("pk", flat=True))
    run_jobs()
    assert list(PaymentEvent.objects.values_list("pk", flat=True)) == before


@pytest.mark.django_db
def test_a_job_that_fails_is_logged_and_the_others_still_run(table, menu, monkeypatch, caplog):
    tab = seat(table, menu)
    payment = qr_payment(tab)
    make_due(payments=[payment])

    def broken():
        raise RuntimeError("the printer is on fire")

    monkeypatch.setattr(worker, "JOBS", [("print", broken), *worker.JOBS])
    run_jobs()
    assert "worker: print failed" in caplog.text and "the printer is on fire" in caplog.text
    assert Payment.objects.get(pk=payment.pk).status == "expired"


@pytest.mark.django_db
def test_a_payment_the_gateway_says_is_paid_is_left_for_its_notification(table, menu):
    tab = seat(table, menu)
    payment = qr_payment(tab)
    charge = charge_of(payment)
    SandboxCharge.objects.filter(pk=charge.pk).update(status=SandboxCharge.Status.PAID)
    make_due(payments=[payment])
    run_jobs()
    assert Payment.objects.get(pk=payment.pk).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_expire_each_payment_and_order_once(
    needs_postgres, table, menu, settings, tmp_path
):
    """Two worker processes on PostgreSQL sweep the same due rows at the same moment: each
    payment is closed at the gateway once and expired once, each order's dishes voided once."""
    settings.MAX_PENDING_PAYMENTS = 40  # forty payments under way: the sweep's load, not a limit
    tab = seat(table, menu)
    payments = [qr_payment(tab, amount="1.00", key=f"phone-{i}") for i in range(40)]
    settings.SERVICE_FLOW = "pay_first"
    Dish.objects.filter(name="清蒸鲈鱼").update(stock=None)
    tables = [Table.objects.create(code=f"B{i}", area="大厅", seats=2) for i in range(4)]
    orders = [unpaid_fish_order(t, key=f"o{i}") for t in tables for i in range(3)]
    env = {
        "SANDBOX_GATEWAY": "true",
        "SANDBOX_GATEWAY_SECRET": SECRET,
        "SANDBOX_DELIVERY": "off",
    }
    workers = [Worker("--every", "0.2", log_dir=tmp_path, env=env) for _ in range(2)]
    try:
        for worker in workers:
            worker.wait_for("worker: started")
        make_due(payments=payments, orders=orders)  # both are sweeping: now it is all due
        deadline = time.monotonic() + 60
        while Payment.objects.filter(status="pending").exists() or (
            OrderLine.objects.filter(order__in=orders).exclude(status="voided").exists()
        ):
            assert time.monotonic() < deadline, [w.output()[-2000:] for w in workers]
            time.sleep(0.2)
        time.sleep(1)  # a few more rounds: nothing more may happen
    finally:
        codes = [worker.stop() for worker in workers]
    logs = [worker.output() for worker in workers]
    assert codes == [0, 0], logs
    assert all("worker: stopped" in log for log in logs)
    closes = Counter(re.findall(r"payments: closing (\w+) at sandbox", "".join(logs)))
    assert closes == Counter({p.reference: 1 for p in payments})
    expiries = Counter(
        PaymentEvent.objects.filter(to_status="expired").values_list("payment_id", flat=True)
    )
    assert expiries == Counter({p.pk: 1 for p in payments})
    assert set(SandboxCharge.objects.values_list("status", flat=True)) == {"closed"}
    voids = Counter(TabEvent.objects.filter(kind="line.voided").values_list("line_id", flat=True))
    assert voids == Counter(
        {line: 1 for o in orders for line in o.lines.values_list("pk", flat=True)}
    )
    split = [len(re.findall(r"payments: closing", log)) for log in logs]
    print(f"payments closed by each worker: {split}")
