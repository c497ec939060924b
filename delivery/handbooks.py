"""Handbooks: a course's student and instructor handbooks as PDF, built by a Celery task once per course version.

The student handbook has every lesson (with its diagrams), the lab manuals as a lab guide, and the glossary; the
instructor handbook adds the instructor overview, every lesson's instructor notes and timing, the slides' presenter
notes, the quiz answer keys and the lab answer keys. The PDF is kept in the row, like a gradebook export.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from courseware.models import Course, CourseImage, Item
from delivery.models import Handbook
from delivery.pdf import PdfUnavailableError, html_to_pdf, pdf_missing

logger = logging.getLogger(__name__)


HANDBOOK_PENDING_SECONDS = 60
"""A pending handbook whose message is older than this is re-sent when someone asks for it again."""
HANDBOOK_STALE_SECONDS = 600
"""A handbook claimed longer ago than this lost its worker: asking again lets another worker take it over."""


def handbook_content(course: Course, kind: str) -> dict[str, Any]:
    """Everything a handbook prints, in teaching order: modules with their lessons, quizzes and labs (fixed queries)."""
    instructor = kind == Handbook.Kind.INSTRUCTOR
    items = list(
        Item.objects.filter(course=course, archived=False, module__archived=False)
        .select_related("module", "lesson", "quiz", "lab")
        .order_by("position")
    )
    modules: list[dict[str, Any]] = []
    labs: list[Item] = []
    for item in items:
        if not modules or modules[-1]["module"].pk != item.module_id:
            modules.append({"module": item.module, "lessons": [], "quizzes": []})
        if item.kind == Item.Kind.LESSON:
            modules[-1]["lessons"].append(item)
        elif item.kind == Item.Kind.QUIZ and instructor:
            modules[-1]["quizzes"].append({"item": item, "questions": [_answer(q) for q in item.quiz.questions]})
        elif item.kind == Item.Kind.LAB and hasattr(item, "lab"):
            item.manual_print_html = _variants_as_names(item.lab.manual_html)  # type: ignore[attr-defined]
            item.answer_key_print_html = _variants_as_names(item.lab.answer_key_html)  # type: ignore[attr-defined]
            labs.append(item)
    minutes = sum(item.lesson.minutes for item in items if item.kind == Item.Kind.LESSON)
    lab_minutes = sum(getattr(getattr(item, "lab", None), "minutes", 0) for item in labs)
    return {
        "course": course,
        "kind": kind,
        "instructor": instructor,
        "modules": modules,
        "labs": labs,
        "minutes": minutes,
        "lab_minutes": lab_minutes,
        "title": Handbook.Kind(kind).label,
    }


VARIANT_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _variants_as_names(html: str) -> str:
    """A lab's ${host}-style variants are drawn per learner online; on paper they print as a named placeholder."""
    return VARIANT_RE.sub(r"<var>\1</var>", html)


def _answer(question: dict[str, Any]) -> dict[str, Any]:
    """A quiz question's key for the instructor handbook: the prompt and the right answer in words."""
    kind = question.get("type")
    answer: list[str] = []
    if kind in ("single", "multiple"):
        answer = [choice.get("html", "") for choice in question.get("choices", []) if choice.get("correct")]
    elif kind == "true_false":
        answer = ["True" if question.get("answer") else "False"]
    elif kind == "numeric":
        tolerance = question.get("tolerance") or 0
        unit = question.get("unit") or ""
        answer = [f"{question.get('answer'):g} {unit}".strip() + (f" (± {tolerance:g})" if tolerance else "")]
    elif kind == "ordering":
        answer = [entry.get("html", "") for entry in question.get("items", [])]
    elif kind == "matching":
        answer = [f"{pair.get('left_html', '')} → {pair.get('right', '')}" for pair in question.get("pairs", [])]
    return {
        "id": question.get("id"),
        "type": kind,
        "prompt_html": question.get("prompt_html", ""),
        "answer": answer,
        "ordered": kind == "ordering",
        "explanation_html": question.get("explanation_html", ""),
        "points": question.get("points", 1),
    }


def handbook_html(course: Course, kind: str) -> str:
    """The handbook as one HTML document for WeasyPrint (templates/delivery/handbook.html); links to a lesson, a lab
    or a glossary term of the course point inside the PDF."""
    html = render_to_string("delivery/handbook.html", handbook_content(course, kind))
    # Heading ids repeat across lessons; the PDF links to lessons, labs and terms, never to a heading.
    html = re.sub(r'<(h[2-6]) id="[^"]*">', r"<\1>", html)
    prefix = re.escape(f"/courses/{course.slug}/")
    html = re.sub(rf'href="{prefix}glossary/#term-', 'href="#term-', html)
    return re.sub(rf'href="{prefix}(lesson|lab)s/([a-z0-9-]+)/[^"]*"', r'href="#\1-\2"', html)


def handbook_for(course: Course, kind: str) -> Handbook | None:
    """The handbook of the course's current version, without its PDF bytes (None if nobody asked for it yet)."""
    return Handbook.objects.defer("content").filter(course=course, kind=kind, course_version=course.version).first()


def handbook_request(course: Course, kind: str) -> Handbook:
    """The current version's handbook, asking a worker to build it when it is not built, failed or was lost.

    Raises PdfUnavailableError when this machine cannot make PDFs (nothing is queued then)."""
    missing = pdf_missing()
    if missing:
        raise PdfUnavailableError(missing)
    now = timezone.now()
    handbook, created = Handbook.objects.get_or_create(
        course=course, kind=kind, course_version=course.version, defaults={"requested_at": now, "nudged_at": now}
    )
    resend = created
    if handbook.status == Handbook.Status.FAILED:
        resend = bool(
            Handbook.objects.filter(pk=handbook.pk, status=Handbook.Status.FAILED).update(
                status=Handbook.Status.PENDING, progress=0, stage="", error="", requested_at=now, nudged_at=now
            )
        )
    elif handbook.status == Handbook.Status.PENDING and handbook.nudged_at < now - timedelta(
        seconds=HANDBOOK_PENDING_SECONDS
    ):
        resend = bool(Handbook.objects.filter(pk=handbook.pk, nudged_at=handbook.nudged_at).update(nudged_at=now))
    elif (
        handbook.status == Handbook.Status.RUNNING
        and handbook.claimed_at
        and handbook.claimed_at < now - timedelta(seconds=HANDBOOK_STALE_SECONDS)
    ):
        resend = True
    if resend:
        handbook_id = handbook.pk
        transaction.on_commit(lambda: _handbook_send(handbook_id))
    handbook.refresh_from_db(fields=["status", "progress", "stage", "error", "pages", "size", "finished_at"])
    return handbook


def _handbook_send(handbook_id: int) -> None:
    from delivery.tasks import build_handbook

    try:
        build_handbook.apply_async((handbook_id,), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    except Exception:  # noqa: BLE001 - a broker outage must not lose the request: asking again re-sends it
        logger.warning("could not enqueue handbook %s; asking again re-sends it", handbook_id, exc_info=True)


def _handbook_progress(handbook_id: int, progress: int, stage: str) -> None:
    Handbook.objects.filter(pk=handbook_id, status=Handbook.Status.RUNNING).update(progress=progress, stage=stage)


def previous_pages(handbook: Handbook) -> int:
    """Pages of the last built handbook of this kind (any version): the estimate the progress bar counts towards."""
    last = (
        Handbook.objects.filter(course_id=handbook.course_id, kind=handbook.kind, status=Handbook.Status.READY)
        .order_by("-finished_at")
        .values_list("pages", flat=True)
        .first()
    )
    return last or 100


class _ProgressReporter:
    """Turns WeasyPrint's progress lines into the row's progress: layout passes count pages towards an estimate;
    at most one UPDATE per 10 pages."""

    PAGE_RE = re.compile(r"Creating layout - Page (\d+)")

    def __init__(self, handbook_id: int, expected_pages: int) -> None:
        self.handbook_id = handbook_id
        self.expected = max(expected_pages, 1)
        self.last = -1

    def __call__(self, message: str) -> None:
        match = self.PAGE_RE.search(message)
        if match:
            page = int(match.group(1))
            if page // 10 != self.last // 10:
                self.last = page
                percent = 10 + min(70, 70 * page // self.expected)
                _handbook_progress(self.handbook_id, percent, f"Laying out page {page}")
        elif "Creating PDF" in message:
            _handbook_progress(self.handbook_id, 85, "Writing the PDF")


def handbook_build(handbook_id: int, now: datetime | None = None) -> Handbook | None:
    """Build handbook `handbook_id` once (claimed with a conditional update); None if it was already claimed."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=HANDBOOK_STALE_SECONDS)
    claimed = Handbook.objects.filter(
        Q(status=Handbook.Status.PENDING) | Q(status=Handbook.Status.RUNNING, claimed_at__lt=stale_before),
        pk=handbook_id,
    ).update(status=Handbook.Status.RUNNING, claimed_at=now, progress=5, stage="Collecting the course")
    if not claimed:
        return None
    handbook = Handbook.objects.select_related("course").defer("content").get(pk=handbook_id)
    try:
        html = handbook_html(handbook.course, handbook.kind)
        images = {
            image.path: (image.content_type, bytes(image.data))
            for image in CourseImage.objects.filter(course=handbook.course)
        }
        _handbook_progress(handbook_id, 10, "Laying out the pages")
        pdf, pages = html_to_pdf(html, images, _ProgressReporter(handbook_id, previous_pages(handbook)))
    except Exception as exc:  # noqa: BLE001 - recorded on the row for the trainer, then re-raised for the log
        Handbook.objects.filter(pk=handbook_id).update(
            status=Handbook.Status.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    Handbook.objects.filter(pk=handbook_id).update(
        status=Handbook.Status.READY,
        content=pdf,
        size=len(pdf),
        pages=pages,
        progress=100,
        stage="Ready",
        finished_at=timezone.now(),
    )
    handbook.refresh_from_db()
    return handbook
