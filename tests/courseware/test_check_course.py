"""check_course: every problem at once, each with file, line and message; a JSON summary of what the course holds."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courseware import content
from courseware.content import Problem, course_read
from tests.courseware.conftest import BROKEN, SAMPLE


def _problems(path: Path) -> list[str]:
    _, problems = course_read(path)
    return [str(problem) for problem in problems]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_sample_course_has_no_problems_and_json_counts_everything() -> None:
    out = StringIO()
    call_command("check_course", str(SAMPLE), "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["ok"] is True and summary["problems"] == []
    assert summary["counts"] == {
        "modules": 3,
        "lessons": 4,
        "quizzes": 4,
        "questions": 9,
        "labs": 1,
        "glossary_terms": 3,
        "images": 2,
    }
    assert summary["course"] == "sample" and summary["version"] == "1.0"


def test_a_broken_course_lists_every_problem_with_file_and_line_and_exits_non_zero() -> None:
    err = StringIO()
    with pytest.raises(CommandError, match="13 problem"):
        call_command("check_course", str(BROKEN), stderr=err)
    lines = err.getvalue().splitlines()
    expected = [
        "01-one/bad-yaml.md:4: YAML error",
        "01-one/good.md:5: unknown field 'difficulty'",
        "01-one/good.md:9: broken link 'glossary:not-a-term'",
        "01-one/good.md:9: broken link 'lesson:nowhere'",
        "01-one/good.md:11: missing image 'images/missing.svg'",
        "01-one/good.md:13: unknown admonition '!!! danger'",
        "01-one/module.yaml:5: unknown lesson 'ghost'",
        "01-one/module.yaml:7: unknown lab 'no-such-lab'",
        "01-one/no-correct.yaml:7: question 'q1' is single choice and needs exactly one correct choice",
        "01-one/unlisted.md:2: lesson 'unlisted' is not listed",
        "02-two/duplicate.md:2: duplicate slug 'good'",
        "course.yaml:4: unknown field 'author'",
        "course.yaml:8: module folder '03-missing' does not exist",
    ]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_json_output_of_a_broken_course_carries_the_problems() -> None:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_course", str(BROKEN), "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["ok"] is False
    assert {"file": "course.yaml", "line": 4, "message": summary["problems"][-2]["message"]} in summary["problems"]


def test_a_missing_folder_is_one_clear_problem(tmp_path: Path) -> None:
    assert _problems(tmp_path / "nope") == [f"{tmp_path / 'nope'}: not a folder"]
    assert _problems(tmp_path) == ["course.yaml: missing: every course folder needs a course.yaml"]


def test_yaml_errors_in_front_matter_point_at_the_file_line(sample_copy: Path) -> None:
    _edit(sample_copy / "01-basics" / "partitions.md", "minutes: 5\n", "minutes: 5\n  bad: indent: here\n")
    problems = _problems(sample_copy)
    assert "01-basics/partitions.md:5: YAML error: mapping values are not allowed here" in problems


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("01-basics/basics-quiz.yaml", "    answer: true\n", "    answer: true\n    hint: no\n",
         "01-basics/basics-quiz.yaml:35: unknown field 'hint' in question 'dep'"),
        ("01-basics/basics-quiz.yaml", "id: dep", "id: drivers",
         "01-basics/basics-quiz.yaml:31: duplicate question id 'drivers'"),
        ("01-basics/basics-quiz.yaml", "VMMS, correct: true}\n      - {id: vmwp, text: VMWP, correct: true}",
         "VMMS}\n      - {id: vmwp, text: VMWP}",
         "01-basics/basics-quiz.yaml:27: question 'root-components' has no correct choice"),
        ("01-basics/basics-quiz.yaml", "      - {id: vmms, text: VMMS, correct: true}",
         "      - {id: vmms, text: VMMS, correct: true}\n      - {id: vmms, text: Again}",
         "01-basics/basics-quiz.yaml:29: duplicate id 'vmms' in 'choices'"),
        ("03-review/final-exam.yaml", "attempts: 2", "attempts: 0",
         "03-review/final-exam.yaml:5: show_answers 'after_last_attempt' needs a limited number of attempts"),
        ("03-review/final-exam.yaml", "pass_mark: 50", "pass_mark: 150",
         "03-review/final-exam.yaml:3: 'pass_mark' in quiz must be a whole number from 0 to 100"),
        ("03-review/final-exam.yaml", "show_answers: after_last_attempt", "show_answers: sometimes",
         "03-review/final-exam.yaml:5: 'show_answers' must be one of"),
        ("02-devices/devices-quiz.yaml", "      - {id: scope, left: Change Authorization Scope, right: Administrator}",
         "      - just text", "02-devices/devices-quiz.yaml:27: question 'op-role' needs at least 2 pairs"),
        ("02-devices/devices-quiz.yaml", "    answer: 24\n", "    answer: lots\n",
         "02-devices/devices-quiz.yaml:11: 'answer' in question 'walk-refs' must be a number"),
        ("02-devices/devices-quiz.yaml", "type: ordering", "type: sorting",
         "02-devices/devices-quiz.yaml:16: question 'type' must be one of"),
        ("01-basics/intro.md", "slug: intro", "slug: Intro Page",
         "01-basics/intro.md:2: 'slug' in lesson front matter must match [a-z0-9-]+"),
        ("01-basics/partitions.md", "![a dot](images/dot.png)", "![](images/dot.png)",
         "01-basics/partitions.md:9: image has no alt text"),
        ("01-basics/partitions.md", "[lab](lab:io-trap-trace)", "[lab](labs/io-trap-trace)",
         "01-basics/partitions.md:13: unsupported link 'labs/io-trap-trace'"),
        ("01-basics/partitions.md", "[lab](lab:io-trap-trace)", "[lab](lab:nope)",
         "01-basics/partitions.md:13: broken link 'lab:nope'"),
        ("01-basics/module.yaml", "  - quiz: basics-quiz\n", "  - quiz: basics-quiz\n  - quiz: basics-quiz\n",
         "01-basics/module.yaml:8: quiz 'basics-quiz' is listed twice"),
        ("01-basics/module.yaml", "title: Basics\n", "title: Basics\ntitle: Again\n",
         "01-basics/module.yaml:3: duplicate key 'title'"),
        ("glossary.yaml", "- slug: hypervisor", "- slug: vmbus", "glossary.yaml:4: duplicate glossary slug 'vmbus'"),
        ("course.yaml", 'version: "1.0"', "version: 1.0", "course.yaml:3: version must be a quoted string"),
    ],
)  # fmt: skip
def test_each_kind_of_mistake_is_reported_where_it_is(
    sample_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    _edit(sample_copy / file, old, new)
    problems = _problems(sample_copy)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_an_unsupported_image_type_is_a_problem(sample_copy: Path) -> None:
    (sample_copy / "images" / "notes.txt").write_text("not an image")
    assert "images/notes.txt: unsupported image type" in _problems(sample_copy)[0]


def test_a_lab_referenced_without_lab_yaml_is_unknown(sample_copy: Path) -> None:
    (sample_copy / "labs" / "io-trap-trace" / "lab.yaml").unlink()
    problems = _problems(sample_copy)
    assert "labs/io-trap-trace/lab.yaml: missing: a lab folder needs a lab.yaml" in problems
    assert any("unknown lab 'io-trap-trace'" in problem for problem in problems)


def test_the_registered_lab_hook_checks_lab_folders_and_names_the_lab(
    sample_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []

    def validator(folder: Path) -> tuple[list[Problem], SimpleNamespace]:
        seen.append(folder)
        return [Problem(str(folder / "lab.yaml"), 3, "scenario is missing")], SimpleNamespace(title="Validated title")

    monkeypatch.setattr(content, "_lab_hooks", content.LabHooks(validate=validator, store=lambda *args: None))
    course, problems = course_read(sample_copy)
    assert seen == [sample_copy.resolve() / "labs" / "io-trap-trace"]
    assert [str(problem) for problem in problems] == ["labs/io-trap-trace/lab.yaml:3: scenario is missing"]
    assert course is not None and course.labs["io-trap-trace"].title == "Validated title"


def test_a_course_with_labs_needs_the_labs_app(sample_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, "_lab_hooks", None)
    assert "labs/io-trap-trace/lab.yaml: this course has labs, but the labs app is not installed" in _problems(
        sample_copy
    )


def test_the_real_course_is_checked_without_crashing_whatever_state_it_is_in() -> None:
    real = Path(__file__).resolve().parents[2] / "courseware" / "content" / "hyperv"
    if not (real / "course.yaml").is_file():
        pytest.skip("the Hyper-V course is not in this checkout")
    course, problems = course_read(real)
    assert course is not None and course.slug == "hyperv"
    assert all(isinstance(problem, Problem) and problem.message for problem in problems)


def test_an_invalid_course_slug_is_reported_and_links_are_still_checked(sample_copy: Path) -> None:
    _edit(sample_copy / "course.yaml", "slug: sample", "slug: Not A Slug")
    _edit(sample_copy / "01-basics" / "partitions.md", "[lab](lab:io-trap-trace)", "[lab](lab:nope)")
    problems = _problems(sample_copy)
    assert problems[0].startswith("01-basics/partitions.md:13: broken link 'lab:nope'")
    assert problems[1].startswith("course.yaml:1: 'slug' in course.yaml must match [a-z0-9-]+")


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5))
_KEYS = st.sampled_from(
    ["id", "type", "text", "correct", "choices", "slug", "title", "items", "pairs", "answer", "points", "left",
     "right", "prompt", "questions", "lesson", "quiz", "lab", "modules", "version", "attempts", "show_answers"]
)  # fmt: skip
_VALUES = st.recursive(
    _SCALARS | st.sampled_from(["single", "multiple", "numeric", "ordering", "matching", "true_false"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=_VALUES,
    target=st.sampled_from(["course.yaml", "01-basics/basics-quiz.yaml", "01-basics/module.yaml", "glossary.yaml"]),
    raw=st.text(max_size=40),
)
def test_any_file_content_gives_problems_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory, data: object, target: str, raw: str
) -> None:
    root = tmp_path_factory.mktemp("fuzz") / "course"
    shutil.copytree(SAMPLE, root)
    if target.endswith("quiz.yaml") and isinstance(data, dict):
        data = {"slug": "basics-quiz", "title": "Fuzzed", "questions": [data]}
    (root / target).write_text(yaml.safe_dump(data) if raw == "" else raw)
    course, problems = course_read(root)
    assert all(isinstance(problem, Problem) for problem in problems)
