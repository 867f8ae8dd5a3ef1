"""The opening state machine, one per tender (SPECS.md §1, DOMAIN.md "Opening").

    (deadline) ─► signing_in ─► decrypting ─► [fallback] ─► reading_out ─► confirming ─► objections ─► closed
         └──► failed  (fewer than 3 bids in every lot: 流标, failure notice; 招标投标法 Art 28)

- The bid_deadline step (trading/steps.py) closes bidding and calls `opening_start`
  (registered with trading.services.opening_hook), in the same transaction.
- Each phase with a time limit has one ScheduledStep ("opening_phase_end", subject the
  tender) whose handler (trading/opening/steps.py) calls `opening_phase_end`; the agent
  may advance early where that cuts nobody's time (`opening_advance`).
- Every change writes an audit event and publishes room events (trading/opening/room.py)
  with `stream_publish`, in the same transaction; they reach clients on commit.

Crypto (decryption of up to hundreds of MB) runs outside the transaction: the services
`bid_dek_release` and `share_submit` check, decrypt, then record the outcome in a short
transaction that re-checks the state under the tender lock (idempotent).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

import sbe1
from accounts.policy import authorize
from audit.canonical import canonical_bytes
from audit.services import audit_record
from config.errors import DomainError, NotFoundError, RuleViolation, StateConflict
from realtime.streams import stream_publish
from trading import clock
from trading.deposits.selectors import deposit_status_for
from trading.deposits.services.forfeit import deposit_forfeit
from trading.models import (
    Bid,
    BidOpening,
    BidOpeningStatus,
    BidStatus,
    Confirmation,
    ConfirmationKind,
    FailureOutcome,
    Fault,
    KeyShare,
    LotOpening,
    LotOutcome,
    Notice,
    NoticeKind,
    Opening,
    OpeningKey,
    OpeningObjection,
    OpeningState,
    RegistrationStatus,
    ShareRelease,
    SignIn,
    Tender,
    TenderStatus,
)
from trading.opening import room
from trading.opening import rules as R
from trading.opening.decrypt import Outcome, decrypt_bid, discard_work, hand_over
from trading.opening.record import record_write
from trading.phases import ROOM_LIVE_TENDER_PHASES, opening_states, tender_phase
from trading.services.notices import notice_anchor
from trading.services.scheduling import step_schedule
from trading.services.tender_status import lock_tender, tender_transition
from trading.visibility import text_hash

S = OpeningState
PHASE_END = "opening_phase_end"
MAX_TEXT = 2000
SYSTEM = "system"

logger = logging.getLogger(__name__)


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


# --- plumbing -----------------------------------------------------------------------------------


def _publish(tender: Tender, kind: str, payload: dict, audience: dict) -> None:
    stream_publish(key=room.room_key(tender.pk), kind=kind, payload=payload, audience=audience)


def _room_publish(tender: Tender, kind: str, key, entry: dict) -> None:
    _publish(tender, kind, {"key": str(key), "entry": entry}, room.room_audience(tender))


def _bid_events(tender: Tender, bo: BidOpening) -> None:
    """A bid opening changed: its room entry, its read-out row once resolved, the bidder's controls."""
    _room_publish(tender, "bid", bo.bid.public_id, room.bid_entry(bo))
    if bo.status in (BidOpeningStatus.DECRYPTED, BidOpeningStatus.FAILED):
        _room_publish(tender, "readout.row", bo.bid.public_id, room.readout_row(bo))
    _publish(tender, "private",
             {"org": str(bo.bid.bidder_id), "key": str(bo.bid.public_id), "entry": room.private_entry(bo)},
             room.bidder_audience(bo.bid.bidder_id))


def _locked(tender: Tender) -> Opening:
    lock_tender(tender)
    opening = Opening.objects.select_for_update().filter(tender=tender).first()
    if opening is None:
        raise StateConflict(
            _("The opening of %(code)s has not started: it starts at the bid deadline %(t)s (%(src)s).")
            % {"code": tender.code, "t": _fmt(tender.bid_deadline), "src": R.OPENING_AT_DEADLINE},
            code="opening_not_started",
        )
    return opening


def _require(opening: Opening, *states: str, action: str) -> None:
    tender = opening.tender
    if tender_phase(tender) not in ROOM_LIVE_TENDER_PHASES:  # failed or terminated during the opening (phases.py)
        raise StateConflict(
            _("%(action)s is not possible now: the tender is %(status)s.")
            % {"action": action, "status": TenderStatus(tender.status).label},
            code="wrong_phase",
            fields={"status": [tender.status]},
        )
    if opening.state not in states:
        raise StateConflict(
            _("%(action)s is not possible now: the opening is in the phase '%(state)s'.")
            % {"action": action, "state": OpeningState(opening.state).label},
            code="wrong_phase",
            fields={"state": [opening.state]},
        )


def _set_phase(*, actor, opening: Opening, state: str, ends_at: datetime | None, reason: str) -> None:
    tender = opening.tender
    now = clock.now()
    previous = opening.state
    opening.state = state
    opening.phase_started_at = now
    opening.phase_ends_at = ends_at
    if state in (S.CLOSED, S.FAILED):
        opening.closed_at = now
    opening.save()
    audit_record(
        actor=actor,
        action="opening.phase_changed",
        obj=opening,
        data={"tender": tender.pk, "from": previous, "to": state, "ends_at": ends_at, "reason": reason},
    )
    _publish(tender, "phase", room.phase_payload(opening), room.public_audience())
    if ends_at is not None:
        step_schedule(kind=PHASE_END, subject=f"trading.tender:{tender.pk}", due_at=ends_at, tender=tender)


def _bid_openings(opening: Opening, **filters):
    return (opening.bid_openings.select_for_update(of=("self",)).select_related(
        "bid", "bid__lot", "bid__bidder", "bid__registration", "bid__bidder_key", "bid__opening_key")
        .filter(**filters).order_by("bid__lot__number", "bid__received_at", "bid_id"))


# --- start --------------------------------------------------------------------------------------


def _failure_notice(tender: Tender, lots: list[LotOpening]) -> Notice:
    """The failure notice (流标公告), published by the platform on the agent's behalf."""
    min_bids = tender.rules.min_bids
    lines = [
        _("Fewer than %(n)s bids were received by the bid deadline %(t)s; the bids are not opened and the "
          "tender is to be re-tendered (%(src)s).")
        % {"n": min_bids.value, "t": _fmt(tender.bid_deadline), "src": min_bids.source},
        "",
    ]
    for lo in lots:
        lines.append(_("Lot %(n)s %(title)s: %(count)s bid(s).")
                     % {"n": lo.lot.number, "title": lo.lot.title, "count": lo.bid_count})

    body, anchor = notice_anchor(NoticeKind.FAILURE, "\n".join(lines))  # public anchoring (docs/witness.md)
    version = (Notice.objects.filter(tender=tender).aggregate(v=Max("version"))["v"] or 0) + 1
    notice = Notice(
        tender=tender, kind=NoticeKind.FAILURE, version=version,
        title=_("Failure notice (流标): %(title)s") % {"title": tender.title}, body=body,
        published_at=clock.now(), published_by=tender.created_by,
    )
    notice.save()
    audit_record(
        actor=SYSTEM,
        action="notice.published",
        obj=notice,
        data={"tender": tender.pk, "notice": notice.pk, "kind": notice.kind, "version": version,
              "content_sha256": notice.content_sha256, "on_behalf_of": tender.created_by_id,
              "reason": "fewer_than_min_bids", **({"audit_anchor": anchor} if anchor else {})},
    )
    return notice


@transaction.atomic
def opening_start(*, tender: Tender) -> Opening | None:
    """At the bid deadline: count the bids per lot (3-bid floor), open the room or fail the tender. Idempotent."""
    lock_tender(tender)
    if Opening.objects.filter(tender=tender).exists() or tender.status != TenderStatus.BIDDING_CLOSED:
        return None
    now = clock.now()
    min_bids = tender.rules.min_bids
    bids_by_lot = {
        lot: list(Bid.objects.filter(lot=lot, status=BidStatus.ACTIVE,
                                     registration__status=RegistrationStatus.REGISTERED).order_by("received_at", "pk"))
        for lot in tender.lots.all().order_by("number")
    }
    opened = any(len(bids) >= min_bids.value for bids in bids_by_lot.values())
    opening = Opening.objects.create(
        tender=tender, state=S.SIGNING_IN if opened else S.FAILED, started_at=now, phase_started_at=now,
        phase_ends_at=None,
    )
    lot_openings = []
    for lot, bids in bids_by_lot.items():
        outcome = LotOutcome.OPENED if len(bids) >= min_bids.value else LotOutcome.FAILED
        lot_openings.append(LotOpening.objects.create(opening=opening, lot=lot, bid_count=len(bids), outcome=outcome))
        if outcome == LotOutcome.OPENED:
            for bid in bids:
                BidOpening.objects.create(opening=opening, bid=bid)
    audit_record(
        actor=SYSTEM,
        action="opening.started",
        obj=opening,
        data={
            "tender": tender.pk,
            "bid_deadline": tender.bid_deadline,
            "min_bids": min_bids.value,
            "source": min_bids.source,
            "lots": [
                {"lot": lo.lot_id, "bids": lo.bid_count, "outcome": lo.outcome,
                 "envelopes": [b.envelope_sha256 for b in bids_by_lot[lo.lot]]}
                for lo in lot_openings
            ],
        },
    )
    if not opened:
        opening.failure_reason = _("Fewer than %(n)s bids in every lot (%(src)s).") % {
            "n": min_bids.value, "src": min_bids.source}
        opening.closed_at = now
        opening.save(update_fields=["failure_reason", "closed_at"])
        tender_transition(actor=SYSTEM, tender=tender, to=TenderStatus.FAILED,
                          reason=f"fewer than {min_bids.value} bids (流标, {min_bids.source})")
        _failure_notice(tender, lot_openings)
    else:
        tender_transition(actor=SYSTEM, tender=tender, to=TenderStatus.OPENING, reason="opening started")
    _publish(tender, "phase", room.phase_payload(opening), room.public_audience())
    _publish(tender, "room.opened", room.room_sections(opening), room.room_audience(tender))
    for bo in _bid_openings(opening):
        _publish(tender, "private", {"org": str(bo.bid.bidder_id), "key": str(bo.bid.public_id),
                                     "entry": room.private_entry(bo)}, room.bidder_audience(bo.bid.bidder_id))
    if opened:
        _set_phase(actor=SYSTEM, opening=opening, state=S.SIGNING_IN, ends_at=now + R.minutes(R.SIGN_IN_MINUTES),
                   reason="bid deadline: sign-in")
    return opening


# --- phases -------------------------------------------------------------------------------------


def _enter_decrypting(*, actor, opening: Opening, reason: str) -> None:
    window = R.minutes(opening.tender.decryption_window_minutes)
    _set_phase(actor=actor, opening=opening, state=S.DECRYPTING, ends_at=clock.now() + window, reason=reason)


def _forfeit_revoked(*, registration, reason: str, source: str) -> bool:
    """Keep the deposit of a revoked bid (实施条例 Art 35). A refusal by the deposits module (e.g. a refund
    already under way) never blocks the opening: it is logged and the record says nothing was forfeited."""
    try:
        deposit_forfeit(registration=registration, reason=reason, source=source)
    except DomainError as exc:
        logger.warning("deposit forfeit for registration %s refused: %s", registration.pk, exc.message)
        return False
    return True


def _fail(*, actor, opening: Opening, bo: BidOpening, fault: str, code: str, message: str) -> None:
    tender = opening.tender
    bo.status = BidOpeningStatus.FAILED
    bo.fault = fault
    bo.outcome = FailureOutcome.REVOKED if fault == Fault.BIDDER else FailureOutcome.WITHDRAWN
    bo.failure_code = code[:60]
    bo.failure_message = message[:300]
    bo.failed_at = clock.now()
    bo.save()
    forfeit = False
    if bo.outcome == FailureOutcome.REVOKED:
        forfeit = _forfeit_revoked(registration=bo.bid.registration, reason=code, source=R.DECRYPTION_FAILURE)
    audit_record(
        actor=actor,
        action="bid.decryption_failed",
        obj=bo.bid,
        data={"tender": tender.pk, "lot": bo.bid.lot_id, "bidder": bo.bid.bidder_id,
              "envelope_sha256": bo.bid.envelope_sha256, "code": bo.failure_code, "fault": fault,
              "outcome": bo.outcome, "source": R.DECRYPTION_FAILURE, "deposit_forfeit_requested": forfeit},
    )
    _bid_events(tender, bo)


def _end_decryption(*, actor, opening: Opening, reason: str) -> None:
    for bo in _bid_openings(opening, status=BidOpeningStatus.PENDING):
        _fail(actor=actor, opening=opening, bo=bo, fault=Fault.BIDDER, code="not_decrypted_in_window",
              message="the bidder did not decrypt its bid within the decryption window")
    if _bid_openings(opening, status=BidOpeningStatus.FALLBACK).exists():
        _set_phase(actor=actor, opening=opening, state=S.FALLBACK, ends_at=clock.now() + R.minutes(R.FALLBACK_MINUTES),
                   reason=reason)
        for lo in opening.lots.filter(outcome=LotOutcome.OPENED).select_related("lot", "lot__opening_key"):
            room_publish_fallback(opening.tender, lo)
    else:
        _to_reading_out(actor=actor, opening=opening, reason=reason)


def room_publish_fallback(tender: Tender, lo: LotOpening) -> None:
    _room_publish(tender, "fallback", lo.lot_id, room.fallback_entry(lo))


def _end_fallback(*, actor, opening: Opening, reason: str) -> None:
    for bo in _bid_openings(opening, status=BidOpeningStatus.FALLBACK):
        _fail(actor=actor, opening=opening, bo=bo, fault=Fault.OTHER, code="fallback_incomplete",
              message="fewer custodian shares than the threshold arrived in time")
    _to_reading_out(actor=actor, opening=opening, reason=reason)


def _to_reading_out(*, actor, opening: Opening, reason: str) -> None:
    tender = opening.tender
    _set_phase(actor=actor, opening=opening, state=S.READING_OUT, ends_at=None, reason=reason)
    rows = []
    for bo in _bid_openings(opening):
        bo.deposit_status = deposit_status_for(bo.bid.registration).value[:40]
        bo.save(update_fields=["deposit_status"])
        _room_publish(tender, "readout.row", bo.bid.public_id, room.readout_row(bo))
        rows.append({"bid": str(bo.bid.public_id), **room.readout_row(bo)})
    audit_record(actor=actor, action="opening.read_out", obj=opening,
                 data={"tender": tender.pk, "source": R.READOUT, "rows": rows})
    window = R.minutes(tender.confirmation_window_minutes)
    _set_phase(actor=actor, opening=opening, state=S.CONFIRMING, ends_at=clock.now() + window,
               reason="read-out complete: confirmation window")


def _bidder_orgs(opening: Opening) -> list[int]:
    return sorted(set(opening.bid_openings.values_list("bid__bidder_id", flat=True)))


def _to_objections(*, actor, opening: Opening, reason: str) -> None:
    tender = opening.tender
    confirmed = set(opening.confirmations.values_list("organisation_id", flat=True))
    now = clock.now()
    for org_id in _bidder_orgs(opening):
        if org_id in confirmed:
            continue
        c = Confirmation.objects.create(opening=opening, organisation_id=org_id, kind=ConfirmationKind.DEEMED, at=now)
        audit_record(actor=SYSTEM, action="opening.confirmation_deemed", obj=opening,
                     data={"tender": tender.pk, "organisation": org_id})
        _room_publish(tender, "confirmation", org_id, room.confirmation_entry(c))
    _set_phase(actor=actor, opening=opening, state=S.OBJECTIONS, ends_at=now + R.minutes(R.OBJECTIONS_MINUTES),
               reason=reason)


def _open_objections(opening: Opening) -> int:
    return opening.objections.filter(answered_at__isnull=True).count()


def _maybe_advance(*, actor, opening: Opening) -> None:
    """Automatic early moves that cut nobody's time: every bid resolved, every bidder confirmed."""
    if opening.state == S.DECRYPTING and not opening.bid_openings.filter(status=BidOpeningStatus.PENDING).exists():
        _end_decryption(actor=actor, opening=opening, reason="every bid decrypted or handed to the custodians")
    if opening.state == S.FALLBACK and not opening.bid_openings.filter(status=BidOpeningStatus.FALLBACK).exists():
        _to_reading_out(actor=actor, opening=opening, reason="custodian decryption complete")
    if opening.state == S.CONFIRMING and set(opening.confirmations.values_list("organisation_id", flat=True)) >= set(
            _bidder_orgs(opening)):
        _to_objections(actor=actor, opening=opening, reason="every bidder confirmed")


@transaction.atomic
def opening_phase_end(*, tender: Tender) -> str | datetime:
    """The phase's time is up (step handler): move on. Returns a result text, or a time to run again."""
    opening = Opening.objects.filter(tender=tender).first()
    if opening is None:
        return "no opening"
    opening = _locked(tender)
    if opening.phase_ends_at is not None and clock.now() < opening.phase_ends_at:
        return opening.phase_ends_at
    state = opening.state
    if state == S.SIGNING_IN:
        _enter_decrypting(actor=SYSTEM, opening=opening, reason="sign-in time over")
    elif state == S.DECRYPTING:
        _end_decryption(actor=SYSTEM, opening=opening, reason="decryption window closed")
    elif state == S.FALLBACK:
        _end_fallback(actor=SYSTEM, opening=opening, reason="custodian fallback time over")
    elif state == S.CONFIRMING:
        _to_objections(actor=SYSTEM, opening=opening, reason="confirmation window closed")
    elif state == S.OBJECTIONS:
        if _open_objections(opening):
            return clock.now() + R.minutes(1)  # answered on the spot (实施条例 Art 44): wait for the answers
        _close(actor=SYSTEM, opening=opening, reason="objections phase over")
    else:
        return f"nothing to do: {state}"
    return opening.phase_ends_at or opening.state


@transaction.atomic
def opening_advance(*, actor, tender: Tender) -> Opening:
    """The host moves on early where that cuts nobody's time (else StateConflict)."""
    authorize(actor, "opening.host", tender)
    opening = _locked(tender)
    state = opening.state
    if state == S.SIGNING_IN:
        _enter_decrypting(actor=actor, opening=opening, reason="the host started decryption")
    elif state == S.DECRYPTING:
        if opening.bid_openings.filter(status=BidOpeningStatus.PENDING).exists():
            raise RuleViolation(
                _("Bids are still awaiting decryption: the decryption window cannot be cut short (%(src)s).")
                % {"src": R.DECRYPTION_ONLINE},
                code="window_open",
            )
        _end_decryption(actor=actor, opening=opening, reason="the host ended decryption")
    elif state == S.OBJECTIONS:
        _close(actor=actor, opening=opening, reason="closed by the host")
    else:
        raise StateConflict(
            _("The phase '%(state)s' ends by itself.") % {"state": OpeningState(state).label}, code="wrong_phase")
    return opening


# --- sign-in, confirmation, objections ---------------------------------------------------------


@transaction.atomic
def opening_sign_in(*, actor, tender: Tender) -> SignIn:
    authorize(actor, "opening.sign_in", tender)
    opening = _locked(tender)
    _require(opening, *opening_states("sign_in"), action=_("Sign-in"))
    existing = SignIn.objects.filter(opening=opening, organisation_id=actor.organisation_id).first()
    if existing is not None:
        return existing
    signin = SignIn.objects.create(opening=opening, organisation_id=actor.organisation_id, user=actor,
                                   signed_in_at=clock.now())
    audit_record(actor=actor, action="opening.signed_in", obj=opening,
                 data={"tender": tender.pk, "organisation": actor.organisation_id})
    _room_publish(tender, "signin", actor.organisation_id, room.signin_entry(signin))
    return signin


@transaction.atomic
def opening_confirm(*, actor, tender: Tender) -> Confirmation:
    """The bidder confirms the read-out (an absent bidder is deemed to accept)."""
    authorize(actor, "opening.confirm", tender)
    opening = _locked(tender)
    _require(opening, *opening_states("confirm"), action=_("Confirmation"))
    existing = Confirmation.objects.filter(opening=opening, organisation_id=actor.organisation_id).first()
    if existing is not None:
        return existing
    c = Confirmation.objects.create(opening=opening, organisation_id=actor.organisation_id, user=actor,
                                    kind=ConfirmationKind.CONFIRMED, at=clock.now())
    audit_record(actor=actor, action="opening.confirmed", obj=opening,
                 data={"tender": tender.pk, "organisation": actor.organisation_id})
    _room_publish(tender, "confirmation", actor.organisation_id, room.confirmation_entry(c))
    _maybe_advance(actor=actor, opening=opening)
    return c


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > MAX_TEXT:
        raise DomainError(_("Write 1 to %(n)s characters.") % {"n": MAX_TEXT}, fields={field: ["1..2000 characters"]})
    return value


@transaction.atomic
def opening_objection_raise(*, actor, tender: Tender, text: str) -> OpeningObjection:
    """An objection to the opening, raised on the spot (实施条例 Art 44)."""
    authorize(actor, "opening.raise_objection", tender)
    opening = _locked(tender)
    _require(opening, *opening_states("raise_objection"), action=_("An objection"))
    objection = OpeningObjection.objects.create(opening=opening, organisation_id=actor.organisation_id,
                                                raised_by=actor, text=_text(text, "text"), raised_at=clock.now())
    audit_record(actor=actor, action="opening.objection_raised", obj=objection,
                 data={"tender": tender.pk, "organisation": actor.organisation_id, "text_sha256": text_hash(
                     objection.text), "source": R.OPENING_OBJECTIONS})
    _room_publish(tender, "objection", objection.pk, room.objection_entry(objection))
    return objection


@transaction.atomic
def opening_objection_answer(*, actor, tender: Tender, objection_id: int, answer: str) -> OpeningObjection:
    authorize(actor, "opening.answer_objection", tender)
    opening = _locked(tender)
    _require(opening, *opening_states("answer_objection"), action=_("An answer"))
    objection = OpeningObjection.objects.select_for_update().filter(opening=opening, pk=objection_id).first()
    if objection is None:
        raise NotFoundError(_("No such objection."))
    if objection.answered_at is not None:
        raise StateConflict(_("This objection has been answered."), code="answered")
    objection.answer = _text(answer, "answer")
    objection.answered_by = actor
    objection.answered_at = clock.now()
    objection.save(update_fields=["answer", "answered_by", "answered_at"])
    audit_record(actor=actor, action="opening.objection_answered", obj=objection,
                 data={"tender": tender.pk, "answer_sha256": text_hash(objection.answer),
                       "source": R.OPENING_OBJECTIONS})
    _room_publish(tender, "objection", objection.pk, room.objection_entry(objection))
    return objection


# --- decryption by the bidder ----------------------------------------------------------------------


def _bid_opening(tender: Tender, bid_id) -> BidOpening:
    """The bid opening of the bid whose *public id* is `bid_id` (docs/tendering.md, "Public identifiers")."""
    try:
        bo = BidOpening.objects.select_related("bid", "bid__bidder_key", "bid__opening_key").filter(
            bid__public_id=bid_id, bid__tender=tender).first()
    except (ValueError, TypeError, ValidationError):
        bo = None
    if bo is None:
        raise NotFoundError(_("No such bid in this opening."))
    return bo


def _readout_items(tender: Tender, form: dict) -> dict:
    return {item: form.get(item) for item in tender.readout_items}


def _record_success(*, actor, opening: Opening, bo: BidOpening, outcome: Outcome, method: str,
                    dek_sha256: str | None) -> None:
    tender = opening.tender
    bo.status = BidOpeningStatus.DECRYPTED
    bo.method = method
    bo.readout = _readout_items(tender, outcome.form)
    bo.form_sha256 = hashlib.sha256(canonical_bytes(outcome.form)).hexdigest()
    bo.manifest_sha256 = outcome.manifest_sha256
    bo.files = outcome.files
    bo.decrypted_at = clock.now()
    bo.last_error = ""
    bo.save()
    hand_over(bo.bid, outcome)  # the files are moved into place when this outcome commits
    audit_record(
        actor=actor,
        action="bid.decrypted",
        obj=bo.bid,
        data={"tender": tender.pk, "lot": bo.bid.lot_id, "bidder": bo.bid.bidder_id, "method": method,
              "envelope_sha256": bo.bid.envelope_sha256, "manifest_sha256": bo.manifest_sha256,
              "form_sha256": bo.form_sha256, "dek_sha256": dek_sha256, "files": bo.files, "readout": bo.readout},
    )
    _bid_events(tender, bo)


@transaction.atomic
def _record_bidder_outcome(*, actor, tender: Tender, bid_id, outcome: Outcome, dek_sha256: str) -> BidOpening:
    opening = _locked(tender)
    _require(opening, *opening_states("release_dek"), action=_("Releasing a DEK"))
    bo = _bid_openings(opening, bid__public_id=bid_id).first()
    if bo.status not in (BidOpeningStatus.PENDING, BidOpeningStatus.FALLBACK):
        return bo  # resolved meanwhile (a concurrent release): nothing to record
    bo.attempts += 1
    if outcome.ok:
        _record_success(actor=actor, opening=opening, bo=bo, outcome=outcome, method="bidder", dek_sha256=dek_sha256)
    elif outcome.retryable:
        bo.last_error = outcome.message[:300]
        bo.save(update_fields=["attempts", "last_error"])
        audit_record(actor=actor, action="bid.decryption_attempt_failed", obj=bo.bid,
                     data={"tender": tender.pk, "code": outcome.code, "attempt": bo.attempts, "dek_sha256": dek_sha256})
        _publish(tender, "private", {"org": str(bo.bid.bidder_id), "key": str(bo.bid.public_id),
                                     "entry": room.private_entry(bo)}, room.bidder_audience(bo.bid.bidder_id))
    else:
        bo.save(update_fields=["attempts"])
        _fail(actor=actor, opening=opening, bo=bo, fault=outcome.fault, code=outcome.code, message=outcome.message)
    _maybe_advance(actor=actor, opening=opening)
    return bo


def bid_dek_release(*, actor, tender: Tender, bid_id, dek: str) -> BidOpening:
    """The bidder releases its DEK (base64) for the bid with public id `bid_id`: the server decrypts
    and verifies the stored envelope.

    Not one transaction on purpose: the decryption (streaming, possibly hundreds of MB)
    runs outside it; `_record_bidder_outcome` then re-checks the state under the tender
    lock and records the outcome. A wrong DEK is refused (400, code wrong_dek) and may be
    corrected while the window is open.
    """
    bo = _bid_opening(tender, bid_id)
    authorize(actor, "opening.release_dek", bo.bid)
    opening = Opening.objects.get(tender=tender)
    _require(opening, *opening_states("release_dek"), action=_("Releasing a DEK"))
    if bo.status not in (BidOpeningStatus.PENDING, BidOpeningStatus.FALLBACK):
        raise StateConflict(_("This bid is %(status)s already.") % {"status": bo.get_status_display()},
                            code="resolved")
    if not SignIn.objects.filter(opening=opening, organisation_id=bo.bid.bidder_id).exists():
        raise RuleViolation(_("Sign in to the opening first (%(src)s).") % {"src": R.DECRYPTION_ONLINE},
                            code="not_signed_in")
    try:
        key = sbe1.decode_dek(dek)
    except (sbe1.SBE1Error, TypeError) as exc:
        raise DomainError(_("The DEK must be the base64 of 32 bytes, as `python -m sbe1 decrypt-dek` prints."),
                          code="bad_dek", fields={"dek": [getattr(exc, "code", "bad_dek")]}) from None
    outcome = decrypt_bid(bo.bid, dek=key)
    try:
        bo = _record_bidder_outcome(actor=actor, tender=tender, bid_id=bid_id, outcome=outcome,
                                    dek_sha256=hashlib.sha256(key).hexdigest())
    finally:
        discard_work(outcome)  # decrypted files nobody saved (resolved meanwhile, refused, failed)
    if not outcome.ok and outcome.retryable and bo.status != BidOpeningStatus.DECRYPTED:
        raise RuleViolation(
            _("This DEK does not decrypt your envelope; check the key file and try again before the window closes."),
            code="wrong_dek",
        )
    return bo


@transaction.atomic
def bid_mark_fallback(*, actor, tender: Tender, bid_id, reason: str) -> BidOpening:
    """The host records that a bid (public id `bid_id`) could not be decrypted through no fault of its
    bidder: custodians open it."""
    authorize(actor, "opening.host", tender)
    opening = _locked(tender)
    _require(opening, *opening_states("mark_fallback"), action=_("Handing a bid to the custodians"))
    bo = _bid_openings(opening, bid__public_id=bid_id).first()
    if bo is None:
        raise NotFoundError(_("No such bid in this opening."))
    if bo.status != BidOpeningStatus.PENDING:
        raise StateConflict(_("Only a bid awaiting decryption can be handed to the custodians."), code="resolved")
    bo.status = BidOpeningStatus.FALLBACK
    bo.fallback_reason = _text(reason, "reason")[:300]
    bo.save(update_fields=["status", "fallback_reason"])
    audit_record(actor=actor, action="bid.fallback_marked", obj=bo.bid,
                 data={"tender": tender.pk, "reason_sha256": text_hash(bo.fallback_reason), "fault": Fault.OTHER})
    _bid_events(tender, bo)
    _maybe_advance(actor=actor, opening=opening)
    return bo


# --- custodian fallback --------------------------------------------------------------------------------


def _released_share(share) -> sbe1.ReleasedShare:
    try:
        return sbe1.parse_released_share(share)
    except (sbe1.SBE1Error, TypeError, ValueError) as exc:
        raise DomainError(
            _("The share must be the released share JSON that `python -m sbe1 decrypt-share` prints: %(why)s")
            % {"why": exc}, code="bad_share", fields={"share": ["invalid"]}) from None


@transaction.atomic
def _share_store(*, actor, tender: Tender, key_share: KeyShare, released: sbe1.ReleasedShare) -> ShareRelease:
    opening = _locked(tender)
    _require(opening, *opening_states("submit_share"), action=_("Submitting a custodian share"))
    if ShareRelease.objects.filter(key_share=key_share).exists():
        raise StateConflict(_("You have submitted this share already."), code="share_submitted")
    text = released.to_json_bytes().decode("ascii")
    release = ShareRelease.objects.create(opening=opening, key_share=key_share, custodian=actor, released=text,
                                          share_sha256=hashlib.sha256(text.encode()).hexdigest(),
                                          submitted_at=clock.now())
    audit_record(actor=actor, action="opening.share_released", obj=opening,
                 data={"tender": tender.pk, "lot": key_share.opening_key.lot_id,
                       "opening_key_id": key_share.opening_key.key_id, "x": key_share.x, "role": key_share.role,
                       "share_sha256": release.share_sha256})
    lo = opening.lots.select_related("lot", "lot__opening_key").get(lot_id=key_share.opening_key.lot_id)
    room_publish_fallback(tender, lo)
    return release


def share_submit(*, actor, tender: Tender, share) -> ShareRelease:
    """A custodian submits its decrypted share (after the deadline, in the fallback phase only).

    With k shares of a lot's opening key the server rebuilds the key in memory, unwraps
    each fallback bid's DEK from its "opening" recipient, decrypts, and drops the key.
    """
    now = clock.deadline_now()
    if now < tender.bid_deadline:
        raise RuleViolation(
            _("Nobody may decrypt a bid before the bid deadline %(t)s: shares are accepted only after it (%(src)s).")
            % {"t": _fmt(tender.bid_deadline), "src": R.NO_DECRYPTION_BEFORE_DEADLINE},
            code="before_deadline",
        )
    released = _released_share(share)
    key_share = KeyShare.objects.select_related("opening_key").filter(
        opening_key__tender=tender, opening_key__key_id=released.opening_key_id, custodian=actor).first()
    if key_share is None:
        raise NotFoundError(_("You hold no share of this opening key."))
    authorize(actor, "opening.submit_share", key_share)
    if released.share.x != key_share.x or released.threshold != key_share.opening_key.threshold:
        raise DomainError(_("This share does not match the share the platform gave you (x or threshold)."),
                          code="share_mismatch")
    release = _share_store(actor=actor, tender=tender, key_share=key_share, released=released)
    fallback_try(tender=tender, opening_key=key_share.opening_key)
    return release


def _combine(releases: list[ShareRelease], opening_key: OpeningKey):
    shares = [sbe1.parse_released_share(r.released) for r in releases]
    for subset in itertools.combinations(range(len(shares)), opening_key.threshold):
        try:
            return sbe1.combine_released([shares[i] for i in subset]), [releases[i] for i in subset]
        except sbe1.ShamirError:
            continue
    return None, []


def fallback_try(*, tender: Tender, opening_key: OpeningKey) -> int:
    """Rebuild the opening key if k shares are in, decrypt the lot's fallback bids, drop the key."""
    releases = list(ShareRelease.objects.filter(key_share__opening_key=opening_key, used_at__isnull=True)
                    .exclude(released="").select_related("key_share").order_by("key_share__x"))
    if len(releases) < opening_key.threshold:
        return 0
    pending = list(BidOpening.objects.filter(bid__opening_key=opening_key, status=BidOpeningStatus.FALLBACK)
                   .select_related("bid", "bid__bidder_key", "bid__opening_key"))
    if not pending:
        return 0
    private_key, used = _combine(releases, opening_key)
    if private_key is None:
        _record_combine_failure(tender=tender, opening_key=opening_key, xs=[r.key_share.x for r in releases])
        return 0
    outcomes = {bo.bid_id: decrypt_bid(bo.bid, private_key=private_key) for bo in pending}
    del private_key  # the rebuilt opening key lives only here
    try:
        return _record_fallback(tender=tender, opening_key=opening_key, outcomes=outcomes, used=used)
    finally:
        for outcome in outcomes.values():
            discard_work(outcome)


@transaction.atomic
def _record_combine_failure(*, tender: Tender, opening_key: OpeningKey, xs: list[int]) -> None:
    opening = _locked(tender)
    audit_record(actor=SYSTEM, action="opening_key.rebuild_failed", obj=opening_key,
                 data={"tender": tender.pk, "opening_key_id": opening_key.key_id, "xs": xs})
    lo = opening.lots.select_related("lot", "lot__opening_key").get(lot_id=opening_key.lot_id)
    room_publish_fallback(tender, lo)


@transaction.atomic
def _record_fallback(*, tender: Tender, opening_key: OpeningKey, outcomes: dict, used: list[ShareRelease]) -> int:
    opening = _locked(tender)
    if opening.state != S.FALLBACK:
        return 0
    now = clock.now()
    done = 0
    for bo in _bid_openings(opening, bid_id__in=list(outcomes), status=BidOpeningStatus.FALLBACK):
        outcome = outcomes[bo.bid_id]
        if outcome.ok:
            _record_success(actor=SYSTEM, opening=opening, bo=bo, outcome=outcome, method="custodian", dek_sha256=None)
        else:
            _fail(actor=SYSTEM, opening=opening, bo=bo, fault=outcome.fault, code=outcome.code,
                  message=outcome.message)
        done += 1
    # The released shares have served: keep only their hashes.
    ShareRelease.objects.filter(key_share__opening_key=opening_key).update(released="", used_at=now)
    audit_record(actor=SYSTEM, action="opening_key.rebuilt", obj=opening_key,
                 data={"tender": tender.pk, "opening_key_id": opening_key.key_id,
                       "shares_used": sorted(r.key_share.x for r in used), "bids": sorted(outcomes),
                       "private_key_discarded": True})
    lo = opening.lots.select_related("lot", "lot__opening_key").get(lot_id=opening_key.lot_id)
    room_publish_fallback(tender, lo)
    _maybe_advance(actor=SYSTEM, opening=opening)
    return done


# --- closing and the record --------------------------------------------------------------------------------


def _close(*, actor, opening: Opening, reason: str) -> None:
    tender = opening.tender
    if _open_objections(opening):
        raise RuleViolation(
            _("Every objection must be answered on the spot before the opening closes (%(src)s).")
            % {"src": R.OPENING_OBJECTIONS},
            code="objection_open",
        )
    _set_phase(actor=actor, opening=opening, state=S.CLOSED, ends_at=None, reason=reason)
    record_write(opening=opening)
    event = audit_record(actor=actor, action="opening.record_published", obj=opening,
                         data={"tender": tender.pk, "record_sha256": opening.record_sha256,
                               "pdf_sha256": opening.record_pdf_sha256, "source": R.READOUT})
    opening.record_published_at = clock.now()
    opening.record_audit_seq = event.seq
    opening.save(update_fields=["record_published_at", "record_audit_seq"])
    tender_transition(actor=actor, tender=tender, to=TenderStatus.EVALUATING, reason="opening closed")
    _publish(tender, "record.published", room.record_published_payload(opening), room.public_audience())


@transaction.atomic
def opening_close(*, actor, tender: Tender) -> Opening:
    authorize(actor, "opening.host", tender)
    opening = _locked(tender)
    _require(opening, *opening_states("close"), action=_("Closing"))
    _close(actor=actor, opening=opening, reason="closed by the host")
    return opening
