"""The OCDS tests reuse the evaluation fixtures (tender in evaluation, scripted sources)."""

from tests.evaluation.conftest import _english, _media_root, fake, make_world, no_network  # noqa: F401
