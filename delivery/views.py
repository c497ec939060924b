"""Classroom delivery pages: present mode (slides and a presenter view), trace presentation, handbooks, certificates.

Thin views: access through delivery.access, work in delivery.services. Slides were rendered when the course was
loaded (courseware.slides), so a present page reads one lesson row and renders no Markdown.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from courseware.models import Course, Item
from delivery import services
from delivery.access import require_trainer

# Course columns a present page never shows.
HEAVY_COURSE_FIELDS = (
    "course__summary_html",
    "course__audience_html",
    "course__instructor_overview_html",
    "course__glossary",
)


def _lesson_for_trainer(request: HttpRequest, course: str, lesson: str) -> Item:
    item = get_object_or_404(
        Item.objects.select_related("course", "lesson").defer(*HEAVY_COURSE_FIELDS, "lesson__body_html"),
        course__slug=course,
        slug=lesson,
        kind=Item.Kind.LESSON,
        archived=False,
    )
    require_trainer(request.user, item.course_id)
    return item


def _deck_context(item: Item) -> dict[str, Any]:
    lesson = item.lesson
    slides = lesson.slides or [{"title": item.title, "kind": "title", "html": "", "notes_html": ""}]
    return {
        "course": item.course,
        "item": item,
        "lesson": lesson,
        "slides": slides,
        "count": len(slides),
        "channel": f"hvlab-present:{item.course.slug}:{item.slug}",
    }


@login_required
@require_GET
def present(request: HttpRequest, course: str, lesson: str) -> HttpResponse:
    """The lesson as full-screen slides for the room; the presenter view follows it over a BroadcastChannel."""
    item = _lesson_for_trainer(request, course, lesson)
    return render(request, "delivery/present.html", _deck_context(item))


@login_required
@require_GET
def presenter(request: HttpRequest, course: str, lesson: str) -> HttpResponse:
    """The presenter's window: current and next slide, the notes for the slide, and a timer against the minutes."""
    item = _lesson_for_trainer(request, course, lesson)
    return render(request, "delivery/presenter.html", _deck_context(item))


@login_required
@require_GET
def present_trace(request: HttpRequest, course: str, path: str) -> HttpResponse:
    """A reference I/O trace (one 100 KB disk write, emulated or synthetic) full-screen, stepped with the keyboard."""
    course_obj = get_object_or_404(Course.objects.only("pk", "slug", "title"), slug=course)
    require_trainer(request.user, course_obj.pk)
    if path not in services.REFERENCE_TRACES:
        raise Http404("No such reference trace: choose emulated or synthetic.")
    return render(
        request,
        "delivery/present_trace.html",
        {
            "course": course_obj,
            "path": path,
            "trace": services.reference_trace(path),
            "label": services.REFERENCE_TRACES[path]["label"],
            "other": "synthetic" if path == "emulated" else "emulated",
        },
    )
