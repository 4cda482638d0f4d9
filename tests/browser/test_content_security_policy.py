"""The pages work under the Content-Security-Policy: no inline script or style, no eval, and
sockets to this site only. Chromium reports every refused script, style or connection; a
working order through the diner's phone to the kitchen under the policy proves htmx and its ws
extension need nothing the policy forbids."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import live

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def watch(page):
    """Collect the page's policy violations, as events and as console errors."""
    seen = []

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            seen.append(message.text)

    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", on_console)
    return seen


def violations(page, console):
    return console + page.evaluate("window.__csp || []")


def test_the_diner_orders_and_the_kitchen_sees_it_with_no_policy_violation(
    server, phone, browser, cook, table, menu
):
    diner = phone()
    diner_console = watch(diner)
    response = diner.goto(f"{server.url}/t/{table.token}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy

    kitchen_context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    kitchen = kitchen_context.new_page()
    kitchen.set_default_timeout(10_000)
    kitchen_console = watch(kitchen)
    kitchen.goto(f"{server.url}/accounts/login/?next=/kitchen/")
    kitchen.fill("input[name=username]", "cook")
    kitchen.fill("input[name=password]", "pw-cook")
    kitchen.click("button.primary")
    kitchen.wait_for_url(f"{server.url}/kitchen/")
    live(diner)
    live(kitchen)

    # The "me" marker is the page's one inline style: it applies, by its nonce.
    diner.locator(f"#dish-{menu['cucumber'].pk} .quick-add button").click()
    # The dish opened the visit; once the page's socket follows it (its stamp is in the page)
    # no later swap replaces the line under the check.
    expect(diner.locator('.live-seq[data-stream^="tab."]')).to_be_attached()
    # Read again until it holds: a socket swap may replace the line between two looks.
    diner.wait_for_function(
        "() => { const e = document.querySelector('#cart .who');"
        " return !!e && getComputedStyle(e, '::after').content.includes('·'); }",
        timeout=5_000,
    )
    diner.locator("#cart-sheet > summary").click()
    diner.locator("#cart input[name=guests]").fill("2")
    diner.locator("#cart button.primary").click()

    expect(kitchen.locator("#tickets .ticket")).to_contain_text("拍黄瓜")
    expect(diner.locator("#tab .line", has_text="拍黄瓜")).to_have_class("line status-queued")
    kitchen.locator("#tickets .line", has_text="拍黄瓜").locator("button.bump").click()
    expect(diner.locator("#tab .line", has_text="拍黄瓜")).to_have_class("line status-cooking")

    assert violations(diner, diner_console) == []
    assert violations(kitchen, kitchen_console) == []
    kitchen_context.close()


def test_the_cashier_and_the_admin_pages_raise_no_policy_violation(
    server, browser, manager, table, menu
):
    manager.is_staff = True
    manager.save()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = watch(page)
    page.goto(f"{server.url}/accounts/login/?next=/cashier/")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "pw-manager")
    page.click("button.primary")
    page.wait_for_url(f"{server.url}/cashier/")
    live(page)
    for path in ("/admin/", "/admin/orders/table/", f"/admin/orders/table/{table.pk}/change/"):
        page.goto(server.url + path)
        expect(page.locator("#content")).to_be_visible()
    page.goto(f"{server.url}/admin/orders/table/qr-sheet/?ids={table.pk}")
    assert violations(page, console) == []
    context.close()
