"""One writer per state machine: each model with a status moves only through its transition(),
which checks the move against the model's table and records who, when and why."""

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from orders import services as order_services
from orders.models import OrderLine, Tab, TabEvent
from payments.models import Payment, PaymentEvent, Refund
from restaurant.lib.errors import Code, Refused

ROOT = Path(settings.BASE_DIR)
APPS = ("menu", "orders", "payments", "printing", "restaurant", "demo")
# Where a status may be written other than by transition(): creating a row, the sandbox
# gateway's own records (it stands in for another company's system), Payment.as_read, which
# shows an overdue payment as expired in memory and is never saved, and two HTTP statuses.
ALLOWED = {
    ("payments/models.py", "as_read"),
    # A print job's one writer: a compare-and-set from queued, as several workers send at once.
    ("printing/models.py", "move"),
    ("payments/providers/sandbox.py", None),
    ("payments/providers/base.py", "__init__"),  # NotifyRefused's HTTP status
    ("restaurant/lib/errors.py", "__new__"),  # each Code's HTTP status
}


def status_writes(path):
    """(function, line) of each `x.status = …` and `.update(status=…)` in the file."""
    writes = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for function in [None, *ast.walk(tree)]:
        if function is not None and not isinstance(function, ast.FunctionDef):
            continue
        body = tree if function is None else function
        for node in ast.walk(body):
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for element in ast.walk(target):
                        if isinstance(element, ast.Attribute) and element.attr == "status":
                            writes.append((function.name if function else None, node.lineno))
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and any(keyword.arg == "status" for keyword in node.keywords)
            ):
                writes.append((function.name if function else None, node.lineno))
    # A write inside a function is also seen from the module: keep the innermost name.
    innermost = {}
    for name, line in writes:
        if name is not None or line not in innermost:
            innermost[line] = name
    return sorted((name, line) for line, name in innermost.items())


def test_only_transition_writes_a_status():
    outside = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            where = str(path.relative_to(ROOT))
            for function, line in status_writes(path):
                if function == "transition" or (where, function) in ALLOWED:
                    continue
                if (where, None) in ALLOWED:
                    continue
                outside.append(f"{where}:{line} in {function}()")
    assert outside == []


# A template comparing a status with a string literal repeats a rule the model should answer
# (`line.can_urge`, `payment.is_pending`, `line|is_voided` for a settlement's line). The sandbox
# gateway's page shows the other company's charge, not one of our state machines.
STATUS_LITERAL = re.compile(r"""\bstatus\s*(==|!=|in)\s*["']""")
TEMPLATES_ALLOWED = {"payments/sandbox.html"}


def test_no_template_repeats_a_status_string():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        name = str(path.relative_to(ROOT / "templates"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if STATUS_LITERAL.search(line) and name not in TEMPLATES_ALLOWED:
                found.append(f"{name}:{number}")
    assert found == []


def test_a_print_job_moves_once_from_queued(db):
    from printing.models import PrintJob

    with pytest.raises(ValueError):
        PrintJob.move(1, PrintJob.Status.QUEUED)
    assert PrintJob.move(10**9, PrintJob.Status.SENT) is False


def test_the_scan_sees_a_status_written_outside_transition(tmp_path):
    path = tmp_path / "sneaky.py"
    path.write_text(
        "def reopen(tab):\n    tab.status = 'open'\n"
        "def close(tabs):\n    tabs.update(status='closed')\n"
        "class Tab:\n    def transition(self, to):\n        self.status = to\n"
    )
    assert status_writes(path) == [("close", 4), ("reopen", 2), ("transition", 7)]


def test_a_tab_moves_only_along_its_table_and_records_each_move(db, table, cashier):
    tab = Tab.objects.create(table=table)
    assert tab.transition(Tab.Status.SETTLED, user=cashier, reason="paid") == Tab.Status.OPEN
    with pytest.raises(Refused) as refused:
        tab.transition(Tab.Status.SETTLING)
    assert refused.value.code == Code.ILLEGAL_TRANSITION
    tab.transition(Tab.Status.CLOSED)
    tab.refresh_from_db()
    assert tab.status == Tab.Status.CLOSED and tab.closed_at is not None
    moves = TabEvent.objects.filter(tab=tab, kind="tab.status").values_list(
        "from_status", "to_status", "reason"
    )
    assert list(moves) == [("open", "settled", "paid"), ("settled", "closed", "")]


def test_a_settled_tab_reopens_through_its_transition(db, table, cashier):
    tab = Tab.objects.create(table=table, status=Tab.Status.SETTLED)
    assert tab.can_reopen
    order_services.tab_set_status(tab_id=tab.pk, status=Tab.Status.OPEN, user=cashier)
    event = TabEvent.objects.get(tab=tab)
    assert (event.from_status, event.to_status, event.user) == ("settled", "open", cashier)


def test_a_line_move_is_compare_and_set_and_the_model_answers_the_templates(table, menu):
    tab = order_services.tab_for_table(table=table)
    order, _created = order_services.order_submit(
        tab=tab, key="k", lines=[order_services.LineRequest(dish=menu["cucumber"].pk)], guests=2
    )
    line = OrderLine.objects.select_related("order").get(order=order)
    stale = OrderLine.objects.select_related("order").get(pk=line.pk)
    assert line.can_urge and line.next_status == OrderLine.Status.COOKING
    line.transition(OrderLine.Status.COOKING)
    with pytest.raises(Refused) as lost:
        stale.transition(OrderLine.Status.VOIDED)  # still thinks it is queued
    assert lost.value.code == Code.LINE_MOVED
    line.transition(OrderLine.Status.READY)
    assert line.is_ready and not line.can_urge and line.next_status == OrderLine.Status.SERVED
    assert OrderLine.objects.get(pk=line.pk).status == OrderLine.Status.READY
    assert TabEvent.objects.filter(line=line).count() == 2


def test_payments_and_refunds_move_only_along_their_tables(table, cashier):
    tab = Tab.objects.create(table=table)
    payment = Payment.objects.create(
        tab=tab, method="card", provider="card", amount=Decimal("10"), version=1, key="k"
    )
    payment.transition(Payment.Status.SUCCEEDED, user=cashier, reason="paid", terminal_ref="T1")
    payment.refresh_from_db()
    assert payment.is_paid and payment.terminal_ref == "T1"
    with pytest.raises(Refused):
        payment.transition(Payment.Status.FAILED)
    refund = Refund.objects.create(payment=payment, amount=Decimal("3"), reason="x")
    refund.transition(Refund.Status.FAILED, reason="declined", failure="declined")
    with pytest.raises(Refused):
        refund.transition(Refund.Status.SUCCEEDED)
    events = PaymentEvent.objects.filter(payment=payment).values_list(
        "refund", "from_status", "to_status"
    )
    assert list(events) == [(None, "pending", "succeeded"), (refund.pk, "pending", "failed")]
