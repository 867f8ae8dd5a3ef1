"""SBE1 opening throughput: decrypt and verify 100 sealed bids of 10 MB each.

Generates the envelopes first (untimed, in a temporary directory that is deleted at the
end), then times, for every bid, what the platform does at opening: read and check the
header, unwrap the DEK with the lot's opening key (ECDH + HKDF + AES-GCM), decrypt every
chunk (AES-256-GCM), and verify every file's size and SHA-256 against the manifest. The
result is compared with this machine's single-core SHA-256 speed (hashlib over a large
buffer) measured in the same run. Target: throughput / SHA-256 speed >= 0.4.

A second pass adds the detached-signature check (SHA-256 of the whole envelope + ECDSA
verify), which the platform does at upload time rather than at opening.

    .venv/bin/python bench/sbe1_bench.py [--bids 100] [--size-mb 10] [--distinct 100]

No Django: the package is stand-alone. MB = 10^6 bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sbe1  # noqa: E402

MB = 1_000_000


def sha256_speed(buffer_mb: int = 256, rounds: int = 3) -> float:
    """Single-core hashlib SHA-256 throughput in MB/s (best of ``rounds``)."""
    data = os.urandom(buffer_mb * MB)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        hashlib.sha256(data).digest()
        best = min(best, time.perf_counter() - start)
    return buffer_mb / best


def generate(directory: Path, count: int, size: int, bidder_key, opening_key) -> list[tuple[Path, str]]:
    """Seal ``count`` distinct bids of ``size`` payload bytes; returns (path, signature) pairs."""
    out = []
    split = (size * 7 // 10, size * 2 // 10)
    for i in range(count):
        files = [("technical.pdf", os.urandom(split[0])), ("commercial.xlsx", os.urandom(split[1])),
                 ("qualification.zip", os.urandom(size - sum(split)))]
        path = directory / f"bid-{i:03d}.sbe1"
        with path.open("wb") as f:
            result = sbe1.seal_bid({"price": f"{1_000_000 + i}.00", "currency": "CNY", "duration_days": 180},
                                   files, f, tender="TND-1", lot="1", bidder=f"ORG-{i}",
                                   bidder_key=bidder_key.public_key(), opening_key=opening_key.public_key())
        out.append((path, sbe1.sign_digest(bidder_key, result.sha256)))
    return out


def open_all(bids: list[tuple[Path, str]], rounds: int, opening_key, bidder_key, *, signatures: bool) -> int:
    opening_kid = sbe1.key_id(opening_key)
    payload = 0
    for n in range(rounds):
        path, signature = bids[n % len(bids)]
        with path.open("rb") as f:
            if signatures:
                sbe1.verify_envelope(bidder_key.public_key(), f, signature)
                f.seek(0)
            header = sbe1.read_header(f)
            sbe1.check_header(header, tender="TND-1", lot="1", opening_key_id=opening_kid)
            dek = sbe1.unwrap_dek(header, opening_key, "opening")
            manifest = sbe1.read_plaintext(sbe1.decrypt_chunks(f, header, dek))
        payload += manifest.payload_size
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bids", type=int, default=100)
    parser.add_argument("--size-mb", type=int, default=10)
    parser.add_argument("--distinct", type=int, default=100, help="distinct envelopes generated (reused cyclically)")
    args = parser.parse_args()
    bidder_key, opening_key = sbe1.generate_private_key(), sbe1.generate_private_key()
    size = args.size_mb * MB
    distinct = max(1, min(args.distinct, args.bids))

    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cpu(s)")
    sha = sha256_speed()
    print(f"hashlib SHA-256, one core: {sha:,.0f} MB/s")

    tmp = Path(tempfile.mkdtemp(prefix="sbe1-bench-"))
    try:
        start = time.perf_counter()
        bids = generate(tmp, distinct, size, bidder_key, opening_key)
        envelope_bytes = sum(p.stat().st_size for p, _ in bids)
        print(f"generated {distinct} envelopes of {size / MB:.0f} MB payload "
              f"({envelope_bytes / MB:,.0f} MB on disk) in {time.perf_counter() - start:.1f} s (untimed)")
        open_all(bids[:1], 1, opening_key, bidder_key, signatures=False)  # warm-up

        for signatures in (False, True):
            start = time.perf_counter()
            payload = open_all(bids, args.bids, opening_key, bidder_key, signatures=signatures)
            elapsed = time.perf_counter() - start
            speed = payload / MB / elapsed
            what = "+ signature check" if signatures else "decrypt + verify"
            print(f"{what}: {args.bids} bids x {size / MB:.0f} MB = {payload / MB:,.0f} MB in {elapsed:.2f} s -> "
                  f"{speed:,.0f} MB/s, {args.bids / elapsed:.1f} bids/s, ratio to SHA-256 {speed / sha:.2f}"
                  + ("" if signatures else f" (target >= 0.40: {'met' if speed / sha >= 0.4 else 'MISSED'})"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
