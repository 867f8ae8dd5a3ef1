"""Steps of the platform's stories, as a person does them in the browser.

Selectors are language-independent (form actions, field names, data attributes), so every
step works with the Chinese and the English UI. Each step returns what later steps need
(ids, URLs). The tests (test_01 … test_08, in file order) read and write the session's
`story`. Steps that are not a person in a browser say so: `bank_notify` (the bank's signed
webhook), `run_due_steps` (the beat's sweep, run at chosen moments), `called_experts` (the
SMS outbox).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.browser import wait_until

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
    registrations: dict[str, str] = field(default_factory=dict)  # username -> registration public id
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


# public ids of registrations, bids, sub-accounts
UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


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
    wait_until(page,
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


def bidder_register(page, tender_id: int, lot_id: int) -> str:
    """From the bidder workspace: the lot's register button → the registration page; returns its public id."""
    page.goto("/bidder/")
    page.locator(f"form[action='/bidder/lots/{lot_id}/register/'] button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/bidder/registrations/{UUID_RE}/$"))
    match = re.search(rf"/bidder/registrations/({UUID_RE})/", page.url)
    assert match, f"no registration id in {page.url}"
    return match.group(1)


def bidder_ask(page, tender_id: int, text: str) -> None:
    page.goto(f"/bidder/tenders/{tender_id}/ask/")
    page.fill("textarea[name=text]", text)
    page.locator("main form.form button[type=submit]").click()
    page.wait_for_url("**/bidder/")


def agent_set_criteria(page, tender_id: int, criteria: list[tuple[str, str, str]]) -> None:
    """The draft's comprehensive-scoring criteria (name, kind price|scored, maximum points); fixed
    once published (招标投标法 Art 40), so this comes before `agent_publish`."""
    page.goto(f"/agent/tenders/{tender_id}/criteria/")
    for i, (name, kind, points) in enumerate(criteria):
        page.fill(f"[name=name_{i}]", name)
        page.select_option(f"[name=kind_{i}]", kind)
        page.fill(f"[name=max_points_{i}]", points)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/agent/tenders/{tender_id}/evaluation/")


# --- deposits: the bank ------------------------------------------------------------------------------------


def bidder_deposit_page(page, tender_code: str) -> None:
    """My deposits → the sub-account of this tender."""
    page.goto("/bidder/deposits/")
    page.locator("main a[href^='/bidder/deposits/']", has_text=tender_code).first.click()
    page.wait_for_url(re.compile(rf"/bidder/deposits/{UUID_RE}/$"))


def deposit_instructions(page) -> dict[str, str]:
    """What the deposit page tells the bidder to pay: the sub-account, the amount, its basic account."""
    values = page.locator("#pay-h ~ dl dd").all_inner_texts()
    assert len(values) >= 5, values
    amount = values[2].split()[0].replace(",", "")
    payer = [part.strip() for part in values[3].split(",")]
    return {"virtual_account": values[0].strip().replace(" ", ""), "amount": amount,
            "payer_bank": payer[0], "payer_name": payer[1], "payer_account": payer[-1].replace(" ", "")}


def bank_notify(base_url: str, secret: str, body: dict) -> tuple[int, dict]:
    """POST a notification signed as the bank signs it (trading/deposits/bankmsg.py, scheme v1)."""
    import json
    import time
    import urllib.error
    import urllib.request

    from trading.deposits import bankmsg

    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = bankmsg.signed_headers(secret.encode(), raw, timestamp=int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (the e2e server on loopback)
        f"{base_url}/api/v1/deposits/bank-notifications", data=raw, method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


# --- sealing keys and sealed bids --------------------------------------------------------------------------


def generate_key(page, dest: Path, *, password: str, label: str) -> Path:
    """/keys/: generate a P-256 pair in the browser, keep the downloaded key file, register the SPKI."""
    page.goto("/keys/")
    before = page.locator("#list-h ~ .table-wrap tbody tr").count()
    page.fill("#label", label)
    page.fill("#password", password)
    page.fill("#password2", password)
    with page.expect_download(timeout=60_000) as info:
        page.locator("#keygen button[type=submit]").click()
    info.value.save_as(str(dest))
    wait_until(page,   # the page reloads with the new key listed
        "n => document.querySelectorAll('#list-h ~ .table-wrap tbody tr').length > n", arg=before, timeout=30_000
    )
    return dest


def seal_and_upload(page, lot_id: int, *, items: dict[str, str], files: list[Path], keyfile: Path,
                    password: str) -> str:
    """/bidder/lots/<lot>/bid/: seal in the browser (sbe1.js), sign, upload; returns the receipt text."""
    page.goto(f"/bidder/lots/{lot_id}/bid/")
    for key, value in items.items():
        page.fill(f"#item-{key}", value)
    page.set_input_files("#files", [str(f) for f in files])
    page.set_input_files("#keyfile", str(keyfile))
    page.fill("#password", password)
    page.locator("#bid-form button[type=submit]").click()
    page.locator("#receipt:not([hidden])").wait_for(timeout=60_000)
    assert not page.locator("#status.error").count(), page.inner_text("#status")
    return page.inner_text("#receipt")


# --- the scheduled steps (what the beat's sweep does) ------------------------------------------------------


def run_due_steps(server) -> list[dict]:
    """Run the due scheduled steps once in the server's environment; returns [{kind, subject, result}]."""
    import json

    return json.loads(server.python("-m", "tests.e2e.server_setup", "run-due-steps").strip().splitlines()[-1])


# --- the opening room ----------------------------------------------------------------------------------------


def room_wait_live(page) -> None:
    """The room's WebSocket is connected and its snapshot applied."""
    wait_until(page, "document.getElementById('conn').textContent.trim() === 'live'")


def room_phase(page) -> str:
    return page.inner_text("#phase").strip()


def room_expect_phase(page, phase: str, timeout: float = 20_000) -> None:
    wait_until(page, "p => document.getElementById('phase').textContent.trim() === p", arg=phase,
                           timeout=timeout)


def money_en(amount: str) -> str:
    """An amount as the English pages show it: "11250000.50" -> "¥11,250,000.50"."""
    whole, _, cents = amount.partition(".")
    return f"¥{int(whole):,}.{(cents + '00')[:2]}"


def room_readout(page) -> list[list[str]]:
    return page.locator("#readout tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells, c => c.textContent.trim()))")


def room_release_dek(page, keyfile: Path, password: str) -> None:
    """Decrypt my bid: the key file and its password; the browser unwraps the DEK and releases it."""
    page.set_input_files("#dec-keyfile", str(keyfile))
    page.fill("#dec-password", password)
    button = page.locator("#my-bid-list button")
    button.first.click()
    wait_until(page,
        "() => Array.from(document.querySelectorAll('#my-bid-list li')).every(li => /decrypted/i.test(li.textContent))"
        " || document.getElementById('message').classList.contains('error')", timeout=30_000)
    assert not page.locator("#message.error").count(), page.inner_text("#message")


# --- screenshots for the documentation ---------------------------------------------------------------------


DOCS_VIEWPORT = {"width": 1280, "height": 800}


def docs_page(users, username: str | None, path: str):
    """A page for a documentation screenshot: English UI, 1280×800, the user's saved login."""
    state = users._login_cache.get(username) if username else None
    ctx = users.browser.new_context(base_url=users.base_url, locale="en", timezone_id="Asia/Shanghai",
                                    viewport=DOCS_VIEWPORT, storage_state=state)
    users.contexts.append(ctx)
    page = users.new_page(ctx)
    page.goto(path)
    return page


def docs_screenshot(page, dest: Path, *, full_page: bool = True) -> Path:
    """Save `page` as docs/img/<dest> (the run writes these only with E2E_DOCS_SCREENSHOTS=1)."""
    from io import BytesIO

    from PIL import Image

    dest.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(BytesIO(page.screenshot(full_page=full_page))).convert("RGB")
    # A 128-colour palette: the UI's flat colours and anti-aliased text survive, the file is ~⅓ the size.
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(dest, optimize=True)
    return dest


# --- the expert draw and the evaluation ----------------------------------------------------------------------


def agent_request_draw(page, lot_id: int, *, start: datetime, end: datetime, place: str,
                       lines: list[tuple[str, int, int]], committee_size: int = 5) -> int:
    """/agent/draws/new/: the lot, the evaluation window, the composition lines (specialty, members,
    reserves) → the draw's page; returns the draw id."""
    page.goto(f"/agent/draws/new/?lot={lot_id}")
    page.select_option("[name=lot]", str(lot_id))
    page.fill("[name=evaluation_start]", local_input(start))
    page.fill("[name=evaluation_end]", local_input(end))
    page.fill("[name=place]", place)
    page.fill("[name=committee_size]", str(committee_size))
    for i, (specialty, members, reserves) in enumerate(lines):
        page.select_option(f"[name=line{i}_specialty]", specialty)
        page.fill(f"[name=line{i}_count]", str(members))
        page.fill(f"[name=line{i}_reserves]", str(reserves))
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/agent/draws/\d+/$"))
    return id_from_url(page.url, r"/agent/draws/(\d+)/")


def called_experts(server, tender_id: int) -> list[dict]:
    """The experts the platform called (their SMS), from the server's outbox: [{assignment, username}]."""
    import json

    out = server.python("-m", "tests.e2e.server_setup", "called-experts", str(tender_id))
    return json.loads(out.strip().splitlines()[-1])


def expert_accept(page, assignment_id: int) -> None:
    page.goto("/expert/assignments/")
    page.locator(f"form[action='/expert/assignments/{assignment_id}/accept/'] button[type=submit]").click()
    page.wait_for_url("**/expert/assignments/")
    assert page.locator(f"form[action='/expert/assignments/{assignment_id}/leave/']").count() == 1


def expert_session_id(page, tender_code: str) -> int:
    page.goto("/expert/evaluations/")
    link = page.locator("main a[href^='/expert/evaluations/']", has_text=tender_code).first
    return id_from_url(link.get_attribute("href"), r"/expert/evaluations/(\d+)/")


def post_and_reload(page, button) -> None:
    """Click a form's submit button whose view redirects back to the same page; fail on an error message."""
    with page.expect_navigation():
        button.click()
    page.wait_for_load_state("load")
    errors = page.locator(".messages li.error, .messages li.warning, main .error[role=alert]")
    assert errors.count() == 0, errors.all_inner_texts()


def expert_evaluate(page, session_id: int, *, points: dict[str, str]) -> None:
    """Sign in, declare no conflict, pass every bid, score each bidder (by name), submit."""
    base = f"/expert/evaluations/{session_id}/"
    page.goto(base)
    post_and_reload(page, page.locator(f"form[action='{base}sign-in/'] button[type=submit]"))
    page.check(f"form[action='{base}declare/'] input[name=no_conflict][value=yes]")
    post_and_reload(page, page.locator(f"form[action='{base}declare/'] button[type=submit]"))
    marks = page.locator(f"form[action='{base}marks/']")
    for radio in marks.locator("input[type=radio][value=yes]").all():
        radio.check()
    post_and_reload(page, marks.locator("button[type=submit]"))
    scores = page.locator(f"form[action='{base}scores/']")
    for row in scores.locator("tbody tr").all():
        name = row.locator("th").inner_text().strip()
        row.locator("input").first.fill(next(v for k, v in points.items() if name.startswith(k)))
    post_and_reload(page, scores.locator("button[type=submit]"))
    submit = page.locator(f"form[action='{base}submit/'] button[type=submit]")
    assert submit.is_enabled(), page.inner_text("main")
    post_and_reload(page, submit)


def expert_sign_report(page, session_id: int) -> None:
    base = f"/expert/evaluations/{session_id}/"
    page.goto(base)
    form = page.locator(f"form[action='{base}sign-report/']")
    form.locator("input[name=agrees][value=yes]").check()
    post_and_reload(page, form.locator("button[type=submit]"))
