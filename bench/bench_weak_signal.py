"""The diner's menu on a weak signal, as a phone on slow 3G would load it.

    DATABASE_URL=postgres://… .venv/bin/python bench/bench_weak_signal.py [--runs 3]
    (without DATABASE_URL: a SQLite file in bench/out/)

One daphne (DEBUG off) serves the demo restaurant. Headless Chromium (CHROMIUM, default
/usr/bin/chromium) opens a table's page at phone size (390×844, DPR 3) through Chromium's
DevTools protocol: Network.emulateNetworkConditions (400 ms latency, 400 kbit/s each way),
Emulation.setCPUThrottlingRate 4, and a new browser context with the cache disabled for each
run. Printed per run and as the median:

- first contentful paint (the browser's own `first-contentful-paint` entry; target ≤ 1.5 s);
- first screen usable: from navigation start until a tap on the first dish's + would be sent
  (htmx has loaded and processed the button; target ≤ 2.5 s), then the tap's answer shown;
- the load event, requests and bytes before scrolling, and the photos' share of them.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    Daphne,
    bench_environment,
    free_port,
    log,
    machine,
    prepare_database,
    setup_django,
)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
KBIT = 1000 / 8  # bytes per second in one kbit/s
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT,
           "uploadThroughput": 400 * KBIT}  # fmt: skip

# Polled in the page from the start: when the first + can be tapped (htmx has processed it).
USABLE = """() => new Promise((resolve) => {
  const check = () => {
    const button = document.querySelector(".quick-add button");
    const form = button && button.closest("form");
    if (window.htmx && form && form["htmx-internal-data"]) resolve(performance.now());
    else requestAnimationFrame(check);
  };
  check();
})"""


def one_run(browser, url):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True,
        has_touch=True, locale="zh-CN",
    )  # fmt: skip
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    sizes = {}
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
    )
    kinds = {}
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], e["type"]))
    page.goto(url, wait_until="commit")
    usable = page.evaluate(USABLE)
    page.locator(".quick-add button").first.tap()
    page.locator("#cart-bar", has_text="1").wait_for()
    answered = page.evaluate("performance.now()")
    page.wait_for_load_state("load")
    timing = page.evaluate("""() => ({
      fcp: performance.getEntriesByName("first-contentful-paint")[0]?.startTime,
      load: performance.getEntriesByType("navigation")[0].loadEventEnd })""")
    photos = sum(size for rid, size in sizes.items() if kinds.get(rid) == "Image")
    result = {
        "fcp": timing["fcp"] / 1000,
        "usable": usable / 1000,
        "answered": answered / 1000,
        "load": timing["load"] / 1000,
        "requests": len(sizes),
        "kb": sum(sizes.values()) / 1024,
        "photo_kb": photos / 1024,
    }
    context.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    env = bench_environment(port, database="diancan_bench_weak")
    prepare_database(env)
    setup_django(env)
    from orders.models import Table

    # A table per run: each run adds a dish to its table's cart.
    tables = list(Table.objects.order_by("id")[: args.runs + 1])
    urls = [f"http://127.0.0.1:{port}{table.diner_path}" for table in tables]
    daphne = Daphne(env, port)
    try:
        daphne.wait_until_ready()
        import os

        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS,
            )
            one_run(browser, urls[0])  # warms the server's menu cache, not the browser's
            runs = []
            for n in range(args.runs):
                runs.append(one_run(browser, urls[n + 1]))
                log(f"run {n + 1}: {runs[-1]}")
            browser.close()
    finally:
        daphne.stop()

    print(f"The menu on slow 3G (400 ms, 400 kbit/s) with 4x CPU slowdown, fresh cache, "
          f"{args.runs} runs, 390x844 DPR 3:")  # fmt: skip
    rows = [
        ("first contentful paint", "fcp", "s", "target <= 1.5 s"),
        ("first screen usable (+ can be tapped)", "usable", "s", "target <= 2.5 s"),
        ("  tap + -> the cart shows it", "answered", "s", "from navigation start"),
        ("load event", "load", "s", ""),
        ("requests by the load event", "requests", "", ""),
        ("bytes by the load event", "kb", "KB", ""),
        ("  of them photos", "photo_kb", "KB", ""),
    ]
    for label, key, unit, note in rows:
        values = [run[key] for run in runs]
        shown = ", ".join(f"{v:.2f}" if unit == "s" else f"{v:.0f}" for v in values)
        median = statistics.median(values)
        med = f"{median:.2f}" if unit == "s" else f"{median:.0f}"
        print(f"  {label:40} median {med:>6} {unit:2}  ({shown}) {note}")
    print(machine())


if __name__ == "__main__":
    main()
