"""The books' screens through HTTP: the cashier's shift and handover, the slip on paper and on
the till printer, the manager's day close and Z report, the audit page; refusals in place."""

from decimal import Decimal

import pytest
from django.test import Client

from payments.books import services as books
from payments.books.models import BusinessDay, CashMovement, Shift
from payments.books.selectors import open_day
from printing.models import Printer, PrintJob
from printing.render import job_bytes

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def staff(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_cashier_opens_pays_out_and_hands_over_on_the_screen(cashier):
    client = staff(cashier)
    page = client.get("/cashier/shift/")
    assert "开班" in page.content.decode()

    answer = client.post("/cashier/shift/open/", {"till": "前台", "float": "200"}, headers=HTMX)
    assert answer.status_code == 200
    shift = Shift.objects.get(cashier=cashier)
    assert 'id="cash-expected">¥200<' in answer.content.decode()

    # A paid-out without a reason is refused in place and records nothing.
    refused = client.post(
        "/cashier/shift/cash/", {"direction": "out", "amount": "20"}, headers=HTMX
    )
    assert refused.status_code == 400 and refused["HX-Retarget"] == "#flash"
    assert not CashMovement.objects.exists()
    client.post("/cashier/shift/cash/", {"direction": "out", "amount": "20", "reason": "买冰块"},
                headers=HTMX)  # fmt: skip
    assert CashMovement.objects.get().amount == Decimal("20.00")

    # Counted by note: 100 + 50 + 20 + 5 + 3 × 1 = 178, two short of 180.
    counts = {"n100": "1", "n50": "1", "n20": "1", "n5": "1", "n1": "3"}
    short = client.post(f"/cashier/shift/{shift.pk}/hand-over/", counts, headers=HTMX)
    assert short.status_code == 400 and "−¥2" in short.content.decode()
    done = client.post(f"/cashier/shift/{shift.pk}/hand-over/", {**counts, "reason": "找零找错"},
                       headers=HTMX)  # fmt: skip
    assert done.status_code == 200
    shift.refresh_from_db()
    assert (shift.counted, shift.difference, shift.left_in_drawer) == (
        Decimal("178.00"),
        Decimal("-2.00"),
        Decimal("178.00"),
    )
    slip = client.get(f"/cashier/shift/{shift.pk}/slip/?paper=58").content.decode()
    assert "paper-58" in slip and "找零找错" in slip and "¥178" in slip and "¥100 × 1" in slip


def test_the_handover_slip_prints_on_the_till_printer(cashier):
    till = Printer.objects.create(name="收银", host="127.0.0.1", port=9, paper=58,
                                  prints_receipts=True)  # fmt: skip
    shift = books.shift_open(user=cashier, till="1", float_amount=Decimal("100"))
    books.shift_hand_over(user=cashier, shift_id=shift.pk, counted=Decimal("101"), reason="多收")
    answer = staff(cashier).post(f"/printing/shifts/{shift.pk}/handover/", headers=HTMX)
    assert answer.status_code == 200
    job = PrintJob.objects.get(kind="handover")
    data = job_bytes(job, till)
    assert "交班单".encode("gb18030") in data and "多收".encode("gb18030") in data


def test_the_manager_closes_the_day_on_the_screen_and_reads_the_z_report(manager, tab, cashier):
    client = staff(manager)
    assert "还有 1 张未结账的桌台" not in client.get("/manager/day/").content.decode()
    day = open_day().isoformat()
    refused = client.post("/manager/day/close/", {"day": day}, headers=HTMX)
    assert refused.status_code == 409 and "1 张未结账的桌台" in refused.content.decode()
    assert not BusinessDay.objects.exists()
    closed = client.post("/manager/day/close/", {"day": day, "carry_reason": "客人还在"},
                         headers=HTMX)  # fmt: skip
    assert closed.status_code == 204 and closed["HX-Redirect"] == f"/manager/day/{day}/z/"
    z = client.get(f"/manager/day/{day}/z/").content.decode()
    assert "日结报表" in z and "客人还在" in z
    assert staff(cashier).get("/manager/day/").status_code == 403


def test_the_audit_page_searches_by_kind_who_and_words(manager, cashier):
    books.shift_open(user=cashier, till="1", float_amount=Decimal("0"))
    books.cash_move(user=cashier, direction="out", amount=Decimal("8"), reason="买葱")
    books.cash_move(user=cashier, direction="in", amount=Decimal("50"), reason="换零钱")
    client = staff(manager)
    page = client.get(
        "/manager/audit/", {"kind": "cash", "who": "cash", "q": "葱"}
    ).content.decode()
    assert "买葱" in page and "换零钱" not in page
    english = client.get("/manager/audit/", headers={"Accept-Language": "en"})
    assert english.status_code == 200
    assert staff(cashier).get("/manager/audit/").status_code == 403


def test_a_price_edit_in_the_admin_is_in_the_audit_with_the_old_and_new_price(
    django_user_model, menu
):
    from restaurant.lib.audit import AuditEntry
    from tests.orders.test_admin_tables import shown_form

    boss = django_user_model.objects.create_superuser("boss", password="pw-boss")
    fish = menu["fish"]
    admin = staff(boss)
    url = f"/admin/menu/dish/{fish.pk}/change/"
    form = shown_form(admin, url, "dish_form")
    form.update({"price": "92.00", "_save": "Save"})
    assert admin.post(url, form).status_code == 302
    price = AuditEntry.objects.get(kind="price")
    assert (price.actor, price.subject, price.detail["from"], price.detail["to"]) == (
        "boss",
        "清蒸鲈鱼",
        "88.00",
        "92.00",
    )
    assert AuditEntry.objects.get(kind="menu").detail["fields"] == ["Price"]


def test_the_z_page_shows_the_reconciliation_only_when_something_went_through_a_gateway(
    manager, menu, cashier
):
    from datetime import timedelta

    from tests.payments.report_day import DAY, make_day

    make_day(menu, cashier, manager)  # paid through WeChat Pay on DAY, no gateway bill in yet
    client = staff(manager)
    page = client.get(f"/manager/day/{DAY}/z/").content.decode()
    assert 'id="z-reconciliation"' in page and "微信支付, 支付宝" in page
    quiet = client.get(f"/manager/day/{DAY - timedelta(days=10)}/z/").content.decode()
    assert "日结报表" in quiet and 'id="z-reconciliation"' not in quiet


def _form_key(page):
    import re

    return re.search(r'name="key" value="([0-9a-f]+)"', page.content.decode()).group(1)


def test_a_second_tap_on_each_books_form_does_it_once(cashier, manager):
    from restaurant.lib.audit import AuditEntry

    till = staff(cashier)
    opening = {"till": "前台", "float": "100", "key": _form_key(till.get("/cashier/shift/"))}
    for _tap in range(2):
        assert till.post("/cashier/shift/open/", opening, headers=HTMX).status_code == 200
    shift = Shift.objects.get()

    page = till.get("/cashier/shift/")
    cash = {"direction": "in", "amount": "50", "reason": "换零钱", "key": _form_key(page)}
    for _tap in range(2):
        assert till.post("/cashier/shift/cash/", cash, headers=HTMX).status_code == 200
    assert CashMovement.objects.count() == 1
    # The answer is the page again with a new key: the next movement is a new one.
    again = till.post("/cashier/shift/cash/", {**cash, "key": "next"}, headers=HTMX)
    assert again.status_code == 200 and CashMovement.objects.count() == 2

    count = {"counted": "200", "key": _form_key(till.get("/cashier/shift/"))}
    for _tap in range(2):
        answer = till.post(f"/cashier/shift/{shift.pk}/hand-over/", count, headers=HTMX)
        assert answer.status_code == 200
    assert AuditEntry.objects.filter(kind="shift").count() == 1

    boss = staff(manager)
    close = {"day": open_day().isoformat(), "key": _form_key(boss.get("/manager/day/"))}
    for _tap in range(2):
        assert boss.post("/manager/day/close/", close, headers=HTMX).status_code == 204
    assert BusinessDay.objects.count() == 1
    assert AuditEntry.objects.filter(kind="day_close").count() == 1

    refused = till.post("/cashier/shift/open/", {"till": "1", "key": "k" * 65}, headers=HTMX)
    assert refused.status_code == 400 and Shift.objects.count() == 1
