"""End to end: a trainer's request enqueues the handbook task after commit and a real Celery worker lays out the PDF
and records it (and its progress) in the row."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from classes.models import Class
from delivery.models import Handbook
from delivery.pdf import pdf_missing
from tests.core.worker import celery_worker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(bool(pdf_missing()), reason="WeasyPrint cannot run here"),
]


def test_a_real_worker_builds_the_requested_handbook(ian_client: Client, klass: Class, settings: Any) -> None:
    with celery_worker() as (process, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        response = ian_client.post(reverse("delivery:handbook_build", args=[klass.course.slug, "instructor"]))
        assert response.status_code == 303
        done = wait_for(
            lambda: Handbook.objects.filter(status__in=["ready", "failed"]).exists(), timeout=180, interval=0.5
        )
        assert process.poll() is None, "the worker died"
    assert done, "the worker never finished the handbook"
    handbook = Handbook.objects.get()
    assert (handbook.status, handbook.progress, handbook.stage) == ("ready", 100, "Ready"), handbook.error
    assert handbook.pages >= 5 and bytes(handbook.content).startswith(b"%PDF-")
    page = ian_client.get(reverse("delivery:handbooks", args=[klass.course.slug])).content.decode()
    assert f"{handbook.pages} pages" in page and "Download the PDF" in page
