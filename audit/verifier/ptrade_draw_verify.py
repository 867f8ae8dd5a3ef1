#!/usr/bin/env python3
"""Re-run a ptrade expert draw from its public record, offline (docs/experts.md, "Public draw record").

    python ptrade_draw_verify.py RECORD.json [--key VKEY | --key-file FILE]

RECORD.json is what anyone gets from `GET /api/v1/draws/<id>/record` once the panel is revealed.
With no platform code, no database and no network it checks:
  1. SHA-256(seed) is the committed seed hash;
  2. the commit event: SHA-256(0x00 || its canonical JSON) is the draw's entropy, it names this draw's
     seed hash, pool digest and line composition; with --key, its RFC 6962 inclusion proof leads to a
     checkpoint signed by the platform key (so the commitment is in the signed log, before the entropy
     existed);
  3. the pool snapshot: every line sorted ascending without repeats; the pool digest recomputed;
  4. the sampler "ptrade-expert-draw-v1" re-run: every output of the sequence, in seq order, is the
     next output of its line's stream at the stated step; the duplicate rule; each line's stream
     position;
  5. the initial composition: per line, the first `count` usable initial outputs are the members
     (seats in line order), the next `reserves` the reserves; the initial draw stops only when
     members + reserves are found or the line's pool is exhausted;
  6. the panel: the accepted outputs are usable ones and equal the published members.
Prints the recomputed panel; exit 0 = VERIFIED, 1 = FAILED: <reason>, 2 = unreadable input.
The sampler below is a second, independent copy of the documented algorithm (stdlib only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ptrade_audit_verify import (  # noqa: E402
    VerifyError,
    hexhash,
    open_checkpoint,
    parse_verifier_key,
    root_from_inclusion_proof,
)

ALGORITHM = "ptrade-expert-draw-v1"
TWO64 = 1 << 64


class LineStream:
    """One line: its 64-bit word stream and the partial Fisher-Yates shuffle over its sorted pool."""

    def __init__(self, key: bytes, index: int, pool: list[int]) -> None:
        self.key, self.index, self.a = key, index, list(pool)
        self.words = 0
        self.steps = 0

    def word(self) -> int:
        block = hashlib.sha256(self.key + struct.pack(">I", self.index) + struct.pack(">Q", self.words // 4)).digest()
        value = struct.unpack(">Q", block[8 * (self.words % 4): 8 * (self.words % 4) + 8])[0]
        self.words += 1
        return value

    def uniform(self, n: int) -> int:
        limit = TWO64 - TWO64 % n
        while True:
            x = self.word()
            if x < limit:
                return x % n

    def next(self) -> int | None:
        t = self.steps
        if t >= len(self.a):
            return None
        r = self.uniform(len(self.a) - t)
        self.a[t], self.a[t + r] = self.a[t + r], self.a[t]
        self.steps += 1
        return self.a[t]


def pool_digest(pools: list[list[int]]) -> str:
    h = hashlib.sha256()
    for index, ids in enumerate(pools):
        h.update(struct.pack(">II", index, len(ids)))
        h.update(b"".join(struct.pack(">Q", i) for i in ids))
    return h.hexdigest()


def need(condition: bool, message: str) -> None:
    if not condition:
        raise VerifyError(message)


def verify(record: Any, key: tuple[str, bytes] | None, out: Any) -> dict[int, int]:
    need(isinstance(record, dict) and record.get("format") == "ptrade-draw-record" and record.get("version") == 1,
         "not a ptrade-draw-record version 1")
    need(record.get("algorithm") == ALGORITHM, f"algorithm {record.get('algorithm')!r} is not {ALGORITHM}")
    seed = bytes.fromhex(record["seed"])
    entropy = hexhash(record["entropy"], "entropy")
    need(len(seed) == 32, "the seed is not 32 bytes")
    need(hashlib.sha256(seed).hexdigest() == record["seed_sha256"], "SHA-256(seed) is not the committed seed hash")
    out.write(f"draw {record['draw']} (tender {record['tender']}, lot {record['lot']}): seed matches its commitment\n")

    commit_bytes = record["commit_event"].encode("utf-8")
    need(hashlib.sha256(b"\x00" + commit_bytes).digest() == entropy,
         "the entropy is not the leaf hash of the published commit event")
    commit = json.loads(commit_bytes)
    need(commit.get("action") == "expert_draw.committed" and commit.get("seq") == record["commit_seq"],
         "the commit event is not this draw's expert_draw.committed")
    data = commit["data"]
    need(data.get("seed_sha256") == record["seed_sha256"], "the commit event commits to another seed")
    need(data.get("pool_sha256") == record["pool_sha256"], "the commit event commits to another pool")
    out.write(f"commit event {commit['seq']}: its leaf hash is the entropy; it commits to the seed and the pool\n")
    proof = record.get("commit_proof")
    if key is not None:
        need(isinstance(proof, dict), "no inclusion proof of the commit event (not yet checkpointed: fetch later)")
        origin, size, root = open_checkpoint(proof["checkpoint"], *key)
        need(size == proof["tree_size"], "the checkpoint's size differs from the proof's tree_size")
        path = [hexhash(h, "inclusion proof hash") for h in proof["hashes"]]
        need(root_from_inclusion_proof(commit["seq"] - 1, size, entropy, path) == root,
             "the commit event's inclusion proof does not lead to the signed root")
        out.write(f"commit event: in the log signed by {origin} at tree size {size}\n")
    else:
        out.write("commit event: inclusion NOT checked (give --key to check it against a signed checkpoint)\n")

    lines = record["lines"]
    pools = [line["pool"] for line in lines]
    for i, ids in enumerate(pools):
        need(all(isinstance(x, int) for x in ids) and all(a < b for a, b in zip(ids, ids[1:])),  # noqa: B905 (Python 3.9)
             f"line {i}: the pool is not sorted ascending without repeats")
    need(pool_digest(pools) == record["pool_sha256"], "the pool snapshot does not hash to the committed digest")
    need(data.get("pool_sizes") in (None, [len(p) for p in pools]), "the pool sizes differ from the commitment")
    requested = data["request"]["lines"]
    need([(r["count"], r["reserves"]) for r in requested] == [(x["count"], x["reserves"]) for x in lines],
         "the line composition differs from the committed request")
    out.write(f"pool snapshot: {len(pools)} line(s), {sum(len(p) for p in pools)} eligible, digest OK\n")

    stream_key = hashlib.sha256(ALGORITHM.encode() + b"\x00" + seed + entropy).digest()
    streams = [LineStream(stream_key, i, ids) for i, ids in enumerate(pools)]
    seen: set[int] = set()
    usable: list[list[dict]] = [[] for _ in lines]
    last = 0
    for row in record["sequence"]:
        need(row["seq"] > last, "the sequence is not in ascending seq order")
        last = row["seq"]
        stream = streams[row["line"]]
        step = stream.steps
        expert = stream.next()
        need(expert == row["expert"] and step == row["position"],
             f"seq {row['seq']}: line {row['line']} gives expert {expert} at step {step}, the record says "
             f"{row['expert']} at {row['position']}")
        need((expert in seen) == (row["skip"] == "duplicate"), f"seq {row['seq']}: the duplicate rule is broken")
        seen.add(expert)
        if row["initial"] and row["skip"] is None:
            usable[row["line"]].append(row)
    for i, (line, stream) in enumerate(zip(lines, streams)):  # noqa: B905 (Python 3.9)
        need((stream.steps, stream.words) == (line["steps"], line["words"]),
             f"line {i}: the stream position differs from the record")
    out.write(f"sequence: {len(record['sequence'])} outputs reproduced by the sampler\n")

    seat = 0
    for i, line in enumerate(lines):
        picks, count, reserves = usable[i], line["count"], line["reserves"]
        need(len(picks) <= count + reserves, f"line {i}: more initial picks than members + reserves")
        if len(picks) < count + reserves:
            need(line["steps"] == len(line["pool"]), f"line {i}: the initial draw stopped before its pool ran out")
        for n, row in enumerate(picks):
            role = "member" if n < count else "reserve"
            need(row["drawn_as"] == role, f"seq {row['seq']}: should have been drawn as a {role}")
            if role == "member":
                need(row["seat"] == seat + n + 1, f"seq {row['seq']}: should have taken seat {seat + n + 1}")
        out.write(f"line {i}: members {[r['expert'] for r in picks[:count]]}, "
                  f"reserves {[r['expert'] for r in picks[count:]]}\n")
        seat += count
    panel = {}
    for row in record["sequence"]:
        if row["outcome"] == "accepted":
            need(row["skip"] is None, f"seq {row['seq']}: a skipped output sits on the panel")
            panel[row["seat"]] = row["expert"]
    members = {m["seat"]: m["expert"] for m in record.get("members") or []}
    if members:
        need(members == panel, "the published members differ from the accepted outputs of the sequence")
    out.write("panel: " + ", ".join(f"seat {s}: expert {e}" for s, e in sorted(panel.items())) + "\n")
    out.write("VERIFIED\n")
    return panel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Re-run a ptrade expert draw from its public record.")
    parser.add_argument("record", help="the JSON of GET /api/v1/draws/<id>/record")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--key", help="the platform's verifier key: also check the commit event's inclusion")
    group.add_argument("--key-file", help="a file holding that verifier key")
    args = parser.parse_args(argv)
    try:
        vkey = args.key
        if args.key_file:
            with open(args.key_file, encoding="utf-8") as f:
                vkey = f.read()
        with open(args.record, encoding="utf-8") as f:
            try:
                record = json.load(f)
            except json.JSONDecodeError as exc:
                sys.stderr.write(f"ERROR: {args.record} is not JSON: {exc}\n")
                return 2
        verify(record, parse_verifier_key(vkey) if vkey else None, sys.stdout)
    except OSError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        return 2
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        sys.stdout.flush()
        sys.stderr.write(f"FAILED: malformed record: {exc!r}\n")
        return 1
    except VerifyError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"FAILED: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
