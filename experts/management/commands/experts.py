"""`manage.py experts <subcommand>`: operations of the expert app (docs/experts.md).

  replay-draw ID      recompute draw ID from its commitment, seed and stored pool; exit 1 if the replayed
                      panel differs (--require-revealed: only with the published seed)
  sms-simulator       run the SMS/voice gateway simulator (HTTP), answering calls by a policy
  load-specialties    load the missing entries of the specialty code list
"""

from __future__ import annotations

import json
import signal
import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Expert drawing operations: replay-draw, sms-simulator, load-specialties."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        replay = sub.add_parser("replay-draw", help="replay a draw and compare with the stored panel")
        replay.add_argument("draw_id", type=int)
        replay.add_argument("--require-revealed", action="store_true",
                            help="fail unless the seed has been revealed (replay from public data only)")
        replay.add_argument("--json", dest="as_json", action="store_true", help="print the result as JSON")
        sim = sub.add_parser("sms-simulator", help="serve the SMS/voice gateway simulator")
        sim.add_argument("--host", default="127.0.0.1")
        sim.add_argument("--port", type=int, default=8025)
        sim.add_argument("--policy", default="accept",
                         help="accept | decline | silent | manual | random:<accept probability>")
        sim.add_argument("--delay", type=float, default=2.0, help="seconds before answering")
        sim.add_argument("--reply-url", default="", help="override the reply URL the platform sends")
        sim.add_argument("--seed", type=int, default=None, help="random policy seed")
        sub.add_parser("load-specialties", help="load the specialty code list fixture")

    def handle(self, *args, **options):
        return getattr(self, f"handle_{options['subcommand'].replace('-', '_')}")(**options)

    def handle_replay_draw(self, *, draw_id: int, require_revealed: bool, as_json: bool = False, **_):
        from experts.models import Draw
        from experts.replay import draw_replay

        draw = Draw.objects.filter(pk=draw_id).first()
        if draw is None:
            raise CommandError(f"no draw {draw_id}")
        result = draw_replay(draw, require_revealed=require_revealed)
        if as_json:
            # Only the JSON document on stdout (`ok` says whether the replay matched); exit 1 on a mismatch.
            self._print_json(result)
            if not result.ok:
                raise SystemExit(1)
            return
        self.stdout.write(f"draw {draw.pk}: tender {draw.tender.code} lot {draw.lot.number}, "
                          f"{draw.algorithm}, seed {result.seed_source or '-'}")
        self.stdout.write(f"  commit event #{draw.commit_seq}, entropy {draw.entropy}")
        self.stdout.write(f"  pool sha256 {draw.pool_sha256} ({draw.pool_size} eligible)")
        for row in result.rows:
            mark = "=" if row.ok else "≠"
            self.stdout.write(f"  #{row.seq:<3} line {row.line} step {row.position:<5} expert {row.stored:<8} "
                              f"{mark} {row.expected!s:<8} {row.status}"
                              f"{' (' + row.skip_reason + ')' if row.skip_reason else ''}"
                              f"{' seat ' + str(row.seat) if row.seat else ''}")
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(f"MISMATCH: {problem}")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"draw {draw.pk}: replay identical ({len(result.rows)} draws, "
                                             f"panel of {len(result.panel)})"))

    def _print_json(self, result) -> None:
        self.stdout.write(json.dumps({
            "draw": result.draw.pk, "ok": result.ok, "seed_source": result.seed_source, "problems": result.problems,
            "rows": [{"seq": r.seq, "line": r.line, "position": r.position, "expert": r.stored,
                      "replayed": r.expected, "status": r.status, "skip_reason": r.skip_reason, "seat": r.seat}
                     for r in result.rows]}, ensure_ascii=False, indent=1))

    def handle_sms_simulator(self, *, host, port, policy, delay, reply_url, seed, **_):
        from experts.identity import gateway_secret
        from experts.simulator.server import GatewaySimulator

        sim = GatewaySimulator(secret=gateway_secret(), policy=policy, delay=delay, host=host, port=port,
                               reply_url=reply_url or None, seed=seed)
        sim.start()
        self.stdout.write(f"SMS/voice gateway simulator on {sim.url} (policy {policy}, delay {delay}s)")
        self.stdout.write(f"  set EXPERTS_SMS_GATEWAY_URL={sim.url}/send ; open {sim.url}/ to answer by hand")
        stop = []
        signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
        try:
            while not stop:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        sim.stop()

    def handle_load_specialties(self, **_):
        from experts.specialties import specialties_load

        self.stdout.write(f"{specialties_load()} specialties created")
