"""Test settings: the real settings with test switches on (set before import)."""

import os
import tempfile

os.environ["PTRADE_TESTING"] = "1"
os.environ.setdefault("PTRADE_VAR_DIR", os.path.join(tempfile.gettempdir(), "ptrade-test-var"))

from config.settings import *  # noqa: E402,F403
from config.settings import DATABASES, VAR_DIR  # noqa: E402

# Hashing with Argon2 costs ~50 ms per password; tests that check Argon2 use the
# production list explicitly (tests/accounts/test_security.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = VAR_DIR / "media"
AUDIT_ALLOW_FLUSH = True
# One test database per process, so that concurrent runs (developers, CI) never clash.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}
# Tests read English unless they ask for Chinese (Accept-Language, translation.override):
# the platform's default is zh-hans, and the zh_Hans catalog (locale/) translates every
# message. tests/bidding_ui/test_i18n.py checks the Chinese default explicitly.
LANGUAGE_CODE = "en"
# Cache keys (throttle counters) per test process, so parallel runs never share them.
# One cache namespace per process too: the public page cache's generation lives in Redis and
# would otherwise be bumped by a concurrent run's tests.
if "KEY_PREFIX" in CACHES["default"]:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = f"{CACHES['default']['KEY_PREFIX']}-test-{os.getpid()}"  # noqa: F405
# The channel layer's groups per test process as well: two runs on one Redis both have a tender 1,
# and a socket of one run must not receive the other run's pushes (docs/testing.md).
if "prefix" in CHANNEL_LAYERS["default"].get("CONFIG", {}):  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{CHANNEL_LAYERS['default']['CONFIG']['prefix']}-test-{os.getpid()}"  # noqa: F405, E501
