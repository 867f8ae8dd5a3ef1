"""The phase tables: for each object, in each phase, what each role is offered (docs/ui.md, "Phase tables").

One table per object — the tender, a bidder's registration, the opening room, an expert's panel
membership, a deposit sub-account, the result notices — says, for every phase of the object and
every role looking at it, which actions are offered. Every page (bidding_ui/views_*.py and their
templates) asks these tables what to show and offer, and the services whose guards are phases
(the opening room's commands, the result notices) take their allowed phases from the same rows,
so a page cannot offer what the service would refuse, nor keep offering it after the phase moved on.

The tables decide *when*; the policy rules (accounts.policy `can`) still decide *who* on each
object, and a service still checks both. A page offers an action only when the table allows it
for the viewer's role in the object's current phase.

    phase = tender_phase(tender)                    # "published", "deadline_passed", ...
    role = tender_role(user, tender)                 # "public", "bidder", "registered", "agent", ...
    TENDER.allows(phase, role, "register")          # False once the deadline has passed
    tender_actions(user, tender)                    # frozenset of the actions offered now

`manage.py`-free check: tests/bidding_ui/test_phases.py renders every table with `markdown()` and
compares it with docs/ui.md, so the documentation is the table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from trading import clock
from trading.models import OpeningState, RegistrationStatus, Tender, TenderStatus
from trading.models.notice import NoticeKind

ALL = "*"  # in a row: every role of the table


@dataclass(frozen=True)
class PhaseTable:
    """phase × role → actions. `rows[phase][role]` lists the actions; ALL as a role key applies to every role."""

    name: str
    phases: tuple[str, ...]
    roles: tuple[str, ...]
    rows: Mapping[str, Mapping[str, Iterable[str]]]
    labels: Mapping[str, object] = field(default_factory=dict)  # action → its label (docs and pages)

    def __post_init__(self) -> None:
        unknown = set(self.rows) - set(self.phases)
        if unknown:
            raise ValueError(f"{self.name}: rows for unknown phases {sorted(unknown)}")
        for phase, per_role in self.rows.items():
            bad = set(per_role) - set(self.roles) - {ALL}
            if bad:
                raise ValueError(f"{self.name}/{phase}: unknown roles {sorted(bad)}")

    def actions(self, phase: str, role: str) -> frozenset[str]:
        per_role = self.rows.get(phase, {})
        return frozenset(per_role.get(role, ())) | frozenset(per_role.get(ALL, ()))

    def allows(self, phase: str, role: str, action: str) -> bool:
        return action in self.actions(phase, role)

    def phases_allowing(self, action: str, role: str | None = None) -> tuple[str, ...]:
        """The phases in which `action` is offered (to `role`, or to any role)."""
        roles = self.roles if role is None else (role,)
        return tuple(p for p in self.phases if any(action in self.actions(p, r) for r in roles))

    def all_actions(self) -> list[str]:
        seen: list[str] = []
        for phase in self.phases:
            for role in self.roles:
                for action in sorted(self.actions(phase, role)):
                    if action not in seen:
                        seen.append(action)
        return seen

    def markdown(self) -> str:
        """The table as Markdown: a row per phase, a column per role, the actions in each cell."""
        head = f"| {self.name} phase | " + " | ".join(self.roles) + " |"
        lines = [head, "|" + "---|" * (len(self.roles) + 1)]
        for phase in self.phases:
            cells = [", ".join(f"`{a}`" for a in sorted(self.actions(phase, r))) or "—" for r in self.roles]
            lines.append(f"| `{phase}` | " + " | ".join(cells) + " |")
        return "\n".join(lines)


# --- the tender --------------------------------------------------------------------------------------

PUBLIC, BIDDER, REGISTERED, AGENT, SUPERVISOR, EXPERT = "public", "bidder", "registered", "agent", "supervisor", \
    "expert"
TENDER_ROLES = (PUBLIC, BIDDER, REGISTERED, AGENT, SUPERVISOR, EXPERT)

# Phases of a tender as its pages see it: the status, except that a published tender whose bid
# deadline has passed is "deadline_passed" from that moment (before the deadline step has run and
# after it: bidding_closed), so nothing of the bidding period is offered a second after the deadline.
TENDER_PHASES = ("draft", "published", "suspended", "deadline_passed", "opening", "evaluating", "publicity",
                 "awarded", "contracted", "failed", "cancelled", "archived")
BEFORE_DEADLINE = frozenset({"draft", "published", "suspended"})
AFTER_DEADLINE = frozenset(TENDER_PHASES) - BEFORE_DEADLINE
FINISHED = frozenset({"contracted", "failed", "cancelled", "archived"})
RESULTS_PUBLIC = frozenset({"publicity", "awarded", "contracted", "archived"})

_VIEW = ("view_notice", "download_documents")
_AFTER = ("view_notice", "download_documents", "watch_opening")
_RESULTS = (*_AFTER, "view_results")

TENDER_ACTION_LABELS = {
    "view_notice": _("Read the notice"),
    "download_documents": _("Download the tender documents"),
    "see_sealed_counts": _("Registrations and downloads: sealed until the bid deadline"),
    "see_counts": _("Registration and download numbers"),
    "watch_opening": _("Watch the opening room"),
    "view_results": _("Candidates, award and contracts"),
    "register": _("Register for a lot"),
    "withdraw_registration": _("Withdraw the registration"),
    "prepare_bid": _("Prepare and upload the sealed bid"),
    "pay_deposit": _("Pay the deposit or lodge a guarantee"),
    "ask_question": _("Ask a question"),
    "object_documents": _("Raise an objection to the tender documents"),
    "object_result": _("Object to the evaluation result"),
    "complain": _("Complain to the supervising department"),
    "edit_draft": _("Edit the draft, its lots and documents"),
    "set_criteria": _("Set the evaluation criteria"),
    "publish": _("Publish the tender notice"),
    "withdraw_draft": _("Withdraw the draft"),
    "amend": _("Publish an amendment"),
    "answer_question": _("Answer questions"),
    "reply_objection": _("Reply to objections"),
    "request_draw": _("Request an expert draw"),
    "open_evaluation": _("Open the evaluation, replace members"),
    "publish_candidates": _("Publish the candidates"),
    "reply_result_objection": _("Reply to objections to the result"),
    "publish_award": _("Publish the award"),
    "record_contract": _("Record the contract, or the winner's refusal"),
    "result_notice": _("Publish a failure or termination notice"),
    "view_registrations": _("See the registrations and downloads"),
    "compute_signals": _("Compute collusion signals"),
    "evaluate": _("Evaluate (sign in, score, sign the report)"),
}

TENDER = PhaseTable(
    name="tender",
    phases=TENDER_PHASES,
    roles=TENDER_ROLES,
    labels=TENDER_ACTION_LABELS,
    rows={
        "draft": {AGENT: ("edit_draft", "set_criteria", "publish", "withdraw_draft")},
        "published": {
            ALL: (*_VIEW, "watch_opening"),
            PUBLIC: ("see_sealed_counts",),
            BIDDER: ("see_sealed_counts", "register", "ask_question", "object_documents"),
            REGISTERED: ("see_sealed_counts", "register", "withdraw_registration", "prepare_bid", "pay_deposit",
                         "ask_question", "object_documents"),
            AGENT: ("see_sealed_counts", "amend", "answer_question", "reply_objection", "request_draw",
                    "result_notice"),
            SUPERVISOR: ("see_counts", "view_registrations"),
            EXPERT: ("see_sealed_counts",),
        },
        # An objection to the documents suspends the procedure (实施条例 Art 22): questions and objections go
        # on, registration and bids wait.
        "suspended": {
            ALL: _VIEW,
            PUBLIC: ("see_sealed_counts",),
            BIDDER: ("see_sealed_counts", "ask_question", "object_documents"),
            REGISTERED: ("see_sealed_counts", "ask_question", "object_documents"),
            AGENT: ("see_sealed_counts", "amend", "answer_question", "reply_objection", "reply_result_objection",
                    "result_notice"),
            SUPERVISOR: ("see_counts", "view_registrations"),
            EXPERT: ("see_sealed_counts",),
        },
        "deadline_passed": {
            ALL: _AFTER,
            AGENT: ("see_counts", "view_registrations", "request_draw", "result_notice"),
            SUPERVISOR: ("see_counts", "view_registrations", "compute_signals"),
        },
        "opening": {
            ALL: _AFTER,
            AGENT: ("see_counts", "view_registrations", "request_draw", "result_notice"),
            SUPERVISOR: ("see_counts", "view_registrations", "compute_signals"),
        },
        "evaluating": {
            ALL: _AFTER,
            AGENT: ("see_counts", "view_registrations", "request_draw", "open_evaluation", "publish_candidates",
                    "result_notice"),
            SUPERVISOR: ("see_counts", "view_registrations", "compute_signals"),
            EXPERT: ("evaluate",),
        },
        "publicity": {
            ALL: _RESULTS,
            REGISTERED: ("object_result", "complain"),
            AGENT: ("see_counts", "view_registrations", "reply_result_objection", "publish_award", "result_notice"),
            SUPERVISOR: ("see_counts", "view_registrations", "compute_signals"),
        },
        "awarded": {
            ALL: _RESULTS,
            REGISTERED: ("complain",),
            AGENT: ("see_counts", "view_registrations", "record_contract", "result_notice"),
            SUPERVISOR: ("see_counts", "view_registrations", "compute_signals"),
        },
        "contracted": {
            ALL: _RESULTS,
            REGISTERED: ("complain",),
            AGENT: ("see_counts", "view_registrations"),
            SUPERVISOR: ("see_counts", "view_registrations", "compute_signals"),
        },
        "failed": {
            ALL: _AFTER,
            AGENT: ("see_counts", "view_registrations"),
            SUPERVISOR: ("see_counts", "view_registrations", "compute_signals"),
        },
        "cancelled": {
            ALL: ("view_notice",),
            AGENT: ("see_counts", "view_registrations"),
            SUPERVISOR: ("see_counts", "view_registrations"),
        },
        "archived": {
            ALL: ("view_notice", "view_results"),
            AGENT: ("see_counts", "view_registrations"),
            SUPERVISOR: ("see_counts", "view_registrations"),
        },
    },
)


def tender_phase(tender: Tender, now: datetime | None = None) -> str:
    """The tender's phase: its status, with "deadline_passed" for published-or-closed after the deadline."""
    status = tender.status
    if status == TenderStatus.BIDDING_CLOSED:
        return "deadline_passed"
    if status == TenderStatus.PUBLISHED and (now or clock.now()) >= tender.bid_deadline:
        return "deadline_passed"
    return str(status)


def tender_phase_label(tender: Tender, now: datetime | None = None) -> str:
    phase = tender_phase(tender, now)
    if phase == "deadline_passed":
        return str(_("Bid deadline passed"))
    return str(TenderStatus(phase).label)


def tender_role(user, tender: Tender) -> str:
    """The viewer's role for this tender (the first that applies: supervisor, party, registered bidder,
    other bidder, panel expert, public)."""
    from trading.policies import is_bidder, is_party, is_supervisor

    if user is None or not user.is_authenticated:
        return PUBLIC
    if is_supervisor(user):
        return SUPERVISOR
    if is_party(user, tender):
        return AGENT
    if is_bidder(user):
        registered = tender.registrations.filter(bidder_id=user.organisation_id,
                                                 status=RegistrationStatus.REGISTERED).exists()
        return REGISTERED if registered else BIDDER
    if _on_panel(user, tender):
        return EXPERT
    return PUBLIC


PanelCheck = Callable[[object, Tender], bool]
PANEL_CHECKS: list[PanelCheck] = []


def panel_check_register(check: PanelCheck) -> PanelCheck:
    """The experts app registers how to tell that a user sits on a tender's panel (in a PANEL_SEATED
    status): trading core never imports experts (docs/architecture.md, "Layers")."""
    if check not in PANEL_CHECKS:
        PANEL_CHECKS.append(check)
    return check


def _on_panel(user, tender: Tender) -> bool:
    return any(check(user, tender) for check in PANEL_CHECKS)


def tender_actions(user, tender: Tender, now: datetime | None = None) -> frozenset[str]:
    return TENDER.actions(tender_phase(tender, now), tender_role(user, tender))


# --- a bidder's registration -------------------------------------------------------------------------

# What "My registrations" and the registration page say and offer, by the registration's own status
# (withdrawn) or else the tender's phase. The status label is the row's "label"; the winner of an
# awarded or contracted tender sees "won" instead of the phase's label.
REGISTRATION_PHASES = ("withdrawn", *TENDER_PHASES[1:])
REGISTRATION_LABELS = {
    "withdrawn": _("Withdrawn"),
    "published": _("Registered: bidding open"),
    "suspended": _("Registered: procedure suspended"),
    "deadline_passed": _("Bidding closed: waiting for the opening"),
    "opening": _("Opening in progress"),
    "evaluating": _("Under evaluation"),
    "publicity": _("Candidates published"),
    "awarded": _("Award published"),
    "contracted": _("Contract signed"),
    "failed": _("Tender failed"),
    "cancelled": _("Tender cancelled"),
    "archived": _("Archived"),
}
REGISTRATION = PhaseTable(
    name="registration",
    phases=REGISTRATION_PHASES,
    roles=("owner",),
    labels={"withdraw": _("Withdraw registration"), "prepare_bid": _("Prepare and upload the sealed bid"),
            "pay_deposit": _("Pay the deposit"), "view_deposit": _("Deposit and refund"),
            "watch_opening": _("Opening room"), "view_results": _("Candidates, award and contracts"),
            "object_result": _("Object to the evaluation result"), "complain": _("Complain")},
    rows={
        "withdrawn": {"owner": ("view_deposit",)},
        "published": {"owner": ("withdraw", "prepare_bid", "pay_deposit", "view_deposit", "watch_opening")},
        "suspended": {"owner": ("view_deposit",)},
        "deadline_passed": {"owner": ("view_deposit", "watch_opening")},
        "opening": {"owner": ("view_deposit", "watch_opening")},
        "evaluating": {"owner": ("view_deposit", "watch_opening")},
        "publicity": {"owner": ("view_deposit", "view_results", "object_result", "complain")},
        "awarded": {"owner": ("view_deposit", "view_results", "complain")},
        "contracted": {"owner": ("view_deposit", "view_results", "complain")},
        "failed": {"owner": ("view_deposit", "watch_opening")},
        "cancelled": {"owner": ("view_deposit",)},
        "archived": {"owner": ("view_deposit", "view_results")},
    },
)


def registration_phase(registration, now: datetime | None = None) -> str:
    if registration.status == RegistrationStatus.WITHDRAWN:
        return "withdrawn"
    return tender_phase(registration.tender, now)


def registration_actions(registration, now: datetime | None = None) -> frozenset[str]:
    return REGISTRATION.actions(registration_phase(registration, now), "owner")


def registration_label(registration, now: datetime | None = None, *, won: bool = False) -> str:
    phase = registration_phase(registration, now)
    if won and phase in ("awarded", "contracted"):
        return str(_("Awarded to you") if phase == "awarded" else _("Contract signed with you"))
    return str(REGISTRATION_LABELS[phase])


# --- the opening room ----------------------------------------------------------------------------------

# Roles in the room: the host (agent), a bidder with bids on the tender, a key custodian, everyone else.
HOST, ROOM_BIDDER, CUSTODIAN, WATCHER = "host", "bidder", "custodian", "watcher"
OPENING_PHASES = tuple(s.value for s in OpeningState)
OPENING = PhaseTable(
    name="opening room",
    phases=OPENING_PHASES,
    roles=(HOST, ROOM_BIDDER, CUSTODIAN, WATCHER),
    labels={"advance": _("Next step / close"), "sign_in": _("Sign in"), "release_dek": _("Decrypt and release"),
            "confirm": _("Confirm the read-out"), "raise_objection": _("Raise an objection"),
            "answer_objection": _("Answer"), "mark_fallback": _("Not the bidder's fault: hand to custodians"),
            "submit_share": _("Decrypt and submit my share"), "close": _("Close the opening")},
    rows={
        "waiting": {},
        "signing_in": {HOST: ("advance",), ROOM_BIDDER: ("sign_in",)},
        "decrypting": {HOST: ("advance", "mark_fallback"), ROOM_BIDDER: ("sign_in", "release_dek")},
        "fallback": {CUSTODIAN: ("submit_share",)},
        "reading_out": {HOST: ("answer_objection",), ROOM_BIDDER: ("raise_objection",)},
        "confirming": {HOST: ("answer_objection",), ROOM_BIDDER: ("confirm", "raise_objection")},
        "objections": {HOST: ("advance", "answer_objection", "close"), ROOM_BIDDER: ("raise_objection",)},
        "closed": {},
        "failed": {},
    },
)


def opening_states(action: str) -> tuple[str, ...]:
    """The room phases in which a service accepts `action` (trading/opening/services.py guards)."""
    return OPENING.phases_allowing(action)


# The room acts only while its tender is in the "opening" phase: a tender failed or terminated during
# the opening leaves the room's state where it stopped, and nothing in it may be offered any more.
ROOM_LIVE_TENDER_PHASES = frozenset({"opening"})
# A room page opened before the opening (bidders wait in the room for the deadline) must already
# know what each later room phase will offer: the room goes live over the socket, without a reload.
ROOM_UPCOMING_TENDER_PHASES = frozenset({"published", "suspended", "deadline_passed"})


def opening_room_actions(roles: Iterable[str], tender_phase: str = "opening") -> dict[str, list[str]]:
    """For the room page: phase → the actions offered to a viewer holding `roles` (the JS follows it).
    Empty once the tender has left the opening (the services refuse every command then, too); a page
    loaded before the opening gets the table, since the room starts while it stays open."""
    roles = list(roles)
    live = tender_phase in ROOM_LIVE_TENDER_PHASES | ROOM_UPCOMING_TENDER_PHASES
    return {phase: sorted(set().union(*(OPENING.actions(phase, r) for r in roles))) if roles and live else []
            for phase in OPENING_PHASES}


# --- an expert's panel membership ---------------------------------------------------------------------

# An expert's assignment: answer a call while it is open; leave an accepted seat only while the
# tender has not yet reached its evaluation (afterwards a member is replaced by the agent,
# docs/evaluation.md); nothing once the tender is decided.
PANEL_SEATED = ("notified", "accepted", "reserve")
PANEL_PHASES = ("notified", "accepted_before_evaluation", "accepted_after", "closed")
PANEL = PhaseTable(
    name="panel membership",
    phases=PANEL_PHASES,
    roles=("expert",),
    labels={"accept": _("Accept"), "decline": _("Decline"), "leave": _("Withdraw from this panel")},
    rows={
        "notified": {"expert": ("accept", "decline")},
        "accepted_before_evaluation": {"expert": ("leave",)},
        "accepted_after": {},
        "closed": {},
    },
)
PANEL_LEAVE_UNTIL = frozenset({"published", "suspended", "deadline_passed", "opening"})


def panel_phase(assignment, now: datetime | None = None) -> str:
    status = assignment.status
    if status == "notified":
        return "notified"
    if status in ("accepted", "reserve"):
        draw = assignment.draw
        now = now or clock.now()
        phase = tender_phase(draw.tender, now)
        # After the opening the tender is "evaluating", but the panel's evaluation begins at the draw's
        # evaluation_start: until then an accepted expert may still withdraw (a reserve is called).
        before = phase in PANEL_LEAVE_UNTIL or (
            phase == "evaluating" and draw.evaluation_start is not None and now < draw.evaluation_start)
        return "accepted_before_evaluation" if before else "accepted_after"
    return "closed"


def panel_actions(assignment, now: datetime | None = None) -> frozenset[str]:
    return PANEL.actions(panel_phase(assignment, now), "expert")


# --- a deposit sub-account --------------------------------------------------------------------------

DEPOSIT = PhaseTable(
    name="deposit",
    phases=("bidding_open", "bidding_closed"),
    roles=("bidder", "supervisor"),
    labels={"pay": _("Pay to the virtual sub-account"), "lodge_guarantee": _("Upload a guarantee letter"),
            "view_ledger": _("Ledger and refunds")},
    rows={
        "bidding_open": {"bidder": ("pay", "lodge_guarantee", "view_ledger"), "supervisor": ("view_ledger",)},
        "bidding_closed": {"bidder": ("view_ledger",), "supervisor": ("view_ledger",)},
    },
)


def deposit_phase(account, now: datetime | None = None) -> str:
    open_ = tender_phase(account.tender, now) == "published" and \
        account.registration.status == RegistrationStatus.REGISTERED
    return "bidding_open" if open_ else "bidding_closed"


def deposit_actions(account, role: str = "bidder", now: datetime | None = None) -> frozenset[str]:
    return DEPOSIT.actions(deposit_phase(account, now), role)


# --- result notices -------------------------------------------------------------------------------

# Which result notice the agent may publish in each tender phase (the tender status machine,
# trading/services/tender_status.py, allows the move; trading/services/notices.py refuses the rest).
RESULT_NOTICE = PhaseTable(
    name="result notice",
    phases=TENDER_PHASES,
    roles=("agent",),
    labels={k.value: k.label for k in NoticeKind},
    rows={
        "published": {"agent": (NoticeKind.TERMINATION.value,)},
        "suspended": {"agent": (NoticeKind.TERMINATION.value,)},
        "deadline_passed": {"agent": (NoticeKind.FAILURE.value, NoticeKind.TERMINATION.value)},
        "opening": {"agent": (NoticeKind.FAILURE.value, NoticeKind.TERMINATION.value)},
        "evaluating": {"agent": (NoticeKind.CANDIDATE_PUBLICITY.value, NoticeKind.FAILURE.value,
                                 NoticeKind.TERMINATION.value)},
        "publicity": {"agent": (NoticeKind.AWARD_RESULT.value, NoticeKind.FAILURE.value,
                                NoticeKind.TERMINATION.value)},
        "awarded": {"agent": (NoticeKind.FAILURE.value,)},
    },
)


def result_notice_kinds(tender: Tender, now: datetime | None = None) -> list[str]:
    """The result notice kinds the agent may publish now, in the order of NoticeKind."""
    from trading.services.notices import RESULT_NOTICE_STATUS
    from trading.services.tender_status import can_transition

    allowed = RESULT_NOTICE.actions(tender_phase(tender, now), "agent")
    # The phase says when; the status machine confirms the move (a published tender past its deadline,
    # before the deadline step, may be terminated but not yet declared failed).
    return [k.value for k in NoticeKind if k.value in allowed
            and can_transition(tender.status, RESULT_NOTICE_STATUS[k.value])]


TABLES: tuple[PhaseTable, ...] = (TENDER, REGISTRATION, OPENING, PANEL, DEPOSIT, RESULT_NOTICE)


def markdown() -> str:
    """Every table, as docs/ui.md holds them."""
    return "\n\n".join(t.markdown() for t in TABLES)
