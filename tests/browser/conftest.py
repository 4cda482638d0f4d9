import os

import pytest

from tests.browser.pages import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import need
from tests.live import Daphne


@pytest.fixture
def server(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    daphne = Daphne(log_dir=tmp_path)
    yield daphne
    daphne.stop()


@pytest.fixture
def browser(monkeypatch):
    need(os.path.exists(CHROMIUM), f"Chromium at {CHROMIUM}")
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A new phone: its own cookies, a phone-sized screen."""
    contexts = []

    def make(locale="zh-CN"):
        context = browser.new_context(
            viewport={"width": 390, "height": 800}, locale=locale, is_mobile=True
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def staff_screen(browser):
    contexts = []

    def make(server, username, password, path):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{server.url}/accounts/login/?next={path}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button.primary")
        page.wait_for_url(f"{server.url}{path}")
        return page

    yield make
    for context in contexts:
        context.close()
