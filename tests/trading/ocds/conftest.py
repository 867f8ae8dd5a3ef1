"""The OCDS tests reuse the evaluation fixtures (tender in evaluation, scripted sources, movable clock)."""

from tests.trading.evaluation.conftest import (  # noqa: F401
    _english,
    _media_root,
    _opening_detached,
    clock,
    fake,
    make_world,
    no_network,
)
