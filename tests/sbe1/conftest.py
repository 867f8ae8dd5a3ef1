"""Fixtures for the SBE1 tests: keys, a small-chunk sealer, and the Node.js driver."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import sbe1
from sbe1.header import Header

JS_DIR = Path(__file__).parent / "js"
FAST_ITERATIONS = 100_000  # the minimum the key file format accepts; keeps tests fast


@dataclass
class Keys:
    bidder: ec.EllipticCurvePrivateKey
    opening: ec.EllipticCurvePrivateKey
    other: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(sbe1.generate_private_key(), sbe1.generate_private_key(), sbe1.generate_private_key())


@dataclass
class Sealed:
    data: bytes
    header: Header
    dek: bytes
    result: sbe1.SealResult

    def chunk_offsets(self) -> list[tuple[int, int]]:
        """(start, end) of every encrypted chunk in ``data``."""
        block = self.header.chunk_size + 16
        out, pos = [], self.header.size
        while pos < len(self.data):
            out.append((pos, min(pos + block, len(self.data))))
            pos += block
        return out


@pytest.fixture
def seal_bytes(keys: Keys) -> Callable[..., Sealed]:
    def make(plaintext: bytes | Any, chunk_size: int = 64, **ids: str) -> Sealed:
        out = io.BytesIO()
        result = sbe1.seal(plaintext, out, tender=ids.get("tender", "T-1"), lot=ids.get("lot", "L-1"),
                           bidder=ids.get("bidder", "ORG-9"), bidder_key=keys.bidder.public_key(),
                           opening_key=keys.opening.public_key(), chunk_size=chunk_size)
        data = out.getvalue()
        return Sealed(data, result.header, sbe1.unwrap_dek(result.header, keys.bidder), result)

    return make


class NodeDriver:
    def __init__(self, node: str) -> None:
        self.node = node

    def run(self, ops: list[dict[str, Any]], script: str = "driver.mjs") -> list[dict[str, Any]]:
        proc = subprocess.run([self.node, str(JS_DIR / script)], input=json.dumps(ops), capture_output=True,  # noqa: S603
                              text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"node failed ({proc.returncode}):\n{proc.stderr}")
        return json.loads(proc.stdout)

    def one(self, op: dict[str, Any]) -> dict[str, Any]:
        return self.run([op])[0]


@pytest.fixture(scope="session")
def node() -> NodeDriver:
    path = shutil.which("node")
    if path is None:
        print("SKIP: node (Node.js >= 20) is not installed; the JS cross-compatibility tests need it")
        pytest.skip("node (Node.js >= 20) is not installed")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.skip(f"node {version.strip()} is older than 20 (no globalThis.crypto)")
    return NodeDriver(path)


def write_key_file(path: Path, key: ec.EllipticCurvePrivateKey, password: str, label: str = "") -> Path:
    path.write_bytes(sbe1.write_key_file(key, password, label=label, iterations=FAST_ITERATIONS))
    return path
