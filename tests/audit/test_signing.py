"""The platform key, signed receipts, C2SP signed notes and checkpoint text."""

import base64
import os
import stat
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import signing
from audit.checkpoints import checkpoint_body, checkpoint_parse
from audit.signing import NoteError

# The reference key and note of golang.org/x/mod/sumdb/note (note_test.go).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n— PeterNeumann "
           "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


@pytest.fixture
def key_file(settings, tmp_path):
    path = tmp_path / "keys" / "platform.pem"
    settings.PLATFORM_SIGNING_KEY_FILE = str(path)
    return path


def _go_key():
    name, public = signing.parse_verifier_key(GO_VKEY)
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(GO_SKEY_SEED)[1:])
    return name, public, private


def test_signed_note_matches_the_go_reference_byte_for_byte():
    name, public, private = _go_key()
    assert name == "PeterNeumann"
    assert signing.verifier_key(name, public) == GO_VKEY
    assert signing.note_sign(GO_TEXT, name=name, sign=private.sign, public_key=public) == GO_NOTE
    assert signing.note_open(GO_NOTE, name=name, public_key=public) == GO_TEXT


@pytest.mark.parametrize("note", [
    GO_NOTE.replace("problem,", "problem;"),             # text changed
    GO_NOTE.replace("x08go", "x08gp"),                   # signature changed
    GO_NOTE.replace("\n\n", "\n"),                       # no blank line
    GO_TEXT + "\n",                                      # no signature
    GO_NOTE.replace("— PeterNeumann", "— PaulNeumann"),  # another signer only
    GO_NOTE.replace("— ", "- "),                         # not an em dash
])
def test_altered_notes_are_refused(note):
    name, public, _ = _go_key()
    with pytest.raises(NoteError):
        signing.note_open(note, name=name, public_key=public)


def test_other_signers_are_ignored_but_ours_must_be_there():
    name, public, _ = _go_key()
    other = Ed25519PrivateKey.generate()
    other_public = other.public_key().public_bytes_raw()
    witness = signing.note_sign(GO_TEXT, name="witness", sign=other.sign, public_key=other_public)
    cosigned = GO_NOTE + witness.split("\n\n")[1]
    assert signing.note_open(cosigned, name=name, public_key=public) == GO_TEXT
    with pytest.raises(NoteError, match="no signature"):
        signing.note_open(witness, name=name, public_key=public)


@pytest.mark.parametrize("vkey", [
    GO_VKEY.replace("c74f20a3", "C74F20A3"),
    GO_VKEY.replace("c74f20a3", "c74f20a4"),
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3",
    "PeterNeumann+c74f20a3+!!!!",
    GO_VKEY + "BADKEY==",
])
def test_malformed_verifier_keys_are_refused(vkey):
    with pytest.raises(NoteError):
        signing.parse_verifier_key(vkey)


def test_platform_key_is_created_private_and_reused(key_file):
    assert not key_file.exists()
    public = signing.platform_public_key()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert b"PRIVATE KEY" in key_file.read_bytes()
    assert signing.platform_public_key() == public
    assert base64.b64decode(signing.platform_public_key_b64()) == public
    assert len(signing.platform_sign(b"data")) == 64
    name, parsed = signing.parse_verifier_key(signing.platform_verifier_key())
    assert parsed == public and name == signing.note_key_name()


def test_receipts_verify_and_tampering_is_detected(key_file):
    signed = signing.sign_receipt({"tender": "17", "lot": "1", "size": 123, "price": Decimal("10.50")})
    assert signed["receipt"]["price"] == "10.50"
    assert signed["key_id"] == signing.platform_key_id()
    assert len(signed["key_id"]) == 64
    assert signing.verify_receipt(signed)
    assert not signing.verify_receipt({**signed, "receipt": {**signed["receipt"], "size": 124}})
    assert not signing.verify_receipt({**signed, "key_id": "0" * 64})
    assert not signing.verify_receipt({**signed, "signature": "not base64!"})
    assert not signing.verify_receipt({"receipt": signed["receipt"]})
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert not signing.verify_receipt(signed, public_key=other)


def test_checkpoint_text_round_trip_and_refusals():
    root = bytes(range(32))
    body = checkpoint_body("example.org/log", 42, root)
    assert body == f"example.org/log\n42\n{base64.b64encode(root).decode()}\n"
    assert checkpoint_parse(body) == ("example.org/log", 42, root)
    assert checkpoint_parse(body + "extension line\n") == ("example.org/log", 42, root)
    for bad in (body.replace("\n42\n", "\n042\n"), body.replace("\n42\n", "\n-4\n"), body[:-1],
                body.replace(base64.b64encode(root).decode(), base64.b64encode(root[:31]).decode()),
                "example.org/log\n42\n"):
        with pytest.raises(NoteError):
            checkpoint_parse(bad)
