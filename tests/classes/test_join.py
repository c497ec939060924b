"""Creating a class and joining it: by code, by link, from a CSV; wrong or expired codes; the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from classes import services
from classes.models import CODE_ALPHABET, Class, Membership
from courseware.models import Course

pytestmark = pytest.mark.django_db


def test_an_instructor_creates_a_class_and_gets_a_code_and_link(ian_client: Client, course: Course) -> None:
    today = timezone.localdate()
    response = ian_client.post(
        reverse("classes:new"),
        {"course": course.pk, "title": "Hyper-V, March", "starts_on": today, "ends_on": today + timedelta(days=2)},
    )
    assert response.status_code == 303
    klass = Class.objects.get()
    assert len(klass.join_code) == 8 and set(klass.join_code) <= set(CODE_ALPHABET)
    assert not set(klass.join_code) & set("01OIL5S2Z8B")
    page = ian_client.get(response["Location"]).content.decode()
    assert klass.join_code in page and f"/classes/join/{klass.join_code}" in page
    listing = ian_client.get(reverse("classes:list")).content.decode()
    assert "Hyper-V, March" in listing and "Create a class" in listing


def test_the_last_day_cannot_precede_the_first(ian_client: Client, course: Course) -> None:
    today = timezone.localdate()
    response = ian_client.post(
        reverse("classes:new"), {"course": course.pk, "title": "x", "starts_on": today, "ends_on": today - timedelta(1)}
    )
    assert response.status_code == 400 and "cannot be before" in response.content.decode()


def test_a_student_joins_with_the_code_in_any_case_and_spacing(klass: Class, alice: User, alice_client: Client) -> None:
    code = klass.join_code.lower()
    response = alice_client.post(reverse("classes:join"), {"code": f" {code[:4]}-{code[4:]} "})
    assert response.status_code == 303 and response["Location"] == reverse("classes:detail", args=[klass.pk])
    assert Membership.objects.get(user=alice).via == "code"
    again = alice_client.post(reverse("classes:join"), {"code": klass.join_code})
    assert again.status_code == 303 and Membership.objects.filter(user=alice).count() == 1
    assert klass.title in alice_client.get(reverse("classes:list")).content.decode()


def test_the_join_link_asks_before_joining(klass: Class, alice: User, alice_client: Client) -> None:
    url = reverse("classes:join_link", args=[klass.join_code])
    page = alice_client.get(url)
    assert page.status_code == 200 and f"Join {klass.title}" in page.content.decode()
    assert not Membership.objects.exists()
    assert alice_client.post(url).status_code == 303
    assert Membership.objects.get(user=alice).via == "link"


def test_a_wrong_code_says_so(klass: Class, alice_client: Client) -> None:
    response = alice_client.post(reverse("classes:join"), {"code": "ACDEFGHJ"})
    assert response.status_code == 400
    assert "No class has this join code" in response.content.decode()


def test_an_expired_code_says_when_the_class_ended(klass: Class, alice_client: Client) -> None:
    Class.objects.filter(pk=klass.pk).update(
        starts_on=timezone.localdate() - timedelta(days=9), ends_on=timezone.localdate() - timedelta(days=2)
    )
    response = alice_client.post(reverse("classes:join"), {"code": klass.join_code})
    assert response.status_code == 400 and "expired when the class ended" in response.content.decode()
    assert not Membership.objects.exists()


def test_wrong_codes_are_rate_limited_per_user(klass: Class, alice_client: Client, bob_client: Client) -> None:
    for _ in range(services.JOIN_FAILURE_LIMIT):
        assert alice_client.post(reverse("classes:join"), {"code": "WRONGCOD"}).status_code == 400
    response = alice_client.post(reverse("classes:join"), {"code": klass.join_code})
    assert response.status_code == 429 and "Too many wrong join codes" in response.content.decode()
    assert not Membership.objects.exists()
    assert bob_client.post(reverse("classes:join"), {"code": klass.join_code}).status_code == 303


def test_a_regenerated_code_replaces_the_old_one(klass: Class, ian_client: Client, alice_client: Client) -> None:
    old = klass.join_code
    ian_client.post(reverse("classes:manage", args=[klass.pk]), {"action": "regenerate"})
    klass.refresh_from_db()
    assert klass.join_code != old
    assert alice_client.post(reverse("classes:join"), {"code": old}).status_code == 400


def test_a_student_may_be_in_several_classes(course: Course, ian: User, olga: User, alice: User) -> None:
    from tests.classes.conftest import make_class

    for klass in (make_class(ian, course), make_class(olga, course, title="Other")):
        services.class_join(alice, klass.join_code)
    assert Membership.objects.filter(user=alice).count() == 2


def test_an_instructor_cannot_join_their_own_class(klass: Class, ian: User) -> None:
    with pytest.raises(services.JoinError, match="You teach this class"):
        services.class_join(ian, klass.join_code)
