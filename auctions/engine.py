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


ROOM_MARGIN = timedelta(seconds=1)


def too_low_in_room(*, phase: str, minimum: Decimal, ends_at: datetime | None, amount: Decimal, at: datetime,
                    keyed: bool, history_floor: Decimal | None, own_amounts: frozenset[Decimal] | set[Decimal],
                    ) -> Refusal | None:
    """A too-low refusal decided from what a live room already delivered (committed bids, in order),
    without the database: the room's consumer answers most offers of a burst this way.

    Exact, because in a timed round the minimum only rises (no increment changes) and the deadline
    only moves later, so an offer below a minimum the room has seen is below the true minimum now,
    and `at` (the server's clock) more than ROOM_MARGIN before a deadline the room has seen is before
    the true deadline. (Where the book would name the offer the holder's own, its newest bid not yet
    delivered to the room, the room names it too low: both are true.) Not decided here (None; the
    service decides under the lock): listings (the
    increment may change), offers near or after the deadline, and, for offers with an idempotency
    key, an amount the buyer itself bid before (a retry gets its bid back) or below the oldest bid
    the room knows of (`history_floor`: the snapshot's history is the last 200 bids)."""
    if phase != TIMED or ends_at is None or at >= ends_at - ROOM_MARGIN or amount >= minimum:
        return None
    if keyed and (amount in own_amounts or (history_floor is not None and amount < history_floor)):
        return None
    return Refusal("too_low", minimum)


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
