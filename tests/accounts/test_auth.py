from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.forms import NOT_AVAILABLE
from accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-and-unusual-passphrase"


def _signup(client: Client, username: str = "carol", email: str = "carol@example.test") -> object:
    return client.post(
        reverse("signup"),
        {"username": username, "email": email, "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD},
    )


def test_signing_up_creates_a_student_and_signs_them_in(anon_client: Client) -> None:
    response = _signup(anon_client)
    assert response.status_code == 302
    user = User.objects.get(username="carol")
    assert user.role == User.Role.STUDENT and not user.is_staff
    home = anon_client.get(reverse("home"))
    assert "Signed in as <strong>carol</strong>" in home.content.decode()


def test_signup_refuses_a_duplicate_email_and_keeps_what_was_typed(anon_client: Client, alice: User) -> None:
    response = _signup(anon_client, username="alice2", email="ALICE@example.test")
    assert response.status_code == 400
    body = response.content.decode()
    assert NOT_AVAILABLE in body
    assert "already exists" not in body
    assert 'value="alice2"' in body
    assert not User.objects.filter(username="alice2").exists()


def test_login_and_logout(anon_client: Client, alice: User) -> None:
    response = anon_client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert anon_client.get(reverse("home")).context["user"] == alice
    assert anon_client.post(reverse("logout")).status_code == 302
    assert not anon_client.get(reverse("home")).context["user"].is_authenticated


def test_password_change_needs_the_old_password(alice_client: Client, alice: User) -> None:
    url = reverse("password_change")
    bad = alice_client.post(
        url, {"old_password": "nope", "new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
    )
    assert bad.status_code == 200 and "incorrectly" in bad.content.decode()
    good = alice_client.post(
        url, {"old_password": PASSWORD, "new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
    )
    assert good.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(GOOD_PASSWORD)


def test_repeated_failed_logins_lock_only_that_account_with_a_clear_message(
    anon_client: Client, alice: User, bob: User
) -> None:
    for _ in range(5):
        anon_client.post(reverse("login"), {"username": "alice", "password": "wrong-guess"})
    locked = anon_client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert locked.status_code == 429
    assert "signing in to it is paused for 15 minutes" in locked.content.decode()
    other = Client().post(reverse("login"), {"username": "bob", "password": PASSWORD})
    assert other.status_code == 302


def test_a_success_before_the_limit_resets_the_count(anon_client: Client, alice: User) -> None:
    for _ in range(4):
        anon_client.post(reverse("login"), {"username": "alice", "password": "wrong-guess"})
    assert anon_client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
    anon_client.post(reverse("logout"))
    for _ in range(4):
        anon_client.post(reverse("login"), {"username": "alice", "password": "wrong-guess"})
    assert anon_client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
