"""Settings of the benchmarks' ASGI server: the real settings, with no persistent database connections.

Under ASGI every request runs its sync code in a thread of its own, so persistent
connections (CONN_MAX_AGE > 0, as config/settings.py sets) pile up until PostgreSQL
refuses new clients under a burst of uploads; Django's docs advise CONN_MAX_AGE = 0 for
ASGI (or a pooler such as pgbouncer). The benchmarks' server uses 0.
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 0
