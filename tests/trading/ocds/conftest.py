"""The OCDS tests reuse the evaluation fixtures (tender in evaluation, scripted sources)."""

from tests.fixtures.directory import _english, _media_root  # noqa: F401
from tests.trading.evaluation.conftest import _opening_detached, fake, make_world, no_network  # noqa: F401
