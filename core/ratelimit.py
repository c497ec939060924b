"""A fixed-window counter in the cache: the one rate limiter of the project (wrong join codes, sign-ups).

The counter lives in the shared cache (Redis in production), so every web process sees the same count. A window
starts with the first event under a key and ends `window_seconds` later.
"""

from __future__ import annotations

from django.core.cache import cache


def count(key: str) -> int:
    """How many events `key` has in its current window (0 when none)."""
    return int(cache.get(key, 0))


def hit(key: str, window_seconds: int) -> int:
    """Count one event under `key` and return the new count; the first event opens a window of `window_seconds`."""
    if cache.add(key, 1, window_seconds):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # the window closed between add() and incr()
        cache.set(key, 1, window_seconds)
        return 1


def client_address(request: object) -> str:
    """The client's address as the web server saw it (REMOTE_ADDR; a proxy in front must set it, e.g. gunicorn's
    --forwarded-allow-ips with the proxy's X-Forwarded-For handled by the proxy)."""
    meta = getattr(request, "META", {})
    return str(meta.get("REMOTE_ADDR") or "unknown")
