"""Issue 12.9: readable for an elderly diner. Nothing a diner reads is below 16 px at the
default size, every target is at least 44×44 px, and at 200 % text size (the phone's font-size
setting) the page keeps its width and every control stays usable."""

import os

import pytest
from playwright.sync_api import expect

from tests.browser.pages import live, order_dishes

pytestmark = pytest.mark.browser

# What a diner reads and taps, measured in the page: elements with their own text under 16 px,
# targets under 44×44 px (a radio or checkbox counts by its label), targets cut off on the right.
MEASURE = """() => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== "hidden";
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/ +/g, ".") : "") +
    " " + JSON.stringify((el.textContent || el.value || "").trim().slice(0, 20));
  const small = [], tiny = [], cut = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!shown(el)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (own && size < 16) small.push(name(el) + " " + size + "px");
  }
  const targets = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (let el of document.querySelectorAll(targets)) {
    if (!shown(el)) continue;
    if (el.type === "radio" || el.type === "checkbox") el = el.closest("label") || el;
    const r = el.getBoundingClientRect();
    if (r.width < 44 || r.height < 44) tiny.push(name(el) + " " + Math.round(r.width) + "x" + Math.round(r.height));
    if (r.right > document.documentElement.clientWidth + 1) cut.push(name(el));
  }
  // On a phone the layout viewport widens to fit what overflows: compare with the screen.
  const wide = Math.max(window.innerWidth, document.documentElement.scrollWidth) > screen.width + 1;
  return { small, tiny, cut, wide };
}"""


def _open_everything(page, menu):
    page.locator(f"#dish-{menu['chicken'].pk} .choose-link").click()
    page.locator(f"#dish-{menu['cucumber'].pk} .quick-add button").click()
    expect(page.locator("#cart")).to_contain_text("拍黄瓜")


def _measure(page):
    page.wait_for_timeout(300)  # let the last swap settle
    return page.evaluate(MEASURE)


def test_nothing_a_diner_reads_is_below_16px_and_every_target_is_44px(server, phone, table, menu):
    page = phone()
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)
    order_dishes(page, menu["cucumber"])
    _open_everything(page, menu)

    menu_page = _measure(page)
    page.locator("#cart-sheet > summary").click()
    cart = _measure(page)
    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)
    pay = _measure(page)

    for found in (menu_page, cart, pay):
        assert found["small"] == []
        assert found["tiny"] == []


def test_at_200_percent_text_the_page_keeps_its_width_and_orders(server, phone, table, menu):
    page = phone()
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.enable")
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    page.goto(f"{server.url}/t/{table.token}/")
    live(page)
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") == 32

    _open_everything(page, menu)
    found = _measure(page)
    assert not found["wide"] and found["cut"] == []

    page.locator("#cart-sheet > summary").click()
    page.locator("#cart input[name=guests]").fill("2")
    found = _measure(page)
    assert not found["wide"] and found["cut"] == []
    page.locator("#cart button.primary").click()
    expect(page.locator("#flash")).to_contain_text("下单成功")
    expect(page.locator("#tab")).to_contain_text("拍黄瓜")
    # The round just ordered, with its 催菜 button, on the menu page.
    expect(page.locator("#tab .urge button").first).to_be_visible()
    found = _measure(page)
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.locator("#tab").screenshot(path=f"{shots}/tab-200-percent.png")
    assert not found["wide"] and found["cut"] == []

    page.goto(f"{server.url}/t/{table.token}/pay/")
    live(page)
    found = _measure(page)
    assert not found["wide"] and found["cut"] == []
