"""The lab engine: replay an attempt's action log on the simulator and evaluate the lab's checks.

Pure functions over plain data (a lab definition dict, a seed, variant values and a list of actions); no
Django models. The state of an attempt is always replay(scenario, seed, actions): nothing else is stored.
"""

from __future__ import annotations

import json
import random
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from html import escape
from typing import Any

from labs.sim.errors import BudgetExceeded as SimBudgetExceeded
from labs.sim.errors import SimError

MAX_INPUT_BYTES = 4096
"""Largest console submission, in bytes."""
MAX_ACTIONS = 400
"""Most actions one attempt may hold (reset to start again)."""
RUN_TIME_BUDGET_S = 1.0
"""Wall-clock budget of one run on the simulator, in seconds (checked at every trace event, so a run stops within
a few milliseconds of it)."""
RUN_EVENT_BUDGET = 100_000
"""Most trace events one attempt's replay may hold (about 55 MB of worker memory)."""
TRACE_EVENTS_KEPT = 2_000
"""Most trace events stored with one action's result (an emulated 100 KB write has about 500)."""

ENGINE_OPS = ("answer", "show")
"""Actions handled by the engine itself rather than the simulator."""

SHOW_PARTS = {
    "host": ("host", "hypervisor", "partitions", "processes"),
    "vms": ("vms",),
    "azman": ("authorization", "users"),
    "bcd": ("host.bcd",),
    "bios": ("host.bios", "host.cpu"),
    "cluster": ("cluster",),
    "networks": ("networks",),
    "disks": ("disks",),
}


def show(host: Any, what: str) -> dict[str, Any]:
    """Part of the host's state, for the console's `show` command."""
    snapshot = host.snapshot()
    parts = SHOW_PARTS.get(what)
    if parts is None:
        raise SimError(f"nothing to show called {what!r}; try one of {', '.join(SHOW_PARTS)}", path="what")
    shown = {part: resolve_path(snapshot, part) for part in parts}
    return {"op": "show", "what": what, "state": shown, "message": f"Current {what} state."}


@dataclass(frozen=True)
class Outcome:
    """What a run ends with: a LabRun status, a learner-facing message, a JSON result, points, and for an action
    the trace events it caused (stored apart from the result: LabRun.trace)."""

    status: str
    message: str
    result: dict[str, Any] = field(default_factory=dict)
    points: int = 0
    over_budget_seq: int | None = None  # the action that was running when a budget ran out
    trace: list[dict[str, Any]] | None = None


def could_not_evaluate(why: str) -> Outcome:
    return Outcome("could_not_evaluate", f"Could not evaluate this run ({why}). This is not a wrong answer: try again.")


def timed_out(why: str, over_budget_seq: int | None = None) -> Outcome:
    if over_budget_seq is not None:
        return Outcome(
            "timed_out",
            f"The simulation went over its budget ({why}) during action #{over_budget_seq}. That action is left "
            "out of your lab from now on; try a smaller one.",
            over_budget_seq=over_budget_seq,
        )
    return Outcome(
        "timed_out",
        f"The simulation went over its budget ({why}). Nothing was lost; reset the lab if it keeps happening.",
    )


# --- Variants ------------------------------------------------------------------------------------------

_VAR = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


def draw_params(definition: dict[str, Any], seed: int) -> dict[str, Any]:
    """Draw each variant's value from the attempt's seed (sorted by name, so the draw is stable)."""
    rng = random.Random(seed)
    params: dict[str, Any] = {}
    for name in sorted(definition.get("variants", {}) or {}):
        spec = definition["variants"][name]
        params[name] = rng.choice(list(spec["choices"]))
    return params


def substitute(value: Any, params: dict[str, Any]) -> Any:
    """Replace ${name} in every string of `value`; a string that is exactly one ${name} keeps the value's type."""
    if isinstance(value, str):
        whole = _VAR.fullmatch(value)
        if whole and whole.group(1) in params:
            return params[whole.group(1)]
        return _VAR.sub(lambda m: str(params.get(m.group(1), m.group(0))), value)
    if isinstance(value, list):
        return [substitute(v, params) for v in value]
    if isinstance(value, dict):
        return {substitute(k, params): substitute(v, params) for k, v in value.items()}
    return value


def substitute_html(html: str, params: dict[str, Any]) -> str:
    """Replace ${name} in already-sanitised HTML with the HTML-escaped variant value."""
    return _VAR.sub(lambda m: escape(str(params[m.group(1)])) if m.group(1) in params else m.group(0), html)


def variables_in(value: Any) -> set[str]:
    """Every ${name} used anywhere in `value` (for validation)."""
    found: set[str] = set()
    if isinstance(value, str):
        found.update(_VAR.findall(value))
    elif isinstance(value, list):
        for v in value:
            found |= variables_in(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            found |= variables_in(k) | variables_in(v)
    return found


# --- Replay --------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One replayed action: its number, the action, and its result or error."""

    seq: int
    action: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    first_event: int
    last_event: int


@dataclass
class Replay:
    host: Any
    steps: list[Step]
    answers: dict[str, Any]

    @property
    def seqs(self) -> list[int]:
        return [step.seq for step in self.steps]


BudgetExceeded = SimBudgetExceeded
"""A replay went over its event or time budget; `.seq` is the action that was running."""


def replay(
    definition: dict[str, Any],
    seed: int,
    params: dict[str, Any],
    actions: list[dict[str, Any]],
    *,
    seqs: list[int] | None = None,
    start: Replay | None = None,
    time_budget_s: float | None = None,
    event_budget: int | None = None,
) -> Replay:
    """Apply every action in order (to `start`, or to a host built from the lab's scenario); a failing action
    changes nothing. The budgets are checked inside the simulator's loops (every trace event), so a replay stops
    within a few milliseconds of its time budget (seconds) or as soon as the trace holds `event_budget` events."""
    from labs.sim.actions import apply as apply_action
    from labs.sim.host import Host
    from labs.sim.trace import Budget

    time_budget_s = RUN_TIME_BUDGET_S if time_budget_s is None else time_budget_s
    event_budget = RUN_EVENT_BUDGET if event_budget is None else event_budget
    budget = Budget(max_events=event_budget, max_seconds=time_budget_s)
    if seqs is None:
        first = start.steps[-1].seq + 1 if start is not None and start.steps else 1
        seqs = list(range(first, first + len(actions)))
    if start is None:
        start = Replay(Host(substitute(definition["scenario"], params), seed=seed), [], {})
    outcome = start
    host = outcome.host
    host.trace.budget = budget
    seq = 0
    try:
        for seq, action in zip(seqs, actions, strict=True):
            outcome.steps.append(_apply_step(host, seq, action, outcome.answers, apply_action))
            budget.check_time(len(host.trace.events))
    except BudgetExceeded as exc:
        exc.seq = seq or None
        raise
    finally:
        host.trace.budget = None
    return outcome


def _apply_step(host: Any, seq: int, action: dict[str, Any], answers: dict[str, Any], apply_action: Any) -> Step:
    first = len(host.trace.events)
    op = action.get("op")
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    if op == "answer":
        answers[str(action.get("question"))] = action.get("value")
        result = {
            "recorded": True,
            "question": action.get("question"),
            "value": action.get("value"),
            "message": f"Answer to '{action.get('question')}' recorded; 'Check my work' marks it.",
        }
    elif op == "show":
        result = show(host, str(action.get("what", "host")))
    else:
        try:
            result = apply_action(host, action)
        except SimError as exc:
            error = exc.to_dict()
    return Step(seq, action, error is None, result, error, first + 1, len(host.trace.events))


class ReplayCache:
    """The replayed host of recent attempts, kept in this worker process so a run applies only its new actions.

    An attempt's action log only grows, and replay is deterministic, so a cached replay of actions 1..n plus
    action n+1 equals a fresh replay of 1..n+1. An entry is taken out while a run uses it and put back only
    when the run ends within its budget (a replay stopped half-way through an action is thrown away).
    Bounded by entries and by the trace events held in all of them (the worker's memory).
    """

    def __init__(self, max_entries: int = 32, max_events: int = 150_000) -> None:
        self.max_entries = max_entries
        self.max_events = max_events
        self._entries: OrderedDict[Any, tuple[str, Replay]] = OrderedDict()

    def known_seqs(self, key: Any, definition: dict[str, Any], seed: int, params: dict[str, Any]) -> list[int] | None:
        """The action numbers the cached replay of `key` holds (None if there is none for this scenario)."""
        entry = self._entries.get(key)
        if entry is None or entry[0] != _fingerprint(definition, seed, params):
            return None
        return entry[1].seqs

    def seqs_held(self, key: Any) -> list[int] | None:
        """The action numbers the cached replay of `key` holds, whatever its scenario (known_seqs checks that)."""
        entry = self._entries.get(key)
        return entry[1].seqs if entry is not None else None

    def take(self, key: Any, fingerprint: str) -> Replay | None:
        entry = self._entries.pop(key, None)
        if entry is None or entry[0] != fingerprint:
            return None
        return entry[1]

    def put(self, key: Any, fingerprint: str, outcome: Replay) -> None:
        if len(outcome.host.trace.events) > self.max_events:
            return
        self._entries[key] = (fingerprint, outcome)
        while len(self._entries) > self.max_entries or self.events_held() > self.max_events:
            self._entries.popitem(last=False)

    def events_held(self) -> int:
        return sum(len(replay.host.trace.events) for _, replay in self._entries.values())

    def clear(self) -> None:
        self._entries.clear()


REPLAY_CACHE = ReplayCache()
"""This process's cache (a Celery worker process evaluates one run at a time)."""


def _fingerprint(definition: dict[str, Any], seed: int, params: dict[str, Any]) -> str:
    return json.dumps([definition.get("scenario"), seed, params], sort_keys=True, default=str)


def _replay_cached(
    definition: dict[str, Any],
    seed: int,
    params: dict[str, Any],
    actions: list[dict[str, Any]],
    seqs: list[int],
    cache_key: Any,
) -> Replay:
    """Replay through REPLAY_CACHE when the cached actions are a prefix of these; else from the scenario."""
    if cache_key is None:
        return replay(definition, seed, params, actions, seqs=seqs)
    fingerprint = _fingerprint(definition, seed, params)
    cached = REPLAY_CACHE.take(cache_key, fingerprint)
    if cached is not None and cached.seqs == seqs[: len(cached.steps)]:
        done = len(cached.steps)
        outcome = replay(definition, seed, params, actions[done:], seqs=seqs[done:], start=cached)
    else:
        if any(action is None for action in actions):  # the caller read only what the cache lacked
            raise LookupError("the cached replay is gone; the run reads the whole log next time")
        outcome = replay(definition, seed, params, actions, seqs=seqs)
    REPLAY_CACHE.put(cache_key, fingerprint, outcome)
    return outcome


# --- Checks --------------------------------------------------------------------------------------------

_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(?:(\d+)|([A-Za-z_]+)=([^\]]*))\])?")


def resolve_path(data: Any, path: str) -> Any:
    """Follow a dotted path like `vms[name=fin-sql01].state` or `partitions[0].kind`; KeyError if absent."""
    current = data
    for part in path.split("."):
        match = _PATH_PART.fullmatch(part)
        if not match:
            raise KeyError(path)
        key, index, sel_key, sel_value = match.groups()
        if not isinstance(current, dict) or key not in current:
            raise KeyError(path)
        current = current[key]
        if index is not None:
            if not isinstance(current, list) or int(index) >= len(current):
                raise KeyError(path)
            current = current[int(index)]
        elif sel_key is not None:
            if not isinstance(current, list):
                raise KeyError(path)
            matches = [
                item
                for item in current
                if isinstance(item, dict) and str(item.get(sel_key, "")).lower() == sel_value.lower()
            ]
            if not matches:
                raise KeyError(path)
            current = matches[0]
    return current


COMPARATORS = ("equals", "not_equals", "in", "gte", "lte")


def _compare(observed: Any, spec: dict[str, Any]) -> tuple[bool, str]:
    """Compare per the first comparator present in `spec`; return (ok, the expectation in words)."""
    if "equals" in spec:
        expected = spec["equals"]
        ok = _loose_equal(observed, expected)
        return ok, f"{expected!r}"
    if "not_equals" in spec:
        return not _loose_equal(observed, spec["not_equals"]), f"anything but {spec['not_equals']!r}"
    if "in" in spec:
        return any(_loose_equal(observed, v) for v in spec["in"]), f"one of {spec['in']!r}"
    if "gte" in spec:
        return _number(observed) is not None and _number(observed) >= spec["gte"], f"at least {spec['gte']}"
    if "lte" in spec:
        return _number(observed) is not None and _number(observed) <= spec["lte"], f"at most {spec['lte']}"
    return observed is not None, "a value"


def _loose_equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None:
        return na == nb
    return bool(a == b)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    passed: bool
    points: int
    max_points: int
    required: bool
    message: str
    expected: str
    observed: str
    step: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def evaluate_checks(
    definition: dict[str, Any], params: dict[str, Any], outcome: Replay, snapshot: dict[str, Any] | None = None
) -> list[CheckResult]:
    """Evaluate every check of the lab against the replayed host, in the order the lab lists them."""
    snapshot = snapshot if snapshot is not None else outcome.host.snapshot()
    results = []
    for raw in definition.get("checks", []):
        check = substitute(raw, params)
        ok, expected, observed, step = _predicate(check["expect"], snapshot, outcome, definition, params)
        points = int(check.get("points", 1))
        if ok:
            message = "Passed."
        else:
            message = f"Expected {expected}; observed {observed} ({step})."
            if check.get("failure"):
                message += " " + check["failure"]
        results.append(
            CheckResult(
                id=check["id"],
                title=check.get("title", check["id"]),
                passed=ok,
                points=points if ok else 0,
                max_points=points,
                required=bool(check.get("required", True)),
                message=message,
                expected=expected,
                observed=observed,
                step=step,
            )
        )
    return results


def _last_step_note(outcome: Replay) -> str:
    return f"after action #{outcome.steps[-1].seq}" if outcome.steps else "before any action"


def _predicate(
    expect: dict[str, Any],
    snapshot: dict[str, Any],
    outcome: Replay,
    definition: dict[str, Any],
    params: dict[str, Any],
) -> tuple[bool, str, str, str]:
    kind, spec = next(iter(expect.items()))
    if kind == "state":
        try:
            observed = resolve_path(snapshot, spec["path"])
        except KeyError:
            return False, f"{spec['path']} to exist", "it does not exist", _last_step_note(outcome)
        ok, expected = _compare(observed, spec)
        return ok, f"{spec['path']} = {expected}", f"{spec['path']} = {observed!r}", _last_step_note(outcome)
    if kind == "access":
        decision = outcome.host.access_check(spec["user"], spec["operation"], spec["vm"])
        allowed = bool(decision.get("allowed"))
        want = spec.get("expect", "allowed") == "allowed"
        words = "allowed" if want else "denied"
        got = "allowed" if allowed else "denied"
        what = f"{spec['user']} to be {words} '{spec['operation']}' on {spec['vm']}"
        return allowed == want, what, f"{got}: {decision.get('reason', '')}", _last_step_note(outcome)
    if kind == "io":
        return _io_predicate(spec, outcome)
    if kind == "result":
        where = spec.get("where") or {}
        for step in reversed(outcome.steps):
            if (
                step.ok
                and step.action.get("op") == spec["op"]
                and step.result is not None
                and all(_loose_equal(step.action.get(key), value) for key, value in where.items())
            ):
                try:
                    observed = resolve_path(step.result, spec["path"]) if spec.get("path") else step.result
                except KeyError:
                    return False, f"{spec['op']} result {spec['path']}", "no such value", f"action #{step.seq}"
                ok, expected = _compare(observed, spec)
                return (
                    ok,
                    f"{spec['op']} {spec.get('path', 'result')} = {expected}",
                    repr(observed),
                    f"action #{step.seq}",
                )
        return False, f"a successful '{spec['op']}' action", "none yet", _last_step_note(outcome)
    if kind == "answer":
        return _answer_predicate(spec["question"], definition, params, outcome)
    raise ValueError(f"unknown predicate {kind!r}")


def _io_steps(
    outcome: Replay, vm: str, path: str | None, op_kind: str | None = None, nbytes: int | None = None
) -> list[Step]:
    found = []
    for step in outcome.steps:
        if step.ok and step.action.get("op") == "io" and step.result is not None:
            if str(step.action.get("vm", "")).lower() != vm.lower():
                continue
            if path and step.result.get("path") != path:
                continue
            if op_kind and step.result.get("op_kind") != op_kind:
                continue
            if nbytes is not None and step.result.get("bytes") != nbytes:
                continue
            found.append(step)
    return found


def _io_predicate(spec: dict[str, Any], outcome: Replay) -> tuple[bool, str, str, str]:
    steps = _io_steps(outcome, spec["vm"], spec.get("path"), spec.get("op_kind"), spec.get("bytes"))
    path_words = f" through the {spec['path']} path" if spec.get("path") else ""
    if spec.get("op_kind") or spec.get("bytes"):
        size = f" of {spec['bytes']:,} bytes" if spec.get("bytes") else ""
        path_words = f" ({spec.get('op_kind', 'I/O')}{size}){path_words}"
    if not steps:
        return False, f"an I/O on {spec['vm']}{path_words}", "none yet", _last_step_note(outcome)
    step = steps[-1]
    assert step.result is not None
    if "counter" not in spec:
        return True, f"an I/O on {spec['vm']}{path_words}", "done", f"action #{step.seq}"
    observed = step.result.get("counters", {}).get(spec["counter"])
    ok, expected = _compare(observed, spec)
    return (
        ok,
        f"{spec['counter']} {expected}",
        f"{spec['counter']} = {observed}",
        (f"action #{step.seq}, trace events {step.first_event}-{step.last_event}"),
    )


def question_key(question: dict[str, Any], outcome: Replay) -> tuple[list[Any], str] | None:
    """The accepted answers to an embedded question (computed from the learner's trace where asked)."""
    if "answer_from" in question:
        spec = question["answer_from"]["io"]
        steps = _io_steps(outcome, spec["vm"], spec.get("path"))
        if not steps or steps[-1].result is None:
            return None
        value = steps[-1].result.get("counters", {}).get(spec["counter"])
        return [value], f"action #{steps[-1].seq}"
    accepted = list(question.get("accept", [])) or [question.get("answer")]
    return accepted, ""


def _answer_predicate(
    question_id: str, definition: dict[str, Any], params: dict[str, Any], outcome: Replay
) -> tuple[bool, str, str, str]:
    question = next(substitute(q, params) for q in definition.get("questions", []) if q["id"] == question_id)
    given = outcome.answers.get(question_id)
    if given is None:
        return False, f"an answer to '{question_id}'", "no answer yet", _last_step_note(outcome)
    key = question_key(question, outcome)
    if key is None:
        return (
            False,
            "the I/O this question is about to have been run first",
            "no such I/O yet",
            _last_step_note(outcome),
        )
    accepted, where = key
    tolerance = float(question.get("tolerance", 0))
    ok = False
    for value in accepted:
        gn, vn = _number(given), _number(value)
        if gn is not None and vn is not None:
            ok = ok or abs(gn - vn) <= tolerance
        else:
            ok = ok or _loose_equal(given, value)
    # Never reveal the key in the message: say only that the answer is not right.
    return ok, "the right answer", f"{given!r}" + (f" (compare your trace, {where})" if where else ""), "your answer"


# --- The whole run -------------------------------------------------------------------------------------


def evaluate(
    definition: dict[str, Any],
    seed: int,
    params: dict[str, Any],
    actions: list[dict[str, Any]],
    *,
    kind: str,
    hints_used: dict[str, int] | None = None,
    seqs: list[int] | None = None,
    cache_key: Any = None,
) -> Outcome:
    """Replay and evaluate: for an action run, report the last action; for a check run, every check.

    `seqs` numbers the actions (default 1..n; an action left out of the log keeps the others' numbers);
    with a `cache_key` (the attempt), the replay continues from REPLAY_CACHE when it can."""
    seqs = seqs if seqs is not None else list(range(1, len(actions) + 1))
    try:
        if cache_key is None:
            outcome = replay(definition, seed, params, actions, seqs=seqs)
        else:
            outcome = _replay_cached(definition, seed, params, actions, seqs, cache_key)
    except BudgetExceeded as exc:
        return timed_out(exc.message, over_budget_seq=exc.seq)
    mark, rng_state = outcome.host.trace.mark(), outcome.host.rng.getstate()
    try:
        return _evaluated(definition, params, outcome, kind)
    finally:  # checks ask the host (access checks log events): leave a cached host as the actions left it
        outcome.host.trace.rollback(mark)
        outcome.host.rng.setstate(rng_state)


def _evaluated(definition: dict[str, Any], params: dict[str, Any], outcome: Replay, kind: str) -> Outcome:
    snapshot = outcome.host.snapshot()  # taken once: the summary and every check read the same final state
    snapshot_summary = _summary(snapshot, include_authorization=bool(definition.get("azman_form")))
    if kind == "action":
        if not outcome.steps:
            return Outcome("failed", "No action to evaluate.", {"state": snapshot_summary})
        step = outcome.steps[-1]
        result: dict[str, Any] = {"seq": step.seq, "action": step.action, "state": snapshot_summary}
        if step.ok:
            body = dict(step.result or {})
            events = outcome.host.trace.events[step.first_event - 1 : step.last_event]
            result["output"] = body
            result["events_total"] = len(events)
            kept = events[:TRACE_EVENTS_KEPT] if body.get("op") == "io" else events[:50]
            return Outcome("passed", describe(step.action, body, events), result, trace=kept)
        assert step.error is not None
        result["error"] = step.error
        return Outcome("failed", str(step.error.get("message")), result)
    checks = evaluate_checks(definition, params, outcome, snapshot)
    earned = sum(c.points for c in checks)
    required_ok = all(c.passed for c in checks if c.required)
    passed = sum(1 for c in checks if c.passed)
    message = f"{passed} of {len(checks)} checks pass ({earned} points)."
    if required_ok:
        message = "Every required check passes: lab complete. " + message
    return Outcome(
        "passed" if required_ok else "failed",
        message,
        {"checks": [c.to_dict() for c in checks], "state": snapshot_summary, "actions": len(outcome.steps)},
        earned,
    )


def describe(action: dict[str, Any], result: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """One sentence for the learner about what an action did."""
    op = action.get("op")
    if result.get("message"):
        return str(result["message"])
    if op == "io":
        c = result.get("counters", {})

        def n(key: str, noun: str, plural: str = "") -> str:
            value = int(c.get(key, 0))
            return f"{value} {noun if value == 1 else plural or noun + 's'}"

        what = f"{str(result.get('op_kind', 'I/O')).capitalize()} of {result.get('bytes', 0):,} bytes"
        counts = ", ".join(
            (
                n("vm_exits", "VM exit"),
                n("port_accesses", "port access", "port accesses"),
                n("root_user_transitions", "user/kernel crossing in the root", "user/kernel crossings in the root"),
                n("vmbus_packets", "VMBus packet"),
            )
        )
        return f"{what} on {result.get('vm')} took the {result.get('path')} path: {counts}."
    if op == "migrate" and "blackout_ms" in result:
        passes = len(result.get("passes", []))
        line = (
            f"Live migration of {result.get('vm')} to {result.get('to')}: {passes} pass{'' if passes == 1 else 'es'}, "
            f"blackout {result.get('blackout_ms')} ms."
        )
        return " ".join([line, *(f"Warning: {w}." for w in result.get("warnings", []))])
    if op == "quick_migrate" and "downtime_seconds" in result:
        return (
            f"Quick Migration of {result.get('vm')} to {result.get('to')}: down for {result.get('downtime_seconds')} s "
            f"(save {result.get('save_seconds')} s + group move {result.get('group_move_seconds')} s + restore "
            f"{result.get('restore_seconds')} s)."
        )
    if op == "wmi.query":
        count = result.get("count", 0)
        return f"{count} instance{'' if count == 1 else 's'} of {result.get('class')}."
    if op == "access":
        return ("Allowed: " if result.get("allowed") else "Denied: ") + str(result.get("reason", ""))
    if events:
        return str(events[-1].get("summary", "Done."))
    return "Done."


def _summary(snap: dict[str, Any], *, include_authorization: bool = False) -> dict[str, Any]:
    """The part of the host's state (a snapshot) the lab page shows after a run (small: stored with every run)."""
    keys = ("name", "state", "scope_of_residence", "guest", "partition_id", "vmwp_pid", "node")
    summary: dict[str, Any] = {
        "hypervisor": snap.get("hypervisor"),
        "vms": [{k: vm.get(k) for k in keys} for vm in snap.get("vms", [])],
    }
    if include_authorization:
        application = dict(snap["authorization"]["application"])
        application.pop("operations", None)  # the 33 fixed operations are the same for every lab
        summary["authorization"] = application
    return summary
