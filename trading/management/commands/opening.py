"""`manage.py opening demo-keys`: DEMO ONLY — key files for the demo custodians and bidders.

Writes password-protected SBE1 key files (the demo password of seed_demo) under
var/demo-keys/ and registers their public keys, so that demo tenders can be published
(the opening key ceremony needs every custodian's key) and demo bidders can seal bids.
In a real deployment every custodian and bidder makes its own key in the browser or
with `python -m sbe1 keygen` and the private key never exists on the server: this
command is refused when PTRADE_PRODUCTION is on.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import sbe1
from accounts.models import User
from accounts.roles import Role
from trading.bids.keys import key_register
from trading.models import KeyHolder, RegisteredKey

DEMO_ITERATIONS = sbe1.keys.MIN_ITERATIONS


class Command(BaseCommand):
    help = "Opening utilities. demo-keys: DEMO ONLY key files for custodians and bidders (var/demo-keys/)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        demo = sub.add_parser("demo-keys", help="write demo key files and register their public keys")
        demo.add_argument("--out", default=None, help="directory (default: var/demo-keys)")
        demo.add_argument("--password", default=None, help="key file password (default: the seed_demo password)")

    def handle(self, *args, **options):
        if options["action"] == "demo-keys":
            self.demo_keys(options)

    def demo_keys(self, options):
        if settings.PRODUCTION:
            raise CommandError("demo-keys writes private keys on the server: refused in production")
        from demo.accounts import DEMO_PASSWORD

        password = options["password"] or DEMO_PASSWORD
        out = Path(options["out"] or Path(settings.VAR_DIR) / "demo-keys")
        out.mkdir(parents=True, exist_ok=True)
        out.chmod(0o700)
        custodians = User.objects.filter(is_active=True, role_grants__role=Role.CUSTODIAN).distinct().order_by("pk")
        for user in custodians:
            self._ensure(out / f"custodian-{user.username}.key", user, KeyHolder.CUSTODIAN, password,
                         RegisteredKey.objects.filter(user=user, revoked_at__isnull=True))
        seen: set[int] = set()
        bidders = User.objects.filter(is_active=True, role_grants__role=Role.BIDDER,
                                      organisation__isnull=False).distinct().order_by("pk")
        for user in bidders:
            if user.organisation_id in seen:
                continue
            seen.add(user.organisation_id)
            self._ensure(out / f"bidder-{user.username}.key", user, KeyHolder.ORGANISATION, password,
                         RegisteredKey.objects.filter(organisation_id=user.organisation_id, revoked_at__isnull=True))
        self.stdout.write(self.style.WARNING(
            f"DEMO ONLY: private keys in {out} (password: the seed_demo password). Real custodians and "
            "bidders make their own keys; the platform never holds them."))

    def _ensure(self, path: Path, user, holder: str, password: str, existing) -> None:
        if path.exists():
            info = sbe1.key_file_info(path.read_bytes())
            if not RegisteredKey.objects.filter(key_id=info.key_id).exists():
                key_register(actor=user, public_key=sbe1.encoding.b64e(info.public_spki), holder=holder,
                             label="demo")
            self.stdout.write(f"  {path.name}: {info.key_id[:16]}… (kept)")
            return
        if existing.exists():
            self.stdout.write(f"  {user.username}: has a registered {holder} key already, skipped")
            return
        private = sbe1.generate_private_key()
        data = sbe1.write_key_file(private, password, label=f"demo {holder} {user.username}",
                                   iterations=DEMO_ITERATIONS)
        path.write_bytes(data)
        path.chmod(0o600)
        key = key_register(actor=user, public_key=sbe1.spki_b64(private), holder=holder, label="demo")
        self.stdout.write(f"  {path.name}: {key.key_id[:16]}… (new, registered)")
