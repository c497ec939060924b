"""Caches that keep the lesson page near the speed of a bare view: the lesson's row looked up by slugs (and a light
copy with only its ids, for the access check of a page served from the cache), the rendered lesson
(templates/courseware/lesson.html) keyed by a content generation that every course load bumps, and each learner's
whole lesson page.

The cache is Redis in production (shared by every web process), a file cache under var/ otherwise. A course load
saves the Course row, and any save of course content changes the generation after its transaction commits, so no
page serves a lesson older than the last load.

A learner's page (lesson_page_key) is keyed by everything it shows: the content generation, the templates and static
files of this release, the URL, the user and their session's auth hash, the user's version (accounts.caching: any save
of the user, such as a sign-in, a password change or a change of name or staff flag), the learner's progress version
(any save or delete of one of their Progress rows) and whether the instructor notes are shown (asked on every request,
as is whether the item is open). The CSRF token is never cached: the page is stored with CSRF_PLACEHOLDER, which
each response replaces with the request's own token. Pages with messages waiting, and htmx requests, are not cached.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.messages import get_messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.shortcuts import get_object_or_404
from django.utils.autoreload import file_changed

from accounts import caching as accounts_caching
from core import versions
from core.http import HtmxHttpRequest
from courseware.models import Course, Item, Lesson, Module, Progress, heavy_course_fields

GENERATION_KEY = "courseware:content-generation"
ITEM_SECONDS = 3600
PAGE_SECONDS = 600
# Stands for the CSRF token in a cached page; every response puts the request's own token in its place.
CSRF_PLACEHOLDER = "csrf-token-placeholder-4be1f07a"


def content_generation() -> str:
    """The current content generation (created on first use, shared through the cache)."""
    return versions.current(GENERATION_KEY)[GENERATION_KEY]


def progress_version_name(user_id: Any) -> str:
    """The version stamp that every save or delete of one of the learner's Progress rows replaces."""
    return f"courseware:progress-version:{user_id}"


def lesson_item(course_slug: str, lesson_slug: str, generation: str | None = None) -> Item:
    """The live lesson item with its course (light columns), module and lesson; 404 if there is none. Pass the
    content `generation` when the caller keys something else on the same one."""
    key = f"courseware:lesson-item:{generation or content_generation()}:{course_slug}:{lesson_slug}"
    item = cache.get(key)
    if item is None:
        item = get_object_or_404(
            Item.objects.select_related("course", "module", "lesson").defer(*heavy_course_fields()),
            course__slug=course_slug,
            slug=lesson_slug,
            kind=Item.Kind.LESSON,
            archived=False,
        )
        cache.set(key, item, ITEM_SECONDS)
    return item


REF_FIELDS = frozenset({"id", "course_id", "module_id", "kind", "slug", "archived"})


def lesson_ref(course_slug: str, lesson_slug: str, generation: str) -> Item:
    """The live lesson item with only its ids loaded, which is what the access check needs (any other field is read
    from the database if something uses it): a small cache entry, where the whole item carries the lesson's text."""
    key = f"courseware:lesson-ref:{generation}:{course_slug}:{lesson_slug}"
    ref = cache.get(key)
    if ref is None:
        item = lesson_item(course_slug, lesson_slug, generation)
        fields = [field.attname for field in Item._meta.concrete_fields if field.attname in REF_FIELDS]
        ref = (item._state.db, fields, [getattr(item, name) for name in fields])
        cache.set(key, ref, ITEM_SECONDS)
    return Item.from_db(*ref)


PROJECT_PACKAGES = ("accounts", "classes", "config", "core", "courseware", "delivery", "labs", "lti")


@functools.cache
def release_fingerprint() -> str:
    """A digest of the project's templates, its Python code and the static manifest: a deploy that changes any of
    them retires cached pages (a view or a template tag can change a page as much as a template)."""
    digest = hashlib.sha256(getattr(staticfiles_storage, "manifest_hash", "").encode())
    sources = [(Path(folder), "*.html") for folder in settings.TEMPLATES[0]["DIRS"]]
    sources += [(Path(settings.BASE_DIR) / name, "*.py") for name in PROJECT_PACKAGES]
    for folder, pattern in sources:
        for path in sorted(folder.rglob(pattern)):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class LearnerStamps(NamedTuple):
    """The versions a learner's page is keyed by, read before the rows they guard (so a write during the request
    retires what the request caches)."""

    generation: str
    progress: str


def learner_stamps(user_id: int) -> LearnerStamps:
    """The content generation and the learner's progress version, in one cache round trip."""
    stamps = versions.current(GENERATION_KEY, progress_version_name(user_id))
    return LearnerStamps(stamps[GENERATION_KEY], stamps[progress_version_name(user_id)])


def lesson_page_key(request: HtmxHttpRequest, stamps: LearnerStamps, show_instructor_notes: bool) -> str | None:
    """The cache key of this learner's lesson page as it would render now; None when it must not be cached."""
    user_version = accounts_caching.user_version(request)
    if user_version is None or request.htmx or len(get_messages(request)):
        return None
    parts = [
        stamps.generation,
        stamps.progress,
        user_version,
        release_fingerprint(),
        request.path,
        str(request.user.pk),
        request.session.get(HASH_SESSION_KEY, ""),
        str(show_instructor_notes),
    ]
    return "courseware:lesson-page:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _content_changed(**kwargs: Any) -> None:
    versions.bump(GENERATION_KEY)


def _progress_changed(sender: Any, instance: Progress, **kwargs: Any) -> None:
    progress_changed(instance.user_id)


def progress_changed(user_id: int) -> None:
    """Retire the learner's cached pages: for writes to Progress that send no signal (a queryset update)."""
    versions.bump(progress_version_name(user_id))


def _template_edited(**kwargs: Any) -> None:
    release_fingerprint.cache_clear()  # runserver: an edited template shows at once


def connect() -> None:
    """Bump the generation whenever course content is saved or deleted, and a learner's progress version whenever
    one of their Progress rows is (called from the app's ready())."""
    for model in (Course, Module, Item, Lesson):
        post_save.connect(_content_changed, sender=model, dispatch_uid=f"courseware-content-{model.__name__}-save")
        post_delete.connect(_content_changed, sender=model, dispatch_uid=f"courseware-content-{model.__name__}-del")
    post_save.connect(_progress_changed, sender=Progress, dispatch_uid="courseware-progress-save")
    post_delete.connect(_progress_changed, sender=Progress, dispatch_uid="courseware-progress-delete")
    file_changed.connect(_template_edited, dispatch_uid="courseware-release-fingerprint")
