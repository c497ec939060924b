"""The handbooks and certificate pages in Chromium, audited with axe-core: a trainer builds a handbook and watches
its progress, sets a class's certificate rule and issues one; the learner finds it; anyone verifies it. Screenshots
at 1280 and 390 px go to var/screenshots/delivery/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from classes import services as class_services
from classes.models import Class
from courseware.services import course_load
from delivery import handbooks
from delivery.models import Certificate, Handbook
from tests.browser.conftest import AuditedPage
from tests.browser.test_class_dashboard import _sign_in
from tests.classes.conftest import build_class_course, make_class

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.VAR_DIR) / "screenshots" / "delivery"


@pytest.fixture
def klass(ian: User, alice: User, tmp_path: Path) -> Class:
    klass = make_class(ian, course_load(build_class_course(tmp_path / "course")).course)
    class_services.membership_add(klass, alice, "code")
    return klass


def _shots(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_handbooks_and_certificates_pages(
    audited_page: AuditedPage, klass: Class, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = audited_page.page
    course = klass.course
    monkeypatch.setattr(handbooks, "pdf_missing", lambda: "")
    monkeypatch.setattr("delivery.views.pdf_missing", lambda: "")
    _sign_in(audited_page, "ian")
    audited_page.goto(reverse("delivery:handbooks", args=[course.slug]))
    audited_page.click_and_wait("button:has-text('Build the student handbook')")
    handbook = Handbook.objects.get(course=course, kind="student")
    assert page.is_visible("progress")
    Handbook.objects.filter(pk=handbook.pk).update(status="running", progress=45, stage="Laying out page 9")
    page.wait_for_selector("text=Laying out page 9")  # the page polls while a worker builds
    audited_page.audit()
    _shots(page, "handbooks-building")
    Handbook.objects.filter(pk=handbook.pk).update(status="ready", progress=100, pages=12, content=b"%PDF-1.7")
    page.wait_for_selector("text=Download the PDF")
    audited_page.audit()

    audited_page.goto(reverse("delivery:class_certificates", args=[klass.pk]))
    page.uncheck("#require-labs")
    audited_page.click_and_wait("button:has-text('Save the rule')")
    assert "(not required)" in page.inner_text("table")
    audited_page.click_and_wait("button:has-text('Issue')")
    certificate = Certificate.objects.get(user=alice)
    _shots(page, "class-certificates")

    audited_page.goto(reverse("delivery:verify", args=[certificate.code]))
    assert "Valid." in page.inner_text("main")
    _shots(page, "verify")

    audited_page.click_and_wait("button:has-text('Sign out')")
    _sign_in(audited_page, "alice")
    audited_page.goto(reverse("delivery:my_certificates"))
    assert course.title in page.inner_text("main") and page.is_visible("text=Public verification page")
    _shots(page, "my-certificates")
