"""`manage.py deposits ...`: bid deposits (statement import, bank simulator). See trading/deposits/command.py."""

from trading.deposits.command import Command  # noqa: F401
