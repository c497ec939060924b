"""Password reset by email (issue 11): Django's views, the console backend by default; the navigation a student
sees; the class form's course titles; createdemo says where its password is."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_learner_resets_a_forgotten_password_by_email(alice: Any, anon_client: Client) -> None:
    assert "Forgot your password?" in anon_client.get(reverse("login")).content.decode()
    response = anon_client.post(reverse("password_reset"), {"email": alice.email})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    (message,) = mail.outbox
    assert message.to == [alice.email] and "Hyper-V Lab" in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body)
    assert link, message.body
    form = anon_client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = anon_client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"},
    )
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-pass-42")


def test_an_unknown_email_looks_the_same_and_sends_nothing(anon_client: Client) -> None:
    response = anon_client.post(reverse("password_reset"), {"email": "nobody@example.test"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert not mail.outbox


def test_the_console_backend_is_the_default(settings: Any) -> None:
    from config import settings as project_settings

    assert project_settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


def test_students_see_a_classes_link(alice_client: Client) -> None:
    page = alice_client.get(reverse("courseware:catalog")).content.decode()
    assert f'<a href="{reverse("classes:list")}">Classes</a>' in page


def test_the_class_form_lists_course_titles(ian_client: Client) -> None:
    from django.utils import timezone

    from courseware.models import Course

    sample_course = Course.objects.create(
        slug="hv-course", title="Hyper-V architecture", version="1", loaded_at=timezone.now()
    )
    page = ian_client.get(reverse("classes:new")).content.decode()
    option = re.search(r'<select name="course"[^>]*>(.*?)</select>', page, re.S)
    assert option and sample_course.title in option.group(1)
    assert f">{sample_course.slug}<" not in option.group(1)


def test_createdemo_says_where_its_password_is_shown(settings: Any) -> None:
    settings.DEBUG = True
    out = StringIO()
    call_command("createdemo", stdout=out)
    assert "The password is shown here only" in out.getvalue()
