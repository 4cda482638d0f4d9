"""Make the README's screenshots from the real product.

    .venv/bin/python docs/screenshots.py            # writes docs/*.png
    .venv/bin/python docs/screenshots.py --keep     # also keeps the temp database and logs

What it does:

1. Creates a throwaway SQLite database and media folder in a temp dir, runs
   `manage.py migrate` and `manage.py load_demo` there, and starts one daphne process on a free
   loopback port (stopped again at the end, whatever happens).
2. Drives headless Chromium (Debian's /usr/bin/chromium, locale zh-CN) with Playwright:
   - docs/diner.png    a phone on table A1's page, two dishes added to the cart with "+";
   - docs/kitchen.png  the kitchen board after three tables ordered (through the JSON API),
                       with a few dishes started and one voided by the cashier (struck
                       through), so every state shows;
   - docs/pass.png     the pass screen after the kitchen marked a dish ready;
   - docs/cashier.png  the cashier dashboard with one table's bill open, when /cashier/ exists
                       and answers 200 for the demo cashier (skipped with a note otherwise).
3. Prints the paths written, with their sizes.

Nothing of the project's own database or media is touched. Needs the dev dependencies
(Playwright's Python package) and a Chromium; set CHROMIUM to use another binary.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The benchmarks' helpers start and stop daphne the same way.
sys.path.insert(0, str(ROOT / "bench"))
from common import Daphne, free_port, manage  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.browser.pages import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

DOCS = ROOT / "docs"
LOCALE = "zh-CN"
TIMEZONE = "Asia/Shanghai"
TIMEOUT_MS = 15_000

KITCHEN_LOGIN = ("kitchen", "diancan-kitchen")
CASHIER_LOGIN = ("cashier", "diancan-cashier")

# Three tables order through the JSON API: (table, guests, [(dish, options, quantity, note)]).
# Dishes and options are found by their Chinese names in GET /api/v1/menu; a required option
# group left unnamed gets its first option, and a dish the menu lacks is left out.
ORDERS = [
    (
        "A3",
        2,
        [
            ("宫保鸡丁", ["微辣", "大份"], 1, ""),
            ("拍黄瓜", [], 1, ""),
            ("酸梅汤", ["冰"], 2, ""),
            ("米饭", [], 2, ""),
        ],
    ),
    (
        "A5",
        4,
        [
            ("水煮牛肉", ["中辣", "小份"], 1, ""),
            ("夫妻肺片", [], 1, "少辣"),
            ("麻婆豆腐", ["微辣"], 1, ""),
            ("小笼包", [], 2, ""),
            ("青岛啤酒", ["冰镇"], 4, ""),
        ],
    ),
    (
        "B2",
        6,
        [
            ("北京烤鸭", ["整只", "加荷叶饼"], 1, ""),
            ("清蒸鲈鱼", [], 1, "葱姜多放"),
            ("西红柿炒鸡蛋", [], 1, ""),
            ("扬州炒饭", ["大份"], 1, ""),
            ("杨枝甘露", [], 2, ""),
        ],
    ),
]
# Kitchen: these dishes are started (one bump) before the board is shot, then bumped again
# (ready) for the pass screen.
START = [("A3", "拍黄瓜"), ("A5", "小笼包"), ("B2", "北京烤鸭")]
# The cashier voids this dish (退菜) before the board is shot: it stays on its ticket, struck
# through, as the kitchen must see it.
VOID = ("A5", "麻婆豆腐", "客人改主意")
# The diner's phone adds these with the "+" quick-add buttons.
DINER_TABLE = "A1"
DINER_ADDS = ["拍黄瓜", "夫妻肺片"]


# -- The server ---------------------------------------------------------------------------------


def server_env(workdir, port):
    """The environment of every manage.py call and of daphne: a private database and media."""
    env = {
        key: value
        for key, value in os.environ.items()
        # One process with the in-memory channel layer; nothing shared with a running site.
        if key not in ("REDIS_URL", "DATABASE_URL", "MEDIA_ROOT", "SERVICE_FLOW")
    }
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{workdir / 'shots.sqlite3'}",
            "MEDIA_ROOT": str(workdir / "media"),
            "DEBUG": "true",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CHANNEL_PREFIX": f"shots-{uuid.uuid4().hex[:8]}",
            "LANGUAGE_CODE": "zh-hans",
            "TIME_ZONE": TIMEZONE,
        }
    )
    return env


def table_tokens(env):
    """{table code: token}, read with the Django ORM from the throwaway database."""
    for key in ("DATABASE_URL", "MEDIA_ROOT", "DEBUG", "PUBLIC_URL", "LANGUAGE_CODE", "TIME_ZONE"):
        os.environ[key] = env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "restaurant.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    from orders.models import Table

    tokens = dict(Table.objects.values_list("code", "token"))
    connections.close_all()  # Playwright's event loop follows; no ORM from here on
    return tokens


# -- Orders through the JSON API ----------------------------------------------------------------


def api(url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", "Accept-Language": "zh-hans"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url}: {error.code} {error.read().decode(errors='replace')}") from None


def menu_dishes(server):
    """{dish name: dish} of the dishes one can order now, from GET /api/v1/menu."""
    menu = api(f"{server.url}/api/v1/menu")
    return {
        dish["name"]: dish
        for category in menu["categories"]
        for dish in category["dishes"]
        if dish["available"]
    }


def order_line(dish, option_names, quantity, note):
    """An API line for the dish with the named options; required groups get their first one."""
    chosen = []
    for group in dish["option_groups"]:
        picked = [o["id"] for o in group["options"] if o["name"] in option_names][: group["max"]]
        if len(picked) < group["min"]:
            rest = [o["id"] for o in group["options"] if o["id"] not in picked]
            picked += rest[: group["min"] - len(picked)]
        chosen += picked
    return {"dish": dish["id"], "quantity": quantity, "options": chosen, "note": note}


def place_orders(server, tokens):
    """Every table of ORDERS orders once; returns {table code: tab id}."""
    dishes = menu_dishes(server)
    tabs = {}
    for code, guests, wanted in ORDERS:
        lines = [
            order_line(dishes[name], options, quantity, note)
            for name, options, quantity, note in wanted
            if name in dishes
        ]
        if not lines:
            continue
        order = api(
            f"{server.url}/api/v1/tables/{tokens[code]}/orders",
            {"key": f"shots-{code}-{uuid.uuid4().hex[:8]}", "guests": guests, "lines": lines},
        )
        tabs[code] = order["tab"]
    return tabs


# -- Pages --------------------------------------------------------------------------------------


# What the browser complained about (console errors, uncaught exceptions), printed at the end.
PROBLEMS = []


def new_context(browser, **options):
    """A fresh browser profile (own cookies) in zh-CN that records the pages' errors."""
    context = browser.new_context(locale=LOCALE, timezone_id=TIMEZONE, **options)
    context.set_default_timeout(TIMEOUT_MS)

    def console(message):
        if message.type == "error":
            PROBLEMS.append(f"console error on {message.page.url}: {message.text}")

    context.on("console", console)
    context.on("weberror", lambda error: PROBLEMS.append(f"page error: {error.error}"))
    return context


def live(page):
    """Wait until the page's socket is connected (live.js sets body[data-live=1])."""
    page.wait_for_selector('body[data-live="1"]', state="attached")


def settle(page):
    """No focus ring, no half-finished transition, the images on screen loaded.

    Lazy images below the fold never load, so only those in the viewport are waited for, and
    for three seconds at most."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate(
        """() => Promise.race([
             new Promise(done => setTimeout(done, 3000)),
             Promise.all(Array.from(document.images)
               .filter(img => !img.complete)
               .filter(img => img.getBoundingClientRect().top < window.innerHeight)
               .map(img => new Promise(done => { img.onload = img.onerror = done; }))),
           ])"""
    )
    page.wait_for_timeout(400)


def shoot(page, name, crop_to=None):
    """Screenshot the viewport; with crop_to (a selector), cut off what is below that element."""
    path = DOCS / name
    settle(page)
    clip = None
    if crop_to:
        bottom = page.evaluate(
            "sel => Math.ceil(document.querySelector(sel).getBoundingClientRect().bottom)", crop_to
        )
        size = page.viewport_size
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], bottom)}
    page.screenshot(path=str(path), type="png", clip=clip, animations="disabled")
    return path


def log_in(context, server, username, password, path):
    """A staff page after logging in through the login form; None when it does not answer 200."""
    page = context.new_page()
    page.goto(f"{server.url}/accounts/login/?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("button.primary")
    answer = page.goto(f"{server.url}{path}")
    if answer is None or answer.status != 200:
        page.close()
        return None
    return page


def diner_shot(browser, server, tokens):
    context = new_context(
        browser,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.goto(f"{server.url}/t/{tokens[DINER_TABLE]}/")
    live(page)
    added = 0
    for name in DINER_ADDS:
        button = page.locator("article.dish", has=page.locator("h3", has_text=name)).locator(
            ".quick-add button"
        )
        if button.count() == 0:
            continue
        button.first.click()
        added += 1
        page.wait_for_function(
            "n => document.querySelector('#cart-bar').textContent.includes(String(n))", arg=added
        )
    page.evaluate("window.scrollTo(0, 0)")
    path = shoot(page, "diner.png")
    context.close()
    return path


def line_on_board(page, code, dish):
    ticket = page.locator("#tickets .ticket", has=page.locator(".table-code", has_text=code))
    return ticket.locator(".line", has_text=dish).first


def void_dish(browser, server, tokens):
    """The cashier voids VOID's dish from its table's page, with a reason."""
    code, dish, reason = VOID
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    page = log_in(context, server, *CASHIER_LOGIN, f"/t/{tokens[code]}/")
    if page is None:
        raise RuntimeError("the table's page did not answer 200 for the demo cashier")
    row = page.locator("#tab .line", has_text=dish).first
    row.locator("input[name=reason]").fill(reason)
    row.locator(".staff-void button").click()
    page.wait_for_selector(f"#tab .line.status-voided:has-text('{dish}')")
    context.close()


def kitchen_shots(browser, server, tokens):
    """The kitchen board with started dishes and a voided one, then the pass with dishes ready."""
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    page = log_in(context, server, *KITCHEN_LOGIN, "/kitchen/")
    if page is None:
        raise RuntimeError("the kitchen screen did not answer 200 for the demo kitchen login")
    live(page)
    page.wait_for_selector("#tickets .ticket")
    for code, dish in START:
        line = line_on_board(page, code, dish)
        if line.count() == 0:
            continue
        line.locator("button.bump").click()
        page.wait_for_function(
            "id => document.getElementById(id).classList.contains('status-cooking')",
            arg=line.get_attribute("id"),
        )
    void_dish(browser, server, tokens)
    page.wait_for_selector("#tickets .line.status-voided")
    paths = [shoot(page, "kitchen.png", crop_to="#board")]

    # The started dishes are ready: they go to the pass.
    for code, dish in START:
        line = line_on_board(page, code, dish)
        if line.count() == 0:
            continue
        line_id = line.get_attribute("id")
        line.locator("button.bump").click()
        page.wait_for_function(
            "id => { const l = document.getElementById(id);"
            " return !l || l.classList.contains('status-ready'); }",
            arg=line_id,
        )
    pass_page = context.new_page()
    pass_page.goto(f"{server.url}/kitchen/pass/")
    live(pass_page)
    pass_page.wait_for_selector("#pass-board .pass-table")
    paths.append(shoot(pass_page, "pass.png", crop_to="#pass-board"))
    context.close()
    return paths


def cashier_shot(browser, server, tabs):
    context = new_context(browser, viewport={"width": 1280, "height": 800})
    try:
        page = log_in(context, server, *CASHIER_LOGIN, "/cashier/")
        if page is None:
            print("note: /cashier/ does not answer 200 for the demo cashier; no cashier.png")
            return None
        tab = tabs.get("B2") or next(iter(tabs.values()), None)
        if tab is not None:
            page.goto(f"{server.url}/cashier/?tab={tab}")
        live(page)
        return shoot(page, "cashier.png")
    finally:
        context.close()


# -- Main ---------------------------------------------------------------------------------------


def take_screenshots(server, tokens):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"No Chromium at {CHROMIUM}; set CHROMIUM=/path/to/chromium")
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            written.append(diner_shot(browser, server, tokens))
            tabs = place_orders(server, tokens)
            written += kitchen_shots(browser, server, tokens)
            cashier = cashier_shot(browser, server, tabs)
            if cashier is not None:
                written.append(cashier)
        finally:
            browser.close()
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, logs)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="diancan-shots-"))
    port = free_port()
    env = server_env(workdir, port)
    DOCS.mkdir(exist_ok=True)
    server = None
    try:
        print("migrate, load_demo …", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        tokens = table_tokens(env)
        server = Daphne(env, port, log_path=workdir / "daphne.log")
        server.wait_until_ready()
        print(f"daphne at {server.url}", flush=True)
        written = take_screenshots(server, tokens)
    except BaseException:
        if server is not None:
            print(
                f"daphne's log ({server.log_path}):\n{server.log_path.read_text()}", file=sys.stderr
            )
        raise
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for problem in PROBLEMS:
        print(f"note: {problem}")
    for path in written:
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
