"""The cashier tops up a member by WeChat Pay at the till, in real Chromium against a real daphne
configured from the WeChat Pay simulator's environment: the member's 付款码 scanned (the scanner
types the digits and Enter) and the balance changes on the page without a reload; a code that
is no payment code, a declined code, a second tap; then a QR code the member scans, paid at the
simulator, its signed notification over HTTP, and the page sees the credit by itself."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from payments.members import services as members
from payments.members.models import BonusRule, TopUp
from tests.live import Daphne

from .conftest import ledger_sum

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/top-up-shots"))
WECHAT_CODE = "134567890123456789"


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(autouse=True)
def patient_expect():
    """Three processes and a browser on a loaded two-core machine: wait up to 15 s."""
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture
def wechat_server(transactional_db, settings, tmp_path, wechatpay_sim):
    wechatpay_sim.reset()
    wechatpay_sim.controls(delivery="http")
    settings.MEDIA_ROOT = tmp_path / "media"
    daphne = Daphne(log_dir=tmp_path, env=wechatpay_sim.env)
    yield daphne
    daphne.stop()


def scan(page, code):
    """A scanner types the code into the focused field and presses Enter."""
    field = page.locator("#member-form-top-up input[name=auth_code]")
    field.fill(code)
    field.press("Enter")


def test_the_cashier_tops_up_by_scanning_the_members_code_and_sees_the_balance_at_once(
    wechat_server, wechatpay_sim, staff_screen, cashier
):
    BonusRule.objects.create(threshold=Decimal("200"), bonus=Decimal("30"))
    member = members.member_create(mobile="13800138000", name="王芳", pin="123456")
    path = f"/cashier/members/{member.pk}/"
    till = staff_screen(wechat_server, "cashier", "pw-cashier", path)
    till.evaluate("window.__notReloaded = true")
    form = till.locator("#member-form-top-up")
    form.locator("input[name=method][value=qr]").check()
    expect(form.locator("input[name=auth_code]")).to_be_visible()
    form.locator("input[name=amount]").fill("200")
    shot(till, "1-qr-chosen-zh")

    # Not a payment code: refused with a clear message, nothing started.
    scan(till, "991234567890123456")
    expect(till.locator("#member-form-top-up .form-error")).to_contain_text("付款码")
    expect(form.locator("input[name=method][value=qr]")).to_be_checked()  # as typed
    expect(till.locator("#member-balance")).to_have_text("¥0")
    assert not TopUp.objects.exists()
    shot(till, "2-not-a-code-zh")

    # The member's WeChat 付款码: paid at once, principal and bonus on the page, no reload.
    form.locator("input[name=method][value=qr]").check()
    form.locator("input[name=amount]").fill("200")
    scan(till, WECHAT_CODE)
    expect(till.locator("#member-balance")).to_have_text("¥230")
    expect(till.locator("#member-principal")).to_have_text("¥200")
    expect(till.locator("#member-bonus")).to_have_text("¥30")
    expect(till.locator("#flash")).to_contain_text("¥200")
    expect(till.locator("#member-top-ups")).to_contain_text("微信支付")
    expect(till.locator("#statement")).to_contain_text("¥230")
    assert till.evaluate("window.__notReloaded") is True
    top_up = TopUp.objects.get()
    assert top_up.is_paid and top_up.by_code and top_up.provider == "wechatpay"
    assert wechatpay_sim.order(top_up.reference)["state"] == "SUCCESS"
    assert ledger_sum(account="qr") == 200 and ledger_sum(account="member") == 230
    shot(till, "3-topped-up-zh")

    # A second tap on the button while the first is on its way tops up once.
    form.locator("input[name=method][value=qr]").check()
    form.locator("input[name=amount]").fill("50")
    form.locator("input[name=auth_code]").fill(WECHAT_CODE)
    form.locator("button").dblclick()
    expect(till.locator("#member-balance")).to_have_text("¥280")
    till.wait_for_timeout(500)
    assert TopUp.objects.count() == 2

    # Declined by the member's WeChat: nothing credited, and the page says why.
    wechatpay_sim.controls(
        code_answer={"status": 403, "code": "NOTENOUGH", "message": "用户余额不足"}
    )
    form.locator("input[name=method][value=qr]").check()
    form.locator("input[name=amount]").fill("100")
    scan(till, WECHAT_CODE)
    expect(till.locator("#flash")).to_contain_text("用户余额不足")
    expect(till.locator("#member-balance")).to_have_text("¥280")
    shot(till, "4-declined-zh")
    wechatpay_sim.controls(code_answer="success")

    # A QR code for the member to scan: pending, then paid at the simulator; its notification
    # comes over HTTP and the page's own poll shows the credit.
    form.locator("input[name=method][value=qr]").check()
    form.locator("input[name=amount]").fill("88")
    form.locator("select[name=gateway]").select_option("wechatpay")
    form.locator("button").click()
    pending = till.locator("#top-up-pending")
    expect(pending.locator(".qr svg")).to_be_visible()
    shot(till, "5-qr-shown-zh")
    shown = TopUp.objects.get(status="pending")
    assert wechatpay_sim.decide(shown.reference)[0] == 200
    expect(till.locator("#member-balance")).to_have_text("¥368")
    expect(pending.locator(".qr")).to_have_count(0)
    assert till.evaluate("window.__notReloaded") is True
    shot(till, "6-qr-paid-zh")

    # English, and text at 200 %.
    till.locator("form.lang button").click()
    till.wait_for_url(f"{wechat_server.url}{path}")
    till.locator("#member-form-top-up input[name=method][value=qr]").check()
    expect(till.locator("#member-form-top-up")).to_contain_text("payment code")
    shot(till, "7-english")
    till.evaluate("document.documentElement.style.fontSize = '200%'")
    shot(till, "8-english-200")
