"""Steps of the platform's stories, as a person does them in the browser.

Selectors are language-independent (form actions, field names, data attributes), so every
step works with the Chinese and the English UI. Each step returns what later steps need
(ids, URLs). Later flows (deposit webhook, sealing in the browser, the opening room,
decryption, the expert draw, scoring, publicity and award, the supervisor's replay) add
their steps here and their tests in new modules (test_3x_*.py ...), reading and writing
the session's `story`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = 86400.0


@dataclass
class Story:
    """State shared by the e2e tests of one session, in order (tests/e2e/test_*.py run by name)."""

    acceleration: float = 1.0
    tender_id: int | None = None
    tender_code: str = ""
    lots: list[dict] = field(default_factory=list)  # [{"id", "number", "title"}]
    bid_deadline: datetime | None = None
    registrations: dict[str, int] = field(default_factory=dict)  # username -> registration id
    question: str = ""
    answer: str = ""
    extra: dict = field(default_factory=dict)  # later flows keep their state here

    def need(self, *names: str) -> None:
        """Skip the calling test when an earlier step did not produce what it needs."""
        missing = [n for n in names if not getattr(self, n, None) and not self.extra.get(n)]
        if missing:
            pytest.skip(f"an earlier e2e step did not produce {', '.join(missing)}")

    def legal_seconds(self, days: float) -> float:
        """A legal period in seconds under the sandbox acceleration."""
        return days * DAY / self.acceleration


def local_input(moment: datetime) -> str:
    """The value of a datetime-local input (server local time, Asia/Shanghai)."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")


def id_from_url(url: str, pattern: str) -> int:
    match = re.search(pattern, url)
    assert match, f"no id in {url} (pattern {pattern})"
    return int(match.group(1))


# --- the agent -----------------------------------------------------------------------------------------


def agent_create_tender(page, *, title: str, tenderer: str, deadline: datetime, procedure: str = "works",
                        evaluation: str = "comprehensive_scoring", readout: tuple[str, ...] = ("duration_days",),
                        description: str = "") -> int:
    """New tender form → the draft's page; returns the tender id."""
    page.goto("/agent/tenders/new/")
    page.fill("#id_title", title)
    if description:
        page.fill("#id_description", description)
    option = page.locator("#id_tenderer option", has_text=tenderer).first.get_attribute("value")
    page.select_option("#id_tenderer", option)
    page.select_option("#id_procedure_type", procedure)
    page.select_option("#id_evaluation_method", evaluation)
    for item in readout:
        page.check(f"input[name=readout_items][value={item}]")
    page.fill("#id_bid_deadline", local_input(deadline))
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/agent/tenders/\d+/$"))
    return id_from_url(page.url, r"/agent/tenders/(\d+)/")


def agent_add_lot(page, tender_id: int, *, title: str, estimated_price: str, deposit: str) -> None:
    form = page.locator(f"form[action='/agent/tenders/{tender_id}/lots/']")
    form.locator("[name=title]").fill(title)
    form.locator("[name=estimated_price]").fill(estimated_price)
    form.locator("[name=deposit_amount]").fill(deposit)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/agent/tenders/{tender_id}/")


def agent_upload_document(page, tender_id: int, path: Path, name: str = "") -> None:
    """Upload through the page's form; the form shows a progress bar (ui.js, data-upload-progress)
    and then the page the server answers with, so wait for the new document row."""
    links = page.locator("a[href^='/tenders/documents/']")
    before = links.count()
    form = page.locator(f"form[action='/agent/tenders/{tender_id}/documents/']")
    form.locator("[name=file]").set_input_files(str(path))
    if name:
        form.locator("[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    page.wait_for_function(
        "n => document.querySelectorAll(\"a[href^='/tenders/documents/']\").length > n", arg=before
    )
    page.wait_for_load_state("load")


def agent_publish(page, tender_id: int, *, notice_body: str = "") -> None:
    form = page.locator(f"form[action='/agent/tenders/{tender_id}/publish/']")
    if notice_body:
        form.locator("[name=notice_body]").fill(notice_body)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/agent/tenders/{tender_id}/")


def agent_answer(page, tender_id: int, *, question: str, answer: str) -> None:
    page.goto(f"/agent/tenders/{tender_id}/")
    card = page.locator(".card", has_text=question).filter(has=page.locator("form[action*='/answer/']"))
    card.locator("textarea[name=answer]").fill(answer)
    card.locator("button[type=submit]").click()
    page.wait_for_url(f"**/agent/tenders/{tender_id}/")


def agent_lot_ids(page, tender_id: int) -> list[int]:
    """Ids of the draft's lots, in number order (from their edit links on the agent's page)."""
    page.goto(f"/agent/tenders/{tender_id}/")
    hrefs = page.locator("a[href^='/agent/lots/'][href$='/edit/']").evaluate_all("els => els.map(e => e.pathname)")
    return [id_from_url(h, r"/agent/lots/(\d+)/edit/") for h in hrefs]


# --- bidders ---------------------------------------------------------------------------------------------


def bidder_register(page, tender_id: int, lot_id: int) -> int:
    """From the bidder workspace: the lot's register button → the registration page; returns its id."""
    page.goto("/bidder/")
    page.locator(f"form[action='/bidder/lots/{lot_id}/register/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/bidder/registrations/\d+/$"))
    return id_from_url(page.url, r"/bidder/registrations/(\d+)/")


def bidder_ask(page, tender_id: int, text: str) -> None:
    page.goto(f"/bidder/tenders/{tender_id}/ask/")
    page.fill("textarea[name=text]", text)
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_url("**/bidder/")
