"""How the opening room and the opening record show their values: translated status labels and money.

The room state and the record carry machine values ("decrypted", "paid", "11680000.00"), because
the record is signed and hashed as data; what a reader sees is translated and formatted here
(for the record page) or from these labels in room.js (for the live room).
"""

from __future__ import annotations

from bidding_ui.templatetags.ui import format_money
from trading.models import READOUT_ITEMS, BidOpeningStatus, ConfirmationKind, DepositStatus, FailureOutcome

MONEY_ITEMS = frozenset({"price"})  # read-out items that are amounts (room.js gets them in its config)
_GROUPS = {"status": BidOpeningStatus, "outcome": FailureOutcome, "deposit": DepositStatus,
           "confirmation": ConfirmationKind}


def room_labels() -> dict[str, dict[str, str]]:
    """Each status group's values and their labels in the active language (room.js shows these)."""
    return {group: {value: str(label) for value, label in choices.choices} for group, choices in _GROUPS.items()}


def readout_value(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    return format_money(value) if key in MONEY_ITEMS else str(value)


def record_lots(record: dict) -> tuple[list[str], list[dict]]:
    """The record's read-out as the page shows it: item headers, and per lot its rows of display cells."""
    keys = list(record["tender"]["readout_items"])
    labels = room_labels()

    def label(group: str, value) -> str:
        return labels[group].get(value, value) if value else "—"

    lots = []
    for lot in record["lots"]:
        rows = []
        for b in lot["bids"]:
            failure = b.get("failure")
            status = (f"{label('outcome', failure['outcome'])} ({failure['code']})" if failure
                      else label("status", b["status"]))
            rows.append({
                "bidder_name": b["bidder_name"],
                "cells": [readout_value(k, (b.get("readout") or {}).get(k)) for k in keys],
                "status": status,
                "deposit": label("deposit", b.get("deposit")),
                "confirmation": label("confirmation", (b.get("confirmation") or {}).get("kind")),
                "envelope_sha256": b["envelope_sha256"],
            })
        lots.append({**lot, "rows": rows})
    return [str(READOUT_ITEMS.get(k, k)) for k in keys], lots
