"""Who may see what of the audit log.

Proofs, checkpoints and the public key hold only hashes and are public (政务公开).
Event contents are not: some events concern sealed things (bids, expert panels), so
reading them, or exporting them, is for supervisors.
"""

from accounts.policy import has_role, public, rule, same_org
from accounts.roles import Role


@rule("audit.view_proofs")
@public
def audit_view_proofs(user, obj) -> bool:
    return True


@rule("audit.view_events")
def audit_view_events(user, obj) -> bool:
    return has_role(user, Role.SUPERVISOR)


@rule("audit.view_receipt")
def audit_view_receipt(user, receipt) -> bool:
    """A receipt's event, proof and checkpoint: its holder only (the organisation that holds it, or the
    one user it was issued to). The event may concern a sealed fact of the holder's own."""
    if receipt is None:
        return False
    if receipt.holder_user_id is not None:
        return bool(getattr(user, "pk", None) == receipt.holder_user_id)
    return same_org(user, receipt.holder_org_id)
