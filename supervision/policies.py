"""Who may see the live supervision dashboard and the collusion signals (supervisors only).

Imported by the SupervisionConfig at start-up (registers the rules with accounts.policy).
"""

from accounts.policy import has_role, rule
from accounts.roles import Role


@rule("supervision.view")
def supervision_view(user, obj) -> bool:
    """The live dashboard: every opening room, draw and warning (电子监察)."""
    return has_role(user, Role.SUPERVISOR)


@rule("collusion.view")
def collusion_view(user, obj) -> bool:
    """Collusion signals name bidders and their evidence: supervisors only."""
    return has_role(user, Role.SUPERVISOR)


@rule("collusion.compute")
def collusion_compute(user, obj) -> bool:
    return has_role(user, Role.SUPERVISOR)
