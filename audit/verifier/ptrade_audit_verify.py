#!/usr/bin/env python3
"""Stand-alone verifier for ptrade audit log export bundles.

    python ptrade_audit_verify.py BUNDLE.jsonl [--key VKEY | --key-file FILE]
                                  [--old-checkpoint NOTE_FILE ...]
                                  [--witness VKEY ... [--quorum N] | --trust-policy FILE]

Needs Python 3.9+ and the `cryptography` package; no Django, no database, no network.
It checks, end to end:
  - the checkpoint: a C2SP signed note by the platform's Ed25519 key (pin that key with
    --key, as published by the platform, or the key inside the bundle is used);
  - every event: its canonical JSON is canonical, and SHA-256(0x00 || bytes) is its hash;
  - whole-log bundles: seq 1..N without gaps, every `prev` is the hash of the event before,
    and the RFC 6962 Merkle root of all leaf hashes equals the signed root;
  - tender bundles: every event belongs to the tender and its inclusion proof leads to the
    signed root; links between consecutive events are checked where they are adjacent;
  - each --old-checkpoint (a checkpoint note kept earlier): its signature, and that the
    bundle's log extends it (root recomputed from the events, or a consistency proof).
  - with a trust policy (--witness keys and --quorum, or --trust-policy FILE): that the
    bundle's checkpoint carries valid C2SP tlog-cosignature/v1 lines by at least the quorum
    of those witnesses (docs/witness.md);
Prints what it verified; on any failure prints "FAILED: <reason>" and exits 1 (2 for
unusable input). Format: docs/audit.md. The Merkle code mirrors audit/merkle.py.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import sys
from typing import Any

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the supervisor's machine
    sys.stderr.write("ptrade_audit_verify needs the 'cryptography' package: pip install cryptography\n")
    sys.exit(2)

FORMAT = "ptrade-audit-bundle"
VERSION = 1
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
GENESIS_PREV = "0" * 64
EVENT_KEYS = {"seq", "ts", "actor", "action", "object", "data", "prev"}
SIGNATURE_PREFIX = "\u2014 "


class VerifyError(Exception):
    pass


# --- RFC 6962 (copy of audit/merkle.py) -----------------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    if not 0 <= index < size:
        raise VerifyError(f"leaf index {index} outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerifyError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerifyError("inclusion proof is too short")
    return r


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: list[bytes]) -> None:
    if not 0 <= first <= second:
        raise VerifyError(f"sizes out of order: {first} > {second}")
    if first == 0 or first == second:
        if proof:
            raise VerifyError("consistency proof must be empty for these sizes")
        if first == second and first_root != second_root:
            raise VerifyError(f"two different roots for the same size {first}")
        if first == 0 and first_root != EMPTY_ROOT:
            raise VerifyError("root of size 0 is not the empty-tree hash")
        return
    if not proof:
        raise VerifyError("consistency proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerifyError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise VerifyError("consistency proof is too short")
    if fr != first_root:
        raise VerifyError(f"consistency proof does not lead to the root of size {first}")
    if sr != second_root:
        raise VerifyError(f"consistency proof does not lead to the root of size {second}")


class CompactRange:
    """Roots of the complete subtrees covering the leaves so far; O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        index, h = self.size, leaf
        while index & 1:
            h = node_hash(self._stack.pop(), h)
            index >>= 1
        self._stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h


# --- C2SP signed note and tlog-checkpoint -----------------------------------------------------

def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + b"\x01" + public_key).digest()[:4]


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    try:
        name, hash_hex, encoded = vkey.strip().split("+", 2)  # base64 may hold "+" too
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise VerifyError(f"malformed verifier key: {exc}") from exc
    if len(hash_hex) != 8 or any(c not in "0123456789abcdef" for c in hash_hex):
        raise VerifyError("malformed verifier key: the key hash is not 8 lowercase hex digits")
    khash = bytes.fromhex(hash_hex)
    if not name or any(c.isspace() for c in name) or len(raw) != 33 or raw[0] != 1:
        raise VerifyError("malformed verifier key: not an Ed25519 key with a valid name")
    if key_hash(name, raw[1:]) != khash:
        raise VerifyError("malformed verifier key: key hash does not match name and key")
    return name, raw[1:]


def open_note(note: str, name: str, public_key: bytes) -> str:
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not text or not signatures.endswith("\n"):
        raise VerifyError("malformed signed note: no blank line before the signatures")
    text += "\n"
    wanted = key_hash(name, public_key)
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerifyError(f"malformed signature line {line!r}")
        sig_name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise VerifyError(f"malformed signature line {line!r}") from exc
        if sig_name != name or blob[:4] != wanted:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(blob[4:], text.encode("utf-8"))
        except InvalidSignature as exc:
            raise VerifyError(f"the signature by {name} does not verify") from exc
        return text
    raise VerifyError(f"no signature by key {name}+{wanted.hex()}")


def open_checkpoint(note: str, name: str, public_key: bytes) -> tuple[str, int, bytes]:
    lines = open_note(note, name, public_key).split("\n")
    if len(lines) < 4 or not lines[0] or not lines[1].isdigit() or (lines[1] != "0" and lines[1][0] == "0"):
        raise VerifyError("malformed checkpoint body")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error as exc:
        raise VerifyError("malformed checkpoint root") from exc
    if len(root) != HASH_SIZE:
        raise VerifyError("checkpoint root is not a 32-byte hash")
    return lines[0], int(lines[1]), root


# --- Bundle ------------------------------------------------------------------------------

def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _no_float(text: str) -> Any:
    raise VerifyError(f"a float ({text}) in an event: canonical JSON has integers only")


def hexhash(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError) as exc:
        raise VerifyError(f"{what} is not hex") from exc
    if len(raw) != HASH_SIZE or value != raw.hex():
        raise VerifyError(f"{what} is not a lowercase hex 32-byte hash")
    return raw


def check_event(line: dict) -> tuple[int, dict, bytes]:
    """(seq, event, leaf hash) of an event line, after checking hash and canonical form."""
    text = line.get("canonical")
    seq = line.get("seq")
    if not isinstance(text, str) or not isinstance(seq, int):
        raise VerifyError("event line without seq or canonical text")
    data = text.encode("utf-8")
    leaf = leaf_hash(data)
    if leaf != hexhash(line.get("hash"), f"hash of event {seq}"):
        raise VerifyError(f"event {seq}: SHA-256(0x00 || canonical event) does not equal its hash "
                          "(the event was altered)")
    event = json.loads(text, parse_float=_no_float)
    if not isinstance(event, dict) or set(event) != EVENT_KEYS:
        raise VerifyError(f"event {seq}: not an audit event object")
    if canonical(event) != data:
        raise VerifyError(f"event {seq}: its JSON is not in canonical form")
    if event["seq"] != seq:
        raise VerifyError(f"event line {seq} holds event seq {event['seq']}")
    return seq, event, leaf


def belongs_to(event: dict, tender: str) -> bool:
    if event.get("object") == f"trading.tender:{tender}":
        return True
    data = event.get("data")
    value = data.get("tender") if isinstance(data, dict) else None
    return isinstance(value, (int, str)) and not isinstance(value, bool) and str(value) == tender


class Verifier:
    def __init__(self, out: Any, pinned_key: tuple[str, bytes] | None,
                 old_notes: list[tuple[str, str]]) -> None:
        self.out = out
        self.pinned = pinned_key
        self.old_notes = old_notes
        self.header: dict = {}
        self.key: tuple[str, bytes] = ("", b"")
        self.size = 0
        self.root = b""
        self.old: dict[int, list[tuple[bytes, str]]] = {}
        self.consistency: dict[int, tuple[bytes, list[bytes]]] = {}
        self.count = 0

    def say(self, message: str) -> None:
        self.out.write(message + "\n")

    def run(self, stream: Any) -> None:
        lines = (self._parse(number, raw) for number, raw in enumerate(stream, 1))
        self._header(next(lines, None))
        self._checkpoint(next(lines, None))
        self._old_checkpoints()
        line = next(lines, None)
        while line is not None and line.get("type") == "consistency":
            self._consistency_line(line)
            line = next(lines, None)
        read_events = self._log_events if self.header["scope"] == "log" else self._tender_events
        line = read_events(line, lines)
        if line is None or line.get("type") != "end":
            raise VerifyError("the bundle is cut short: no end line")
        if line.get("events") != self.count or self.count != self.header.get("events"):
            raise VerifyError(f"the bundle holds {self.count} events but announces "
                              f"{self.header.get('events')}")
        extra = next(lines, None)
        if extra is not None:
            raise VerifyError("lines after the end line")
        self.say("VERIFIED")

    @staticmethod
    def _parse(number: int, raw: bytes) -> dict:
        try:
            line = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VerifyError(f"line {number} is not JSON: {exc}") from exc
        if not isinstance(line, dict):
            raise VerifyError(f"line {number} is not a JSON object")
        return line

    def _header(self, line: dict | None) -> None:
        if not line or line.get("type") != "header" or line.get("format") != FORMAT:
            raise VerifyError(f"not a {FORMAT} file")
        if line.get("version") != VERSION:
            raise VerifyError(f"bundle version {line.get('version')} is not supported "
                              f"(this verifier reads {VERSION})")
        if line.get("scope") not in ("log", "tender") or (line["scope"] == "tender") != isinstance(
                line.get("tender"), str):
            raise VerifyError("bundle scope must be 'log' or 'tender' with a tender id")
        self.header = line
        bundled = parse_verifier_key(str(line.get("verifier_key", "")))
        if self.pinned is None:
            self.key = bundled
            self.say(f"key: {line['verifier_key']} (taken from the bundle itself: pin the platform's "
                     "published key with --key to rule out a forged bundle)")
        else:
            if bundled != self.pinned:
                raise VerifyError("the bundle names another key than the pinned --key")
            self.key = self.pinned
            self.say(f"key: pinned {self.key[0]}+{key_hash(*self.key).hex()}")
        scope = "whole log" if line["scope"] == "log" else f"tender {line['tender']}"
        self.say(f"bundle: {scope} of {line.get('origin')}, {line.get('events')} events, "
                 f"created {line.get('created_at')}")

    def _checkpoint(self, line: dict | None) -> None:
        if not line or line.get("type") != "checkpoint" or not isinstance(line.get("note"), str):
            raise VerifyError("no checkpoint line after the header")
        origin, self.size, self.root = open_checkpoint(line["note"], *self.key)
        if origin != self.header.get("origin") or self.size != self.header.get("tree_size"):
            raise VerifyError("the checkpoint's origin or size differ from the header")
        self.say(f"checkpoint: {origin} tree size {self.size}, root {self.root.hex()}, signature OK")
        check_trust_policy(self, line["note"])

    def _old_checkpoints(self) -> None:
        for label, note in self.old_notes:
            origin, size, root = open_checkpoint(note, *self.key)
            if origin != self.header["origin"]:
                raise VerifyError(f"old checkpoint {label} is for log {origin!r}")
            if size > self.size:
                raise VerifyError(f"old checkpoint {label} has tree size {size}, larger than this bundle's "
                                  f"{self.size}: the log was truncated or the bundle is older")
            self.old.setdefault(size, []).append((root, label))
            self.say(f"old checkpoint {label}: tree size {size}, signature OK")

    def _consistency_line(self, line: dict) -> None:
        first, second = line.get("first"), line.get("second")
        if not isinstance(first, int) or second != self.size or not isinstance(line.get("hashes"), list):
            raise VerifyError("malformed consistency line")
        hashes = [hexhash(h, "consistency proof hash") for h in line["hashes"]]
        first_root = hexhash(line.get("first_root"), "consistency first_root")
        verify_consistency(first, self.size, first_root, self.root, hashes)
        self.consistency[first] = (first_root, hashes)
        self.say(f"consistency proof: tree size {first} -> {self.size} OK")

    def _check_old_roots(self, size: int, root: bytes, how: str) -> None:
        for old_root, label in self.old.pop(size, []):
            if old_root != root:
                raise VerifyError(f"the log is NOT an extension of old checkpoint {label}: the root at tree "
                                  f"size {size} differs ({how}); the log was rewritten")
            self.say(f"old checkpoint {label}: the log extends it ({how})")

    def _log_events(self, line: dict | None, lines: Any) -> dict | None:
        tree, prev = CompactRange(), GENESIS_PREV
        self._check_old_roots(0, EMPTY_ROOT, "empty tree")
        while line is not None and line.get("type") == "event":
            seq, event, leaf = check_event(line)
            if seq != self.count + 1:
                raise VerifyError(f"expected event {self.count + 1}, found {seq}: "
                                  "events missing or reordered")
            if event["prev"] != prev:
                raise VerifyError(f"event {seq}: prev is not the hash of event {seq - 1} (chain broken)")
            tree.append(leaf)
            prev, self.count = line["hash"], seq
            if seq in self.old:
                self._check_old_roots(seq, tree.root(), "root recomputed from the events")
            line = next(lines, None)
        if self.count != self.size:
            raise VerifyError(f"the bundle holds events 1..{self.count} but the checkpoint "
                              f"covers {self.size}")
        self.say(f"events: 1..{self.count}, every leaf hash and chain link OK")
        if tree.root() != self.root:
            raise VerifyError("the Merkle root recomputed from the events differs from the signed checkpoint")
        self.say(f"merkle root: recomputed from {self.count} events, equals the signed root")
        self._check_unmatched()
        return line

    def _tender_events(self, line: dict | None, lines: Any) -> dict | None:
        tender, last_seq, last_hash = self.header["tender"], 0, GENESIS_PREV
        while line is not None and line.get("type") == "event":
            seq, event, leaf = check_event(line)
            if seq <= last_seq:
                raise VerifyError(f"event {seq} after event {last_seq}: events out of order")
            if not belongs_to(event, tender):
                raise VerifyError(f"event {seq} does not belong to tender {tender}")
            if seq == last_seq + 1 and event["prev"] != last_hash:
                raise VerifyError(f"event {seq}: prev is not the hash of event {last_seq} (chain broken)")
            proof = line.get("inclusion")
            if not isinstance(proof, list):
                raise VerifyError(f"event {seq} has no inclusion proof")
            hashes = [hexhash(h, f"inclusion proof hash of event {seq}") for h in proof]
            if root_from_inclusion_proof(seq - 1, self.size, leaf, hashes) != self.root:
                raise VerifyError(f"event {seq}: the inclusion proof does not lead to the signed root")
            last_seq, last_hash = seq, line["hash"]
            self.count += 1
            line = next(lines, None)
        self.say(f"events: {self.count} events of tender {tender}, every leaf hash and inclusion proof "
                 f"against tree size {self.size} OK")
        for size in list(self.old):
            if size == 0:
                self._check_old_roots(size, EMPTY_ROOT, "empty tree")
            elif size == self.size:
                self._check_old_roots(size, self.root, "same tree size")
            elif size in self.consistency:
                first_root, _ = self.consistency[size]
                self._check_old_roots(size, first_root, "consistency proof")
        self._check_unmatched()
        return line

    def _check_unmatched(self) -> None:
        if self.old:
            sizes = ", ".join(str(s) for s in sorted(self.old))
            raise VerifyError(f"no proof in the bundle for old checkpoint size(s) {sizes}: export with "
                              "--consistency-from SIZE")


# --- Trust policy: witness keys + quorum (copy of audit/trust_policy.py, docs/witness.md) --------------

COSIGNATURE_V1 = 0x04


def parse_witness_key(value: str) -> tuple[str, bytes]:
    """(name, key) of a witness verifier key "<name>+<hex key ID>+<base64(0x04 || key)>", or of a
    file holding one."""
    text = value
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            text = f.read()
    try:
        name, id_hex, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise VerifyError(f"malformed witness key: {exc}") from exc
    if len(raw) != 33 or raw[0] != COSIGNATURE_V1 or cosigner_key_id(name, raw[1:]).hex() != id_hex:
        raise VerifyError(f"malformed witness key {name}: not a cosignature/v1 (0x04) key with a matching key ID")
    return name, raw[1:]


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([COSIGNATURE_V1]) + public_key).digest()[:4]


def cosigned_by(note: str, name: str, public_key: bytes) -> bool:
    """True if `note` carries a valid C2SP tlog-cosignature/v1 line by (name, key): base64 of
    key ID || u64 big-endian time || Ed25519 over "cosignature/v1\ntime <t>\n" + note body."""
    text, _, block = note.rpartition("\n\n")
    body = (text + "\n").encode("utf-8")
    for line in block.rstrip("\n").split("\n"):
        sig_name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        if sig_name != name or len(blob) != 76 or blob[:4] != cosigner_key_id(name, public_key):
            continue
        timestamp = int.from_bytes(blob[4:12], "big")
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(
                blob[12:], b"cosignature/v1\ntime %d\n" % timestamp + body)
        except InvalidSignature:
            continue
        return True
    return False


def load_trust_policy(witnesses: list[str], quorum: int | None, policy_file: str | None) -> dict | None:
    keys = list(witnesses)
    if policy_file:
        try:
            with open(policy_file, encoding="utf-8") as f:
                data = json.load(f)
            keys += [str(k) for k in data["witnesses"]]
            quorum = quorum if quorum is not None else data.get("quorum")
        except (ValueError, KeyError, TypeError) as exc:
            raise VerifyError(f"unusable trust policy {policy_file}: {exc}") from exc
    if not keys:
        if quorum is not None:
            raise VerifyError("--quorum needs --witness keys or --trust-policy")
        return None
    parsed = list(dict.fromkeys(parse_witness_key(k) for k in keys))
    quorum = 1 if quorum is None else quorum
    if not isinstance(quorum, int) or not 1 <= quorum <= len(parsed):
        raise VerifyError(f"the quorum must be between 1 and the number of witnesses ({len(parsed)})")
    return {"witnesses": parsed, "quorum": quorum}


def check_trust_policy(verifier: Verifier, note: str) -> None:
    policy = getattr(verifier, "trust", None)
    if policy is None:
        return
    valid = [name for name, key in policy["witnesses"] if cosigned_by(note, name, key)]
    if len(valid) < policy["quorum"]:
        raise VerifyError(f"the checkpoint is NOT WITNESSED as the trust policy requires: {len(valid)} valid "
                          f"cosignature(s) ({', '.join(valid) or 'none'}), {policy['quorum']} required")
    verifier.say(f"witnesses: {len(valid)} valid cosignature(s) ({', '.join(valid)}), quorum "
                 f"{policy['quorum']} met")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a ptrade audit export bundle offline.")
    parser.add_argument("bundle", help="the .jsonl bundle exported by the platform")
    key = parser.add_mutually_exclusive_group()
    key.add_argument("--key", help="the platform's published verifier key <name>+<hash>+<base64>")
    key.add_argument("--key-file", help="a file holding that verifier key")
    parser.add_argument("--old-checkpoint", action="append", default=[], metavar="NOTE_FILE",
                        help="a checkpoint note kept earlier; the bundle's log must extend it (repeatable)")
    parser.add_argument("--witness", action="append", default=[], metavar="VKEY_OR_FILE",
                        help="trust policy: a witness verifier key (or a file holding one), repeatable")
    parser.add_argument("--quorum", type=int, help="trust policy: cosignatures required (default 1)")
    parser.add_argument("--trust-policy", metavar="FILE", help='JSON {"witnesses": [vkey, ...], "quorum": N}')
    args = parser.parse_args(argv)
    try:
        vkey = args.key
        if args.key_file:
            with open(args.key_file, encoding="utf-8") as f:
                vkey = f.read()
        old = []
        for path in args.old_checkpoint:
            with open(path, encoding="utf-8") as f:
                old.append((path, f.read()))
        pinned = parse_verifier_key(vkey) if vkey else None
        trust = load_trust_policy(args.witness, args.quorum, args.trust_policy)
        with open(args.bundle, "rb") as stream:
            verifier = Verifier(sys.stdout, pinned, old)
            verifier.trust = trust
            verifier.run(stream)
    except OSError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        return 2
    except VerifyError as exc:
        sys.stdout.flush()
        sys.stderr.write(f"FAILED: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
