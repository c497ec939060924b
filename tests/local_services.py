"""Whether the local services answer (Redis on 127.0.0.1:6379): for the tests that need one. CI starts it, and
.ci/run fails when a test is skipped, so a skip here is only ever seen on a developer's machine."""

from __future__ import annotations

import socket

import pytest

REDIS_URL = "redis://127.0.0.1:6379/0"


def answers(host: str, port: int, timeout: float = 0.3) -> bool:
    """Whether something accepts a TCP connection on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not answers("127.0.0.1", 6379), reason="no Redis on 127.0.0.1:6379")
