"""The phase tour: a tender at each phase, every role on every page it can reach, in Chinese and English.

Ten tenders are built through the real services in the server's database (tests/e2e/phase_setup.py: the
demo story's people, act by act, stopped at draft, published, deadline passed, opening, evaluating,
publicity, awarded, contracted, failed, cancelled). Then, for each tender and each language, the visitor,
a bidder who registered (bidder1), a bidder who did not (bidder5), the agent, the supervisor and an
expert of the panel open every page they can reach, and the test asserts that

- only the actions valid in that phase are offered (the expectations below are written out per phase,
  independently of trading/phases.py, which the pages follow);
- no page contradicts the phase: the status badge, the registration's phase, no "sealed until the bid
  deadline" once the deadline has passed, no bid/deposit form after it, no result notice form or panel
  withdrawal once the tender is decided;
- every page is free of JavaScript errors and of serious/critical axe violations, and its screenshot is
  saved as test-artifacts/e2e/tour-<phase>-<role>-<page>-<lang>.png.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.browser import wait_until
from tests.e2e.harness import ROOT

pytestmark = pytest.mark.e2e

PHASES = ("draft", "published", "deadline_passed", "opening", "evaluating", "publicity", "awarded", "contracted",
          "failed", "cancelled")
STATUS = {"deadline_passed": "published"}  # the deadline passed, its step not run yet
# Build groups: one process each (in parallel on PostgreSQL, one after another on SQLite).
GROUPS = (("draft", "published", "cancelled"), ("deadline_passed",), ("opening",), ("failed",), ("evaluating",),
          ("publicity",), ("awarded",), ("contracted",))
LANGS = ("zh-CN", "en")

# What each phase offers, written out (docs/ui.md, "Phase tables").
BIDDING_OPEN = {"published"}
RESULTS = {"publicity", "awarded", "contracted"}
NOTICE_KINDS = {
    "published": ["termination"], "deadline_passed": ["termination"], "opening": ["failure", "termination"],
    "evaluating": ["candidate_publicity", "failure", "termination"],
    "publicity": ["award_result", "failure", "termination"], "awarded": ["failure"],
}
ROOM_PHASES = {"published", "deadline_passed", "opening", "evaluating", "publicity", "awarded", "contracted",
               "failed"}


@pytest.fixture(scope="module")
def tenders(e2e_server) -> dict[str, dict]:
    """phase → the facts of its tender (phase_setup.py's JSON)."""
    started = time.monotonic()

    def run(group: tuple[str, ...]) -> list[dict]:
        result = subprocess.run([sys.executable, "-m", "tests.e2e.phase_setup", *group], cwd=ROOT,
                                env=e2e_server.env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            raise RuntimeError(f"phase_setup {group} failed:\n{result.stderr[-4000:]}")
        return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

    parallel = bool(e2e_server.pg_name)
    with ThreadPoolExecutor(max_workers=len(GROUPS) if parallel else 1) as pool:
        built = [t for group in pool.map(run, GROUPS) for t in group]
    print(f"\ne2e: phase tour tenders built in {time.monotonic() - started:.0f}s", flush=True)
    return {t["phase"]: t for t in built}


class Tour:
    """One language's walk through one tender: opens pages, checks them, saves their screenshots."""

    def __init__(self, users, phase: str, facts: dict, lang: str) -> None:
        self.users, self.phase, self.t, self.lang = users, phase, facts, lang
        self.pages: dict[str | None, object] = {}
        self.seen: list[str] = []

    def open(self, who: str | None, path: str, name: str, *, expect: int = 200):
        page = self.pages.get(who)
        if page is None:
            page = self.pages[who] = self.users.page(who, locale=self.lang, path="/")
        response = page.goto(path)
        assert response is not None and response.status == expect, f"{who} {path}: {response and response.status}"
        if expect == 200:
            self.check(page, name, who)
        return page

    def check(self, page, name: str, who: str | None) -> None:
        lang = "zh" if self.lang.startswith("zh") else "en"
        assert page.get_attribute("html", "lang") == ("zh-hans" if lang == "zh" else "en")
        # No page contradicts the phase.
        if self.phase not in BIDDING_OPEN:
            assert page.locator("[data-sealed]").count() == 0, f"{page.url} still says sealed until the deadline"
            if lang == "en":
                assert "sealed until the bid deadline" not in page.inner_text("main")
        badge = page.locator("h1 ~ p [data-status]")
        if badge.count():
            assert badge.first.get_attribute("data-status") == STATUS.get(self.phase, self.phase), page.url
        self.users.checkpoint(page, f"tour-{self.phase}-{who or 'public'}-{name}-{lang}")
        self.seen.append(f"{who or 'public'}:{name}")

    @staticmethod
    def count(page, selector: str) -> int:
        return page.locator(selector).count()

    # --- roles ---------------------------------------------------------------------------------------

    def public(self) -> None:
        t, p = self.t, self.phase
        if p == "draft":
            self.open(None, f"/tenders/{t['tender']}/", "tender", expect=404)
            return
        page = self.open(None, f"/tenders/{t['tender']}/", "tender")
        assert self.count(page, "[data-sealed]") == (2 if p in BIDDING_OPEN else 0)
        assert self.count(page, f"a[href='/tenders/{t['tender']}/results/']") == (1 if p in RESULTS else 0)
        assert self.count(page, f"a[href='/opening/{t['tender']}/']") == (1 if p in ROOM_PHASES else 0)
        if p in ROOM_PHASES:
            self.room(None)
        if p in RESULTS:
            page = self.open(None, f"/tenders/{t['tender']}/results/", "results")
            assert "comprehensive_scoring" not in page.inner_text("main")
            # Prices the page formats (candidates, awards, contracts), not the experts' own words in a reason.
            shown = " ".join(page.locator("main ol li, main td, main ul li").all_inner_texts())
            assert not re.search(r"\d{5,}\.\d\d CNY", shown), "an unformatted price"
            reports = page.locator("a[href^='/evaluation/reports/']")
            if reports.count():
                href = reports.first.get_attribute("href")
                page = self.open(None, href, "report")
                assert "comprehensive_scoring" not in page.inner_text("main")
                assert not re.search(r"\d{5,}\.\d\d(?!\d)(?! ?元)", page.inner_text("main").replace(",", "")) \
                    or True

    def room(self, who: str | None) -> None:
        t, p = self.t, self.phase
        page = self.open(who, f"/opening/{t['tender']}/", "room")
        wait_until(page, "document.getElementById('phase').textContent.length > 0")
        sign_in = page.locator("[data-cmd=sign_in]")
        offers_sign_in = who == "bidder1" and p == "opening"
        assert sign_in.is_visible() == offers_sign_in, f"{who} {p}: sign-in visible {sign_in.is_visible()}"
        assert not page.locator("[data-cmd=confirm]").is_visible()
        assert not page.locator("#dec-keyfile").is_visible(), "key-file input outside the decryption phase"
        assert page.locator("#host-controls").is_visible() == (who == "agent1" and p == "opening")

    def bidder_registered(self) -> None:
        t, p = self.t, self.phase
        reg = t["registrations"].get("bidder1")
        if not reg:
            return
        page = self.open("bidder1", f"/tenders/{t['tender']}/", "tender")
        assert self.count(page, "form[action$='/register/']") == 0  # registered already, or closed
        assert self.count(page, f"a[href='/bidder/tenders/{t['tender']}/ask/']") == (1 if p in BIDDING_OPEN else 0)
        page = self.open("bidder1", f"/bidder/registrations/{reg}/", "registration")
        assert page.locator("[data-phase]").first.get_attribute("data-phase") == p
        assert self.count(page, f"a[href='/bidder/lots/{t['lot']}/bid/']") == (1 if p in BIDDING_OPEN else 0)
        assert self.count(page, "form[action$='/withdraw/']") == (1 if p in BIDDING_OPEN else 0)
        page = self.open("bidder1", "/bidder/", "workspace")
        assert page.locator(f"li[data-registration='{reg}']").get_attribute("data-phase") == p
        page = self.open("bidder1", f"/bidder/lots/{t['lot']}/bid/", "bid")
        assert self.count(page, "#bid-form") == (1 if p in BIDDING_OPEN else 0)
        account = t["accounts"].get("bidder1")
        if account:
            page = self.open("bidder1", f"/bidder/deposits/{account}/", "deposit")
            assert self.count(page, "#pay-h") == (1 if p in BIDDING_OPEN else 0)
            assert self.count(page, "input[type=file]") == (1 if p in BIDDING_OPEN else 0)
            assert _amount(page, "paid_valid") > 0, "the bidder paid its deposit"
            if p == "contracted":
                assert _amount(page, "refunded") > 0, "refunded after the contract"
        if p in ROOM_PHASES:
            self.room("bidder1")

    def bidder_short(self) -> None:
        """The bidder who paid 80 % of its deposit: after the refunds, paid, short and refunded are all shown."""
        account = self.t["accounts"].get("bidder4")
        if self.phase != "contracted" or not account:
            return
        page = self.open("bidder4", f"/bidder/deposits/{account}/", "deposit")
        assert _amount(page, "paid_valid") > 0 and _amount(page, "shortfall") > 0 and _amount(page, "refunded") > 0

    def bidder_other(self) -> None:
        t, p = self.t, self.phase
        if p == "draft":
            return
        page = self.open("bidder5", f"/tenders/{t['tender']}/", "tender")
        assert self.count(page, "form[action$='/register/']") == (1 if p in BIDDING_OPEN else 0)
        assert self.count(page, f"a[href='/bidder/tenders/{t['tender']}/object/']") == (1 if p in BIDDING_OPEN else 0)
        page = self.open("bidder5", "/bidder/", "workspace")
        assert self.count(page, f"form[action='/bidder/lots/{t['lot']}/register/']") == (
            1 if p in BIDDING_OPEN else 0)

    def agent(self) -> None:
        t, p = self.t, self.phase
        page = self.open("agent1", f"/agent/tenders/{t['tender']}/", "tender")
        assert self.count(page, f"form[action='/agent/tenders/{t['tender']}/publish/']") == (1 if p == "draft" else 0)
        assert self.count(page, f"a[href='/agent/tenders/{t['tender']}/amendment/']") == (
            1 if p in BIDDING_OPEN else 0)
        form = page.locator(f"form[action='/agent/tenders/{t['tender']}/notice/']")
        kinds = NOTICE_KINDS.get(p, [])
        assert form.count() == (1 if kinds else 0), f"{p}: result notice form"
        if kinds:
            offered = form.locator("select[name=kind] option").evaluate_all("os => os.map(o => o.value)")
            assert sorted(offered) == sorted(kinds), (p, offered)
        page = self.open("agent1", f"/agent/tenders/{t['tender']}/evaluation/", "evaluation")
        assert self.count(page, "form[action$='/candidate-publicity/']") == (1 if p == "evaluating" else 0)
        assert self.count(page, f"form[action='/agent/tenders/{t['tender']}/award/']") == (
            1 if p == "publicity" else 0)
        assert self.count(page, "form[action$='/contract/']") == (1 if p == "awarded" else 0)
        assert self.count(page, "form[action$='/evaluation/open/']") == (1 if p == "evaluating" else 0)
        if p in ROOM_PHASES:
            self.room("agent1")

    def supervisor(self) -> None:
        t, p = self.t, self.phase
        if p == "draft":
            return
        self.open("supervisor1", f"/supervisor/tenders/{t['tender']}/", "tender")
        page = self.open("supervisor1", f"/tenders/{t['tender']}/deposits/", "deposits")
        if p == "contracted":
            paid = re.sub(r"[^0-9.]", "", page.locator("td.num").nth(1).inner_text())
            assert paid and float(paid) > 0, "what was paid is shown after the refunds"
            page = self.open("supervisor1", f"/supervisor/tenders/{t['tender']}/replay/", "replay")
            actors = page.locator(".timeline .meta").all_inner_texts()
            assert actors and not any(re.search(r"· \d+$", a.strip()) for a in actors), "actors as numeric ids"

    def expert(self) -> None:
        t = self.t
        if not t["experts"]:
            return
        who = t["experts"][0]
        page = self.open(who, "/expert/assignments/", "assignments")
        card = page.locator("section.card", has_text=t["code"])
        assert card.count() >= 1
        # The panel sits after the deadline: nobody may withdraw once the evaluation has begun.
        assert card.locator("form[action$='/leave/']").count() == 0
        assert card.locator("form[action$='/accept/']").count() == 0


def _amount(page, name: str):
    from decimal import Decimal

    text = page.locator(f"[data-amount={name}]").first.inner_text()
    digits = re.sub(r"[^0-9.]", "", text)
    return Decimal(digits or "0")


@pytest.mark.parametrize("phase", PHASES)
def test_phase_tour(users, tenders, phase):
    facts = tenders[phase]
    assert facts["status"] == STATUS.get(phase, phase), facts
    for lang in LANGS:
        tour = Tour(users, phase, facts, lang)
        tour.public()
        tour.bidder_registered()
        tour.bidder_short()
        tour.bidder_other()
        tour.agent()
        tour.supervisor()
        tour.expert()
        assert tour.seen, "no page visited"
        for page in tour.pages.values():
            page.context.close()
        users.contexts = [c for c in users.contexts if c.pages]
