"""A fixed-window counter in the cache: the one rate limiter of the project (wrong join codes, sign-ups).

The counter lives in the shared cache (Redis in production), so every web process sees the same count. A window
starts with the first event under a key and ends `window_seconds` later.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache


def count(key: str) -> int:
    """How many events `key` has in its current window (0 when none)."""
    return int(cache.get(key, 0))


def hit(key: str, window_seconds: int) -> int:
    """Count one event under `key` and return the new count; the first event opens a window of `window_seconds`."""
    if isinstance(cache, RedisCache):  # one round trip, atomic, where the generic add-then-incr takes three
        return _hit_on_redis(cache, key, window_seconds)
    if cache.add(key, 1, window_seconds):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # the window closed between add() and incr()
        cache.set(key, 1, window_seconds)
        return 1


def _hit_on_redis(redis_cache: Any, key: str, window_seconds: int) -> int:
    """SET NX EX opens the window, INCR counts, in one MULTI/EXEC: the key cannot expire between the two, so the
    counter never loses its expiry. The value is a plain integer, as the cache stores ints: count() reads it."""
    full_key = redis_cache.make_and_validate_key(key)
    client = redis_cache._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(full_key, 0, ex=max(1, int(window_seconds)), nx=True)
        pipe.incr(full_key)
        _, value = pipe.execute()
    return int(value)


def client_address(request: object) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the outermost of them
    appended to X-Forwarded-For (entries further left are whatever the client sent, so they are never trusted)."""
    from django.conf import settings

    meta = getattr(request, "META", {})
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies:
        forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(meta.get("REMOTE_ADDR") or "unknown")
