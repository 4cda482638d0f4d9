"""The printable sheet of a batch's coupon codes (issue 9): an A4 page of cards, each with the
coupon's name, what it gives, its dates, the code as text and as a QR code that encodes exactly
the code; used codes left out; a big batch in parts; managers only; no script."""

import re
from datetime import date, time
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from payments.coupons import admin as coupon_admin
from payments.coupons import services
from payments.coupons.models import Coupon, CouponCode
from tests.orders.test_admin_tables import dark_modules, expected_modules

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_manager(manager):
    manager.is_staff = True  # as the demo's manager: the admin lets in staff users only
    manager.save()
    return manager


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def sheet(batch):
    return f"/admin/coupons/batch/{batch.pk}/sheet/"


def card_svg(html, code):
    match = re.search(rf'id="code-{code}".*?(<svg\b.*?</svg>)', html, re.S)
    assert match, f"no card for {code}"
    return match.group(1)


@pytest.fixture
def coupon(menu):
    coupon = Coupon.objects.create(
        name="满100减20",
        type="threshold",
        off=Decimal("20"),
        minimum=Decimal("100"),
        valid_from=date(2026, 12, 1),
        valid_until=date(2027, 2, 28),
        weekdays="12345",
        hours_from=time(11, 0),
        hours_until=time(14, 0),
    )
    coupon.categories.add(menu["chicken"].category)
    return coupon


@pytest.fixture
def batch(coupon, staff_manager):
    return services.batch_issue(coupon=coupon, quantity=12, note="开业", user=staff_manager)


def test_each_unused_code_is_a_card_with_the_coupons_terms_and_its_qr_code(batch, staff_manager):
    codes = list(batch.codes.order_by("pk"))
    used = codes[0]
    CouponCode.objects.filter(pk=used.pk).update(status=CouponCode.Status.REDEEMED)

    answer = logged_in(staff_manager).get(sheet(batch))

    assert answer.status_code == 200
    html = answer.content.decode()
    assert html.count('class="card"') == 11
    assert f'id="code-{used.code}"' not in html and used.code not in html
    for code in codes[1:]:
        assert f'<div class="code">{code.code}</div>' in html
        # What the till's scanner reads is exactly the code, nothing more.
        assert dark_modules(card_svg(html, code.code)) == expected_modules(code.code)
    # 2 × 5 cards on a page: 11 cards are two A4 pages.
    assert html.count('<section class="page">') == 2
    assert html.count('<div class="name">满100减20</div>') == 11
    terms = "<li>满¥100减¥20</li><li>限热菜</li><li>限周一至周五</li><li>11:00至14:00</li>"
    assert terms + "<li>不与其他优惠券同享</li>" in html
    assert "有效期 2026-12-01 至 2027-02-28" in html
    assert "1 张券码已使用，不打印。" in html
    # Printed by its own style sheet, on A4, with no script at all.
    assert "css/coupon_sheet.css" in html and "<script" not in html


def test_the_sheet_reads_in_english_too(batch, staff_manager, coupon):
    coupon.type, coupon.rate, coupon.off, coupon.cap = "percent", Decimal("0.880"), None, 30
    coupon.combinable, coupon.weekdays, coupon.valid_from = True, "67", None
    coupon.save()

    with translation.override("en"):
        html = logged_in(staff_manager).get(sheet(batch), HTTP_ACCEPT_LANGUAGE="en").content
    text = html.decode()
    assert "<li>12% off</li><li>at most ¥30 off</li><li>on a spend of at least ¥100</li>" in text
    assert "<li>only on Hot dishes</li><li>on Saturday, Sunday</li>" in text
    assert "<li>combines with other coupons</li>" in text
    assert "valid until 2027-02-28" in text


def test_the_terms_of_each_kind_of_coupon(menu):
    free = Coupon.objects.create(name="赠菜券", type="free_dish", minimum=Decimal("50"))
    free.dishes.add(menu["cucumber"])
    voucher = Coupon.objects.create(name="代金券", type="voucher", off=Decimal("10"))
    rate = Coupon.objects.create(name="九折", type="percent", rate=Decimal("0.900"))
    with translation.override("zh-hans"):
        assert free.terms() == ["赠拍黄瓜一份", "满¥50可用", "不与其他优惠券同享"]
        assert voucher.terms()[0] == "¥10代金券" and voucher.validity() == "长期有效"
        assert rate.terms()[0] == "9折"
    with translation.override("en"):
        assert free.terms()[:2] == ["a free Smashed cucumber", "on a spend of at least ¥50"]
        assert rate.terms()[0] == "10% off"


def test_a_big_batch_prints_in_parts(coupon, staff_manager, monkeypatch):
    monkeypatch.setattr(coupon_admin, "CODES_PER_PART", 5)
    batch = services.batch_issue(coupon=coupon, quantity=12)
    client = logged_in(staff_manager)
    codes = list(batch.codes.order_by("pk").values_list("code", flat=True))

    first, last = (client.get(sheet(batch), {"part": n}).content.decode() for n in (1, 3))

    assert all(f'id="code-{code}"' in first for code in codes[:5])
    assert first.count('class="card"') == 5
    assert last.count('class="card"') == 2 and f'id="code-{codes[-1]}"' in last
    assert '<a href="?part=2">6–10</a>' in first and "11–12" in first
    for bad in ("0", "4", "x", ""):
        assert client.get(sheet(batch), {"part": bad}).status_code == 400


def test_a_batch_with_every_code_used_says_so(batch, staff_manager):
    batch.codes.update(status=CouponCode.Status.REDEEMED)
    html = logged_in(staff_manager).get(sheet(batch)).content.decode()
    assert 'class="card"' not in html
    assert "这批券码都已使用，没有可打印的。" in html


def test_the_batches_link_to_their_sheet(batch, staff_manager):
    client = logged_in(staff_manager)
    listing = client.get("/admin/coupons/batch/").content.decode()
    assert f'href="{sheet(batch)}"' in listing
    page = client.get(f"/admin/coupons/batch/{batch.pk}/change/").content.decode()
    assert f'href="{sheet(batch)}"' in page


def test_only_managers_see_the_sheet(batch, cashier, outsider, django_user_model):
    assert Client().get(sheet(batch))["Location"].startswith("/admin/login/")
    for user in (cashier, outsider):  # not staff: the admin's login
        assert logged_in(user).get(sheet(batch))["Location"].startswith("/admin/login/")
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    assert logged_in(clerk).get(sheet(batch)).status_code == 403
    assert logged_in(clerk).get("/admin/coupons/batch/999999/sheet/").status_code == 403


def test_an_unknown_batch_is_not_found(staff_manager):
    answer = logged_in(staff_manager).get("/admin/coupons/batch/999999/sheet/")
    assert answer.status_code == 404
