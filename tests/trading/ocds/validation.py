"""Skip (with the reason printed) only when the official schema zip is absent."""

from __future__ import annotations

import pytest

from trading.ocds.validation import standard_zip


def require_standard_zip():
    path = standard_zip()
    if not path.is_file():
        reason = f"OCDS standard zip absent: {path} (see docs/evaluation.md)"
        print(reason)  # noqa: T201 - the brief asks for the reason to be printed
        pytest.skip(reason)
    return path
