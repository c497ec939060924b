"""Who sees what: the class's instructors (and staff) see everything; another instructor and other students get 404;
a student in the class sees only their own class page and gradebook row."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from classes import services
from classes.models import Class, Export, HandRaise, Invitation
from tests.classes.conftest import invite_and_accept

pytestmark = pytest.mark.django_db


def _instructor_pages(klass: Class, student: User) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, data) of every instructor-only page of the class."""
    export = Export.objects.create(klass=klass, status=Export.Status.READY, content=b"x", rows=1)
    hand = HandRaise.objects.create(klass=klass, user=student)
    k = klass.pk
    return [
        ("get", reverse("classes:heatmap", args=[k, "io-trap-trace"]), {}),
        ("get", reverse("classes:student", args=[k, student.pk]), {}),
        ("get", reverse("classes:pacing", args=[k]), {}),
        ("get", reverse("classes:manage", args=[k]), {}),
        ("get", reverse("classes:notes", args=[k]), {}),
        ("get", reverse("classes:export_download", args=[k, export.pk]), {}),
        ("get", reverse("classes:exports", args=[k]), {}),
        ("post", reverse("classes:export", args=[k]), {}),
        ("post", reverse("classes:reset", args=[k, student.pk, "quiz"]), {"item": "basics-quiz", "reason": "x"}),
        ("post", reverse("classes:pacing", args=[k]), {"action": "open_all"}),
        ("post", reverse("classes:manage", args=[k]), {"action": "regenerate"}),
        ("post", reverse("classes:hand_resolve", args=[k, hand.pk]), {}),
    ]


@pytest.mark.parametrize("who", ["ian", "stan", "co"])
def test_the_class_instructors_and_staff_see_every_page(
    who: str, alice_in_class: Class, alice: User, ian_client: Client, stan_client: Client, olga_client: Client
) -> None:
    client = {"ian": ian_client, "stan": stan_client, "co": olga_client}[who]
    if who == "co":
        invite_and_accept(alice_in_class, "olga", Invitation.Role.INSTRUCTOR)
    assert client.get(reverse("classes:detail", args=[alice_in_class.pk])).status_code == 200
    assert "Raised hands" in client.get(reverse("classes:detail", args=[alice_in_class.pk])).content.decode()
    assert client.get(reverse("classes:gradebook", args=[alice_in_class.pk])).status_code == 200
    for method, url, data in _instructor_pages(alice_in_class, alice):
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 303), (method, url, response.status_code)


def test_another_instructor_gets_404_everywhere(alice_in_class: Class, alice: User, olga_client: Client) -> None:
    assert olga_client.get(reverse("classes:detail", args=[alice_in_class.pk])).status_code == 404
    assert olga_client.get(reverse("classes:gradebook", args=[alice_in_class.pk])).status_code == 404
    for method, url, data in _instructor_pages(alice_in_class, alice):
        assert getattr(olga_client, method)(url, data).status_code == 404, (method, url)
    assert HandRaise.objects.filter(resolved_at__isnull=True).count() == 1  # olga's POST resolved nothing


def test_a_student_in_the_class_sees_only_their_own_row(
    alice_in_class: Class, alice: User, bob: User, alice_client: Client
) -> None:
    services.membership_add(alice_in_class, bob, "csv")
    page = alice_client.get(reverse("classes:detail", args=[alice_in_class.pk]))
    assert page.status_code == 200
    gradebook = alice_client.get(reverse("classes:gradebook", args=[alice_in_class.pk])).content.decode()
    assert "Your scores" in gradebook and "alice" in gradebook and "bob" not in gradebook
    for method, url, data in _instructor_pages(alice_in_class, bob):
        assert getattr(alice_client, method)(url, data).status_code == 404, (method, url)


def test_a_student_outside_the_class_gets_404(alice_in_class: Class, alice: User, bob_client: Client) -> None:
    assert bob_client.get(reverse("classes:detail", args=[alice_in_class.pk])).status_code == 404
    assert bob_client.get(reverse("classes:gradebook", args=[alice_in_class.pk])).status_code == 404
    assert bob_client.post(reverse("classes:hand", args=[alice_in_class.pk])).status_code == 404
    for method, url, data in _instructor_pages(alice_in_class, alice):
        assert getattr(bob_client, method)(url, data).status_code == 404, (method, url)


def test_a_student_of_the_class_cannot_be_drilled_into_through_another_class(
    alice_in_class: Class, alice: User, olga: User, olga_client: Client, course: Any
) -> None:
    from tests.classes.conftest import make_class

    olgas = make_class(olga, course, title="Olga's class")
    assert olga_client.get(reverse("classes:student", args=[olgas.pk, alice.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(alice_in_class: Class, anon_client: Client) -> None:
    for url in (
        reverse("classes:list"),
        reverse("classes:new"),
        reverse("classes:join"),
        reverse("classes:detail", args=[alice_in_class.pk]),
        reverse("classes:gradebook", args=[alice_in_class.pk]),
        reverse("classes:notes", args=[alice_in_class.pk]),
    ):
        response = anon_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_students_cannot_create_classes(alice_client: Client, course: Any) -> None:
    assert alice_client.get(reverse("classes:new")).status_code == 403
    assert alice_client.post(reverse("classes:new"), {"course": course.pk, "title": "x"}).status_code == 403
    assert not Class.objects.exists()


def test_the_helper_returns_the_class_only_to_its_instructors(
    klass: Class, ian: User, olga: User, stan: User, alice: User
) -> None:
    from django.http import Http404

    assert services.class_get_for_instructor(ian, klass.pk) == klass
    assert services.class_get_for_instructor(stan, klass.pk) == klass
    for outsider in (olga, alice):
        with pytest.raises(Http404):
            services.class_get_for_instructor(outsider, klass.pk)


def test_staff_look_classes_and_resets_up_in_the_admin(alice_in_class: Class, stan_client: Client) -> None:
    assert stan_client.get("/admin/classes/class/").status_code == 200
    assert stan_client.get(f"/admin/classes/class/{alice_in_class.pk}/change/").status_code == 200
    assert stan_client.get("/admin/classes/resetlog/").status_code == 200
