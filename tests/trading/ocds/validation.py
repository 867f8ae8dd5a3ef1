"""Helpers of the OCDS validation tests: the pinned standard is in the repository (no skip), and
`offline()` makes any network access during a validation fail the test."""

from __future__ import annotations

import contextlib
import socket

from trading.ocds.validation import STANDARD_ZIP_SHA256, standard_zip


def require_standard_zip():
    """The repository's pinned OCDS 1.1.5 zip (trading/ocds_schema/): present in every clone."""
    import hashlib

    path = standard_zip()
    assert path.is_file(), f"the vendored OCDS standard zip is missing: {path}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == STANDARD_ZIP_SHA256
    return path


@contextlib.contextmanager
def offline():
    """Refuse every new connection and name resolution inside the block."""

    def refuse(self, address, *args, **kwargs):
        raise AssertionError(f"network access attempted: {address!r}")

    def resolve(host, *args, **kwargs):
        raise AssertionError(f"name resolution attempted: {host!r}")

    saved = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo
    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = refuse, refuse, resolve
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = saved
