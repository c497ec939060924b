"""The live dashboard of a class (every student on every item, with attention flags), the failure-mode heatmap of a
lab, and the drill-down into one student. Read-only: a constant number of queries whatever the class's size.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Max, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import User
from classes.models import Class, HandRaise, Membership, ResetLog
from classes.services import open_hand
from courseware.models import Item, Progress, QuizAttempt
from labs.feedback import failure_template
from labs.models import Lab, LabAttempt, LabRun

# --- Attention flags: thresholds, deliberately constants rather than settings ----------------------------------
# A student whose last FAILED_CHECKS_IN_A_ROW "check my work" runs on a lab all failed needs a look.
FAILED_CHECKS_IN_A_ROW = 3
# A student whose most recent activity is an unfinished lab, at least IDLE_MINUTES ago, may be stuck ...
IDLE_MINUTES = 10
# ... unless it is older than IDLE_WINDOW_HOURS: then they have simply left for the day.
IDLE_WINDOW_HOURS = 4

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


def _member_ids(klass: Class) -> QuerySet[Membership, int]:
    """The class's students' user ids, as a subquery (not evaluated here: it becomes `IN (SELECT ...)`)."""
    return Membership.objects.filter(klass=klass).values_list("user_id", flat=True)


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
    items = klass.live_items()
    members = list(
        Membership.objects.filter(klass=klass)
        .select_related("user")
        .only("id", "klass_id", "joined_at", "user__id", "user__username", "user__first_name", "user__last_name")
        .order_by("user__username")
    )
    member_ids = _member_ids(klass)
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
    member_ids = _member_ids(klass)
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
        .values_list("result", "attempt__params")
    )
    failing: Counter[str] = Counter()
    messages: dict[str, Counter[str]] = defaultdict(Counter)
    seen_titles: dict[str, str] = {}
    checked = 0
    for result, params in latest:
        checked += 1
        for check in (result or {}).get("checks", []):
            seen_titles.setdefault(check["id"], check.get("title", check["id"]))
            if not check.get("passed"):
                failing[check["id"]] += 1
                # Grouped by the message's template (each learner's VM names and numbers taken out), not its text.
                messages[check["id"]][failure_template(check, params or {})] += 1
    heat = []
    for check in lab.definition.get("checks", []):
        check_id = check["id"]
        title = check.get("title", check_id)
        if "{" in title:
            title = seen_titles.get(check_id, title)
        percent = round(100 * failing[check_id] / checked) if checked else 0
        heat.append(CheckHeat(check_id, title, failing[check_id], messages[check_id].most_common(top), percent))
    return Heatmap(lab=lab, students=students, checked=checked, checks=heat)


# --- Drill-down -------------------------------------------------------------------------------------


def student_detail(klass: Class, student: User) -> dict[str, Any]:
    """A student's progress on every item, lab attempts and quiz attempts (with answers), and resets."""
    items = klass.live_items()
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
