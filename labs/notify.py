"""Push a lab run's result to the page that waits for it: a notification when the result is committed, and a
bounded wait (the long-poll of `labs:run?wait=N`) that returns as soon as it arrives.

The database row stays the only source of truth: a notification is a nudge to re-read the row, never the result.
With Redis (REDIS_URL) the worker publishes on a channel per run and every web process on every machine that waits
for that run hears it; a waiter subscribes first and then reads the row, so a result stored in between is never
missed. Without Redis (the embedded default of `make run`) the waiter re-reads the row on a short interval instead.
A lost notification (Redis restarting) costs at most the wait's bound, after which the page asks again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

# Without Redis: re-read the row this often during the first seconds (results usually come in tens of ms),
# then less often, so that a run left pending by a stopped worker costs a few queries per second, not dozens.
FAST_RECHECK_SECONDS = 0.03
SLOW_RECHECK_SECONDS = 0.5
FAST_PERIOD_SECONDS = 3.0

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _redis() -> Any | None:
    """One client (and connection pool) per process and URL, or None without Redis."""
    url = getattr(settings, "LAB_NOTIFY_REDIS_URL", None) or settings.REDIS_URL
    if not url:
        return None
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis

            client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
        return client


def channel(run_id: int) -> str:
    """The pub/sub channel that announces run `run_id`'s result (prefixed, so tests can use their own)."""
    return f"{settings.LAB_NOTIFY_PREFIX}:lab-run:{run_id}"


def lab_run_finished(run_id: int) -> None:
    """Announce that run `run_id`'s result is committed; never raises (the waiter re-reads the row anyway)."""
    client = _redis()
    if client is None:
        return
    try:
        client.publish(channel(run_id), b"1")
    except Exception:  # noqa: BLE001 - a Redis outage delays the page by at most one wait, it loses nothing
        log.warning("could not announce lab run %s; its page will see it on its next wait", run_id, exc_info=True)


def wait_for_run(run_id: int, is_done: Callable[[], bool], timeout: float) -> bool:
    """Block until `is_done()` (a re-read of the row) is true or `timeout` seconds pass; return the last answer."""
    return wait_for_runs([run_id], is_done, timeout)


def wait_for_runs(run_ids: Sequence[int], is_done: Callable[[], bool], timeout: float) -> bool:
    """As wait_for_run, woken by the result of any of `run_ids` (is_done says whether it is the last one needed)."""
    deadline = time.monotonic() + max(0.0, timeout)
    client = _redis()
    if client is not None:
        try:
            return _wait_on_redis(client, run_ids, is_done, deadline)
        except Exception:  # noqa: BLE001 - Redis down: fall back to re-reading the row
            log.warning("lab run wait: Redis unavailable, re-reading the row instead", exc_info=True)
    return _wait_on_database(is_done, deadline)


def _wait_on_redis(client: Any, run_ids: Sequence[int], is_done: Callable[[], bool], deadline: float) -> bool:
    pubsub = _thread_pubsub(client)
    try:
        for _ in range(1000):  # drop what an earlier wait left in the connection (it predates this wait's first read)
            if pubsub.connection is None or not pubsub.connection.can_read(timeout=0):
                break
            pubsub.get_message(timeout=0)
        pubsub.subscribe(*(channel(run_id) for run_id in run_ids))
        # Subscribed before reading the row: a result committed from now on is either in the row or announced.
        if is_done():
            return True
        while (remaining := deadline - time.monotonic()) > 0:
            message = pubsub.get_message(timeout=min(remaining, 5.0))
            # Another deployment sharing this Redis may reuse the run id, and a message for an earlier wait of this
            # thread may still be in the connection: a message is only a reason to re-read.
            if message is not None and message.get("type") == "message" and is_done():
                return True
        return is_done()
    except BaseException:
        _drop_thread_pubsub()
        raise
    finally:
        if getattr(_local, "pubsub", None) is pubsub:
            pubsub.unsubscribe()


_local = threading.local()


def _thread_pubsub(client: Any) -> Any:
    """This thread's subscriber connection, kept between waits: redis-py's PubSub.close() drops its connection, and
    a new connection and subscription per wait cost more than the rest of an inline wait."""
    pubsub = getattr(_local, "pubsub", None)
    if pubsub is None or getattr(_local, "client", None) is not client:
        _drop_thread_pubsub()
        pubsub = _local.pubsub = client.pubsub(ignore_subscribe_messages=True)
        _local.client = client
    return pubsub


def _drop_thread_pubsub() -> None:
    pubsub = getattr(_local, "pubsub", None)
    _local.pubsub = None
    if pubsub is not None:
        try:
            pubsub.close()
        except Exception:  # noqa: BLE001 - a broken connection is closed as well as it can be, then forgotten
            log.debug("could not close a lab-run subscriber", exc_info=True)


def _wait_on_database(is_done: Callable[[], bool], deadline: float) -> bool:
    started = time.monotonic()
    while True:
        if is_done():
            return True
        now = time.monotonic()
        if now >= deadline:
            return False
        interval = FAST_RECHECK_SECONDS if now - started < FAST_PERIOD_SECONDS else SLOW_RECHECK_SECONDS
        time.sleep(min(interval, deadline - now))
