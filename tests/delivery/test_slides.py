"""Slides are split from the lesson Markdown at load (courseware.slides) and their markers checked by check_course."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from courseware.models import Course, Item
from courseware.services import course_check
from courseware.slides import split_slides
from tests.classes.conftest import build_class_course
from tests.delivery.conftest import add_slide_markup


def test_a_slide_starts_at_every_section_and_at_each_break() -> None:
    body = "Intro.\n\n## One\n\nA\n\n<!-- slide -->\n\nB\n\n## Two\n\nC\n"
    drafts, problems = split_slides(body, 10, "m/l.md", "Lesson")
    assert problems == []
    assert [(d.title, d.kind) for d in drafts] == [
        ("Lesson", "title"),
        ("One", "section"),
        ("One", "continued"),
        ("Two", "section"),
    ]
    assert drafts[2].line == 17  # the break's own line in the file: offset 10 + line 7


def test_a_diagram_alone_on_its_line_gets_a_slide_of_its_own() -> None:
    body = "## A\n\nText\n\n![d](images/x.svg)\n<!-- notes: about d -->\n\nMore\n\n"
    body += "## B\n\n![e](images/y.svg)\n\nAfter\n"
    drafts, problems = split_slides(body, 0, "l.md", "L")
    assert problems == []
    assert [(d.title, d.kind) for d in drafts] == [
        ("L", "title"),
        ("A", "section"),
        ("A", "diagram"),
        ("A", "continued"),
        ("B", "diagram"),
        ("B", "continued"),
    ]
    assert [line for line in drafts[2].body if line] == ["![d](images/x.svg)"]
    assert drafts[2].notes == [(6, "about d")], "notes right after a diagram belong to its slide"
    inline = split_slides("## A\n\nA dot ![d](images/x.png) in a sentence.\n", 0, "l.md", "L")[0]
    assert len(inline) == 2, "an image inside a paragraph stays in it"


def test_markers_inside_fenced_code_are_text() -> None:
    body = "## One\n\n```\n<!-- slide -->\n<!-- notes\n```\n"
    drafts, problems = split_slides(body, 0, "l.md", "L")
    assert problems == [] and len(drafts) == 2
    assert "<!-- slide -->" in "\n".join(drafts[1].body)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("## A\n\n<!-- notes\nnever closed\n", 3, "never closed"),
        ("## A\n\ntext\n\n<!-- slide -->\n\n## B\n", 5, "empty slide"),
        ("## A\n\n  <!-- slide -->\n", 3, "unknown slide marker"),
        ("## A\n\n<!-- slides -->\n", 3, "unknown slide marker"),
        ("## A\n\n<!-- notes\n\n-->\n", 3, "empty presenter notes"),
        ("## A\n\n<!-- notes\ntext --> more\n-->\n", 4, "on a line of its own"),
    ],
)
def test_bad_markers_are_reported_with_their_line(body: str, line: int, message: str) -> None:
    _, problems = split_slides(body, 0, "l.md", "L")
    assert any(where == line and message in text for where, text in problems), problems


def test_check_course_reports_slide_problems_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = build_class_course(tmp_path / "c")
    lesson = folder / "01-basics" / "partitions.md"
    lines = lesson.read_text().splitlines()
    lesson.write_text("\n".join(lines) + "\n\n<!-- notes\nsee [nowhere](lesson:no-such-lesson)\n-->\n<!-- notes\n")
    with pytest.raises(CommandError):
        call_command("check_course", str(folder))
    err = capsys.readouterr().err
    notes_line = len(lines) + 2
    assert f"01-basics/partitions.md:{notes_line + 1}: broken link 'lesson:no-such-lesson'" in err
    assert f"01-basics/partitions.md:{notes_line + 3}: presenter notes opened with '<!-- notes' are never closed" in err


def test_the_shipped_course_and_the_marked_up_sample_check_clean(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "courseware" / "content" / "hyperv"
    assert course_check(shipped)[1] == []
    assert course_check(add_slide_markup(build_class_course(tmp_path / "c")))[1] == []


def test_load_stores_rendered_slides_and_the_lesson_page_never_shows_notes(course: Course, ian_client: object) -> None:
    lesson = Item.objects.get(course=course, slug="partitions").lesson
    titles = [(slide["title"], slide["kind"]) for slide in lesson.slides]
    assert titles[-2:] == [("A section with two slides", "section"), ("A section with two slides", "continued")]
    section, continued = lesson.slides[-2:]
    assert "First half" in section["html"] and "Second half" not in section["html"]
    assert "<strong>which partition</strong>" in section["notes_html"]
    assert "INLINE-NOTES-SECRET" in continued["notes_html"]
    assert "this marker is inside code" in continued["html"]
    assert "SLIDE-NOTES-SECRET" not in lesson.body_html and "INLINE-NOTES-SECRET" not in lesson.body_html
