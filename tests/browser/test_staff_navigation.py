"""Issue 12.11: the manager's admin speaks its own words, its "view site" leads somewhere, and
every staff screen shows one navigation with what the role may open."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_the_admin_says_change_not_cash_change_and_view_site_leads_to_the_staff_screens(
    server, staff_screen, manager, menu
):
    manager.is_staff = True  # as the demo's manager: the admin lets in staff users only
    manager.save()
    admin = staff_screen(server, "manager", "pw-manager", "/admin/")
    expect(admin.locator("#content")).to_contain_text("修改")
    expect(admin.locator("body")).not_to_contain_text("找零")

    admin.get_by_role("link", name="查看站点").click()
    nav = admin.locator(".staff-screens")
    for screen in ("后厨", "传菜", "估清", "收银", "后台管理"):
        expect(nav).to_contain_text(screen)


def test_each_role_sees_the_screens_it_may_open_and_can_go_there(
    server, staff_screen, cook, cashier
):
    kitchen = staff_screen(server, "cook", "pw-cook", "/kitchen/")
    nav = kitchen.locator(".staff-bar .staff-screens")
    expect(nav.get_by_role("link", name="后厨")).to_have_attribute("aria-current", "page")
    expect(nav).not_to_contain_text("收银")
    expect(nav).not_to_contain_text("后台管理")
    nav.get_by_role("link", name="传菜").click()
    expect(kitchen.locator(".staff-bar h1")).to_contain_text("传菜")

    counter = staff_screen(server, "cashier", "pw-cashier", "/cashier/")
    nav = counter.locator(".staff-bar .staff-screens")
    expect(nav.get_by_role("link", name="收银")).to_have_attribute("aria-current", "page")
    expect(nav).not_to_contain_text("后厨")
    nav.get_by_role("link", name="代客点单").click()
    expect(counter.locator(".table-grid")).to_be_visible()
