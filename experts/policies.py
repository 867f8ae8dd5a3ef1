"""Who may do and see what in the expert app (accounts.policy registry).

Sealing (招标投标法 Art 37: names confidential until the result is decided):
- agents and tenderers see counts and seat statuses of their own draws, never identities, until the
  panel is revealed at evaluation sign-in;
- an expert sees only their own assignments;
- supervisors see everything, live;
- platform operators manage the pool but may not browse it while a draw is in progress
  (`experts.services.draws.draws_in_progress`), and nobody else may list it.
"""

from __future__ import annotations

from accounts.policy import has_role, public, rule
from accounts.roles import Role
from experts.publication import draw_is_public
from experts.services.draws import draws_in_progress
from trading.policies import is_agent_of, is_party


def _supervisor(user) -> bool:
    return has_role(user, Role.SUPERVISOR)


def _admin(user) -> bool:
    return has_role(user, Role.PLATFORM_ADMIN)


def _party(user, tender) -> bool:
    return is_party(user, tender)


def _own_assignment(user, assignment) -> bool:
    expert = assignment.expert
    return has_role(user, Role.EXPERT) and expert.user_id is not None and expert.user_id == user.pk


@rule("expert_pool.manage")
def pool_manage(user, _obj=None) -> bool:
    return _admin(user)


@rule("expert_pool.browse")
def pool_browse(user, _obj=None) -> bool:
    if _supervisor(user):
        return True
    if not _admin(user):
        return False

    return not draws_in_progress()


@rule("draw.create")
def draw_create(user, tender) -> bool:
    return is_agent_of(user, tender)


@rule("draw.view")
def draw_view(user, draw) -> bool:
    return _supervisor(user) or _party(user, draw.tender)


@rule("draw.view_panel")
def draw_view_panel(user, draw) -> bool:
    """Identities: supervisors always; the tender's parties once revealed at sign-in."""
    return _supervisor(user) or (draw.revealed_at is not None and _party(user, draw.tender))


@rule("draw.supervise")
def draw_supervise(user, _draw=None) -> bool:
    return _supervisor(user)


@rule("draw.replay")
def draw_replay(user, draw) -> bool:
    return _supervisor(user) or (draw.seed_revealed_at is not None and _party(user, draw.tender))


@rule("draw.view_record")
@public
def draw_view_record(user, draw) -> bool:
    """The public draw record (seed, pool snapshot, sequence, members): anyone, once the panel is revealed
    (or a cancelled draw's seed published); docs/experts.md "Public draw record"."""
    return draw is not None and draw_is_public(draw)


@rule("draw.cancel")
def draw_cancel(user, draw) -> bool:
    return _supervisor(user) or is_agent_of(user, draw.tender)


@rule("draw.reveal")
def draw_reveal(user, _draw=None) -> bool:
    return _supervisor(user)


@rule("draw.reveal_seed")
def draw_reveal_seed(user, _draw=None) -> bool:
    return _supervisor(user)


@rule("assignment.view")
def assignment_view(user, assignment) -> bool:
    return _supervisor(user) or _own_assignment(user, assignment)


@rule("assignment.respond")
def assignment_respond(user, assignment) -> bool:
    return _own_assignment(user, assignment)


@rule("assignment.leave")
def assignment_leave(user, assignment) -> bool:
    return _supervisor(user) or _own_assignment(user, assignment)
