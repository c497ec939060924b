"""Courseware fixtures: the sample course loaded, and generated courses of any size for query-count tests."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from courseware import content, services
from courseware.models import Course

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLE = FIXTURES / "sample-course"
BROKEN = FIXTURES / "broken-course"


def lab_title_only(folder: Path) -> tuple[list[content.Problem], SimpleNamespace]:
    """A lab hook that only reads the lab's title: the loader's own tests need no simulator (tests/labs cover it)."""
    problems: list[content.Problem] = []
    data = content.yaml_load((folder / "lab.yaml").read_text(), f"labs/{folder.name}/lab.yaml", problems)
    return problems, SimpleNamespace(title=data.get("title") if isinstance(data, dict) else None)


def _store_nothing(*args: object) -> None:
    return None


TITLE_ONLY_HOOKS = content.LabHooks(validate=lab_title_only, store=_store_nothing)


@pytest.fixture(autouse=True)
def title_only_lab_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, "_lab_hooks", TITLE_ONLY_HOOKS)


@pytest.fixture
def sample_course(db: None) -> Course:
    return services.course_load(SAMPLE).course


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample course, for tests that edit it."""
    target = tmp_path / "sample-course"
    shutil.copytree(SAMPLE, target)
    return target


def write_course(root: Path, lessons: int, slug: str = "generated") -> Path:
    """A valid course with `lessons` lessons over two modules, one quiz and one lab."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "course.yaml").write_text(
        f'slug: {slug}\ntitle: Generated\nversion: "1"\nsummary: Generated.\nmodules: [m1, m2]\n'
    )
    (root / "labs" / "lab-one").mkdir(parents=True, exist_ok=True)
    (root / "labs" / "lab-one" / "lab.yaml").write_text("title: Lab one\n")
    half = lessons // 2
    for module, numbers in (("m1", range(1, half + 1)), ("m2", range(half + 1, lessons + 1))):
        folder = root / module
        folder.mkdir(exist_ok=True)
        items = [f"  - lesson: lesson-{n}" for n in numbers]
        if module == "m2":
            items += ["  - quiz: quiz-one", "  - lab: lab-one"]
        header = f"slug: {module}\ntitle: Module {module}\nitems:\n"
        (folder / "module.yaml").write_text(header + "\n".join(items) + "\n")
        for n in numbers:
            body = f"## Part {n}\n\nSee [the next one](lesson:lesson-{min(n + 1, lessons)}).\n"
            (folder / f"lesson-{n}.md").write_text(
                f"---\nslug: lesson-{n}\ntitle: Lesson {n}\nminutes: 5\ninstructor_notes: Notes {n}\n---\n{body}"
            )
    (root / "m2" / "quiz-one.yaml").write_text(
        textwrap.dedent(
            """\
            slug: quiz-one
            title: Quiz one
            attempts: 0
            questions:
              - id: q1
                type: single
                prompt: Pick a.
                choices:
                  - {id: a, text: A, correct: true}
                  - {id: b, text: B}
              - id: q2
                type: numeric
                prompt: Two plus two?
                answer: 4
            """
        )
    )
    return root


@pytest.fixture
def course_of(tmp_path: Path, db: None):  # noqa: ANN201 - a factory
    """Factory: course_of(n) loads a generated course with n lessons and returns it."""

    def make(lessons: int) -> Course:
        root = write_course(tmp_path / f"course-{lessons}", lessons, slug=f"generated-{lessons}")
        return services.course_load(root).course

    return make
