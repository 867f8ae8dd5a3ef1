"""Fixed-price comparison services (docs/smallworks.md): notice, registration, review, objections,
the drawing, signature, publicity, contract, completion.

Every state change is one audit event `fixed_price.*` (the drawing's: `fixed_price_drawing.*`)
and, where the drawing room shows it, one event on the persisted stream `fixed_price:<id>`
(realtime.streams), pushed on commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.policy import authorize
from audit.services import audit_record
from config.errors import DomainError, NotPermitted, RuleViolation, StateConflict
from credit.rules import RecordKind
from credit.services import access_check, bars_at, record_propose, refusal_message
from experts import sampler
from experts.identity import seed_seal, seed_unseal
from realtime.streams import PUBLIC, stream_publish
from smallworks import rules
from smallworks.models import (
    Drawing,
    Entry,
    EntryDocument,
    Objection,
    Pick,
    PickStatus,
    Project,
    ProjectStatus,
    Qualification,
    SupervisionWarning,
)
from trading import clock
from trading.deposits.services.forfeit import deposit_forfeit
from trading.deposits.services.refunds import (
    deposit_refunds_schedule_after_contract,
    deposit_refunds_schedule_after_termination,
)
from trading.models import DepositAccount, DepositStatus, Lot, ProcedureType, Registration, Tender, TenderStatus
from trading.services.deposit_hook import deposit_instructions
from trading.services.scheduling import step_schedule

ALGORITHM = sampler.ALGORITHM  # the expert draw's sampler, reused as is (docs/smallworks.md, "The drawing")
LINE = 0  # the one line of a fixed-price drawing
SUPERVISORS: dict = {"roles": ["supervisor"]}
SIGN_DUE_STEP = "fixed_price_sign_due"
SIGN_WARNING_STEP = "fixed_price_sign_warning"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def stream_key(project: Project) -> str:
    return f"fixed_price:{project.pk}"


def _publish(project: Project, kind: str, payload: dict, audience: dict | None = None) -> None:
    stream_publish(key=stream_key(project), kind=kind, payload={"project": project.pk, **payload},
                   audience=audience or PUBLIC)


def _base(project: Project) -> dict:
    return {"project": project.pk, "code": project.code}


def lock_project(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def _text(value: str, field: str, *, limit: int = 5000, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("%(field)s is required.") % {"field": field}, fields={field: ["required"]})
    if len(value) > limit:
        raise DomainError(_("%(field)s is too long.") % {"field": field}, fields={field: ["too_long"]})
    return value


def _status(project: Project, *allowed: str) -> None:
    if project.status not in allowed:
        raise StateConflict(_("Project %(code)s is %(status)s: this is not possible now.")
                            % {"code": project.code, "status": project.get_status_display()}, code="wrong_status")


# --- notice -------------------------------------------------------------------------------------


@transaction.atomic
def project_create(*, actor, tenderer: Organisation, title: str, contract_price: Decimal,
                   qualification_conditions: list[str], registration_ends_at: datetime, drawing_at: datetime,
                   signing_days: int | None = None, reserves: int = 2, deposit_amount: Decimal = Decimal(0),
                   description: str = "") -> Project:
    """The agent drafts the notice: fixed contract price (≤ MAX_CONTRACT_PRICE), qualification conditions,
    deposit, registration end, drawing time, signing period, number of reserves."""
    authorize(actor, "fixed_price.create")
    title = _text(title, "title", limit=300)
    contract_price = Decimal(contract_price)
    limit = rules.max_contract_price()
    if contract_price <= 0 or contract_price >= limit:
        raise RuleViolation(_("A fixed-price comparison is for works under %(limit)s yuan (%(src)s).")
                            % {"limit": f"{limit:,.2f}", "src": rules.MAX_CONTRACT_PRICE.source},
                            code="price_limit", fields={"contract_price": ["limit"]})
    conditions = [c.strip() for c in qualification_conditions if c and c.strip()]
    if not conditions or any(len(c) > 500 for c in conditions):
        raise DomainError(_("State the qualification conditions (one per line, 500 characters at most)."),
                          fields={"qualification_conditions": ["required"]})
    deposit_amount = Decimal(deposit_amount)
    if deposit_amount < 0 or deposit_amount > contract_price * rules.DEPOSIT_MAX_SHARE.value:
        raise RuleViolation(_("The deposit is at most 2 %% of the price (%(src)s).")
                            % {"src": rules.DEPOSIT_MAX_SHARE.source}, code="deposit_limit",
                            fields={"deposit_amount": ["limit"]})
    signing_days = rules.SIGNING_DAYS_DEFAULT.value if signing_days is None else int(signing_days)
    if not 1 <= signing_days <= rules.SIGNING_DAYS_MAX.value:
        raise RuleViolation(_("The signing period is 1 to %(n)s days (%(src)s).")
                            % {"n": rules.SIGNING_DAYS_MAX.value, "src": rules.SIGNING_DAYS_MAX.source},
                            code="signing_days", fields={"signing_days": ["range"]})
    if not 0 <= int(reserves) <= 10:
        raise DomainError(_("Between 0 and 10 reserves."), fields={"reserves": ["range"]})
    now = clock.now()
    if registration_ends_at <= now or drawing_at < registration_ends_at:
        raise DomainError(_("Registration must end in the future and the drawing come after it."),
                          fields={"drawing_at": ["order"]})
    # The carrier tender holds the deposits (models.py): never published, never stepped by trading;
    # its seal ends at once (the qualified list is public before the drawing anyway).
    carrier = Tender.objects.create(
        code=f"TMP-{secrets.token_hex(8)}", title=title, tenderer=tenderer, agent_id=actor.organisation_id,
        created_by=actor, procedure_type=ProcedureType.WORKS, bid_deadline=registration_ends_at,
        status=TenderStatus.DRAFT, bidding_closed_at=now)
    Lot.objects.create(tender=carrier, number=1, title=title, estimated_price=contract_price,
                       deposit_amount=deposit_amount)
    project = Project.objects.create(
        code=f"TMP-{secrets.token_hex(8)}", title=title, description=_text(description, "description",
                                                                           limit=20000, required=False),
        tenderer=tenderer, agent_id=actor.organisation_id, created_by=actor, contract_price=contract_price,
        qualification_conditions=conditions, deposit_amount=deposit_amount, registration_ends_at=registration_ends_at,
        drawing_at=drawing_at, signing_days=signing_days, reserves=int(reserves), carrier=carrier)
    project.code = f"GDJ-{timezone.localdate(now):%Y%m%d}-{project.pk:05d}"
    project.save(update_fields=["code"])
    Tender.objects.filter(pk=carrier.pk).update(code=f"{project.code}-D")
    audit_record(actor=actor, action="fixed_price.created", obj=project, data={**_base(project), **_notice(project)})
    return project


def _notice(project: Project) -> dict:
    return {"title": project.title, "tenderer": project.tenderer_id, "agent": project.agent_id,
            "contract_price": project.contract_price, "price_rule": rules.MAX_CONTRACT_PRICE.source,
            "qualification_conditions": project.qualification_conditions, "deposit_amount": project.deposit_amount,
            "registration_ends_at": project.registration_ends_at, "drawing_at": project.drawing_at,
            "signing_days": project.signing_days, "reserves": project.reserves,
            "unfinished_cap": rules.unfinished_cap()}


@transaction.atomic
def project_publish(*, actor, project: Project) -> Project:
    authorize(actor, "fixed_price.manage", project)
    project = lock_project(project)
    _status(project, ProjectStatus.DRAFT)
    if project.registration_ends_at <= clock.now():
        raise StateConflict(_("The registration end has passed: change the notice first."), code="too_late")
    project.status, project.published_at = ProjectStatus.REGISTRATION, clock.now()
    project.save(update_fields=["status", "published_at", "updated_at"])
    audit_record(actor=actor, action="fixed_price.published", obj=project, data={**_base(project), **_notice(project)})
    _publish(project, "published", {"status": project.status})
    return project


def registration_open(project: Project, now: datetime | None = None) -> bool:
    return project.status == ProjectStatus.REGISTRATION and (now or clock.now()) < project.registration_ends_at


def _close_registration(project: Project) -> None:
    """Registration → review, once its end has passed (called lazily by every later action)."""
    if project.status == ProjectStatus.REGISTRATION and clock.now() >= project.registration_ends_at:
        project.status = ProjectStatus.REVIEW
        project.save(update_fields=["status", "updated_at"])
        entries = project.entries.filter(withdrawn_at__isnull=True).count()
        audit_record(actor="system", action="fixed_price.registration_closed", obj=project,
                     data={**_base(project), "entries": entries})
        _publish(project, "registration_closed", {"entries": entries})


# --- registration --------------------------------------------------------------------------------


@transaction.atomic
def entry_register(*, actor, project: Project, documents: list, relation_declared: str = "") -> tuple[Entry, dict]:
    """An enterprise registers online with its documents; returns the entry and the deposit instructions."""
    authorize(actor, "fixed_price.register", project)
    project = lock_project(project)
    now = clock.now()
    if not registration_open(project, now):
        raise StateConflict(_("Registration for %(code)s is closed.") % {"code": project.code}, code="not_open")
    org_id = actor.organisation_id
    if org_id in (project.tenderer_id, project.agent_id):
        raise RuleViolation(_("The tenderer and its agent may not take part (招标投标法实施条例 Art 34)."),
                            code="conflict_of_interest")
    access_check(org_id, "fixed_price_registration", at=now)
    if not documents:
        raise DomainError(_("Attach the documents the qualification conditions ask for."),
                          fields={"documents": ["required"]})
    if project.entries.filter(organisation_id=org_id).exists():
        raise StateConflict(_("Your organisation is already registered."), code="already_registered")
    lot = project.carrier.lots.get()
    registration = Registration.objects.create(lot=lot, tender=project.carrier, bidder_id=org_id,
                                               registered_by=actor, created_at=now, updated_at=now)
    entry = Entry.objects.create(project=project, organisation_id=org_id, registration=registration,
                                 registered_by=actor, registered_at=now,
                                 relation_declared=_text(relation_declared, "relation_declared", limit=300,
                                                         required=False))
    hashes = []
    for f in documents:
        size = getattr(f, "size", 0) or 0
        if size <= 0 or size > MAX_DOCUMENT_BYTES:
            raise DomainError(_("Each document is between 1 byte and 20 MB."), fields={"documents": ["size"]})
        digest = hashlib.sha256()
        for chunk in f.chunks():
            digest.update(chunk)
        f.seek(0)
        name = (getattr(f, "name", "") or "document")[-200:]
        EntryDocument.objects.create(entry=entry, name=name, file=f, sha256=digest.hexdigest(), size=size,
                                     uploaded_at=now)
        hashes.append({"name": name, "sha256": digest.hexdigest(), "size": size})
    instructions = deposit_instructions(registration)
    audit_record(actor=actor, action="fixed_price.registered", obj=project,
                 data={**_base(project), "entry": entry.pk, "organisation": org_id, "documents": hashes,
                       "relation_declared": entry.relation_declared})
    return entry, instructions


def deposit_status(entry: Entry) -> str:
    if entry.project.deposit_amount <= 0:
        return "not_required"
    account = DepositAccount.objects.filter(registration_id=entry.registration_id).first()
    return account.status if account is not None else DepositStatus.NONE


# --- qualification review and objections ------------------------------------------------------------


@transaction.atomic
def entry_review(*, actor, entry: Entry, passed: bool, reasons: str, relation_found: str = "") -> Entry:
    """Pass or fail one entry, with reasons (always stated); a pass needs the deposit paid."""
    project = lock_project(entry.project)
    authorize(actor, "fixed_price.manage", project)
    _close_registration(project)
    _status(project, ProjectStatus.REVIEW)
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if entry.withdrawn_at is not None:
        raise StateConflict(_("This entry was withdrawn."), code="withdrawn")
    reasons = _text(reasons, "reasons", limit=2000)
    if passed and deposit_status(entry) not in ("not_required", DepositStatus.PAID, DepositStatus.GUARANTEED):
        raise RuleViolation(_("The deposit of %(org)s has not arrived from its basic account (招标投标法实施条例 "
                              "Art 26): it cannot qualify.") % {"org": entry.organisation.name}, code="deposit_missing")
    entry.qualification = Qualification.PASSED if passed else Qualification.FAILED
    entry.reasons, entry.reviewed_by, entry.reviewed_at = reasons, actor, clock.now()
    entry.relation_found = _text(relation_found, "relation_found", limit=300, required=False)
    entry.save(update_fields=["qualification", "reasons", "reviewed_by", "reviewed_at", "relation_found"])
    audit_record(actor=actor, action="fixed_price.entry_reviewed", obj=project,
                 data={**_base(project), "entry": entry.pk, "organisation": entry.organisation_id,
                       "qualification": entry.qualification, "reasons": reasons,
                       "relation_found": entry.relation_found})
    return entry


def review_results(project: Project) -> list[dict]:
    return [{"entry": e.pk, "organisation": e.organisation_id, "name": e.organisation.name,
             "uscc": e.organisation.uscc, "qualification": e.qualification, "reasons": e.reasons}
            for e in project.entries.filter(withdrawn_at__isnull=True).select_related("organisation")]


@transaction.atomic
def review_publish(*, actor, project: Project) -> Project:
    """Publish the qualification result; objections are open for OBJECTION_DAYS."""
    project = lock_project(project)
    authorize(actor, "fixed_price.manage", project)
    _close_registration(project)
    _status(project, ProjectStatus.REVIEW)
    if project.entries.filter(withdrawn_at__isnull=True, qualification=Qualification.PENDING).exists():
        raise StateConflict(_("Review every entry before publishing the result."), code="review_incomplete")
    now = clock.now()
    project.status, project.reviewed_at = ProjectStatus.REVIEWED, now
    project.objections_until = now + timedelta(days=int(rules.OBJECTION_DAYS.value))
    project.save(update_fields=["status", "reviewed_at", "objections_until", "updated_at"])
    results = review_results(project)
    audit_record(actor=actor, action="fixed_price.review_published", obj=project,
                 data={**_base(project), "results": results, "objections_until": project.objections_until,
                       "source": rules.OBJECTION_DAYS.source})
    _publish(project, "review_published", {"results": results, "objections_until": project.objections_until})
    return project


@transaction.atomic
def objection_raise(*, actor, project: Project, text: str) -> Objection:
    project = lock_project(project)
    authorize(actor, "fixed_price.object", project)
    _status(project, ProjectStatus.REVIEWED)
    if clock.now() >= project.objections_until:
        raise RuleViolation(_("Objections to the qualification result were open until %(t)s (%(src)s).")
                            % {"t": timezone.localtime(project.objections_until).strftime("%Y-%m-%d %H:%M"),
                               "src": rules.OBJECTION_DAYS.source}, code="objection_late")
    objection = Objection.objects.create(project=project, organisation_id=actor.organisation_id, raised_by=actor,
                                         text=_text(text, "text"), raised_at=clock.now())
    audit_record(actor=actor, action="fixed_price.objection_raised", obj=project,
                 data={**_base(project), "objection": objection.pk, "organisation": actor.organisation_id})
    return objection


@transaction.atomic
def objection_reply(*, actor, objection: Objection, reply: str, upheld: bool) -> Objection:
    """Answer an objection; an upheld one reopens the review (the agent reviews the entry again)."""
    project = lock_project(objection.project)
    authorize(actor, "fixed_price.manage", project)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if objection.replied_at is not None:
        raise StateConflict(_("This objection is already answered."), code="answered")
    objection.reply, objection.upheld = _text(reply, "reply"), bool(upheld)
    objection.replied_by, objection.replied_at = actor, clock.now()
    objection.save()
    if upheld and project.status == ProjectStatus.REVIEWED:
        project.status = ProjectStatus.REVIEW
        project.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="fixed_price.objection_answered", obj=project,
                 data={**_base(project), "objection": objection.pk, "upheld": objection.upheld,
                       "reply": objection.reply[:2000]})
    return objection


# --- exclusions -------------------------------------------------------------------------------------

EXCLUSION_REASONS = ("unfinished_cap", "credit_barred", "tenderer_relation")


def unfinished_counts(org_ids: list[int], *, exclude_project: int | None = None) -> dict[int, int]:
    """Unfinished drawn projects per organisation: signed and not completed, or called to sign now."""
    counts: dict[int, int] = dict.fromkeys(org_ids, 0)
    contracted = Project.objects.filter(contractor_id__in=org_ids, completed_at__isnull=True).exclude(
        status=ProjectStatus.FAILED)
    called = Pick.objects.filter(organisation_id__in=org_ids, status=PickStatus.CALLED)
    if exclude_project is not None:
        contracted, called = contracted.exclude(pk=exclude_project), called.exclude(drawing__project_id=exclude_project)
    for org_id in contracted.values_list("contractor_id", flat=True):
        counts[org_id] += 1
    for org_id in called.values_list("organisation_id", flat=True):
        counts[org_id] += 1
    return counts


def exclusions(project: Project, org_ids: list[int], at: datetime) -> dict[int, dict]:
    """{organisation: {"reason", "detail"}} for the qualified enterprises that may not be drawn
    (first reason in EXCLUSION_REASONS order), each with a reason a supervisor can check."""
    out: dict[int, dict] = {}
    cap = rules.unfinished_cap()
    for org_id, n in unfinished_counts(org_ids, exclude_project=project.pk).items():
        if cap > 0 and n >= cap:
            out[org_id] = {"reason": "unfinished_cap",
                           "detail": f"{n} unfinished drawn projects, cap {cap} ({rules.UNFINISHED_CAP.source})"}
    for org_id, record in bars_at(org_ids, at).items():
        out.setdefault(org_id, {"reason": "credit_barred", "record": record.number,
                                "detail": refusal_message(record, "fixed_price_drawing")})
    for entry in project.entries.filter(organisation_id__in=org_ids).filter(
            ~Q(relation_declared="") | ~Q(relation_found="")):
        out.setdefault(entry.organisation_id, {"reason": "tenderer_relation",
                                               "detail": entry.relation_found or entry.relation_declared})
    return out


# --- the drawing ------------------------------------------------------------------------------------


@transaction.atomic
def drawing_commit(*, actor, project: Project) -> Drawing:
    """Compute the pool (qualified minus exclusions), seal a fresh seed, and commit to both in the audit
    event `fixed_price_drawing.committed`, whose hash is the entropy (unknown before the commitment)."""
    project = lock_project(project)
    authorize(actor, "fixed_price.manage", project)
    _status(project, ProjectStatus.REVIEWED)
    now = clock.now()
    if now < project.drawing_at:
        raise StateConflict(_("The drawing is announced for %(t)s.")
                            % {"t": timezone.localtime(project.drawing_at).strftime("%Y-%m-%d %H:%M")},
                            code="too_early")
    if now < project.objections_until or project.objections.filter(replied_at__isnull=True).exists():
        raise StateConflict(_("Objections to the qualification result are still open."), code="objections_open")
    if Drawing.objects.filter(project=project).exists():
        raise StateConflict(_("This project is already drawn."), code="drawn")
    qualified = list(project.entries.filter(withdrawn_at__isnull=True, qualification=Qualification.PASSED)
                     .select_related("organisation").order_by("organisation_id"))
    excluded = exclusions(project, [e.organisation_id for e in qualified], now)
    pool = sorted(e.organisation_id for e in qualified if e.organisation_id not in excluded)
    orgs = {e.organisation_id: e.organisation for e in qualified}
    seed = secrets.token_bytes(32)
    drawing = Drawing.objects.create(
        project=project, algorithm=ALGORITHM, requested_by=actor, seed_sha256=sampler.seed_commitment(seed),
        seed_sealed=b"", pool_ids=sampler.encode_ids(pool), pool_sha256=sampler.pool_digest([pool]),
        pool_size=len(pool), committed_at=now,
        excluded=[{"organisation": org_id, "name": orgs[org_id].name, "uscc": orgs[org_id].uscc, **why}
                  for org_id, why in sorted(excluded.items())])
    drawing.seed_sealed = seed_seal(seed, f"fixed_price:{drawing.pk}")
    counts = {reason: sum(1 for x in excluded.values() if x["reason"] == reason) for reason in EXCLUSION_REASONS}
    event = audit_record(actor=actor, action="fixed_price_drawing.committed", obj=drawing, data={
        **_base(project), "drawing": drawing.pk, "algorithm": ALGORITHM,
        "request": {"drawn": 1, "reserves": project.reserves},
        "pool": [{"organisation": org_id, "name": orgs[org_id].name, "uscc": orgs[org_id].uscc} for org_id in pool],
        "pool_sha256": drawing.pool_sha256, "seed_sha256": drawing.seed_sha256,
        "qualified": len(qualified), "excluded": counts})
    drawing.commit_seq, drawing.entropy = event.seq, event.hash
    drawing.save(update_fields=["seed_sealed", "commit_seq", "entropy"])
    _publish(project, "committed", {"drawing": drawing.pk, "pool": [orgs[o].name for o in pool],
                                    "pool_size": len(pool), "seed_sha256": drawing.seed_sha256,
                                    "entropy": drawing.entropy, "commit_seq": drawing.commit_seq,
                                    "excluded": counts})
    _publish(project, "exclusions", {"excluded": drawing.excluded}, SUPERVISORS)
    return drawing


def _shuffle(drawing: Drawing) -> sampler.Shuffle:
    seed = seed_unseal(drawing.seed_sealed, f"fixed_price:{drawing.pk}")
    shuffle = sampler.Shuffle(sampler.stream_key(seed, bytes.fromhex(drawing.entropy)), LINE,
                              sampler.decode_ids(drawing.pool_ids))
    shuffle.advance(drawing.steps)
    return shuffle


def _call(project: Project, pick: Pick, now: datetime) -> None:
    pick.status, pick.called_at = PickStatus.CALLED, now
    pick.sign_due_at = now + timedelta(days=project.signing_days)
    pick.save(update_fields=["status", "called_at", "sign_due_at"])
    subject = f"smallworks.pick:{pick.pk}"
    step_schedule(kind=SIGN_DUE_STEP, subject=subject, due_at=pick.sign_due_at, tender=project.carrier)
    warn_at = now + timedelta(days=project.signing_days) * float(rules.LATE_WARNING_SHARE.value)
    step_schedule(kind=SIGN_WARNING_STEP, subject=subject, due_at=warn_at, tender=project.carrier)
    audit_record(actor="system", action="fixed_price.called", obj=project,
                 data={**_base(project), "position": pick.position, "organisation": pick.organisation_id,
                       "sign_due_at": pick.sign_due_at})
    _publish(project, "called", {"position": pick.position, "organisation": pick.organisation.name,
                                 "sign_due_at": pick.sign_due_at})


def _take(drawing: Drawing, n: int) -> list[Pick]:
    """The next `n` outputs of the stream as picks (fewer when the pool runs out)."""
    shuffle = _shuffle(drawing)
    made = []
    start = drawing.picks.count()
    for i in range(n):
        org_id = shuffle.next()
        if org_id is None:
            break
        made.append(Pick.objects.create(drawing=drawing, position=start + i, organisation_id=org_id,
                                        status=PickStatus.WAITING))
    drawing.steps, drawing.words = shuffle.steps, shuffle.words
    drawing.save(update_fields=["steps", "words"])
    return made


@transaction.atomic
def drawing_sample(*, drawing_id: int) -> Drawing:
    """Draw: the stream of (seed, entropy) over the committed pool gives the drawn enterprise and the
    reserves in order; the seed is published at once (the result is public), so anyone can recompute."""
    drawing = Drawing.objects.select_for_update().get(pk=drawing_id)
    project = lock_project(drawing.project)
    if drawing.drawn_at is not None:
        return drawing
    now = clock.now()
    picks = _take(drawing, 1 + project.reserves)
    drawing.drawn_at = now
    drawing.seed_revealed = seed_unseal(drawing.seed_sealed, f"fixed_price:{drawing.pk}").hex()
    drawing.save(update_fields=["drawn_at", "seed_revealed"])
    sequence = [{"position": p.position, "organisation": p.organisation_id} for p in picks]
    audit_record(actor="system", action="fixed_price_drawing.drawn", obj=drawing, data={
        **_base(project), "drawing": drawing.pk, "commit_seq": drawing.commit_seq, "entropy": drawing.entropy,
        "seed_hex": drawing.seed_revealed, "seed_sha256": drawing.seed_sha256, "sequence": sequence,
        "steps": drawing.steps, "words": drawing.words})
    for p in picks:
        _publish(project, "pick", {"position": p.position, "organisation": p.organisation.name,
                                   "uscc": p.organisation.uscc, "drawn_as": "drawn" if p.position == 0 else "reserve"})
    _publish(project, "drawn", {"seed": drawing.seed_revealed, "steps": drawing.steps, "words": drawing.words})
    if not picks:
        _fail(project, "no eligible enterprise to draw", now)
        return drawing
    project.status = ProjectStatus.DRAWN
    project.save(update_fields=["status", "updated_at"])
    _call(project, picks[0], now)
    return drawing


def drawing_start(*, actor, project: Project) -> Drawing:
    """Commit, then draw (two transactions: the entropy is the committed event's hash)."""
    drawing = drawing_commit(actor=actor, project=project)
    return drawing_sample(drawing_id=drawing.pk)


# --- signature, lapse, publicity, contract ------------------------------------------------------------


def _lock_pick(pick: Pick) -> tuple[Project, Pick]:
    project = lock_project(Project(pk=Pick.objects.filter(pk=pick.pk).values_list("drawing__project_id", flat=True)
                                   .get()))
    return project, Pick.objects.select_for_update().select_related("organisation", "drawing").get(pk=pick.pk)


@transaction.atomic
def pick_confirm(*, actor, pick: Pick) -> Pick:
    """The drawn enterprise confirms and signs the result confirmation within the announced period."""
    project, pick = _lock_pick(pick)
    if actor.organisation_id != pick.organisation_id:
        raise NotPermitted(_("Only the drawn enterprise confirms."), code="permission_denied")
    authorize(actor, "fixed_price.confirm", pick)
    now = clock.now()
    if pick.status != PickStatus.CALLED:
        raise StateConflict(_("This pick is %(s)s.") % {"s": pick.get_status_display()}, code="not_called")
    if now >= pick.sign_due_at:
        raise RuleViolation(_("The signing period ended at %(t)s.")
                            % {"t": timezone.localtime(pick.sign_due_at).strftime("%Y-%m-%d %H:%M")}, code="late")
    pick.status, pick.signed_at, pick.ended_at = PickStatus.SIGNED, now, now
    pick.save(update_fields=["status", "signed_at", "ended_at"])
    pick.drawing.picks.filter(status=PickStatus.WAITING).update(status=PickStatus.RELEASED, ended_at=now)
    project.status, project.contractor_id = ProjectStatus.PUBLICITY, pick.organisation_id
    project.publicity_ends_at = now + timedelta(days=int(rules.PUBLICITY_DAYS.value))
    project.save(update_fields=["status", "contractor", "publicity_ends_at", "updated_at"])
    audit_record(actor=actor, action="fixed_price.confirmed", obj=project,
                 data={**_base(project), "position": pick.position, "organisation": pick.organisation_id,
                       "publicity_ends_at": project.publicity_ends_at, "source": rules.PUBLICITY_DAYS.source})
    _publish(project, "confirmed", {"position": pick.position, "organisation": pick.organisation.name,
                                    "publicity_ends_at": project.publicity_ends_at})
    return pick


def _fail(project: Project, reason: str, now: datetime) -> None:
    project.status, project.failed_reason = ProjectStatus.FAILED, reason[:300]
    project.save(update_fields=["status", "failed_reason", "updated_at"])
    deposit_refunds_schedule_after_termination(tender=project.carrier, terminated_at=now)
    audit_record(actor="system", action="fixed_price.failed", obj=project, data={**_base(project), "reason": reason})
    _publish(project, "failed", {"reason": reason})


def _next(project: Project, drawing: Drawing, now: datetime) -> None:
    """Call the next reserve in drawing order, or the next output of the stream when none waits."""
    following = drawing.picks.filter(status=PickStatus.WAITING).order_by("position").first()
    if following is None:
        taken = _take(drawing, 1)
        if taken:
            audit_record(actor="system", action="fixed_price_drawing.continued", obj=drawing, data={
                **_base(project), "drawing": drawing.pk, "position": taken[0].position,
                "organisation": taken[0].organisation_id, "steps": drawing.steps, "words": drawing.words})
        following = taken[0] if taken else None
    if following is None:
        _fail(project, "no reserve left to sign", now)
        return
    _call(project, following, now)


def _lapse(project: Project, pick: Pick, status: str, now: datetime, actor: Any = "system") -> None:
    pick.status, pick.ended_at = status, now
    pick.save(update_fields=["status", "ended_at"])
    event = audit_record(actor=actor, action=f"fixed_price.{status}", obj=project,
                         data={**_base(project), "position": pick.position, "organisation": pick.organisation_id,
                               "sign_due_at": pick.sign_due_at})
    entry = project.entries.get(organisation_id=pick.organisation_id)
    account = deposit_forfeit(entry.registration_id, "refused_to_sign", note=f"{project.code}: {status}")
    if account is None:  # no deposit required: the record is proposed here (deposits propose it otherwise)
        record_propose(kind=RecordKind.REFUSED_TO_SIGN, organisation=pick.organisation, evidence_seqs=[event.seq],
                       source_ref=f"smallworks.pick:{pick.pk}", at=now,
                       facts=f"{project.code}: drawn, did not sign within {project.signing_days} days")
    SupervisionWarning.objects.create(project=project, kind="signature_lapsed", raised_at=now,
                                      message=f"{pick.organisation.name} did not sign {project.code} "
                                              f"({status}); deposit forfeited, next reserve called")
    _publish(project, status, {"position": pick.position, "organisation": pick.organisation.name})
    _next(project, pick.drawing, now)


@transaction.atomic
def pick_refuse(*, actor, pick: Pick) -> Pick:
    """The drawn enterprise declines: as a lapse (deposit forfeited, record proposed, next reserve)."""
    project, pick = _lock_pick(pick)
    if actor.organisation_id != pick.organisation_id:
        raise NotPermitted(_("Only the drawn enterprise declines."), code="permission_denied")
    authorize(actor, "fixed_price.confirm", pick)
    if pick.status != PickStatus.CALLED:
        raise StateConflict(_("This pick is %(s)s.") % {"s": pick.get_status_display()}, code="not_called")
    _lapse(project, pick, PickStatus.REFUSED, clock.now(), actor)
    return pick


@transaction.atomic
def pick_sign_due(*, pick_id: int) -> str:
    """The signing period is over (step handler; idempotent)."""
    project, pick = _lock_pick(Pick(pk=pick_id))
    if pick.status != PickStatus.CALLED:
        return f"skipped: {pick.status}"
    now = clock.now()
    if now < pick.sign_due_at:
        return "early"
    _lapse(project, pick, PickStatus.LAPSED, now)
    return "lapsed"


@transaction.atomic
def pick_sign_warning(*, pick_id: int) -> str:
    """Supervision warning: part of the signing period has passed without signature."""
    project, pick = _lock_pick(Pick(pk=pick_id))
    if pick.status != PickStatus.CALLED or pick.warned_at is not None:
        return f"skipped: {pick.status}"
    now = clock.now()
    pick.warned_at = now
    pick.save(update_fields=["warned_at"])
    warning = SupervisionWarning.objects.create(
        project=project, kind="late_signature", raised_at=now,
        message=f"{pick.organisation.name} has not signed {project.code}; due "
                f"{timezone.localtime(pick.sign_due_at):%Y-%m-%d %H:%M}")
    audit_record(actor="system", action="fixed_price.warning_raised", obj=project,
                 data={**_base(project), "warning": warning.pk, "kind": warning.kind, "position": pick.position})
    _publish(project, "warning", {"kind": warning.kind, "message": warning.message}, SUPERVISORS)
    return "warned"


@transaction.atomic
def warning_acknowledge(*, actor, warning: SupervisionWarning) -> SupervisionWarning:
    authorize(actor, "fixed_price.supervise", warning.project)
    warning = SupervisionWarning.objects.select_for_update().get(pk=warning.pk)
    if warning.acknowledged_at is None:
        warning.acknowledged_by, warning.acknowledged_at = actor, clock.now()
        warning.save(update_fields=["acknowledged_by", "acknowledged_at"])
        audit_record(actor=actor, action="fixed_price.warning_acknowledged", obj=warning.project,
                     data={**_base(warning.project), "warning": warning.pk})
    return warning


@transaction.atomic
def contract_record(*, actor, project: Project) -> Project:
    """After the result publicity: the contract is signed; every deposit not forfeited is refunded."""
    project = lock_project(project)
    authorize(actor, "fixed_price.manage", project)
    _status(project, ProjectStatus.PUBLICITY)
    now = clock.now()
    if now < project.publicity_ends_at:
        raise RuleViolation(_("The result publicity lasts until %(t)s (%(src)s).")
                            % {"t": timezone.localtime(project.publicity_ends_at).strftime("%Y-%m-%d %H:%M"),
                               "src": rules.PUBLICITY_DAYS.source}, code="publicity")
    project.status, project.contract_signed_at = ProjectStatus.CONTRACTED, now
    project.save(update_fields=["status", "contract_signed_at", "updated_at"])
    refunded = deposit_refunds_schedule_after_contract(tender=project.carrier, contract_signed_at=now)
    audit_record(actor=actor, action="fixed_price.contracted", obj=project,
                 data={**_base(project), "contractor": project.contractor_id, "price": project.contract_price,
                       "refunds": len(refunded)})
    _publish(project, "contracted", {"contractor": project.contractor.name})
    return project


@transaction.atomic
def project_complete(*, actor, project: Project) -> Project:
    """The works are finished: the contractor's unfinished count drops (the cap of the drawing)."""
    project = lock_project(project)
    authorize(actor, "fixed_price.manage", project)
    _status(project, ProjectStatus.CONTRACTED)
    project.status, project.completed_at = ProjectStatus.COMPLETED, clock.now()
    project.save(update_fields=["status", "completed_at", "updated_at"])
    audit_record(actor=actor, action="fixed_price.completed", obj=project,
                 data={**_base(project), "contractor": project.contractor_id})
    return project
