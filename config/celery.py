"""The Celery application: configured from Django settings (CELERY_*), tasks discovered per app."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# `filesystem://` (the embedded default) uses kombu's transport with atomic writes (core/fs_transport.py).
TRANSPORT_ALIASES["filesystem"] = "core.fs_transport:Transport"

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
