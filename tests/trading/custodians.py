"""Key custodians with registered keys, so that tenders can be published (the opening key ceremony)."""

from __future__ import annotations

import sbe1


def make_custodians(make_user, agent_org) -> dict:
    """The agent's, a supervisor's and the platform's custodian, each with a registered P-256 key.

    Returns {role: (user, private_key)}; the private keys stay in the test (as in a key file).
    """
    from trading.bids.keys import key_register

    made = {}
    for role, roles, org in (
        ("agent", ("agent", "custodian"), agent_org),
        ("supervisor", ("supervisor", "custodian"), None),
        ("platform", ("platform_admin", "custodian"), None),
    ):
        user = make_user(*roles, org=org, username=f"custodian-{role}-{agent_org.pk}")
        private = sbe1.generate_private_key()
        key_register(actor=user, public_key=sbe1.spki_b64(private), holder="custodian", label=role)
        made[role] = (user, private)
    return made
