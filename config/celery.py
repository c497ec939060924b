"""The Celery application: configured from Django settings (CELERY_*), tasks discovered per app."""

import gc
import os
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# `filesystem://` (the embedded default) uses kombu's transport with atomic writes (core/fs_transport.py).
TRANSPORT_ALIASES["filesystem"] = "core.fs_transport:Transport"

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def _freeze_loaded_objects(**kwargs: Any) -> None:
    """A worker process keeps what it loaded at start for its whole life: as in config/wsgi.py, take it out of the
    garbage collector's generations, so that collections during a run scan only what runs make."""
    gc.freeze()
