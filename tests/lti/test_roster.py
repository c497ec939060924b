"""Names and Role Provisioning end to end: an instructor's launch makes a class of the LMS course, and its roster
comes from the loopback platform's membership service, so the dashboard and gradebook work for it."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from classes.models import Class, Membership
from courseware.models import Course
from lti import nrps
from lti.models import LmsClass, Platform
from tests.lti.conftest import lms_launch
from tests.lti.platform import INSTRUCTOR, LEARNER, LoopbackPlatform, Message, Person

pytestmark = pytest.mark.django_db

TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
IVAN = Person("u-ivan", [INSTRUCTOR], name="Ivan Petrov", given_name="Ivan", family_name="Petrov")
ANNA = Person("u-anna", [LEARNER], given_name="Anna", family_name="Berg", email="anna@uni.test")
BORIS = Person("u-boris", [LEARNER], given_name="Boris", family_name="Kim", email="boris@uni.test")
TINA = Person("u-tina", [TA], given_name="Tina", family_name="Ng")


def instructor_launch(lms: LoopbackPlatform, capture: Any) -> tuple[Client, LmsClass]:
    client = Client()
    with mock.patch("lti.tasks.sync_roster.delay") as nudge, capture(execute=True):
        response = lms_launch(client, lms, Message(IVAN, custom={"course": "sample", "lab": "io-trap-trace"}))
    assert response.status_code == 302
    lms_class = LmsClass.objects.select_related("klass").get()
    nudge.assert_called_once_with(lms_class.pk)  # the roster sync is enqueued after commit
    return client, lms_class


def test_an_instructor_launch_makes_a_class_whose_roster_comes_from_the_lms(
    registered: Platform, lms: LoopbackPlatform, course: Course, django_capture_on_commit_callbacks: Any
) -> None:
    lms.roster = [IVAN, ANNA, BORIS, TINA]
    client, lms_class = instructor_launch(lms, django_capture_on_commit_callbacks)
    klass = lms_class.klass
    ivan = User.objects.get(lti_identities__subject="u-ivan")
    assert (klass.title, klass.course, lms_class.context_id) == ("Virtualisation 101", course, "course-101")
    assert list(klass.instructors.all()) == [ivan]

    report = nrps.roster_sync(lms_class.pk)
    assert report.members == 4
    students = User.objects.filter(class_memberships__klass=klass).order_by("username")
    assert sorted((u.first_name, u.last_name, u.email) for u in students) == [
        ("Anna", "Berg", "anna@uni.test"),
        ("Boris", "Kim", "boris@uni.test"),
    ]
    assert all(not user.has_usable_password() for user in students)
    tina = User.objects.get(lti_identities__subject="u-tina")
    assert tina.role == User.Role.INSTRUCTOR and tina in klass.instructors.all()
    assert "GET /memberships" in lms.requests

    # The instructor's dashboard and gradebook list the LMS learners before they ever launched.
    dashboard = client.get(reverse("classes:detail", args=[klass.pk])).content.decode()
    assert "Anna Berg" in dashboard and "Boris Kim" in dashboard
    gradebook = client.get(reverse("classes:gradebook", args=[klass.pk]))
    assert gradebook.status_code == 200 and "Boris Kim" in gradebook.content.decode()

    # Anna's first launch signs her into the account the roster made for her, already in the class.
    lms_launch(Client(), lms, Message(ANNA, custom={"course": "sample"}))
    assert User.objects.filter(lti_identities__subject="u-anna").count() == 1


def test_a_resync_removes_learners_the_lms_dropped_and_a_second_instructor_joins_the_same_class(
    registered: Platform, lms: LoopbackPlatform, course: Course, django_capture_on_commit_callbacks: Any
) -> None:
    lms.roster = [IVAN, ANNA, BORIS]
    _, lms_class = instructor_launch(lms, django_capture_on_commit_callbacks)
    nrps.roster_sync(lms_class.pk)
    lms.roster = [IVAN, ANNA, Person("u-boris", [LEARNER], given_name="Boris")]
    lms.roster_status = {"u-boris": "Deleted"}
    report = nrps.roster_sync(lms_class.pk)
    assert [user.first_name for user in report.removed] == ["Boris"]
    assert list(Membership.objects.filter(klass=lms_class.klass).values_list("user__first_name", flat=True)) == ["Anna"]

    olga = Person("u-olga", [INSTRUCTOR], name="Olga")
    lms_launch(Client(), lms, Message(olga, custom={"course": "sample"}))
    assert Class.objects.count() == 1
    assert lms_class.klass.instructors.count() == 2


def test_an_instructor_syncs_the_roster_on_demand_and_sees_when_it_last_ran(
    registered: Platform, lms: LoopbackPlatform, course: Course, django_capture_on_commit_callbacks: Any
) -> None:
    lms.roster = [IVAN, ANNA]
    client, lms_class = instructor_launch(lms, django_capture_on_commit_callbacks)
    url = reverse("lti:roster", args=[lms_class.klass.pk])
    page = client.get(url)
    assert page.status_code == 200 and "not synced yet" in page.content.decode()
    with mock.patch("lti.tasks.sync_roster.delay") as nudge, django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    nudge.assert_called_once_with(lms_class.pk)
    nrps.roster_sync(lms_class.pk)
    assert "Last synced" in client.get(url).content.decode()


def test_the_roster_page_is_for_the_class_instructors_only(
    registered: Platform, lms: LoopbackPlatform, course: Course, olga_client: Client, alice_client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _, lms_class = instructor_launch(lms, django_capture_on_commit_callbacks)
    url = reverse("lti:roster", args=[lms_class.klass.pk])
    assert olga_client.get(url).status_code == 404
    assert alice_client.post(url).status_code in (403, 404)


def test_an_lms_that_cannot_be_read_leaves_the_class_as_it_was_and_says_why(
    registered: Platform, lms: LoopbackPlatform, course: Course, django_capture_on_commit_callbacks: Any
) -> None:
    lms.roster = [IVAN, ANNA]
    _, lms_class = instructor_launch(lms, django_capture_on_commit_callbacks)
    nrps.roster_sync(lms_class.pk)
    lms.down = True
    with pytest.raises(Exception, match="503"):
        nrps.roster_sync(lms_class.pk)
    lms_class.refresh_from_db()
    assert "503" in lms_class.last_error
    assert Membership.objects.filter(klass=lms_class.klass).count() == 1
