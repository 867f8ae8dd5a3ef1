"""The simulated people of `manage.py demo_tender` (docs/demo_tender.md): the bank, the key custodians,
the bidders and the experts. Each acts only through the platform's services, the same ones the API
and the pages call; private keys live in this process's memory (custodian keys also in a key file).

The orchestration (timeline, waits, output) is in demo/tender.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import sbe1
from accounts.models import User
from demo.accounts import DEMO_PASSWORD

CUSTODIANS = ("agent1", "supervisor1", "platform1")
MONEY = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(MONEY, rounding=ROUND_HALF_UP)


def custodian_keys_ensure(keys_dir: Path) -> list[str]:
    """Register a P-256 key for each demo custodian that has none (publishing runs the opening key
    ceremony, which needs one per custodian). The private key is written as a password-protected key
    file (password: the demo password) so the custodian fallback can be tried in the browser."""
    from trading.bids.keys import key_register, latest_custodian_key

    made = []
    for username in CUSTODIANS:
        user = User.objects.filter(username=username).first()
        if user is None or latest_custodian_key(user.pk) is not None:
            continue
        private = sbe1.generate_private_key()
        key_register(actor=user, public_key=sbe1.spki_b64(private), holder="custodian", label=f"demo {username}")
        keys_dir.mkdir(parents=True, exist_ok=True)
        data = sbe1.write_key_file(private, DEMO_PASSWORD, label=f"demo custodian {username}", iterations=100_000)
        (keys_dir / f"{username}.key.json").write_bytes(data if isinstance(data, bytes) else data.encode())
        made.append(username)
    return made


# --- the bank ------------------------------------------------------------------------------------


def bank_transfer_report(*, account_number: str, payer, amount: Decimal) -> str:
    """The bank reports a deposit arrival from the payer's basic account: a signed notification, booked
    by the webhook's service exactly as if it came over HTTP. Returns the booking result."""
    from trading import clock
    from trading.deposits import bankmsg, conf
    from trading.deposits.bankmsg import Transfer
    from trading.deposits.services.bank import bank_notification_receive

    transfer = Transfer(
        kind="arrival", txn_id=f"DEMO{uuid.uuid4().hex[:20].upper()}", virtual_account=account_number,
        amount=money(amount), booked_at=clock.now() - timedelta(seconds=1),
        counterparty_account=payer.basic_account_number, counterparty_name=payer.basic_account_name,
        counterparty_bank=payer.basic_account_bank, reference="", status="executed",
    )
    body = bankmsg.notification_body(transfer)
    secrets = conf.webhook_secrets()
    if not secrets:
        raise RuntimeError("no bank webhook secret is configured (BANK_WEBHOOK_SECRET)")
    timestamp = int(time.time())
    signature = bankmsg.sign(secrets[0], timestamp, body)
    result = bank_notification_receive(body=body, timestamp=str(timestamp), signature=signature)
    return str(getattr(result, "result", result))


def bank_refunds_execute(tender=None, *, instructions=None) -> list[str]:
    """The bank pays the open refund instructions (the tender's, or the given queryset's) back to the
    payee accounts and reports each execution (signed notification with the instruction's reference):
    principal and interest are booked."""
    from trading import clock
    from trading.deposits import bankmsg, conf
    from trading.deposits.bankmsg import Transfer
    from trading.deposits.services.bank import bank_notification_receive
    from trading.models.deposit import RefundInstruction, RefundStatus

    done = []
    chosen = instructions if instructions is not None else RefundInstruction.objects.filter(tender=tender)
    open_ = chosen.filter(status__in=(RefundStatus.PENDING, RefundStatus.EXPORTED))
    for instruction in open_.order_by("pk"):
        transfer = Transfer(
            kind="refund", txn_id=f"DEMO{uuid.uuid4().hex[:20].upper()}", virtual_account=instruction.from_account,
            amount=instruction.total, booked_at=clock.now() - timedelta(seconds=1),
            counterparty_account=instruction.payee_account, counterparty_name=instruction.payee_name,
            counterparty_bank=instruction.payee_bank, reference=instruction.reference, status="executed",
        )
        body = bankmsg.notification_body(transfer)
        timestamp = int(time.time())
        result = bank_notification_receive(body=body, timestamp=str(timestamp),
                                           signature=bankmsg.sign(conf.webhook_secrets()[0], timestamp, body))
        done.append(f"{instruction.reference} {instruction.total} CNY to {instruction.payee_name} "
                    f"({getattr(result, 'result', result)})")
    return done


# --- bidders -------------------------------------------------------------------------------------


@dataclass
class DemoBidder:
    """One simulated bidder: its user, its key pair (memory only), its offer and its sealed envelope."""

    user: User
    price: Decimal
    duration_days: int
    deposit_paid: Decimal
    quality: tuple[Decimal, Decimal]  # (technical, commercial) level the experts perceive
    key: object = None
    registration: object = None
    account_number: str = ""
    bid_id: str | None = None  # the bid's public id
    envelope: bytes = b""
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def org(self):
        return self.user.organisation

    @property
    def short(self) -> bool:
        return False if self.registration is None else self.deposit_paid < self.registration.lot.deposit_amount

    def register(self, lot) -> None:
        from trading.services.registrations import registration_create

        self.registration, instructions = registration_create(actor=self.user, lot=lot)
        self.account_number = instructions["virtual_account"]["account_number"]

    def pay_deposit(self) -> str:
        return bank_transfer_report(account_number=self.account_number, payer=self.org, amount=self.deposit_paid)

    def register_key(self) -> str:
        from trading.bids.keys import key_register

        self.key = sbe1.generate_private_key()
        key = key_register(actor=self.user, public_key=sbe1.spki_b64(self.key), holder="organisation",
                           label=f"demo bidding key {self.name}")
        return key.key_id

    def seal_and_submit(self, lot) -> object:
        """Seal the bid (SBE1) to the lot's opening key and the own key, sign it, upload it."""
        from trading.bids.submission import bid_upload

        form = {"price": str(self.price), "currency": "CNY", "duration_days": self.duration_days}
        files = [("technical-proposal.pdf", _proposal_pdf(self)), ("price-schedule.pdf", _price_pdf(self))]
        out = io.BytesIO()
        sbe1.seal_bid(form, files, out, tender=str(lot.tender_id), lot=str(lot.pk), bidder=str(self.org.pk),
                      bidder_key=sbe1.spki_der(self.key), opening_key=lot.opening_key.public_spki)
        self.envelope = out.getvalue()
        signature = sbe1.sign_envelope(self.key, self.envelope)
        bid = bid_upload(actor=self.user, lot=lot, stream=io.BytesIO(self.envelope),
                         content_length=len(self.envelope), signature=signature)
        self.bid_id = str(bid.public_id)
        return bid

    def dek(self) -> str:
        """What `python -m sbe1 decrypt-dek` prints: the DEK unwrapped locally with the bidder's key."""
        return base64.b64encode(sbe1.unwrap_dek(sbe1.parse_header(self.envelope), self.key, "bidder")).decode()


def _pdf(text: str) -> bytes:
    lines = "\n".join(f"({line}) Tj T*" for line in text.splitlines())
    return (b"%PDF-1.4\n% demo_tender\n" + f"BT /F1 11 Tf 14 TL 72 720 Td\n{lines}\nET\n".encode() * 40
            + b"%%EOF\n")


def _proposal_pdf(b: DemoBidder) -> bytes:
    return _pdf(f"Technical proposal of {b.name}\nConstruction period {b.duration_days} days\n"
                "Method statement, schedule, quality and safety plan, key staff")


def _price_pdf(b: DemoBidder) -> bytes:
    return _pdf(f"Price schedule of {b.name}\nTotal {b.price} CNY including VAT")


def bidders_make(users: list[User], *, estimate: Decimal, deposit: Decimal, rng: random.Random) -> list[DemoBidder]:
    """Offers within the lot's estimate (86–97 %), plausible durations and quality levels. With four
    bidders or more, the last one's deposit arrives short (80 %): the experts will reject its bid."""
    made = []
    for i, user in enumerate(users):
        price = (estimate * Decimal(str(rng.uniform(0.86, 0.97))) / 1000).quantize(Decimal(1)) * 1000
        quality = (Decimal(str(round(rng.uniform(35, 46), 1))), Decimal(str(round(rng.uniform(12, 18), 1))))
        short = len(users) >= 4 and i == len(users) - 1
        made.append(DemoBidder(user=user, price=money(price), duration_days=rng.choice((150, 165, 180, 200)),
                               deposit_paid=money(deposit * Decimal("0.8")) if short else deposit, quality=quality))
    return made


# --- experts -------------------------------------------------------------------------------------


def calls_answer(draw, *, decline_first: bool, pause: Callable[[], None], say: Callable[[str], None]) -> int:
    """The called experts answer their calls (the inbox page's accept / decline); returns how many did.
    The first called expert may decline (busy that day): the seat goes to the line's reserve, who is
    called next."""
    from config.errors import StateConflict
    from experts.models import AssignmentStatus
    from experts.services.draws import assignment_respond

    answered = 0
    declined = not decline_first
    for _round in range(20):
        open_calls = list(draw.assignments.filter(status=AssignmentStatus.NOTIFIED)
                          .select_related("expert__user", "line").order_by("seq"))
        if not open_calls:
            break
        for call in open_calls:
            user = call.expert.user
            if user is None:  # an expert without an account answers by SMS; the timeout step handles silence
                continue
            accept = declined
            try:
                assignment_respond(actor=user, assignment=call, accept=accept, via="web")
            except StateConflict as exc:  # answered too late: the timeout step gives the seat to the next expert
                say(f"{user.username} answered too late ({exc.message})")
                continue
            declined = True
            answered += 1
            say(f"{user.username} {'accepts' if accept else 'declines (busy that day)'} the call "
                f"(seat {call.seat}, {call.line.specialty_id})")
            pause()
        draw.refresh_from_db()
    return answered


def panel_users(draw) -> list[User]:
    from experts.models import AssignmentStatus

    rows = draw.assignments.filter(status=AssignmentStatus.ACCEPTED).select_related("expert__user").order_by("seat")
    return [a.expert.user for a in rows if a.expert.user is not None]


def _points(level: Decimal, maximum: Decimal, rng: random.Random) -> str:
    value = Decimal(str(rng.gauss(float(level), 1.6))).quantize(Decimal("0.5"))
    return str(min(max(value, Decimal(0)), maximum))


def expert_sheet(*, bids, bidders_by_org: dict[int, DemoBidder], criteria, rng: random.Random):
    """One expert's qualification marks and scores: a short deposit fails the qualification review
    (实施条例 Art 26, 51); points scatter around each bidder's quality level, per expert."""
    from trading.deposits.selectors import deposit_status_for

    marks, scores = [], []
    tech, comm = criteria
    for bid in bids:
        b = bidders_by_org[bid.bidder_id]
        status = str(deposit_status_for(bid.registration_id).value)
        if status in ("paid", "guaranteed"):
            marks.append({"bid": bid.pk, "passed": True, "reason": ""})
        else:
            marks.append({"bid": bid.pk, "passed": False,
                          "reason": f"投标保证金未足额缴纳 deposit {status}: {b.deposit_paid} CNY received of "
                                    f"{b.registration.lot.deposit_amount} required (招标投标法实施条例 Art 26, 51)"})
        scores += [{"bid": bid.pk, "criterion": tech.pk, "points": _points(b.quality[0], tech.max_points, rng)},
                   {"bid": bid.pk, "criterion": comm.pk, "points": _points(b.quality[1], comm.max_points, rng)}]
    return marks, scores


def contract_digest(tender, award) -> str:
    """SHA-256 of the signed contract document (the platform stores the digest, not the document)."""
    text = f"Contract {tender.code} lot {award.lot_id}: {award.bid.bidder.name} for {award.bid.price} CNY"
    return hashlib.sha256(text.encode()).hexdigest()
