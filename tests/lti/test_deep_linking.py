"""Deep linking end to end: an LMS instructor picks activities; the platform stores the links and line items."""

from __future__ import annotations

import re
from html import unescape

import pytest
import requests
from django.test import Client

from courseware.models import Course, Item
from lti.models import Platform
from tests.lti.conftest import lms_launch
from tests.lti.platform import INSTRUCTOR, LEARNER, LoopbackPlatform, Message, Person

pytestmark = pytest.mark.django_db

IVAN = Person("u-ivan", [INSTRUCTOR], name="Ivan Petrov", email="ivan@uni.test")
ANNA = Person("u-anna", [LEARNER], name="Anna Berg")


def pick_form(course: Course, **picks: dict[str, str]) -> dict[str, str]:
    data = {}
    for slug, fields in picks.items():
        item = Item.objects.get(course=course, slug=slug)
        data[f"pick-{item.pk}"] = "on"
        for name, value in fields.items():
            data[f"{name}-{item.pk}"] = value
    return data


def test_an_instructor_adds_a_lesson_a_quiz_and_a_lab_to_the_lms_course(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    client = Client()
    response = lms_launch(client, lms, Message(IVAN, kind="deep"))
    assert response.status_code == 302
    picker = client.get(response["Location"])
    text = picker.content.decode()
    assert picker.status_code == 200
    assert "Lab: " in text and "Quiz: " in text and "Lesson: " in text
    assert picker["Content-Security-Policy"].endswith(f"frame-ancestors 'self' {lms.base}")

    chosen = pick_form(
        course,
        intro={},
        **{"basics-quiz": {"max": "10", "title": "Quiz 1"}, "io-trap-trace": {"max": "50"}},
    )
    page = client.post(response["Location"], chosen)
    assert page.status_code == 200
    html = page.content.decode()
    return_url = unescape(re.search(r'action="([^"]+)" data-lti-autosubmit', html).group(1))
    token = re.search(r'name="JWT" value="([^"]+)"', html).group(1)
    assert return_url == lms.url("/deep_link_return")
    assert "js/lti-autosubmit.js" in html and "<script>" not in html

    # The browser posts the signed response to the LMS, which verifies it against our JWKS.
    saved = requests.post(return_url, data={"JWT": token}, timeout=5)
    assert saved.status_code == 200, saved.text
    items = {item["title"]: item for item in lms.deep_link_items}
    assert len(items) == 3
    quiz = items["Quiz 1"]
    assert quiz["type"] == "ltiResourceLink"
    assert quiz["url"] == "http://testserver/lti/launch/"
    assert quiz["custom"] == {"course": "sample", "quiz": "basics-quiz"}
    assert quiz["lineItem"]["scoreMaximum"] == 10
    lab = next(item for item in items.values() if item["custom"].get("lab"))
    assert lab["lineItem"]["scoreMaximum"] == 50
    lesson = next(item for item in items.values() if item["custom"].get("lesson"))
    assert "lineItem" not in lesson
    assert sorted(item["scoreMaximum"] for item in lms.lineitems.values()) == [10, 50]

    # A learner follows the new quiz link from the LMS and lands on the quiz.
    learner = lms_launch(Client(), lms, Message(ANNA, custom=quiz["custom"], resource_link_id="rl-quiz"))
    assert learner["Location"] == "/courses/sample/quizzes/basics-quiz/"


def test_a_bad_maximum_score_is_explained_and_the_other_choices_are_kept(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    client = Client()
    picker_url = lms_launch(client, lms, Message(IVAN, kind="deep"))["Location"]
    chosen = pick_form(course, **{"basics-quiz": {"max": "-3"}, "io-trap-trace": {"max": "50", "title": "My lab"}})
    page = client.post(picker_url, chosen)
    text = page.content.decode()
    assert page.status_code == 400
    assert "The maximum score must be a number above 0 and at most 10000." in text
    assert 'value="My lab"' in text and 'value="-3"' in text
    assert client.post(picker_url, {}).status_code == 400
    assert lms.deep_link_items == []


def test_a_learner_cannot_add_activities(registered: Platform, lms: LoopbackPlatform, course: Course) -> None:
    client = Client()
    response = lms_launch(client, lms, Message(ANNA, kind="deep"))
    assert response.status_code == 400
    assert "Only the course&#x27;s instructors can add Hyper-V Lab activities to it." in response.content.decode()
    assert client.session.get("_auth_user_id") is None


def test_the_picker_belongs_to_the_instructor_who_opened_it(
    registered: Platform, lms: LoopbackPlatform, course: Course, olga_client: Client
) -> None:
    picker_url = lms_launch(Client(), lms, Message(IVAN, kind="deep"))["Location"]
    assert olga_client.get(picker_url).status_code == 404


def test_the_picker_costs_the_same_queries_for_one_course_or_two(
    registered: Platform, lms: LoopbackPlatform, course: Course, tmp_path: object, django_assert_num_queries: object
) -> None:
    from pathlib import Path

    from courseware.services import course_load
    from tests.labs.conftest import build_lab_course

    client = Client()
    picker_url = lms_launch(client, lms, Message(IVAN, kind="deep"))["Location"]
    client.get(picker_url)  # warm the session and the cached user
    with django_assert_num_queries(2):  # type: ignore[operator]
        assert client.get(picker_url).status_code == 200
    course_load(build_lab_course(Path(str(tmp_path)) / "more", ["io-trap-trace"]))
    with django_assert_num_queries(2):  # type: ignore[operator]
        page = client.get(picker_url)
    assert "Lab course" in page.content.decode()
