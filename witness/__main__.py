"""python -m witness {init,serve,vkey} (docs/witness.md).

  init  --dir DIR --name NAME --log ORIGIN=VKEY [--log ...] [--listen HOST:PORT] [--prefix P]
        write DIR/witness.json (keeping an existing one's key and database), create the key,
        print the witness's verifier key
  serve --config FILE [--host H] [--port P]
  vkey  --config FILE    print the witness's verifier key (what the platform and verifiers pin)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from witness import notes
from witness.service import Config, Witness, load_or_create_key, serve


def _init(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    config_file = directory / "witness.json"
    data = json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
    data.setdefault("key_file", "witness_ed25519.pem")
    data.setdefault("database", "witness.sqlite3")
    data["name"] = args.name
    if args.listen:
        data["listen"] = args.listen
    if args.prefix is not None:
        data["prefix"] = args.prefix
    logs = {entry["origin"]: entry["key"] for entry in data.get("logs", [])}
    for spec in args.log:
        origin, sep, vkey = spec.partition("=")
        if not sep:
            raise SystemExit(f"--log takes ORIGIN=VKEY, not {spec!r}")
        notes.parse_vkey(vkey)
        logs[origin] = vkey.strip()
    data["logs"] = [{"origin": origin, "key": key} for origin, key in sorted(logs.items())]
    config_file.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    config = Config.load(config_file)
    load_or_create_key(config.key_file)
    print(Witness(config).vkey)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m witness", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="write a configuration and create the key")
    init.add_argument("--dir", required=True)
    init.add_argument("--name", required=True, help="the witness's key name, e.g. witness.bureau.example/w1")
    init.add_argument("--log", action="append", default=[], metavar="ORIGIN=VKEY",
                      help="a log to witness: its origin line and its Ed25519 verifier key (repeatable)")
    init.add_argument("--listen", help="HOST:PORT")
    init.add_argument("--prefix", help="URL prefix of add-checkpoint (default none)")
    run = sub.add_parser("serve", help="serve add-checkpoint")
    run.add_argument("--config", required=True)
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    show = sub.add_parser("vkey", help="print the witness's verifier key")
    show.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s witness %(levelname)s %(message)s")
    if args.command == "init":
        return _init(args)
    config = Config.load(args.config)
    if args.command == "vkey":
        print(Witness(config).vkey)
        return 0
    server = serve(config, host=args.host, port=args.port)
    host, port = server.server_address[:2]
    logging.getLogger("witness").info("witness %s (%s) on http://%s:%s%s/add-checkpoint",
                                      config.name, server.witness.vkey, host, port, config.prefix)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
