"""`manage.py demo_tender`: one complete tender, notice to contract, on the real clock with sandbox time
acceleration, played by simulated people through the platform's services (docs/demo_tender.md).

Two speeds (set in this process only, refused in production): legal periods counted in days run at
`acceleration` (`settings.SANDBOX_TIME_ACCELERATION`; default: a legal day lasts 4.5 s, the 20-day
bidding period 90 s); the opening room and the experts' calls, whose platform timings are counted in
minutes, run at `room_acceleration` (`settings.SANDBOX_ROOM_ACCELERATION`; default: a minute lasts 1 s)
so that people can watch them. Every period is computed by the services when it starts and stored.

Due steps (the bid deadline, the end of the publicity, ...) are run by this process with the real sweep,
one step at a time and only for its own tender (`trading.services.scheduling.step_run_one`: row locks,
idempotent handlers), so it works with or without a Celery worker, and both may run at once.
"""

from __future__ import annotations

import io
import os
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from demo import actors
from demo.accounts import DEMO_PASSWORD
from trading import clock

if TYPE_CHECKING:
    from trading.evaluation.models import Contract
    from trading.models import Tender

DEFAULT_ACCELERATION = 19_200.0  # a legal day = 4.5 s: bidding (20 days) 90 s, publicity (3 days) 13.5 s
DEFAULT_ROOM_ACCELERATION = 60.0  # a minute = 1 s: expert calls 15 s, decryption window 30 s
FAST = {"acceleration": 216_000.0, "room_acceleration": 300.0, "pace": 0.0}
ESTIMATE = Decimal("18600000.00")
DEPOSIT = Decimal("100000.00")
BIDDING_DAYS = 20  # works: 20 days from the documents to the deadline (招标投标法 Art 24)
# Legal days after publication at which the bidders act (registration, deposit, key, sealed bid), per bidder
# index i; the expert draw follows the last bid. Everything before the deadline keeps to this timeline.
TIMELINE = {"register": (0.5, 0.6), "deposit": (1.5, 1.2), "key": (7.0, 0.3), "bid": (10.0, 1.4)}
DRAW_DAY = 16.5
DEFAULT_PACE = 2.5  # real seconds between the simulated people's actions in the room and the evaluation


def default_base_url() -> str:
    """Where `make run` serves: http://127.0.0.1:$PORT (8000 when PORT is unset), like bin/entrypoint local."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"


class DemoRefused(Exception):
    """The demo cannot run here (production, or a setting it cannot work with)."""


@dataclass
class DemoOptions:
    acceleration: float = DEFAULT_ACCELERATION
    room_acceleration: float = DEFAULT_ROOM_ACCELERATION
    bidders: int = 4
    pace: float = DEFAULT_PACE
    base_url: str = field(default_factory=default_base_url)
    seed: int | None = None
    keys_dir: Path | None = None  # custodian key files (default var/demo_tender/keys)
    timeout: float = 900.0  # give up waiting for a state after this many real seconds


@dataclass
class DemoResult:
    tender_id: int
    code: str
    status: str
    prices: dict[str, Decimal]
    winner: str
    contract_id: int
    seconds: float


def refuse_in_production() -> None:
    if getattr(settings, "PRODUCTION", False):
        raise DemoRefused("demo_tender is refused in production (PTRADE_PRODUCTION=1): it accelerates legal time "
                          "and acts for demo accounts with a published password")


@contextmanager
def speed(legal: float, room: float) -> Iterator[None]:
    """Run a block at the sandbox factors `legal` (days) and `room` (the rooms' minutes), this process only."""
    previous = (getattr(settings, "SANDBOX_TIME_ACCELERATION", 1), getattr(settings, "SANDBOX_ROOM_ACCELERATION", 1))
    settings.SANDBOX_TIME_ACCELERATION, settings.SANDBOX_ROOM_ACCELERATION = legal, room
    try:
        yield
    finally:
        settings.SANDBOX_TIME_ACCELERATION, settings.SANDBOX_ROOM_ACCELERATION = previous


class DemoTender:
    """The story. `run()` plays it and returns a DemoResult; `say` receives the progress lines."""

    def __init__(self, options: DemoOptions, say: Callable[[str], None]) -> None:
        refuse_in_production()
        for name in ("acceleration", "room_acceleration"):
            if getattr(options, name) < 1:
                raise DemoRefused(f"{name} must be 1 or more")
        if not 3 <= options.bidders <= 5:
            raise DemoRefused("--bidders: 3 to 5 (the demo accounts bidder1 … bidder5)")
        self.o = options
        self.say_line = say
        self.seed = options.seed if options.seed is not None else secrets.randbelow(10**6)
        self.rng = random.Random(self.seed)
        self.started = time.monotonic()
        self.published_at: datetime | None = None
        self.tender = self.lot = None

    # --- output and time ----------------------------------------------------------------------------

    def day_length(self) -> timedelta:
        return timedelta(days=1) / self.o.acceleration

    def say(self, text: str) -> None:
        stamp = f"[{time.monotonic() - self.started:6.1f}s]"
        if self.published_at is not None and clock.now() < self.tender.bid_deadline:
            day = (clock.now() - self.published_at) / self.day_length()
            stamp += f" day {day:4.1f}"
        self.say_line(f"{stamp}  {text}")

    def url(self, name: str, *args: int) -> str:
        return self.o.base_url.rstrip("/") + reverse(name, args=args)

    def pause(self) -> None:
        if self.o.pace > 0:
            self.sleep(self.o.pace)

    def short_pause(self) -> None:
        """Between the experts' answers: their calls time out after 15 room minutes."""
        if self.o.pace > 0:
            self.sleep(min(self.o.pace, 1.0))

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.5))
            self.run_due_steps()

    def run_due_steps(self) -> list:
        """The sweep, restricted to this tender's due steps (a worker may run them too: rows are locked)."""
        from django.db.models import Q

        from trading.models import ScheduledStep
        from trading.services.scheduling import step_run_one

        if self.tender is None:
            return []
        due = (ScheduledStep.objects.filter(done_at__isnull=True, due_at__lte=clock.now())
               .filter(Q(tender=self.tender) | Q(lot__tender=self.tender)).order_by("due_at", "pk")
               .values_list("pk", flat=True))
        ran = []
        for pk in list(due):
            step = step_run_one(step_id=pk)
            if step is not None:
                ran.append(step)
                if step.last_error:
                    self.say(f"step {step.kind} failed, will retry: {step.last_error[:120]}")
        return ran

    def wait_until(self, moment: datetime, what: str) -> None:
        left = (moment - clock.now()).total_seconds()
        if left > 1:
            self.say(f"… waiting {left:.0f} s for {what} ({timezone.localtime(moment):%H:%M:%S})")
        while (left := (moment - clock.now()).total_seconds()) > 0:
            time.sleep(min(left, 0.5))
            self.run_due_steps()

    def legal_day_now(self) -> float:
        return (clock.now() - self.published_at) / self.day_length()

    def at_day(self, day: float) -> None:
        """Wait for legal day `day` after publication (no wait if it has passed)."""
        assert self.published_at is not None
        moment = self.published_at + self.day_length() * day
        while (left := (moment - clock.now()).total_seconds()) > 0:
            time.sleep(min(left, 0.5))
            self.run_due_steps()

    def wait_for(self, check: Callable[[], bool], what: str, *, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (self.o.timeout if timeout is None else timeout)
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what}")
            self.run_due_steps()
            if not check():
                time.sleep(0.2)

    def refresh(self) -> Tender:
        self.tender.refresh_from_db()
        return self.tender

    # --- the story ----------------------------------------------------------------------------------

    def run(self) -> DemoResult:
        with speed(self.o.acceleration, self.o.room_acceleration):
            self.cast()
            self.notice()
            self.bidding()
            self.expert_draw()
            self.wait_until(self.tender.bid_deadline, "the bid deadline (= the opening)")
            self.opening()
            self.evaluation()
            self.publicity()
            contract = self.award_and_contract()
        return self.result(contract)

    def cast(self) -> None:
        from django.core.management import call_command

        from experts.models import Expert

        if not User.objects.filter(username="agent1").exists() or not Expert.objects.exists():
            self.say("demo accounts missing: running seed_demo")
            call_command("seed_demo", stdout=io.StringIO())
        self.agent = User.objects.get(username="agent1")
        self.tenderer = User.objects.get(username="tenderer1")
        users = [User.objects.get(username=f"bidder{i}") for i in range(1, self.o.bidders + 1)]
        self.bidders = actors.bidders_make(users, estimate=ESTIMATE, deposit=DEPOSIT, rng=self.rng)
        keys_dir = self.o.keys_dir or Path(settings.VAR_DIR) / "demo_tender" / "keys"
        made = actors.custodian_keys_ensure(keys_dir)
        if made:
            self.say(f"custodian keys registered for {', '.join(made)} (key files in {keys_dir}, "
                     f"password {DEMO_PASSWORD})")
        self.say(f"demo_tender: seed {self.seed}, a legal day lasts {self.day_length().total_seconds():.2f} s, "
                 f"a room minute {60 / self.o.room_acceleration:.2f} s")

    def notice(self) -> None:
        """The agent drafts the tender (comprehensive scoring), its lot and documents, and publishes it."""
        from trading.evaluation.services.criteria import criteria_set
        from trading.services.documents import document_upload
        from trading.services.tenders import lot_create, tender_create, tender_publish

        deadline = clock.now() + self.day_length() * BIDDING_DAYS + max(self.day_length() / 4, timedelta(seconds=2))
        number = self.rng.randint(100, 999)
        title = f"环城北路沥青路面改造工程 Ring Road North resurfacing, section {number}"
        tender = tender_create(
            actor=self.agent, title=title, tenderer=self.tenderer.organisation, procedure_type="works",
            evaluation_method="comprehensive_scoring", readout_items=["duration_days"], bid_deadline=deadline,
            description="Milling and resurfacing of 6.4 km of asphalt carriageway, drainage and road markings. "
                        "Created by manage.py demo_tender (accelerated sandbox time).")
        criteria_set(actor=self.agent, tender=tender, criteria=[
            {"name": "Price", "description": "lowest valid price = 30 points", "kind": "price",
             "max_points": Decimal("30")},
            {"name": "Technical proposal", "description": "method, schedule, quality, safety", "kind": "scored",
             "max_points": Decimal("50")},
            {"name": "Commercial terms", "description": "experience, staff, warranty", "kind": "scored",
             "max_points": Decimal("20")}])
        self.lot = lot_create(actor=self.agent, tender=tender, title="标段1 Lot 1: carriageway and drainage",
                              estimated_price=ESTIMATE, deposit_amount=DEPOSIT)
        document_upload(actor=self.agent, tender=tender, file=SimpleUploadedFile(
            "tender-documents.pdf", actors._pdf(f"Tender documents\n{title}\nEstimate {ESTIMATE} CNY"),
            content_type="application/pdf"))
        self.tender = tender
        tender_publish(actor=self.agent, tender=tender)
        self.published_at = clock.now()
        self.refresh()
        self.lot.refresh_from_db()
        self.say(f"agent1 published tender {tender.code} (deadline {timezone.localtime(deadline):%H:%M:%S}, "
                 f"estimate {ESTIMATE} CNY, deposit {DEPOSIT} CNY); opening key ceremony done")
        self.say("watch it at (password for every account: " + DEMO_PASSWORD + "):")
        for label, url in (
            ("tender page (public)", self.url("tendering:tender_detail", tender.pk)),
            ("opening room (anyone; log in as bidder1 to see its own row)", self.url("opening:room", tender.pk)),
            ("supervisor view (supervisor1)", self.url("tendering:supervisor_tender", tender.pk)),
            ("supervisor replay (supervisor1)", self.url("supervision:tender_replay", tender.pk)),
            ("supervisor dashboard (supervisor1)", self.url("supervision:dashboard")),
            ("agent's desk (agent1)", self.url("tendering:agent_tender", tender.pk)),
            ("deposits (agent1, supervisor1)", self.url("deposits:tender_deposits", tender.pk)),
            ("results (public, after the evaluation)", self.url("evaluation:tender_results", tender.pk)),
        ):
            self.say_line(f"    {label:<62} {url}")

    def bidding(self) -> None:
        """Registration, deposits (signed bank notifications), keys and sealed bids, along the timeline."""
        events = []
        for i, b in enumerate(self.bidders):
            for act, (start, step) in TIMELINE.items():
                events.append((start + step * i, i, act, b))
        for day, _i, act, b in sorted(events, key=lambda e: (e[0], e[1])):
            self.at_day(day)
            if act == "register":
                b.register(self.lot)
                self.say(f"{b.name} registered for lot 1; deposit sub-account {b.account_number}")
            elif act == "deposit":
                result = b.pay_deposit()
                short = f" — SHORT of {DEPOSIT} CNY" if b.short else ""
                self.say(f"bank: {b.deposit_paid} CNY from {b.name}'s basic account booked ({result}){short}")
            elif act == "key":
                self.say(f"{b.name} registered its bidding key {b.register_key()[:16]}…")
            else:
                if clock.now() >= self.tender.bid_deadline:
                    raise DemoRefused("the bidding period ran out before every bid was sealed: lower --acceleration")
                b.seal_and_submit(self.lot)
                self.say(f"{b.name} sealed and uploaded its bid ({len(b.envelope):,} bytes, SBE1, signed); "
                         f"nobody can read it before the deadline")

    def expert_draw(self) -> None:
        """The agent draws the committee (verifiable draw); the called experts answer their calls."""
        from experts.services.draws import draw_start

        self.at_day(DRAW_DAY)
        start = self.tender.bid_deadline + timedelta(hours=2) / self.o.acceleration
        self.draw = draw_start(
            actor=self.agent, lot=self.lot, evaluation_start=start,
            evaluation_end=start + timedelta(hours=8) / self.o.acceleration, committee_size=5,
            place="评标室 3 Evaluation room 3",
            lines=[{"specialty": "A02", "count": 3, "reserves": 2}, {"specialty": "D", "count": 2, "reserves": 1}])
        self.say(f"agent1 drew the committee: draw {self.draw.pk}, 5 seats (municipal works ×3, economics ×2), "
                 f"pool {self.draw.pool_size} eligible experts; identities sealed until sign-in")
        actors.calls_answer(self.draw, decline_first=True, pause=self.short_pause, say=self.say)
        self.draw.refresh_from_db()
        self.say(f"draw {self.draw.pk}: {self.draw.get_status_display()}")
        if self.draw.status != "complete":
            raise DemoRefused(f"the expert draw ended {self.draw.status}: the demo pool has no more free experts for "
                              "this tenderer this year (3 panels each); use a fresh database")

    def opening(self) -> None:
        """The deadline step opens the room; bidders sign in, release their DEKs, confirm the read-out."""
        from trading.models import Opening, TenderStatus
        from trading.opening import services as room

        self.wait_for(lambda: self.refresh().status != TenderStatus.PUBLISHED, "the bid deadline step")
        self.wait_for(lambda: self.refresh().status != TenderStatus.BIDDING_CLOSED, "the opening to start")
        if self.tender.status != TenderStatus.OPENING:
            raise RuntimeError(f"the opening did not start: tender is {self.tender.status}")
        room_url = self.url("opening:room", self.tender.pk)
        self.say(f"bid deadline passed: bidding closed, the opening room is open — {room_url}")

        def state() -> str:
            return Opening.objects.get(tender=self.tender).state

        for b in self.bidders:
            self.pause()
            room.opening_sign_in(actor=b.user, tender=self.tender)
            self.say(f"{b.name} signed in to the opening room")
        if state() == "signing_in":
            room.opening_advance(actor=self.agent, tender=self.tender)
            self.say("agent1 (host) starts the decryption")
        else:
            self.say("the sign-in time is over: the decryption window is open")
        for b in self.bidders:
            self.pause()
            room.bid_dek_release(actor=b.user, tender=self.tender, bid_id=b.bid_id, dek=b.dek())
            self.say(f"{b.name} released its DEK: bid decrypted, price {b.price} CNY, {b.duration_days} days")
        self.wait_for(lambda: state() not in ("decrypting", "fallback", "reading_out"), "the read-out")
        self.say("read-out published (唱标): " + "; ".join(self.readout()))
        for b in self.bidders:
            self.pause()
            room.opening_confirm(actor=b.user, tender=self.tender)
            self.say(f"{b.name} confirmed the read-out")
        if state() == "objections":
            self.pause()
            room.opening_advance(actor=self.agent, tender=self.tender)
        self.wait_for(lambda: state() in ("closed", "failed"), "the opening to close")
        self.say(f"opening closed; record at {self.url('opening:record', self.tender.pk)}")

    def readout(self) -> list[str]:
        from trading.models import BidOpening

        names = {b.org.pk: b.name for b in self.bidders}
        rows = BidOpening.objects.filter(bid__lot=self.lot).select_related("bid").order_by("bid__received_at")
        return [f"{names.get(r.bid.bidder_id)} {r.readout.get('price', '?')} CNY, "
                f"{r.readout.get('duration_days', '?')} days, deposit {r.deposit_status or '?'}" for r in rows]

    def evaluation(self) -> None:
        """The agent opens the evaluation; the experts sign in (the panel is revealed), declare, mark, score,
        submit; the last submission makes the report, which every member signs."""
        from trading.evaluation.models import Criterion
        from trading.evaluation.services import reports, sessions

        session = sessions.session_open(actor=self.agent, lot=self.lot)
        self.say(f"agent1 opened the evaluation of lot 1 (session {session.pk})")
        criteria = list(Criterion.objects.filter(tender=self.tender, kind="scored").order_by("number"))
        by_org = {b.org.pk: b for b in self.bidders}
        done: set[int] = set()
        for _attempt in range(10):
            pending = [u for u in actors.panel_users(self.draw) if u.pk not in done]
            if not pending:
                break
            for user in pending:
                self.pause()
                outcome = sessions.member_sign_in(actor=user, session=session)
                if outcome.waiting:  # avoidance removed a member at the reveal: the seat is refilled by a call
                    self.say(f"panel changed at sign-in: {outcome.message}")
                    actors.calls_answer(self.draw, decline_first=False, pause=self.short_pause, say=self.say)
                    break
                self.expert_scores(user, outcome.member, session, criteria, by_org)
                done.add(user.pk)
        panel = [u for u in actors.panel_users(self.draw) if u.pk in done]
        report = reports.current_report(session)
        self.say(f"every sheet is in: evaluation report {report.pk} generated, awaiting the members' signatures")
        for user in panel:
            self.pause()
            reports.report_sign(actor=user, report=report, agrees=True)
            self.say(f"{user.username} signed the evaluation report")
        report.refresh_from_db()
        ranking = report.content.get("ranking", [])
        self.report = report
        names = {b.org.pk: b.name for b in self.bidders}
        self.say(f"evaluation report {report.pk} signed by all 5 members ({report.status}); ranking: " + ", ".join(
            f"{names.get(r['bidder'], r['bidder'])} {r['score']}" for r in ranking))
        self.say(f"report: {self.url('evaluation:report', report.pk)}")

    def expert_scores(self, user: User, member, session, criteria: list, by_org: dict) -> None:
        """One expert: the declaration, the qualification marks, the scores, the submitted sheet."""
        from trading.evaluation import selectors
        from trading.evaluation.services import sessions, sheets

        member = sessions.member_declare(actor=user, member=member, no_conflict=True)
        bids = list(selectors.bids_visible(user, session))
        marks, scores = actors.expert_sheet(bids=bids, bidders_by_org=by_org, criteria=criteria, rng=self.rng)
        sheets.marks_save(actor=user, member=member, marks=marks)
        sheets.scores_save(actor=user, member=member, scores=scores)
        sheets.sheet_submit(actor=user, member=member)
        failed = [by_org[b.bidder_id].name for b, m in zip(bids, marks, strict=True) if not m["passed"]]
        self.say(f"{user.username} (seat {member.seat}) signed in, declared no conflict, scored {len(bids)} bids"
                 + (f", rejected {', '.join(failed)} (deposit short)" if failed else "") + ", submitted the sheet")

    def publicity(self) -> None:
        """The candidates are published for 3 days (实施条例 Art 54); the sweep ends the period."""
        from trading.evaluation.services.publicity import publicity_start

        self.pause()
        publicity = publicity_start(actor=self.agent, tender=self.tender)
        ends = self.refresh().publicity_ends_at
        self.say(f"agent1 published the candidates (publicity {publicity.pk}) until "
                 f"{timezone.localtime(ends):%H:%M:%S}")
        self.wait_until(ends, "the end of the candidate publicity (3 legal days)")
        self.wait_for(lambda: self.refresh().publicity_ended_at is not None, "the publicity_end step")
        self.say("candidate publicity over without objection")

    def award_and_contract(self) -> Contract:
        from trading.evaluation.services.award import award_publish, contract_record

        awards = award_publish(actor=self.agent, tender=self.tender)
        award = awards[0]
        self.say(f"agent1 published the award: {award.bid.bidder.name} at {award.bid.price} CNY; contract due by "
                 f"{timezone.localtime(award.contract_due_at):%H:%M:%S}")
        self.at_day(self.legal_day_now() + 2)
        contract = contract_record(actor=self.tenderer, award=award, signed_at=clock.now(),
                                   document_sha256=actors.contract_digest(self.tender, award),
                                   title=f"Construction contract {self.tender.code}")
        self.say(f"tenderer1 recorded the signed contract {contract.pk} ({contract.amount} CNY); "
                 f"tender {self.refresh().status}")
        with suppress(TimeoutError):
            self.wait_for(self.refunds_issued, "the deposit refund instructions", timeout=10)
        self.say(self.refunds_summary())
        self.at_day(self.legal_day_now() + 1)
        for line in actors.bank_refunds_execute(self.tender):
            self.say(f"bank: refund executed {line}")
        self.winner = award.bid.bidder.name
        return contract

    def refunds_issued(self) -> bool:
        from trading.models.deposit import DepositAccount, RefundInstruction

        paid = DepositAccount.objects.filter(tender=self.tender).exclude(balance=0).count()
        return RefundInstruction.objects.filter(tender=self.tender).count() >= paid

    def refunds_summary(self) -> str:
        from trading.models.deposit import RefundInstruction

        rows = list(RefundInstruction.objects.filter(tender=self.tender).order_by("due_at"))
        if not rows:
            return "no deposit refund instruction issued yet"
        principal = sum((r.principal for r in rows), Decimal(0))
        interest = sum((r.interest for r in rows), Decimal(0))
        return (f"deposits: {len(rows)} refund instructions to the bank, {principal} CNY + {interest} CNY "
                f"interest, due by "
                f"{timezone.localtime(rows[-1].due_at):%H:%M:%S} (5 legal days, 招标投标法实施条例 Art 57)")

    def result(self, contract: Contract) -> DemoResult:
        from audit.selectors import chain_verify

        verified = chain_verify()
        elapsed = time.monotonic() - self.started
        self.say(f"done in {elapsed:.0f} s: {self.tender.code} is {self.tender.status}; audit chain "
                 f"{'verifies' if verified.ok else 'BROKEN'}; replay: "
                 f"{self.url('supervision:tender_replay', self.tender.pk)}")
        return DemoResult(tender_id=self.tender.pk, code=self.tender.code, status=self.tender.status,
                          prices={b.name: b.price for b in self.bidders}, winner=self.winner,
                          contract_id=contract.pk, seconds=elapsed)


def demo_tender_run(options: DemoOptions, say: Callable[[str], None]) -> DemoResult:
    """Play one tender from notice to contract (see the module docstring)."""
    try:
        return DemoTender(options, say).run()
    except ImproperlyConfigured as exc:
        raise DemoRefused(str(exc)) from None
