"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from a 31-character alphabet (digits and upper-case letters
without I, O, Z, S, V); the 18th is a check character over the first 17 with
weights 3^(i) mod 31: check = 31 - (sum mod 31), where 31 maps to "0".
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def check_character(first17: str) -> str:
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """None if valid, else a sentence saying what is wrong."""
    if len(code) != 18:
        return "must be 18 characters"
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        return f"contains characters not allowed by GB 32100-2015: {''.join(bad)}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, GB 32100-2015 gives {expected!r}"
    return None


def make_uscc(first17: str) -> str:
    """Complete 17 characters with their check character (demo data, tests)."""
    return first17 + check_character(first17)
