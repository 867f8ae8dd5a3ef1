"""What a server process knows of a room (auctions.room.known_book / book_observe): events in any
order are applied in id order, duplicates ignored, and the book is given up when ids stay missing."""

from __future__ import annotations

from decimal import Decimal

from auctions import room


def _state(**over):
    state = {"status": "timed", "next_minimum": "810000.00", "ends_at": "2026-12-06T10:00:00+00:00",
             "bid_count": 1, "history": [{"seq": 1, "number": "A1", "amount": "800000.00", "phase": "timed",
                                          "at": "2026-12-06T09:55:00+00:00",
                                          "ends_at": "2026-12-06T10:00:00+00:00"}]}
    state.update(over)
    return state


def _bid(event_id, seq, number, amount):
    nxt = str(Decimal(amount) + Decimal("10000.00"))
    payload = {"seq": seq, "number": number, "amount": amount, "next_minimum": nxt,
               "ends_at": f"2026-12-06T10:0{seq}:00+00:00"}
    return {"id": event_id, "kind": "bid", "payload": payload}


def test_snapshot_then_events_out_of_order_and_duplicated():
    book = room.known_book(5, _state())
    assert book["minimum"] == Decimal("810000.00") and book["own"] == {"A1": {Decimal("800000.00")}}
    assert book["floor"] is None  # the whole history is in the window
    book = room.book_observe(book, _bid(7, 3, "A1", "820000.00"))  # 6 is missing: held back
    assert book["minimum"] == Decimal("810000.00") and book["last_id"] == 5
    book = room.book_observe(book, _bid(6, 2, "B2", "810000.00"))
    assert book["last_id"] == 7 and book["minimum"] == Decimal("830000.00")
    assert book["own"]["A1"] == {Decimal("800000.00"), Decimal("820000.00")}
    assert book["deadline"] == "2026-12-06T10:03:00+00:00"
    assert room.book_observe(book, _bid(6, 2, "B2", "810000.00"))["last_id"] == 7  # duplicate ignored
    book = room.book_observe(book, {"id": 8, "kind": "phase", "payload": {"status": "closed", "ends_at": None}})
    assert book["status"] == "closed" and book["deadline"] is None


def test_a_listing_increment_change_hands_decisions_back_and_a_truncated_history_sets_a_floor():
    book = room.known_book(3, _state(bid_count=250))
    assert book["floor"] == Decimal("800000.00")
    book = room.book_observe(book, {"id": 4, "kind": "increment", "payload": {"increment": "5000.00"}})
    assert book["status"] is None


def test_the_book_is_given_up_when_an_id_stays_missing():
    book = room.known_book(0, _state())
    for i in range(room.REORDER_LIMIT + 1):
        book = room.book_observe(book, _bid(2 + i, 2 + i, "B2", str(810000 + 10000 * i) + ".00"))
    assert book is None
    assert room.book_observe(None, _bid(1, 1, "A1", "800000.00")) is None
