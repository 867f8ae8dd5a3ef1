"""Offline verifier speed as a ratio to `sha256sum` over the same export file, in the same run.

    python bench/verifier_bench.py [--events 1000000] [--file /tmp/bundle.jsonl] [--keep] [--repeat 3]

No database needed: it writes a valid whole-log export bundle (format of docs/audit.md, "Bundle
format"; the same synthetic `bid.submitted` events as bench/merkle_bench.py, so a line is ~470
bytes) signed with a fresh Ed25519 key, then times, alternately and `--repeat` times each:
  - `sha256sum FILE` (coreutils, one core), and
  - `python audit/verifier/ptrade_audit_verify.py FILE --key VKEY` (process start included, with
    the verifier's default worker count = the machine's cores),
and prints events/s of both and the ratio verifier / sha256sum (best of each). Target: ≥ 1/4.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from audit.canonical import dumps, format_timestamp  # noqa: E402
from audit.merkle import node_hash  # noqa: E402

VERIFIER = ROOT / "audit" / "verifier" / "ptrade_audit_verify.py"
ORIGIN = "bench.ptrade.example/audit"
TENDERS = 500


def _compact_root(stack: list[bytes]) -> bytes:
    h = stack[-1]
    for left in reversed(stack[:-1]):
        h = node_hash(left, h)
    return h


def write_bundle(path: Path, count: int) -> str:
    """Write the bundle; returns the verifier key."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_hash = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    encoded = base64.b64encode(b"\x01" + public).decode()
    vkey = f"{ORIGIN}+{key_hash.hex()}+{encoded}"
    prev = "0" * 64
    base = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    stack: list[bytes] = []
    tmp = path.with_suffix(".events")
    with tmp.open("wb") as out:
        for seq in range(1, count + 1):
            ts = format_timestamp(base + dt.timedelta(microseconds=seq * 7))
            data = {"tender": seq % TENDERS, "lot": seq % 7, "size": 1048576 + seq,
                    "envelope_sha256": hashlib.sha256(b"%d" % seq).hexdigest()}
            body = dumps({"seq": seq, "ts": ts, "actor": str(seq % 97), "action": "bid.submitted",
                          "object": f"trading.bid:{seq}", "data": data, "prev": prev})
            leaf = hashlib.sha256(b"\x00" + body).digest()
            out.write(dumps({"type": "event", "seq": seq, "hash": leaf.hex(), "canonical": body.decode()}) + b"\n")
            index, h = seq - 1, leaf
            while index & 1:
                h = node_hash(stack.pop(), h)
                index >>= 1
            stack.append(h)
            prev = leaf.hex()
    root = _compact_root(stack)
    body = f"{ORIGIN}\n{count}\n{base64.b64encode(root).decode()}\n"
    note = body + "\n" + f"\u2014 {ORIGIN} {base64.b64encode(key_hash + key.sign(body.encode())).decode()}\n"
    header = {"type": "header", "format": "ptrade-audit-bundle", "version": 1, "scope": "log", "tender": None,
              "origin": ORIGIN, "tree_size": count, "events": count, "public_key": base64.b64encode(public).decode(),
              "verifier_key": vkey, "key_id": "", "created_at": format_timestamp(dt.datetime.now(dt.UTC))}
    with path.open("wb") as out:
        out.write(dumps(header) + b"\n")
        out.write(dumps({"type": "checkpoint", "note": note}) + b"\n")
        with tmp.open("rb") as events:
            shutil.copyfileobj(events, out, 1 << 20)
        out.write(dumps({"type": "end", "events": count}) + b"\n")
    tmp.unlink()
    return vkey


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stdout}{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the bundle file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, help="pass --workers N to the verifier")
    parser.add_argument("--strict-canonical", action="store_true", help="pass --strict-canonical to the verifier")
    parser.add_argument("--verifier", type=Path, default=VERIFIER,
                        help="another ptrade_audit_verify.py (e.g. an older version, for comparison)")
    parser.add_argument("--reuse", action="store_true", help="reuse --file written by an earlier --keep run")
    args = parser.parse_args()
    directory = None
    if args.file is None:
        directory = tempfile.mkdtemp(prefix="verifier_bench_")
        args.file = Path(directory) / "bundle.jsonl"
    started = time.perf_counter()
    if args.reuse and args.file.exists():  # a bundle this script wrote (its header names its key)
        with args.file.open("rb") as f:
            header = json.loads(f.readline())
        vkey, args.events = header["verifier_key"], header["events"]
    else:
        vkey = write_bundle(args.file, args.events)
    size = args.file.stat().st_size
    print(f"bundle: {args.events:,} events, {size / 1e6:,.0f} MB, written in {time.perf_counter() - started:.1f} s; "
          f"{os.cpu_count()} cores")
    verifier = [sys.executable, "-I", str(args.verifier), str(args.file), "--key", vkey]
    if args.workers:
        verifier += ["--workers", str(args.workers)]
    if args.strict_canonical:
        verifier += ["--strict-canonical"]
    sha, ver = [], []
    try:
        for _ in range(args.repeat):
            sha.append(timed(["sha256sum", str(args.file)]))
            ver.append(timed(verifier))
    finally:
        if not args.keep and not args.reuse:
            args.file.unlink(missing_ok=True)
            if directory:
                shutil.rmtree(directory, ignore_errors=True)
    best_sha, best_ver = min(sha), min(ver)
    print(f"sha256sum:  {', '.join(f'{s:.2f}' for s in sha)} s → best {best_sha:.2f} s = "
          f"{size / best_sha / 1e6:,.0f} MB/s = {args.events / best_sha:,.0f} events/s")
    print(f"verifier:   {', '.join(f'{s:.2f}' for s in ver)} s → best {best_ver:.2f} s = "
          f"{args.events / best_ver:,.0f} events/s")
    print(f"ratio verifier / sha256sum: {best_sha / best_ver:.3f} (1/{best_ver / best_sha:.1f}); target ≥ 0.25")


if __name__ == "__main__":
    main()
