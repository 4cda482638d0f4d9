"""A hand-made business day for the reports and reconciliation tests: Tuesday 1 December 2026
(04:00 to 04:00 in Shanghai), three bills, a late supper paid after midnight, a void, discounts,
a refund; one bill just before the day and one just after, which must not count. Each paid bill
has its business day as the books record it when it is settled (`TabDay`).

| bill | table (area) | opened–closed | guests | dishes | paid |
|---|---|---|---|---|---|
| 0 | A2 大厅 | 11-30 20:00 → 12-01 03:50 order | 2 | 宫保鸡丁 38 | cash 38 at 03:55 (day before) |
| 1 | A1 大厅 | 12:00–13:00 | 2 | 拍黄瓜 12, 宫保鸡丁 ×2 76 − 6 | cash 82 at 12:55 |
| 2 | A2 大厅 | 18:30–20:00 | 4 | 鲈鱼 88 (voided), 宫保鸡丁 38, 拍黄瓜 ×2 24; bill −10 | WeChat 52 at 19:55 |
| 3 | V1 包间 | 23:30–02:00 | 6 | 鲈鱼 ×2 176 | card 176 at 01:30; 20 back at 01:45 |
| 4 | A1 大厅 | 12-02 04:10 | 1 | 拍黄瓜 12 | cash 12 at 04:30 (day after) |
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from orders.models import Order, OrderLine, Tab, TabEvent, Table
from payments.books.models import TabDay
from payments.models import Payment, Refund

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)


def at(day, hour, minute=0, month=12):
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def _bill(table, opened, guests, closed=None, day=None):
    """A bill; `day`: the business day it was settled on (as the books record it)."""
    tab = Tab.objects.create(
        table=table,
        opened_at=opened,
        guests=guests,
        closed_at=closed,
        status=Tab.Status.CLOSED if closed else Tab.Status.OPEN,
    )
    if day:
        TabDay.objects.create(tab=tab, day=day)
    return tab


def _order(tab, when, user=None, number=1):
    return Order.objects.create(tab=tab, number=number, key=f"k{tab.pk}-{number}", user=user,
                                created_at=when)  # fmt: skip


def _line(order, dish, quantity, discount="0", status=OrderLine.Status.SERVED, at=None):
    gross = dish.price * quantity
    return OrderLine.objects.create(
        order=order, dish=dish, name=dish.name, quantity=quantity, unit_price=dish.price,
        discount=Decimal(discount), amount=gross - Decimal(discount), status=status,
        status_at=at or order.created_at,
    )  # fmt: skip


def _paid(tab, method, provider, amount, when, reference=None):
    return Payment.objects.create(
        tab=tab, method=method, provider=provider, status=Payment.Status.SUCCEEDED,
        amount=Decimal(amount), version=1, key=f"p{tab.pk}-{method}-{amount}", created_at=when,
        completed_at=when, **({"reference": reference} if reference else {}),
    )  # fmt: skip


def make_day(menu, cashier, manager):
    fish, chicken, cucumber = menu["fish"], menu["chicken"], menu["cucumber"]
    a1 = Table.objects.create(code="A1", area="大厅", seats=4)
    a2 = Table.objects.create(code="A2", area="大厅", seats=4)
    v1 = Table.objects.create(code="V1", name="牡丹厅", area="包间", seats=10)

    bill0 = _bill(a2, at(30, 20, month=11), 2, closed=at(1, 3, 58), day=date(2026, 11, 30))
    _line(_order(bill0, at(1, 3, 50)), chicken, 1)
    _paid(bill0, "cash", "cash", "38", at(1, 3, 55))

    bill1 = _bill(a1, at(1, 12), 2, closed=at(1, 13), day=DAY)
    order1 = _order(bill1, at(1, 12, 5), user=cashier)
    _line(order1, cucumber, 1)
    chicken1 = _line(order1, chicken, 2, discount="6")
    TabEvent.objects.create(tab=bill1, line=chicken1, kind="line.status", to_status="ready",
                            created_at=at(1, 12, 25))  # fmt: skip
    _paid(bill1, "cash", "cash", "82", at(1, 12, 55))

    bill2 = _bill(a2, at(1, 18, 30), 4, closed=at(1, 20), day=DAY)
    Tab.objects.filter(pk=bill2.pk).update(discount=Decimal(10), discount_reason="老客")
    order2 = _order(bill2, at(1, 18, 35))
    fish2 = _line(order2, fish, 1, status=OrderLine.Status.VOIDED, at=at(1, 18, 50))
    chicken2 = _line(order2, chicken, 1)
    _line(order2, cucumber, 2)
    TabEvent.objects.create(tab=bill2, line=fish2, kind="line.voided", user=manager,
                            to_status="voided", reason="沽清", created_at=at(1, 18, 50))  # fmt: skip
    TabEvent.objects.create(tab=bill2, line=chicken2, kind="line.status", to_status="ready",
                            created_at=at(1, 18, 45))  # fmt: skip
    TabEvent.objects.create(tab=bill2, kind="tab.discount", user=cashier, reason="10.00 老客",
                            created_at=at(1, 19))  # fmt: skip
    Payment.objects.create(
        tab=bill2, method="qr", provider="wechatpay", status=Payment.Status.FAILED,
        amount=Decimal(52), version=1, key="failed", created_at=at(1, 19, 50),
        completed_at=at(1, 19, 51),
    )  # fmt: skip
    _paid(bill2, "qr", "wechatpay", "52", at(1, 19, 55), reference="dcbill2wechat")

    bill3 = _bill(v1, at(1, 23, 30), 6, closed=at(2, 2), day=DAY)  # settled at 01:30
    _line(_order(bill3, at(1, 23, 40), user=cashier), fish, 2)
    card = _paid(bill3, "card", "card", "176", at(2, 1, 30))
    Refund.objects.create(
        payment=card, amount=Decimal(20), status=Refund.Status.SUCCEEDED, reason="菜凉了",
        user=cashier, created_at=at(2, 1, 45), completed_at=at(2, 1, 45),
    )  # fmt: skip
    Payment.objects.filter(pk=card.pk).update(refunded=Decimal(20))

    bill4 = _bill(a1, at(2, 4, 10), 1, day=date(2026, 12, 2))  # paid, still at the table
    _line(_order(bill4, at(2, 4, 15)), cucumber, 1)
    _paid(bill4, "cash", "cash", "12", at(2, 4, 30))
    return {"bills": [bill0, bill1, bill2, bill3, bill4], "tables": [a1, a2, v1]}
