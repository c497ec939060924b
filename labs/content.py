"""Validate a lab folder (`labs/<slug>/lab.yaml` in a course) for check_course and load_course.

Registered with courseware's lab validator hook when the labs app is ready. Every problem names the file and
line. A lab is proven buildable here: its scenario is built on the simulator for every variant value, and every
`solve` line parses in the console language.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courseware.content import CourseFileError, LineDict, Problem, course_file_text, yaml_load
from labs import console, engine
from labs.sim.errors import SimError

LAB_KEYS = {
    "slug",
    "title",
    "minutes",
    "manual",
    "answer_key",
    "console",
    "azman_form",
    "scenario",
    "variants",
    "tasks",
    "questions",
    "checks",
    "solve",
}
REQUIRED_KEYS = ("slug", "title", "manual", "scenario", "checks", "solve")
CHECK_KEYS = {"id", "title", "points", "required", "expect", "failure", "hints"}
QUESTION_KEYS = {"id", "prompt", "answer", "accept", "answer_from", "tolerance"}
PREDICATES = {
    "state": ({"path"}, {"path", *engine.COMPARATORS}),
    "access": ({"user", "operation", "vm"}, {"user", "operation", "vm", "expect"}),
    "io": ({"vm"}, {"vm", "path", "op_kind", "bytes", "counter", *engine.COMPARATORS}),
    "result": ({"op"}, {"op", "where", "path", *engine.COMPARATORS}),
    "answer": ({"question"}, {"question"}),
}
MAX_VARIANT_COMBINATIONS = 64


@dataclass
class LabDefinition:
    """A parsed lab, ready to store: the definition dict is what the engine replays."""

    slug: str
    title: str
    minutes: int
    manual_md: str
    answer_key_md: str
    definition: dict[str, Any]
    max_points: int
    folder: Path
    problems: list[Problem] = field(default_factory=list)


def _line(node: Any, key: Any = None) -> int | None:
    """The line of `key` in a mapping read by courseware's YAML loader (or of the node itself)."""
    if key is not None and isinstance(node, LineDict) and key in node.key_lines:
        return node.key_lines[key]
    return getattr(node, "line", None) or None


def _line_of_text(text: str, needle: str) -> int | None:
    """First line holding `needle`: only for `${variable}` uses, which can sit inside any string or the manual."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def validate_lab_folder(folder: Path) -> tuple[list[Problem], LabDefinition | None]:
    """Check one lab folder (`<course>/labs/<slug>/`); return (problems, the parsed lab or None)."""
    problems: list[Problem] = []
    file = f"labs/{folder.name}/lab.yaml"
    root = folder.parent.parent  # the course folder: no file may be read from outside it
    try:
        text = course_file_text(root, folder / "lab.yaml")
    except CourseFileError as exc:
        return [Problem(file, None, f"cannot read lab.yaml: {exc}")], None
    data = yaml_load(text, file, problems)
    if data is None:
        return problems or [Problem(file, None, "lab.yaml is empty")], None
    if not isinstance(data, dict):
        return [Problem(file, 1, "lab.yaml must be a mapping of keys")], None

    def problem(message: str, line: int | None = None) -> None:
        problems.append(Problem(file, line, message))

    for key in sorted(set(data) - LAB_KEYS, key=str):
        problem(f"unknown key '{key}' (allowed: {', '.join(sorted(LAB_KEYS))})", _line(data, key))
    missing = [key for key in REQUIRED_KEYS if key not in data]
    for key in missing:
        problem(f"missing required key '{key}'", _line(data))
    if missing:
        return problems, None
    if data["slug"] != folder.name:
        problem(f"slug '{data['slug']}' must equal the folder name '{folder.name}'", _line(data, "slug"))

    manual_md = _read_sibling(root, folder, data, "manual", problem)
    answer_key_md = _read_sibling(root, folder, data, "answer_key", problem) if data.get("answer_key") else ""

    scenario = data["scenario"]
    if isinstance(scenario, str):
        scenario_text = _read_sibling(root, folder, data, "scenario", problem)
        scenario = yaml_load(scenario_text, f"labs/{folder.name}/{scenario}", problems) if scenario_text else None
    if not isinstance(scenario, dict):
        problem("scenario must be a mapping (or the name of a YAML file beside lab.yaml)", _line(data, "scenario"))
        return problems, None

    variants = data.get("variants") or {}
    if not isinstance(variants, dict):
        problem("variants must be a mapping of name: {choices: [...]}", _line(data, "variants"))
        variants = {}
    for name, spec in variants.items():
        if (
            not isinstance(spec, dict)
            or set(spec) != {"choices"}
            or not isinstance(spec["choices"], list)
            or not spec["choices"]
        ):
            problem(f"variant '{name}' must be {{choices: [at least one value]}}", _line(variants, name))

    definition = {
        "scenario": scenario,
        "variants": variants,
        "tasks": [str(t) for t in data.get("tasks") or []],
        "questions": data.get("questions") or [],
        "checks": data.get("checks") or [],
        "solve": data.get("solve") or [],
        "console": data.get("console") or [],
        "azman_form": bool(data.get("azman_form", False)),
    }
    _check_questions(definition["questions"], problem, _line(data, "questions"))
    max_points = _check_checks(definition, problem, _line(data, "checks"))
    used = engine.variables_in({k: definition[k] for k in ("scenario", "tasks", "questions", "checks", "solve")})
    used |= engine.variables_in(manual_md)
    for name in sorted(used - set(variants)):
        problem(f"'${{{name}}}' is used but no variant named '{name}' is declared", _line_of_text(text, "${" + name))
    _check_buildable(definition, problem, data)
    lab = LabDefinition(
        slug=str(data["slug"]),
        title=str(data["title"]),
        minutes=int(data.get("minutes") or 30),
        manual_md=manual_md or "",
        answer_key_md=answer_key_md or "",
        definition=_plain(definition),
        max_points=max_points,
        folder=folder,
        problems=problems,
    )
    return problems, lab


def _plain(value: Any) -> Any:
    """Plain dicts and lists (the loader's line-numbered ones are not JSON-friendly subclasses to keep)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _read_sibling(root: Path, folder: Path, data: Any, key: str, problem: Any) -> str:
    name = data.get(key)
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        problem(f"{key} must name a file beside lab.yaml", _line(data, key))
        return ""
    if not (folder / name).exists() and not (folder / name).is_symlink():
        problem(f"missing file: {key} '{name}' is not beside lab.yaml", _line(data, key))
        return ""
    try:
        return course_file_text(root, folder / name)
    except CourseFileError as exc:
        problem(f"{key} '{name}': {exc}", _line(data, key))
        return ""


def _check_questions(questions: Any, problem: Any, line: int | None) -> None:
    if not isinstance(questions, list):
        problem("questions must be a list", line)
        return
    seen: set[str] = set()
    for question in questions:
        if not isinstance(question, dict) or "id" not in question or "prompt" not in question:
            problem("each question needs an id and a prompt", _line(question) or line)
            continue
        qid = str(question["id"])
        if qid in seen:
            problem(f"duplicate question id '{qid}'", _line(question, "id"))
        seen.add(qid)
        for key in sorted(set(question) - QUESTION_KEYS, key=str):
            problem(f"question '{qid}': unknown key '{key}'", _line(question, key))
        if not any(k in question for k in ("answer", "accept", "answer_from")):
            problem(f"question '{qid}' has no answer (answer, accept or answer_from)", _line(question, "id"))
        source = question.get("answer_from")
        if source is not None and not (
            isinstance(source, dict) and isinstance(source.get("io"), dict) and {"vm", "counter"} <= set(source["io"])
        ):
            problem(f"question '{qid}': answer_from must be {{io: {{vm, counter}}}}", _line(question, "answer_from"))


def _check_checks(definition: dict[str, Any], problem: Any, line: int | None) -> int:
    checks = definition["checks"]
    if not isinstance(checks, list) or not checks:
        problem("checks must be a non-empty list", line)
        return 0
    seen: set[str] = set()
    questions = {str(q.get("id")) for q in definition["questions"] if isinstance(q, dict)}
    total = 0
    for check in checks:
        if not isinstance(check, dict) or "id" not in check or "expect" not in check:
            problem("each check needs an id and an expect predicate", _line(check) or line)
            continue
        cid = str(check["id"])
        at = _line(check, "id")
        if cid in seen:
            problem(f"duplicate check id '{cid}'", at)
        seen.add(cid)
        for key in sorted(set(check) - CHECK_KEYS, key=str):
            problem(f"check '{cid}': unknown key '{key}'", _line(check, key))
        points = check.get("points", 1)
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            problem(f"check '{cid}': points must be a whole number >= 0", _line(check, "points"))
        else:
            total += points
        hints = check.get("hints", [])
        if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
            message = f"check '{cid}': hints must be a list of strings (a nudge first, more later)"
            problem(message, _line(check, "hints"))
        expect = check["expect"]
        if not isinstance(expect, dict) or len(expect) != 1:
            kinds = ", ".join(PREDICATES)
            problem(f"check '{cid}': expect must hold exactly one predicate ({kinds})", _line(check, "expect"))
            continue
        kind, spec = next(iter(expect.items()))
        if kind not in PREDICATES or not isinstance(spec, dict):
            problem(f"check '{cid}': unknown predicate '{kind}' (known: {', '.join(PREDICATES)})", _line(expect, kind))
            continue
        required, allowed = PREDICATES[kind]
        missing = required - set(spec)
        if missing:
            problem(f"check '{cid}': predicate '{kind}' needs {', '.join(sorted(missing))}", _line(expect, kind))
        for key in sorted(set(spec) - allowed, key=str):
            problem(f"check '{cid}': predicate '{kind}' has unknown key '{key}'", _line(spec, key))
        if kind == "answer" and str(spec.get("question")) not in questions:
            problem(f"check '{cid}': no question '{spec.get('question')}' in this lab", _line(spec, "question"))
        if kind == "access" and spec.get("expect", "allowed") not in ("allowed", "denied"):
            problem(f"check '{cid}': access expect must be 'allowed' or 'denied'", _line(spec, "expect"))
    return total


def _variant_combinations(variants: dict[str, Any]) -> list[dict[str, Any]]:
    variants = {
        name: spec
        for name, spec in variants.items()
        if isinstance(spec, dict) and isinstance(spec.get("choices"), list) and spec["choices"]
    }
    names = sorted(variants)
    combos = itertools.product(*(variants[name]["choices"] for name in names))
    return [dict(zip(names, combo, strict=True)) for combo in itertools.islice(combos, MAX_VARIANT_COMBINATIONS)]


def _check_buildable(definition: dict[str, Any], problem: Any, data: Any) -> None:
    """Every variant's scenario builds on the simulator, and every solve line parses."""
    from labs.sim.host import Host

    for params in _variant_combinations(definition["variants"]) or [{}]:
        try:
            Host(engine.substitute(definition["scenario"], params), seed=1)
        except SimError as exc:
            where = f" (with {params})" if params else ""
            at = _scenario_line(definition["scenario"], getattr(exc, "path", "")) or _line(data, "scenario")
            problem(f"the scenario does not build on the simulator{where}: {exc}", at)
            break
    solve = definition["solve"]
    lines = getattr(solve, "item_lines", None) or [_line(data, "solve")] * len(solve)
    for line, at in zip(solve, lines, strict=False):
        if not isinstance(line, str):
            problem("each solve entry must be a console line (a string)", at)
            continue
        try:
            first = _variant_combinations(definition["variants"])[0] if definition["variants"] else {}
            commands = console.parse(engine.substitute(line, first))
            console.check_offered(commands, [str(group) for group in definition.get("console") or []])
        except console.ConsoleError as exc:
            problem(f"solve line '{line}' does not parse: {exc}", at)


def _scenario_line(scenario: Any, path: str) -> int | None:
    """The line of a simulator ScenarioError's dotted path (`vms[1].memory_mb`) in the lab's YAML, if known."""
    node, line = scenario, _line(scenario)
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path or ""):
        if name and isinstance(node, dict) and name in node:
            line, node = _line(node, name) or line, node[name]
        elif index and isinstance(node, list) and int(index) < len(node):
            lines = getattr(node, "item_lines", None)
            line, node = (lines[int(index)] if lines else line), node[int(index)]
        else:
            break
    return line
