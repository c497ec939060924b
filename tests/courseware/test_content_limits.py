"""A careless (or hostile) course author cannot make the loader read server files, exhaust memory, or ship
active content: symbolic links, oversized files, YAML alias bombs, external images and fake images are refused
with the file and the reason, and nothing is loaded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from courseware import content, services
from courseware.content import course_read
from courseware.models import Course
from tests.courseware.conftest import SAMPLE

LAB = "labs/io-trap-trace"


def _problems(root: Path) -> list[str]:
    _, problems = course_read(root)
    return [str(problem) for problem in problems]


def _billion_laughs(levels: int = 9) -> str:
    text = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, levels):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n"
    return text


@pytest.mark.parametrize(
    ("file", "target"),
    [
        ("instructor-overview.md", "/etc/passwd"),
        (f"{LAB}/answer-key.md", "SECRET"),
        (f"{LAB}/manual.md", "/proc/self/environ"),
        ("01-basics/intro.md", "/etc/hostname"),
    ],
)
def test_a_file_that_is_a_symlink_is_refused_with_its_name_and_reason(
    sample_copy: Path, tmp_path: Path, file: str, target: str
) -> None:
    if target == "SECRET":
        secret = tmp_path / "secret_key"
        secret.write_text("not for learners")
        target = str(secret)
    (sample_copy / file).unlink()
    os.symlink(target, sample_copy / file)
    problems = _problems(sample_copy)
    assert f"{file}: symbolic links are not allowed in a course folder" in problems


@pytest.mark.django_db
def test_load_course_loads_nothing_when_a_lab_manual_is_a_symlink(sample_copy: Path) -> None:
    (sample_copy / LAB / "manual.md").unlink()
    os.symlink("/proc/self/environ", sample_copy / LAB / "manual.md")
    with pytest.raises(services.CourseInvalidError):
        services.course_load(sample_copy)
    assert not Course.objects.exists()


def test_a_module_folder_that_is_a_symlink_to_outside_is_refused(sample_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (sample_copy / "02-devices").rename(outside)
    os.symlink(outside, sample_copy / "02-devices")
    problems = _problems(sample_copy)
    assert "02-devices: symbolic links are not allowed in a course folder" in problems
    assert not any("synthetic-devices" in problem and "loaded" in problem for problem in problems)


def test_the_lab_validator_refuses_a_symlinked_sibling_file(sample_copy: Path) -> None:
    from labs.content import validate_lab_folder

    (sample_copy / LAB / "answer-key.md").unlink()
    os.symlink("/etc/passwd", sample_copy / LAB / "answer-key.md")
    problems, _ = validate_lab_folder(sample_copy / LAB)
    assert any("answer_key 'answer-key.md': symbolic links are not allowed" in p.message for p in problems)


@pytest.mark.parametrize(
    "file", ["course.yaml", "01-basics/module.yaml", "01-basics/basics-quiz.yaml", "glossary.yaml"]
)
def test_a_yaml_alias_bomb_is_refused_in_every_course_yaml_file(sample_copy: Path, file: str) -> None:
    (sample_copy / file).write_text(_billion_laughs())
    problems = _problems(sample_copy)
    assert any(p.startswith(f"{file}:") and "expands to more than" in p for p in problems), problems


def test_a_yaml_alias_bomb_in_a_lab_is_refused_by_the_same_loader(sample_copy: Path) -> None:
    from labs.content import validate_lab_folder

    (sample_copy / LAB / "lab.yaml").write_text(_billion_laughs())
    problems, lab = validate_lab_folder(sample_copy / LAB)
    assert lab is None
    assert any("expands to more than" in p.message for p in problems)


def test_yaml_nested_too_deeply_is_refused(sample_copy: Path) -> None:
    (sample_copy / "glossary.yaml").write_text("a: " + "[" * 60 + "]" * 60 + "\n")
    assert any("nested deeper than" in p for p in _problems(sample_copy))


def test_an_oversized_lesson_is_refused_without_reading_it(sample_copy: Path) -> None:
    lesson = sample_copy / "01-basics" / "intro.md"
    lesson.write_text(lesson.read_text() + "x" * (content.MAX_TEXT_BYTES + 1))
    problems = _problems(sample_copy)
    assert any(p.startswith("01-basics/intro.md:") and "larger than 1.0 MB" in p for p in problems)


def test_a_course_folder_over_the_course_cap_is_refused(sample_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, "MAX_COURSE_BYTES", 10_000)
    course, problems = course_read(sample_copy)
    assert course is None
    assert any("the course folder holds" in str(p) and "the limit is" in str(p) for p in problems)


def test_a_raw_html_image_from_another_site_is_refused_with_its_line(sample_copy: Path) -> None:
    lesson = sample_copy / "01-basics" / "intro.md"
    lesson.write_text(lesson.read_text() + '\n<img src="https://tracker.example/pixel.png" alt="x">\n')
    problems = _problems(sample_copy)
    assert any(
        p.startswith("01-basics/intro.md:") and "image 'https://tracker.example/pixel.png' is not allowed" in p
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("page.png", b"<html><script>alert(1)</script></html>", "is not a PNG image"),
        ("photo.jpg", b"GIF89a....", "is not a JPG image"),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
        ("y.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "event handler"),
        (
            "z.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>hi</p></foreignObject></svg>',
            "<foreignObject>",
        ),
        (
            "w.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<image x:href="https://evil.example/a.png"/></svg>',
            "must point inside the image",
        ),
        ("v.svg", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg/>', "DOCTYPE"),
        ("u.svg", b"<html><body>not svg</body></html>", "root element is not <svg>"),
        ("t.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "https://x";</style></svg>', "@import"),
    ],
)
def test_images_are_checked_by_content(sample_copy: Path, name: str, data: bytes, reason: str) -> None:
    (sample_copy / "images" / name).write_bytes(data)
    problems = [p for p in _problems(sample_copy) if p.startswith(f"images/{name}:")]
    assert problems and reason in problems[0], problems


def test_the_shipped_images_pass_the_content_checks() -> None:
    for path in sorted((SAMPLE / "images").iterdir()):
        assert content.image_content_problem(path.suffix.lower(), path.read_bytes()) is None, path
