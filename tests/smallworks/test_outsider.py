"""An outsider recomputes a fixed-price drawing from the published record alone.

This module imports nothing of the platform's drawing code (no smallworks, no experts, no audit):
it re-implements docs/smallworks.md, "Recomputing a drawing", with hashlib and json, reads the
record from the public API, and checks every published number."""

from __future__ import annotations

import hashlib
import json
import struct

ALGORITHM = b"ptrade-expert-draw-v1"


def outsider_sequence(seed: bytes, entropy: bytes, pool: list[int], n: int) -> tuple[list[int], int, int]:
    key = hashlib.sha256(ALGORITHM + b"\x00" + seed + entropy).digest()
    words: list[int] = []
    used = 0

    def word() -> int:
        nonlocal used
        if used % 4 == 0:
            block = hashlib.sha256(key + struct.pack(">I", 0) + struct.pack(">Q", used // 4)).digest()
            words.extend(struct.unpack(">4Q", block))
        used += 1
        return words[used - 1]

    def uniform(k: int) -> int:
        limit = 2**64 - (2**64 % k)
        while True:
            x = word()
            if x < limit:
                return x % k

    a = list(pool)
    out = []
    for t in range(min(n, len(a))):
        r = uniform(len(a) - t)
        a[t], a[t + r] = a[t + r], a[t]
        out.append(a[t])
    return out, min(n, len(a)), used


def outsider_pool_digest(pool: list[int]) -> str:
    h = hashlib.sha256(struct.pack(">II", 0, len(pool)))
    for org in pool:
        h.update(struct.pack(">Q", org))
    return h.hexdigest()


def test_outsider_recomputes_the_drawing_from_published_data(fp, reviewed, api):
    project = reviewed()
    base = f"/api/v1/fixed-price/projects/{project.public_id}"
    assert api.as_user(fp.agent).post(f"{base}/drawing").status_code == 201
    api.force_authenticate(None)
    record = api.get(f"{base}/drawing").json()  # anyone, no account

    seed, entropy = bytes.fromhex(record["seed"]), bytes.fromhex(record["entropy"])
    assert hashlib.sha256(seed).hexdigest() == record["seed_sha256"]
    commit_text = record["commit_event"].encode("utf-8")
    assert hashlib.sha256(b"\x00" + commit_text).hexdigest() == record["entropy"]  # the chain's leaf hash
    commit = json.loads(commit_text)
    assert commit["action"] == "fixed_price_drawing.committed" and commit["seq"] == record["commit_seq"]
    assert commit["data"]["seed_sha256"] == record["seed_sha256"]  # committed before the entropy existed
    pool = [p["organisation"] for p in commit["data"]["pool"]]
    assert pool == sorted(pool) and pool == [p["organisation"] for p in record["pool"]]
    assert outsider_pool_digest(pool) == commit["data"]["pool_sha256"] == record["pool_sha256"]
    wanted = 1 + commit["data"]["request"]["reserves"]
    sequence, steps, words = outsider_sequence(seed, entropy, pool, wanted)
    assert sequence == [row["organisation"] for row in record["sequence"]]
    assert (steps, words) == (record["steps"], record["words"])
    assert record["sequence"][0]["outcome"] == "called"
    # The published names match the pool ids (the public list of qualified enterprises).
    public = {e["organisation"]: e["name"] for e in api.get(f"{base}/entries").json()}
    assert {p["organisation"]: p["name"] for p in record["pool"]} == {k: public[k] for k in pool}


def test_a_tampered_record_does_not_recompute(fp, reviewed, api):
    project = reviewed(deposit=0)
    base = f"/api/v1/fixed-price/projects/{project.public_id}"
    api.as_user(fp.agent).post(f"{base}/drawing")
    api.force_authenticate(None)
    record = api.get(f"{base}/drawing").json()
    seed, entropy = bytes.fromhex(record["seed"]), bytes.fromhex(record["entropy"])
    pool = [p["organisation"] for p in record["pool"]]
    other_entropy = hashlib.sha256(entropy).digest()
    assert outsider_sequence(seed, other_entropy, pool, 5)[0] != outsider_sequence(seed, entropy, pool, 5)[0]
