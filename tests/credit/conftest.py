"""Credit tests reuse the trading cast and its movable clock."""

from tests.trading.conftest import (  # noqa: F401  (fixtures)
    _english,
    _media_root,
    _opening_detached,
    cast,
    clock,
    make_draft,
    published,
)
