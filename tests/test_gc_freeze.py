"""Web and worker processes take what they loaded at start out of the garbage collector's generations (gc.freeze),
so that a full collection during a request or a run does not scan Django and the apps each time."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator

import pytest


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    yield
    gc.unfreeze()  # the test process itself keeps collecting as usual


def test_the_wsgi_entry_point_freezes_what_it_loaded(unfrozen: None) -> None:
    import config.wsgi

    importlib.reload(config.wsgi)
    assert gc.get_freeze_count() > 10_000, "Django and the apps are frozen"


def test_a_worker_process_freezes_what_it_inherited(unfrozen: None) -> None:
    from celery.signals import worker_process_init

    from config.celery import _freeze_loaded_objects

    connected = [receiver() if callable(receiver) else None for _, receiver in worker_process_init.receivers]
    assert _freeze_loaded_objects in connected, "it runs in each worker process as it starts"
    _freeze_loaded_objects()  # not the signal itself: Celery's own receivers would close this process's connections
    assert gc.get_freeze_count() > 10_000
