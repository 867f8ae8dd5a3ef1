"""The worker survives a broker outage (issue 20, item 2): kombu's restore_unacked no longer kills it.

The real thing (a worker holding a countdown task while Redis is killed) is in tests/faults/;
this checks the patch of config/celery.py on the exact failure kombu 5.7.0 raised."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

from kombu.transport import redis as kombu_redis

import config.celery  # noqa: F401 - applies the patch


def test_restore_unacked_with_the_transport_gone_is_logged_not_raised(caplog):
    @contextlib.contextmanager
    def conn_or_acquire(client=None):
        # What kombu 5.7.0 does once the connection cleared the transport's client.
        raise AttributeError("'NoneType' object has no attribute 'hostname'")
        yield  # pragma: no cover

    qos = SimpleNamespace(channel=SimpleNamespace(conn_or_acquire=conn_or_acquire), _delivered={"tag-1": object()})
    assert kombu_redis.QoS.restore_unacked(qos) is None
    assert qos._delivered == {}
    assert "broker unreachable while restoring 1 unacknowledged message(s)" in caplog.text
