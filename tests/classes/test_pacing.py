"""Pacing: a paced class's closed modules are refused by the server (403 with the message) and shown as closed in
the outline; self-paced learners, unpaced classes and ended classes see everything open."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from classes import pacing, services
from classes.models import Class
from courseware.models import Course, Item, Module
from labs import services as lab_services
from labs.models import Lab
from tests.classes.conftest import make_class

pytestmark = pytest.mark.django_db
MESSAGE = "opens when your instructor starts it"


@pytest.fixture
def paced(ian: User, course: Course, alice: User) -> Class:
    klass = make_class(ian, course, paced=True)
    services.membership_add(klass, alice, "code")
    return klass


def _urls(course: Course) -> dict[str, str]:
    return {
        "lesson": reverse("courseware:lesson", args=[course.slug, "synthetic-devices"]),
        "quiz": reverse("courseware:quiz", args=[course.slug, "devices-quiz"]),
        "lab": reverse("labs:lab", args=[course.slug, "io-trap-trace"]),
        "open lesson": reverse("courseware:lesson", args=[course.slug, "intro"]),
    }


def test_a_self_paced_learner_sees_everything_open(course: Course, alice: User, alice_client: Client) -> None:
    for name, url in _urls(course).items():
        assert alice_client.get(url).status_code == 200, name
    assert MESSAGE not in alice_client.get(reverse("courseware:outline", args=[course.slug])).content.decode().lower()


def test_closed_modules_are_refused_with_the_message(paced: Class, course: Course, alice_client: Client) -> None:
    urls = _urls(course)
    for name in ("lesson", "quiz", "lab"):
        response = alice_client.get(urls[name])
        assert response.status_code == 403, name
        assert MESSAGE in response.content.decode(), name
    complete = reverse("courseware:lesson_complete", args=[course.slug, "synthetic-devices"])
    assert alice_client.post(complete).status_code == 403


def test_lab_posts_are_refused_while_the_module_is_closed(
    paced: Class, course: Course, alice: User, alice_client: Client
) -> None:
    lab = Lab.objects.get(item__slug="io-trap-trace", item__course=course)
    attempt = lab_services.lab_attempt_current(alice, lab)  # started earlier, say, before the instructor closed it
    data = {"source": "reboot", "client_token": str(uuid.uuid4()), "check": "x", "form": "scope", "name": "s"}
    for name in ("labs:console", "labs:check", "labs:hint", "labs:azman"):
        response = alice_client.post(reverse(name, kwargs={"attempt_id": attempt.pk}), data)
        assert response.status_code == 403, name
    assert attempt.actions.count() == 0 and attempt.runs.count() == 0


def test_opening_a_module_opens_its_items(
    paced: Class, course: Course, ian: User, ian_client: Client, alice_client: Client
) -> None:
    outline = reverse("courseware:outline", args=[course.slug])
    assert alice_client.get(outline).content.decode().count("Opens when your instructor starts it") == 3
    devices = Module.objects.get(course=course, slug="devices")
    response = ian_client.post(reverse("classes:pacing", args=[paced.pk]), {"action": "open", "module": devices.pk})
    assert response.status_code == 303
    for name, url in _urls(course).items():
        if name != "open lesson":
            assert alice_client.get(url).status_code == 200, name
    assert alice_client.get(outline).content.decode().count("Opens when your instructor starts it") == 2
    ian_client.post(reverse("classes:pacing", args=[paced.pk]), {"action": "close", "module": devices.pk})
    assert alice_client.get(_urls(course)["lesson"]).status_code == 403


def test_open_all_opens_every_module(paced: Class, course: Course, ian_client: Client, alice_client: Client) -> None:
    ian_client.post(reverse("classes:pacing", args=[paced.pk]), {"action": "open_all"})
    for name, url in _urls(course).items():
        assert alice_client.get(url).status_code == 200, name


def test_any_class_with_the_module_open_is_enough(
    paced: Class, course: Course, olga: User, alice: User, alice_client: Client
) -> None:
    other = make_class(olga, course, paced=False, title="Unpaced")
    services.membership_add(other, alice, "csv")
    assert alice_client.get(_urls(course)["lesson"]).status_code == 200


def test_an_ended_class_no_longer_paces(paced: Class, course: Course, alice_client: Client) -> None:
    Class.objects.filter(pk=paced.pk).update(
        starts_on=timezone.localdate() - timedelta(days=10), ends_on=timezone.localdate() - timedelta(days=1)
    )
    assert alice_client.get(_urls(course)["lesson"]).status_code == 200


def test_item_is_open_for(paced: Class, course: Course, alice: User, bob: User, ian: User) -> None:
    item = Item.objects.get(course=course, slug="synthetic-devices")
    assert pacing.item_is_open_for(alice, item) == (False, pacing.CLOSED_MESSAGE)
    assert pacing.item_is_open_for(bob, item) == (True, "")
    assert pacing.item_is_open_for(ian, item) == (True, "")  # instructors are not students of their class


def test_a_self_paced_learner_costs_no_query_and_an_enrolled_one_one(
    paced: Class, course: Course, alice: User, bob: User, django_assert_num_queries: Any
) -> None:
    item = Item.objects.get(course=course, slug="synthetic-devices")
    pacing.refresh(bob)
    pacing.refresh(alice)
    with django_assert_num_queries(0):
        pacing.item_is_open_for(bob, item)
    with django_assert_num_queries(1):
        pacing.item_is_open_for(alice, item)


def test_joining_refreshes_the_cache_so_pacing_applies_at_once(
    ian: User, course: Course, bob: User, bob_client: Client
) -> None:
    klass = make_class(ian, course, paced=True)
    url = _urls(course)["lesson"]
    assert bob_client.get(url).status_code == 200
    bob_client.post(reverse("classes:join"), {"code": klass.join_code})
    assert bob_client.get(url).status_code == 403


def test_a_cache_miss_reads_the_memberships(paced: Class, course: Course, alice: User) -> None:
    cache.delete(pacing._cache_key(alice))
    item = Item.objects.get(course=course, slug="synthetic-devices")
    assert pacing.item_is_open_for(alice, item)[0] is False


def test_a_deleted_class_leaves_its_students_self_paced(paced: Class, course: Course, alice_client: Client) -> None:
    paced.delete()  # the cached enrolment is stale now
    assert alice_client.get(_urls(course)["lesson"]).status_code == 200
    assert "Opens when" not in alice_client.get(reverse("courseware:outline", args=[course.slug])).content.decode()


def test_a_membership_added_in_the_admin_applies_pacing_at_once(
    ian: User, course: Course, bob: User, bob_client: Client
) -> None:
    from classes.models import Membership

    klass = make_class(ian, course, paced=True)
    url = _urls(course)["lesson"]
    assert bob_client.get(url).status_code == 200
    Membership.objects.create(klass=klass, user=bob, via="csv")
    assert bob_client.get(url).status_code == 403


def test_the_catalog_marks_courses_taken_in_a_class_without_a_query(
    paced: Class, course: Course, alice_client: Client, bob_client: Client, django_assert_num_queries: Any
) -> None:
    # user (session cached), courses, items with modules, progress: the same as for a self-paced learner
    with django_assert_num_queries(4):
        page = alice_client.get(reverse("courseware:catalog")).content.decode()
    assert "You take this course in a class" in page
    assert "You take this course in a class" not in bob_client.get(reverse("courseware:catalog")).content.decode()


def test_the_lab_column_heading_opens_the_heatmap(paced: Class, ian_client: Client) -> None:
    page = ian_client.get(reverse("classes:detail", args=[paced.pk])).content.decode()
    heatmap = reverse("classes:heatmap", args=[paced.pk, "io-trap-trace"])
    assert page.count(f'hx-get="{heatmap}"') == 2


def test_a_lab_cannot_be_reset_while_its_module_is_closed(
    paced: Class, course: Course, alice: User, alice_client: Client
) -> None:
    lab = Lab.objects.get(item__slug="io-trap-trace", item__course=course)
    attempt = lab_services.lab_attempt_current(alice, lab)  # started before the instructor closed the module
    response = alice_client.post(reverse("labs:reset", kwargs={"attempt_id": attempt.pk}))
    assert response.status_code == 403 and MESSAGE in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == attempt.Status.ACTIVE and Lab.objects.get(pk=lab.pk).attempts.count() == 1
