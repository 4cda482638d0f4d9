"""A member pays half the bill by balance from their phone with their PIN while a friend pays
the rest by WeChat Pay (H5, through the WeChat Pay simulator), and the cashier sees both live;
the member's card shows its code. Real Chromium, a real daphne configured from the simulator's
environment, the simulator's signed notification over HTTP."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from orders.models import Tab
from payments.members import services as members
from payments.members.models import Member
from payments.models import LedgerEntry, Payment
from tests.browser.pages import live
from tests.live import Daphne

from .conftest import ledger_sum, seat
from .test_wechatpay import IPHONE

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/members-shots"))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def wechat_server(transactional_db, settings, tmp_path, wechatpay_sim):
    """A daphne with WeChat Pay configured against the simulator, which notifies over HTTP."""
    wechatpay_sim.reset()
    wechatpay_sim.controls(delivery="http")
    settings.MEDIA_ROOT = tmp_path / "media"
    daphne = Daphne(log_dir=tmp_path, env=wechatpay_sim.env)
    yield daphne
    daphne.stop()


@pytest.fixture(autouse=True)
def patient_expect():
    """Three browsers, daphne and the simulator on a loaded two-core machine: wait up to 15 s."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


def test_a_member_pays_half_by_balance_with_the_pin_a_friend_the_rest_by_wechat_the_till_sees_it(
    wechat_server, wechatpay_sim, browser, phone, staff_screen, cashier, table, menu
):
    server = wechat_server
    member = members.member_create(mobile="13800138000", pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    tab = seat(table, menu)  # 50
    counter = staff_screen(server, "cashier", "pw-cashier", "/cashier/")
    mine = phone()
    # The friend's phone is an iPhone's browser: WeChat Pay's H5 flow.
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, is_mobile=True, locale="zh-CN", user_agent=IPHONE
    )
    context.set_default_timeout(15_000)
    friend = context.new_page()
    for page in (mine, friend):
        page.goto(f"{server.url}/t/{table.token}/pay/")
    for page in (counter, mine, friend):
        live(page)
    counter.locator(f"#table-{table.pk}").click()
    expect(counter.locator("#bill-due")).to_have_text("¥50")

    # The member pays an equal share of two from the balance; a wrong PIN first.
    mine.locator("input[name=choice][value=share]").check()
    mine.locator("input[name=people]").fill("2")
    mine.locator("details.member-pay > summary").click()
    mine.locator("input[name=member_login]").fill("13800138000")
    mine.locator("input[name=member_pin]").fill("111111")
    mine.locator("button.pay-member").click()
    expect(mine.locator("#flash")).to_contain_text("密码错误")
    shot(mine, "phone-wrong-pin-zh")
    assert not Payment.objects.exists()
    mine.locator("input[name=member_pin]").fill("123456")
    mine.locator("button.pay-member").click()
    expect(mine.locator(".payment-box")).to_have_attribute("data-status", "succeeded")
    shot(mine, "phone-paid-by-balance-zh")
    # The till and the friend's phone see it without reloading.
    expect(counter.locator("#bill-paid")).to_have_text("¥25")
    expect(counter.locator("#bill-due")).to_have_text("¥25")
    expect(counter.locator("#bill")).to_contain_text("会员余额")
    expect(friend.locator("#pay-due")).to_have_text("¥25")

    # The friend pays the rest by WeChat Pay: the simulator's H5 page, approved there; its
    # signed notification reaches our notify endpoint over HTTP, and WeChat sends the phone back.
    friend.locator("button.gateway-wechatpay").click()
    box = friend.locator(".payment-box")
    expect(box).to_have_attribute("data-status", "pending")
    h5_url = box.locator("a.button").get_attribute("href")
    assert h5_url.startswith(wechatpay_sim.url + "/pay/")
    friend.goto(h5_url)
    expect(friend.get_by_test_id("amount")).to_have_text("¥25.00")
    friend.get_by_test_id("approve").click()
    friend.wait_for_url(f"{server.url}/t/{table.token}/pay/")
    expect(friend.locator(".paid-up")).to_be_visible()
    expect(counter.locator("#bill-due")).to_have_text("¥0")
    expect(counter.locator("#bill")).to_contain_text("会员余额")
    expect(counter.locator("#bill")).to_contain_text("微信支付")
    expect(counter.locator(f"#table-{table.pk}")).to_have_attribute("data-state", "settled")
    expect(mine.locator("#pay-due")).to_have_text("¥0")
    expect(mine.locator("#pay-form")).to_be_hidden()  # paid up, live: no form to pay again
    shot(counter, "cashier-member-and-wechat-zh")
    shot(friend, "phone-paid-by-wechat-zh")
    for page in (counter, mine):  # the friend's phone went to WeChat Pay's page and came back
        assert page.evaluate("window.__notReloaded") is True
    context.close()

    member.refresh_from_db()
    assert member.balance == 75
    paid = Payment.objects.filter(status="succeeded").order_by("method")
    assert [(p.method, p.amount) for p in paid] == [("member", 25), ("qr", 25)]
    assert paid[1].provider == "wechatpay"
    assert wechatpay_sim.order(paid[1].reference)["trade_type"] == "H5"
    assert Payment.objects.count() == 2 and {p.tab_id for p in paid} == {tab.pk}
    # The books: ¥25 came in by WeChat; ¥25 of what was owed to the member became sales.
    assert ledger_sum(account="qr") == 25
    assert ledger_sum(account="member") == member.balance == 75
    assert LedgerEntry.objects.filter(payment__in=paid).count() == 2
    assert Tab.objects.get(pk=tab.pk).status == "settled"


def test_the_member_card_opens_with_the_pin_and_shows_its_code_in_chinese_and_english(
    server, phone, table
):
    member = members.member_create(mobile="13800138000", pin="123456")
    members.top_up_create(member_id=member.pk, amount=Decimal("100"), method="cash", key="t")
    for locale, words in (("zh-CN", "出示此码"), ("en-US", "Show this code")):
        page = phone(locale=locale)
        page.goto(f"{server.url}/m/{member.link_token}/")
        page.locator("input[name=pin]").fill("123456")
        page.locator("button.primary").click()
        expect(page.locator("#member-code svg")).to_be_visible()
        expect(page.locator("#code-digits")).to_have_text(members.member_code(member)[0])
        expect(page.locator("#member-code")).to_contain_text(words)
        expect(page.locator("#my-balance")).to_have_text("¥100")
        shot(page, f"member-card-{locale}")
    big = phone()
    big.goto(f"{server.url}/m/{member.link_token}/")
    big.evaluate("document.documentElement.style.fontSize = '200%'")
    shot(big, "member-card-locked-200pct")
    assert Member.objects.get(pk=member.pk).pin_failures == 0


def test_a_card_whose_data_is_deleted_says_it_no_longer_exists_without_a_dead_button(
    server, phone, staff_screen, cashier, table
):
    member = members.member_create(mobile="13800138000", pin="123456")
    old_link = member.link_token
    pages = {}
    for locale in ("zh-CN", "en-US"):
        page = pages[locale] = phone(locale=locale)
        page.goto(f"{server.url}/m/{old_link}/")
        page.locator("input[name=pin]").fill("123456")
        page.locator("button.primary").click()
        live(page)
    till = staff_screen(server, "cashier", "pw-cashier", f"/cashier/members/{member.pk}/")
    form = till.locator("#member-form-erase")
    form.locator("xpath=..").locator("summary").click()
    form.locator("input[name=reason]").fill("本人要求")
    form.locator("button").click()
    expect(till.locator("body")).not_to_contain_text("13800138000")
    for locale, words in (
        ("zh-CN", "这张会员卡已不存在。"),
        ("en-US", "This member card no longer exists."),
    ):
        page = pages[locale]
        expect(page.locator("#my-card")).to_have_text(words)
        expect(page.locator("#my-card a")).to_have_count(0)
        expect(page.locator("#member-code")).to_be_empty()
        assert page.evaluate("window.__notReloaded") is True
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        shot(page, f"member-card-gone-{locale}-200pct")
    assert pages["zh-CN"].request.get(f"{server.url}/m/{old_link}/").status == 404
