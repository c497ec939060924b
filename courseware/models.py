"""Courses loaded from git folders: modules, items (lesson / quiz / lab), quiz attempts and one progress row per item.

Every row that learners' progress points at is keyed by a stable slug and is archived, never deleted, when it
disappears from the course folder. HTML is rendered and sanitised at load time (courseware.markdown).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import NoReverseMatch, reverse


def item_path(course_slug: str, kind: str, slug: str) -> str:
    """The page of an item; labs use the labs app's `labs:lab` URL once it exists, else the outline entry.

    Used by Item.get_absolute_url and by the course loader, which bakes item links into rendered Markdown.
    """
    if kind == "lesson":
        return reverse("courseware:lesson", kwargs={"course": course_slug, "lesson": slug})
    if kind == "quiz":
        return reverse("courseware:quiz", kwargs={"course": course_slug, "quiz": slug})
    try:
        return reverse("labs:lab", kwargs={"course": course_slug, "lab": slug})
    except NoReverseMatch:
        return reverse("courseware:outline", kwargs={"course": course_slug}) + f"#item-{slug}"


HEAVY_COURSE_FIELDS = ("summary_html", "audience_html", "instructor_overview_html", "glossary")
"""The Course columns that only the course's own pages show (its overview, audience, instructor overview and
glossary: tens of KB): pages that reach the course through an item or a lab need its slug and title, not these."""


def heavy_course_fields(path: str = "course") -> tuple[str, ...]:
    """HEAVY_COURSE_FIELDS named through the relation `path`, for `defer()`."""
    return tuple(f"{path}__{name}" for name in HEAVY_COURSE_FIELDS)


class Course(models.Model):
    """One course folder as last loaded: `version` and `loaded_at` record which revision learners see."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    version = models.CharField(max_length=50)
    summary_html = models.TextField(blank=True)
    audience_html = models.TextField(blank=True)
    instructor_overview_html = models.TextField(blank=True, help_text="Instructors only.")
    glossary = models.JSONField(default=list, help_text="[{slug, term, definition_html}] sorted by term.")
    source_path = models.CharField(max_length=500)
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.slug


class Module(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(max_length=100)
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="courseware_module_unique_slug")]

    def __str__(self) -> str:
        return f"{self.course.slug}/{self.slug}"


class Item(models.Model):
    """A lesson, quiz or lab: the unit progress is recorded against. `position` is the order within the course."""

    class Kind(models.TextChoices):
        LESSON = "lesson", "Lesson"
        QUIZ = "quiz", "Quiz"
        LAB = "lab", "Lab"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="items")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    slug = models.SlugField(max_length=100)
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["course", "slug"], name="courseware_item_unique_slug")]
        indexes = [models.Index(fields=["course", "archived", "position"], name="cw_item_order")]

    def __str__(self) -> str:
        return f"{self.course.slug}/{self.slug}"

    def get_absolute_url(self) -> str:
        return item_path(self.course.slug, self.kind, self.slug)


class Lesson(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="lesson")
    minutes = models.PositiveIntegerField(default=0)
    objectives = models.JSONField(default=list)
    body_html = models.TextField()
    toc = models.JSONField(default=list, help_text="[{level, id, title}] for the h2/h3 headings of the body.")
    instructor_notes_html = models.TextField(blank=True)
    neighbours = models.JSONField(
        default=dict, help_text="{previous, next: {kind, title, url} or null}, computed at load for the pager."
    )
    slides = models.JSONField(
        default=list, help_text="[{title, kind, html, notes_html}] for present mode, split at load (courseware.slides)."
    )

    def __str__(self) -> str:
        return self.item.slug


class Quiz(models.Model):
    """Policy and the answer key. `questions` never leaves the server except through courseware.grading's views."""

    class ShowAnswers(models.TextChoices):
        AFTER_EACH_ATTEMPT = "after_each_attempt", "After each attempt"
        ONCE_PASSED = "once_passed", "Once passed"
        AFTER_LAST_ATTEMPT = "after_last_attempt", "Once all attempts are used"
        NEVER = "never", "Never"

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(default=70, help_text="Percent of points needed to pass.")
    attempts_allowed = models.PositiveIntegerField(default=0, help_text="0 means unlimited.")
    show_answers = models.CharField(max_length=30, choices=ShowAnswers.choices, default=ShowAnswers.AFTER_EACH_ATTEMPT)
    shuffle = models.BooleanField(default=True)
    questions = models.JSONField(help_text="The key: questions with correct answers and explanations (server only).")
    max_points = models.FloatField(default=0)

    def __str__(self) -> str:
        return self.item.slug


class QuizAttempt(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    seed = models.BigIntegerField(help_text="Seeds the choice order, so it is stable within the attempt.")
    course_version = models.CharField(max_length=50, blank=True)
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, help_text="{question id: the learner's answer}")
    results = models.JSONField(default=dict, help_text="{question id: {points, max_points, correct}}")
    points = models.FloatField(default=0)
    max_points = models.FloatField(default=0)
    percent = models.FloatField(default=0)
    passed = models.BooleanField(default=False)
    # An instructor's reset archives an attempt instead of deleting it: it no longer counts, but stays on record.
    archived_at = models.DateTimeField(null=True, blank=True)
    archived_note = models.CharField(max_length=600, blank=True, help_text="Who reset it, in which class, and why.")

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["user", "quiz", "number"], name="courseware_attempt_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.quiz} #{self.number} by {self.user_id}"


class Progress(models.Model):
    """One learner's state on one item, whatever its kind; instructor pages read these in bulk by item."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="progress")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    score_percent = models.FloatField(null=True, blank=True, help_text="Best quiz or lab score, 0-100.")
    best_points = models.FloatField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="courseware_progress_unique_user_item")]
        indexes = [models.Index(fields=["item", "status"], name="cw_progress_item_status")]
        verbose_name_plural = "progress"

    def __str__(self) -> str:
        return f"{self.user_id} {self.item} {self.status}"

    @property
    def is_completed(self) -> bool:
        return self.status == self.Status.COMPLETED


class CourseImage(models.Model):
    """An image from the course's images/ folder, stored at load so that it is served by exact path only."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="images")
    path = models.CharField(max_length=300, help_text="Relative to images/, e.g. 'diagrams/vmbus.svg'.")
    content_type = models.CharField(max_length=50)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "path"], name="courseware_image_unique_path")]

    def __str__(self) -> str:
        return f"{self.course.slug}/images/{self.path}"
