"""Lab pages: the lab (manual, console, runs, checks), run polling, hints, reset, trace viewer and comparison.

Every URL that takes an attempt or run id goes through labs.services' *_get_for_user helpers, so another
learner's id is a 404. htmx requests get fragments; plain requests get whole pages (and redirects after POST).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core import access
from core.access import require_open
from core.http import HtmxHttpRequest
from courseware.models import Progress
from labs import console, engine, feedback, notify, services
from labs.models import Lab, LabAttempt, LabRun

RUNS_SHOWN = 30
# Every form on the lab page carries its own one-time token; a double submit of one token is recorded once.
TOKEN_IDS = (
    "console-token",
    "check-token",
    "azman-token-scope",
    "azman-token-task",
    "azman-token-role",
    "azman-token-assign",
)


def _token_ids(lab: Lab) -> tuple[str, ...]:
    """The token ids of the forms this lab's page has (the AzMan forms only on a lab with the AzMan console)."""
    return TOKEN_IDS if lab.definition.get("azman_form") else TOKEN_IDS[:2]


def _fresh_tokens(lab: Lab) -> list[tuple[str, uuid.UUID]]:
    # Only for forms on the page: an out-of-band swap without a target logs htmx:oobErrorNoTarget.
    return [(token_id, uuid.uuid4()) for token_id in _token_ids(lab)]


def _client_token(request: HtmxHttpRequest) -> uuid.UUID | None:
    """The form's one-time token, or None when it is missing or forged."""
    try:
        return uuid.UUID(request.POST.get("client_token", ""))
    except ValueError:
        return None


def _settled(runs: list[LabRun]) -> list[LabRun]:
    """`runs` with their results if the worker stores them within LAB_RUN_INLINE_WAIT_MS: a run takes tens of
    milliseconds, so the answer to the POST usually carries the result and the page needs no second request. Runs
    still waiting are answered as they are; their fragment's long-poll fetches the result."""
    waiting = [run for run in runs if not run.is_terminal]
    bound = settings.LAB_RUN_INLINE_WAIT_MS / 1000
    if not waiting or bound <= 0:
        return runs

    def all_done() -> bool:  # each re-read refreshes the runs, so the last one is what the answer shows
        services.lab_runs_refresh(waiting)
        return all(run.is_terminal for run in waiting)

    notify.wait_for_runs([run.pk for run in waiting], all_done, bound)
    return runs


def _runs_response(
    request: HtmxHttpRequest, attempt: LabAttempt, runs: list[LabRun], help_texts: list[str]
) -> HttpResponse:
    """The htmx answer to a submission: the new runs for the log, and fresh tokens for every form on the page."""
    context = {
        "runs": runs,
        "help_texts": help_texts,
        "fresh_tokens": _fresh_tokens(attempt.lab),
        "attempt": attempt,
        "refresh_panels": _panels_change(attempt.lab, runs),
    }
    return render(request, "labs/_console_response.html", context)


def _panels_change(lab: Lab, runs: list[LabRun]) -> bool:
    """Whether the panels beside the console (attempt_panels) may show something new once `runs` are finished: the
    score and each check's result change with a check; the AzMan store with any run of a lab that has one. After an
    ordinary command nothing there changes, and the page asks nothing more."""
    azman = bool(lab.definition.get("azman_form"))
    return any(run.is_terminal and (azman or run.kind == LabRun.Kind.CHECK) for run in runs)


@login_required
@require_GET
def attempt_panels(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    """Out-of-band updates for the panels beside the console, asked for once a run has finished: the score, each
    check's result, and the Authorization Manager store with its scope lists."""
    attempt = services.lab_attempt_get_for_user(request.user, attempt_id)
    return render(request, "labs/_run_oob.html", {"panels": _panels(attempt), "attempt": attempt})


def _panels(attempt: LabAttempt) -> dict[str, Any]:
    """What the panels beside the console show after a run: score, each check's result, the AzMan store."""
    lab = attempt.lab
    definition = engine.substitute(lab.definition, attempt.params)
    last_check = (
        attempt.runs.filter(kind=LabRun.Kind.CHECK, status__in=LabRun.TERMINAL).order_by("-created_at", "-pk").first()
    )
    return {
        "lab": lab,
        "definition": definition,
        "score": Progress.objects.filter(user_id=attempt.user_id, item_id=lab.item_id).first(),
        "checks": _check_rows(attempt, definition, last_check),
        "state": _latest_state(attempt) if lab.definition.get("azman_form") else None,
        "scope_fields": ("az-task-scope", "az-role-scope", "az-assign-scope"),
    }


def _lab_for(course: str, lab: str) -> Lab:
    return get_object_or_404(
        Lab.objects.select_related("item__course", "item__module"),
        item__course__slug=course,
        item__slug=lab,
        item__archived=False,
    )


def _recent_runs(attempt: LabAttempt) -> QuerySet[LabRun]:
    return attempt.runs.select_related("action").order_by("-created_at", "-pk")[:RUNS_SHOWN]


def _latest_state(attempt: LabAttempt) -> dict[str, Any] | None:
    run = (
        attempt.runs.filter(status__in=(LabRun.Status.PASSED, LabRun.Status.FAILED))
        .order_by("-created_at", "-pk")
        .only("result")
        .first()
    )
    return run.result.get("state") if run else None


def _state_of(runs: list[LabRun]) -> dict[str, Any] | None:
    """The host state after the newest evaluated run among those shown (no query)."""
    run = next((r for r in runs if r.status in (LabRun.Status.PASSED, LabRun.Status.FAILED)), None)
    return run.result.get("state") if run else None


def _operation_names() -> list[str]:
    from labs.sim.azman import OPERATIONS

    return [OPERATIONS[key] for key in sorted(OPERATIONS)]


def _lab_context(
    request: HtmxHttpRequest, lab: Lab, attempt: LabAttempt, read_only: bool = False, **extra: Any
) -> dict[str, Any]:
    definition = engine.substitute(lab.definition, attempt.params)
    runs = list(_recent_runs(attempt))
    last_check = next((run for run in runs if run.kind == LabRun.Kind.CHECK and run.is_terminal), None)
    context = {
        "lab": lab,
        "course": lab.item.course,
        "attempt": attempt,
        "read_only": read_only,
        "definition": definition,
        "manual_html": engine.substitute_html(lab.manual_html, attempt.params),
        "tasks_html": [engine.substitute_html(t, attempt.params) for t in lab.definition.get("tasks_html", [])],
        "runs": runs,
        "last_check": last_check,
        "checks": _check_rows(attempt, definition, last_check),
        "state": _state_of(runs) if lab.definition.get("azman_form") else None,
        "source": "",
        "console_error": None,
        "help_text": None,
        "is_instructor": getattr(request.user, "is_instructor", False),
        "operations": _operation_names() if lab.definition.get("azman_form") else [],
        "help_action": None if read_only else access.help_action(request.user, lab.item.course_id),
        "azman_definition_forms": (("task", "task definition"), ("role", "role definition")),
        "token_ids": TOKEN_IDS,
        "tokens": {token_id: uuid.uuid4() for token_id in TOKEN_IDS},
        "attempts": list(LabAttempt.objects.filter(user=attempt.user, lab=lab).order_by("-number")),
        "score": Progress.objects.filter(user=attempt.user, item=lab.item).first(),
    }
    context.update(extra)
    return context


def _check_rows(attempt: LabAttempt, definition: dict[str, Any], last_check: LabRun | None) -> list[dict[str, Any]]:
    """Every check of the lab with its hints and, beside it, the latest "Check my work" result in plain words."""
    results = {c.get("id"): c for c in (last_check.result.get("checks", []) if last_check else [])}
    action_runs: dict[int, LabRun] = {}
    if last_check is not None and any(not c.get("passed") for c in results.values()):
        for run in attempt.runs.filter(kind=LabRun.Kind.ACTION, status=LabRun.Status.PASSED).select_related("action"):
            if run.action is not None:
                action_runs[run.action.seq] = run
    questions = {str(q.get("id")): str(q.get("prompt", "")) for q in definition.get("questions", [])}
    rows = []
    for check in definition.get("checks", []):
        ladder = check.get("hints", [])
        used = int(attempt.hints_used.get(check["id"], 0))
        rows.append(
            {
                **check,
                "revealed": ladder[:used],
                "more": used < len(ladder),
                "feedback": feedback.check_feedback(check, results.get(check["id"]), questions, action_runs),
            }
        )
    return rows


def _shown_attempt(request: HtmxHttpRequest, lab: Lab) -> tuple[LabAttempt | None, bool]:
    """The attempt the lab page shows, and whether it is read-only: the latest (active, or finished as it ended),
    or an earlier one chosen with ?attempt=<number> (read-only). Reading never creates an attempt."""
    attempts = LabAttempt.objects.filter(user=request.user, lab=lab).order_by("-number")
    latest = attempts.first()
    number = request.GET.get("attempt", "")
    if not number or latest is None or (number.isdigit() and int(number) == latest.number):
        return latest, latest is not None and latest.status == LabAttempt.Status.RESET
    if not number.isdigit():
        raise Http404("No such attempt.")
    return get_object_or_404(attempts, number=int(number)), True


@login_required
@require_GET
def lab_page(request: HtmxHttpRequest, course: str, lab: str) -> HttpResponse:
    lab_obj = _lab_for(course, lab)
    require_open(request.user, lab_obj.item)
    attempt, read_only = _shown_attempt(request, lab_obj)
    if attempt is None:
        return render(request, "labs/lab_start.html", {"lab": lab_obj, "course": lab_obj.item.course})
    return render(request, "labs/lab.html", _lab_context(request, lab_obj, attempt, read_only=read_only))


@login_required
@require_POST
def lab_start(request: HtmxHttpRequest, course: str, lab: str) -> HttpResponse:
    """Start the learner's first attempt (or go back to the one in progress): starting is a POST, never a GET."""
    lab_obj = _lab_for(course, lab)
    require_open(request.user, lab_obj.item)
    services.lab_attempt_current(request.user, lab_obj)
    return _see_other(_lab_url(lab_obj))


def _see_other(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303
    return response


@login_required
@require_POST
def console_submit(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    attempt = services.lab_attempt_get_for_user(request.user, attempt_id)
    require_open(request.user, attempt.lab.item)
    lab = attempt.lab
    source = request.POST.get("source", "")
    token = _client_token(request)
    if token is None:
        return HttpResponseBadRequest("The form was missing its token: reload the page and try again.")
    if attempt.status == LabAttempt.Status.RESET:
        return _console_error(request, lab, attempt, source, "This attempt was reset: reload the lab to continue.")
    try:
        commands = console.parse(source)
        console.check_offered(commands, lab.definition.get("console") or [])
    except console.ConsoleError as exc:
        return _console_error(request, lab, attempt, source, str(exc))
    help_texts = [c.help_text for c in commands if c.help_text]
    try:
        for command in commands:  # every command is checked before any is recorded
            if command.action is not None:
                services.lab_action_validate(command.action)
        services.lab_submission_throttle(request.user)
    except services.RateLimited as exc:
        return _console_error(request, lab, attempt, source, str(exc), status=429)
    except ValueError as exc:
        return _console_error(request, lab, attempt, source, f"line {command.line}: {exc}")
    runs: list[LabRun] = []
    actions = [c for c in commands if c.action is not None]
    for index, command in enumerate(actions):
        command_token = token if index == 0 else uuid.uuid5(token, str(index))
        try:  # the first asks the queue for room for every command of the POST: all are recorded, or none
            room = len(actions) if index == 0 else 0
            submission = services.lab_action_submit(
                attempt, command.source, command.action or {}, command_token, queue_room_for=room
            )
        except services.RateLimited as exc:
            return _console_error(request, lab, attempt, source, str(exc), status=429)
        except ValueError as exc:
            return _console_error(request, lab, attempt, source, str(exc))
        runs.append(submission.run)
    if request.htmx:
        return _runs_response(request, attempt, list(reversed(_settled(runs))), help_texts)
    if help_texts and not runs:
        return render(request, "labs/lab.html", _lab_context(request, lab, attempt, help_text=help_texts))
    return redirect(_lab_url(lab))


def _console_error(
    request: HtmxHttpRequest, lab: Lab, attempt: LabAttempt, source: str, message: str, status: int = 400
) -> HttpResponse:
    if request.htmx:
        response = render(request, "labs/_console_error.html", {"console_error": message})
        response["HX-Retarget"] = "#console-feedback"
        response["HX-Reswap"] = "innerHTML"
        return response
    context = _lab_context(request, lab, attempt, source=source, console_error=message)
    return render(request, "labs/lab.html", context, status=status)


@login_required
@require_POST
def check_submit(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    attempt = services.lab_attempt_get_for_user(request.user, attempt_id)
    require_open(request.user, attempt.lab.item)
    token = _client_token(request)
    if token is None:
        return HttpResponseBadRequest("The form was missing its token: reload the page and try again.")
    if attempt.status == LabAttempt.Status.RESET:
        return HttpResponseBadRequest("This attempt was reset: reload the lab to continue.")
    try:
        services.lab_submission_throttle(request.user)
        submission = services.lab_check_submit(attempt, token, queue_room_for=1)
    except services.RateLimited as exc:
        return _console_error(request, attempt.lab, attempt, "", str(exc), status=429)
    if request.htmx:
        return _runs_response(request, attempt, _settled([submission.run]), [])
    return redirect(_lab_url(attempt.lab))


@login_required
@require_GET
def run_status(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """A run (fragment for htmx, page otherwise); with ?wait=N a pending run is held until its result is stored
    or N seconds pass (at most LAB_RUN_WAIT_SECONDS): the long-poll that replaces polling (labs/notify.py)."""
    wait = request.GET.get("wait", "0")
    if not wait.isdigit():
        return HttpResponseBadRequest("wait must be a whole number of seconds.")
    run = services.lab_run_get_for_user(request.user, run_id)
    if not run.is_terminal and int(wait) > 0:
        finished = LabRun.objects.filter(pk=run.pk, status__in=LabRun.TERMINAL)
        if notify.wait_for_run(run.pk, finished.exists, min(int(wait), settings.LAB_RUN_WAIT_SECONDS)):
            run = services.lab_run_get_for_user(request.user, run_id)
    context = {"run": run, "attempt": run.attempt, "wait_seconds": settings.LAB_RUN_WAIT_SECONDS}
    if request.htmx:
        context["refresh_panels"] = _panels_change(run.attempt.lab, [run])
        return render(request, "labs/_run_response.html", context)
    return render(request, "labs/run.html", {**context, "lab": run.attempt.lab})


@login_required
@require_POST
def hint_reveal(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    attempt = services.lab_attempt_get_for_user(request.user, attempt_id)
    require_open(request.user, attempt.lab.item)
    check_id = request.POST.get("check", "")
    try:
        hints = services.lab_hint_reveal(attempt, check_id)
    except KeyError:
        return HttpResponseBadRequest("This lab has no such check.")
    if request.htmx:
        check = engine.substitute(attempt.lab.check_by_id(check_id) or {}, attempt.params)
        return render(
            request,
            "labs/_hints.html",
            {
                "check": check,
                "revealed": hints,
                "attempt": attempt,
                "more": len(hints) < len(check.get("hints", [])),
            },
        )
    return redirect(_lab_url(attempt.lab) + f"#check-{check_id}")


@login_required
@require_POST
def attempt_reset(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    """Start again: keep this attempt in the learner's list (reset, or completed as it ended) and start a new one."""
    attempt = services.lab_attempt_get_for_user(request.user, attempt_id)
    require_open(request.user, attempt.lab.item)  # a reset is work on the lab: not while pacing keeps it closed
    if attempt.status == LabAttempt.Status.RESET:
        services.lab_attempt_current(request.user, attempt.lab)  # already reset: make sure one is in progress
    else:
        services.lab_attempt_reset(attempt, reason="started again by the learner")
    return _see_other(_lab_url(attempt.lab))


@login_required
@require_GET
def run_trace(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    run = services.lab_run_get_for_user(request.user, run_id, with_trace=True)
    trace = run.io_trace()
    if trace is None:
        raise Http404("This run has no I/O trace.")
    return render(
        request, "labs/trace.html", {"run": run, "attempt": run.attempt, "lab": run.attempt.lab, "trace": trace}
    )


@login_required
@require_GET
def compare(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    attempt = services.lab_attempt_get_for_user(request.user, attempt_id)
    io_runs = [
        r
        for r in attempt.runs.filter(kind=LabRun.Kind.ACTION, status=LabRun.Status.PASSED)
        .select_related("action")
        .order_by("-created_at", "-pk")
        if r.action and r.action.action.get("op") == "io"
    ]
    chosen: list[LabRun] = []
    for key in ("a", "b"):
        value = request.GET.get(key)
        if value is None:
            continue
        if not value.isdigit():
            return HttpResponseBadRequest("Pick two runs from the lists.")
        match = next((r for r in io_runs if r.pk == int(value)), None)
        if match is None:
            raise Http404("No such I/O run in this attempt.")
        chosen.append(match)
    if not chosen and len(io_runs) >= 2:
        # Two traces are there: open with them chosen (the newest, and the newest through another path or VM).
        newest = io_runs[0]
        other = next((r for r in io_runs[1:] if _io_key(r) != _io_key(newest)), io_runs[1])
        chosen = [other, newest]
    context: dict[str, Any] = {"attempt": attempt, "lab": attempt.lab, "io_runs": io_runs}
    if len(chosen) == 2:
        from labs.trace_layout import align_traces

        services.lab_runs_load_traces(chosen)
        trace_a, trace_b = chosen[0].io_trace(), chosen[1].io_trace()
        assert trace_a is not None and trace_b is not None
        context.update(
            {
                "run_a": chosen[0],
                "run_b": chosen[1],
                "trace_a": trace_a,
                "trace_b": trace_b,
                "alignment": align_traces(trace_a["events"], trace_b["events"]),
            }
        )
    return render(request, "labs/compare.html", context)


def _io_key(run: LabRun) -> tuple[str, str]:
    output = run.result.get("output") or {}
    return (str(output.get("path", "")), str(output.get("vm", "")))


def _lab_url(lab: Lab) -> str:
    return reverse("labs:lab", kwargs={"course": lab.item.course.slug, "lab": lab.item.slug})


AZMAN_FORMS = ("scope", "task", "role", "assign", "unassign")


def _azman_action(data: Any) -> tuple[str, dict[str, Any]]:
    """Turn a submitted Authorization Manager form into (console-equivalent text, action); ValueError if invalid."""
    from labs.sim.azman import OPERATIONS

    form = data.get("form", "")
    if form not in AZMAN_FORMS:
        raise ValueError("Unknown form: reload the page and try again.")
    for field, values in data.lists():  # the console's cap holds for every field of the form
        if sum(len(value.encode("utf-8", "surrogatepass")) for value in values) > console.MAX_INPUT_BYTES:
            raise ValueError(f"The field '{field}' is longer than {console.MAX_INPUT_BYTES:,} bytes.")
    name = data.get("name", "").strip()
    scope = data.get("scope", "").strip() or None
    where = f" in scope {_quote(scope)}" if scope else ""
    if form == "scope":
        if not name:
            raise ValueError("Give the scope a name.")
        description = data.get("description", "").strip()
        text = f"azman create scope {_quote(name)}" + (f" {_quote(description)}" if description else "")
        return text, {"op": "azman.create_scope", "name": name, "description": description}
    if form in ("assign", "unassign"):
        role, member = data.get("role", "").strip(), data.get("member", "").strip()
        if not role or not member:
            raise ValueError("Name both the role definition and the user or group.")
        word = "to" if form == "assign" else "from"
        return (
            f"azman {form} {_quote(role)} {word} {_quote(member)}{where}",
            {"op": f"azman.{form}", "role": role, "member": member, "scope": scope},
        )
    operations = data.getlist("operations")
    unknown = [op for op in operations if op not in OPERATIONS.values()]
    if unknown:
        raise ValueError(f"Not a Hyper-V operation: {unknown[0]}. Operations are fixed; pick from the list.")
    tasks = [t.strip() for line in data.getlist("tasks") for t in line.splitlines() if t.strip()]
    if not name:
        raise ValueError("Give the definition a name.")
    if form == "task" and not operations and not tasks:
        raise ValueError("A task needs at least one operation or task.")
    listed = ", ".join(_quote(op) for op in operations)
    text = f"azman create {form} {_quote(name)}" + (f" with {listed}" if listed else "")
    text += (" tasks " + ", ".join(_quote(t) for t in tasks) if tasks else "") + where
    return text, {"op": f"azman.create_{form}", "name": name, "operations": operations, "tasks": tasks, "scope": scope}


def _quote(value: str) -> str:
    return f'"{value}"' if not value.replace("-", "").replace("_", "").isalnum() else value


@login_required
@require_POST
def azman_submit(request: HtmxHttpRequest, attempt_id: int) -> HttpResponse:
    """The form-based Authorization Manager console: each form becomes the same action as its console command."""
    attempt = services.lab_attempt_get_for_user(request.user, attempt_id)
    require_open(request.user, attempt.lab.item)
    lab = attempt.lab
    if not lab.definition.get("azman_form"):
        raise Http404("This lab has no Authorization Manager console.")
    token = _client_token(request)
    if token is None:
        return HttpResponseBadRequest("The form was missing its token: reload the page and try again.")
    try:
        text, action = _azman_action(request.POST)
        services.lab_submission_throttle(request.user)
        submission = services.lab_action_submit(attempt, text, action, token, queue_room_for=1)
    except services.RateLimited as exc:
        return _console_error(request, lab, attempt, "", str(exc), status=429)
    except ValueError as exc:
        return _console_error(request, lab, attempt, "", str(exc))
    if request.htmx:
        return _runs_response(request, attempt, [submission.run], [])
    return redirect(_lab_url(lab))
