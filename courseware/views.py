"""Courseware pages: thin views over courseware.services; htmx requests get the page's fragment alone."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import instructor_required
from core import access
from core.access import require_open
from core.http import HtmxHttpRequest
from courseware import caching, grading, services
from courseware.models import Course, CourseImage, Item, Progress, Quiz, QuizAttempt

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _see_other(url: str) -> HttpResponse:
    """Redirect after a POST with 303, so that reloading the next page never re-submits."""
    response = redirect(url)
    response.status_code = 303
    return response


def _get_item(course_slug: str, item_slug: str, kind: str, *related: str) -> Item:
    """A live (not archived) item of a course by slugs, with its course; 404 otherwise."""
    return get_object_or_404(
        Item.objects.select_related("course", "module", *related),
        course__slug=course_slug,
        slug=item_slug,
        kind=kind,
        archived=False,
    )


@require_GET
def catalog(request: HtmxHttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        states = services.progress_for_user(request.user)
    else:
        states = [services.CourseState(course=course) for course in Course.objects.all()]
    return render(request, "courseware/catalog.html", {"states": states})


@require_GET
def outline(request: HtmxHttpRequest, course: str) -> HttpResponse:
    course_obj = get_object_or_404(Course, slug=course)
    state = services.progress_for_course(request.user, course_obj)
    return render(request, "courseware/outline.html", {"course": course_obj, "state": state})


@login_required
@require_GET
def lesson(request: HtmxHttpRequest, course: str, lesson: str) -> HttpResponse:
    stamps = caching.learner_stamps(request.user.pk)
    ref = caching.lesson_ref(course, lesson, stamps.generation)
    require_open(request.user, ref)  # asked on every request: pacing is never cached in the page
    show_instructor_notes = access.teaches_course(request.user, ref.course_id)
    key = caching.lesson_page_key(request, stamps, show_instructor_notes)
    if key is None:
        item = caching.lesson_item(course, lesson, stamps.generation)
        return render(request, "courseware/lesson.html", _lesson_context(request, item, show_instructor_notes))
    page = cache.get(key)
    if page is None:
        item = caching.lesson_item(course, lesson, stamps.generation)
        context = _lesson_context(request, item, show_instructor_notes)
        context["csrf_token"] = caching.CSRF_PLACEHOLDER
        page = render_to_string("courseware/lesson.html", context, request)
        cache.set(key, page, caching.PAGE_SECONDS)
    return HttpResponse(page.replace(caching.CSRF_PLACEHOLDER, get_token(request)))


def _lesson_context(request: HtmxHttpRequest, item: Item, show_instructor_notes: bool) -> dict[str, object]:
    # Reading changes nothing (a GET never writes): "Mark as complete" is the POST that records progress.
    neighbours = item.lesson.neighbours
    return {
        "course": item.course,
        "item": item,
        "lesson": item.lesson,
        "progress": Progress.objects.filter(user=request.user, item=item).first(),
        "previous": neighbours.get("previous"),
        "next": neighbours.get("next"),
        "show_instructor_notes": show_instructor_notes,
    }


@login_required
@require_POST
def lesson_complete(request: HtmxHttpRequest, course: str, lesson: str) -> HttpResponse:
    item = _get_item(course, lesson, Item.Kind.LESSON)
    require_open(request.user, item)
    progress = services.lesson_mark_complete(request.user, item)
    if request.htmx:
        return render(
            request, "courseware/lesson.html#complete", {"course": item.course, "item": item, "progress": progress}
        )
    return _see_other(reverse("courseware:lesson", args=[course, lesson]) + "#complete")


def _quiz_context(
    request: HtmxHttpRequest, item: Item, quiz: Quiz, attempt: QuizAttempt | None, progress: Progress | None
) -> dict[str, object]:
    """Everything the quiz page shows; the key is only added when the show_answers policy allows it."""
    attempts_left = services.quiz_attempts_left(quiz, progress)
    context: dict[str, object] = {
        "course": item.course,
        "item": item,
        "quiz": quiz,
        "attempt": attempt,
        "progress": progress,
        "attempts_left": attempts_left,
    }
    if attempt is None:
        return context
    views = grading.question_views(quiz.questions, attempt.seed, quiz.shuffle)
    if attempt.submitted_at is None:
        context["questions"] = views
    else:
        context["answers_visible"] = services.quiz_answers_visible(quiz, attempt, progress)
        if context["answers_visible"]:
            context["review"] = grading.reveal(quiz.questions, views, attempt.answers, attempt.results)
        context["can_retry"] = attempts_left is None or attempts_left > 0
    return context


@login_required
@require_GET
def quiz(request: HtmxHttpRequest, course: str, quiz: str) -> HttpResponse:
    """Resume the open attempt or show the latest result; with no attempt yet, a "Start the quiz" button (a GET
    never creates an attempt: starting one is the POST below)."""
    item = _get_item(course, quiz, Item.Kind.QUIZ, "quiz")
    require_open(request.user, item)
    quiz_obj = item.quiz
    progress = Progress.objects.filter(user=request.user, item=item).first()
    live = QuizAttempt.objects.filter(user=request.user, quiz=quiz_obj, archived_at__isnull=True)
    attempt = live.order_by("-number").first()
    context = _quiz_context(request, item, quiz_obj, attempt, progress)
    context["error"] = ""
    return render(request, "courseware/quiz.html", context)


@login_required
@require_POST
def quiz_start(request: HtmxHttpRequest, course: str, quiz: str) -> HttpResponse:
    """Start an attempt (the first, or "Try again" after a submitted one); the open attempt if there is one."""
    item = _get_item(course, quiz, Item.Kind.QUIZ, "quiz")
    require_open(request.user, item)
    live = QuizAttempt.objects.filter(user=request.user, quiz=item.quiz, archived_at__isnull=True)
    latest = live.order_by("-number").first()
    if latest is None or latest.submitted_at is not None:
        try:
            services.quiz_attempt_start(request.user, item.quiz)
        except services.AttemptsUsedUpError as exc:
            progress = Progress.objects.filter(user=request.user, item=item).first()
            context = _quiz_context(request, item, item.quiz, latest, progress)
            context["error"] = str(exc)
            return render(request, "courseware/quiz.html", context, status=409)
    return _see_other(reverse("courseware:quiz", args=[course, quiz]))


@login_required
@require_POST
def quiz_submit(request: HtmxHttpRequest, course: str, quiz: str, attempt_id: int) -> HttpResponse:
    attempt = services.quiz_attempt_for_user(request.user, course, quiz, attempt_id)
    if attempt is None:
        raise Http404("No such attempt of yours.")
    item = attempt.quiz.item
    require_open(request.user, item)
    try:
        attempt, progress = services.quiz_attempt_submit(attempt, request.POST)
    except services.QuizSubmissionError as error:
        context = {"course": item.course, "item": item, "quiz": attempt.quiz, "error": str(error)}
        if request.htmx:
            response = render(request, "courseware/quiz.html#refused", context, status=400)
            response["HX-Retarget"] = "#quiz-refused"
            response["HX-Reswap"] = "innerHTML"
            return response
        return render(request, "courseware/quiz_refused.html", context, status=400)
    if request.htmx:
        context = _quiz_context(request, item, attempt.quiz, attempt, progress)
        return render(request, "courseware/quiz.html#panel", context)
    return _see_other(reverse("courseware:quiz", args=[course, quiz]) + "#result")


@require_GET
def glossary(request: HtmxHttpRequest, course: str) -> HttpResponse:
    course_obj = get_object_or_404(Course, slug=course)
    return render(request, "courseware/glossary.html", {"course": course_obj})


@instructor_required
@require_GET
def instructor(request: HtmxHttpRequest, course: str) -> HttpResponse:
    """The course's instructor overview and every lesson's instructor notes in teaching order, for printing."""
    course_obj = get_object_or_404(Course, slug=course)
    if not access.teaches_course(request.user, course_obj.pk):
        raise PermissionDenied(
            "Instructor notes and answer keys are for the instructors of this course's classes: create a class for it."
        )
    lessons = (
        Item.objects.filter(course=course_obj, archived=False, kind=Item.Kind.LESSON, module__archived=False)
        .select_related("module", "lesson")
        .order_by("position")
    )
    # Lab answer keys come through Item's reverse one-to-one "lab" (the labs app), in teaching order.
    labs = (
        Item.objects.filter(course=course_obj, archived=False, kind=Item.Kind.LAB, module__archived=False)
        .select_related("module", "lab")
        .order_by("position")
    )
    return render(request, "courseware/instructor.html", {"course": course_obj, "lessons": lessons, "labs": labs})


@require_GET
def image(request: HtmxHttpRequest, course: str, path: str) -> HttpResponse:
    """A course image by exact stored path (no filesystem access, so no traversal); SVG under a strict CSP."""
    if ".." in path.split("/"):
        raise Http404("No such image.")
    found = get_object_or_404(CourseImage.objects, course__slug=course, path=path)
    etag = f'"{found.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(bytes(found.data), content_type=found.content_type)
    response["ETag"] = etag
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    if found.content_type == "image/svg+xml":
        response["Content-Security-Policy"] = SVG_CSP
    return response


@login_required
@require_GET
def my_progress(request: HtmxHttpRequest) -> HttpResponse:
    states = services.progress_for_user(request.user)
    return render(request, "courseware/my_progress.html", {"states": states})
