"""The signed-in user comes from the cache (accounts.caching) with Django's checks intact: the session's auth hash
must match, any save or delete of the user retires the copy, and no password hash is ever written to the cache."""

from __future__ import annotations

import pickle

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import caching
from accounts.models import User
from core import versions

pytestmark = pytest.mark.django_db
PROGRESS = "/progress/"


def _user_queries(client: Client, url: str = PROGRESS) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return sum('FROM "accounts_user"' in query["sql"] for query in context.captured_queries)


def test_the_user_is_read_once_then_comes_from_the_cache(alice_client: Client) -> None:
    assert _user_queries(alice_client) == 1
    assert _user_queries(alice_client) == 0


def test_the_cache_never_holds_the_password_hash(alice: User, alice_client: Client) -> None:
    alice_client.get(PROGRESS)
    entry = cache.get(f"accounts:user:{alice.pk}")
    assert entry is not None and "password" not in entry[1].__dict__
    assert alice.password.encode() not in pickle.dumps(entry)


def test_each_session_gets_its_own_user(alice_client: Client, bob_client: Client) -> None:
    for _ in range(2):
        assert ">alice<" in alice_client.get(PROGRESS).content.decode()
        assert ">bob<" in bob_client.get(PROGRESS).content.decode()


def test_a_session_with_a_wrong_hash_is_signed_out(alice_client: Client) -> None:
    alice_client.get(PROGRESS)  # the user is cached
    session = alice_client.session
    session[HASH_SESSION_KEY] = "0" * 64
    session.save()
    response = alice_client.get(PROGRESS)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_deleted_user_is_signed_out(alice: User, alice_client: Client) -> None:
    alice_client.get(PROGRESS)
    alice.delete()
    assert alice_client.get(PROGRESS).status_code == 302


def test_a_save_retires_the_cached_copy(alice: User, alice_client: Client) -> None:
    alice_client.get(PROGRESS)
    alice.first_name = "Alice"
    alice.save()
    assert _user_queries(alice_client) == 1
    assert cache.get(f"accounts:user:{alice.pk}")[1].first_name == "Alice"


def test_the_cached_user_loads_its_password_only_when_asked(alice: User, alice_client: Client) -> None:
    alice_client.get(PROGRESS)
    user = cache.get(f"accounts:user:{alice.pk}")[1]
    assert "password" in user.get_deferred_fields()
    assert user.check_password("correct-horse-battery-9")  # loads it from the database


def test_the_version_changes_on_every_save(alice: User) -> None:
    name = caching.version_name(alice.pk)
    before = versions.current(name)[name]
    alice.save()
    assert cache.get(name) != before


def test_pages_key_on_the_version_read_before_the_row(alice: User, alice_client: Client, rf: RequestFactory) -> None:
    request = rf.get(PROGRESS)
    request.session = alice_client.session
    request.user = caching.session_user(request)
    read_under = caching.user_version(request)
    alice.save()  # a write while the request runs: what it caches under read_under is retired
    name = caching.version_name(alice.pk)
    assert read_under is not None and read_under != versions.current(name)[name]
