import logging
import os
import warnings

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger("ptrade.celery")


def _patch_kombu_restore_unacked() -> None:
    """Keep the worker alive when the Redis broker goes away (docs/operations.md, "Faults and recovery").

    kombu 5.7.0 (the newest release; no fix upstream yet): when the broker connection is lost while
    the worker holds an unacknowledged message (every countdown/ETA task), celery closes the
    connection, the channel's ``close()`` calls ``QoS.restore_unacked()`` to push the messages back,
    and that builds a new Redis pool from a transport whose ``client`` was already cleared:
    ``AttributeError: 'NoneType' object has no attribute 'hostname'``. celery treats it as an
    unrecoverable error and the worker exits for good.

    Restoring cannot work at that moment anyway (Redis is down). The messages are not lost: the
    Redis transport wrote each delivered message into its ``unacked`` hash before handing it out,
    and ``restore_visible`` puts them back on the queue after ``visibility_timeout``; the beat
    sweep (``run_due_steps``) re-runs any due step regardless, and every step is idempotent. So a
    failed restore is logged and the worker goes on to reconnect.
    """
    try:
        from kombu.transport import redis as kombu_redis
    except ImportError:  # pragma: no cover - redis extra always installed
        return
    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "_ptrade_safe", False):
        return
    import redis

    def restore_unacked(self, client=None):  # type: ignore[no-untyped-def]
        try:
            return original(self, client)
        except (AttributeError, OSError, redis.exceptions.RedisError) as exc:
            pending = len(self._delivered)
            self._delivered.clear()
            logger.warning(
                "broker unreachable while restoring %d unacknowledged message(s) (%s: %s); they stay in the "
                "broker's unacked set and come back after visibility_timeout",
                pending,
                type(exc).__name__,
                exc,
            )
            return None

    restore_unacked._ptrade_safe = True  # type: ignore[attr-defined]
    kombu_redis.QoS.restore_unacked = restore_unacked


_patch_kombu_restore_unacked()


def _root_warning_handled() -> None:
    """Celery warns on every start under uid 0 (`make run` as root, e.g. in a throw-away VM) because a
    root worker that accepts pickle runs any code a broker client sends. This platform accepts JSON only
    (CELERY_ACCEPT_CONTENT; celery itself refuses to start as root with pickle unless C_FORCE_ROOT is
    set, and the platform never sets it), so the warning names a risk it does not run: it is filtered,
    and only while the accepted content is JSON alone. The container image runs as an unprivileged user.
    """
    from django.conf import settings

    if list(getattr(settings, "CELERY_ACCEPT_CONTENT", [])) != ["json"]:
        return
    from celery.exceptions import SecurityWarning

    warnings.filterwarnings("ignore", message=r"You're running the worker with superuser privileges",
                            category=SecurityWarning)


_root_warning_handled()

app = Celery("ptrade")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_heartbeat = None


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Each worker writes its heartbeat row (audit/health.py) until it stops."""
    global _heartbeat
    # Imported here: this module loads before Django's app registry (config/__init__.py), and
    # audit.health needs the audit models.
    from audit.health import HeartbeatThread

    hostname = getattr(sender, "hostname", None) or "worker"
    _heartbeat = HeartbeatThread(hostname)
    _heartbeat.start()


@worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:  # type: ignore[no-untyped-def]
    if _heartbeat is not None:
        _heartbeat.stop()
