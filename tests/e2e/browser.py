"""Browser side of the e2e harness: users in their own browser contexts, screenshots, axe.

    page = users.page("agent1")                 # a new context, logged in through the login page
    page = users.page("bidder1", locale="en")   # English UI (Accept-Language)
    page = users.page(None)                     # a visitor
    page = users.page("bidder2", phone=True)    # phone viewport (390×844, touch)
    users.checkpoint(page, "agent-tender")      # no JS errors, axe (serious/critical fail), screenshot

Every user logs in once per session through the real login page; later contexts of the
same user reuse the saved cookies (`fresh=True` logs in again). Contexts are closed at the
end of each test; when a test fails, every open page is saved as FAILED-<test>-<n>.png.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from demo.accounts import DEMO_PASSWORD

DEFAULT_LOCALE = "zh-CN"  # the platform's language; pass locale="en" for English pages
TIMEZONE = "Asia/Shanghai"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# axe-core: the WCAG 2.x A/AA rules plus best practices. Serious and critical violations fail
# the test; the rest are written to the report (test-artifacts/e2e/axe/<name>.json).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")
# Rules switched off for every page, with the reason (docs/ui.md lists them too). Keep this short.
DISABLED_RULES: dict[str, str] = {}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:120] or "page"


@dataclass
class Artifacts:
    root: Path
    taken: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "axe").mkdir(exist_ok=True)
        for stale in self.root.glob("FAILED-*.png"):  # from an earlier run
            stale.unlink(missing_ok=True)

    def screenshot(self, page, name: str, *, full_page: bool = True) -> Path:
        path = self.root / f"{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        self.taken.append(path)
        return path


class AxeViolations(AssertionError):
    pass


class Axe:
    def __init__(self, script: Path, artifacts: Artifacts) -> None:
        self.source = script.read_text(encoding="utf-8")
        self.artifacts = artifacts

    def run(self, page, *, disable: dict[str, str] | None = None, include: str | None = None) -> dict:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated over the DevTools protocol: an inline <script> tag would be (rightly) blocked
            # by the pages' Content-Security-Policy (config/security.py).
            page.evaluate(f"() => {{ {self.source}\n; return typeof window.axe; }}")
        rules = {rule: {"enabled": False} for rule in {**DISABLED_RULES, **(disable or {})}}
        options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "rules": rules, "resultTypes": ["violations"]}
        return page.evaluate(
            "([context, options]) => axe.run(context || document, options)", [include, options]
        )

    def check(self, page, name: str, *, disable: dict[str, str] | None = None, include: str | None = None) -> list:
        """Run axe; write the report; raise AxeViolations listing serious/critical violations."""
        result = self.run(page, disable=disable, include=include)
        violations = result.get("violations", [])
        report = self.artifacts.root / "axe" / f"{_slug(name)}.json"
        report.write_text(
            json.dumps({"url": page.url, "violations": violations}, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
        if failing:
            lines = [f"axe: {len(failing)} serious/critical accessibility violation(s) on {page.url} ({report}):"]
            for v in failing:
                targets = ", ".join(" ".join(n.get("target", [])) for n in v.get("nodes", [])[:4])
                lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} — {targets}")
            raise AxeViolations("\n".join(lines))
        return violations


class Users:
    """Browser contexts per user for one test."""

    def __init__(self, browser, base_url: str, artifacts: Artifacts, axe: Axe, login_cache: dict) -> None:
        self.browser = browser
        self.base_url = base_url
        self.artifacts = artifacts
        self.axe = axe
        self._login_cache = login_cache  # username -> storage state (session-wide)
        self.contexts: list = []
        self.errors: dict[int, list[str]] = {}

    # --- contexts and pages ----------------------------------------------------------------------

    def context(self, *, locale: str = DEFAULT_LOCALE, phone: bool = False, storage_state=None):
        options = {
            "base_url": self.base_url,
            "locale": locale,
            "timezone_id": TIMEZONE,
            "viewport": PHONE if phone else LAPTOP,
            "storage_state": storage_state,
            "accept_downloads": True,
        }
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        ctx = self.browser.new_context(**options)
        ctx.set_default_timeout(15_000)
        self.contexts.append(ctx)
        return ctx

    def new_page(self, ctx):
        page = ctx.new_page()
        errors = self.errors.setdefault(id(page), [])
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # A Content-Security-Policy violation (config/security.py) is a console error, not a page error.
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        return page

    def page(self, username: str | None, *, locale: str = DEFAULT_LOCALE, phone: bool = False, fresh: bool = False,
             password: str = DEMO_PASSWORD, path: str = "/"):
        """A page in a new context of `username` (None: a visitor), opened at `path`."""
        state = None if (fresh or username is None) else self._login_cache.get(username)
        ctx = self.context(locale=locale, phone=phone, storage_state=state)
        page = self.new_page(ctx)
        if username is not None and state is None:
            self.login(page, username, password)
            self._login_cache[username] = ctx.storage_state()
        page.goto(path)
        return page

    def login(self, page, username: str, password: str = DEMO_PASSWORD) -> None:
        """Through the login page, as a person would."""
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

    # --- checks ------------------------------------------------------------------------------------

    def js_errors(self, page) -> list[str]:
        return list(self.errors.get(id(page), []))

    def checkpoint(self, page, name: str, *, axe: bool = True, disable: dict[str, str] | None = None,
                   full_page: bool = True) -> Path:
        """A key page: it raised no JavaScript error, it has no serious accessibility violation,
        and its screenshot is saved as test-artifacts/e2e/<name>.png."""
        page.wait_for_load_state("load")
        path = self.artifacts.screenshot(page, name, full_page=full_page)
        errors = self.js_errors(page)
        assert not errors, f"JavaScript errors on {page.url}: {errors}"
        if axe:
            self.axe.check(page, name, disable=disable)
        return path

    def close(self, failed_name: str | None = None) -> None:
        if failed_name:
            n = 0
            for ctx in self.contexts:
                for page in ctx.pages:
                    n += 1
                    with contextlib.suppress(Exception):  # best effort; the test failure is what matters
                        self.artifacts.screenshot(page, f"FAILED-{failed_name}-{n}")
        for ctx in self.contexts:
            with contextlib.suppress(Exception):
                ctx.close()
        self.contexts.clear()


def wait_until(page, expression: str, arg=None, *, timeout: float = 30_000, interval: float = 0.1) -> None:
    """Wait until `expression` (a JS expression, or a function taking `arg`) is truthy in the page.

    Playwright's `wait_for_function` polls inside the page with `eval`, which the platform's
    Content-Security-Policy (`script-src 'self'`, config/security.py) rightly forbids. This polls
    from the test instead: each check is a DevTools evaluation, which a page's CSP does not govern.
    """
    import time

    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(expression, arg):
                return
        except PlaywrightError as exc:  # a navigation replaced the document: check again
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} ms waiting for: {expression}")
        time.sleep(interval)
