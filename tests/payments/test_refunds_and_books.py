"""Changes after payment (退菜, discounts, dishes added) and the books: automatic refunds newest
first, manual refunds with reasons, and the ledger's invariants."""

from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from orders import services as order_services
from orders.models import OrderLine, Tab
from orders.settlement import build_settlement
from payments import services
from payments.models import AppendOnly, LedgerEntry, Payment, Refund
from restaurant.lib.errors import Code, Refused

from .conftest import approve, ledger_sum, notify, qr_payment

pytestmark = pytest.mark.django_db


def cash(tab, amount, key, user=None):
    version = Tab.objects.get(pk=tab.pk).version
    return services.payment_start(
        tab_id=tab.pk, method="cash", amount=Decimal(amount), version=version, key=key, user=user
    )[0]


def card(tab, amount, key):
    version = Tab.objects.get(pk=tab.pk).version
    return services.payment_start(
        tab_id=tab.pk,
        method="card",
        amount=Decimal(amount),
        version=version,
        key=key,
        terminal_ref="T",
    )[0]


def line(tab, name):
    return OrderLine.objects.get(order__tab=tab, name=name)


def test_a_voided_line_on_a_paid_tab_is_refunded_newest_payment_first(tab, commits, cashier):
    older = card(tab, "40", "a")
    newer = cash(tab, "10", "b")
    with commits():
        order_services.line_void(line_id=line(tab, "拍黄瓜").pk, reason="太咸", user=cashier)
    # 12 back: the newest (cash 10) first, then 2 from the card.
    refunds = {r.payment_id: r.amount for r in Refund.objects.filter(status="succeeded")}
    assert refunds == {newer.pk: Decimal("10.00"), older.pk: Decimal("2.00")}
    assert all(r.automatic for r in Refund.objects.all())
    settlement = build_settlement(tab.pk)
    assert (settlement["total"], settlement["balance_due"], settlement["refunded"]) == (
        "38.00",
        "0.00",
        "12.00",
    )
    # The cash refund is recorded as cash out of the drawer.
    assert ledger_sum(account="cash", kind="refund") == Decimal("-10.00")
    assert ledger_sum(tab_id=tab.pk) == Decimal(settlement["total"])


def test_a_voided_line_on_an_unpaid_tab_refunds_nothing(tab, commits, cashier):
    cash(tab, "20", "a")
    with commits():
        order_services.line_void(line_id=line(tab, "拍黄瓜").pk, reason="太咸", user=cashier)
    assert not Refund.objects.exists()
    assert build_settlement(tab.pk)["balance_due"] == "18.00"


def test_a_qr_payment_is_refunded_at_the_gateway(client, tab, commits, cashier):
    payment = qr_payment(tab)
    with commits():
        notify(client, approve(payment))
        order_services.line_void(line_id=line(tab, "宫保鸡丁").pk, reason="没做", user=cashier)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (Decimal("38.00"), "succeeded")
    from payments.models import SandboxCharge

    assert SandboxCharge.objects.get(out_trade_no=payment.reference).refunded_cents == 3800


def test_a_discount_after_paying_is_refunded(tab, commits, manager):
    cash(tab, "50", "a")
    with commits():
        services.tab_discount(tab_id=tab.pk, amount=Decimal("5"), reason="老顾客", user=manager)
    assert Refund.objects.get().amount == Decimal("5.00")
    assert build_settlement(tab.pk)["balance_due"] == "0.00"


def test_a_dish_added_after_paying_makes_the_tab_owe_again(tab, commits, cashier, menu):
    with commits():
        cash(tab, "50", "a")
    assert Tab.objects.get(pk=tab.pk).status == "settled"
    with commits():
        services.tab_reopen(tab_id=tab.pk, user=cashier)
        order_services.order_submit(
            tab=Tab.objects.get(pk=tab.pk),
            key="dessert",
            lines=[order_services.LineRequest(dish=menu["cucumber"].pk)],
        )
    assert build_settlement(tab.pk)["balance_due"] == "12.00"


def test_a_cashier_refunds_with_a_reason_and_never_more_than_was_paid(tab, commits, cashier):
    payment = card(tab, "50", "a")
    with pytest.raises(Refused) as no_reason:
        services.refund_create(payment_id=payment.pk, amount=Decimal("5"), reason="", user=cashier)
    with pytest.raises(Refused) as too_much:
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("50.01"), reason="x", user=cashier
        )
    assert no_reason.value.code == Code.REASON_REQUIRED and too_much.value.code == Code.OVER_REFUND
    with commits():
        refund = services.refund_create(
            payment_id=payment.pk, amount=Decimal("8"), reason="等太久", user=cashier
        )
    assert Refund.objects.get() == refund
    with pytest.raises(Refused) as too_much:
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("42.01"), reason="x", user=cashier
        )
    assert too_much.value.as_dict()["refundable"] == "42.00"
    assert Payment.objects.get().refunded == Decimal("8.00")


@pytest.mark.django_db(transaction=True)  # real commits: the refund is made before the answer
def test_the_refund_api_needs_a_cashier_and_answers_the_new_settlement(api, tab):
    payment = card(tab, "50", "a")
    body = {"amount": "8", "reason": "等太久", "key": "r1"}
    assert api.post(f"/payments/{payment.pk}/refunds", body).status_code == 401
    answer = api.staff_post(f"/payments/{payment.pk}/refunds", body)
    assert answer.status_code == 201, answer.content
    assert answer.json()["refund"]["status"] == "succeeded"
    assert answer.json()["settlement"]["refunded"] == "8.00"
    assert (
        api.staff_post(f"/payments/{payment.pk}/refunds", body).json()["refund"]["id"]
        == answer.json()["refund"]["id"]
    )
    assert (
        api.staff_post(
            f"/payments/{payment.pk}/refunds", {"amount": "-1", "reason": "x"}
        ).status_code
        == 400
    )
    assert Refund.objects.count() == 1


def test_for_every_tab_payments_minus_refunds_equal_the_settled_total(
    table, other_table, menu, client, commits, cashier
):
    from .conftest import seat

    first, second = seat(table, menu), seat(other_table, menu, key="o")
    with commits():
        card(first, "20", "a")
        cash(first, "100", "b")  # 30 due, 70 change
        notify(client, approve(qr_payment(second, amount="25")))
        cash(second, "25", "c")
        order_services.line_void(line_id=line(first, "拍黄瓜").pk, reason="x", user=cashier)
        services.refund_create(
            payment_id=Payment.objects.filter(tab=second).last().pk, amount=Decimal("5"), reason="x"
        )
    for tab in (first, second):
        settlement = build_settlement(tab.pk)
        paid_in = Decimal(settlement["paid"]) - Decimal(settlement["refunded"])
        assert ledger_sum(tab_id=tab.pk) == paid_in
        if settlement["balance_due"] == "0.00":
            assert paid_in == Decimal(settlement["total"])


def test_the_days_cash_entries_equal_the_drawers_movements(
    tab, other_table, menu, commits, cashier
):
    from .conftest import seat

    other = seat(other_table, menu, key="o")
    with commits():
        cash(tab, "100", "a")  # in 100, out 50 change
        cash(other, "20", "b")
        services.refund_create(
            payment_id=Payment.objects.get(key="b").pk, amount=Decimal("3"), reason="x"
        )
    today = timezone.localdate()
    cash_payments = Payment.objects.filter(
        method="cash", status="succeeded", created_at__date=today
    )
    drawer_in = sum((p.tendered for p in cash_payments), start=Decimal(0))
    drawer_out = (
        sum((p.change for p in cash_payments), start=Decimal(0))
        + (
            Refund.objects.filter(payment__method="cash", status="succeeded").aggregate(
                s=Sum("amount")
            )["s"]
        )
    )
    assert (
        ledger_sum(account="cash", created_at__date=today)
        == drawer_in - drawer_out
        == Decimal("67.00")
    )


def test_no_ledger_entry_is_ever_edited_or_deleted(tab):
    cash(tab, "50", "a")
    entry = LedgerEntry.objects.get()
    entry.amount = Decimal("1")
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(AppendOnly):
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.get().amount == Decimal("50.00")


def test_every_payment_and_refund_change_is_recorded(tab, commits, cashier):
    with commits():
        payment = cash(tab, "50", "a", user=cashier)
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("5"), reason="找错", user=cashier
        )
    moves = [
        (e.from_status, e.to_status, e.refund_id is None, e.user_id) for e in payment.events.all()
    ]
    assert moves == [
        ("", "succeeded", True, cashier.pk),
        ("", "pending", False, cashier.pk),
        ("pending", "succeeded", False, cashier.pk),
    ]
