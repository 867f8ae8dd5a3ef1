"""Sealing and streaming decryption of SBE1 envelopes (SPECS.md §1).

    "SBE1\\n" || header line (canonical JSON + "\\n") || chunk 0 || chunk 1 || ...
    chunk i = AES-256-GCM(dek, nonce = nonce_prefix(7) || uint32_be(i) || final(1),
                          plaintext slice i, AAD = SHA-256(header line incl. "\\n")) || tag

Readers keep at most two encrypted chunks in memory, whatever the envelope size. The
final chunk is the one followed by end of file; it must carry the final flag, and no
chunk may follow it.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .encoding import b64d
from .errors import DecryptionError, FormatError
from .header import (
    DEFAULT_CHUNK_SIZE,
    MAGIC,
    MAX_CHUNK_SIZE,
    RECIPIENT_KINDS,
    TAG_SIZE,
    Header,
    Recipient,
    build_header,
    read_header,
)
from .keys import PublicKeyLike, key_id, load_public_key
from .plaintext import FileEntry, FileInput, Manifest, Sink, build_plaintext, read_plaintext
from .wrap import unwrap_key, wrap_key

DEK_SIZE = 32
MAX_CHUNKS = 2**32
PlaintextSource = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


@dataclass(frozen=True)
class SealResult:
    header: Header
    sha256: bytes  # SHA-256 of the whole envelope: what the detached signature covers
    size: int  # envelope bytes written


def chunk_nonce(prefix: bytes, index: int, final: bool) -> bytes:
    if not 0 <= index < MAX_CHUNKS:
        raise FormatError("too many chunks (the index is a uint32)", "too_many_chunks")
    return prefix + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


def _pieces(source: PlaintextSource, read_size: int) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield bytes(source)
    elif hasattr(source, "read"):
        while block := source.read(read_size):
            yield block
    else:
        yield from source


def _rechunk(pieces: Iterable[bytes], size: int) -> Iterator[tuple[bytes, bool]]:
    """Slice a byte stream into ``size`` blocks, flagging the last; empty input -> one empty block."""
    pending: bytes | None = None
    buf = bytearray()
    for piece in pieces:
        view = memoryview(piece).cast("B")
        pos = 0
        while pos < len(view):
            take = min(size - len(buf), len(view) - pos)
            buf += view[pos: pos + take]
            pos += take
            if len(buf) == size:
                if pending is not None:
                    yield pending, False
                pending = bytes(buf)
                buf.clear()
    if buf:
        if pending is not None:
            yield pending, False
        yield bytes(buf), True
    else:
        yield (pending if pending is not None else b""), True


def seal(source: PlaintextSource, out: BinaryIO, *, tender: str, lot: str, bidder: str,
         bidder_key: PublicKeyLike, opening_key: PublicKeyLike,
         chunk_size: int = DEFAULT_CHUNK_SIZE) -> SealResult:
    """Encrypt the plaintext from ``source`` into ``out`` as an SBE1 envelope.

    ``source``: bytes, a binary file object, or an iterable of bytes (e.g. ``build_plaintext``).
    ``bidder_key``/``opening_key``: P-256 public keys (objects, SPKI DER, or SPKI base64).
    """
    if not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise FormatError(f"chunk_size must be in 1..{MAX_CHUNK_SIZE}", "header_invalid")
    dek, nonce_prefix = os.urandom(DEK_SIZE), os.urandom(7)
    recipients = []
    for kind, key in (("bidder", bidder_key), ("opening", opening_key)):
        public = load_public_key(key)
        w = wrap_key(dek, public)
        recipients.append(Recipient(kind, key_id(public), w.epk, w.nonce, w.wrapped))
    header = build_header(tender=tender, lot=lot, bidder=bidder, chunk_size=chunk_size,
                          nonce_prefix=nonce_prefix, recipients=tuple(recipients))
    aead, aad = AESGCM(dek), header.aad
    digest = hashlib.sha256()
    size = 0

    def emit(data: bytes) -> None:
        nonlocal size
        out.write(data)
        digest.update(data)
        size += len(data)

    emit(MAGIC + header.line)
    for index, (block, final) in enumerate(_rechunk(_pieces(source, chunk_size), chunk_size)):
        emit(aead.encrypt(chunk_nonce(nonce_prefix, index, final), block, aad))
    return SealResult(header, digest.digest(), size)


def seal_bid(form: dict[str, Any], files: list[FileInput], out: BinaryIO, **ids_and_keys: Any) -> SealResult:
    """``seal(build_plaintext(form, files), out, ...)``: a whole bid in one call."""
    return seal(build_plaintext(form, files), out, **ids_and_keys)


def unwrap_dek(header: Header, private_key: ec.EllipticCurvePrivateKey, kind: str | None = None) -> bytes:
    """The envelope's DEK, unwrapped with the private key of its bidder or opening recipient.

    ``kind`` ("bidder"/"opening") picks the recipient; by default the one whose key_id is
    the key's own. Raises DecryptionError("not_a_recipient" / "unwrap_failed").
    """
    own = key_id(private_key.public_key())
    if kind is not None and kind not in RECIPIENT_KINDS:
        raise ValueError(f"kind must be one of {RECIPIENT_KINDS}")
    entry = header.recipient(kind) if kind else next((r for r in header.recipients if r.key_id == own), None)
    if entry is None or entry.key_id != own:
        raise DecryptionError(f"this key ({own[:16]}…) is not the envelope's {kind or 'bidder/opening'} "
                              "recipient", "not_a_recipient")
    dek = unwrap_key(private_key, entry.epk, entry.nonce, entry.wrapped_dek, aad_key_id=entry.key_id)
    if len(dek) != DEK_SIZE:
        raise DecryptionError("unwrapped DEK has the wrong length", "unwrap_failed")
    return dek


def decode_dek(text: str) -> bytes:
    """A DEK released by a bidder (base64 of 32 bytes, as ``python -m sbe1 decrypt-dek`` prints)."""
    return b64d(text.strip() if isinstance(text, str) else text, length=DEK_SIZE, what="DEK")


def _read_full(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n) or b""
    if len(data) == n:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = stream.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def decrypt_chunks(stream: BinaryIO, header: Header, dek: bytes) -> Iterator[bytes]:
    """Yield the plaintext of each chunk from ``stream`` (positioned after the header).

    Output is authenticated chunk by chunk; the envelope as a whole is only valid once the
    iterator is exhausted without an exception (the final chunk is then authenticated).
    """
    if len(dek) != DEK_SIZE:
        raise DecryptionError("a DEK is 32 bytes", "bad_dek")
    aead, aad, prefix = AESGCM(dek), header.aad, header.nonce_prefix
    block = header.chunk_size + TAG_SIZE
    current = _read_full(stream, block)
    index = 0
    while True:
        if len(current) < TAG_SIZE:
            raise DecryptionError(f"envelope truncated: chunk {index} is shorter than a tag"
                                  if current or index == 0 else "envelope truncated: missing final chunk",
                                  "truncated")
        following = _read_full(stream, block) if len(current) == block else b""
        final = not following
        try:
            plain = aead.decrypt(chunk_nonce(prefix, index, final), current, aad)
        except InvalidTag as exc:
            raise _classify(aead, prefix, index, final, current, aad) from exc
        yield plain
        if final:
            return
        current, index = following, index + 1


def _classify(aead: AESGCM, prefix: bytes, index: int, final: bool, data: bytes, aad: bytes) -> DecryptionError:
    """Explain a tag failure: the chunk may be valid with the other final flag."""
    try:
        aead.decrypt(chunk_nonce(prefix, index, not final), data, aad)
    except InvalidTag:
        what = "wrong DEK, tampered or truncated" if index == 0 else "tampered, truncated or re-ordered"
        return DecryptionError(f"chunk {index} failed authentication ({what})", "chunk_auth_failed")
    if final:
        return DecryptionError(f"envelope truncated: chunk {index} is not the final chunk",
                               "missing_final_chunk")
    return DecryptionError(f"data after the final chunk (chunk {index} is final)", "data_after_final")


def decrypt(stream: BinaryIO, dek: bytes) -> Iterator[bytes]:
    """Read the header from ``stream`` and yield the plaintext (see ``decrypt_chunks``)."""
    return decrypt_chunks(stream, read_header(stream), dek)


@dataclass(frozen=True)
class ReceivedEnvelope:
    header: Header
    sha256: bytes  # of the whole envelope: verify the detached signature against it
    size: int


def receive_envelope(stream: BinaryIO, sink: BinaryIO, *, max_size: int | None = None,
                     read_size: int = 1_048_576) -> ReceivedEnvelope:
    """Platform upload path: copy an envelope to ``sink`` unchanged while checking it.

    Parses and validates the header (without any key), hashes every byte for the signature
    check, enforces ``max_size``, and checks that the chunk lengths add up (every chunk
    but the last is chunk_size + 16 bytes; the last has 16..chunk_size + 16). Nothing is
    decrypted: contents are only authenticated at opening.
    """
    header = read_header(stream)
    digest = hashlib.sha256(MAGIC + header.line)
    sink.write(MAGIC + header.line)
    size = header.size
    while block := stream.read(read_size):
        size += len(block)
        if max_size is not None and size > max_size:
            raise FormatError(f"envelope larger than {max_size} bytes", "too_large")
        digest.update(block)
        sink.write(block)
    body = size - header.size
    last = body % (header.chunk_size + TAG_SIZE)
    if body == 0 or 0 < last < TAG_SIZE:
        raise DecryptionError("envelope truncated: its chunk lengths do not add up", "truncated")
    if -(-body // (header.chunk_size + TAG_SIZE)) > MAX_CHUNKS:
        raise FormatError("too many chunks (the index is a uint32)", "too_many_chunks")
    return ReceivedEnvelope(header, digest.digest(), size)


@dataclass(frozen=True)
class OpenedEnvelope:
    header: Header
    manifest: Manifest


def open_envelope(stream: BinaryIO, *, dek: bytes | None = None,
                  private_key: ec.EllipticCurvePrivateKey | None = None,
                  open_sink: Callable[[FileEntry], Sink] | None = None,
                  header_check: Callable[[Header], None] | None = None) -> OpenedEnvelope:
    """Decrypt and verify a whole envelope: header, every chunk, the manifest and every file.

    Give either the released ``dek`` or a recipient ``private_key`` (bidder key, or the
    opening key rebuilt from Shamir shares). Files go to ``open_sink`` (see
    ``read_plaintext``); without it they are only hashed. ``header_check`` may raise to
    refuse an envelope before any decryption (e.g. ``functools.partial(check_header, ...)``).
    """
    header = read_header(stream)
    if header_check is not None:
        header_check(header)
    if dek is None:
        if private_key is None:
            raise ValueError("give a dek or a private_key")
        dek = unwrap_dek(header, private_key)
    manifest = read_plaintext(decrypt_chunks(stream, header, dek), open_sink)
    return OpenedEnvelope(header, manifest)


def open_envelope_bytes(data: bytes, **kwargs: Any) -> OpenedEnvelope:
    return open_envelope(io.BytesIO(data), **kwargs)
