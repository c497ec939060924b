"""LTI in Chromium: a learner opens the activity inside the LMS's iframe, an instructor picks activities there.

The loopback platform (tests/lti/platform.py) serves the LMS course page with the iframe, and answers the
authentication request with a self-posting form, as an LMS does. The frame shows our pages only because the
launch allowed the platform's origin in `frame-ancestors` (X-Frame-Options DENY otherwise); each framed page is
audited with axe-core like every page the other browser tests visit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from courseware.services import course_load
from lti.models import Deployment, Platform
from tests.browser.conftest import AXE_JS, AuditedPage, wait_for_js
from tests.classes.conftest import build_class_course
from tests.lti.platform import INSTRUCTOR, LEARNER, LoopbackPlatform, Message, Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lms(live_server: Any, tmp_path: Path) -> Iterator[LoopbackPlatform]:
    course_load(build_class_course(tmp_path / "sample-course"))
    platform = LoopbackPlatform(tool_base=live_server.url, host="localhost", html=True)
    registered = Platform.objects.create(name="Loopback LMS", **platform.registration_fields())
    Deployment.objects.create(platform=registered, deployment_id=platform.deployment_id)
    platform.tool_key_set = Client().get("/lti/jwks.json").json()
    yield platform
    platform.close()


def tool_frame(page: Any, path: str) -> Any:
    """The iframe once it shows our page at `path` (waiting through the login and launch navigations)."""
    wait_for_js(page, "document.querySelectorAll('iframe').length > 0")
    for _ in range(150):
        frame = next((f for f in page.frames if f.url.split("?")[0].endswith(path)), None)
        if frame is not None:
            frame.wait_for_load_state("load")
            return frame
        page.wait_for_timeout(100)
    raise AssertionError(f"the frame never showed {path}: {[f.url for f in page.frames]}")


def audit_frame(frame: Any) -> None:
    frame.evaluate(AXE_JS.read_text() + "\n;true")
    violations = frame.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id + ': ' + v.help)"""
    )
    assert not violations, violations


def test_a_learner_opens_a_lesson_inside_the_lms_frame(audited_page: AuditedPage, lms: LoopbackPlatform) -> None:
    page = audited_page.page
    message = Message(Person("u-anna", [LEARNER], name="Anna Berg"), custom={"course": "sample", "lesson": "intro"})
    page.goto(lms.course_page_url(message))
    audited_page.audit()
    frame = tool_frame(page, "/courses/sample/lessons/intro/")
    assert "Anna Berg" in frame.inner_text("header") or "lti-" in frame.inner_text("header")
    assert frame.locator("h1").count() == 1
    audit_frame(frame)
    audited_page.assert_clean()


def test_an_instructor_picks_activities_inside_the_lms_frame(audited_page: AuditedPage, lms: LoopbackPlatform) -> None:
    page = audited_page.page
    page.goto(lms.course_page_url(Message(Person("u-ivan", [INSTRUCTOR], name="Ivan"), kind="deep")))
    audited_page.audit()
    frame = None  # the picker's URL has a random key
    for _ in range(150):
        frame = next((f for f in page.frames if "/lti/deep-link/" in f.url), None)
        if frame is not None:
            break
        page.wait_for_timeout(100)
    assert frame is not None, [f.url for f in page.frames]
    frame.wait_for_load_state("load")
    audit_frame(frame)
    item_id = frame.locator("label", has_text="Quiz: Basics check").get_attribute("for").split("-", 1)[1]
    frame.check(f"#pick-{item_id}")
    frame.fill(f"#max-{item_id}", "10")
    frame.click("form.lti-picker button[type=submit]")
    for _ in range(150):
        if lms.deep_link_items:
            break
        page.wait_for_timeout(100)
    assert [item["custom"] for item in lms.deep_link_items] == [{"course": "sample", "quiz": "basics-quiz"}]
    audited_page.assert_clean()
