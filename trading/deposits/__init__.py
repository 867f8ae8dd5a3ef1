"""Bid deposits (投标保证金): virtual sub-accounts, bank notifications, ledger, refunds.

Django-free building blocks (importable without settings):

- `vaccount`   virtual sub-account numbers with a Luhn check digit
- `bankmsg`    the bank's HMAC-SHA256 message signature and the transfer record it carries
- `statement`  the bank's daily statement (CSV) parser
- `interest`   interest on refunds (balance-days "积数" method, actual/360 or actual/365)
- `guarantee`  electronic guarantee letters (电子保函): signature and content checks

The Django parts (models in trading/models/deposit.py, services, selectors, API,
steps) build on them. docs/deposits.md describes the whole design.
"""
