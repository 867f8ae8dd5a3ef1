"""Award (中标通知书 and the public result notice) and the written contract.

- `award_publish`: after the publicity ended and with no objection open (实施条例 Art 54), the
  first-ranked candidate of every lot wins (Art 55); the award letter is a platform-signed
  document; the `award_result` notice moves the tender to `awarded`; a `contract_due` step
  watches the 30 days (招标投标法 Art 46). Government procurement: the losers' deposit refunds
  are scheduled from the award notice (政府采购法实施条例 Art 33).
- `award_decline`: the winner refuses to sign: its deposit is forfeited (实施条例 Art 74);
  `award_next` then awards the next candidate (Art 55), or the agent publishes a failure notice.
- `contract_record`: the signing date; price as in the bid (Art 57). The refunds of the lot's
  deposits are scheduled from that date (实施条例 Art 57: at the latest 5 days after signing);
  when every awarded lot has its contract the tender is `contracted`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.policy import authorize
from audit.services import audit_record
from audit.signing import sign_receipt
from config.errors import DomainError, RuleViolation, StateConflict
from trading import clock
from trading.evaluation import sources
from trading.evaluation.models import (
    Award,
    AwardStatus,
    CandidatePublicity,
    Contract,
    EvaluationBid,
    EvaluationReport,
    PublicityObjection,
    PublicityObjectionStatus,
    ReportStatus,
)
from trading.evaluation.rules import (
    AWARD_NOTICE,
    CONTRACT_MATCHES_BID,
    FIRST_CANDIDATE_WINS,
    GP_REFUND_AFTER_AWARD,
    NEXT_CANDIDATE,
    OBJECTION_SUSPENDS,
    REFUND_AFTER_CONTRACT,
    REFUSAL_FORFEITS_DEPOSIT,
    evaluation_rules,
)
from trading.evaluation.services.common import clean_text, fmt, sha256_json, sha256_text, subject
from trading.evaluation.services.publicity import current_publicity
from trading.models import Lot, NoticeKind, ProcedureType, Tender, TenderStatus
from trading.rules import AWARD_AFTER_PUBLICITY
from trading.services.notices import notice_publish, result_notice_publish
from trading.services.scheduling import step_schedule
from trading.services.tender_status import illegal_transition, lock_tender, tender_transition

CONTRACT_DUE = "contract_due"


def _publicity_reports(publicity: CandidatePublicity) -> list[EvaluationReport]:
    ids = [lot["report"] for lot in publicity.content["lots"]]
    reports = list(EvaluationReport.objects.filter(pk__in=ids).select_related("session", "session__lot"))
    if len(reports) != len(ids) or any(r.status != ReportStatus.FINAL for r in reports):
        raise StateConflict(_("The published reports are no longer final."), code="report_not_final")
    return sorted(reports, key=lambda r: r.session.lot.number)


def _letter(*, tender: Tender, lot: Lot, bid: EvaluationBid, rank: int, report: EvaluationReport, notice, now,
            due: datetime) -> dict:
    return sign_receipt(
        {
            "kind": "award_letter",
            "tender": tender.pk,
            "tender_code": tender.code,
            "lot": lot.pk,
            "lot_number": lot.number,
            "winner": bid.bidder_id,
            "winner_name": bid.bidder.name,
            "price": bid.price,
            "currency": bid.currency,
            "rank": rank,
            "report_sha256": report.sha256,
            "notice": notice.pk,
            "notice_sha256": notice.content_sha256,
            "awarded_at": now,
            "contract_due_at": due,
            "source": AWARD_NOTICE,
        }
    )


def _create_award(*, actor, tender, report, candidate: dict, notice, now) -> Award:
    lot = report.session.lot
    bid = EvaluationBid.objects.select_related("bidder").get(pk=candidate["bid"], session=report.session)
    due = evaluation_rules(tender.procedure_type).contract_within.after(now)
    letter = _letter(tender=tender, lot=lot, bid=bid, rank=candidate["rank"], report=report, notice=notice, now=now,
                     due=due)
    award = Award.objects.create(
        tender=tender,
        lot=lot,
        session=report.session,
        report=report,
        bid=bid,
        rank=candidate["rank"],
        notice=notice,
        awarded_at=now,
        letter=letter,
        letter_sha256=sha256_json(letter["receipt"]),
        contract_due_at=due,
    )
    audit_record(
        actor=actor,
        action="award.published",
        obj=award,
        data={"tender": tender.pk, "lot": lot.pk, "award": award.pk, "notice": notice.pk, "winner": bid.bidder_id,
              "price": bid.price, "rank": award.rank, "report_sha256": report.sha256,
              "letter_sha256": award.letter_sha256, "contract_due_at": due, "source": AWARD_NOTICE},
    )
    step_schedule(kind=CONTRACT_DUE, subject=subject(award), due_at=due, tender=tender, lot=lot)
    return award


def award_body(tender: Tender, winners: list[tuple[EvaluationReport, dict]]) -> str:
    lines = [f"{tender.code} {tender.title}", ""]
    for report, c in winners:
        lot = report.session.lot
        lines.append(f"Lot {lot.number} {lot.title}: {c['bidder_name']}, price {c['price']} (rank {c['rank']})")
    lines += ["", f"Award notice ({AWARD_NOTICE}); the written contract follows within 30 days."]
    return "\n".join(lines)


@transaction.atomic
def award_publish(*, actor, tender: Tender, title: str = "") -> list[Award]:
    authorize(actor, "award.manage", tender)
    lock_tender(tender)
    if PublicityObjection.objects.filter(tender=tender, status=PublicityObjectionStatus.OPEN).exists():
        raise RuleViolation(
            _("An objection to the evaluation result is open; the award waits for its reply (%(src)s).")
            % {"src": OBJECTION_SUSPENDS},
            code="objection_pending",
        )
    publicity = current_publicity(tender)
    if tender.status != TenderStatus.PUBLICITY or publicity is None:
        raise illegal_transition(tender, tender.status, TenderStatus.AWARDED)
    if tender.publicity_ended_at is None:
        raise RuleViolation(
            _("The candidate publicity runs until %(t)s; the award follows it (%(src)s).")
            % {"t": fmt(tender.publicity_ends_at or publicity.ends_at), "src": AWARD_AFTER_PUBLICITY},
            code="publicity_running",
        )
    winners = []
    for report in _publicity_reports(publicity):
        candidates = report.content.get("candidates") or []
        if candidates:
            winners.append((report, candidates[0]))  # 实施条例 Art 55: the first-ranked candidate
    if not winners:
        raise StateConflict(
            _("No lot has a candidate: publish a failure notice instead."), code="no_candidates"
        )
    notice = result_notice_publish(
        actor=actor,
        tender=tender,
        kind=NoticeKind.AWARD_RESULT,
        title=(title or "").strip() or f"{tender.code} {tender.title}: award result (中标结果公告)",
        body=award_body(tender, winners),
    )
    now = notice.published_at
    awards = [
        _create_award(actor=actor, tender=tender, report=report, candidate=c, notice=notice, now=now)
        for report, c in winners
    ]
    if tender.procedure_type == ProcedureType.GOVERNMENT_PROCUREMENT:
        handled_by = sources.refunds_after_award(tender=tender, award_notice_at=now)
        audit_record(
            actor=actor,
            action="deposit_refunds.requested",
            obj=tender,
            data={"tender": tender.pk, "trigger": "award", "at": now, "handled_by": handled_by,
                  "source": GP_REFUND_AFTER_AWARD, "rule": FIRST_CANDIDATE_WINS},
        )
    return awards


def _lock_award(award: Award) -> Award:
    lock_tender(award.tender)
    return Award.objects.select_for_update().select_related("tender", "lot", "bid", "bid__bidder", "report").get(
        pk=award.pk
    )


@transaction.atomic
def award_decline(*, actor, award: Award, reason: str) -> Award:
    """The winner refuses to sign (or gives up the award): the award is cancelled and the deposit
    is not returned (实施条例 Art 74)."""
    authorize(actor, "contract.record", award.tender)
    reason = clean_text(reason, "reason", limit=2000)
    award = _lock_award(award)
    if award.status != AwardStatus.ACTIVE:
        raise StateConflict(_("This award is not open for a contract."), code="not_active")
    now = clock.now()
    award.status, award.declined_at, award.decline_reason = AwardStatus.DECLINED, now, reason
    award.save(update_fields=["status", "declined_at", "decline_reason"])
    handled_by = sources.forfeit(registration_id=award.bid.registration_id, reason=reason,
                                 source=REFUSAL_FORFEITS_DEPOSIT)
    audit_record(
        actor=actor,
        action="award.declined",
        obj=award,
        data={"tender": award.tender_id, "lot": award.lot_id, "award": award.pk, "winner": award.bid.bidder_id,
              "reason_sha256": sha256_text(reason), "deposit_forfeit": handled_by,
              "source": REFUSAL_FORFEITS_DEPOSIT},
    )
    return award


@transaction.atomic
def award_next(*, actor, lot: Lot, title: str = "") -> Award:
    """Award the lot to the next candidate of the report after the winner refused (实施条例 Art 55)."""
    tender = lot.tender
    authorize(actor, "award.manage", tender)
    lock_tender(tender)
    if tender.status != TenderStatus.AWARDED:
        raise StateConflict(_("The tender is not awarded."), code="not_awarded")
    previous = list(Award.objects.filter(lot=lot).order_by("awarded_at"))
    if not previous or any(a.status != AwardStatus.DECLINED for a in previous):
        raise StateConflict(_("The lot's award is still in force."), code="award_active")
    report = previous[-1].report
    declined = {a.bid_id for a in previous}
    remaining = [c for c in report.content.get("candidates") or [] if c["bid"] not in declined]
    if not remaining:
        raise StateConflict(
            _("No candidate is left for this lot: publish a failure notice and re-tender (%(src)s).")
            % {"src": NEXT_CANDIDATE},
            code="no_candidates",
        )
    candidate = remaining[0]
    notice = notice_publish(
        actor=actor,
        tender=tender,
        kind=NoticeKind.AWARD_RESULT,
        title=(title or "").strip() or f"{tender.code} {tender.title}: award result, lot {lot.number} (变更)",
        body=award_body(tender, [(report, candidate)]) + f"\n({NEXT_CANDIDATE}: the previous winner refused.)",
    )
    return _create_award(actor=actor, tender=tender, report=report, candidate=candidate, notice=notice,
                         now=notice.published_at)


@transaction.atomic
def contract_record(*, actor, award: Award, signed_at: datetime, amount: Decimal | None = None, title: str = "",
                    document_sha256: str = "") -> Contract:
    authorize(actor, "contract.record", award.tender)
    award = _lock_award(award)
    tender = award.tender
    if award.status != AwardStatus.ACTIVE:
        raise StateConflict(_("This award is not open for a contract."), code="not_active")
    now = clock.now()
    if signed_at > now:
        raise DomainError(_("The signing date cannot be in the future."), fields={"signed_at": ["in the future"]})
    if signed_at < award.awarded_at:
        raise DomainError(_("The contract is signed after the award notice."), fields={"signed_at": ["too early"]})
    if amount is None:
        amount = award.bid.price
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Invalid amount."), fields={"amount": ["invalid"]}) from None
    if amount != award.bid.price:
        raise RuleViolation(
            _("The contract price must be the winning bid's price %(p)s (%(src)s).")
            % {"p": award.bid.price, "src": CONTRACT_MATCHES_BID},
            code="contract_price",
            fields={"amount": [str(award.bid.price)]},
        )
    document_sha256 = (document_sha256 or "").strip().lower()
    if document_sha256 and (len(document_sha256) != 64 or any(c not in "0123456789abcdef" for c in document_sha256)):
        raise DomainError(_("document_sha256: 64 hex digits."), fields={"document_sha256": ["invalid"]})
    contract = Contract.objects.create(
        award=award,
        tender=tender,
        title=(title or "").strip()[:300] or f"{tender.code} lot {award.lot.number}: {tender.title}",
        amount=amount,
        currency=award.bid.currency,
        signed_at=signed_at,
        document_sha256=document_sha256,
        recorded_by=actor,
        recorded_at=now,
        late=signed_at > award.contract_due_at,
    )
    award.status = AwardStatus.CONTRACTED
    award.save(update_fields=["status"])
    rules = evaluation_rules(tender.procedure_type)
    audit_record(
        actor=actor,
        action="contract.signed",
        obj=contract,
        data={"tender": tender.pk, "lot": award.lot_id, "award": award.pk, "contract": contract.pk,
              "signed_at": signed_at, "amount": amount, "late": contract.late,
              "document_sha256": document_sha256 or None, "source": rules.contract_within.source},
    )
    # The refunds of this lot's deposits run from the signing date (实施条例 Art 57).
    handled_by = sources.refunds_after_contract(tender=tender, contract_signed_at=signed_at, lot=award.lot)
    audit_record(
        actor=actor,
        action="deposit_refunds.requested",
        obj=tender,
        data={"tender": tender.pk, "lot": award.lot_id, "trigger": "contract", "at": signed_at,
              "handled_by": handled_by, "source": REFUND_AFTER_CONTRACT},
    )
    awards = Award.objects.filter(tender=tender).exclude(status=AwardStatus.DECLINED)
    if not awards.filter(status=AwardStatus.ACTIVE).exists():
        tender_transition(actor=actor, tender=tender, to=TenderStatus.CONTRACTED, reason="contract signed",
                          data={"contract": contract.pk, "signed_at": signed_at})
    return contract
