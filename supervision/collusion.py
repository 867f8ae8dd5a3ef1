"""Collusion signals (围标串标 red flags) computed after the opening, for supervisors.

招标投标法实施条例 Art 40 lists facts that are *deemed* collusion (视为串通投标); the signals
below look for their traces in what the platform records. A signal is a red flag for a
supervisor to look into, never a finding: each names its bidders and its evidence.

Signals (kind, severity, rule; thresholds are the constants below; Art 40 item):
- `identical_envelope` (red): two bidders uploaded envelopes with the same SHA-256. (一)(四)
- `identical_files` (red): two bidders' manifests list a file with the same SHA-256; the tender's
  own documents and the empty file are ignored. (一)(四) 异常一致
- `shared_device` (red): envelopes of two bidders uploaded from the same device fingerprint. (一)(二)
- `shared_ip` (yellow): envelopes of two bidders uploaded from the same IP address (could be a
  shared hall or NAT; `settings.COLLUSION_IGNORED_IPS` lists addresses to skip). (二)
- `shared_payer_account` (red): deposits of two bidders paid from the same account. (六)
- `same_project_manager` (red): two bidders read out the same project manager. (三)
- `identical_prices` (yellow): two bidders of a lot read out exactly the same price. (四)
- `equal_price_spacing` (yellow): at least `MIN_BIDS_FOR_PATTERN` (3) prices in a lot whose
  consecutive gaps have a coefficient of variation (population standard deviation / mean)
  below `EQUAL_SPACING_MAX_CV` (0.01). (四) 规律性差异
- `tight_price_band` (yellow): at least 3 prices in a lot with (max − min) / min below
  `TIGHT_BAND_MAX_RATIO` (0.005 = 0.5 %). (四)

The rules are pure functions over plain inputs (`BidFacts`, `DepositFacts`); `collusion_inputs`
is the adapter that reads them from the bids (`Bid.upload_ip`, `Bid.user_agent`,
`Bid.device_fingerprint`), their openings (`BidOpening.files`, `.readout`) and the deposit
ledger (`BankTransaction.counterparty_account`). `collusion_check` records a `CollusionRun` with its `CollusionSignal`
rows (the evidence) and one audit event `collusion.checked` with the counts and the SHA-256 of
the evidence. It runs from the scheduled step `collusion_check` (armed by the beat task once
the opening is closed) or on demand by a supervisor.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from accounts.policy import authorize
from audit.canonical import dumps, normalize
from audit.services import actor_id, audit_record
from config.errors import DomainError, StateConflict
from credit.rules import RecordKind
from credit.services import record_propose
from supervision.models import CollusionRun, CollusionSignal
from trading import clock
from trading.models import (
    BankTransaction,
    Bid,
    BidOpening,
    BidStatus,
    OpeningState,
    ScheduledStep,
    Tender,
    TenderDocument,
)
from trading.services.scheduling import step_schedule
from trading.services.tender_status import lock_tender
from trading.steps import step_handler

RED, YELLOW = "red", "yellow"
MIN_BIDS_FOR_PATTERN = 3
EQUAL_SPACING_MAX_CV = Decimal("0.01")
TIGHT_BAND_MAX_RATIO = Decimal("0.005")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STEP_KIND = "collusion_check"

KINDS: dict[str, dict[str, Any]] = {
    "identical_envelope": {"severity": RED, "basis": "招标投标法实施条例 Art 40(一)(四)",
                           "label": _("Identical bid envelopes")},
    "identical_files": {"severity": RED, "basis": "招标投标法实施条例 Art 40(一)(四)",
                        "label": _("Identical files in different bids")},
    "shared_device": {"severity": RED, "basis": "招标投标法实施条例 Art 40(一)(二)",
                      "label": _("Bids uploaded from the same device")},
    "shared_ip": {"severity": YELLOW, "basis": "招标投标法实施条例 Art 40(二)",
                  "label": _("Bids uploaded from the same IP address")},
    "shared_payer_account": {"severity": RED, "basis": "招标投标法实施条例 Art 40(六)",
                             "label": _("Deposits paid from the same account")},
    "same_project_manager": {"severity": RED, "basis": "招标投标法实施条例 Art 40(三)",
                             "label": _("Same project manager in different bids")},
    "identical_prices": {"severity": YELLOW, "basis": "招标投标法实施条例 Art 40(四)",
                         "label": _("Identical prices")},
    "equal_price_spacing": {"severity": YELLOW, "basis": "招标投标法实施条例 Art 40(四)",
                            "label": _("Prices at equal spacing")},
    "tight_price_band": {"severity": YELLOW, "basis": "招标投标法实施条例 Art 40(四)",
                         "label": _("All prices within a tiny band")},
}


# --- inputs and outputs -------------------------------------------------------------------------

@dataclass(frozen=True)
class BidFacts:
    """What the platform knows about one bidder's bid for one lot."""

    bidder: int
    bidder_name: str = ""
    lot: int | None = None  # lot number
    envelope_sha256: str = ""
    files: tuple[tuple[str, str], ...] = ()  # (name, sha256) from the decrypted manifest
    ip: str = ""
    user_agent: str = ""
    device: str = ""  # device fingerprint recorded at submission
    price: Decimal | None = None  # read-out price
    project_manager: str = ""


@dataclass(frozen=True)
class DepositFacts:
    bidder: int
    bidder_name: str = ""
    lot: int | None = None
    payer_account: str = ""
    payer_name: str = ""


@dataclass
class Signal:
    kind: str
    bidders: list[int]
    evidence: dict[str, Any]
    lot: int | None = None
    severity: str = ""

    def __post_init__(self) -> None:
        self.bidders = sorted(set(self.bidders))
        self.severity = self.severity or KINDS[self.kind]["severity"]
        self.evidence = normalize(self.evidence)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "lot": self.lot, "bidders": self.bidders,
                "evidence": self.evidence}


@dataclass
class Inputs:
    bids: list[BidFacts] = field(default_factory=list)
    deposits: list[DepositFacts] = field(default_factory=list)
    ignored_hashes: frozenset[str] = frozenset()
    sources: dict[str, Any] = field(default_factory=dict)


def _names(facts: Iterable[BidFacts | DepositFacts]) -> dict[str, str]:
    return {str(f.bidder): f.bidder_name for f in facts}


def _grouped(facts: Iterable, key) -> dict[str, list]:
    groups: dict[str, list] = defaultdict(list)
    for f in facts:
        value = key(f)
        if value:
            groups[value].append(f)
    return {k: v for k, v in groups.items() if len({f.bidder for f in v}) >= 2}


# --- the rules (pure) ----------------------------------------------------------------------------

def identical_envelopes(bids: Sequence[BidFacts]) -> list[Signal]:
    return [Signal("identical_envelope", [b.bidder for b in group],
                   {"envelope_sha256": sha, "lots": sorted({b.lot for b in group if b.lot is not None}),
                    "bidder_names": _names(group)})
            for sha, group in sorted(_grouped(bids, lambda b: b.envelope_sha256.lower()).items())]


def identical_files(bids: Sequence[BidFacts], ignored: Iterable[str] = ()) -> list[Signal]:
    """One signal per set of bidders sharing files, listing every shared file."""
    ignored = {h.lower() for h in ignored} | {EMPTY_SHA256}
    holders: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    names: dict[int, str] = {}
    for bid in bids:
        names[bid.bidder] = bid.bidder_name
        for name, sha in bid.files:
            if sha and sha.lower() not in ignored:
                holders[sha.lower()][bid.bidder].add(name)
    by_bidders: dict[tuple[int, ...], list[dict]] = defaultdict(list)
    for sha, who in sorted(holders.items()):
        if len(who) >= 2:
            by_bidders[tuple(sorted(who))].append(
                {"sha256": sha, "names": {str(b): sorted(n) for b, n in sorted(who.items())}})
    return [Signal("identical_files", list(bidders),
                   {"files": files, "bidder_names": {str(b): names[b] for b in bidders}})
            for bidders, files in sorted(by_bidders.items())]


def shared_devices(bids: Sequence[BidFacts]) -> list[Signal]:
    return [Signal("shared_device", [b.bidder for b in group],
                   {"device": device, "bidder_names": _names(group),
                    "ips": sorted({b.ip for b in group if b.ip}),
                    "user_agents": sorted({b.user_agent for b in group if b.user_agent})})
            for device, group in sorted(_grouped(bids, lambda b: b.device).items())]


def shared_ips(bids: Sequence[BidFacts], ignored: Iterable[str] = ()) -> list[Signal]:
    ignored = set(ignored)
    return [Signal("shared_ip", [b.bidder for b in group],
                   {"ip": ip, "bidder_names": _names(group),
                    "user_agents": {str(b.bidder): b.user_agent for b in group if b.user_agent},
                    "same_user_agent": len({b.user_agent for b in group}) == 1 and bool(group[0].user_agent)})
            for ip, group in sorted(_grouped(bids, lambda b: b.ip if b.ip not in ignored else "").items())]


def _account(value: str) -> str:
    return "".join(value.split()).replace("-", "")


def shared_payer_accounts(deposits: Sequence[DepositFacts]) -> list[Signal]:
    return [Signal("shared_payer_account", [d.bidder for d in group],
                   {"payer_account": account, "payer_names": sorted({d.payer_name for d in group if d.payer_name}),
                    "bidder_names": _names(group), "lots": sorted({d.lot for d in group if d.lot is not None})})
            for account, group in sorted(_grouped(deposits, lambda d: _account(d.payer_account)).items())]


def same_project_managers(bids: Sequence[BidFacts]) -> list[Signal]:
    return [Signal("same_project_manager", [b.bidder for b in group],
                   {"project_manager": name, "bidder_names": _names(group),
                    "lots": sorted({b.lot for b in group if b.lot is not None})})
            for name, group in sorted(_grouped(bids, lambda b: " ".join(b.project_manager.split()).casefold()).items())]


def _ratio(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.000001")))


def price_signals(bids: Sequence[BidFacts], *, max_cv: Decimal = EQUAL_SPACING_MAX_CV,
                  max_band: Decimal = TIGHT_BAND_MAX_RATIO, min_bids: int = MIN_BIDS_FOR_PATTERN) -> list[Signal]:
    """Identical prices, equal spacing and a tight band, per lot, over the read-out prices."""
    by_lot: dict[int | None, dict[int, BidFacts]] = defaultdict(dict)
    for bid in bids:
        if bid.price is not None and bid.price > 0:
            by_lot[bid.lot][bid.bidder] = bid  # one price per bidder and lot
    signals: list[Signal] = []
    for lot in sorted(by_lot, key=lambda n: (n is None, n or 0)):
        priced = sorted(by_lot[lot].values(), key=lambda b: (b.price, b.bidder))
        prices = {str(b.bidder): str(b.price) for b in priced}
        names = _names(priced)
        same: dict[Decimal, list[BidFacts]] = defaultdict(list)
        for bid in priced:
            same[bid.price].append(bid)
        for price, group in sorted(same.items()):
            if len(group) >= 2:
                signals.append(Signal("identical_prices", [b.bidder for b in group],
                                      {"price": str(price), "bidder_names": _names(group)}, lot=lot))
        if len(priced) < min_bids:
            continue
        values = [b.price for b in priced]
        bidders = [b.bidder for b in priced]
        low, high = values[0], values[-1]
        with localcontext() as ctx:
            ctx.prec = 28
            band = (high - low) / low
            if band < max_band:
                signals.append(Signal("tight_price_band", bidders, {
                    "prices": prices, "min": str(low), "max": str(high), "band_ratio": _ratio(band),
                    "threshold": str(max_band), "bidder_names": names}, lot=lot))
            gaps = [b - a for a, b in zip(values, values[1:], strict=False)]
            mean = sum(gaps, Decimal(0)) / len(gaps)
            if mean > 0:
                variance = sum(((g - mean) ** 2 for g in gaps), Decimal(0)) / len(gaps)
                cv = variance.sqrt() / mean
                if cv < max_cv:
                    signals.append(Signal("equal_price_spacing", bidders, {
                        "prices": prices, "gaps": [str(g) for g in gaps],
                        "mean_gap": str(mean.quantize(Decimal("0.01"))),
                        "cv": _ratio(cv), "threshold": str(max_cv), "bidder_names": names}, lot=lot))
    return signals


def compute_signals(inputs: Inputs, *, ignored_ips: Iterable[str] = ()) -> list[Signal]:
    bids, deposits = inputs.bids, inputs.deposits
    return [
        *identical_envelopes(bids),
        *identical_files(bids, inputs.ignored_hashes),
        *shared_devices(bids),
        *shared_ips(bids, ignored_ips),
        *shared_payer_accounts(deposits),
        *same_project_managers(bids),
        *price_signals(bids),
    ]


def evidence_digest(signals: Sequence[Signal]) -> str:
    """SHA-256 of the canonical JSON of the signals: written in the audit event, so the rows
    (the evidence) can be checked against the log."""
    return hashlib.sha256(dumps([s.as_dict() for s in signals])).hexdigest()


# --- adapter: where the facts come from ------------------------------------------------------------

def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, (bool, float)):
        return None
    try:
        return Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None


def collusion_inputs(tender: Tender) -> Inputs:
    """Read the facts of `tender` from its active bids, their openings and its deposit arrivals;
    `sources` counts what each source held."""
    inputs = Inputs(sources={})
    inputs.ignored_hashes = frozenset(TenderDocument.objects.filter(tender=tender).values_list("sha256", flat=True))
    rows = list(Bid.objects.filter(tender=tender, status=BidStatus.ACTIVE).select_related("bidder", "lot")
                .order_by("lot__number", "bidder_id"))
    openings = {o.bid_id: o for o in BidOpening.objects.filter(bid__in=rows)}
    counts = {"bids": len(rows), "manifests": 0, "prices": 0, "upload_ip": 0, "device": 0}
    for bid in rows:
        opened = openings.get(bid.pk)
        files: tuple[tuple[str, str], ...] = ()
        price = manager = None
        if opened is not None and (opened.files or opened.readout):
            files = tuple((str(f.get("name", "")), str(f.get("sha256", ""))) for f in opened.files or ()
                          if isinstance(f, dict))
            readout = opened.readout if isinstance(opened.readout, dict) else {}
            price = _decimal(readout.get("price"))
            manager = readout.get("project_manager")
            counts["manifests"] += bool(files)
            counts["prices"] += price is not None
        facts = BidFacts(
            bidder=bid.bidder_id, bidder_name=bid.bidder.name, lot=bid.lot.number,
            envelope_sha256=bid.envelope_sha256, files=files,
            ip=bid.upload_ip or "", user_agent=bid.user_agent, device=bid.device_fingerprint,
            price=price, project_manager=str(manager or ""))
        counts["upload_ip"] += bool(facts.ip)
        counts["device"] += bool(facts.device)
        inputs.bids.append(facts)
    inputs.sources["bids"] = counts
    inputs.deposits, inputs.sources["deposits"] = _deposit_facts(tender)
    return inputs


def _deposit_facts(tender: Tender) -> tuple[list[DepositFacts], dict]:
    """Deposit payer accounts: the counterparty account of every arrival the bank reported on the
    tender's virtual sub-accounts (trading/deposits/), valid or not."""
    rows = (BankTransaction.objects.filter(account__tender=tender, kind="arrival")
            .select_related("account__bidder", "account__lot").order_by("booked_at", "pk"))
    facts = [DepositFacts(bidder=t.account.bidder_id, bidder_name=t.account.bidder.name, lot=t.account.lot.number,
                          payer_account=t.counterparty_account, payer_name=t.counterparty_name)
             for t in rows if t.counterparty_account]
    return facts, {"arrivals": len(facts)}


# --- the service ------------------------------------------------------------------------------------

def ignored_ips() -> list[str]:
    return list(getattr(settings, "COLLUSION_IGNORED_IPS", ()))


@transaction.atomic
def collusion_check(*, actor: Any, tender: Tender, trigger: str = "supervisor") -> CollusionRun:
    """Compute the signals of `tender` now and record them (rows + one audit event)."""
    tender = lock_tender(tender)
    if tender.bidding_closed_at is None:
        raise StateConflict(
            str(_("Collusion signals are computed after the bid deadline: bids and registrations are sealed "
                  "until then (电子招标投标办法 Art 21).")), code="sealed")
    inputs = collusion_inputs(tender)
    signals = compute_signals(inputs, ignored_ips=ignored_ips())
    counts: dict[str, int] = {}
    for signal in signals:
        counts[signal.kind] = counts.get(signal.kind, 0) + 1
    digest = evidence_digest(signals)
    sources = normalize(inputs.sources)
    run = CollusionRun.objects.create(tender_id=tender.pk, computed_at=clock.now(), trigger=trigger,
                                      actor=actor_id(actor), sources=sources, counts=counts,
                                      evidence_sha256=digest)
    CollusionSignal.objects.bulk_create([
        CollusionSignal(run=run, kind=s.kind, severity=s.severity, lot=s.lot, bidders=s.bidders,
                        evidence=s.evidence) for s in signals])
    event = audit_record(actor=actor, action="collusion.checked", obj=tender, data={
        "tender": tender.pk, "check": run.pk, "trigger": trigger, "signals": len(signals), "counts": counts,
        "red": sum(1 for s in signals if s.severity == RED), "evidence_sha256": digest, "sources": sources})
    run.audit_seq = event.seq
    run.save(update_fields=["audit_seq"])
    return run


@transaction.atomic
def collusion_signal_confirm(*, actor, signal: CollusionSignal, reason: str) -> list:
    """A supervisor confirms a signal after investigation (串通投标, 实施条例 Art 39–40): one audit event
    `collusion.signal_confirmed`, then a bad-conduct record proposed for each bidder it names, with the
    check's event and the confirmation as evidence (docs/credit.md). Returns the records."""
    authorize(actor, "collusion.compute", None)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(str(_("A confirmation states its grounds.")), fields={"reason": ["required"]})
    run = signal.run
    event = audit_record(actor=actor, action="collusion.signal_confirmed",
                         obj=f"supervision.collusionsignal:{signal.pk}",
                         data={"tender": run.tender_id, "check": run.pk, "kind": signal.kind,
                               "bidders": signal.bidders, "reason": reason[:2000]})
    evidence = [seq for seq in (run.audit_seq, event.seq) if seq]
    return [record_propose(kind=RecordKind.COLLUSION, organisation=org, proposed_by=actor, evidence_seqs=evidence,
                           source_ref=f"supervision.collusionsignal:{signal.pk}", at=clock.now(),
                           facts=f"tender {run.tender_id}: collusion signal {signal.kind} confirmed by a supervisor: "
                                 f"{reason[:1000]}")
            for org in Organisation.objects.filter(pk__in=signal.bidders).order_by("pk")]


def collusion_latest(*, tender_id: int) -> CollusionRun | None:
    return CollusionRun.objects.filter(tender_id=tender_id).order_by("-computed_at", "-pk").first()


def collusion_schedule_due(*, now=None) -> int:
    """Arm the `collusion_check` step of each tender whose opening is over and that has none yet
    (idempotent: one step per tender); the opening is over when its `Opening` is closed or failed.
    Called by the supervision beat task."""
    now = now or clock.now()
    armed = ScheduledStep.objects.filter(kind=STEP_KIND, tender=OuterRef("pk"))
    due = (Tender.objects.filter(bidding_closed_at__isnull=False,
                                 opening__state__in=[OpeningState.CLOSED, OpeningState.FAILED])
           .exclude(Exists(armed)).order_by("pk")[:200])
    count = 0
    for tender in due:
        step_schedule(kind=STEP_KIND, subject=f"trading.tender:{tender.pk}", due_at=now, tender=tender)
        count += 1
    return count


@step_handler(STEP_KIND)
def collusion_check_step(step):
    """Compute the signals once after the opening (a supervisor can recompute on demand)."""
    if CollusionRun.objects.filter(tender_id=step.tender_id, trigger="step").exists():
        return "skipped: already checked"
    run = collusion_check(actor="system", tender=Tender.objects.get(pk=step.tender_id), trigger="step")
    return f"{run.signals.count()} signal(s)"
