"""Shared fixtures: the personas every test speaks of.

alice and bob are students, ian is an instructor, olga another instructor (an outsider to ian's classes),
and stan is staff. Each persona has a logged-in test client: `alice_client`, `bob_client`, ...
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User

PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Every test starts with an empty cache (tests/settings.py makes it a per-process memory cache)."""
    cache.clear()


def _make_user(username: str, role: str = User.Role.STUDENT, **extra: object) -> User:
    user = User(username=username, email=f"{username}@example.test", role=role, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def alice(db: None) -> User:
    return _make_user("alice")


@pytest.fixture
def bob(db: None) -> User:
    return _make_user("bob")


@pytest.fixture
def ian(db: None) -> User:
    return _make_user("ian", User.Role.INSTRUCTOR)


@pytest.fixture
def olga(db: None) -> User:
    return _make_user("olga", User.Role.INSTRUCTOR)


@pytest.fixture
def stan(db: None) -> User:
    return _make_user("stan", is_staff=True, is_superuser=True)


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice: User) -> Client:
    return _client_for(alice)


@pytest.fixture
def bob_client(bob: User) -> Client:
    return _client_for(bob)


@pytest.fixture
def ian_client(ian: User) -> Client:
    return _client_for(ian)


@pytest.fixture
def olga_client(olga: User) -> Client:
    return _client_for(olga)


@pytest.fixture
def stan_client(stan: User) -> Client:
    return _client_for(stan)


@pytest.fixture
def anon_client() -> Client:
    return Client()
