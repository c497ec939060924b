"""Validate a lab folder (`labs/<slug>/lab.yaml` in a course) for check_course and load_course.

Registered with courseware's lab validator hook when the labs app is ready. Every problem names the file and
line. A lab is proven buildable here: its scenario is built on the simulator for every variant value, and every
`solve` line parses in the console language.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from courseware.content import Problem
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


class _LineLoader(yaml.SafeLoader):
    pass


def _load_yaml(text: str, file: str, problems: list[Problem]) -> Any:
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problems.append(Problem(file, mark.line + 1 if mark else None, f"YAML error: {getattr(exc, 'problem', exc)}"))
        return None


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def validate_lab_folder(folder: Path) -> tuple[list[Problem], LabDefinition | None]:
    """Check one lab folder; return (problems, the parsed lab or None)."""
    problems: list[Problem] = []
    file = f"labs/{folder.name}/lab.yaml"
    try:
        text = (folder / "lab.yaml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(file, None, f"cannot read lab.yaml: {exc}")], None
    data = _load_yaml(text, file, problems)
    if data is None:
        return problems or [Problem(file, None, "lab.yaml is empty")], None
    if not isinstance(data, dict):
        return [Problem(file, 1, "lab.yaml must be a mapping of keys")], None

    def problem(message: str, needle: str | None = None) -> None:
        problems.append(Problem(file, _line_of(text, needle) if needle else None, message))

    for key in sorted(set(data) - LAB_KEYS):
        problem(f"unknown key '{key}' (allowed: {', '.join(sorted(LAB_KEYS))})", f"{key}:")
    missing = [key for key in REQUIRED_KEYS if key not in data]
    for key in missing:
        problem(f"missing required key '{key}'")
    if missing:
        return problems, None
    if data["slug"] != folder.name:
        problem(f"slug '{data['slug']}' must equal the folder name '{folder.name}'", "slug:")

    manual_md = _read_sibling(folder, data.get("manual"), "manual", file, problems, text)
    answer_key_md = (
        _read_sibling(folder, data.get("answer_key"), "answer_key", file, problems, text)
        if data.get("answer_key")
        else ""
    )

    scenario = data["scenario"]
    if isinstance(scenario, str):
        scenario_text = _read_sibling(folder, scenario, "scenario", file, problems, text)
        scenario = _load_yaml(scenario_text, f"labs/{folder.name}/{scenario}", problems) if scenario_text else None
    if not isinstance(scenario, dict):
        problem("scenario must be a mapping (or the name of a YAML file beside lab.yaml)", "scenario:")
        return problems, None

    variants = data.get("variants") or {}
    if not isinstance(variants, dict):
        problem("variants must be a mapping of name: {choices: [...]}", "variants:")
        variants = {}
    for name, spec in variants.items():
        if (
            not isinstance(spec, dict)
            or set(spec) != {"choices"}
            or not isinstance(spec["choices"], list)
            or not spec["choices"]
        ):
            problem(f"variant '{name}' must be {{choices: [at least one value]}}", f"{name}:")

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
    _check_questions(definition["questions"], problem)
    max_points = _check_checks(definition, problem)
    used = engine.variables_in({k: definition[k] for k in ("scenario", "tasks", "questions", "checks", "solve")})
    used |= engine.variables_in(manual_md)
    for name in sorted(used - set(variants)):
        problem(f"'${{{name}}}' is used but no variant named '{name}' is declared", "${" + name + "}")
    _check_buildable(definition, problem)
    lab = LabDefinition(
        slug=str(data["slug"]),
        title=str(data["title"]),
        minutes=int(data.get("minutes") or 30),
        manual_md=manual_md or "",
        answer_key_md=answer_key_md or "",
        definition=definition,
        max_points=max_points,
        folder=folder,
        problems=problems,
    )
    return problems, lab


def _read_sibling(folder: Path, name: Any, key: str, file: str, problems: list[Problem], text: str) -> str:
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        problems.append(Problem(file, _line_of(text, f"{key}:"), f"{key} must name a file beside lab.yaml"))
        return ""
    try:
        return (folder / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        problems.append(
            Problem(file, _line_of(text, f"{key}:"), f"missing file: {key} '{name}' is not beside lab.yaml")
        )
        return ""


def _check_questions(questions: Any, problem: Any) -> None:
    if not isinstance(questions, list):
        problem("questions must be a list", "questions:")
        return
    seen: set[str] = set()
    for question in questions:
        if not isinstance(question, dict) or "id" not in question or "prompt" not in question:
            problem("each question needs an id and a prompt", "questions:")
            continue
        qid = str(question["id"])
        if qid in seen:
            problem(f"duplicate question id '{qid}'", f"id: {qid}")
        seen.add(qid)
        for key in sorted(set(question) - QUESTION_KEYS):
            problem(f"question '{qid}': unknown key '{key}'", f"{key}:")
        if not any(k in question for k in ("answer", "accept", "answer_from")):
            problem(f"question '{qid}' has no answer (answer, accept or answer_from)", f"id: {qid}")
        source = question.get("answer_from")
        if source is not None and not (
            isinstance(source, dict) and isinstance(source.get("io"), dict) and {"vm", "counter"} <= set(source["io"])
        ):
            problem(f"question '{qid}': answer_from must be {{io: {{vm, counter}}}}", "answer_from:")


def _check_checks(definition: dict[str, Any], problem: Any) -> int:
    checks = definition["checks"]
    if not isinstance(checks, list) or not checks:
        problem("checks must be a non-empty list", "checks:")
        return 0
    seen: set[str] = set()
    questions = {str(q.get("id")) for q in definition["questions"] if isinstance(q, dict)}
    total = 0
    for check in checks:
        if not isinstance(check, dict) or "id" not in check or "expect" not in check:
            problem("each check needs an id and an expect predicate", "checks:")
            continue
        cid = str(check["id"])
        if cid in seen:
            problem(f"duplicate check id '{cid}'", f"id: {cid}")
        seen.add(cid)
        for key in sorted(set(check) - CHECK_KEYS):
            problem(f"check '{cid}': unknown key '{key}'", f"{key}:")
        points = check.get("points", 1)
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            problem(f"check '{cid}': points must be a whole number >= 0", f"id: {cid}")
        else:
            total += points
        hints = check.get("hints", [])
        if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
            problem(f"check '{cid}': hints must be a list of strings (a nudge first, more later)", f"id: {cid}")
        expect = check["expect"]
        if not isinstance(expect, dict) or len(expect) != 1:
            problem(f"check '{cid}': expect must hold exactly one predicate ({', '.join(PREDICATES)})", f"id: {cid}")
            continue
        kind, spec = next(iter(expect.items()))
        if kind not in PREDICATES or not isinstance(spec, dict):
            problem(f"check '{cid}': unknown predicate '{kind}' (known: {', '.join(PREDICATES)})", f"{kind}:")
            continue
        required, allowed = PREDICATES[kind]
        missing = required - set(spec)
        if missing:
            problem(f"check '{cid}': predicate '{kind}' needs {', '.join(sorted(missing))}", f"{kind}:")
        for key in sorted(set(spec) - allowed):
            problem(f"check '{cid}': predicate '{kind}' has unknown key '{key}'", f"{kind}:")
        if kind == "answer" and str(spec.get("question")) not in questions:
            problem(f"check '{cid}': no question '{spec.get('question')}' in this lab", f"id: {cid}")
        if kind == "access" and spec.get("expect", "allowed") not in ("allowed", "denied"):
            problem(f"check '{cid}': access expect must be 'allowed' or 'denied'", f"id: {cid}")
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


def _check_buildable(definition: dict[str, Any], problem: Any) -> None:
    """Every variant's scenario builds on the simulator, and every solve line parses."""
    from labs.sim.host import Host

    for params in _variant_combinations(definition["variants"]) or [{}]:
        try:
            Host(engine.substitute(definition["scenario"], params), seed=1)
        except SimError as exc:
            where = f" (with {params})" if params else ""
            problem(f"the scenario does not build on the simulator{where}: {exc}", "scenario:")
            break
    for line in definition["solve"]:
        if not isinstance(line, str):
            problem("each solve entry must be a console line (a string)", "solve:")
            continue
        try:
            first = _variant_combinations(definition["variants"])[0] if definition["variants"] else {}
            commands = console.parse(engine.substitute(line, first))
            console.check_offered(commands, [str(group) for group in definition.get("console") or []])
        except console.ConsoleError as exc:
            problem(f"solve line '{line}' does not parse: {exc}", line[:40])
