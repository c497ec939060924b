from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory

from accounts.models import User
from accounts.permissions import instructor_required

pytestmark = pytest.mark.django_db


@instructor_required
def _instructor_view(request: object) -> HttpResponse:
    return HttpResponse("instructor area")


def test_a_student_gets_403_on_the_admin(alice_client: Client) -> None:
    assert alice_client.get("/admin/").status_code == 403
    assert alice_client.get("/admin/accounts/user/").status_code == 403


def test_an_instructor_who_is_not_staff_gets_403_on_the_admin(ian_client: Client) -> None:
    assert ian_client.get("/admin/").status_code == 403


def test_anonymous_visitors_are_sent_to_the_admin_login(anon_client: Client) -> None:
    response = anon_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_use_the_admin_and_can_change_roles(stan_client: Client, alice: User) -> None:
    assert stan_client.get("/admin/").status_code == 200
    page = stan_client.get(f"/admin/accounts/user/{alice.pk}/change/")
    assert page.status_code == 200 and 'name="role"' in page.content.decode()


def test_instructor_pages_refuse_students_with_403(alice: User, ian: User, stan: User) -> None:
    factory = RequestFactory()
    for user, expected in ((alice, 403), (ian, 200), (stan, 200)):
        request = factory.get("/x")
        request.user = user
        if expected == 403:
            with pytest.raises(Exception) as excinfo:
                _instructor_view(request)
            assert type(excinfo.value).__name__ == "PermissionDenied"
        else:
            assert _instructor_view(request).status_code == 200


def test_the_header_shows_admin_only_to_staff(alice_client: Client, stan_client: Client) -> None:
    assert ">Admin<" not in alice_client.get("/").content.decode()
    assert ">Admin<" in stan_client.get("/").content.decode()


def test_createdemo_is_refused_unless_debug(settings: object) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="refused when DEBUG=0"):
        call_command("createdemo")
    assert not User.objects.filter(username__startswith="demo-").exists()


def test_createdemo_creates_an_instructor_and_a_student_and_prints_credentials(
    settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.DEBUG = True  # type: ignore[attr-defined]
    call_command("createdemo", password="demo-pass-1234")
    out = capsys.readouterr().out
    assert "username: demo-instructor" in out and "username: demo-student" in out and "demo-pass-1234" in out
    instructor = User.objects.get(username="demo-instructor")
    assert instructor.is_instructor and instructor.check_password("demo-pass-1234")
    assert User.objects.get(username="demo-student").role == User.Role.STUDENT
