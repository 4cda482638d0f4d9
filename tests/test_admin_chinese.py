"""The manager's admin speaks Chinese: every column header of every changelist, every filter
and every label of a bill's page (its read-only lines and audit trail included)."""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from orders import services
from orders.models import Area
from payments.coupons.models import Coupon
from payments.coupons.services import batch_issue
from payments.members.models import BonusRule, Level, Member
from payments.members.services import top_up_create
from payments.services import payment_start
from printing.models import Printer
from printing.services import order_tickets_queue
from restaurant.lib.devices import DeviceToken

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Words a Chinese admin shows as they are: Django's own zh-hans admin keeps "ID".
AS_IS = {"ID"}


class Texts(HTMLParser):
    """The text inside elements matching (tag, class word): column headers, filter titles…"""

    def __init__(self, wanted):
        super().__init__()
        self.wanted, self.depth, self.found, self.current = wanted, 0, [], []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
        elif any(tag == t and (c is None or c in classes) for t, c in self.wanted):
            self.depth, self.current = 1, []

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.found.append(" ".join("".join(self.current).split()))

    def handle_data(self, data):
        if self.depth:
            self.current.append(data)


def texts(html, *wanted):
    parser = Texts(wanted)
    parser.feed(html)
    return [text for text in parser.found if text]


def not_chinese(found):
    return [text for text in found if text not in AS_IS and not CHINESE.search(text)]


@pytest.fixture
def boss(django_user_model):
    user = django_user_model.objects.create_superuser("boss", password="pw-boss")
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


@pytest.fixture
def a_bill(table, menu, cashier):
    """A row in every changelist: a bill with a voided dish, paid in cash; a device; a printer
    and its job; a table area; a coupon and a batch of its codes; a failed login that locked its account; a member and a top-up
    bonus rule."""
    printer = Printer.objects.create(name="热菜打印机", host="127.0.0.1")
    Area.objects.create(name="包间", seat_charge=Decimal("2.00"), seat_charge_name="茶位费")
    coupon = Coupon.objects.create(name="满100减20", type="threshold", off=20, minimum=100)
    batch_issue(coupon=coupon, quantity=2)
    printer.stations.add(menu["hot_station"])
    tab = services.tab_for_table(table=table)
    lines = [
        services.LineRequest(dish=menu["fish"].pk),
        services.LineRequest(dish=menu["cucumber"].pk),
    ]
    order = services.order_submit(tab=tab, key="k", guests=2, lines=lines)[0]
    order_tickets_queue(order_id=order.pk)  # as after the order's commit
    services.line_void(line_id=order.lines.first().pk, reason="客人不要了", user=cashier)
    tab.refresh_from_db()
    payment_start(
        tab_id=tab.pk,
        method="cash",
        amount=Decimal("12.00"),
        version=tab.version,
        key="pay",
        user=cashier,
    )
    DeviceToken.issue(name="热菜平板", role="kitchen")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": "cashier", "password": f"wrong{attempt}"})
    Client().post("/accounts/login/", {"username": "cashier", "password": "pw-cashier"})
    # Written only with AXES_ENABLE_ACCESS_FAILURE_LOG, which is off; its list is in the admin.
    AccessFailureLog.objects.create(
        username="cashier", ip_address="127.0.0.1", user_agent="-", path_info="/accounts/login/"
    )
    BonusRule.objects.create(threshold=200, bonus=30)
    member = Member.objects.create(
        number="100001", mobile="13800000000", level=Level.objects.first()
    )
    top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    return tab


def part(html, start, end):
    """The html from the first `start` to the next `end` after it ("" when absent)."""
    at = html.find(start)
    return "" if at < 0 else html[at : html.find(end, at) + len(end)]


def test_every_changelist_has_chinese_column_headers_and_filters(boss, a_bill):
    checked = 0
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page = boss.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        headers = texts(part(html, '<table id="result_list"', "</thead>"), ("div", "text"))
        filters = texts(part(html, 'id="changelist-filter"', "</nav>"), ("summary", None))
        menu = texts(part(html, 'id="nav-sidebar"', "</nav>"), ("th", None), ("caption", None))
        assert headers, f"{url} shows no column headers"
        assert not_chinese(headers) == [], f"{url}: {not_chinese(headers)}"
        assert not_chinese(filters) == [], f"{url}: {not_chinese(filters)}"
        assert menu and not_chinese(menu) == [], f"{url}'s menu: {not_chinese(menu)}"
        checked += 1
    assert checked >= 10  # the menu, tables, tabs, orders, payments, ledger, staff, devices…

    # The headers the manager reported, by name:
    def headers(name):
        html = boss.get(reverse(f"admin:{name}_changelist")).content.decode()
        return set(texts(part(html, '<table id="result_list"', "</thead>"), ("div", "text")))

    assert {"桌单", "下单时间"} <= headers("orders_order")
    assert "版本" in headers("orders_tab")
    assert {"员工", "发起时间"} <= headers("payments_payment")


def test_a_bills_page_labels_its_fields_lines_and_audit_trail_in_chinese(boss, a_bill):
    page = boss.get(reverse("admin:orders_tab_change", args=[a_bill.pk]))
    assert page.status_code == 200
    html = part(page.content.decode(), 'id="content-main"', '<div class="submit-row"')
    labels = texts(html, ("label", None), ("th", None), ("h2", None))
    assert labels and not_chinese(labels) == []


def test_the_admin_is_headed_by_the_restaurants_name_not_django(boss):
    html = boss.get(reverse("admin:index")).content.decode()
    assert f"{settings.RESTAURANT_NAME} · 管理后台" in html and "Django" not in html
