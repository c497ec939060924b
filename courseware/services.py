"""Courseware work that spans models: loading a course folder, quiz attempts, and progress per learner and item."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone

from accounts.models import User
from courseware import grading, signals
from courseware.content import CourseSpec, Problem, course_read, lab_hooks
from courseware.models import Course, CourseImage, Item, Lesson, Module, Progress, Quiz, QuizAttempt, item_path

# A lesson visit refreshes "last activity" at most this often, so re-reading a page does not write each time.
VISIT_REFRESH = timedelta(seconds=30)


class CourseInvalidError(Exception):
    """The course folder has problems; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the course")
        self.problems = problems


class QuizSubmissionError(Exception):
    """A quiz submission that was refused; nothing was recorded. The message is shown to the learner."""


class AttemptsUsedUpError(QuizSubmissionError):
    pass


# --- Loading -----------------------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    course: Course
    created: bool
    counts: dict[str, int]
    archived_items: list[str] = field(default_factory=list)
    previous_version: str = ""


def course_check(path: str | Path) -> tuple[CourseSpec | None, list[Problem]]:
    """Validate a course folder without touching the database: (parsed course or None, every problem)."""
    return course_read(path)


def course_load(path: str | Path) -> LoadReport:
    """Validate, then upsert the course by stable slugs in one transaction; raises CourseInvalidError, writing nothing.

    Modules and items missing from the folder are archived (kept with their progress), never deleted.
    """
    spec, problems = course_read(path)
    if problems or spec is None:
        raise CourseInvalidError(problems or [Problem(str(path), None, "not a course")])
    now = timezone.now()
    with transaction.atomic():
        course, created = Course.objects.select_for_update().get_or_create(
            slug=spec.slug,
            defaults={"title": spec.title, "version": spec.version, "source_path": str(spec.root), "loaded_at": now},
        )
        previous_version = "" if created else course.version
        course.title = spec.title
        course.version = spec.version
        course.summary_html = spec.summary_html
        course.audience_html = spec.audience_html
        course.instructor_overview_html = spec.instructor_overview_html
        course.glossary = spec.glossary
        course.source_path = str(spec.root)
        course.loaded_at = now
        course.save()

        neighbours = _neighbours(spec)
        modules = {module.slug: module for module in Module.objects.filter(course=course)}
        items = {item.slug: item for item in Item.objects.filter(course=course)}
        seen_modules: set[str] = set()
        seen_items: set[str] = set()
        position = 0
        for module_position, module_spec in enumerate(spec.modules, start=1):
            module = modules.get(module_spec.slug) or Module(course=course, slug=module_spec.slug)
            module.position = module_position
            module.title = module_spec.title
            module.summary = module_spec.summary
            module.archived = False
            module.save()
            seen_modules.add(module.slug)
            for ref in module_spec.items:
                position += 1
                item = items.get(ref.slug) or Item(course=course, slug=ref.slug)
                item.module = module
                item.kind = ref.kind
                item.position = position
                item.archived = False
                if ref.kind == "lesson":
                    lesson = module_spec.lessons[ref.slug]
                    item.title = lesson.title
                    item.save()
                    Lesson.objects.update_or_create(
                        item=item,
                        defaults={
                            "minutes": lesson.minutes,
                            "objectives": lesson.objectives,
                            "body_html": lesson.body_html,
                            "toc": lesson.toc,
                            "instructor_notes_html": lesson.instructor_notes_html,
                            "slides": lesson.slides,
                            "neighbours": neighbours[ref.slug],
                        },
                    )
                elif ref.kind == "quiz":
                    quiz = module_spec.quizzes[ref.slug]
                    item.title = quiz.title
                    item.save()
                    Quiz.objects.update_or_create(
                        item=item,
                        defaults={
                            "pass_mark": quiz.pass_mark,
                            "attempts_allowed": quiz.attempts,
                            "show_answers": quiz.show_answers,
                            "shuffle": quiz.shuffle,
                            "questions": quiz.questions,
                            "max_points": quiz.max_points,
                        },
                    )
                else:
                    lab = spec.labs[ref.slug]
                    item.title = lab.title[:200]
                    item.save()
                    hooks = lab_hooks()
                    if hooks is not None:  # course_read refuses labs without hooks, so this always holds
                        hooks.store(item, lab, spec)
                items[item.slug] = item
                seen_items.add(item.slug)
        archived = sorted(slug for slug, item in items.items() if slug not in seen_items and not item.archived)
        Item.objects.filter(course=course).exclude(slug__in=seen_items).update(archived=True)
        Module.objects.filter(course=course).exclude(slug__in=seen_modules).update(archived=True)

        CourseImage.objects.filter(course=course).delete()
        CourseImage.objects.bulk_create(
            CourseImage(course=course, path=image.path, content_type=image.content_type, data=image.data,
                        sha256=image.sha256)
            for image in spec.images.values()
        )  # fmt: skip
    return LoadReport(
        course=course, created=created, counts=spec.counts(), archived_items=archived, previous_version=previous_version
    )


def _neighbours(spec: CourseSpec) -> dict[str, dict[str, dict[str, str] | None]]:
    """Previous and next item of every item in teaching order, so that a lesson page needs no query for them."""
    ordered = []
    for module in spec.modules:
        for ref in module.items:
            if ref.kind == "lesson":
                title = module.lessons[ref.slug].title
            elif ref.kind == "quiz":
                title = module.quizzes[ref.slug].title
            else:
                title = spec.labs[ref.slug].title
            ordered.append(
                {"kind": ref.kind, "slug": ref.slug, "title": title, "url": item_path(spec.slug, ref.kind, ref.slug)}
            )
    result: dict[str, dict[str, dict[str, str] | None]] = {}
    for index, entry in enumerate(ordered):
        result[entry["slug"]] = {
            "previous": ordered[index - 1] if index > 0 else None,
            "next": ordered[index + 1] if index + 1 < len(ordered) else None,
        }
    return result


# --- Progress ----------------------------------------------------------------------------------------------------


def _progress_locked(user_id: int, item: Item, now: Any) -> Progress:
    progress, _ = Progress.objects.select_for_update().get_or_create(
        user_id=user_id, item=item, defaults={"last_activity_at": now, "status": Progress.Status.IN_PROGRESS}
    )
    return progress


_UNKNOWN: Any = object()


def lesson_visit(user: User, item: Item, progress: Progress | None = _UNKNOWN) -> Progress:
    """Record that `user` opened a lesson: in progress unless already completed; refreshes last activity.

    Pass `progress` (the user's row or None) when the caller has already read it, to save a query.
    """
    now = timezone.now()
    if progress is _UNKNOWN:
        progress = Progress.objects.filter(user=user, item=item).first()
    if progress is None:
        progress, _ = Progress.objects.get_or_create(
            user=user, item=item, defaults={"last_activity_at": now, "status": Progress.Status.IN_PROGRESS}
        )
    elif now - progress.last_activity_at > VISIT_REFRESH:
        Progress.objects.filter(pk=progress.pk).update(last_activity_at=now)
        progress.last_activity_at = now
    return progress


def lesson_mark_complete(user: User, item: Item) -> Progress:
    """Mark a lesson completed for `user` (idempotent: the first completion time is kept)."""
    now = timezone.now()
    with transaction.atomic():
        progress = _progress_locked(user.pk, item, now)
        if progress.status != Progress.Status.COMPLETED:
            progress.status = Progress.Status.COMPLETED
            progress.completed_at = now
        progress.last_activity_at = now
        progress.save()
    return progress


def progress_record_lab_completed(user: User, item: Item, points: float, max_points: float) -> Progress:
    """Record a passed lab check for `user`: see progress_record_lab_check."""
    return progress_record_lab_check(user, item, points, max_points, passed=True)


def progress_record_lab_check(user: User, item: Item, points: float, max_points: float, passed: bool) -> Progress:
    """Record one graded "Check my work" of a lab for `user`: THE definition of a lab's score.

    The score is the best check over all the learner's attempts, partial points counted (points of max_points,
    and the percent); a passed check completes the item, a failed one leaves it in progress. Every page that shows
    a lab score (lab page, My progress, outline, dashboard, drill-down, gradebook, CSV) reads this row.
    Counts one check per call. Raises ValueError for a non-lab item or bad points.
    """
    if item.kind != Item.Kind.LAB:
        raise ValueError(f"item {item.slug!r} is a {item.kind}, not a lab")
    if max_points < 0 or points < 0 or points > max_points:
        raise ValueError(f"points must be between 0 and max_points, got {points} of {max_points}")
    percent = 100.0 if max_points == 0 else round(100.0 * points / max_points, 2)
    if not passed and max_points == 0:
        percent = 0.0
    now = timezone.now()
    with transaction.atomic():
        progress = _progress_locked(user.pk, item, now)
        progress.attempts += 1
        if progress.score_percent is None or percent > progress.score_percent:
            progress.score_percent = percent
            progress.best_points = points
        if passed and progress.status != Progress.Status.COMPLETED:
            progress.status = Progress.Status.COMPLETED
            progress.completed_at = now
        progress.last_activity_at = now
        progress.save()
    return progress


@dataclass
class ItemState:
    item: Item
    progress: Progress | None
    max_points: float | None = None  # quizzes and labs, when the caller asked for points (My progress)

    @property
    def best_points(self) -> float | None:
        """The item's score as every page shows it: best points so far (partial points counted), or None."""
        if self.progress is None or self.progress.score_percent is None:
            return None
        return self.progress.best_points

    @property
    def status(self) -> str:
        return self.progress.status if self.progress else Progress.Status.NOT_STARTED

    @property
    def status_label(self) -> str:
        return Progress.Status(self.status).label

    @property
    def completed(self) -> bool:
        return self.status == Progress.Status.COMPLETED

    @property
    def url(self) -> str:
        return self.item.get_absolute_url()


@dataclass
class ModuleState:
    module: Module
    items: list[ItemState] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return sum(1 for state in self.items if state.completed)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0


@dataclass
class CourseState:
    course: Course
    modules: list[ModuleState] = field(default_factory=list)
    continue_item: ItemState | None = None

    @property
    def completed(self) -> int:
        return sum(module.completed for module in self.modules)

    @property
    def total(self) -> int:
        return sum(module.total for module in self.modules)

    @property
    def percent(self) -> int:
        return round(100 * self.completed / self.total) if self.total else 0

    @property
    def started(self) -> bool:
        return any(state.progress for module in self.modules for state in module.items)


def _course_states(user: User | None, courses: list[Course], with_points: bool = False) -> list[CourseState]:
    by_id = {course.pk: CourseState(course=course) for course in courses}
    items = Item.objects.filter(course__in=by_id, archived=False, module__archived=False).select_related("module")
    if with_points:
        # The quiz's and the lab's max points in the same query (Item's reverse one-to-ones; no labs import).
        items = items.annotate(quiz_max=F("quiz__max_points"), lab_max=F("lab__max_points"))
    progress: dict[int, Progress] = {}
    if user is not None and user.is_authenticated:
        progress = {p.item_id: p for p in Progress.objects.filter(user=user, item__course__in=by_id)}
    modules: dict[int, ModuleState] = {}
    for item in items.order_by("course_id", "position"):
        item.course = by_id[item.course_id].course  # avoid a query per item for URLs
        module_state = modules.get(item.module_id)
        if module_state is None:
            module_state = modules[item.module_id] = ModuleState(module=item.module)
            by_id[item.course_id].modules.append(module_state)
        max_points = None
        if with_points and item.kind in (Item.Kind.QUIZ, Item.Kind.LAB):
            value = item.quiz_max if item.kind == Item.Kind.QUIZ else item.lab_max  # type: ignore[attr-defined]
            max_points = float(value or 0)
        module_state.items.append(ItemState(item=item, progress=progress.get(item.pk), max_points=max_points))
    for state in by_id.values():
        state.modules.sort(key=lambda module: module.module.position)
        state.continue_item = _continue_item(state)
    return [by_id[course.pk] for course in courses]


def _continue_item(state: CourseState) -> ItemState | None:
    """Where to continue: the first unfinished item in course order (None when every item is completed)."""
    return next((item for module in state.modules for item in module.items if not item.completed), None)


def progress_for_course(user: User | None, course: Course) -> CourseState:
    """The course's live modules and items with `user`'s progress on each (3 queries whatever the size)."""
    return _course_states(user, [course])[0]


def progress_for_user(user: User) -> list[CourseState]:
    """Every course with `user`'s progress, for the My progress page (3 queries whatever the size)."""
    return _course_states(user, list(Course.objects.all()), with_points=True)


# --- Quizzes -----------------------------------------------------------------------------------------------------


def quiz_answers_visible(quiz: Quiz, attempt: QuizAttempt | None, progress: Progress | None) -> bool:
    """Whether the key and explanations may be shown with a submitted attempt, by the quiz's show_answers policy."""
    if attempt is None or attempt.submitted_at is None:
        return False
    policy = quiz.show_answers
    if policy == Quiz.ShowAnswers.AFTER_EACH_ATTEMPT:
        return True
    if policy == Quiz.ShowAnswers.ONCE_PASSED:
        return attempt.passed or bool(progress and progress.status == Progress.Status.COMPLETED)
    if policy == Quiz.ShowAnswers.AFTER_LAST_ATTEMPT:
        used = progress.attempts if progress else attempt.number
        return quiz.attempts_allowed > 0 and used >= quiz.attempts_allowed
    return False


def quiz_attempts_left(quiz: Quiz, progress: Progress | None) -> int | None:
    """Attempts `progress`'s owner may still start, or None when unlimited."""
    if quiz.attempts_allowed == 0:
        return None
    return max(0, quiz.attempts_allowed - (progress.attempts if progress else 0))


def quiz_attempt_start(user: User, quiz: Quiz) -> QuizAttempt:
    """Resume `user`'s open attempt or start the next one with a fresh seed; raises AttemptsUsedUpError."""
    with transaction.atomic():
        attempts = list(QuizAttempt.objects.select_for_update().filter(user=user, quiz=quiz).order_by("number"))
        live = [attempt for attempt in attempts if attempt.archived_at is None]  # reset ones no longer count
        for attempt in live:
            if attempt.submitted_at is None:
                return attempt
        if quiz.attempts_allowed and len(live) >= quiz.attempts_allowed:
            raise AttemptsUsedUpError("You have used all the attempts for this quiz.")
        try:
            with transaction.atomic():
                return QuizAttempt.objects.create(
                    user=user,
                    quiz=quiz,
                    number=len(attempts) + 1,
                    seed=secrets.randbits(62),
                    course_version=quiz.item.course.version,
                    started_at=timezone.now(),
                    max_points=quiz.max_points,
                )
        except IntegrityError:
            pass
    # Another request (a second tab) started this attempt a moment ago: resume it.
    return QuizAttempt.objects.get(user=user, quiz=quiz, number=len(attempts) + 1)


def quiz_attempt_submit(attempt: QuizAttempt, data: QueryDict | dict[str, Any]) -> tuple[QuizAttempt, Progress]:
    """Grade and record a submitted attempt and update the learner's best score; raises QuizSubmissionError.

    Nothing is recorded when the answers are invalid or the attempt was already submitted. Percent is 0-100.
    """
    quiz = attempt.quiz
    if attempt.submitted_at is not None:
        raise QuizSubmissionError("This attempt was already submitted.")
    try:
        answers = grading.parse_answers(quiz.questions, data)
    except grading.InvalidSubmissionError as error:
        raise QuizSubmissionError(str(error)) from None
    results = grading.grade(quiz.questions, answers)
    points = round(sum(result["points"] for result in results.values()), 4)
    max_points = quiz.max_points
    percent = round(100.0 * points / max_points, 2) if max_points else 0.0
    passed = percent >= quiz.pass_mark
    now = timezone.now()
    with transaction.atomic():
        # The conditional update makes a double submission (two tabs, a double click) count once.
        updated = QuizAttempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(
            submitted_at=now, answers=answers, results=results, points=points, max_points=max_points,
            percent=percent, passed=passed,
        )  # fmt: skip
        if not updated:
            raise QuizSubmissionError("This attempt was already submitted.")
        progress = _progress_locked(attempt.user_id, quiz.item, now)
        progress.attempts += 1
        if progress.score_percent is None or percent > progress.score_percent:
            progress.score_percent = percent
            progress.best_points = points
        if passed and progress.status != Progress.Status.COMPLETED:
            progress.status = Progress.Status.COMPLETED
            progress.completed_at = now
        progress.last_activity_at = now
        progress.save()
        signals.quiz_submitted.send(sender=QuizAttempt, attempt=attempt, progress=progress, submitted_at=now)
    attempt.submitted_at, attempt.answers, attempt.results = now, answers, results
    attempt.points, attempt.max_points, attempt.percent, attempt.passed = points, max_points, percent, passed
    return attempt, progress


def quiz_attempt_for_user(user: User, course_slug: str, quiz_slug: str, attempt_id: int) -> QuizAttempt | None:
    """The one way to fetch an attempt by id: only `user`'s own, of that quiz of that course, else None."""
    return (
        QuizAttempt.objects.select_related("quiz", "quiz__item", "quiz__item__course")
        .filter(
            Q(user=user),
            pk=attempt_id,
            archived_at__isnull=True,
            quiz__item__slug=quiz_slug,
            quiz__item__course__slug=course_slug,
            quiz__item__archived=False,
        )
        .first()
    )
