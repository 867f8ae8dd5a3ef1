"""The bidding rules as pure functions: no database, no clock of their own.

Services (auctions/services/bidding.py) hold the trade's row lock, build a `Book` from it,
ask `check_bid` with the server's time and persist what `apply_bid` returns; replay
(auctions/replay.py) and the property tests drive the same functions, so the rules exist once.

Rules (docs/auctions.md, "Bidding rules"):
- the first valid bid is at least the start price; every later one at least the current
  price + the increment (国土资源部令第39号 Art 19*). A bid equal to the current price is
  refused, so of two equal quotes the earlier always stands ("equal quotes: the earlier wins");
- in a timed round (限时竞价) the holder of the highest bid may not outbid itself, and a bid
  at or after the countdown's end is refused; each accepted bid restarts the countdown
  from its own acceptance time;
- during a listing the end is fixed (the listing end), not restarted;
- at the end the reserve decides: sold when there is a highest bid and it is ≥ the reserve.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

LISTING = "listing"
TIMED = "timed"
CLOSED = "closed"

SOLD = "sold"
NOT_SOLD = "not_sold"


@dataclass(frozen=True)
class Book:
    """What the bidding rules need to know about a trade at one instant."""

    phase: str
    start_price: Decimal
    increment: Decimal
    price: Decimal | None = None
    holder: str | None = None  # bidder number (竞买号) of the highest bid
    ends_at: datetime | None = None  # listing end, or the countdown's end in a timed round
    countdown: timedelta = timedelta(seconds=300)
    seq: int = 0  # accepted bids so far

    def minimum_next(self) -> Decimal:
        return self.start_price if self.holder is None else self.price + self.increment


@dataclass(frozen=True)
class Refusal:
    code: str  # not_open | expired | too_low | own_highest | not_started
    minimum: Decimal | None = None


def check_bid(book: Book, *, number: str, amount: Decimal, at: datetime,
              starts_at: datetime | None = None) -> Refusal | None:
    """None if the bid is valid at `at` (the server's time), else why not."""
    if book.phase not in (LISTING, TIMED):
        return Refusal("not_open")
    if starts_at is not None and at < starts_at:
        return Refusal("not_started")
    if book.ends_at is not None and at >= book.ends_at:
        return Refusal("expired")
    if book.phase == TIMED and book.holder == number:
        return Refusal("own_highest")
    minimum = book.minimum_next()
    if amount < minimum:
        return Refusal("too_low", minimum)
    return None


def apply_bid(book: Book, *, number: str, amount: Decimal, at: datetime) -> Book:
    """The book after a bid `check_bid` accepted."""
    ends_at = at + book.countdown if book.phase == TIMED else book.ends_at
    return replace(book, price=amount, holder=number, ends_at=ends_at, seq=book.seq + 1)


def start_timed(book: Book, *, at: datetime) -> Book:
    """A timed round from the current state (listing end or auction start): countdown from `at`."""
    return replace(book, phase=TIMED, ends_at=at + book.countdown)


def close(book: Book) -> Book:
    return replace(book, phase=CLOSED)


def expired(book: Book, now: datetime) -> bool:
    return book.phase in (LISTING, TIMED) and book.ends_at is not None and now >= book.ends_at


def decide(*, price: Decimal | None, holder: str | None, reserve: Decimal) -> str:
    """Sold when someone holds the highest bid and it reaches the reserve (39号令 Art 19*)."""
    return SOLD if holder is not None and price is not None and price >= reserve else NOT_SOLD
