"""The price rules of a bill (issue 9, "Prices and discounts"): member prices, coupons and points
put on the bill by the payment side, table charges, in the one order written in
orders/settlement.py, each a line of the settlement; figures computed by hand."""

from decimal import Decimal

import pytest

from orders import services
from orders.models import Area, Tab, TabAdjustment, TabEvent, Table
from orders.settlement import build_settlement, diner_share
from restaurant.lib.errors import Code, Refused

pytestmark = pytest.mark.django_db

THRESHOLD = {"type": "threshold", "off": "20.00", "minimum": "100.00"}


def order(tab, menu, *lines, key="k1", guests=2):
    """Lines as (dish name, quantity, options)."""
    requests = [
        services.LineRequest(dish=menu[name].pk, quantity=quantity, options=options)
        for name, quantity, options in lines
    ]
    services.order_submit(tab=tab, key=key, guests=guests, lines=requests)
    tab.refresh_from_db()
    return build_settlement(tab.pk)


@pytest.fixture
def tab(table):
    return services.tab_for_table(table=table)


def kinds(settlement):
    return [(row["kind"], row["amount"], row["applied"]) for row in settlement["adjustments"]]


def figures(settlement, *names):
    return tuple(settlement[name] for name in names)


# Members -----------------------------------------------------------------------------------------


def test_the_member_price_is_snapshotted_and_applies_only_while_a_member_is_on_the_bill(tab, menu):
    menu["chicken"].member_price = Decimal("30.00")
    menu["chicken"].save()
    # 宫保鸡丁 微辣 + 加花生: 38 + 3 = 41, member 30 + 3 = 33; ×2: 82, member 66
    bill = order(tab, menu, ("chicken", 2, [menu["mild"].pk, menu["peanuts"].pk]))
    assert bill["lines"][0]["member_price"] == "33.00"
    assert bill["total"] == "82.00"
    menu["chicken"].member_price = Decimal("10.00")  # a later menu edit changes no order
    menu["chicken"].save()
    version = Tab.objects.get(pk=tab.pk).version

    services.tab_member_set(tab_id=tab.pk, member_ref="m-1", label="金卡 王", discount_rate=None)
    bill = build_settlement(tab.pk)
    assert bill["version"] == version + 1
    assert bill["member"] == {"ref": "m-1", "label": "金卡 王", "discount_rate": None}
    assert bill["lines"][0]["member_discount"] == "16.00"
    assert bill["lines"][0]["amount"] == "82.00"  # as before: the member's saving is apart
    assert kinds(bill) == [("member_price", "-16.00", True)]
    assert figures(bill, "subtotal", "discount_total", "total") == ("82.00", "16.00", "66.00")
    assert TabEvent.objects.filter(tab=tab, kind="tab.member").count() == 1

    services.tab_member_clear(tab_id=tab.pk)
    bill = build_settlement(tab.pk)
    assert bill["member"] is None and bill["adjustments"] == []
    assert bill["total"] == "82.00"
    assert bill["version"] == version + 2


def test_the_lower_of_member_price_and_level_rate_applies_never_both(tab, menu):
    menu["chicken"].member_price = Decimal("35.00")
    menu["chicken"].save()
    # 拍黄瓜 12 (no member price), 宫保鸡丁 38 (member price 35)
    order(tab, menu, ("cucumber", 1, []), ("chicken", 1, [menu["mild"].pk]))
    services.tab_member_set(
        tab_id=tab.pk, member_ref="m-1", label="银卡", discount_rate=Decimal("0.95")
    )
    bill = build_settlement(tab.pk)
    # cucumber: 12 × 0.95 = 11.40 (saves 0.60); chicken: min(35, 36.10) = 35 (saves 3), not 33.25
    assert [line["member_discount"] for line in bill["lines"]] == ["0.60", "3.00"]
    assert bill["total"] == "46.40"

    services.tab_member_set(
        tab_id=tab.pk, member_ref="m-2", label="金卡", discount_rate=Decimal("0.88")
    )
    bill = build_settlement(tab.pk)
    # cucumber 10.56 (1.44 off); chicken min(35, 33.44) = 33.44 (4.56 off)
    assert [line["member_discount"] for line in bill["lines"]] == ["1.44", "4.56"]
    assert bill["total"] == "44.00"
    assert bill["member"]["ref"] == "m-2"


@pytest.mark.parametrize(
    "ref, label, rate",
    [
        ("", "x", None),
        ("x" * 65, "x", None),
        ("m", "x" * 61, None),
        ("m", "x", Decimal("0")),
        ("m", "x", Decimal("1.1")),
        ("m", "x", Decimal("0.8888")),
        ("m", "x", 0.9),
        (7, "x", None),
    ],
)
def test_a_bad_member_is_refused_and_changes_nothing(tab, menu, ref, label, rate):
    order(tab, menu, ("cucumber", 1, []))
    version = Tab.objects.get(pk=tab.pk).version
    with pytest.raises(Refused) as refused:
        services.tab_member_set(tab_id=tab.pk, member_ref=ref, label=label, discount_rate=rate)
    assert refused.value.code == Code.BAD_MEMBER
    tab.refresh_from_db()
    assert (tab.member_ref, tab.version) == ("", version)


def test_a_member_on_a_closed_or_unknown_bill_is_refused(tab, menu):
    with pytest.raises(Refused) as refused:
        services.tab_member_set(tab_id=10**9, member_ref="m", label="", discount_rate=None)
    assert refused.value.code == Code.UNKNOWN_TAB
    services.tab_close(tab_id=tab.pk)
    with pytest.raises(Refused) as refused:
        services.tab_member_set(tab_id=tab.pk, member_ref="m", label="", discount_rate=None)
    assert refused.value.code == Code.TAB_CLOSED


def test_setting_the_same_member_twice_changes_the_bill_once(tab, menu):
    order(tab, menu, ("cucumber", 1, []))
    for _ in range(2):
        services.tab_member_set(
            tab_id=tab.pk, member_ref="m", label="王", discount_rate=Decimal("0.9")
        )
    assert TabEvent.objects.filter(tab=tab, kind="tab.member").count() == 1


def test_member_changes_are_broadcast_after_commit(tab, menu, django_capture_on_commit_callbacks):
    order(tab, menu, ("cucumber", 1, []))
    with django_capture_on_commit_callbacks() as callbacks:
        services.tab_member_set(tab_id=tab.pk, member_ref="m", label="王", discount_rate=None)
    assert callbacks  # the push and tab_total_changed wait for the commit


# Coupons -----------------------------------------------------------------------------------------


def test_a_threshold_coupon_applies_from_its_minimum_and_drops_with_its_reason_below_it(tab, menu):
    # 清蒸鲈鱼 88 + 拍黄瓜 12 = 100
    order(tab, menu, ("fish", 1, []), ("cucumber", 1, []))
    services.tab_adjustment_add(
        tab_id=tab.pk, kind="coupon", reason="满100减20", ref="c-1", rule=THRESHOLD
    )
    bill = build_settlement(tab.pk)
    assert kinds(bill) == [("coupon", "-20.00", True)]
    assert figures(bill, "subtotal", "discount_total", "total") == ("100.00", "20.00", "80.00")

    cucumber = next(line for line in bill["lines"] if line["name"] == "拍黄瓜")
    services.line_void(line_id=int(cucumber["line"]), reason="上错")
    bill = build_settlement(tab.pk)
    row = bill["adjustments"][0]
    assert (row["applied"], row["why"], row["amount"]) == (False, "minimum", "0.00")
    assert bill["total"] == "88.00"

    order(tab, menu, ("cucumber", 1, []), key="k2")  # 加菜 brings it back
    assert build_settlement(tab.pk)["total"] == "80.00"


def test_a_coupon_below_its_minimum_is_refused_when_redeemed_and_changes_nothing(tab, menu):
    order(tab, menu, ("cucumber", 1, []))
    version = Tab.objects.get(pk=tab.pk).version
    with pytest.raises(Refused) as refused:
        services.tab_adjustment_add(
            tab_id=tab.pk, kind="coupon", reason="满100减20", ref="c-1", rule=THRESHOLD
        )
    assert refused.value.code == Code.NOT_APPLICABLE
    assert "¥100" in refused.value.message
    assert not TabAdjustment.objects.exists()
    assert Tab.objects.get(pk=tab.pk).version == version


def test_percent_coupon_with_a_cap_on_a_category(tab, menu):
    # 热菜: 鲈鱼 88 + 宫保鸡丁 38 = 126; 拍黄瓜 12 is 凉菜
    order(tab, menu, ("fish", 1, []), ("chicken", 1, [menu["mild"].pk]), ("cucumber", 1, []))
    hot = menu["fish"].category_id
    rule = {"type": "percent", "rate": "0.88", "cap": "10.00", "categories": [hot]}
    services.tab_adjustment_add(tab_id=tab.pk, kind="coupon", reason="热菜88折", ref="p", rule=rule)
    # 126 × 0.12 = 15.12, capped at 10
    assert build_settlement(tab.pk)["total"] == "128.00"
    services.tab_adjustment_remove(tab_id=tab.pk, kind="coupon", ref="p")
    rule["cap"] = None
    services.tab_adjustment_add(tab_id=tab.pk, kind="coupon", reason="热菜88折", ref="p", rule=rule)
    # 138 − 15.12 = 122.88
    assert build_settlement(tab.pk)["total"] == "122.88"


def test_a_free_dish_coupon_takes_one_portion_off(tab, menu):
    order(tab, menu, ("cucumber", 3, []), ("chicken", 1, [menu["mild"].pk]))
    rule = {"type": "free_dish", "dishes": [menu["cucumber"].pk]}
    services.tab_adjustment_add(tab_id=tab.pk, kind="coupon", reason="赠拍黄瓜", ref="f", rule=rule)
    bill = build_settlement(tab.pk)
    assert kinds(bill) == [("coupon", "-12.00", True)]
    assert bill["total"] == "62.00"  # 36 + 38 − 12


@pytest.mark.parametrize("first, second", [(False, False), (False, True), (True, False)])
def test_coupons_that_do_not_combine_are_refused_together(tab, menu, first, second):
    order(tab, menu, ("fish", 2, []))
    services.tab_adjustment_add(
        tab_id=tab.pk,
        kind="coupon",
        reason="代金券10",
        ref="v",
        rule={"type": "voucher", "off": "10", "combinable": first},
    )
    with pytest.raises(Refused) as refused:
        services.tab_adjustment_add(
            tab_id=tab.pk,
            kind="coupon",
            reason="满100减20",
            ref="c",
            rule={**THRESHOLD, "combinable": second},
        )
    assert refused.value.code == Code.NOT_COMBINABLE
    assert TabAdjustment.objects.count() == 1
    assert build_settlement(tab.pk)["total"] == "166.00"


def test_combinable_coupons_apply_in_the_order_redeemed(tab, menu):
    order(tab, menu, ("fish", 1, []), ("cucumber", 1, []))  # 100
    services.tab_adjustment_add(
        tab_id=tab.pk,
        kind="coupon",
        reason="代金券10",
        ref="v",
        rule={"type": "voucher", "off": "10.00", "combinable": True},
    )
    # Now 90 are left: a 满100 coupon no longer reaches its minimum.
    with pytest.raises(Refused) as refused:
        services.tab_adjustment_add(
            tab_id=tab.pk,
            kind="coupon",
            reason="满100减20",
            ref="c",
            rule={**THRESHOLD, "combinable": True},
        )
    assert refused.value.code == Code.NOT_APPLICABLE
    services.tab_adjustment_add(
        tab_id=tab.pk,
        kind="coupon",
        reason="满80减15",
        ref="c2",
        rule={"type": "threshold", "off": "15", "minimum": "80", "combinable": True},
    )
    assert build_settlement(tab.pk)["total"] == "75.00"


@pytest.mark.parametrize(
    "rule, amount, kind",
    [
        ({"type": "gift"}, None, "coupon"),
        ({"type": "threshold", "off": "-1"}, None, "coupon"),
        ({"type": "threshold", "off": "1.001"}, None, "coupon"),
        ({"type": "percent", "rate": "1.2"}, None, "coupon"),
        ({"type": "percent", "rate": "0.9", "cap": "0"}, None, "coupon"),
        ({"type": "free_dish"}, None, "coupon"),
        ({"type": "voucher", "off": "5", "dishes": "all"}, None, "coupon"),
        ({"type": "voucher", "off": "5", "combinable": "yes"}, None, "coupon"),
        (None, Decimal("5"), "coupon"),
        (None, None, "points"),
        (None, Decimal("-5"), "points"),
        (None, Decimal("0.001"), "points"),
        (None, Decimal("5"), "gift"),
    ],
)
def test_a_bad_adjustment_is_refused_and_changes_nothing(tab, menu, rule, amount, kind):
    order(tab, menu, ("fish", 1, []))
    version = Tab.objects.get(pk=tab.pk).version
    with pytest.raises(Refused) as refused:
        services.tab_adjustment_add(
            tab_id=tab.pk, kind=kind, reason="x", ref="r", rule=rule, amount=amount
        )
    assert refused.value.code == Code.BAD_ADJUSTMENT
    assert not TabAdjustment.objects.exists()
    assert Tab.objects.get(pk=tab.pk).version == version


def test_the_same_coupon_again_is_the_one_already_on_the_bill(tab, menu):
    order(tab, menu, ("fish", 2, []))
    for _ in range(2):
        services.tab_adjustment_add(
            tab_id=tab.pk, kind="coupon", reason="满100减20", ref="c", rule=THRESHOLD
        )
    assert TabAdjustment.objects.count() == 1
    assert build_settlement(tab.pk)["total"] == "156.00"
    assert services.tab_adjustment_remove(tab_id=tab.pk, kind="coupon", ref="c")
    assert not services.tab_adjustment_remove(tab_id=tab.pk, kind="coupon", ref="c")
    assert build_settlement(tab.pk)["total"] == "176.00"


# Table charges and the whole order ---------------------------------------------------------------


def test_seat_charge_and_minimum_spend_are_their_own_lines(menu):
    Area.objects.create(name="包间", seat_charge=Decimal("5.00"), seat_charge_name="茶位费")
    room = Table.objects.create(code="V1", area="包间", minimum_spend=Decimal("300.00"))
    tab = services.tab_for_table(table=room)
    bill = order(tab, menu, ("fish", 2, []), guests=4)  # 176
    assert kinds(bill) == [("seat_charge", "20.00", True), ("minimum_spend", "124.00", True)]
    assert bill["charges_total"] == "144.00"
    assert bill["total"] == "320.00"  # 176 + 124 shortfall + 4 × 5


def test_every_rule_in_its_order_with_service_charge_and_rounding(settings, menu):
    """Hand-computed: 鲈鱼 88 ×2 (member price 80), 宫保鸡丁 微辣 38, 拍黄瓜 12 with a line
    discount of 2; a 九五折 member; a 满150减20 coupon; 5 yuan of points; a bill discount of 3;
    茶位费 3 × 4 guests; minimum spend 300; service 10 %; rounding to the jiao."""
    settings.SERVICE_CHARGE_PERCENT = 10
    settings.BILL_ROUNDING = "jiao"
    menu["fish"].member_price = Decimal("80.00")
    menu["fish"].save()
    Area.objects.create(name="包间", seat_charge=Decimal("3.00"), seat_charge_name="茶位费")
    room = Table.objects.create(code="V2", area="包间", minimum_spend=Decimal("300.00"))
    tab = services.tab_for_table(table=room)
    bill = order(
        tab,
        menu,
        ("fish", 2, []),
        ("chicken", 1, [menu["mild"].pk]),
        ("cucumber", 1, []),
        guests=4,
    )
    cucumber = next(line for line in bill["lines"] if line["name"] == "拍黄瓜")
    services.line_discount_set(line_id=int(cucumber["line"]), amount=Decimal("2"), reason="老客")
    services.tab_member_set(
        tab_id=tab.pk, member_ref="m", label="银卡", discount_rate=Decimal("0.95")
    )
    services.tab_adjustment_add(
        tab_id=tab.pk,
        kind="coupon",
        reason="满150减20",
        ref="c",
        rule={"type": "threshold", "off": "20", "minimum": "150", "combinable": True},
    )
    services.tab_adjustment_add(
        tab_id=tab.pk, kind="points", reason="500积分", ref="pt", amount=Decimal("5")
    )
    services.tab_discount_set(tab_id=tab.pk, amount=Decimal("3"), reason="熟客")
    bill = build_settlement(tab.pk)
    # subtotal 176 + 38 + 12 = 226
    # member: fish min(80, 83.60) → 16 off; chicken 38 × .95 = 36.10 → 1.90; cucumber 12 × .95
    #   = 11.40 → 0.60, but its line discount of 2 comes first in its line: 0.60 still fits → 18.50
    # dishes now 226 − 2 − 18.50 = 205.50 ≥ 150: coupon −20 → 185.50; points −5 → 180.50;
    # bill discount −3 → 177.50
    # seat 12; minimum 300 − 177.50 = 122.50; service 10 % of (226 − 2 − 18.50) = 20.55
    # 177.50 + 12 + 122.50 + 20.55 = 332.55 → 332.50 (rounding −0.05)
    assert kinds(bill) == [
        ("member_price", "-18.50", True),
        ("coupon", "-20.00", True),
        ("points", "-5.00", True),
        ("discount", "-3.00", True),
        ("seat_charge", "12.00", True),
        ("minimum_spend", "122.50", True),
        ("service_charge", "20.55", True),
        ("rounding", "-0.05", True),
    ]
    assert figures(
        bill, "subtotal", "discount_total", "charges_total", "service_charge", "rounding", "total"
    ) == ("226.00", "48.50", "134.50", "20.55", "-0.05", "332.50")


def test_a_phones_share_follows_the_coupons_on_its_dishes(tab, menu):
    first = services.diner_for_tab(tab=tab, key="one")
    second = services.diner_for_tab(tab=tab, key="two")
    services.order_submit(
        tab=tab, key="a", guests=2, diner=first,
        lines=[services.LineRequest(dish=menu["fish"].pk)],
    )  # fmt: skip
    services.order_submit(
        tab=tab, key="b", diner=second, lines=[services.LineRequest(dish=menu["cucumber"].pk)]
    )
    rule = {"type": "voucher", "off": "8", "dishes": [menu["fish"].pk]}
    services.tab_adjustment_add(tab_id=tab.pk, kind="coupon", reason="鱼券", ref="v", rule=rule)
    assert diner_share(tab.pk, "one") == Decimal("80.00")
    assert diner_share(tab.pk, "two") == Decimal("12.00")
    assert build_settlement(tab.pk)["total"] == "92.00"


def test_the_menu_shows_a_dishs_member_price_beside_its_price(client, table, menu):
    menu["chicken"].member_price = Decimal("30.00")
    menu["chicken"].save()
    html = client.get(table.diner_path, headers={"Accept-Language": "zh-hans"}).content.decode()
    assert '<small class="member-price">会员价 ¥30</small>' in html
    assert html.count('class="member-price"') == 1


def test_the_menu_api_gives_a_dishs_member_price(client, menu):
    menu["chicken"].member_price = Decimal("30.00")
    menu["chicken"].save()
    dishes = {
        dish["name"]: dish
        for category in client.get("/api/v1/menu").json()["categories"]
        for dish in category["dishes"]
    }
    assert dishes["宫保鸡丁"]["member_price"] == "30.00"
    assert dishes["拍黄瓜"]["member_price"] is None
