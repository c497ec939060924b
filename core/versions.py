"""Version stamps in the cache: a random token per name that a write replaces, so that every cache entry keyed by
the old token is retired at once (nothing has to find and delete it).

A bump happens now and again after the transaction commits: a reader that loaded the old rows in between caches its
result under a token that the second bump retires. A token lost from the cache (eviction, flush) is simply drawn
anew, which retires the entries keyed by it too.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction


def current(*names: str) -> dict[str, str]:
    """The current token of each name (one cache round trip when all exist; a missing one is created)."""
    found = cache.get_many(names)
    for name in names:
        if name not in found:
            cache.add(name, uuid.uuid4().hex, None)
            found[name] = cache.get(name) or "0"
    return {name: str(found[name]) for name in names}


def _replace(name: str) -> None:
    cache.set(name, uuid.uuid4().hex, None)


def bump(name: str) -> None:
    """Retire every entry keyed by the current token of `name`: now, and again once the transaction commits."""
    _replace(name)
    transaction.on_commit(lambda: _replace(name))
