#!/usr/bin/env python3
"""Stand-alone check of a ptrade signed receipt with its proof (docs/audit.md, "Receipts").

    python ptrade_receipt_verify.py PROOF.json --key VKEY | --key-file FILE
                                    [--checkpoint NOTE_FILE ...]
                                    [--witness VKEY ... [--quorum N] | --trust-policy FILE]

PROOF.json is what `GET /api/v1/audit/receipts/<receipt_id>` answers to the receipt's holder:
{"receipt": {"receipt": {...}, "signature": ..., "key_id": ...}, "event": "<canonical JSON>",
 "leaf_index": i, "tree_size": n, "inclusion": [hex, ...], "checkpoint": "<signed note>"}.
Offline, with only the platform's published verifier key, it checks:
  1. the receipt's Ed25519 signature over the canonical JSON of its fields, and that its key_id
     is the SHA-256 of the pinned key's SubjectPublicKeyInfo DER;
  2. the event: canonical JSON of an audit event, SHA-256(0x00 || bytes) equals the receipt's
     audit_leaf_hash, and its seq equals the receipt's audit_seq;
  3. the RFC 6962 inclusion proof of that leaf (index audit_seq - 1) in a tree of tree_size;
  4. the checkpoint: a C2SP signed note by the pinned key (other signature lines, e.g. witness
     cosignatures, are ignored), of the receipt's origin, of tree_size, whose root the proof
     reaches;
  5. each --checkpoint kept earlier (signed by the pinned key, same origin) of the same tree size
     must have the same root (a larger or smaller one is reported but needs a consistency proof);
  6. with witness keys (--witness ... [--quorum N], or --trust-policy FILE, as for
     ptrade_audit_verify.py): the checkpoint carries valid C2SP tlog-cosignature/v1 lines by at
     least the quorum of those witnesses (docs/witness.md).
Exit 0 = VERIFIED, 1 = FAILED: <reason>, 2 = unreadable input. Needs the sibling file
ptrade_audit_verify.py (same directory) and the `cryptography` package; no network.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: E402
from ptrade_audit_verify import (  # noqa: E402
    EVENT_KEYS,
    InvalidSignature,
    VerifyError,
    add_trust_arguments,
    canonical,
    cosigned_by,
    hexhash,
    key_hash,
    leaf_hash,
    load_trust_policy,
    open_checkpoint,
    root_from_inclusion_proof,
    trust_policy,
)

SPKI_ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo DER header
RECEIPT_FIELDS = ("receipt_id", "audit_origin", "audit_seq", "audit_leaf_hash")


def _no_float(text: str) -> Any:
    raise VerifyError(f"a float ({text}): canonical JSON has integers only")


def check_receipt_signature(signed: Any, public_key: bytes) -> dict:
    if not isinstance(signed, dict) or not isinstance(signed.get("receipt"), dict):
        raise VerifyError("no signed receipt {receipt, signature, key_id}")
    wanted = hashlib.sha256(SPKI_ED25519_PREFIX + public_key).hexdigest()
    if signed.get("key_id") != wanted:
        raise VerifyError("the receipt names another key than the pinned platform key")
    try:
        signature = base64.b64decode(signed.get("signature", ""), validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, canonical(signed["receipt"]))
    except (binascii.Error, TypeError, ValueError, InvalidSignature) as exc:
        raise VerifyError("the receipt's signature does not verify with the platform key") from exc
    receipt = signed["receipt"]
    for field in RECEIPT_FIELDS:
        if field not in receipt:
            raise VerifyError(f"the receipt has no {field}: it was issued before receipts carried proofs")
    if not isinstance(receipt["audit_seq"], int) or isinstance(receipt["audit_seq"], bool) or receipt["audit_seq"] < 1:
        raise VerifyError("the receipt's audit_seq is not a positive integer")
    return receipt


def check_event(text: Any, receipt: dict) -> bytes:
    if not isinstance(text, str):
        raise VerifyError("no event text")
    data = text.encode("utf-8")
    leaf = leaf_hash(data)
    if leaf != hexhash(receipt["audit_leaf_hash"], "the receipt's audit_leaf_hash"):
        raise VerifyError("SHA-256(0x00 || event) is not the receipt's audit_leaf_hash: "
                          "this is not the receipted event")
    try:
        event = json.loads(text, parse_float=_no_float)
    except json.JSONDecodeError as exc:
        raise VerifyError(f"the event is not JSON: {exc}") from exc
    if not isinstance(event, dict) or set(event) != EVENT_KEYS or canonical(event) != data:
        raise VerifyError("the event is not an audit event in canonical JSON")
    if event["seq"] != receipt["audit_seq"]:
        raise VerifyError(f"the event has seq {event['seq']}, the receipt says {receipt['audit_seq']}")
    return leaf


def verify(proof: Any, key: tuple[str, bytes], held: list[tuple[str, str]], out: Any,
           trust: dict | None = None) -> None:
    name, public_key = key
    if not isinstance(proof, dict):
        raise VerifyError("the proof file is not a JSON object")
    receipt = check_receipt_signature(proof.get("receipt"), public_key)
    out.write(f"receipt {receipt['receipt_id']}: signature by {name}+{key_hash(name, public_key).hex()} OK\n")
    leaf = check_event(proof.get("event"), receipt)
    event = json.loads(proof["event"])
    out.write(f"event {event['seq']} ({event['action']} {event['object']}): leaf hash {leaf.hex()} OK\n")
    note = proof.get("checkpoint")
    if not isinstance(note, str):
        raise VerifyError("no checkpoint note")
    origin, size, root = open_checkpoint(note, name, public_key)
    if origin != receipt["audit_origin"]:
        raise VerifyError(f"the checkpoint is of log {origin!r}, the receipt of {receipt['audit_origin']!r}")
    if size != proof.get("tree_size"):
        raise VerifyError("the checkpoint's tree size differs from the proof's tree_size")
    out.write(f"checkpoint: {origin} tree size {size}, signature OK\n")
    if trust is not None:
        valid = [w_name for w_name, w_key in trust["witnesses"] if cosigned_by(note, w_name, w_key)]
        if len(valid) < trust["quorum"]:
            raise VerifyError(f"the checkpoint is NOT WITNESSED as the trust policy requires: {len(valid)} valid "
                              f"cosignature(s) ({', '.join(valid) or 'none'}), {trust['quorum']} required")
        out.write(f"witnesses: {len(valid)} valid cosignature(s) ({', '.join(valid)}), quorum {trust['quorum']} met\n")
    hashes = proof.get("inclusion")
    if not isinstance(hashes, list):
        raise VerifyError("no inclusion proof")
    path = [hexhash(h, "inclusion proof hash") for h in hashes]
    if root_from_inclusion_proof(receipt["audit_seq"] - 1, size, leaf, path) != root:
        raise VerifyError("the inclusion proof does not lead to the signed root: the event is not in the signed log")
    out.write(f"inclusion: event {receipt['audit_seq']} is in the signed tree of size {size}\n")
    for label, text in held:
        h_origin, h_size, h_root = open_checkpoint(text, name, public_key)
        if h_origin != origin:
            raise VerifyError(f"held checkpoint {label} is of log {h_origin!r}")
        if h_size == size and h_root != root:
            raise VerifyError(f"held checkpoint {label} has another root at tree size {size}: the log was forked")
        how = "same root" if h_size == size else "other size: check consistency with ptrade_audit_verify.py"
        out.write(f"held checkpoint {label}: tree size {h_size}, signature OK ({how})\n")
    out.write("VERIFIED\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a ptrade receipt and its inclusion proof offline.")
    parser.add_argument("proof", help="the JSON answered by GET /api/v1/audit/receipts/<receipt_id>")
    add_trust_arguments(parser, key_required=True)
    args = parser.parse_args(argv)
    try:
        pinned, held = trust_policy(args)
        with open(args.proof, encoding="utf-8") as f:
            try:
                proof = json.load(f)
            except json.JSONDecodeError as exc:
                sys.stderr.write(f"ERROR: {args.proof} is not JSON: {exc}\n")
                return 2
        trust = load_trust_policy(args.witness, args.quorum, args.trust_policy)
        verify(proof, pinned, held, sys.stdout, trust)
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
