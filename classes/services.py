"""Classes work that spans models: access, joining, pacing, the live dashboard, the heatmap, resets, the gradebook.

Access to a class always goes through `class_get_for_instructor` or `class_get_for_member`, which filter by the
requesting user: another instructor's class, or a class the student is not in, is a 404.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, QuerySet, Window
from django.db.models.functions import Lower, RowNumber
from django.http import Http404
from django.utils import timezone
from django.utils.safestring import mark_safe

from accounts.models import User
from classes import pacing
from classes.models import Class, ClassModule, Export, HandRaise, Membership, ResetLog, new_join_code
from courseware.models import Course, Item, Module, Progress, Quiz, QuizAttempt
from labs.models import Lab, LabAttempt, LabRun

logger = logging.getLogger(__name__)

# --- Attention flags: thresholds, deliberately constants rather than settings ----------------------------------
# A student whose last FAILED_CHECKS_IN_A_ROW "check my work" runs on a lab all failed needs a look.
FAILED_CHECKS_IN_A_ROW = 3
# A student whose most recent activity is an unfinished lab, at least IDLE_MINUTES ago, may be stuck ...
IDLE_MINUTES = 10
# ... unless it is older than IDLE_WINDOW_HOURS: then they have simply left for the day.
IDLE_WINDOW_HOURS = 4

# Join attempts: JOIN_FAILURE_LIMIT wrong codes per user within JOIN_FAILURE_WINDOW_SECONDS, then 429.
JOIN_FAILURE_LIMIT = 10
JOIN_FAILURE_WINDOW_SECONDS = 600

# Gradebook exports: classes up to this size are built in the request; larger ones by a Celery task.
EXPORT_IN_REQUEST_LIMIT = 200
EXPORT_BATCH = 500


class JoinError(Exception):
    """A join code that was refused; the message is shown to the student."""


class JoinRateLimitedError(JoinError):
    pass


# --- Access ----------------------------------------------------------------------------------------------------


def class_get_for_instructor(user: Any, class_id: int) -> Class:
    """The class if `user` is one of its instructors or staff; 404 otherwise (another instructor's class too)."""
    classes = Class.objects.select_related("course")
    if not getattr(user, "is_staff", False):
        if not getattr(user, "is_instructor", False):
            raise Http404("No such class.")
        classes = classes.filter(instructors=user)
    found = classes.filter(pk=class_id).first()
    if found is None:
        raise Http404("No such class.")
    return found


def class_get_for_member(user: Any, class_id: int) -> Class:
    """The class if `user` is a student in it; 404 otherwise."""
    found = Class.objects.select_related("course").filter(pk=class_id, memberships__user=user).first()
    if found is None:
        raise Http404("No such class.")
    return found


def class_is_taught_by(klass: Class, user: Any) -> bool:
    return bool(getattr(user, "is_staff", False)) or klass.instructors.filter(pk=user.pk).exists()


def classes_for_user(user: Any) -> tuple[list[Class], list[Class]]:
    """(classes `user` teaches, classes `user` is a student in)."""
    taught = list(Class.objects.filter(instructors=user).select_related("course")) if user.is_instructor else []
    joined = list(Class.objects.filter(memberships__user=user).select_related("course"))
    return taught, joined


def student_get_for_class(klass: Class, user_id: int) -> Membership:
    """A student's membership of `klass`, with the user; 404 for anyone who is not in the class."""
    found = Membership.objects.select_related("user").filter(klass=klass, user_id=user_id).first()
    if found is None:
        raise Http404("No such student in this class.")
    return found


def teaches_course(user: Any, course_id: int) -> bool:
    """Whether `user` may read a course's instructor notes and answer keys: staff, or an instructor of one of the
    classes of that course (one query for an instructor, none for anyone else)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_staff", False):
        return True
    if not getattr(user, "is_instructor", False):
        return False
    return Class.objects.filter(course_id=course_id, instructors=user).exists()


def lab_attempt_get_for_instructor(user: Any, attempt_id: int) -> LabAttempt:
    """A lab attempt an instructor may replay: the student is in one of the user's classes for that course (staff:
    any attempt); 404 otherwise."""
    attempts = LabAttempt.objects.select_related("lab__item__course", "user")
    if not getattr(user, "is_staff", False):
        attempts = attempts.filter(
            user__class_memberships__klass__instructors=user,
            user__class_memberships__klass__course=F("lab__item__course"),
        )
    found = attempts.filter(pk=attempt_id).first()
    if found is None:
        raise Http404("No such lab attempt in your classes.")
    return found


# --- Creating, joining, membership -----------------------------------------------------------------------------


def class_create(
    instructor: User, course: Course, title: str, starts_on: date, ends_on: date, paced: bool = False
) -> Class:
    """Create a class taught by `instructor`, with a fresh join code."""
    for _ in range(5):
        try:
            with transaction.atomic():
                klass = Class.objects.create(
                    course=course, title=title, starts_on=starts_on, ends_on=ends_on, paced=paced,
                    created_by=instructor, join_code=new_join_code(),
                )  # fmt: skip
                klass.instructors.add(instructor)
                return klass
        except IntegrityError:
            continue  # a code collision: draw another
    raise RuntimeError("could not draw a unique join code")


def class_regenerate_code(klass: Class) -> str:
    """Give the class a new join code (the old one stops working at once)."""
    for _ in range(5):
        try:
            with transaction.atomic():
                klass.join_code = new_join_code()
                klass.save(update_fields=["join_code"])
                return klass.join_code
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a unique join code")


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _failures_key(user: Any) -> str:
    return f"classes:join-failures:{user.pk}"


def class_join(user: User, code: str, via: str = Membership.Via.CODE) -> tuple[Class, bool]:
    """Join the class whose code is `code`: (class, True if newly joined). Raises JoinError with a clear message,
    or JoinRateLimitedError after too many wrong codes."""
    key = _failures_key(user)
    if int(cache.get(key, 0)) >= JOIN_FAILURE_LIMIT:
        raise JoinRateLimitedError(
            "Too many wrong join codes. Wait 10 minutes, then try again; your instructor can also add you directly."
        )
    klass = Class.objects.select_related("course").filter(join_code=normalise_code(code)).first()
    if klass is None:
        if cache.add(key, 1, JOIN_FAILURE_WINDOW_SECONDS) is False:
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, JOIN_FAILURE_WINDOW_SECONDS)
        raise JoinError("No class has this join code. Check the code with your instructor (letters and digits).")
    if klass.code_expired:
        raise JoinError(
            f"The join code of {klass.title} expired when the class ended on {klass.ends_on:%d %B %Y}. "
            "Ask your instructor to add you."
        )
    if klass.instructors.filter(pk=user.pk).exists():
        raise JoinError("You teach this class; instructors do not join their own class as students.")
    created = membership_add(klass, user, via)
    return klass, created


def membership_add(klass: Class, user: User, via: str) -> bool:
    """Add `user` to `klass` as a student (True if new); the pacing cache is refreshed by the post_save signal."""
    _, created = Membership.objects.get_or_create(klass=klass, user=user, defaults={"via": via})
    return created


@dataclass
class CsvResult:
    added: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    instructors: list[User] = field(default_factory=list)


def members_add_csv(klass: Class, text: str) -> CsvResult:
    """Add students listed by username or email (one per line or comma-separated) to `klass`, in bulk."""
    wanted: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            value = cell.strip()
            if value and value.lower() not in ("username", "email") and value not in wanted:
                wanted.append(value)
    result = CsvResult()
    if not wanted:
        return result
    lowered = [value.lower() for value in wanted]
    users = list(
        User.objects.annotate(username_lower=Lower("username"), email_lower=Lower("email")).filter(
            Q(username_lower__in=lowered) | Q(email_lower__in=lowered)
        )
    )
    by_key: dict[str, User] = {}
    for user in users:
        by_key[user.username.lower()] = user
        if user.email:
            by_key.setdefault(user.email.lower(), user)
    existing = set(Membership.objects.filter(klass=klass).values_list("user_id", flat=True))
    teachers = set(klass.instructors.values_list("pk", flat=True))
    new: list[User] = []
    for value in wanted:
        user = by_key.get(value.lower())
        if user is None:
            result.unknown.append(value)
        elif user.pk in teachers:
            result.instructors.append(user)
        elif user.pk in existing or user in new:
            if user not in result.already:
                result.already.append(user)
        else:
            new.append(user)
    Membership.objects.bulk_create(
        [Membership(klass=klass, user=user, via=Membership.Via.CSV) for user in new], ignore_conflicts=True
    )
    for user in new:
        pacing.refresh(user)
    result.added = new
    return result


def instructor_add(klass: Class, username_or_email: str) -> User:
    """Add a co-instructor by username or email; raises ValueError if there is no such instructor."""
    value = username_or_email.strip()
    user = User.objects.filter(Q(username=value) | Q(email__iexact=value)).first()
    if user is None or not user.is_instructor:
        raise ValueError(f"No instructor account is called {value!r}.")
    klass.instructors.add(user)
    return user


# --- Pacing ----------------------------------------------------------------------------------------------------


def module_open(klass: Class, module: Module, instructor: User) -> None:
    ClassModule.objects.get_or_create(klass=klass, module=module, defaults={"opened_by": instructor})


def module_close(klass: Class, module: Module) -> None:
    ClassModule.objects.filter(klass=klass, module=module).delete()


def modules_open_all(klass: Class, instructor: User) -> None:
    modules = Module.objects.filter(course_id=klass.course_id, archived=False)
    ClassModule.objects.bulk_create(
        [ClassModule(klass=klass, module=module, opened_by=instructor) for module in modules], ignore_conflicts=True
    )


def modules_with_state(klass: Class) -> list[tuple[Module, ClassModule | None]]:
    openings = {opening.module_id: opening for opening in ClassModule.objects.filter(klass=klass)}
    modules = Module.objects.filter(course_id=klass.course_id, archived=False).order_by("position")
    return [(module, openings.get(module.pk)) for module in modules]


# --- Raised hands ----------------------------------------------------------------------------------------------


def hand_raise(klass: Class, user: User, note: str = "") -> HandRaise:
    """Raise `user`'s hand in `klass` (idempotent while one is open)."""
    try:
        with transaction.atomic():
            return HandRaise.objects.create(klass=klass, user=user, note=note[:300])
    except IntegrityError:
        return HandRaise.objects.get(klass=klass, user=user, resolved_at__isnull=True)


def hand_lower(klass: Class, user: User) -> None:
    HandRaise.objects.filter(klass=klass, user=user, resolved_at__isnull=True).update(resolved_at=timezone.now())


def hand_resolve(klass: Class, hand_id: int, instructor: User) -> bool:
    return bool(
        HandRaise.objects.filter(klass=klass, pk=hand_id, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=instructor
        )
    )


def open_hand(klass: Class, user: User) -> HandRaise | None:
    return HandRaise.objects.filter(klass=klass, user=user, resolved_at__isnull=True).first()


# --- The live dashboard ----------------------------------------------------------------------------------------

STATUS_SYMBOL = {"completed": "✓", "in_progress": "◐", "not_started": "–"}
STATUS_TEXT = {"completed": "completed", "in_progress": "in progress", "not_started": "not started"}


@dataclass
class Cell:
    item: Item
    status: str = "not_started"
    score: float | None = None
    last_check: str = ""  # "passed" / "failed" for labs with a check run

    @property
    def symbol(self) -> str:
        return STATUS_SYMBOL[self.status]

    @property
    def text(self) -> str:
        return STATUS_TEXT[self.status]

    @property
    def html(self) -> str:
        score = "" if self.score is None else f" {self.score:.0f}%"
        failed = " ✗" if self.last_check == "failed" else ""
        return f'<td class="cl-{self.status}">{STATUS_SYMBOL[self.status]}{score}{failed}</td>'


@dataclass
class Flag:
    kind: str  # failed_checks | idle | hints | hand
    text: str


@dataclass
class Row:
    membership: Membership
    cells: list[Cell]
    last_activity: datetime | None = None
    flags: list[Flag] = field(default_factory=list)

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def cells_html(self) -> str:
        """The row's item cells as HTML, built here rather than in a template loop: 300 students x 60 items is
        18,000 cells, and only fixed symbols and numbers go in them (nothing to escape)."""
        return mark_safe("".join(cell.html for cell in self.cells))  # noqa: S308 - no user data in a cell

    completed: int = 0
    last_activity_text: str = "never"

    @property
    def percent(self) -> int:
        return round(100 * self.completed / len(self.cells)) if self.cells else 0


@dataclass
class Dashboard:
    klass: Class
    items: list[Item]
    rows: list[Row]
    hands: list[HandRaise]
    sort: str
    now: datetime

    @property
    def flagged(self) -> int:
        return sum(1 for row in self.rows if row.flags)


SORTS = {
    "name": "Name",
    "progress": "Least progress first",
    "activity": "Longest since last activity first",
    "attention": "Needing attention first",
}


def _course_items(course_id: int) -> list[Item]:
    return list(
        Item.objects.filter(course_id=course_id, archived=False, module__archived=False)
        .only("id", "kind", "slug", "title", "module_id", "position", "course_id")
        .order_by("position")
    )


def _members(klass: Class) -> QuerySet[Any]:
    return Membership.objects.filter(klass=klass).values("user_id")


def _latest_check_runs(member_ids: Any, course_id: int, depth: int) -> list[tuple[int, int, str, int]]:
    """(user id, lab item id, status, rank) of each attempt's last `depth` finished check runs (rank 1 = latest)."""
    return list(
        LabRun.objects.filter(
            kind=LabRun.Kind.CHECK,
            status__in=(LabRun.Status.PASSED, LabRun.Status.FAILED),
            attempt__user_id__in=member_ids,
            attempt__lab__item__course_id=course_id,
            attempt__status__in=(LabAttempt.Status.ACTIVE, LabAttempt.Status.COMPLETED),
        )
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("attempt_id")], order_by=[F("created_at").desc(), F("pk").desc()])
        )
        .filter(rank__lte=depth)
        .values_list("attempt__user_id", "attempt__lab__item_id", "status", "rank")
    )


def dashboard_build(klass: Class, sort: str = "name", now: datetime | None = None) -> Dashboard:
    """Every student's state on every item of the class's course, with attention flags; a constant number of
    queries (items, memberships with users, progress, last activity, check runs, active lab attempts, labs, hands)."""
    now = now or timezone.now()
    course_id = klass.course_id
    items = _course_items(course_id)
    members = list(
        Membership.objects.filter(klass=klass)
        .select_related("user")
        .only("id", "klass_id", "joined_at", "user__id", "user__username", "user__first_name", "user__last_name")
        .order_by("user__username")
    )
    member_ids = _members(klass)
    course_progress = Progress.objects.filter(user_id__in=member_ids, item__course_id=course_id)
    progress: dict[tuple[int, int], tuple[str, float | None]] = {
        (user_id, item_id): (status, score)
        for user_id, item_id, status, score in course_progress.values_list(
            "user_id", "item_id", "status", "score_percent"
        )
    }
    # One timestamp per student, not per progress row: parsing 10,000 datetimes costs more than this query.
    last_progress: dict[int, datetime] = dict(
        course_progress.order_by()
        .values("user_id")
        .annotate(last=Max("last_activity_at"))
        .values_list("user_id", "last")
    )
    runs: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))  # user -> lab item -> latest first
    for user_id, item_id, status, _rank in sorted(
        _latest_check_runs(member_ids, course_id, FAILED_CHECKS_IN_A_ROW), key=lambda r: r[3]
    ):
        runs[user_id][item_id].append(status)
    attempts = LabAttempt.objects.filter(
        user_id__in=member_ids, lab__item__course_id=course_id, status=LabAttempt.Status.ACTIVE
    ).values_list("user_id", "lab__item_id", "hints_used", "last_activity_at")
    active: dict[int, list[tuple[int, dict[str, int], datetime]]] = defaultdict(list)
    for user_id, item_id, hints_used, last in attempts:
        active[user_id].append((item_id, hints_used or {}, last))
    ladders: dict[int, dict[str, tuple[str, int]]] = {
        item_id: {
            check["id"]: (check.get("title", check["id"]), len(check.get("hints", [])))
            for check in (definition or {}).get("checks", [])
        }
        for item_id, definition in Lab.objects.filter(item__course_id=course_id).values_list("item_id", "definition")
    }
    hands = list(HandRaise.objects.filter(klass=klass, resolved_at__isnull=True).select_related("user"))
    hand_by_user = {hand.user_id: hand for hand in hands}
    titles = {item.pk: item.title for item in items}
    columns = [(item, item.pk, item.kind == Item.Kind.LAB) for item in items]
    idle_from, idle_until = timedelta(minutes=IDLE_MINUTES), timedelta(hours=IDLE_WINDOW_HOURS)

    rows: list[Row] = []
    for membership in members:
        user_id = membership.user_id
        user_runs = runs.get(user_id, {})
        open_labs = active.get(user_id, [])
        open_lab_ids = {item_id for item_id, _, _ in open_labs}
        cells = []
        last_activity: datetime | None = last_progress.get(user_id)
        for item, item_id, is_lab in columns:
            cell = Cell(item=item)
            state = progress.get((user_id, item_id))
            if state:
                cell.status, cell.score = state
            if is_lab:
                history = user_runs.get(item_id)
                if history:
                    cell.last_check = history[0]
                if item_id in open_lab_ids and cell.status == "not_started":
                    cell.status = "in_progress"
            cells.append(cell)
        row = Row(membership=membership, cells=cells)
        for _item_id, _hints, last in open_labs:
            if last_activity is None or last > last_activity:
                last_activity = last
        row.last_activity = last_activity
        for item_id, history in user_runs.items():
            if len(history) >= FAILED_CHECKS_IN_A_ROW and all(status == "failed" for status in history):
                row.flags.append(
                    Flag("failed_checks", f"{FAILED_CHECKS_IN_A_ROW} failed checks in a row: {titles.get(item_id)}")
                )
        for item_id, hints, last in open_labs:
            idle = now - last
            if last == last_activity and idle_from <= idle < idle_until:
                row.flags.append(Flag("idle", f"Idle {int(idle.total_seconds() // 60)} min in {titles.get(item_id)}"))
            for check_id, used in sorted(hints.items()):
                title, ladder = ladders.get(item_id, {}).get(check_id, (check_id, 0))
                if ladder and int(used) >= ladder:
                    row.flags.append(Flag("hints", f"Every hint used on “{title}”"))
        hand = hand_by_user.get(user_id)
        if hand is not None:
            row.flags.insert(0, Flag("hand", "Raised hand" + (f": {hand.note}" if hand.note else "")))
        row.completed = sum(1 for cell in cells if cell.status == "completed")
        row.last_activity_text = _ago(now, last_activity)
        rows.append(row)
    _sort_rows(rows, sort, now)
    return Dashboard(klass=klass, items=items, rows=rows, hands=hands, sort=sort if sort in SORTS else "name", now=now)


def _ago(now: datetime, then: datetime | None) -> str:
    """'never', '3 min ago', '2 h 5 min ago', '3 days ago': cheaper than the timesince filter for 300 rows."""
    if then is None:
        return "never"
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min ago"
    return f"{minutes // (24 * 60)} days ago"


def _sort_rows(rows: list[Row], sort: str, now: datetime) -> None:
    if sort == "progress":
        rows.sort(key=lambda row: (row.percent, row.user.username))
    elif sort == "activity":
        epoch = datetime.min.replace(tzinfo=now.tzinfo)
        rows.sort(key=lambda row: (row.last_activity or epoch, row.user.username))
    elif sort == "attention":
        rows.sort(key=lambda row: (-len(row.flags), row.user.username))


# --- The failure-mode heatmap ----------------------------------------------------------------------------------


@dataclass
class CheckHeat:
    check_id: str
    title: str
    failing: int
    messages: list[tuple[str, int]]
    percent: int = 0  # of the students who have checked


@dataclass
class Heatmap:
    lab: Lab
    students: int
    checked: int
    checks: list[CheckHeat]

    @property
    def worst(self) -> int:
        return max((check.failing for check in self.checks), default=0)


def heatmap_build(klass: Class, lab: Lab, top: int = 3) -> Heatmap:
    """For each check of `lab`: how many of the class's students' LATEST check run fails it, with the most common
    failure messages (2 queries: the member count and the latest check runs)."""
    member_ids = _members(klass)
    students = Membership.objects.filter(klass=klass).count()
    latest = (
        LabRun.objects.filter(
            kind=LabRun.Kind.CHECK,
            status__in=(LabRun.Status.PASSED, LabRun.Status.FAILED),
            attempt__lab=lab,
            attempt__user_id__in=member_ids,
        )
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("attempt__user_id")], order_by=[F("created_at").desc(), F("pk").desc()]
            )
        )
        .filter(rank=1)
        .values_list("result", flat=True)
    )
    failing: Counter[str] = Counter()
    messages: dict[str, Counter[str]] = defaultdict(Counter)
    seen_titles: dict[str, str] = {}
    checked = 0
    for result in latest:
        checked += 1
        for check in (result or {}).get("checks", []):
            seen_titles.setdefault(check["id"], check.get("title", check["id"]))
            if not check.get("passed"):
                failing[check["id"]] += 1
                messages[check["id"]][check.get("message") or "(no message)"] += 1
    heat = []
    for check in lab.definition.get("checks", []):
        check_id = check["id"]
        title = check.get("title", check_id)
        if "{" in title:
            title = seen_titles.get(check_id, title)
        percent = round(100 * failing[check_id] / checked) if checked else 0
        heat.append(CheckHeat(check_id, title, failing[check_id], messages[check_id].most_common(top), percent))
    return Heatmap(lab=lab, students=students, checked=checked, checks=heat)


def class_labs(klass: Class) -> list[Lab]:
    return list(
        Lab.objects.filter(item__course_id=klass.course_id, item__archived=False)
        .select_related("item")
        .order_by("item__position")
    )


def lab_for_class(klass: Class, slug: str) -> Lab:
    lab = Lab.objects.select_related("item").filter(item__course_id=klass.course_id, item__slug=slug).first()
    if lab is None:
        raise Http404("This class's course has no such lab.")
    return lab


# --- Drill-down and resets -------------------------------------------------------------------------------------


def student_detail(klass: Class, student: User) -> dict[str, Any]:
    """A student's progress on every item, lab attempts and quiz attempts (with answers), and resets."""
    items = _course_items(klass.course_id)
    progress = {p.item_id: p for p in Progress.objects.filter(user=student, item__course_id=klass.course_id)}
    attempts = list(
        LabAttempt.objects.filter(user=student, lab__item__course_id=klass.course_id)
        .select_related("lab__item")
        .order_by("lab__item__position", "-number")
    )
    quiz_attempts = list(
        QuizAttempt.objects.filter(user=student, quiz__item__course_id=klass.course_id)
        .select_related("quiz__item")
        .order_by("quiz__item__position", "-number")
    )
    from courseware import grading

    quiz_reviews = []
    for attempt in quiz_attempts:
        review = None
        if attempt.submitted_at is not None:
            views = grading.question_views(attempt.quiz.questions, attempt.seed, attempt.quiz.shuffle)
            review = grading.reveal(attempt.quiz.questions, views, attempt.answers, attempt.results)
        quiz_reviews.append((attempt, review))
    open_labs = {attempt.lab.item_id for attempt in attempts if attempt.status == LabAttempt.Status.ACTIVE}
    return {
        "items": [(item, progress.get(item.pk), item.pk in open_labs) for item in items],
        "lab_attempts": attempts,
        "quiz_attempts": quiz_reviews,
        "resets": list(ResetLog.objects.filter(klass=klass, student=student).select_related("item", "instructor")),
        "hand": open_hand(klass, student),
    }


def lab_reset_for_student(klass: Class, student: User, lab: Lab, instructor: User, reason: str) -> ResetLog:
    """Reset the student's current lab attempt (kept for the record) and log who did it and why."""
    from labs.services import lab_attempt_reset

    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the reset; it is logged.")
    attempt = LabAttempt.objects.filter(
        user=student, lab=lab, status__in=(LabAttempt.Status.ACTIVE, LabAttempt.Status.COMPLETED)
    ).order_by("-number").first()  # fmt: skip
    if attempt is None:
        raise ValueError("This student has no attempt at this lab to reset.")
    detail = {"attempt": attempt.number, "best_points": attempt.best_points, "actions": attempt.action_count}
    with transaction.atomic():
        if attempt.status == LabAttempt.Status.COMPLETED:
            LabAttempt.objects.filter(pk=attempt.pk).update(status=LabAttempt.Status.ACTIVE)
            attempt.status = LabAttempt.Status.ACTIVE
        new = lab_attempt_reset(attempt, reason=f"reset by {instructor.username}: {reason}")
        detail["new_attempt"] = new.number
        return ResetLog.objects.create(
            klass=klass, student=student, instructor=instructor, item=lab.item, kind=ResetLog.Kind.LAB,
            reason=reason[:500], detail=detail,
        )  # fmt: skip


def quiz_reset_for_student(klass: Class, student: User, quiz: Quiz, instructor: User, reason: str) -> ResetLog:
    """Remove the student's attempts at a quiz so they start afresh; the log keeps what each attempt scored."""
    reason = reason.strip()
    if not reason:
        raise ValueError("Give a reason for the reset; it is logged.")
    with transaction.atomic():
        attempts = list(QuizAttempt.objects.select_for_update().filter(user=student, quiz=quiz))
        if not attempts:
            raise ValueError("This student has no attempts at this quiz to reset.")
        detail = {
            "attempts": [
                {"number": a.number, "percent": a.percent, "passed": a.passed, "answers": a.answers} for a in attempts
            ]
        }
        QuizAttempt.objects.filter(pk__in=[a.pk for a in attempts]).delete()
        Progress.objects.filter(user=student, item=quiz.item).update(
            attempts=0, score_percent=None, best_points=0, status=Progress.Status.IN_PROGRESS, completed_at=None
        )
        return ResetLog.objects.create(
            klass=klass, student=student, instructor=instructor, item=quiz.item, kind=ResetLog.Kind.QUIZ,
            reason=reason[:500], detail=detail,
        )  # fmt: skip


# --- Gradebook -------------------------------------------------------------------------------------------------


@dataclass
class GradeColumn:
    item: Item
    max_points: float


@dataclass
class GradeRow:
    user: User
    scores: list[str]
    points: float
    max_points: float
    completed: int

    @property
    def percent(self) -> float:
        return round(100 * self.points / self.max_points, 1) if self.max_points else 0.0


def gradebook_columns(klass: Class) -> list[GradeColumn]:
    """The course's items with the points each is worth (quizzes and labs; lessons count as completed or not)."""
    items = _course_items(klass.course_id)
    quiz_points = dict(Quiz.objects.filter(item__course_id=klass.course_id).values_list("item_id", "max_points"))
    lab_points = dict(Lab.objects.filter(item__course_id=klass.course_id).values_list("item_id", "max_points"))
    return [GradeColumn(item, float(quiz_points.get(item.pk) or lab_points.get(item.pk) or 0)) for item in items]


def _grade_rows(columns: list[GradeColumn], users: list[User], course_id: int) -> list[GradeRow]:
    progress = {
        (user_id, item_id): (status, score, points)
        for user_id, item_id, status, score, points in Progress.objects.filter(
            user_id__in=[user.pk for user in users], item__course_id=course_id
        ).values_list("user_id", "item_id", "status", "score_percent", "best_points")
    }
    total_max = sum(column.max_points for column in columns)
    rows = []
    for user in users:
        scores, points, completed = [], 0.0, 0
        for column in columns:
            status, score, best = progress.get((user.pk, column.item.pk), ("not_started", None, 0.0))
            completed += status == "completed"
            if column.item.kind == Item.Kind.LESSON:
                scores.append("completed" if status == "completed" else "")
            else:
                scores.append("" if score is None else f"{score:g}")
                points += best or 0.0
        rows.append(GradeRow(user, scores, round(points, 2), total_max, completed))
    return rows


def gradebook_rows(klass: Class, columns: list[GradeColumn], only: User | None = None) -> list[GradeRow]:
    """One row per student (or only `only`'s row): score per item and totals (2 queries)."""
    members = Membership.objects.filter(klass=klass).select_related("user").order_by("user__username")
    if only is not None:
        members = members.filter(user=only)
    users = [membership.user for membership in members]
    return _grade_rows(columns, users, klass.course_id)


def gradebook_batches(klass: Class, columns: list[GradeColumn], batch: int = EXPORT_BATCH) -> Iterator[list[GradeRow]]:
    """Gradebook rows in batches of `batch` students, 2 queries per batch (keyset pagination on membership id)."""
    after = 0
    while True:
        members = list(
            Membership.objects.filter(klass=klass, pk__gt=after)
            .select_related("user")
            .only("id", "user__id", "user__username", "user__email", "user__first_name", "user__last_name")
            .order_by("pk")[:batch]
        )
        if not members:
            return
        after = members[-1].pk
        yield _grade_rows(columns, [m.user for m in members], klass.course_id)


def gradebook_csv(klass: Class) -> tuple[bytes, int]:
    """The class's gradebook as CSV bytes (UTF-8 with a BOM, for spreadsheets) and the number of student rows."""
    columns = gradebook_columns(klass)
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["username", "name", "email"]
    header += [f"{column.item.get_kind_display()}: {column.item.title}" for column in columns]
    header += ["completed items", "points", "max points", "percent"]
    writer.writerow(header)
    count = 0
    for rows in gradebook_batches(klass, columns):
        for row in rows:
            writer.writerow(
                [_csv_safe(row.user.username), _csv_safe(row.user.get_full_name()), _csv_safe(row.user.email)]
                + row.scores
                + [row.completed, f"{row.points:g}", f"{row.max_points:g}", f"{row.percent:g}"]
            )
            count += 1
    return ("\ufeff" + out.getvalue()).encode(), count


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet (CSV injection): quote it as text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_request(klass: Class, user: User) -> Export:
    """Create an export; build it now for a small class, otherwise enqueue the Celery task after commit."""
    export = Export.objects.create(klass=klass, requested_by=user)
    if Membership.objects.filter(klass=klass).count() <= EXPORT_IN_REQUEST_LIMIT:
        export_build(export.pk)
        export.refresh_from_db()
        return export
    transaction.on_commit(lambda: _export_send(export.pk))
    return export


def _export_send(export_id: int) -> None:
    from django.conf import settings

    from classes.tasks import build_gradebook_export

    try:
        build_gradebook_export.apply_async((export_id,), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    except Exception:  # noqa: BLE001 - a broker outage must not lose the export: the sweeper re-sends it
        logger.warning("could not enqueue export %s; the sweeper will re-send it", export_id, exc_info=True)


EXPORT_PENDING_SECONDS = 60
"""A pending export whose message is older than this is re-sent by the sweeper."""
EXPORT_STALE_SECONDS = 300
"""A running export claimed longer ago than this lost its worker: another worker may take it over."""


def export_build(export_id: int, now: datetime | None = None) -> Export | None:
    """Build export `export_id` once (claimed with a conditional update); None if it was already claimed."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=EXPORT_STALE_SECONDS)
    claimed = Export.objects.filter(
        Q(status=Export.Status.PENDING) | Q(status=Export.Status.RUNNING, claimed_at__lt=stale_before), pk=export_id
    ).update(status=Export.Status.RUNNING, claimed_at=now)
    if not claimed:
        return None
    export = Export.objects.select_related("klass").get(pk=export_id)
    try:
        content, rows = gradebook_csv(export.klass)
    except Exception as exc:  # noqa: BLE001 - recorded on the row for the instructor, then re-raised for the log
        Export.objects.filter(pk=export_id).update(
            status=Export.Status.FAILED, error=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    Export.objects.filter(pk=export_id).update(
        status=Export.Status.READY, content=content, rows=rows, finished_at=timezone.now()
    )
    return export


def exports_sweep(now: datetime | None = None) -> int:
    """Re-send exports whose message was lost or whose worker died; returns how many were re-sent."""
    now = now or timezone.now()
    pending_before = now - timedelta(seconds=EXPORT_PENDING_SECONDS)
    stale_before = now - timedelta(seconds=EXPORT_STALE_SECONDS)
    resent = 0
    for export_id in list(
        Export.objects.filter(status=Export.Status.PENDING, nudged_at__lt=pending_before).values_list("pk", flat=True)[
            :100
        ]
    ):
        if Export.objects.filter(pk=export_id, status=Export.Status.PENDING, nudged_at__lt=pending_before).update(
            nudged_at=now
        ):
            _export_send(export_id)
            resent += 1
    for export_id in list(
        Export.objects.filter(status=Export.Status.RUNNING, claimed_at__lt=stale_before).values_list("pk", flat=True)[
            :100
        ]
    ):
        _export_send(export_id)
        resent += 1
    return resent
