"""Runs inside the e2e server's environment (own database, own var dir) after migrate and seed_demo.

    python -m tests.e2e.server_setup <keys-dir>
    python -m tests.e2e.server_setup run-due-steps     # what the beat's sweep does, once (JSON)
    python -m tests.e2e.server_setup called-experts <tender-id>   # the phones the calls went to (JSON)

Each step prints one line. Steps the current code base cannot run yet (a module missing)
are skipped, so the harness works at every stage of the project. Add steps for later
flows here (they run once per e2e session, before the server starts).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from accounts.models import User  # noqa: E402
from demo.accounts import DEMO_PASSWORD  # noqa: E402

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


def run_due_steps() -> str:
    """Run the scheduled steps due now, once, as the beat task `trading.tasks.sweep_due_steps` does.

    The e2e run sweeps at chosen moments instead of running Celery beat: at 28,800× the opening's
    windows last about a second, shorter than a person (or a browser) takes to decrypt a bid.
    Only the steps due when the sweep starts run: a step that a handler schedules during the
    sweep (the room's 1-second sign-in window, say) waits for a later sweep, as it would with beat
    when the sweep is quick."""
    from trading import clock
    from trading.models import ScheduledStep
    from trading.services.scheduling import step_run_one

    due = list(ScheduledStep.objects.filter(done_at__isnull=True, due_at__lte=clock.now())
               .order_by("due_at", "pk").values_list("pk", flat=True))
    ran = [step for pk in due if (step := step_run_one(step_id=pk)) is not None]
    return json.dumps([{"kind": s.kind, "subject": s.subject, "result": s.result} for s in ran])


def called_experts(tender_id: str) -> str:
    """Usernames of the experts called (member seats awaiting an answer) for the tender's draws: the
    SMS / email the expert receives, read from the platform's outbox as a phone would show it."""
    from experts.models import Assignment

    rows = (Assignment.objects.filter(draw__lot__tender_id=int(tender_id), status="notified")
            .select_related("expert__user").order_by("seq"))
    return json.dumps([{"assignment": a.pk, "username": a.expert.user.username if a.expert.user else None}
                       for a in rows])


def main(argv: list[str]) -> int:
    if len(argv) > 1 and argv[1] == "run-due-steps":
        print(run_due_steps(), flush=True)
        return 0
    if len(argv) > 2 and argv[1] == "called-experts":
        print(called_experts(argv[2]), flush=True)
        return 0
    keys_dir = Path(argv[1]) if len(argv) > 1 else Path("e2e-keys")
    for step in STEPS:
        print(step(keys_dir), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
