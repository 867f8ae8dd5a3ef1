"""Trades: creation, opening key, sealed reserve, notice publication, increment changes, relisting."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import sbe1
from accounts.models import Organisation, User
from accounts.policy import authorize
from accounts.roles import Role
from auctions import reserve as sealing
from auctions import rules
from auctions.models import CustodianShare, Kind, Trade, TradeStatus
from auctions.services.common import emit, lock, money
from audit.canonical import canonical_bytes
from audit.services import audit_record
from config.errors import DomainError, RuleViolation, StateConflict
from trading import clock
from trading.bids.keys import latest_custodian_key

DEFAULT_THRESHOLD = 2


def _code(kind: str) -> str:
    prefix = {Kind.LAND_LISTING: "LL", Kind.LAND_AUCTION: "LA", Kind.ASSET_TRANSFER: "AT"}[kind]
    year = timezone.localtime(clock.now()).year
    n = Trade.objects.filter(code__startswith=f"{prefix}-{year}-").count() + 1
    while Trade.objects.filter(code=f"{prefix}-{year}-{n:04d}").exists():
        n += 1
    return f"{prefix}-{year}-{n:04d}"


def _custodians(agent_org_id: int) -> list[tuple[str, User, Any]]:
    """(role, user, registered key) for the agent's, a supervisor's and the platform's custodian;
    distinct people, each with an active key (as trading/bids/ceremony.py for lots)."""
    chosen: list[tuple[str, User, Any]] = []
    problems = []
    for role, extra in (("agent", Role.AGENT), ("supervisor", Role.SUPERVISOR), ("platform", Role.PLATFORM_ADMIN)):
        qs = User.objects.filter(is_active=True, role_grants__role=Role.CUSTODIAN).filter(role_grants__role=extra)
        if role == "agent":
            qs = qs.filter(organisation_id=agent_org_id)
        found = None
        for user in qs.distinct().order_by("pk"):
            if user.pk in {c[1].pk for c in chosen}:
                continue
            key = latest_custodian_key(user.pk)
            if key is not None:
                found = (role, user, key)
                break
        if found is None:
            problems.append(role)
        else:
            chosen.append(found)
    if problems:
        raise RuleViolation(
            _("The trade's opening key cannot be made: no custodian with a registered key for %(roles)s "
              "(the reserve is sealed to a custodian threshold key; SPECS.md §1).") % {"roles": ", ".join(problems)},
            code="custodian_key_missing", fields={"custodians": problems})
    return chosen


def _validate_prices(start_price: Decimal, increment: Decimal, deposit: Decimal) -> None:
    if increment > start_price:
        raise DomainError(_("The increment cannot exceed the start price."), fields={"increment": ["too large"]})


@transaction.atomic
def trade_create(*, actor: User, kind: str, title: str, transferor: Organisation, start_price: Any,
                 increment: Any, deposit_amount: Any, starts_at: datetime, listing_ends_at: datetime | None = None,
                 countdown_seconds: int | None = None, description: str = "", particulars: dict | None = None,
                 relisted_from: Trade | None = None) -> Trade:
    """A draft trade by an agent, with its opening key made at once (the transferor seals the
    reserve to it before publication)."""
    authorize(actor, "auction.create")
    if kind not in rules.KINDS:
        raise DomainError(_("Unknown trade kind."), fields={"kind": [f"one of {', '.join(rules.KINDS)}"]})
    title = (title or "").strip()
    if not title:
        raise DomainError(_("A title is required."), fields={"title": ["required"]})
    start = money(start_price, field="start_price")
    inc = money(increment, field="increment")
    dep = money(deposit_amount, field="deposit_amount")
    _validate_prices(start, inc, dep)
    seconds = rules.default_countdown_seconds() if countdown_seconds is None else int(countdown_seconds)
    if not rules.COUNTDOWN_MIN_SECONDS <= seconds <= rules.COUNTDOWN_MAX_SECONDS:
        raise DomainError(_("The countdown is between %(lo)s and %(hi)s seconds.")
                          % {"lo": rules.COUNTDOWN_MIN_SECONDS, "hi": rules.COUNTDOWN_MAX_SECONDS},
                          fields={"countdown_seconds": ["out of range"]})
    if kind == Kind.LAND_LISTING and listing_ends_at is None:
        raise DomainError(_("A listing needs its end time."), fields={"listing_ends_at": ["required"]})
    if kind != Kind.LAND_LISTING:
        listing_ends_at = None
    custodians = _custodians(actor.organisation_id)
    opening = sbe1.create_opening_key([c[2].public_spki for c in custodians], threshold=DEFAULT_THRESHOLD)
    trade = Trade.objects.create(
        code=_code(kind), kind=kind, title=title[:300], description=description or "",
        particulars=particulars or {}, transferor=transferor, agent_id=actor.organisation_id, created_by=actor,
        start_price=start, increment=inc, deposit_amount=dep, countdown_seconds=seconds, starts_at=starts_at,
        listing_ends_at=listing_ends_at, opening_key_id=opening.key_id,
        opening_public_spki=sbe1.spki_b64(sbe1.load_public_key(opening.public_spki)), threshold=opening.threshold,
        relisted_from=relisted_from)
    for (role, user, key), container in zip(custodians, opening.shares, strict=True):
        CustodianShare.objects.create(trade=trade, x=container["x"], role=role, custodian=user, custodian_key=key,
                                      container=container,
                                      container_sha256=hashlib.sha256(canonical_bytes(container)).hexdigest())
    audit_record(actor=actor, action="auction.trade_created", obj=trade, data={
        "code": trade.code, "kind": kind, "title": trade.title, "transferor": transferor.pk,
        "agent": trade.agent_id, "start_price": start, "increment": inc, "deposit": dep,
        "countdown_seconds": seconds, "starts_at": starts_at, "listing_ends_at": listing_ends_at,
        "opening_key_id": trade.opening_key_id, "public_key": trade.opening_public_spki,
        "threshold": trade.threshold,
        "custodians": [{"x": s.x, "role": s.role, "user": s.custodian_id, "key_id": s.custodian_key.key_id,
                        "container_sha256": s.container_sha256} for s in trade.shares.all()],
        "relisted_from": relisted_from.pk if relisted_from else None})
    return trade


@transaction.atomic
def trade_reserve_seal(*, actor: User, trade: Trade, sealed: Any) -> Trade:
    """Store the reserve the transferor sealed (client side, auctions.reserve.seal_reserve) to the
    trade's opening key. Only its SHA-256 enters the audit chain; replaceable until publication."""
    trade = lock(trade)
    authorize(actor, "auction.seal_reserve", trade)
    if trade.status != TradeStatus.DRAFT:
        raise StateConflict(_("The reserve is fixed once the notice is published (国土资源部令第39号 Art 8–9*)."),
                            code="reserve_fixed")
    try:
        clean = sealing.check_sealed(sealed, opening_key_id=trade.opening_key_id)
    except sealing.ReserveError as exc:
        raise DomainError(_("The sealed reserve was refused: %(why)s") % {"why": str(exc)}, code=exc.code,
                          fields={"sealed": [exc.code]}) from None
    trade.reserve_sealed = clean
    trade.reserve_sealed_sha256 = sealing.sealed_sha256(clean)
    trade.reserve_sealed_at = clock.now()
    trade.save(update_fields=["reserve_sealed", "reserve_sealed_sha256", "reserve_sealed_at"])
    audit_record(actor=actor, action="auction.reserve_sealed", obj=trade,
                 data={"sealed_sha256": trade.reserve_sealed_sha256, "opening_key_id": trade.opening_key_id})
    return trade


def publish_problems(trade: Trade, now: datetime) -> list[tuple[str, str]]:
    """(field, message naming its source) for every rule the notice would break if published at `now`."""
    r = rules.rules_for(trade.kind)
    problems = []
    earliest = r.notice_to_start.after(now)
    if trade.starts_at < earliest:
        what = _("the listing") if trade.kind == Kind.LAND_LISTING else (
            _("the auction") if trade.kind == Kind.LAND_AUCTION else _("bidding (end of the disclosure)"))
        problems.append(("starts_at", _("The notice must be published at least %(period)s before %(what)s starts "
                                        "(%(source)s); the earliest start now is %(earliest)s.")
                         % {"period": r.notice_to_start.describe(), "what": what, "source": r.notice_to_start.source,
                            "earliest": timezone.localtime(earliest).isoformat()}))
    if r.listing_period is not None and (
            trade.listing_ends_at is None or trade.listing_ends_at < r.listing_period.after(trade.starts_at)):
        problems.append(("listing_ends_at", _("The listing period is at least %(period)s (%(source)s).")
                         % {"period": r.listing_period.describe(), "source": r.listing_period.source}))
    if not trade.reserve_sealed:
        problems.append(("reserve", _("The transferor has not sealed the reserve price (%(source)s).")
                         % {"source": rules.RESERVE_SOURCE}))
    return problems


@transaction.atomic
def trade_publish(*, actor: User, trade: Trade) -> Trade:
    """Publish the notice: refused, naming each rule's source, when a period is too short or the
    reserve is not sealed."""
    trade = lock(trade)
    authorize(actor, "auction.manage", trade)
    if trade.status != TradeStatus.DRAFT:
        raise StateConflict(_("The notice is published already."), code="already_published")
    now = clock.deadline_now()
    problems = publish_problems(trade, now)
    if problems:
        raise RuleViolation(" ".join(m for _f, m in problems), code="notice_rules",
                            fields={f: [m] for f, m in problems})
    trade.status = TradeStatus.PUBLISHED
    trade.notice_published_at = now
    trade.save(update_fields=["status", "notice_published_at"])
    audit_record(actor=actor, action="auction.notice_published", obj=trade, data={
        "code": trade.code, "kind": trade.kind, "starts_at": trade.starts_at,
        "listing_ends_at": trade.listing_ends_at, "start_price": trade.start_price, "increment": trade.increment,
        "deposit": trade.deposit_amount, "countdown_seconds": trade.countdown_seconds,
        "reserve_sealed_sha256": trade.reserve_sealed_sha256, "opening_key_id": trade.opening_key_id})
    emit(trade, "phase", {"status": trade.status, "ends_at": None})
    return trade


@transaction.atomic
def trade_increment_change(*, actor: User, trade: Trade, increment: Any, reason: str = "") -> Trade:
    """The agent adjusts the increment (before the start or during the listing; 国土资源部令第39号 Art 17*)."""
    trade = lock(trade)
    authorize(actor, "auction.manage", trade)
    new = money(increment, field="increment")
    if trade.status not in (TradeStatus.DRAFT, TradeStatus.PUBLISHED, TradeStatus.LISTING):
        raise StateConflict(_("The increment can be changed only before the start or during the listing "
                              "(国土资源部令第39号 Art 17*)."), code="increment_fixed")
    _validate_prices(trade.start_price, new, trade.deposit_amount)
    old = trade.increment
    trade.increment = new
    trade.save(update_fields=["increment"])
    audit_record(actor=actor, action="auction.increment_changed", obj=trade,
                 data={"old": old, "new": new, "reason": (reason or "")[:300]})
    emit(trade, "increment", {"increment": str(new)})
    return trade


@transaction.atomic
def trade_relist(*, actor: User, trade: Trade, start_price: Any, starts_at: datetime,
                 listing_ends_at: datetime | None = None, increment: Any = None,
                 deposit_amount: Any = None) -> Trade:
    """A new draft for a trade that did not sell, with a lower start price; the transferor seals
    a new reserve to the new trade's key."""
    authorize(actor, "auction.manage", trade)
    if trade.status not in (TradeStatus.NOT_SOLD, TradeStatus.STOPPED):
        raise StateConflict(_("Only a trade that did not sell can be relisted."), code="not_failed")
    start = money(start_price, field="start_price")
    if start >= trade.start_price:
        raise DomainError(_("A relisting starts lower than %(old)s.") % {"old": trade.start_price},
                          fields={"start_price": ["must be lower than the failed trade's"]})
    new = trade_create(actor=actor, kind=trade.kind, title=trade.title, transferor=trade.transferor,
                       start_price=start, increment=increment if increment is not None else trade.increment,
                       deposit_amount=deposit_amount if deposit_amount is not None else trade.deposit_amount,
                       starts_at=starts_at, listing_ends_at=listing_ends_at,
                       countdown_seconds=trade.countdown_seconds, description=trade.description,
                       particulars=trade.particulars, relisted_from=trade)
    audit_record(actor=actor, action="auction.relisted", obj=trade,
                 data={"new_trade": new.pk, "old_start_price": trade.start_price, "start_price": start})
    return new
