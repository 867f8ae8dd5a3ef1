"""Decryption streams: peak Python memory does not grow with the envelope size."""

from __future__ import annotations

import os
import tracemalloc

import sbe1

MB = 1_048_576


def _blocks(total: int):
    block = os.urandom(MB)
    for _ in range(total // MB):
        yield block


def _peak_while_opening(path, key) -> int:
    tracemalloc.start()
    try:
        with open(path, "rb") as f:
            opened = sbe1.open_envelope(f, private_key=key)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert opened.manifest.files[0].size > 0
    return peak


def test_decrypting_100_mb_keeps_memory_flat(tmp_path, keys):
    """A 100 MiB bid (100 chunks) and a 4 MiB bid need about the same memory: a few chunks."""
    peaks = {}
    for size in (4 * MB, 100 * MB):
        data_path = tmp_path / f"big-{size}.bin"
        with data_path.open("wb") as f:
            for block in _blocks(size):
                f.write(block)
        envelope = tmp_path / f"big-{size}.sbe1"
        with envelope.open("wb") as out:
            sbe1.seal_bid({"price": "1.00"}, [data_path], out, tender="T", lot="L", bidder="B",
                          bidder_key=keys.bidder.public_key(), opening_key=keys.opening.public_key())
        data_path.unlink()
        assert envelope.stat().st_size > size
        peaks[size] = _peak_while_opening(envelope, keys.bidder)
        envelope.unlink()
    assert peaks[100 * MB] < 8 * MB, peaks  # a few chunk-sized buffers (about 6 MiB measured)
    assert peaks[100 * MB] < peaks[4 * MB] + MB, peaks
