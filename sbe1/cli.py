"""Command-line client for bidders and key custodians: ``python -m sbe1 <command>``.

Passwords come from ``--password-file``, else the ``SBE1_PASSWORD`` environment variable,
else an interactive prompt; API tokens from ``--token-file``, else ``SBE1_TOKEN``, else a
prompt. Neither is ever printed. Errors print ``error: <message> [<code>]`` and exit 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from . import __name__ as _package
from .encoding import b64e
from .envelope import decode_dek, open_envelope, seal_bid, unwrap_dek
from .errors import SBE1Error
from .header import DEFAULT_CHUNK_SIZE, check_header, read_header
from .keys import DEFAULT_ITERATIONS, KeyFile, generate_private_key, key_file_info, read_key_file, write_key_file
from .plaintext import FileEntry
from .shamir import combine_released, decrypt_share, parse_released_share
from .signing import envelope_sha256, sign_digest, verify_digest


class CLIError(SBE1Error):
    default_code = "cli"


# --- secrets ----------------------------------------------------------------------------

def _secret(file: str | None, env: str, prompt: str, *, confirm: bool = False) -> str:
    if file:
        value = Path(file).read_text(encoding="utf-8").rstrip("\r\n")
    elif os.environ.get(env):
        value = os.environ[env]
    else:
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat: ") != value:
            raise CLIError("the two entries differ", "password_mismatch")
    if not value:
        raise CLIError("empty secret", "password_missing")
    return value


def _password(args: argparse.Namespace, *, confirm: bool = False) -> str:
    return _secret(args.password_file, "SBE1_PASSWORD", "Key file password: ", confirm=confirm)


def _load_key(args: argparse.Namespace) -> KeyFile:
    return read_key_file(Path(args.key).read_bytes(), _password(args))


def _text_arg(value: str) -> str:
    """``@path`` reads the value from a file (trimmed), otherwise the value itself."""
    return Path(value[1:]).read_text(encoding="utf-8").strip() if value.startswith("@") else value


# --- commands ---------------------------------------------------------------------------

def cmd_keygen(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CLIError(f"{out} exists (use --force to overwrite)", "exists")
    key = generate_private_key()
    data = write_key_file(key, _password(args, confirm=True), label=args.label, iterations=args.iterations)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    info = key_file_info(data)
    print(f"key_id: {info.key_id}")
    print(f"public_key: {b64e(info.public_spki)}")


def cmd_key_info(args: argparse.Namespace) -> None:
    info = key_file_info(Path(args.keyfile).read_bytes())
    print(f"key_id: {info.key_id}")
    print(f"public_key: {b64e(info.public_spki)}")
    print(f"label: {info.label}")


def _no_float(text: str) -> None:
    raise CLIError(f'number {text} in the form: write decimals as strings, e.g. "1234.50"', "bad_form")


def cmd_seal(args: argparse.Namespace) -> None:
    bidder_spki = key_file_info(Path(args.key).read_bytes()).public_spki
    form = json.loads(Path(args.form).read_text(encoding="utf-8"), parse_float=_no_float)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise CLIError(f"{out} exists (use --force to overwrite)", "exists")
    tmp = out.with_name(f".{out.name}.partial")
    try:
        with tmp.open("wb") as f:
            result = seal_bid(form, [Path(p) for p in args.files], f, tender=args.tender, lot=args.lot,
                              bidder=args.bidder, bidder_key=bidder_spki,
                              opening_key=_text_arg(args.opening_key), chunk_size=args.chunk_size)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    print(f"envelope: {out}")
    print(f"size: {result.size}")
    print(f"sha256: {result.sha256.hex()}")


def cmd_sign(args: argparse.Namespace) -> None:
    key = _load_key(args)
    with open(args.envelope, "rb") as f:
        signature = sign_digest(key.private_key, envelope_sha256(f))
    if args.out:
        Path(args.out).write_text(signature + "\n", encoding="ascii")
    print(signature)


def cmd_verify_signature(args: argparse.Namespace) -> None:
    public = (key_file_info(Path(args.key).read_bytes()).public_spki if args.key
              else _text_arg(args.public_key))
    with open(args.envelope, "rb") as f:
        digest = envelope_sha256(f)
    verify_digest(public, digest, _text_arg(args.signature))
    print(f"signature OK (envelope sha256 {digest.hex()})")


def cmd_verify_header(args: argparse.Namespace) -> None:
    with open(args.envelope, "rb") as f:
        header = read_header(f)
    check_header(header, tender=args.tender, lot=args.lot, bidder=args.bidder,
                 bidder_key_id=args.bidder_key_id, opening_key_id=args.opening_key_id)
    doc = header.to_json()
    print(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True))
    print("header OK")


def cmd_decrypt_dek(args: argparse.Namespace) -> None:
    key = _load_key(args)
    with open(args.envelope, "rb") as f:
        header = read_header(f)
    print(b64e(unwrap_dek(header, key.private_key, args.kind)))


class _DirectorySink:
    """Writes files into a private temporary directory; ``commit`` moves them into place."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = Path(tempfile.mkdtemp(prefix=".sbe1-partial-", dir=target))
        self.current: BinaryIO | None = None

    def __call__(self, entry: FileEntry) -> BinaryIO:
        self.close()
        if (self.target / entry.name).exists():
            raise CLIError(f"{self.target / entry.name} already exists", "exists")
        self.current = (self.tmp / entry.name).open("xb")
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None

    def commit(self) -> None:
        self.close()
        for path in sorted(self.tmp.iterdir()):
            path.replace(self.target / path.name)
        self.tmp.rmdir()

    def abort(self) -> None:
        self.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def cmd_decrypt(args: argparse.Namespace) -> None:
    target = Path(args.out)
    target.mkdir(parents=True, exist_ok=True)
    private_key = dek = None
    if args.dek or args.dek_file:
        dek = decode_dek(args.dek or Path(args.dek_file).read_text(encoding="ascii"))
    elif args.key:
        private_key = _load_key(args).private_key
    elif args.share:
        private_key = combine_released([parse_released_share(Path(p).read_bytes()) for p in args.share])
    else:
        raise CLIError("give --dek, --dek-file, --key or --share", "usage")
    sink = _DirectorySink(target)
    try:
        with open(args.envelope, "rb") as f:
            opened = open_envelope(f, dek=dek, private_key=private_key, open_sink=sink)
    except BaseException:
        sink.abort()
        raise
    sink.commit()
    print(json.dumps({"tender": opened.header.tender, "lot": opened.header.lot, "bidder": opened.header.bidder,
                      "form": opened.manifest.form,
                      "files": [f.to_json() for f in opened.manifest.files]}, indent=2, ensure_ascii=False))
    print(f"decrypted and verified {len(opened.manifest.files)} file(s) into {target}")


def cmd_decrypt_share(args: argparse.Namespace) -> None:
    key = _load_key(args)
    released = decrypt_share(Path(args.share).read_bytes(), key.private_key)
    data = released.to_json_bytes().decode("utf-8")
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(data + "\n")
    print(data)


def submit_url(base: str, tender: str, lot: str) -> str:
    parsed = urllib.parse.urlsplit(base)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise CLIError("the platform URL must be http(s)://host[:port][/prefix]", "usage")
    quote = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    return f"{base.rstrip('/')}/api/v1/tenders/{quote(tender)}/lots/{quote(lot)}/bids"


def submit(base: str, tender: str, lot: str, envelope: Path, signature: str, token: str,
           timeout: float = 300.0) -> tuple[int, bytes]:
    """POST the raw envelope with its detached signature; returns (HTTP status, body)."""
    url = submit_url(base, tender, lot)
    size = envelope.stat().st_size
    with envelope.open("rb") as body:
        request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 - scheme checked
            "Authorization": f"Token {token}", "X-Envelope-Signature": signature,
            "Content-Type": "application/octet-stream", "Content-Length": str(size),
            "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


def cmd_submit(args: argparse.Namespace) -> None:
    envelope = Path(args.envelope)
    if args.signature:
        signature = _text_arg(args.signature)
    elif args.key:
        with envelope.open("rb") as f:
            signature = sign_digest(_load_key(args).private_key, envelope_sha256(f))
    else:
        raise CLIError("give --signature or --key", "usage")
    if urllib.parse.urlsplit(args.url).scheme == "http":
        print("warning: plain http; use https outside a test setup", file=sys.stderr)
    token = _secret(args.token_file, "SBE1_TOKEN", "API token: ")
    status, body = submit(args.url, args.tender, args.lot, envelope, signature, token)
    print(body.decode("utf-8", "replace"))
    if not 200 <= status < 300:
        raise CLIError(f"upload refused: HTTP {status}", "http_error")


# --- parser -----------------------------------------------------------------------------

def _add_password(p: argparse.ArgumentParser) -> None:
    p.add_argument("--password-file", help="read the key file password from this file (else $SBE1_PASSWORD, "
                                           "else prompt)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {_package}", description="SBE1 sealed-bid client")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("keygen", help="make a P-256 key pair in a password-protected key file")
    p.add_argument("--out", required=True)
    p.add_argument("--label", default="")
    p.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS)
    p.add_argument("--force", action="store_true")
    _add_password(p)
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("key-info", help="print a key file's key_id and public key (no password)")
    p.add_argument("keyfile")
    p.set_defaults(func=cmd_key_info)

    p = sub.add_parser("seal", help="seal a form and files into an envelope")
    p.add_argument("--key", required=True, help="the bidder's key file (only its public key is used)")
    p.add_argument("--opening-key", required=True, help="the lot's opening public key, SPKI base64 (or @file)")
    p.add_argument("--tender", required=True)
    p.add_argument("--lot", required=True)
    p.add_argument("--bidder", required=True, help="the bidder organisation id")
    p.add_argument("--form", required=True, help="JSON file with the form items (decimals as strings)")
    p.add_argument("--out", required=True)
    p.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    p.add_argument("--force", action="store_true")
    p.add_argument("files", nargs="*")
    p.set_defaults(func=cmd_seal)

    p = sub.add_parser("sign", help="detached signature (base64 r||s) of an envelope")
    p.add_argument("--key", required=True)
    p.add_argument("--out")
    p.add_argument("envelope")
    _add_password(p)
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("verify-signature", help="check a detached signature")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--public-key", help="SPKI base64 (or @file)")
    group.add_argument("--key", help="a key file (its public part)")
    p.add_argument("--signature", required=True, help="base64 (or @file)")
    p.add_argument("envelope")
    p.set_defaults(func=cmd_verify_signature)

    p = sub.add_parser("verify-header", help="parse and check an envelope header")
    for name in ("tender", "lot", "bidder", "bidder-key-id", "opening-key-id"):
        p.add_argument(f"--{name}")
    p.add_argument("envelope")
    p.set_defaults(func=cmd_verify_header)

    p = sub.add_parser("decrypt-dek", help="unwrap the envelope's DEK (base64) to release it at opening")
    p.add_argument("--key", required=True)
    p.add_argument("--kind", choices=("bidder", "opening"))
    p.add_argument("envelope")
    _add_password(p)
    p.set_defaults(func=cmd_decrypt_dek)

    p = sub.add_parser("decrypt", help="decrypt an envelope into a directory, verifying the manifest")
    p.add_argument("--out", required=True, help="directory (files must not exist yet)")
    p.add_argument("--dek", help="the released DEK, base64")
    p.add_argument("--dek-file")
    p.add_argument("--key", help="a recipient key file")
    p.add_argument("--share", action="append", help="a released custodian share (repeat k times)")
    p.add_argument("envelope")
    _add_password(p)
    p.set_defaults(func=cmd_decrypt)

    p = sub.add_parser("decrypt-share", help="custodian: decrypt my Shamir share of an opening key")
    p.add_argument("--key", required=True)
    p.add_argument("--out", help="also write the released share here (mode 0600)")
    p.add_argument("share", help="the share container (JSON) from the platform")
    _add_password(p)
    p.set_defaults(func=cmd_decrypt_share)

    p = sub.add_parser("submit", help="upload an envelope and its signature to the platform")
    p.add_argument("--url", required=True, help="platform base URL, e.g. https://ptrade.example")
    p.add_argument("--tender", required=True)
    p.add_argument("--lot", required=True)
    p.add_argument("--signature", help="base64 (or @file); else --key signs now")
    p.add_argument("--key")
    p.add_argument("--token-file", help="API token file (else $SBE1_TOKEN, else prompt)")
    p.add_argument("envelope")
    _add_password(p)
    p.set_defaults(func=cmd_submit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except SBE1Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
