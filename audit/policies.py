"""Who may see what of the audit log.

Proofs, checkpoints and the public key hold only hashes and are public (政务公开).
Event contents are not: some events concern sealed things (bids, expert panels), so
reading them, or exporting them, is for supervisors.
"""

from accounts.policy import has_role, public, rule
from accounts.roles import Role


@rule("audit.view_proofs")
@public
def audit_view_proofs(user, obj) -> bool:
    return True


@rule("audit.view_events")
def audit_view_events(user, obj) -> bool:
    return has_role(user, Role.SUPERVISOR)
