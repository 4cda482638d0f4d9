"""Money controls (issue 11): a cashier's discount limit on the sum of a bill's discounts,
re-checked on every change; a manager's approval, typed on the cashier's own screen or sent with
an API call, for discounts above the limit, voids of served dishes and refunds above a set
amount; every approval and refusal in the tab's trail."""

from decimal import Decimal

import pytest
from django.test import Client

from orders import services as order_services
from orders.models import OrderLine, Tab, TabEvent
from orders.settlement import build_settlement
from payments.models import Payment, Refund
from restaurant.lib.devices import DeviceToken

from .conftest import seat

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "Accept-Language": "en"}
BOSS = {"manager_login": "manager", "manager_password": "pw-manager"}


@pytest.fixture
def counter(cashier):
    client = Client()
    client.force_login(cashier)
    return client


def line(tab, name):
    return OrderLine.objects.get(order__tab=tab, name=name)


def total(tab):
    return build_settlement(tab.pk)["total"]


def serve(line):
    for status in ("cooking", "ready", "served"):
        order_services.line_set_status(line_id=line.pk, status=status)


def pay_cash(counter, tab, amount):
    version = Tab.objects.get(pk=tab.pk).version
    data = {"method": "cash", "amount": amount, "version": version, "key": f"cash-{amount}"}
    answer = counter.post(f"/cashier/tabs/{tab.pk}/pay/", data, headers=HTMX)
    assert answer.status_code == 200, answer.content


def refusals(tab):
    return list(TabEvent.objects.filter(tab=tab, kind="refused").values_list("reason", flat=True))


# The limit holds for the sum of a bill's discounts ----------------------------------------------


def test_line_and_bill_discounts_together_reaching_40_percent_are_refused_for_a_cashier(
    counter, manager, tab
):
    chicken = line(tab, "宫保鸡丁")
    fine = counter.post(
        f"/cashier/lines/{chicken.pk}/discount/", {"amount": "10", "reason": "凉了"}, headers=HTMX
    )
    assert fine.status_code == 200 and total(tab) == "40.00"  # ¥10 of ¥50: 20 %, the limit

    over = counter.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "10", "reason": "熟客"}, headers=HTMX
    )
    assert over.status_code == 403
    assert over["HX-Retarget"] == "#approval"
    page = over.content.decode()
    assert "would come to ¥20; a cashier may give at most ¥10 in all" in page
    assert 'name="manager_login"' in page and 'name="manager_password"' in page
    assert Tab.objects.get(pk=tab.pk).discount == 0 and total(tab) == "40.00"
    assert refusals(tab) == ["tab.discount: discount_over_limit"]

    # The manager types their login on the same screen: the same action goes through.
    approved = counter.post(
        f"/cashier/tabs/{tab.pk}/discount/",
        {"amount": "10", "reason": "熟客", **BOSS},
        headers=HTMX,
    )
    assert approved.status_code == 200 and total(tab) == "30.00"
    event = TabEvent.objects.get(tab=tab, kind="tab.discount")
    assert (event.user.username, event.approved_by, event.reason) == (
        "cashier",
        manager,
        "10.00 熟客",
    )
    # The answer closes the approval fields.
    assert '<div id="approval" class="approval" hx-swap-oob="true">' in approved.content.decode()


def test_a_line_discount_counts_the_bill_discount_already_given(counter, tab):
    counter.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "8", "reason": "熟客"}, headers=HTMX
    )
    cucumber = line(tab, "拍黄瓜")
    over = counter.post(
        f"/cashier/lines/{cucumber.pk}/discount/", {"amount": "3", "reason": "小份"}, headers=HTMX
    )
    assert over.status_code == 403
    assert line(tab, "拍黄瓜").discount == 0 and total(tab) == "42.00"


def test_taking_a_discount_off_never_needs_a_manager(counter, manager, tab):
    boss = Client()
    boss.force_login(manager)
    boss.post(f"/cashier/tabs/{tab.pk}/discount/", {"amount": "25", "reason": "朋友"}, headers=HTMX)
    assert total(tab) == "25.00"  # a manager gives 50 % without anyone's approval
    lower = counter.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "15", "reason": "朋友"}, headers=HTMX
    )
    assert lower.status_code == 200 and total(tab) == "35.00"


# A bill that shrinks under a fixed discount ---------------------------------------------------


def test_a_void_that_would_take_a_162_bill_to_0_is_refused_until_the_discount_is_lowered(
    counter, table, menu, commits
):
    """The issue's case: ¥18 off a ¥180 bill (10 %) paid ¥162; voiding the ¥168 dish left ¥18
    off ¥12 and refunded all ¥162. Now the void is refused; lowered to a cashier's 20 % of
    what is left, the bill is ¥9.60 and ¥152.40 goes back."""
    menu["fish"].price = Decimal("168.00")
    menu["fish"].save()
    tab = order_services.tab_for_table(table=table)
    order_services.order_submit(
        tab=tab,
        key="k",
        guests=2,
        lines=[
            order_services.LineRequest(dish=menu["cucumber"].pk),
            order_services.LineRequest(dish=menu["fish"].pk),
        ],
    )
    counter.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "18", "reason": "会员"}, headers=HTMX
    )
    pay_cash(counter, tab, "162")
    assert build_settlement(tab.pk)["balance_due"] == "0.00"

    fish = line(tab, "清蒸鲈鱼")
    with commits():
        refused = counter.post(
            f"/cashier/lines/{fish.pk}/void/", {"reason": "不要了"}, headers=HTMX
        )
    assert refused.status_code == 403
    assert "would come to ¥18; a cashier may give at most ¥2.40 in all" in refused.content.decode()
    assert line(tab, "清蒸鲈鱼").status == "queued"
    assert not Refund.objects.exists() and total(tab) == "162.00"
    assert refusals(tab) == ["line.void: discount_over_limit"]

    counter.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "2.40", "reason": "会员"}, headers=HTMX
    )
    with commits():
        voided = counter.post(f"/cashier/lines/{fish.pk}/void/", {"reason": "不要了"}, headers=HTMX)
    assert voided.status_code == 200
    settlement = build_settlement(tab.pk)
    assert (settlement["total"], settlement["refunded"], settlement["balance_due"]) == (
        "9.60",
        "152.40",
        "0.00",
    )


def test_a_manager_may_approve_the_void_under_the_fixed_discount_and_is_recorded(
    counter, manager, tab
):
    counter.post(
        f"/cashier/tabs/{tab.pk}/discount/", {"amount": "10", "reason": "会员"}, headers=HTMX
    )
    chicken = line(tab, "宫保鸡丁")
    answer = counter.post(
        f"/cashier/lines/{chicken.pk}/void/", {"reason": "不要了", **BOSS}, headers=HTMX
    )
    assert answer.status_code == 200 and total(tab) == "2.00"
    event = TabEvent.objects.get(tab=tab, kind="line.voided")
    assert (event.user.username, event.approved_by) == ("cashier", manager)


# Voids of served dishes ---------------------------------------------------------------------------


def test_a_served_dish_is_not_voided_without_a_manager_and_is_with_one(counter, manager, tab):
    cucumber = line(tab, "拍黄瓜")
    serve(cucumber)
    refused = counter.post(f"/cashier/lines/{cucumber.pk}/void/", {"reason": "太咸"}, headers=HTMX)
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "拍黄瓜 was already served: a manager approves taking it off." in page
    # The approval form sends the same action again: its reason rides along.
    assert 'name="reason" value="太咸"' in page
    assert f'hx-post="/cashier/lines/{cucumber.pk}/void/"' in page
    assert line(tab, "拍黄瓜").status == "served"
    assert refusals(tab) == ["line.void: void_needs_manager"]

    approved = counter.post(
        f"/cashier/lines/{cucumber.pk}/void/", {"reason": "太咸", **BOSS}, headers=HTMX
    )
    assert approved.status_code == 200 and line(tab, "拍黄瓜").status == "voided"
    event = TabEvent.objects.get(line=cucumber, kind="line.voided")
    assert (event.user.username, event.approved_by, event.from_status) == (
        "cashier",
        manager,
        "served",
    )


def test_a_dish_not_yet_served_is_voided_by_a_cashier_alone(counter, tab):
    cucumber = line(tab, "拍黄瓜")
    order_services.line_set_status(line_id=cucumber.pk, status=OrderLine.Status.COOKING)
    answer = counter.post(f"/cashier/lines/{cucumber.pk}/void/", {"reason": "太慢"}, headers=HTMX)
    assert answer.status_code == 200
    assert TabEvent.objects.get(line=cucumber, kind="line.voided").approved_by is None


def test_a_manager_voids_a_served_dish_without_anyones_approval(manager, tab):
    cucumber = line(tab, "拍黄瓜")
    serve(cucumber)
    order_services.line_void(line_id=cucumber.pk, reason="太咸", user=manager)
    assert line(tab, "拍黄瓜").status == "voided"


def test_the_api_asks_for_the_approval_in_a_field(manager, tab):
    _device, token = DeviceToken.issue(name="pos", role="cashier")
    api = Client(headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    cucumber = line(tab, "拍黄瓜")
    serve(cucumber)
    path = f"/api/v1/lines/{cucumber.pk}/void"
    refused = api.post(path, {"reason": "太咸"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"] == "void_needs_manager"
    wrong = api.post(
        path,
        {"reason": "太咸", "approval": {"login": "manager", "password": "guess"}},
        content_type="application/json",
    )
    assert (wrong.status_code, wrong.json()["error"]) == (403, "approval_wrong")
    done = api.post(
        path,
        {"reason": "太咸", "approval": {"login": "manager", "password": "pw-manager"}},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "voided"
    event = TabEvent.objects.get(line=cucumber, kind="line.voided")
    assert (event.user, event.approved_by) == (None, manager)
    assert refusals(tab) == ["line.void: void_needs_manager", "line.void: approval_wrong (manager)"]


def test_the_api_discounts_follow_the_same_limit_and_approval(api, manager, tab):
    chicken = line(tab, "宫保鸡丁")
    given = api.staff_post(f"/lines/{chicken.pk}/discount", {"amount": "10", "reason": "凉了"})
    assert given.status_code == 200 and given.json()["total"] == "40.00"
    refused = api.staff_post(f"/tabs/{tab.pk}/discount", {"amount": "10", "reason": "熟客"})
    assert refused.status_code == 403
    assert refused.json() | {"message": ""} == {
        "error": "discount_over_limit",
        "message": "",
        "discounts": "20.00",
        "limit": "10.00",
    }
    assert Tab.objects.get(pk=tab.pk).discount == 0
    approved = api.staff_post(
        f"/tabs/{tab.pk}/discount",
        {
            "amount": "10",
            "reason": "熟客",
            "approval": {"login": "manager", "password": "pw-manager"},
        },
    )
    assert approved.status_code == 200 and approved.json()["total"] == "30.00"
    event = TabEvent.objects.get(tab=tab, kind="tab.discount")
    assert (event.user, event.approved_by) == (None, manager)
    assert refusals(tab) == ["tab.discount: discount_over_limit"]


# Refunds above a set amount -----------------------------------------------------------------


def test_refunds_above_the_limit_need_a_manager_also_in_small_pieces(
    counter, manager, tab, settings, commits
):
    settings.CASHIER_REFUND_LIMIT = 20
    pay_cash(counter, tab, "50")
    payment = Payment.objects.get(tab=tab)
    path = f"/cashier/payments/{payment.pk}/refund/"
    with commits():
        assert (
            counter.post(path, {"amount": "15", "reason": "退押金"}, headers=HTMX).status_code
            == 200
        )
        refused = counter.post(path, {"amount": "10", "reason": "再退"}, headers=HTMX)
    assert refused.status_code == 403
    assert "Refunds on this bill would come to ¥25; above ¥20 a manager approves." in (
        refused.content.decode()
    )
    assert Refund.objects.count() == 1
    with commits():
        approved = counter.post(path, {"amount": "10", "reason": "再退", **BOSS}, headers=HTMX)
    assert approved.status_code == 200 and Refund.objects.count() == 2
    event = TabEvent.objects.get(tab=tab, kind="refund")
    assert (event.user.username, event.approved_by) == ("cashier", manager)
    assert event.reason == f"10.00 #{payment.pk}: 再退"
    assert refusals(tab) == ["refund: refund_needs_manager"]


def test_the_api_refund_above_the_limit_needs_the_approval_field(
    api, manager, tab, settings, commits, counter
):
    settings.CASHIER_REFUND_LIMIT = 20
    pay_cash(counter, tab, "50")
    payment = Payment.objects.get(tab=tab)
    path = f"/payments/{payment.pk}/refunds"
    refused = api.staff_post(path, {"amount": "30", "reason": "菜不对"})
    assert (refused.status_code, refused.json()["error"]) == (403, "refund_needs_manager")
    assert refused.json()["limit"] == "20.00"
    with commits():
        done = api.staff_post(
            path,
            {
                "amount": "30",
                "reason": "菜不对",
                "approval": {"login": "manager", "password": "pw-manager"},
            },
        )
    assert done.status_code == 201 and done.json()["refund"]["amount"] == "30.00"
    assert TabEvent.objects.get(tab=tab, kind="refund").approved_by == manager


# Who may approve ----------------------------------------------------------------------------


def test_a_wrong_manager_password_is_refused_and_recorded(counter, manager, tab):
    cucumber = line(tab, "拍黄瓜")
    serve(cucumber)
    answer = counter.post(
        f"/cashier/lines/{cucumber.pk}/void/",
        {"reason": "太咸", "manager_login": "manager", "manager_password": "1234"},
        headers=HTMX,
    )
    assert answer.status_code == 403 and answer["HX-Retarget"] == "#approval"
    assert "The manager&#x27;s login or password is wrong." in answer.content.decode()
    assert line(tab, "拍黄瓜").status == "served"
    assert refusals(tab) == ["line.void: approval_wrong (manager)"]


def test_a_cashier_cannot_approve_themselves(counter, tab):
    cucumber = line(tab, "拍黄瓜")
    serve(cucumber)
    answer = counter.post(
        f"/cashier/lines/{cucumber.pk}/void/",
        {"reason": "太咸", "manager_login": "cashier", "manager_password": "pw-cashier"},
        headers=HTMX,
    )
    assert answer.status_code == 403
    assert "Nobody approves their own action" in answer.content.decode()
    assert line(tab, "拍黄瓜").status == "served"
    assert refusals(tab) == ["line.void: self_approval (cashier)"]


def test_another_cashier_is_no_manager(counter, roles, tab):
    from django.contrib.auth.models import User

    other = User.objects.create_user("cashier2", password="pw-cashier2")
    other.groups.add(roles["cashier"])
    cucumber = line(tab, "拍黄瓜")
    serve(cucumber)
    answer = counter.post(
        f"/cashier/lines/{cucumber.pk}/void/",
        {"reason": "太咸", "manager_login": "cashier2", "manager_password": "pw-cashier2"},
        headers=HTMX,
    )
    assert answer.status_code == 403 and "cashier2 is not a manager." in answer.content.decode()
    assert line(tab, "拍黄瓜").status == "served"


def test_the_worker_taking_off_unpaid_orders_is_not_held_by_the_limit(table, menu, settings):
    """Pay first: the system voids what was not paid in time, whatever discount is on the bill."""
    tab = seat(table, menu)
    order_services.tab_discount_set(tab_id=tab.pk, amount=Decimal("10"), reason="会员", user=None)
    order_services.line_void(line_id=line(tab, "宫保鸡丁").pk, reason="x", system=True)
    assert line(tab, "宫保鸡丁").status == "voided"
