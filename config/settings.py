"""Settings, all chosen by environment variables.

With nothing set the platform runs on embedded defaults: SQLite, the in-memory
channel layer and a Celery broker on the local file system (a real worker and
beat, no server needed). `DATABASE_URL` switches to PostgreSQL, `REDIS_URL` to
channels-redis and a Redis Celery broker. See docs/configuration.md.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PTRADE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _local_secret(name: str) -> str:
    """A random secret kept in var/ so that local runs survive restarts.

    Only for local runs: production sets the variable (checked below).
    """
    path = VAR_DIR / f".{name.lower()}"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DJANGO_DEBUG", False)
PRODUCTION = env_bool("PTRADE_PRODUCTION", False)
TESTING = env_bool("PTRADE_TESTING", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (
    "" if PRODUCTION else _local_secret("DJANGO_SECRET_KEY")
)
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY must be set when PTRADE_PRODUCTION is on")
# Known public values (documentation, old compose defaults) and weak keys are refused in production.
KNOWN_PUBLIC_SECRETS = {"change-me-compose-local-only", "change-me", "changeme", "secret", "dev", "insecure"}


def weak_secret(value: str) -> str | None:
    """Why `value` may not be a production secret, or None (length ≥ 50, ≥ 5 distinct characters)."""
    if value.strip().lower() in KNOWN_PUBLIC_SECRETS or value.startswith("django-insecure"):
        return "it is a known public value"
    if len(value) < 50 or len(set(value)) < 5:
        return "it is shorter than 50 characters or has fewer than 5 distinct characters"
    return None


if PRODUCTION and (_why := weak_secret(SECRET_KEY)):
    raise RuntimeError(f"DJANGO_SECRET_KEY is refused in production: {_why}")

ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
# The local server's port (bin/entrypoint local and web serve on $PORT); the default trusted
# origins follow it so that a `make run` on another port accepts its own forms.
PORT = os.environ.get("PORT") or "8000"
_ORIGINS = os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS") or f"http://127.0.0.1:{PORT},http://localhost:{PORT}"
CSRF_TRUSTED_ORIGINS = [o for o in _ORIGINS.split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular_sidecar",
    "drf_spectacular",
    "django_celery_beat",
    "axes",
    "channels",
    "audit",
    "accounts",
    "realtime",
    "credit",
    "trading",
    "trading.evaluation",
    "experts",
    "supervision",
    "smallworks",
    "bidding_ui",
    "auctions",
    "demo",  # seed_demo, demo_tender (sandbox only; refused in production)
]

MIDDLEWARE = [
    "config.security.SecurityHeadersMiddleware",  # first: drops an untrusted X-Forwarded-Proto, adds the CSP
    "config.shedding.DatabaseBusyMiddleware",  # outermost: no connection to be had → 503 (docs/operations.md)
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.InputSanitationMiddleware",  # NUL/surrogates refused; JSON errors under /api/
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "audit.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "config.api.csrf_failure"  # JSON under /api/ (docs/api.md)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bidding_ui.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # DB_CONN_MAX_AGE: 0 under ASGI (bin/entrypoint web forces it); see the budget block below.
    DATABASES = {"default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")), conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            # IMMEDIATE: writers take the lock at BEGIN, so two writers never
            # deadlock upgrading a read lock (the audit chain head relies on it).
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))

# --- Connection budget and shedding (docs/operations.md) -----------------------------
# A process never holds more than DB_MAX_CONNECTIONS connections (config/db_capped);
# the web admits WEB_MAX_INFLIGHT requests at once, queues WEB_MAX_QUEUE for at most
# WEB_QUEUE_TIMEOUT seconds and answers the rest 503 + Retry-After (config/shedding.py).
if IS_POSTGRES:
    DATABASES["default"]["ENGINE"] = "config.db_capped"
    DATABASES["default"]["MAX_CONNECTIONS"] = int(os.environ.get("DB_MAX_CONNECTIONS", "20"))
    DATABASES["default"]["CONNECTION_WAIT_SECONDS"] = float(os.environ.get("DB_CONNECTION_WAIT", "3"))
    # Behind PgBouncer in transaction mode a named cursor cannot outlive its transaction.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_POOLER_TRANSACTION_MODE", False)
WEB_MAX_INFLIGHT = int(os.environ.get("WEB_MAX_INFLIGHT", "16"))
WEB_MAX_QUEUE = int(os.environ.get("WEB_MAX_QUEUE", "64"))
WEB_QUEUE_TIMEOUT = float(os.environ.get("WEB_QUEUE_TIMEOUT", "2"))
WEB_RETRY_AFTER = int(os.environ.get("WEB_RETRY_AFTER", "2"))
# Socket commands that come in bursts (auction bids) run on a small pool of worker threads that
# keep their connection while busy (realtime/command_pool.py): part of DB_MAX_CONNECTIONS.
REALTIME_COMMAND_THREADS = int(os.environ.get("REALTIME_COMMAND_THREADS", "3"))
REALTIME_COMMAND_IDLE_SECONDS = float(os.environ.get("REALTIME_COMMAND_IDLE_SECONDS", "5"))
# Anonymous renderings of the public pages (notices, results, tender pages), seconds; 0 = off.
PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "30"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Auth ---------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Login rate limiting (django-axes): 5 failures per (username, IP) lock for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "passphrase"]
AXES_VERBOSE = False

# --- Client address and trusted proxies (docs/accounts.md "Client address") ---
# X-Forwarded-For is read only when the TCP peer is one of these (IPs or CIDRs; none by
# default). One function resolves the address for axes, throttles, upload facts and audit.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("PTRADE_TRUSTED_PROXIES", "").split(",") if p.strip()]
AXES_CLIENT_IP_CALLABLE = "config.clientip.client_ip"

# --- Security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- i18n -------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("PTRADE_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# Without collectstatic (make run) whitenoise serves straight from the apps.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
                    if PRODUCTION else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Redis, channels, cache -------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # PITFALLS.md: redis-py caps the asyncio pool; 1,000 sockets need more.
                "hosts": [{"address": REDIS_URL, "max_connections": 2000}],
                "capacity": 1000,
                "group_expiry": 3600,
                "prefix": os.environ.get("CHANNELS_PREFIX", "ptrade"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "ptrade"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache" if not TESTING
            else "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery -------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "celery-broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    # A hostname, although the file-system transport ignores it: kombu warns on every start without one.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Periodic tasks; every app appends its own (see each app's `schedule.py`).
CELERY_BEAT_SCHEDULE: dict = {}
# Broker outages (docs/operations.md, "Faults and recovery"): the worker retries the broker for
# ever (celery's default gives up after 100 attempts) and keeps its own heartbeat row.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("PTRADE_WORKER_HEARTBEAT_SECONDS", "15"))
WORKER_STALE_SECONDS = float(os.environ.get("PTRADE_WORKER_STALE_SECONDS", "60"))
# Files a fault left without their committed row are swept once older than this (trading/bids/sweeper.py).
ORPHAN_GRACE_SECONDS = float(os.environ.get("PTRADE_ORPHAN_GRACE_SECONDS", "3600"))

# --- Email (expert calls, docs/configuration.md "Email") ------------------------------------
# SMTP only when EMAIL_HOST is set; otherwise every message is written to a file under
# var/mail/ (EMAIL_BACKEND=console prints them instead), so a laptop never tries port 25.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
_email_choice = os.environ.get("EMAIL_BACKEND", "").strip().lower() or ("smtp" if EMAIL_HOST else "file")
if _email_choice not in _EMAIL_BACKENDS:
    raise RuntimeError(f"EMAIL_BACKEND must be one of {', '.join(_EMAIL_BACKENDS)}, not {_email_choice!r}")
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_choice]
if EMAIL_HOST:
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
    EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
_MAIL_DOMAIN = os.environ.get("PTRADE_PLATFORM_NAME", "ptrade.example.gov.cn")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or f"noreply@{_MAIL_DOMAIN}"

# --- DRF / OpenAPI ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.api.DefaultPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # DRF's parsers plus the checks of config/inputs.py (NUL, lone surrogates, depth): docs/api.md.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser", "config.parsers.StrictFormParser",
                               "config.parsers.StrictMultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "config.schema.ApiAutoSchema",  # documents the error responses (docs/api.md)
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_THROTTLE_RATE", "20/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Public-resource trading platform API",
    "DESCRIPTION": "Tenders, sealed bids, opening, deposits, expert drawing and the verifiable audit log.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # the plain Django views drf-spectacular cannot see (the streamed bid upload): config/schema.py
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.schema.postprocess_schema"],
    "ENUM_NAME_OVERRIDES": {
        "CreditRecordKindEnum": "credit.rules.RecordKind",
        "CreditRecordStatusEnum": "credit.models.RecordStatus",
        "CreditRequestKindEnum": "credit.models.RequestKind",
        "AuctionKindEnum": "auctions.models.Kind",
    },
}

# Auctions (docs/auctions.md): the timed round's countdown factor in a sandbox (0 = the sandbox acceleration).
AUCTION_ROOM_ACCELERATION = float(os.environ.get("PTRADE_AUCTION_ROOM_ACCELERATION", "0") or 0)

# --- Platform ------------------------------------------------------------------
PLATFORM_NAME = os.environ.get("PTRADE_PLATFORM_NAME", "ptrade.example.gov.cn")
# The trading centre that runs the platform: the publisher of its open data (docs/ocds.md).
CENTRE_NAME = os.environ.get("PTRADE_CENTRE_NAME", "市公共资源交易中心")
# Audit log origin line for checkpoints (SPECS.md §2).
AUDIT_LOG_ORIGIN = os.environ.get("PTRADE_AUDIT_ORIGIN", f"{PLATFORM_NAME}/audit")
# The platform's Ed25519 signing key (receipts, checkpoints): PEM file path.
PLATFORM_SIGNING_KEY_FILE = os.environ.get("PTRADE_SIGNING_KEY_FILE", str(VAR_DIR / "platform_ed25519.pem"))
# `manage.py flush` (used by transactional tests) may purge the audit table only when this is on.
AUDIT_ALLOW_FLUSH = TESTING
# Append-only file of every checkpoint note the platform signed (docs/audit.md, "Signing");
# default: beside the signing key, "<key file>.checkpoints.jsonl".
AUDIT_CHECKPOINT_JOURNAL = os.environ.get("PTRADE_CHECKPOINT_JOURNAL", "")
# Refused checkpoint signings stay red on the supervision dashboard this many days.
AUDIT_REFUSAL_DAYS = int(os.environ.get("PTRADE_AUDIT_REFUSAL_DAYS", "30"))
# Independent witnesses of the audit checkpoints (docs/witness.md): ";"-separated entries
# "<witness verifier key> <URL prefix of add-checkpoint>"; empty: none (bin/entrypoint local
# starts one and sets this). A checkpoint is published once AUDIT_WITNESS_QUORUM of them cosigned it.
AUDIT_WITNESSES = os.environ.get("PTRADE_WITNESSES", "")
AUDIT_WITNESS_QUORUM = int(os.environ.get("PTRADE_WITNESS_QUORUM", "1"))
AUDIT_WITNESS_TIMEOUT = float(os.environ.get("PTRADE_WITNESS_TIMEOUT", "10"))
# Or one witness whose verifier key is read from a file when needed (docker-compose.yml).
AUDIT_WITNESS_URL = os.environ.get("PTRADE_WITNESS_URL", "")
AUDIT_WITNESS_VKEY_FILE = os.environ.get("PTRADE_WITNESS_VKEY_FILE", "")

# Sandbox time (docs/configuration.md, "Sandbox clock"), all refused in production (trading/rules.py,
# trading/sandbox.py): legal periods (days) are divided by SANDBOX_TIME_ACCELERATION, the minute-scale
# windows of the live rooms (opening phases, expert calls) by SANDBOX_ROOM_ACCELERATION, and the
# sandbox clock an operator advances (`manage.py sandbox advance 20d`) is on outside production.
SANDBOX_TIME_ACCELERATION = float(os.environ.get("SANDBOX_TIME_ACCELERATION", "1"))
SANDBOX_ROOM_ACCELERATION = float(os.environ.get("SANDBOX_ROOM_ACCELERATION", "1"))
SANDBOX_CLOCK = env_bool("SANDBOX_CLOCK", not PRODUCTION and not TESTING)
if PRODUCTION:
    for _name, _on in (("SANDBOX_TIME_ACCELERATION", SANDBOX_TIME_ACCELERATION != 1),
                       ("SANDBOX_ROOM_ACCELERATION", SANDBOX_ROOM_ACCELERATION != 1), ("SANDBOX_CLOCK", SANDBOX_CLOCK)):
        if _on:
            raise RuntimeError(f"{_name} cannot be set in production")

# --- Optional deployment settings, from the environment only when set ------------
# Each app reads these at call time with its own default (docs/configuration.md lists
# them with their defaults); a deployment sets them here through the environment.
def _json_env(value: str):
    return json.loads(value)


def _list_env(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


_OPTIONAL_ENV: dict[str, Callable[[str], object]] = {
    "BANK_WEBHOOK_SECRET": lambda v: _list_env(v) if "," in v else v,
    "BANK_WEBHOOK_TOLERANCE_SECONDS": int,
    "DEPOSIT_INTEREST_RATE": str,  # a decimal string, never a float
    "DEPOSIT_DAY_COUNT_BASIS": int,
    "DEPOSIT_VIRTUAL_ACCOUNT_PREFIX": str,
    "DEPOSIT_GUARANTEE_VALIDITY_DAYS": int,
    "PLATFORM_COLLECTION_ACCOUNT": _json_env,  # {"bank": …, "account_name": …, "account_number": …}
    "TENDER_DOCUMENT_MAX_BYTES": int,
    "STEP_PRECISION_WINDOW": float,
    "OPENING_KEY_THRESHOLD": int,
    "ENVELOPE_STORE_DIR": str,
    "OPENED_BIDS_DIR": str,
    "OPENING_RECORDS_DIR": str,
    "EXPERTS_CONFIRMATION_MINUTES": float,
    "EXPERTS_SAME_TENDERER_CAP_PER_YEAR": int,
    "EXPERTS_GATEWAY_TIMEOUT": float,
    "EXPERTS_GATEWAY_MAX_SKEW": int,
    "SUPERVISION_YELLOW_DAYS": float,
    "SUPERVISION_STEP_GRACE_SECONDS": float,
    "SUPERVISION_ROOM_LOOKAHEAD_HOURS": float,
    "SUPERVISION_ROOM_LOOKBACK_DAYS": float,
    "COLLUSION_IGNORED_IPS": _list_env,
    "OCDS_OCID_PREFIX": str,
    "OCDS_BASE_URL": str,
    "OCDS_PUBLISHER_NAME": str,
    "OCDS_LICENSE": str,
    "OCDS_PUBLICATION_POLICY": str,
    "OCDS_STANDARD_ZIP": str,
}
for _name, _cast in _OPTIONAL_ENV.items():
    if os.environ.get(_name):
        globals()[_name] = _cast(os.environ[_name])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Each app's periodic tasks (its `schedule.py`: constants only, no Django imports).
from auctions.schedule import BEAT_SCHEDULE as _AUCTIONS_BEAT  # noqa: E402
from audit.schedule import BEAT_SCHEDULE as _AUDIT_BEAT  # noqa: E402
from experts.schedule import BEAT_SCHEDULE as _EXPERTS_BEAT  # noqa: E402
from supervision.schedule import BEAT_SCHEDULE as _SUPERVISION_BEAT  # noqa: E402
from trading.schedule import BEAT_SCHEDULE as _TRADING_BEAT  # noqa: E402

for _app_beat in (_AUDIT_BEAT, _TRADING_BEAT, _EXPERTS_BEAT, _SUPERVISION_BEAT, _AUCTIONS_BEAT):
    CELERY_BEAT_SCHEDULE.update(_app_beat)

# --- Production hardening (docs/configuration.md "Production") -----------
# The webhook and gateway secrets are separate variables in production, never derived from
# the secret key (whoever learns one must not be able to forge deposit notifications).
if PRODUCTION:
    for _name in ("BANK_WEBHOOK_SECRET", "EXPERTS_GATEWAY_SECRET"):
        _value = os.environ.get(_name, "")
        for _part in _list_env(_value) or [""]:
            if len(_part) < 32 or _part == SECRET_KEY or _part.lower() in KNOWN_PUBLIC_SECRETS:
                raise RuntimeError(f"{_name} must be set in production (at least 32 characters, not the secret key)")
    EXPERTS_GATEWAY_SECRET = os.environ["EXPERTS_GATEWAY_SECRET"]
    SECURE_SSL_REDIRECT = env_bool("PTRADE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("PTRADE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PTRADE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("PTRADE_HSTS_PRELOAD", True)
    # Honoured only when it survives config.security: sent by a TRUSTED_PROXIES peer.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Request body limits enforced before a body is read (config/bodylimit.py; defaults there).
for _name in ("REQUEST_BODY_MAX_BYTES", "BANK_WEBHOOK_BODY_MAX_BYTES"):
    if os.environ.get(_name):
        globals()[_name] = int(os.environ[_name])
