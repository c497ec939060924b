"""Sign-up is throttled per client address and never says which usernames or emails have an account (issue 13
item 7)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts.forms import NOT_AVAILABLE
from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


def _signup(client: Client, username: str, email: str) -> object:
    data = {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    return client.post(reverse("signup"), data)


def _errors(body: str) -> str:
    return " ".join(re.findall(r'class="error"[^>]*>(.*?)</', body, flags=re.S))


def test_a_taken_username_and_a_taken_email_get_the_same_answer(alice: User) -> None:
    by_username = _signup(Client(), "ALICE", "someone-new@example.test")
    by_email = _signup(Client(), "someone-new", "alice@example.test")
    assert by_username.status_code == by_email.status_code == 400  # type: ignore[attr-defined]
    body_u, body_e = by_username.content.decode(), by_email.content.decode()  # type: ignore[attr-defined]
    assert _errors(body_u) == _errors(body_e)
    assert NOT_AVAILABLE in body_u
    for leak in ("already exists", "already taken", "in use"):
        assert leak not in body_u.lower() and leak not in body_e.lower()
    assert User.objects.count() == 1


@override_settings(SIGNUP_LIMIT=3, SIGNUP_WINDOW_MINUTES=10)
def test_signups_from_one_address_are_throttled_and_another_address_is_not() -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(3):
        assert _signup(client, f"bot{number}", f"bot{number}@example.test").status_code == 302  # type: ignore[attr-defined]
        client.post(reverse("logout"))
    refused = _signup(client, "bot3", "bot3@example.test")
    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert "too many sign-ups" in refused.content.decode().lower()  # type: ignore[attr-defined]
    assert not User.objects.filter(username="bot3").exists()
    other = _signup(Client(REMOTE_ADDR="198.51.100.9"), "carol", "carol@example.test")
    assert other.status_code == 302  # type: ignore[attr-defined]


@override_settings(SIGNUP_LIMIT=2)
def test_fresh_accounts_do_not_buy_fresh_join_code_attempts() -> None:
    """The join-code limit is per account; before the sign-up throttle, new accounts reset it without end."""
    from classes.services import JOIN_FAILURE_LIMIT

    client = Client(REMOTE_ADDR="203.0.113.8")
    guesses = 0
    for number in range(5):
        response = _signup(client, f"guesser{number}", f"guesser{number}@example.test")
        if response.status_code != 302:  # type: ignore[attr-defined]
            break
        for _ in range(JOIN_FAILURE_LIMIT + 1):
            if client.post(reverse("classes:join"), {"code": "WRONGCOD"}).status_code == 429:
                break
            guesses += 1
        client.post(reverse("logout"))
    assert guesses == 2 * JOIN_FAILURE_LIMIT


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted_and_a_forged_one_is_not() -> None:
    from django.test import RequestFactory

    from core.ratelimit import client_address

    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_address(request) == "10.0.0.1"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_address(request) == "203.0.113.7"  # what our proxy saw, not what the client claimed
    with override_settings(TRUSTED_PROXY_COUNT=3):
        assert client_address(request) == "10.0.0.1"  # fewer entries than proxies: not trustworthy
