"""Labs: a lab definition per course item, attempts that store a learner's action log, and runs.

The database is the source of truth for every run: a run row is created in the same transaction as the
action it evaluates, the broker only carries a nudge, and a sweeper re-sends runs whose nudge was lost.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from labs.fields import CompressedJSONField


class Lab(models.Model):
    """A simulator-backed exercise, loaded from `labs/<slug>/lab.yaml` in a course folder."""

    item = models.OneToOneField("courseware.Item", on_delete=models.CASCADE, related_name="lab")
    version = models.CharField(max_length=50, help_text="Course version the definition was loaded from.")
    minutes = models.PositiveIntegerField(default=30)
    manual_html = models.TextField(help_text="The manual, rendered and sanitised at load time.")
    answer_key_html = models.TextField(blank=True, help_text="Instructors only.")
    definition = models.JSONField(help_text="Scenario, variants, tasks, checks, questions and solve actions.")
    max_points = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.item.slug

    @property
    def slug(self) -> str:
        return self.item.slug

    @property
    def title(self) -> str:
        return self.item.title

    def check_by_id(self, check_id: str) -> dict[str, object] | None:
        for check in self.definition.get("checks", []):
            if check["id"] == check_id:
                return check
        return None


class LabAttempt(models.Model):
    """One learner's go at a lab: a seed and an action log; the state is replay(scenario, seed, actions)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "In progress"
        COMPLETED = "completed", "Completed"
        RESET = "reset", "Reset (kept for the record)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lab_attempts")
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    params = models.JSONField(default=dict, help_text="Variant values drawn from the seed (VM names, users...).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    action_count = models.PositiveIntegerField(default=0)
    best_points = models.PositiveIntegerField(default=0)
    hints_used = models.JSONField(default=dict, help_text="check id -> number of hints revealed.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reset_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "lab", "number"], name="lab_attempt_number_unique"),
            models.UniqueConstraint(
                fields=["user", "lab"],
                condition=models.Q(status="active"),
                name="one_active_lab_attempt",
            ),
        ]
        indexes = [models.Index(fields=["lab", "status"])]

    def __str__(self) -> str:
        return f"{self.user} / {self.lab} #{self.number}"


class LabAction(models.Model):
    """One entry of an attempt's action log: what the learner typed and the simulator action it compiled to."""

    attempt = models.ForeignKey(LabAttempt, on_delete=models.CASCADE, related_name="actions")
    seq = models.PositiveIntegerField()
    source = models.TextField(help_text="The console line or form the learner submitted.")
    action = models.JSONField(help_text="The simulator action (a dict with an 'op').")
    client_token = models.UUIDField(help_text="One per rendered form: a double submit is recorded once.")
    created_at = models.DateTimeField(auto_now_add=True)
    over_budget = models.BooleanField(
        default=False, help_text="Its run went over the simulator's budget: left out of every later replay."
    )

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "seq"], name="lab_action_seq_unique"),
            models.UniqueConstraint(fields=["attempt", "client_token"], name="lab_action_token_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.seq}: {self.source[:40]}"


class LabRunManager(models.Manager["LabRun"]):
    """Runs without their trace (`LabRun.trace`, up to hundreds of KB of events), which only the trace viewer and
    the comparison read: they ask for it with `.defer(None)`; anything else that touches it loads it then."""

    def get_queryset(self) -> models.QuerySet[LabRun]:
        return super().get_queryset().defer("trace")


class LabRun(models.Model):
    """One evaluation on the simulator: of an action (kind=action) or of the checks (kind=check)."""

    class Kind(models.TextChoices):
        ACTION = "action", "Action"
        CHECK = "check", "Check my work"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Failed"
        COULD_NOT_EVALUATE = "could_not_evaluate", "Could not evaluate: try again"
        TIMED_OUT = "timed_out", "Timed out"

    TERMINAL = (Status.PASSED, Status.FAILED, Status.COULD_NOT_EVALUATE, Status.TIMED_OUT)

    attempt = models.ForeignKey(LabAttempt, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    action = models.OneToOneField(LabAction, null=True, blank=True, on_delete=models.CASCADE, related_name="run")
    upto_seq = models.PositiveIntegerField(help_text="Replay the attempt's actions 1..upto_seq.")
    client_token = models.UUIDField(default=uuid.uuid4)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    result = models.JSONField(default=dict, blank=True)
    trace = CompressedJSONField(
        null=True,
        blank=True,
        help_text="The action's trace events (an I/O keeps up to engine.TRACE_EVENTS_KEPT), stored compressed; "
        "NULL for checks and for runs without a result. The run's summary and counters are in `result`.",
    )
    message = models.TextField(blank=True)
    points = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    nudged_at = models.DateTimeField(default=timezone.now, help_text="When a task message was last sent for it.")
    fair_at = models.DateTimeField(
        default=timezone.now,
        help_text="Its turn: workers take pending runs in this order; a learner's runs are spaced one budget apart.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=0, help_text="How many times a worker claimed this run.")
    lease = models.UUIDField(null=True, blank=True, help_text="Token of the worker currently holding the run.")

    objects = LabRunManager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "client_token"], name="lab_run_token_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["status", "fair_at"]),
            models.Index(fields=["attempt", "kind"]),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.kind}, {self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def has_io_trace(self) -> bool:
        """Whether this is a passed `io` run, which has a trace to step through (without reading the trace)."""
        return self.status == LabRun.Status.PASSED and (self.result.get("output") or {}).get("op") == "io"

    def io_trace(self) -> dict[str, Any] | None:
        """What the trace viewer draws for a passed `io` run (events, counters, path, VM, guest, arithmetic lines);
        None for any other run. Reads the trace: load the run with `.defer(None)` to save a query."""
        if not self.has_io_trace:
            return None
        output = self.result.get("output") or {}
        vm_name = output.get("vm")
        guest = next(
            (vm.get("guest") for vm in (self.result.get("state") or {}).get("vms", []) if vm.get("name") == vm_name), ""
        )
        return {
            "events": self.trace or [],
            "counters": output.get("counters", {}),
            "path": output.get("path"),
            "vm": vm_name,
            "guest": guest,
            "params": {"arithmetic": _arithmetic_lines(output.get("arithmetic") or {})},
        }


def _arithmetic_lines(arithmetic: Any) -> list[str]:
    lines = arithmetic.get("lines") if isinstance(arithmetic, dict) else None
    if isinstance(lines, list):
        return [str(line) for line in lines]
    return [f"{key}: {value}" for key, value in sorted(arithmetic.items())] if isinstance(arithmetic, dict) else []
