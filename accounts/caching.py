"""The signed-in user from the cache instead of a query on every request, as safe as Django's own check.

Django loads the session's user and compares the session's auth hash (an HMAC of the password hash) with the user's,
so a password change signs every other session out, and ModelBackend refuses an inactive user. Here the user's row
is cached with that hash, under a per-user version that every save or delete of the user bumps (a sign-in saves
last_login, a password change or deactivation saves the row), so a cached copy is never older than the last write
through the ORM. A session whose hash does not match the cached one, or any session of another backend, takes
Django's own path (which also rotates hashes made with SECRET_KEY_FALLBACKS and flushes invalid sessions).

The cached copy has no password field (deferred: reading it, as the password change form does, loads it), so no
password hash is ever written to the cache.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from core import versions

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
USER_SECONDS = 600  # bounds how long a write outside the ORM (raw SQL, a queryset update) could go unseen


def version_name(user_id: Any) -> str:
    """The version stamp that every save or delete of user `user_id` replaces (pages cached per user key on it)."""
    return f"accounts:user-version:{user_id}"


def _entry_key(user_id: Any) -> str:
    return f"accounts:user:{user_id}"


def session_user(request: HttpRequest) -> Any:
    """The request's user (AnonymousUser when signed out): from the cache when the session's hash matches it."""
    try:
        user_id = auth.get_user_model()._meta.pk.to_python(request.session[auth.SESSION_KEY])
        backend_path = request.session[auth.BACKEND_SESSION_KEY]
    except (KeyError, ValueError):
        return auth.get_user(request)
    session_hash = request.session.get(auth.HASH_SESSION_KEY)
    if backend_path != MODEL_BACKEND or backend_path not in settings.AUTHENTICATION_BACKENDS or not session_hash:
        return auth.get_user(request)
    version = versions.current(version_name(user_id))[version_name(user_id)]
    entry = cache.get(_entry_key(user_id))
    if entry is not None:
        cached_version, user, auth_hash = entry
        if cached_version == version and user.is_active and constant_time_compare(session_hash, auth_hash):
            request._user_version = version  # type: ignore[attr-defined]
            return user
    user = auth.get_user(request)
    if user.is_authenticated and user.pk == user_id:
        auth_hash = user.get_session_auth_hash()
        if constant_time_compare(request.session.get(auth.HASH_SESSION_KEY) or "", auth_hash):
            cache.set(_entry_key(user_id), (version, _without_password(user), auth_hash), USER_SECONDS)
            request._user_version = version  # type: ignore[attr-defined]
    return user


def user_version(request: HttpRequest) -> str | None:
    """The version stamp that `request.user` was read under (read before the row), or None when it is unknown (a
    user set by other means): a page cached per user keys on it, so a save during the request retires the page."""
    if not request.user.is_authenticated:  # reads the lazy user, which records the version
        return None
    return getattr(request, "_user_version", None)


def _without_password(user: Any) -> Any:
    """A copy of `user` whose password field is deferred (loaded from the database only if something reads it)."""
    stripped = copy.copy(user)
    stripped.__dict__.pop("password", None)
    return stripped


class CachedUserAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware with `request.user` from session_user (async views keep Django's auser)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _request_user(request))


def _request_user(request: HttpRequest) -> Any:
    # The attribute Django's own middleware and login()/logout() use, so a sign-in during the request is seen.
    if not hasattr(request, "_cached_user"):
        request._cached_user = session_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    versions.bump(version_name(instance.pk))


def connect() -> None:
    """Bump a user's version whenever the row is saved or deleted (called from the app's ready())."""
    model = auth.get_user_model()
    post_save.connect(_user_changed, sender=model, dispatch_uid="accounts-user-version-save")
    post_delete.connect(_user_changed, sender=model, dispatch_uid="accounts-user-version-delete")
