"""A visitor switches the language: zh-hans ↔ en on the home page and the notice portal;
keyboard basics (skip link) and the phone-width menu."""

import pytest

from tests.e2e.browser import wait_until

pytestmark = pytest.mark.e2e


def test_visitor_switches_language_on_home_and_portal(users):
    page = users.page(None, path="/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert "公共资源交易平台" in page.inner_text("h1")
    assert page.locator(".lang-switch .lang[aria-current='true']").get_attribute("value") == "zh-hans"
    users.checkpoint(page, "01-home-zh")

    page.locator(".lang-switch button[value='en']").click()
    wait_until(page, "document.documentElement.lang === 'en'")
    assert "Public Resource Trading Platform" in page.inner_text("h1")
    users.checkpoint(page, "02-home-en")

    page.goto("/notices/")
    assert page.get_attribute("html", "lang") == "en"  # the choice sticks (language cookie)
    assert page.locator("form[role=search] button[type=submit]").inner_text().strip() == "Search"
    users.checkpoint(page, "03-notices-en")

    page.locator(".lang-switch button[value='zh-hans']").click()
    wait_until(page, "document.documentElement.lang === 'zh-hans'")
    assert page.url.endswith("/notices/")  # back on the same page
    assert page.locator("form[role=search] button[type=submit]").inner_text().strip() == "搜索"
    users.checkpoint(page, "04-notices-zh")


def test_keyboard_skip_link_and_phone_menu(users):
    page = users.page(None, path="/notices/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert "skip-link" in focused
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    phone = users.page(None, phone=True, path="/")
    toggle = phone.locator(".nav-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not phone.locator("#site-nav").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert phone.locator("#site-nav a[href='/notices/']").is_visible()
    users.checkpoint(phone, "05-home-phone-menu")
