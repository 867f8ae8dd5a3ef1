"""Managing the expert pool (platform operators). Audit events name experts here: the pool is not
sealed, panels are; nothing in this module says who sits on which panel."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Organisation, User
from accounts.policy import authorize
from accounts.roles import Role
from audit.services import audit_record
from config.errors import DomainError
from experts.identity import id_number_hash, id_number_problem, normalize_phone
from experts.models import (
    EmploymentPosition,
    Expert,
    ExpertEmployment,
    ExpertLeave,
    ExpertRelative,
    ExpertStatus,
    Specialty,
)
from experts.services.draws import assignment_leave, assignments_affected
from trading import clock

EDITABLE = ("name", "phone", "email", "region", "employer", "title", "years", "user")


def _authorize(actor) -> None:
    if actor != "system":
        authorize(actor, "expert_pool.manage")


def _specialties(codes) -> list[Specialty]:
    codes = list(dict.fromkeys(str(c) for c in (codes or [])))
    if not codes:
        raise DomainError(_("An expert needs at least one specialty."), fields={"specialties": ["empty"]})
    found = Specialty.objects.in_bulk(codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise DomainError(_("Unknown specialty codes: %(codes)s.") % {"codes": ", ".join(unknown)},
                          fields={"specialties": unknown})
    return [found[c] for c in codes]


def _clean(expert: Expert) -> None:
    if not normalize_phone(expert.phone):
        raise DomainError(_("A mobile phone number is required (calls go to it)."), fields={"phone": ["required"]})
    expert.phone = normalize_phone(expert.phone)
    if expert.user_id:
        user = User.objects.get(pk=expert.user_id)
        if not user.has_role(Role.EXPERT):
            raise DomainError(_("The linked user account does not have the expert role."), fields={"user": ["role"]})
    try:
        expert.full_clean(exclude=["id_number_hash", "specialties"])
    except ValidationError as exc:
        fields = exc.message_dict
        first = next(iter(fields.items()))
        raise DomainError(f"{first[0]}: {first[1][0]}", fields=fields) from None


def _summary(expert: Expert) -> dict:
    return {"name": expert.name, "region": expert.region, "employer": expert.employer_id, "title": expert.title,
            "years": expert.years, "status": expert.status, "user": expert.user_id,
            "specialties": sorted(expert.specialties.values_list("code", flat=True))}


@transaction.atomic
def expert_create(*, actor, name: str, id_number: str, phone: str, region: str, specialties,
                  email: str = "", employer: Organisation | None = None, title: str = "", years: int = 0,
                  user: User | None = None) -> Expert:
    _authorize(actor)
    problem = id_number_problem(id_number)
    if problem:
        raise DomainError(_("Invalid ID number: %(problem)s.") % {"problem": problem}, fields={"id_number": [problem]})
    chosen = _specialties(specialties)
    expert = Expert(name=name, id_number_hash=id_number_hash(id_number), phone=phone, email=email, region=region,
                    employer=employer, title=title, years=years, user=user)
    _clean(expert)
    try:
        with transaction.atomic():
            expert.save()
    except IntegrityError:
        raise DomainError(_("An expert with this ID number or user account is already in the pool."),
                          code="duplicate", fields={"id_number": ["duplicate"]}) from None
    expert.specialties.set(chosen)
    audit_record(actor=actor, action="expert.created", obj=expert, data=_summary(expert))
    return expert


@transaction.atomic
def expert_update(*, actor, expert: Expert, specialties=None, **changes) -> Expert:
    _authorize(actor)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    for key, value in changes.items():
        setattr(expert, key, value)
    _clean(expert)
    try:
        with transaction.atomic():
            expert.save()
    except IntegrityError:
        raise DomainError(_("This user account is already linked to another expert."), code="duplicate",
                          fields={"user": ["duplicate"]}) from None
    if specialties is not None:
        expert.specialties.set(_specialties(specialties))
    audit_record(actor=actor, action="expert.updated", obj=expert,
                 data={"changed": sorted([*changes, *(["specialties"] if specialties is not None else [])]),
                       **_summary(expert)})
    return expert


@transaction.atomic
def expert_set_status(*, actor, expert: Expert, status: str, reason: str = "") -> Expert:
    """Activate, suspend or ban. Suspending or banning removes the expert from every open panel
    (the seats are refilled)."""
    _authorize(actor)
    if status not in ExpertStatus.values:
        raise DomainError(_("Unknown status %(s)s.") % {"s": status}, fields={"status": ["unknown"]})
    if status != ExpertStatus.ACTIVE and not reason.strip():
        raise DomainError(_("Give the reason for suspending or banning an expert."), fields={"reason": ["required"]})
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    previous = expert.status
    expert.status, expert.status_reason, expert.status_changed_at = status, reason.strip()[:500], clock.now()
    expert.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    audit_record(actor=actor, action="expert.status_changed", obj=expert,
                 data={"from": previous, "to": status, "reason": expert.status_reason})
    if status != ExpertStatus.ACTIVE:
        for assignment in assignments_affected(expert.pk):
            assignment_leave(actor="system", assignment=assignment, reason=f"expert {status}")
    return expert


@transaction.atomic
def expert_employment_add(*, actor, expert: Expert, organisation: Organisation,
                          position: str = EmploymentPosition.EMPLOYEE, started_on: date | None = None,
                          ended_on: date | None = None) -> ExpertEmployment:
    _authorize(actor)
    if position not in EmploymentPosition.values:
        raise DomainError(_("Unknown position %(p)s.") % {"p": position}, fields={"position": ["unknown"]})
    if started_on and ended_on and ended_on < started_on:
        raise DomainError(_("The relation cannot end before it starts."), fields={"ended_on": ["before start"]})
    row = ExpertEmployment.objects.create(expert=expert, organisation=organisation, position=position,
                                          started_on=started_on, ended_on=ended_on)
    audit_record(actor=actor, action="expert.employment_added", obj=expert,
                 data={"organisation": organisation.pk, "position": position, "started_on": started_on,
                       "ended_on": ended_on})
    return row


@transaction.atomic
def expert_relative_add(*, actor, expert: Expert, organisation: Organisation, relation: str,
                        note: str = "") -> ExpertRelative:
    _authorize(actor)
    if not relation.strip():
        raise DomainError(_("Say how the relative is related."), fields={"relation": ["required"]})
    row = ExpertRelative.objects.create(expert=expert, organisation=organisation, relation=relation.strip()[:50],
                                        note=note[:300])
    audit_record(actor=actor, action="expert.relative_declared", obj=expert,
                 data={"organisation": organisation.pk, "relation": row.relation})
    return row


@transaction.atomic
def expert_leave_add(*, actor, expert: Expert, starts_at: datetime, ends_at: datetime,
                     reason: str = "") -> ExpertLeave:
    """Record a leave; the expert leaves every open panel whose evaluation overlaps it (seats refilled).
    An expert may record their own leave."""
    if actor != "system" and not (getattr(actor, "pk", None) and actor.pk == expert.user_id):
        authorize(actor, "expert_pool.manage")
    if ends_at <= starts_at:
        raise DomainError(_("A leave ends after it starts."), fields={"ends_at": ["before start"]})
    row = ExpertLeave.objects.create(expert=expert, starts_at=starts_at, ends_at=ends_at, reason=reason[:300])
    audit_record(actor=actor, action="expert.leave_added", obj=expert,
                 data={"leave": row.pk, "starts_at": starts_at, "ends_at": ends_at})
    for assignment in assignments_affected(expert.pk, start=starts_at, end=ends_at):
        assignment_leave(actor="system", assignment=assignment, reason="leave")
    return row
