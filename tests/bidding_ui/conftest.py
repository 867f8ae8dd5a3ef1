"""The UI shell's tests use the trading cast and tenders (tests/trading/conftest.py)."""

from tests.trading.conftest import _media_root, cast, clock, make_draft, published  # noqa: F401
