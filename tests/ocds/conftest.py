"""The OCDS tests reuse the evaluation fixtures (tender in evaluation, scripted sources, movable clock)."""

from tests.evaluation.conftest import _english, _media_root, clock, fake, make_world, no_network  # noqa: F401
