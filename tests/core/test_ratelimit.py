"""The fixed-window counter (core.ratelimit): the generic cache path, and on Redis one atomic round trip."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache.backends.redis import RedisCache

from core import ratelimit
from tests.local_services import REDIS_URL, answers


def test_hits_count_up_within_a_window_and_count_reads_them() -> None:
    key = f"test:{uuid.uuid4().hex}"
    assert ratelimit.count(key) == 0
    assert [ratelimit.hit(key, 60) for _ in range(3)] == [1, 2, 3]
    assert ratelimit.count(key) == 3


@pytest.fixture
def redis_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not answers("127.0.0.1", 6379):
        pytest.skip("no Redis on 127.0.0.1:6379")
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"})
    monkeypatch.setattr(ratelimit, "cache", backend)
    yield backend  # never clear(): that empties the whole Redis database, which others share; the test deletes its key


def test_on_redis_one_round_trip_counts_and_the_window_keeps_its_expiry(redis_cache: Any) -> None:
    key = f"labs:submissions:{uuid.uuid4().hex}"
    client = redis_cache._cache.get_client(write=True)
    full_key = redis_cache.make_and_validate_key(key)
    sent: list[Any] = []
    original = client.connection_pool.get_connection

    def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append(args)
        return original(*args, **kwargs)

    client.connection_pool.get_connection = counting
    try:
        assert [ratelimit.hit(key, 60) for _ in range(3)] == [1, 2, 3]
    finally:
        client.connection_pool.get_connection = original
    assert len(sent) == 3, "one connection use (one pipeline) per hit"
    assert ratelimit.count(key) == 3, "count() reads what hit() stored, through the cache"
    assert 0 < client.ttl(full_key) <= 60, "the window's expiry is set by the first hit and kept"
    client.delete(full_key)
    assert ratelimit.hit(key, 60) == 1, "a closed window starts again at 1"
    client.delete(full_key)
