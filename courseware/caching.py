"""Caches that keep the lesson page near the speed of a bare view: the lesson's row looked up by slugs, and the
rendered lesson (templates/courseware/lesson.html), both keyed by a content generation that every course load bumps.

The cache is Redis in production (shared by every web process), a file cache under var/ otherwise. A course load
saves the Course row, and any save of course content changes the generation after its transaction commits, so no
page serves a lesson older than the last load. The learner's own progress is never cached.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.shortcuts import get_object_or_404

from courseware.models import Course, Item, Lesson, Module

GENERATION_KEY = "courseware:content-generation"
ITEM_SECONDS = 3600
# Large course columns a lesson page never shows.
HEAVY_COURSE_FIELDS = (
    "course__summary_html",
    "course__audience_html",
    "course__instructor_overview_html",
    "course__glossary",
)


def content_generation() -> str:
    """The current content generation (created on first use, shared through the cache)."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        generation = cache.get(GENERATION_KEY) or "0"
    return str(generation)


def lesson_item(course_slug: str, lesson_slug: str) -> Item:
    """The live lesson item with its course (light columns), module and lesson; 404 if there is none."""
    key = f"courseware:lesson-item:{content_generation()}:{course_slug}:{lesson_slug}"
    item = cache.get(key)
    if item is None:
        item = get_object_or_404(
            Item.objects.select_related("course", "module", "lesson").defer(*HEAVY_COURSE_FIELDS),
            course__slug=course_slug,
            slug=lesson_slug,
            kind=Item.Kind.LESSON,
            archived=False,
        )
        cache.set(key, item, ITEM_SECONDS)
    return item


def _bump() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def _content_changed(**kwargs: Any) -> None:
    # Now, and again after the commit: a page rendered in between from the old rows is cached under a generation
    # that the second bump retires.
    _bump()
    transaction.on_commit(_bump)


def connect() -> None:
    """Bump the generation whenever course content is saved or deleted (called from the app's ready())."""
    for model in (Course, Module, Item, Lesson):
        post_save.connect(_content_changed, sender=model, dispatch_uid=f"courseware-content-{model.__name__}-save")
        post_delete.connect(_content_changed, sender=model, dispatch_uid=f"courseware-content-{model.__name__}-del")
