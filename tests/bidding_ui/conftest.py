"""The UI shell's tests use the shared cast, tenders and clock (tests/fixtures/), each with its own media root."""
from tests.fixtures.directory import _media_root  # noqa: F401
