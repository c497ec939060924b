"""Classroom delivery pages: present mode (slides and a presenter view), trace presentation, handbooks, certificates.

Thin views: access through delivery.access, work in delivery.services. Slides were rendered when the course was
loaded (courseware.slides), so a present page reads one lesson row and renders no Markdown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from classes.services import teaches_course
from courseware.models import Course, Item
from delivery import handbooks as handbooks_service
from delivery import services
from delivery.access import require_trainer
from delivery.models import Handbook
from delivery.pdf import PdfUnavailableError, pdf_missing


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# Course columns a present page never shows.
HEAVY_COURSE_FIELDS = (
    "course__summary_html",
    "course__audience_html",
    "course__instructor_overview_html",
    "course__glossary",
)


def _see_other(url: str) -> HttpResponse:
    """Redirect after a POST with 303, so that reloading the next page never re-submits."""
    response = redirect(url)
    response.status_code = 303
    return response


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


# --- Handbooks ----------------------------------------------------------------------------------------------------


def _handbook_context(request: HttpRequest, course: Course) -> dict[str, Any]:
    trainer = teaches_course(request.user, course.pk)
    kinds = [Handbook.Kind.STUDENT, Handbook.Kind.INSTRUCTOR] if trainer else [Handbook.Kind.STUDENT]
    found = {
        handbook.kind: handbook
        for handbook in Handbook.objects.defer("content").filter(course=course, course_version=course.version)
    }
    building = any(handbook.status in (Handbook.Status.PENDING, Handbook.Status.RUNNING) for handbook in found.values())
    return {
        "course": course,
        "trainer": trainer,
        "building": building,
        "missing": pdf_missing(),
        "entries": [{"kind": kind, "label": Handbook.Kind(kind).label, "handbook": found.get(kind)} for kind in kinds],
    }


def _course_for_handbooks(course: str) -> Course:
    return get_object_or_404(Course.objects.only("pk", "slug", "title", "version"), slug=course)


@login_required
@require_GET
def handbooks(request: HtmxHttpRequest, course: str) -> HttpResponse:
    """The course's handbooks of the current version: status, progress while a worker builds one, download."""
    course_obj = _course_for_handbooks(course)
    context = _handbook_context(request, course_obj)
    template = "delivery/handbooks.html#list" if request.htmx else "delivery/handbooks.html"
    return render(request, template, context)


@login_required
@require_POST
def handbook_build(request: HtmxHttpRequest, course: str, kind: str) -> HttpResponse:
    """Ask a worker to build a handbook of the current version (trainers only); a built one is kept, not rebuilt."""
    course_obj = _course_for_handbooks(course)
    require_trainer(request.user, course_obj.pk)
    if kind not in Handbook.Kind.values:
        raise Http404("No such handbook.")
    try:
        handbooks_service.handbook_request(course_obj, kind)
    except PdfUnavailableError as error:
        messages.error(request, f"PDFs cannot be made on this server: {error}")
    return _see_other(reverse("delivery:handbooks", args=[course_obj.slug]))


@login_required
@require_GET
def handbook_download(request: HttpRequest, course: str, kind: str) -> HttpResponse:
    """The built PDF of the current version: the student handbook for any signed-in user, the instructor one for
    trainers only."""
    course_obj = _course_for_handbooks(course)
    if kind not in Handbook.Kind.values:
        raise Http404("No such handbook.")
    if kind == Handbook.Kind.INSTRUCTOR:
        require_trainer(request.user, course_obj.pk)
    handbook = get_object_or_404(
        Handbook, course=course_obj, kind=kind, course_version=course_obj.version, status=Handbook.Status.READY
    )
    response = HttpResponse(bytes(handbook.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{handbook.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
