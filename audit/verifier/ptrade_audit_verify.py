#!/usr/bin/env python3
"""Stand-alone verifier for ptrade audit log export bundles.

    python ptrade_audit_verify.py BUNDLE.jsonl [--key VKEY | --key-file FILE]
                                  [--checkpoint NOTE_FILE ...] [--workers N]
                                  [--witness VKEY ... [--quorum N] | --trust-policy FILE]

Needs Python 3.9+ and the `cryptography` package; no Django, no database, no network.
It checks, end to end:
  - the checkpoint: a C2SP signed note by the platform's Ed25519 key (pin that key with
    --key, as published by the platform, or the key inside the bundle is used);
  - every event: SHA-256(0x00 || its canonical bytes) is its hash, and they are a JSON event object
    (integers only, the seven keys); byte-for-byte canonical form is re-checked for tender bundles
    and, with --strict-canonical, for whole-log bundles;
  - whole-log bundles: seq 1..N without gaps, every `prev` is the hash of the event before,
    and the RFC 6962 Merkle root of all leaf hashes equals the signed root;
  - tender bundles: every event belongs to the tender and its inclusion proof leads to the
    signed root; links between consecutive events are checked where they are adjacent;
  - each --checkpoint (a checkpoint note the user holds; --old-checkpoint is the old name):
    its signature, and that the bundle's log extends it (root recomputed from the events, or
    a consistency proof); a held checkpoint larger than the bundle fails (truncated log).
  - with witness keys (--witness keys and --quorum, or --trust-policy FILE): that the
    bundle's checkpoint carries valid C2SP tlog-cosignature/v1 lines by at least the quorum
    of those witnesses (docs/witness.md);
Whole-log bundles are checked in chunks by one worker process per core (--workers N); the
verdict is the same as one pass over the events.
Prints what it verified; on any failure prints "FAILED: <reason>" and exits 1 (2 for
unusable input). Format: docs/audit.md. The Merkle code mirrors audit/merkle.py.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
from json.decoder import scanstring
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

    def append_subtree(self, level: int, h: bytes) -> None:
        """Append the root `h` of a complete subtree of 2**level leaves (size must be a multiple of it)."""
        if self.size % (1 << level):
            raise VerifyError(f"internal: a subtree of level {level} cannot start at leaf {self.size}")
        index = self.size >> level
        while index & 1:
            h = node_hash(self._stack.pop(), h)
            index >>= 1
        self._stack.append(h)
        self.size += 1 << level

    def copy(self) -> CompactRange:
        other = CompactRange()
        other.size, other._stack = self.size, list(self._stack)
        return other

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


_EVENT_DECODE = json.JSONDecoder(parse_float=_no_float).raw_decode
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_LINE_DECODER = json.JSONDecoder()
_SHA256 = hashlib.sha256


def _make_canonical_encode() -> Any:
    """str of canonical(value), built once: the C encoder of the json module when it is there (the
    json.JSONEncoder.encode wrapper builds a new one per call)."""
    try:
        from json.encoder import c_make_encoder, encode_basestring
    except ImportError:  # pragma: no cover - no C accelerator
        c_make_encoder = None
    if c_make_encoder is None:  # pragma: no cover
        return _CANONICAL_ENCODER.encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} is not JSON")

    encoder = c_make_encoder(None, refuse, encode_basestring, None, ":", ",", True, False, False)
    join = "".join

    def encode(value: Any) -> str:
        return join(encoder(value, 0))

    return encode


_CANONICAL_ENCODE = _make_canonical_encode()


def check_event_text(seq: Any, text: Any, hash_hex: Any, strict: bool = True) -> tuple[dict, bytes]:
    """(event, leaf hash) of one event line's fields, after checking its hash, its JSON (an event object,
    integers only) and, if `strict`, that it is byte for byte in canonical form."""
    if type(text) is not str or type(seq) is not int:
        raise VerifyError("event line without seq or canonical text")
    leaf = _SHA256(b"\x00" + text.encode("utf-8")).digest()
    if leaf.hex() != hash_hex:
        hexhash(hash_hex, f"hash of event {seq}")
        raise VerifyError(f"event {seq}: SHA-256(0x00 || canonical event) does not equal its hash "
                          "(the event was altered)")
    try:
        event = _EVENT_DECODE(text)[0]
    except ValueError as exc:
        raise VerifyError(f"event {seq}: its canonical text is not JSON: {exc}") from exc
    if type(event) is not dict or event.keys() != EVENT_KEYS:
        raise VerifyError(f"event {seq}: not an audit event object")
    if strict and _CANONICAL_ENCODE(event) != text:
        raise VerifyError(f"event {seq}: its JSON is not in canonical form")
    if event["seq"] != seq:
        raise VerifyError(f"event line {seq} holds event seq {event['seq']}")
    return event, leaf


def split_event_line(raw: str) -> tuple[Any, Any, Any, Any]:
    """(type, seq, canonical text, hash) of a bundle line. Fast path for the canonical layout the platform
    writes ({"canonical":…,"hash":…,"seq":…,"type":"event"}); any other layout is parsed as JSON."""
    if raw.startswith('{"canonical":"'):
        try:
            text, end = scanstring(raw, 14)
        except ValueError:
            text, end = None, 0
        if (text is not None and raw.startswith(',"hash":"', end) and raw.startswith('","seq":', end + 73)
                and raw.endswith(',"type":"event"}')):
            number = raw[end + 81:-16]
            if number.isascii() and number.isdigit() and (number == "0" or number[0] != "0"):
                return "event", int(number), text, raw[end + 9:end + 73]
    line = _LINE_DECODER.decode(raw)
    if not isinstance(line, dict):
        raise ValueError("not a JSON object")
    return line.get("type"), line.get("seq"), line.get("canonical"), line.get("hash")


def check_event(line: dict) -> tuple[int, dict, bytes]:
    """(seq, event, leaf hash) of an event line, after checking hash and canonical form."""
    seq = line.get("seq")
    event, leaf = check_event_text(seq, line.get("canonical"), line.get("hash"))
    return seq, event, leaf


# --- Whole-log bundles in chunks, on every core -------------------------------------------------
# The events part of the file is cut at line starts into chunks of about CHUNK_BYTES. Each chunk is
# checked on its own (leaf hashes, canonical form, seq and prev links inside the chunk) and reduced
# to the roots of the maximal aligned complete subtrees covering its leaves; the main process checks
# the links between chunks and folds those roots into one compact range. Chunks run in a pool of
# worker processes; the result is the same as one pass over the events.

CHUNK_BYTES = 8 << 20


def _subtree_pieces(leaves: list[bytes], first: int, lo: int, hi: int) -> list[tuple[int, bytes]]:
    """(level, root) of the maximal aligned complete subtrees covering leaves first+lo .. first+hi-1."""
    out: list[tuple[int, bytes]] = []
    i = lo
    while i < hi:
        g = first + i
        k = (g & -g).bit_length() - 1 if g else 62
        while (1 << k) > hi - i:
            k -= 1
        level = leaves[i:i + (1 << k)]
        while len(level) > 1:
            level = [_SHA256(b"\x01" + level[j] + level[j + 1]).digest() for j in range(0, len(level), 2)]
        out.append((k, level[0]))
        i += 1 << k
    return out


def check_chunk(task: tuple[str, int, int, tuple[int, ...], bool]) -> dict:
    """Check the event lines in bytes [start, end) of the bundle at `path`; see CHUNK_BYTES."""
    path, start, end, wanted, strict = task
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    return check_chunk_bytes(data, start, wanted, strict)


def check_chunk_bytes(data: bytes, start: int, wanted: tuple[int, ...], strict: bool = True) -> dict:
    result: dict[str, Any] = {"first_seq": None, "first_prev": None, "error": None}
    leaves: list[bytes] = []
    expected, prev_hash = 0, ""
    try:
        try:
            lines = data.decode("utf-8").split("\n")
        except UnicodeDecodeError as exc:
            raise VerifyError(f"bytes {start}..{start + len(data)} are not UTF-8: {exc}") from exc
        if lines[-1]:
            raise VerifyError("the bundle is cut short: no end line")
        lines.pop()
        scan, decode, encode, sha, keys = scanstring, _EVENT_DECODE, _CANONICAL_ENCODE, _SHA256, EVENT_KEYS
        for raw in lines:
            event = None
            # Fast path: a line in the platform's canonical layout whose event checks out. Anything else
            # (or any failure) goes through the general functions below, which name the problem.
            if raw.startswith('{"canonical":"'):
                try:
                    text, end = scan(raw, 14)
                except ValueError:
                    end = 0
                if end and raw.startswith(',"hash":"', end) and raw.startswith('","seq":', end + 73) \
                        and raw.endswith(',"type":"event"}'):
                    number = raw[end + 81:-16]
                    if number.isdigit() and number.isascii() and number[0] != "0":
                        seq, hash_hex = int(number), raw[end + 9:end + 73]
                        leaf = sha(b"\x00" + text.encode("utf-8")).digest()
                        if leaf.hex() == hash_hex:
                            try:
                                event = decode(text)[0]
                            except ValueError:
                                event = None
                            if event is not None and (type(event) is not dict or event.keys() != keys
                                                      or (strict and encode(event) != text)
                                                      or event["seq"] != seq):
                                event = None
            if event is None:
                try:
                    kind, seq, text, hash_hex = split_event_line(raw)
                except ValueError as exc:
                    raise VerifyError(f"a line in bytes {start}..{start + len(data)} is not JSON: {exc}") from exc
                if kind != "event":
                    raise VerifyError("lines after the end line" if kind == "end"
                                      else "the bundle is cut short: no end line")
                event, leaf = check_event_text(seq, text, hash_hex, strict)
            if not leaves:
                result["first_seq"], result["first_prev"] = seq, event["prev"]
            else:
                if seq != expected:
                    raise VerifyError(f"expected event {expected}, found {seq}: events missing or reordered")
                if event["prev"] != prev_hash:
                    raise VerifyError(f"event {seq}: prev is not the hash of event {seq - 1} (chain broken)")
            expected, prev_hash = seq + 1, hash_hex
            leaves.append(leaf)
    except VerifyError as exc:
        result["error"] = str(exc)
        return result
    first = result["first_seq"] - 1
    result.update(last_seq=expected - 1, last_hash=prev_hash, count=len(leaves),
                  pieces=_subtree_pieces(leaves, first, 0, len(leaves)),
                  partial={size: _subtree_pieces(leaves, first, 0, size - first)
                           for size in wanted if first < size < first + len(leaves)})
    return result


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def belongs_to(event: dict, tender: str) -> bool:
    if event.get("object") == f"trading.tender:{tender}":
        return True
    data = event.get("data")
    value = data.get("tender") if isinstance(data, dict) else None
    return isinstance(value, (int, str)) and not isinstance(value, bool) and str(value) == tender


SEALED_ACTION = "sealed.committed"


def check_sealed(sealed: dict[int, dict], reveals: list[dict], tender: str) -> int:
    """Sealed events (docs/audit.md, "Sealed events"): each must be opened by the tender's reveal, and
    each opening must match its commitment: HMAC-SHA256(key = ASCII salt, canonical JSON of the opening)."""
    opened = 0
    for data in reveals:
        salt = data.get("seal_salt")
        if not isinstance(salt, str) or not isinstance(data.get("sealed"), list):
            raise VerifyError("a reveal event without seal_salt or sealed list")
        for item in data["sealed"]:
            seq, opening = item.get("seq"), item.get("opening")
            event = sealed.pop(seq, None)
            if event is None or not isinstance(opening, dict):
                raise VerifyError(f"the reveal opens event {seq}, which is not a sealed event of the bundle")
            if str(opening.get("tender")) != tender:
                raise VerifyError(f"sealed event {seq}: its opening names tender {opening.get('tender')}")
            expected = hmac.new(salt.encode("ascii"), canonical(opening), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(str(event["data"].get("commitment")), expected):
                raise VerifyError(f"sealed event {seq}: the opening does not match its commitment")
            opened += 1
    if sealed:
        raise VerifyError(f"sealed event(s) {sorted(sealed)} are in the bundle but no reveal opens them")
    return opened


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
        self.tree = CompactRange()
        self.trust: dict | None = None  # witness keys + quorum (load_trust_policy)

    def say(self, message: str) -> None:
        self.out.write(message + "\n")

    def run(self, stream: Any, *, path: str | None = None, workers: int = 1,
            chunk_bytes: int = CHUNK_BYTES, strict: bool = True) -> None:
        offset = [0]

        def read_lines() -> Any:
            number = 0
            while True:
                offset[0] = stream.tell()
                raw = stream.readline()
                if not raw:
                    return
                number += 1
                yield self._parse(number, raw)

        lines = read_lines()
        self._header(next(lines, None))
        self._checkpoint(next(lines, None))
        self._old_checkpoints()
        line = next(lines, None)
        while line is not None and line.get("type") == "consistency":
            self._consistency_line(line)
            line = next(lines, None)
        done = False
        if self.header["scope"] == "log" and path is not None and line is not None and line.get("type") == "event":
            end_line = self._log_chunked(stream, path, offset[0], workers, max(1, chunk_bytes), strict)
            if end_line is not None:
                line, lines, done = end_line, iter(()), True
        if not done:
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

    def _log_chunked(self, stream: Any, path: str, start: int, workers: int, chunk_bytes: int,
                     strict: bool) -> dict | None:
        """Check the events from byte `start` to the end line in chunks (on `workers` processes); returns
        the end line, or None when the file does not end with one (the caller then reads line by line
        and reports exactly what is wrong)."""
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        tail_from = max(start, size - 65536)
        stream.seek(tail_from)
        tail = stream.read()
        if not tail.endswith(b"\n"):
            return self._resume_lines(stream, start)
        cut = tail.rfind(b"\n", 0, len(tail) - 1)
        if cut < 0 and tail_from > start:
            return self._resume_lines(stream, start)
        try:
            end_line = json.loads(tail[cut + 1:].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            end_line = None
        if not isinstance(end_line, dict) or end_line.get("type") != "end":
            return self._resume_lines(stream, start)
        region_end = tail_from + cut + 1
        bounds = [start]
        for target in range(start + chunk_bytes, region_end, chunk_bytes):
            stream.seek(target - 1)
            stream.readline()
            at = min(stream.tell(), region_end)
            if at > bounds[-1]:
                bounds.append(at)
        if bounds[-1] != region_end:
            bounds.append(region_end)
        wanted = tuple(sorted(s for s in self.old if s > 0))
        tasks = [(path, a, b, wanted, strict) for a, b in zip(bounds, bounds[1:])]  # noqa: B905 (Python 3.9)
        self._check_old_roots(0, EMPTY_ROOT, "empty tree")
        if workers <= 1 or len(tasks) < 2:
            self._fold_chunks(map(check_chunk, tasks))
        else:
            import multiprocessing

            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            with context.Pool(min(workers, len(tasks))) as pool:
                self._fold_chunks(pool.imap(check_chunk, tasks))
        if self.count != self.size:
            raise VerifyError(f"the bundle holds events 1..{self.count} but the checkpoint "
                              f"covers {self.size}")
        self.say(f"events: 1..{self.count}, every leaf hash and chain link OK")
        if strict:
            self.say("canonical form: every event re-encoded, byte for byte")
        if self.tree.root() != self.root:
            raise VerifyError("the Merkle root recomputed from the events differs from the signed checkpoint")
        self.say(f"merkle root: recomputed from {self.count} events, equals the signed root")
        self._check_unmatched()
        return end_line

    @staticmethod
    def _resume_lines(stream: Any, start: int) -> None:
        """Back to the line-by-line reading: just after the first event line, which the caller holds."""
        stream.seek(start)
        stream.readline()

    def _fold_chunks(self, results: Any) -> None:
        self.tree = tree = CompactRange()
        expected, prev = 1, GENESIS_PREV
        for result in results:
            first = result["first_seq"]
            if first is not None:
                if first != expected:
                    raise VerifyError(f"expected event {expected}, found {first}: events missing or reordered")
                if result["first_prev"] != prev:
                    raise VerifyError(f"event {first}: prev is not the hash of event {first - 1} (chain broken)")
            if result["error"]:
                raise VerifyError(result["error"])
            for size, pieces in sorted(result["partial"].items()):
                if size in self.old:
                    partial = tree.copy()
                    for level, h in pieces:
                        partial.append_subtree(level, h)
                    self._check_old_roots(size, partial.root(), "root recomputed from the events")
            for level, h in result["pieces"]:
                tree.append_subtree(level, h)
            expected, prev = result["last_seq"] + 1, result["last_hash"]
            self.count = result["last_seq"]
            if self.count in self.old:
                self._check_old_roots(self.count, tree.root(), "root recomputed from the events")

    def _tender_events(self, line: dict | None, lines: Any) -> dict | None:
        tender, last_seq, last_hash = self.header["tender"], 0, GENESIS_PREV
        sealed: dict[int, dict] = {}
        reveals: list[dict] = []
        while line is not None and line.get("type") == "event":
            seq, event, leaf = check_event(line)
            if seq <= last_seq:
                raise VerifyError(f"event {seq} after event {last_seq}: events out of order")
            if event.get("action") == SEALED_ACTION:  # checked against the tender's reveal below
                sealed[seq] = event
            elif not belongs_to(event, tender):
                raise VerifyError(f"event {seq} does not belong to tender {tender}")
            elif isinstance(event.get("data"), dict) and "sealed" in event["data"]:
                reveals.append(event["data"])
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
        if sealed or reveals:
            opened = check_sealed(sealed, reveals, tender)
            self.say(f"sealed events: {opened} opened by the deadline reveal, every commitment OK")
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


# --- Trust policy: what the user brings from outside the bundle ---------------------------------
# One place for the options saying whom to trust (the platform key, checkpoints the user holds,
# witness keys and a quorum); mirrors audit/trust.py (docs/witness.md, "Trust policy").

def add_trust_arguments(parser: argparse.ArgumentParser, *, key_required: bool = False) -> None:
    """The trust-policy options every tool of the kit takes (this one and ptrade_receipt_verify.py)."""
    key = parser.add_mutually_exclusive_group(required=key_required)
    key.add_argument("--key", help="the platform's published verifier key <name>+<hash>+<base64>")
    key.add_argument("--key-file", help="a file holding that verifier key")
    parser.add_argument("--checkpoint", "--old-checkpoint", dest="checkpoints", action="append", default=[],
                        metavar="NOTE_FILE",
                        help="a checkpoint note you hold (signed by the platform key); fail if the bundle's "
                             "log is shorter than it or does not extend it (repeatable)")
    parser.add_argument("--witness", action="append", default=[], metavar="VKEY_OR_FILE",
                        help="trust policy: a witness verifier key (or a file holding one), repeatable")
    parser.add_argument("--quorum", type=int, help="trust policy: cosignatures required (default 1)")
    parser.add_argument("--trust-policy", metavar="FILE", help='JSON {"witnesses": [vkey, ...], "quorum": N}')


def trust_policy(args: argparse.Namespace) -> tuple[tuple[str, bytes] | None, list[tuple[str, str]]]:
    """(pinned platform key or None, [(label, held checkpoint note)]); OSError, VerifyError."""
    vkey = args.key
    if args.key_file:
        with open(args.key_file, encoding="utf-8") as f:
            vkey = f.read()
    held = []
    for path in args.checkpoints:
        with open(path, encoding="utf-8") as f:
            held.append((path, f.read().replace("\r\n", "\n")))
    return (parse_verifier_key(vkey) if vkey else None), held


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
    add_trust_arguments(parser)
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="processes checking whole-log bundles in parallel (default: one per core)")
    parser.add_argument("--strict-canonical", action="store_true",
                        help="whole-log bundles: also re-encode every event to check it is byte for byte "
                             "canonical JSON (tender bundles always do); about 30%% slower")
    parser.add_argument("--chunk-bytes", type=int, default=CHUNK_BYTES, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        pinned, held = trust_policy(args)
        with open(args.bundle, "rb") as stream:
            verifier = Verifier(sys.stdout, pinned, held)
            verifier.trust = load_trust_policy(args.witness, args.quorum, args.trust_policy)
            verifier.run(stream, path=args.bundle, workers=args.workers or default_workers(),
                         chunk_bytes=args.chunk_bytes, strict=args.strict_canonical)
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
