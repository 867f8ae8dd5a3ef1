"""SBE1 sealed-bid envelopes (SPECS.md §1): keys, sealing, opening, signatures, Shamir.

Stand-alone: depends only on the standard library and ``cryptography`` (never Django),
so the command-line client and offline tools can use it. See docs/sbe1.md.
"""

from .canonical import canonical_bytes
from .envelope import (
    DEK_SIZE,
    OpenedEnvelope,
    ReceivedEnvelope,
    SealResult,
    decode_dek,
    decrypt,
    decrypt_chunks,
    open_envelope,
    open_envelope_bytes,
    receive_envelope,
    seal,
    seal_bid,
    unwrap_dek,
)
from .errors import (
    DecryptionError,
    FormatError,
    HeaderMismatchError,
    InvalidKeyError,
    KeyFileError,
    ManifestError,
    SBE1Error,
    ShamirError,
    SignatureError,
)
from .header import DEFAULT_CHUNK_SIZE, MAGIC, SUITE, Header, Recipient, check_header, parse_header, read_header
from .keys import (
    KeyFile,
    generate_private_key,
    key_file_info,
    key_id,
    load_public_key,
    read_key_file,
    spki_b64,
    spki_der,
    write_key_file,
)
from .plaintext import FileEntry, Manifest, build_plaintext, manifest_of, read_plaintext
from .shamir import (
    OpeningKey,
    ReleasedShare,
    Share,
    combine_private_key,
    combine_released,
    combine_shares,
    create_opening_key,
    decrypt_share,
    encrypt_share,
    parse_released_share,
    split_private_key,
    split_secret,
)
from .signing import envelope_sha256, sign_digest, sign_envelope, verify_digest, verify_envelope

__all__ = [
    "DEFAULT_CHUNK_SIZE", "DEK_SIZE", "MAGIC", "SUITE",
    "DecryptionError", "FormatError", "HeaderMismatchError", "InvalidKeyError", "KeyFileError", "ManifestError",
    "SBE1Error", "ShamirError", "SignatureError",
    "FileEntry", "Header", "KeyFile", "Manifest", "OpenedEnvelope", "OpeningKey", "ReceivedEnvelope", "Recipient",
    "ReleasedShare", "SealResult", "Share",
    "build_plaintext", "canonical_bytes", "check_header", "combine_private_key", "combine_released",
    "combine_shares", "create_opening_key", "decode_dek", "decrypt", "decrypt_chunks", "decrypt_share",
    "encrypt_share", "envelope_sha256", "generate_private_key", "key_file_info", "key_id", "load_public_key",
    "manifest_of", "open_envelope", "open_envelope_bytes", "parse_header", "parse_released_share", "read_header",
    "read_key_file", "read_plaintext", "receive_envelope", "seal", "seal_bid", "sign_digest", "sign_envelope",
    "split_private_key", "split_secret", "spki_b64", "spki_der", "unwrap_dek", "verify_digest", "verify_envelope",
    "write_key_file",
]
