"""Deposit services: every write of the deposits module (docs/deposits.md), one module per concern.

- `accounts`: the registration's virtual sub-account (`deposit_account_open`);
- `bank`: the bank's signed messages (notification webhook, refund-export request);
- `statements`: the daily statement import;
- `suspense`: resolving transfers that could not be booked;
- `guarantees`: electronic guarantee letters and their trusted issuers;
- `refunds`: refund triggers on the legal schedule and the refund computation;
- `forfeit`: keeping a deposit (revoked bid, winner refusing to sign);
- `instructions`: refund instructions on the bank side (export, re-issue, overdue check, warnings).

Callers import from the concern module; this package itself exports nothing.
"""
