"""Credit tests reuse the trading cast and the test clock (shared fixtures, tests/fixtures/); the sealed-bid
opening starter stays detached as in the tendering tests."""

from tests.fixtures.directory import _english, _media_root  # noqa: F401  (fixtures)
from tests.trading.conftest import _opening_detached  # noqa: F401  (fixture)
