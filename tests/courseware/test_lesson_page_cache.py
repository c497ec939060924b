"""Each learner's whole lesson page is cached (courseware.caching.lesson_page_key): one learner's page is never served
to another, and every write that changes what the page shows shows at once. What the page shows, and what retires
it: the user's name and staff flag (a save of the user), the learner's progress on the lesson (a save or delete of
a Progress row), the instructor notes (who teaches is asked on every request), whether the item is open (pacing,
asked on every request), the content (test_lesson_cache.py), the CSRF token (never cached) and messages (never
cached)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from classes import services as class_services
from courseware import caching
from courseware.models import Course, Item, Progress

pytestmark = pytest.mark.django_db
INTRO = "/courses/sample/lessons/intro/"
COMPLETE = INTRO + "complete"
PASSWORD = "correct-horse-battery-9"


def _page(client: Client, url: str = INTRO) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)) | set(
        re.findall(r'"X-CSRFToken": "([^"]+)"', page)
    )


def test_one_learners_cached_page_is_never_served_to_another(
    sample_course: Course, alice_client: Client, bob_client: Client
) -> None:
    alice_client.post(COMPLETE)
    for _ in range(2):  # the second visit of each is served from the cache
        alice_page, bob_page = _page(alice_client), _page(bob_client)
        assert ">alice<" in alice_page and ">bob<" not in alice_page and "✓ Completed." in alice_page
        assert ">bob<" in bob_page and ">alice<" not in bob_page and "Mark complete" in bob_page


def test_a_cached_page_costs_no_query(
    sample_course: Course, alice_client: Client, django_assert_num_queries: Callable
) -> None:
    _page(alice_client)
    with django_assert_num_queries(0):
        _page(alice_client)


def test_marking_the_lesson_complete_shows_at_once(sample_course: Course, alice_client: Client) -> None:
    assert "Mark complete" in _page(alice_client)
    alice_client.post(COMPLETE)
    assert "✓ Completed." in _page(alice_client)


def test_progress_deleted_elsewhere_shows_at_once(sample_course: Course, alice: User, alice_client: Client) -> None:
    alice_client.post(COMPLETE)
    assert "✓ Completed." in _page(alice_client)
    Progress.objects.filter(user=alice).delete()  # e.g. in the admin
    assert "Mark complete" in _page(alice_client)


def test_a_progress_update_without_signals_shows_once_reported(
    sample_course: Course, alice: User, alice_client: Client
) -> None:
    alice_client.post(COMPLETE)
    assert "✓ Completed." in _page(alice_client)
    Progress.objects.filter(user=alice).update(status=Progress.Status.IN_PROGRESS)
    caching.progress_changed(alice.pk)  # what a service that updates rows in bulk must call
    assert "Mark complete" in _page(alice_client)


def test_a_renamed_user_sees_the_new_name_at_once(sample_course: Course, alice: User, alice_client: Client) -> None:
    assert ">alice<" in _page(alice_client)
    alice.username = "alice-renamed"
    alice.save()
    page = _page(alice_client)
    assert ">alice-renamed<" in page and ">alice<" not in page


def test_a_user_made_staff_sees_the_admin_link_and_the_notes_at_once(
    sample_course: Course, alice: User, alice_client: Client
) -> None:
    page = _page(alice_client)
    assert "NOTES-SECRET-INTRO" not in page and reverse("admin:index") not in page
    alice.is_staff = True
    alice.save()
    page = _page(alice_client)
    assert "NOTES-SECRET-INTRO" in page and reverse("admin:index") in page


def test_an_instructor_sees_the_notes_once_teaching_the_course(
    sample_course: Course, ian: User, ian_client: Client
) -> None:
    assert "NOTES-SECRET-INTRO" not in _page(ian_client)
    today = timezone.localdate()
    class_services.class_create(ian, sample_course, "Hyper-V week", today, today + timedelta(days=4))
    assert "NOTES-SECRET-INTRO" in _page(ian_client)


def test_a_cached_page_is_refused_once_a_paced_class_closes_its_module(
    sample_course: Course, ian: User, alice: User, alice_client: Client
) -> None:
    _page(alice_client)
    today = timezone.localdate()
    klass = class_services.class_create(ian, sample_course, "Hyper-V week", today, today + timedelta(days=4), True)
    class_services.membership_add(klass, alice, "code")  # paced, no module opened yet: the lesson is closed
    response = alice_client.get(INTRO)
    assert response.status_code == 403 and "opens when your instructor starts it" in response.content.decode()


def test_a_password_change_signs_the_other_sessions_out_of_cached_pages(sample_course: Course, alice: User) -> None:
    laptop, phone = Client(), Client()
    for client in (laptop, phone):
        assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
        _page(client)
        _page(client)
    new = "a-new-long-passphrase-42"
    changed = laptop.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert changed.status_code == 302
    assert ">alice<" in _page(laptop)  # the session that changed it stays signed in
    assert phone.get(INTRO).status_code == 302  # to the sign-in page


def test_a_deactivated_user_is_signed_out_of_cached_pages(
    sample_course: Course, alice: User, alice_client: Client
) -> None:
    _page(alice_client)
    _page(alice_client)
    alice.is_active = False
    alice.save()
    response = alice_client.get(INTRO)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_csrf_token_of_a_cached_page_is_the_requests_own_and_valid(sample_course: Course, alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    _page(client)
    page = _page(client)  # from the cache
    tokens = _tokens(page)
    assert len(tokens) == 1 and caching.CSRF_PLACEHOLDER not in page
    assert client.post(COMPLETE, {"csrfmiddlewaretoken": tokens.pop()}).status_code == 303
    other = Client(enforce_csrf_checks=True)
    other.force_login(alice)
    assert _tokens(_page(other)).isdisjoint(_tokens(_page(client)))  # each browser gets a token of its own secret


def test_a_waiting_message_is_shown_once_and_never_cached(sample_course: Course, alice_client: Client) -> None:
    _page(alice_client)  # cached without a message
    storage = CookieStorage(HttpRequest())  # as a view's messages.success() leaves it for the next page
    storage.add(constants.SUCCESS, "MESSAGE-FOR-ALICE")
    response = HttpResponse()
    storage.update(response)
    alice_client.cookies["messages"] = response.cookies["messages"].value
    assert "MESSAGE-FOR-ALICE" in _page(alice_client)
    assert "MESSAGE-FOR-ALICE" not in _page(alice_client)


def test_an_htmx_request_never_fills_the_cache(
    sample_course: Course, alice_client: Client, django_assert_num_queries: Callable
) -> None:
    alice_client.get(INTRO, headers={"HX-Request": "true"})
    alice_client.get(INTRO, headers={"HX-Request": "true"})
    with django_assert_num_queries(1):  # the learner's progress: rendered, not served from the cache
        _page(alice_client)


def test_an_edited_template_retires_the_cached_pages(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text("one")
    templates = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path]}]
    caching.release_fingerprint.cache_clear()
    try:
        with override_settings(TEMPLATES=templates):
            before = caching.release_fingerprint()
            (tmp_path / "base.html").write_text("two")
            caching.release_fingerprint.cache_clear()  # a new release starts new processes
            assert caching.release_fingerprint() != before
    finally:
        caching.release_fingerprint.cache_clear()


def test_pages_of_different_lessons_are_kept_apart(sample_course: Course, alice_client: Client) -> None:
    other = Item.objects.get(course=sample_course, slug="partitions")
    _page(alice_client)
    assert f"<h1>{other.title}</h1>" in _page(alice_client, "/courses/sample/lessons/partitions/")


def test_the_access_check_gets_a_light_item_whose_other_fields_still_load(sample_course: Course) -> None:
    item = Item.objects.get(course=sample_course, slug="intro")
    generation = caching.content_generation()
    caching.lesson_ref("sample", "intro", generation)
    ref = caching.lesson_ref("sample", "intro", generation)  # from the cache
    assert (ref.pk, ref.course_id, ref.module_id) == (item.pk, item.course_id, item.module_id)
    assert "title" in ref.get_deferred_fields() and ref.title == item.title


def test_a_release_that_changes_only_python_code_retires_cached_pages(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("ONE = 1\n")
    monkeypatch.setattr(caching, "PROJECT_PACKAGES", ("app",))
    caching.release_fingerprint.cache_clear()
    try:
        with override_settings(BASE_DIR=tmp_path):
            before = caching.release_fingerprint()
            (tmp_path / "app" / "views.py").write_text("ONE = 2\n")
            caching.release_fingerprint.cache_clear()
            assert caching.release_fingerprint() != before
    finally:
        caching.release_fingerprint.cache_clear()


def test_every_project_package_is_in_the_release_fingerprint() -> None:
    packages = {path.parent.name for path in Path(settings.BASE_DIR).glob("*/__init__.py")}
    assert packages - {"tests", "bench"} == set(caching.PROJECT_PACKAGES)
