"""Pinned query counts of the pages that list invitations, at two sizes (the count must not grow with data)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from classes import services
from classes.models import Class
from courseware.models import Course
from tests.classes.conftest import make_class

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("invitations", [1, 8])
def test_the_classes_page_lists_invitations_in_constant_queries(
    invitations: int, course: Course, ian: User, alice: User, alice_client: Client, django_assert_num_queries: Any
) -> None:
    for number in range(invitations):
        services.invitations_create(make_class(ian, course, title=f"Class {number}"), ["alice"], ian)
    alice_client.get(reverse("classes:list"))
    # the classes they are in, their invitations with class, course and inviter (the session and the user are cached)
    with django_assert_num_queries(2):
        response = alice_client.get(reverse("classes:list"))
    assert response.content.decode().count("invites you to join") == invitations


@pytest.mark.parametrize("invitations", [1, 30])
def test_the_manage_page_lists_pending_invitations_in_constant_queries(
    invitations: int, klass: Class, ian: User, ian_client: Client, django_assert_num_queries: Any
) -> None:
    services.invitations_create(klass, [f"person{n}@example.test" for n in range(invitations)], ian)
    url = reverse("classes:manage", args=[klass.pk])
    ian_client.get(url)
    with django_assert_num_queries(4):  # class, instructors, member count, invitations (the user is cached)
        response = ian_client.get(url)
    assert response.content.decode().count("(student, ") == invitations
