"""What a learner reads about a check: plain language, no internal paths, and a link into the trace at the step.

The engine's check result keeps the technical fields (expected, observed, step); this module turns them into the
three things a learner needs: what was asked, what they have, and where to look. It also gives each failure a
template (the message with the learner's own values taken out), so the instructor heatmap can group failures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

# "vms[name=web-01].state" -> "state"; "authorization.scopes[name=Finance]" -> "scopes"
_PATH_RE = re.compile(r"\b[a-z_]+(?:\[[^\]]*\])?(?:\.[a-z_]+(?:\[[^\]]*\])?)+")
_SELECTOR_RE = re.compile(r"\[[^\]]*\]")
_ACTION_RE = re.compile(r"action #(\d+)(?:, trace events (\d+)-(\d+))?")
_NUMBER_RE = re.compile(r"\b\d[\d,.]*\b")


def plain(text: str) -> str:
    """Remove internal state paths (`vms[name=…].state`) from engine text: keep only the last, readable word."""

    def _last(match: re.Match[str]) -> str:
        return _SELECTOR_RE.sub("", match.group(0)).rsplit(".", 1)[-1].replace("_", " ")

    text = _PATH_RE.sub(_last, text)
    return text.replace(" (your answer)", "")


@dataclass
class CheckFeedback:
    id: str
    title: str
    points: int
    max_points: int
    passed: bool | None  # None: not checked yet
    asked: str = ""
    answered: str = ""
    where_text: str = ""
    where_url: str = ""
    hint: str = ""


def _where(step: str, action_runs: dict[int, Any]) -> tuple[str, str]:
    """Where to look, as text and (for an I/O action) a link to its trace at the first step of the action."""
    match = _ACTION_RE.search(step or "")
    if not match:
        return ("", "")
    seq = int(match.group(1))
    run = action_runs.get(seq)
    text = f"your command #{seq}" + (f" ({run.action.source})" if run is not None and run.action else "")
    if run is not None and run.has_io_trace:
        return (f"the trace of {text}", reverse("labs:trace", kwargs={"run_id": run.pk}) + "#tv-a-step-1")
    return (text, "")


def check_feedback(
    check: dict[str, Any], result: dict[str, Any] | None, questions: dict[str, str], action_runs: dict[int, Any]
) -> CheckFeedback:
    """One check of the lab with the latest "Check my work" result for it (or none yet)."""
    max_points = int(check.get("points", 1))
    feedback = CheckFeedback(
        id=str(check["id"]),
        title=str(check.get("title") or check["id"]),
        points=int(result.get("points", 0)) if result else 0,
        max_points=max_points,
        passed=bool(result.get("passed")) if result else None,
    )
    if not result or result.get("passed"):
        return feedback
    expect = check.get("expect") or {}
    kind = next(iter(expect), "")
    observed = str(result.get("observed", ""))
    if kind == "answer":
        question = (expect.get("answer") or {}).get("question", "") if isinstance(expect.get("answer"), dict) else ""
        feedback.asked = questions.get(question, feedback.title)
        given = observed.split(" (compare your trace")[0].strip("'\"")
        wrong = f"you answered “{given}”, which is not right"
        feedback.answered = "no answer yet" if observed == "no answer yet" else wrong
        feedback.where_text, feedback.where_url = _where(observed, action_runs)
    else:
        feedback.asked = plain(str(result.get("expected", "")))
        feedback.answered = plain(observed)
        feedback.where_text, feedback.where_url = _where(str(result.get("step", "")), action_runs)
    feedback.hint = str(check.get("failure") or "")
    return feedback


def failure_template(result: dict[str, Any], params: dict[str, Any]) -> str:
    """A failure with the learner's own values (their variant's VM names, users, numbers) taken out, so that the
    same mistake groups together across learners: "expected {legacy_vm} … observed N"."""
    text = plain(str(result.get("message") or "(no message)"))
    for name, value in sorted(params.items(), key=lambda item: -len(str(item[1]))):
        if str(value):
            text = text.replace(str(value), "{" + str(name) + "}")
    return _NUMBER_RE.sub("N", text)
