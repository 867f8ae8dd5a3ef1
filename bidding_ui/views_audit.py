"""Supervision pages: the live dashboard, the replay of a tender's audit trail, collusion signals.

Thin views over audit/replay.py, supervision/live.py and supervision/collusion.py; permissions are
the policy rules "supervision.view", "audit.view_events", "collusion.view" and
"collusion.compute" (audit/policies.py): supervisors only.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.policy import can
from audit.canonical import format_timestamp
from audit.replay import tender_replay
from audit.replay_reducers import summary
from audit.trust import MAX_NOTE_CHARS, MAX_WITNESS_KEYS, PolicyError, trust_from_text
from bidding_ui.pages import attempt as _attempt
from bidding_ui.pages import page_view
from experts.models import DrawStatus
from supervision.collusion import KINDS as SIGNAL_KINDS
from supervision.collusion import collusion_check, collusion_latest
from supervision.live import supervision_overview
from supervision.models import CollusionRun
from trading.models import OpeningState, Tender, TenderStatus

WARNING_LABELS = {
    "objection_reply": gettext_lazy("Objection reply"),
    "step_overdue": gettext_lazy("Scheduled step overdue"),
    "step_failing": gettext_lazy("Scheduled step failing"),
    "step_waiting": gettext_lazy("Scheduled step waiting"),
    "deposit_refund": gettext_lazy("Deposit refund"),
    "deposit_refund_failed": gettext_lazy("Deposit refund failed at the bank"),
    "publicity_objection_reply": gettext_lazy("Reply to an objection during the candidate publicity"),
    "complaint_acceptance": gettext_lazy("Complaint acceptance"),
    "complaint_decision": gettext_lazy("Complaint decision"),
    "contract_signing": gettext_lazy("Contract signing after the award"),
    "expert_pool_exhausted": gettext_lazy("Expert pool exhausted"),
    "expert_draw_closed": gettext_lazy("Seat vacated after the draw closed"),
    "audit_checkpoint_refused": gettext_lazy("Audit checkpoint refused: the log was rewritten or truncated"),
    "witness_refused": gettext_lazy("A witness refused the audit checkpoint"),
    "witness_unreachable": gettext_lazy("Audit witness unreachable"),
}
LEVEL_LABELS = {"red": gettext_lazy("Red warning"), "yellow": gettext_lazy("Yellow warning")}


def _int_param(request, name: str) -> int | None:
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise Http404(_("Bad parameter %(name)s.") % {"name": name})
    return int(value)


def _labels() -> dict:
    return {
        "warnings": {k: str(v) for k, v in WARNING_LABELS.items()},
        "levels": {k: str(v) for k, v in LEVEL_LABELS.items()},
        "statuses": {k: str(v) for k, v in TenderStatus.choices},
        "phases": {k: str(v) for k, v in OpeningState.choices},  # supervision.js: room phases translated
        "none": _("None."),
        "live": _("Live"),
        "offline": _("Disconnected, reconnecting…"),
        "replay": _("Replay"),
        "signals": _("Signals"),
        "new_red": _("New red warning"),
        "updated": _("Updated"),
    }


def _moment(value):
    """An ISO timestamp of the overview's JSON as an aware datetime (the template shows it in the
    platform's time zone with the `date` filter), or the value unchanged."""
    if not isinstance(value, str) or not value:
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value


TIME_KEYS = ("due_at", "phase_ends_at", "bid_deadline", "evaluation_start")


def _page_overview(overview: dict) -> dict:
    """The overview for the server-rendered page: times as datetimes, statuses as their labels."""
    tender_labels = dict(TenderStatus.choices)
    opening_labels = dict(OpeningState.choices)
    draw_labels = dict(DrawStatus.choices)
    rows = {"warnings": [dict(w) for w in overview["warnings"]], "rooms": [dict(r) for r in overview["rooms"]],
            "draws": [dict(d) for d in overview["draws"]]}
    for group in rows.values():
        for row in group:
            for key in TIME_KEYS:
                if key in row:
                    row[key] = _moment(row[key])
    for warning in rows["warnings"]:
        warning["label"] = WARNING_LABELS.get(warning["kind"], warning["kind"])
    for room in rows["rooms"]:
        room["status_label"] = tender_labels.get(room["status"], room["status"])
        room["phase_label"] = opening_labels.get(room["phase"], room["phase"]) if room.get("phase") else ""
    for draw in rows["draws"]:
        draw["status_label"] = draw_labels.get(draw["status"], draw["status"])
    return {**overview, **rows, "computed_at": _moment(overview["computed_at"])}


@page_view("supervision.view")
def dashboard(request):
    overview = _page_overview(supervision_overview())
    return render(request, "audit/dashboard.html", {"overview": overview, "labels": _labels(),
                                                    "level_labels": LEVEL_LABELS})


@page_view("audit.view_events")
def tender_replay_page(request, pk: int):
    at = _int_param(request, "at")
    actor = request.GET.get("actor", "").strip()[:64]
    kind = request.GET.get("kind", "").strip()[:100]
    # The supervisor's trust policy (audit/trust.py): a checkpoint note they hold, witness keys
    # (?witness=, repeatable or one per line) and ?quorum=N.
    held = request.GET.get("checkpoint", "")[:MAX_NOTE_CHARS + 1]
    witnesses = request.GET.getlist("witness")[:MAX_WITNESS_KEYS]
    try:
        policy = trust_from_text(checkpoint=held, witnesses=[w[:MAX_NOTE_CHARS] for w in witnesses],
                                 quorum=_int_param(request, "quorum"))
        policy_problem = ""
    except PolicyError as exc:
        policy = trust_from_text(checkpoint=held)
        policy_problem = str(exc)
    replay = tender_replay(tender=pk, at=at, actor=actor, kind=kind, policy=policy)
    trust = replay.checkpoint.witnessed
    if policy_problem:
        trust = {"ok": False, "witnesses": [], "problem": policy_problem, "policy": ""}
    context = {"held_checkpoint": held,
        "tender_id": pk, "tender": Tender.objects.filter(pk=pk).first(), "replay": replay,
        "state": replay.state, "summary": summary(replay.state), "selected": replay.selected,
        "neighbours": replay.neighbours(), "statuses": dict(TenderStatus.choices),
        "selected_ts": format_timestamp(replay.selected.event.ts) if replay.selected else "",
        "selected_data": json.dumps(replay.selected.event.data, indent=2, ensure_ascii=False, sort_keys=True)
        if replay.selected else "",
        "trust": trust, "trust_witnesses": "\n".join(request.GET.getlist("witness")),
        "trust_quorum": request.GET.get("quorum", ""),
    }
    labels = _actor_labels(replay.actors + ([replay.selected.event.actor] if replay.selected else []))
    for item in [*replay.events, *([replay.selected] if replay.selected else [])]:
        item.actor_label = labels.get(item.event.actor, item.event.actor)
    context["actor_options"] = [(a, labels.get(a, a)) for a in replay.actors]
    if request.GET.get("partial") == "state":
        return render(request, "audit/_replay_state.html", context)
    return render(request, "audit/replay.html", context)


def _actor_labels(actors: list[str]) -> dict[str, str]:
    """Audit actors (user ids, "system") as the supervisor reads them: name, organisation and roles.
    The replay is a supervisor's page (audit.view_events), and supervisors see every identity of a
    tender (registrations, askers, experts), so nothing sealed is shown here."""
    from accounts.models import User
    from accounts.roles import Role

    role_labels = dict(Role.choices)
    ids = [int(a) for a in set(actors) if a.isdigit()]
    users = {str(u.pk): u for u in User.objects.filter(pk__in=ids).select_related("organisation")}
    labels = {}
    for actor in set(actors):
        user = users.get(actor)
        if user is not None:
            roles = ", ".join(str(role_labels.get(r, r)) for r in user.roles)
            org = f" · {user.organisation.name}" if user.organisation_id else ""
            labels[actor] = f"{user.get_full_name() or user.username}{org}" + (f" ({roles})" if roles else "")
        elif actor == "system":
            labels[actor] = str(_("the platform (system)"))
    return labels


def _evidence_lines(value) -> list[str]:
    """Evidence values as lines of text: {bidder: x} → "bidder: x", lists item by item."""
    if isinstance(value, dict):
        return [f"{k}: {_flat(v)}" for k, v in value.items()] or ["—"]
    if isinstance(value, list):
        return [_flat(v) for v in value] or ["—"]
    return [_flat(value)]


def _flat(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    return str(value)


@page_view("collusion.view")
def tender_signals(request, pk: int):
    tender = Tender.objects.filter(pk=pk).first()
    if tender is None:
        raise Http404(_("No such tender."))
    run = collusion_latest(tender_id=tender.pk)
    signals = []
    if run is not None:
        for signal in run.signals.all():
            info = SIGNAL_KINDS.get(signal.kind, {})
            names = signal.evidence.get("bidder_names", {})
            signals.append({"signal": signal, "label": info.get("label", signal.kind), "basis": info.get("basis", ""),
                            "bidders": [names.get(str(b)) or f"#{b}" for b in signal.bidders],
                            "evidence": [(k, _evidence_lines(v)) for k, v in signal.evidence.items()
                                         if k != "bidder_names"]})
    history = CollusionRun.objects.filter(tender_id=tender.pk).order_by("-computed_at", "-pk")[:20]
    return render(request, "audit/signals.html", {
        "tender": tender, "run": run, "signals": signals, "history": history, "kinds": SIGNAL_KINDS,
        "can_compute": can(request.user, "collusion.compute", tender) and tender.bidding_closed_at is not None,
    })


@require_POST
@page_view("collusion.view")
def tender_signals_compute(request, pk: int):
    tender = Tender.objects.filter(pk=pk).first()
    if tender is None:
        raise Http404(_("No such tender."))
    if not can(request.user, "collusion.compute", tender):
        raise PermissionDenied
    _attempt(request, lambda: collusion_check(actor=request.user, tender=tender, trigger="supervisor"),
             _("Collusion signals computed."))
    return redirect("supervision:tender_signals", pk=tender.pk)


@page_view(None)
def witnessed_feed(request):
    """Public: every witnessed checkpoint, newest first (the API feed is /api/v1/audit/witnessed)."""
    from audit.witnessing import configured_witnesses, published_checkpoints, published_entry, quorum

    rows = published_checkpoints().prefetch_related("cosignatures").order_by("-tree_size")[:200]
    return render(request, "audit/witnessed.html", {
        "entries": [published_entry(c) for c in rows], "quorum": quorum(),
        "witness_keys": [w.verifier.vkey for w in configured_witnesses()]})

