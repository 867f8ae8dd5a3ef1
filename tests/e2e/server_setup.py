"""Runs inside the e2e server's environment (own database, own var dir) after migrate and seed_demo.

    python -m tests.e2e.server_setup <keys-dir>

Each step prints one line. Steps the current code base cannot run yet (a module missing)
are skipped, so the harness works at every stage of the project. Add steps for later
flows here (they run once per e2e session, before the server starts).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from accounts.demo import DEMO_PASSWORD  # noqa: E402
from accounts.models import User  # noqa: E402

CUSTODIANS = ("agent1", "supervisor1", "platform1")


def custodian_keys(keys_dir: Path) -> str:
    """Register a fresh P-256 custodian key for each demo custodian (publishing runs the opening key
    ceremony, which needs them) and keep each private key as a password-protected key file
    (password: the demo password), for the flows that release shares in the browser."""
    try:
        import sbe1
        from trading.bids.keys import key_register
    except ImportError as exc:
        return f"custodian keys: skipped ({exc})"
    keys_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for username in CUSTODIANS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        private = sbe1.generate_private_key()
        key_register(actor=user, public_key=sbe1.spki_b64(private), holder="custodian", label=f"e2e {username}")
        data = sbe1.write_key_file(private, DEMO_PASSWORD, label=f"e2e custodian {username}", iterations=100_000)
        (keys_dir / f"{username}.key.json").write_bytes(data if isinstance(data, bytes) else data.encode())
        done.append(username)
    return f"custodian keys: registered for {', '.join(done) or 'nobody'}"


STEPS = [custodian_keys]


def main(argv: list[str]) -> int:
    keys_dir = Path(argv[1]) if len(argv) > 1 else Path("e2e-keys")
    for step in STEPS:
        print(step(keys_dir), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
