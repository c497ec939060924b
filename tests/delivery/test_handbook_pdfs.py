"""Both handbooks rendered from the shipped Hyper-V course with WeasyPrint: page count, table of contents with page
numbers that match the pages, running heads, no diagram, table or code block cut by a page break, and a few pages
turned into PNGs with pdftoppm under var/handbooks/ for a reviewer."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from courseware.models import Course, CourseImage, Item
from delivery import handbooks
from delivery.models import Handbook
from delivery.pdf import pdf_missing, render_document

COURSE = Path(__file__).resolve().parents[2] / "courseware" / "content" / "hyperv"
ARTEFACTS = Path(settings.VAR_DIR) / "handbooks"

pytestmark = pytest.mark.skipif(bool(pdf_missing()), reason=f"WeasyPrint cannot run here: {pdf_missing()}")


def _text(pdf: Path, first: int, last: int | None = None) -> str:
    args = ["pdftotext", "-layout", "-f", str(first), "-l", str(last or first), str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pngs(pdf: Path, name: str, pages: list[int]) -> list[Path]:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    made = []
    for page in pages:
        prefix = ARTEFACTS / f"{name}-p{page}"
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-f", str(page), "-l", str(page), str(pdf),
                        str(prefix)], check=True)  # fmt: skip
        made.append(prefix.with_suffix(".png"))
    return made


def _toc(pdf: Path) -> dict[str, int]:
    """{entry title: page number} from the contents pages (2 and 3)."""
    entries = {}
    for line in _text(pdf, 2, 3).splitlines():
        match = re.match(r"^\s*(.+?)\s*\.{3,}\s*(\d+)\s*$", line)
        if match:
            entries[match.group(1)] = int(match.group(2))
    return entries


@pytest.fixture
def shipped(db: None) -> Course:
    call_command("load_course", str(COURSE), verbosity=0)
    return Course.objects.get(slug="hyperv")


def _blocks_cut_by_a_page_break(document: Any) -> tuple[dict[str, int], list[str]]:
    """How many diagrams, tables and code blocks were laid out, and those whose boxes land on more than one page."""
    pages_of: dict[int, set[int]] = {}
    names: dict[int, str] = {}

    def walk(box: Any, page: int) -> None:
        if getattr(box, "element_tag", None) in ("img", "table", "pre") and box.element is not None:
            pages_of.setdefault(id(box.element), set()).add(page)
            names[id(box.element)] = f"<{box.element_tag}> {(box.element.get('src') or '')[:60]}"
        for child in getattr(box, "children", []) or []:
            walk(child, page)

    for number, page in enumerate(document.pages, start=1):
        walk(page._page_box, number)
    found: dict[str, int] = {}
    for name in names.values():
        found[name[1:4]] = found.get(name[1:4], 0) + 1
    return found, [names[key] + f" on pages {sorted(pages)}" for key, pages in pages_of.items() if len(pages) > 1]


def test_student_handbook_has_cover_toc_running_heads_and_whole_diagrams(shipped: Course, tmp_path: Path) -> None:
    stored = CourseImage.objects.filter(course=shipped)
    images = {image.path: (image.content_type, bytes(image.data)) for image in stored}
    document = render_document(handbooks.handbook_html(shipped, Handbook.Kind.STUDENT), images)
    found, cut = _blocks_cut_by_a_page_break(document)
    assert cut == []
    assert found["img"] >= len(images) and found["tab"] >= 10 and found["pre"] >= 5, found
    pdf = tmp_path / "student.pdf"
    pdf.write_bytes(document.write_pdf())
    pages = len(document.pages)
    lessons = Item.objects.filter(course=shipped, kind="lesson", archived=False).count()
    assert 2 * lessons < pages < 300, pages  # every lesson takes pages; the book is not blown up

    cover = " ".join(_text(pdf, 1).split())
    assert "Hyper-V architecture in depth" in cover and "Student handbook" in cover and "Page" not in cover
    toc = _toc(pdf)
    assert len(toc) >= lessons + 9 + 2  # every lesson, every module, the lab guide, the glossary
    for title in ("What a hypervisor is, and what changes when you enable Hyper-V", "Lab guide", "Glossary"):
        page = next(number for entry, number in toc.items() if entry.endswith(title))
        body = _text(pdf, page)
        assert title.split(",")[0] in " ".join(body.split()), (title, page)
        assert f"Page {page} of {pages}" in body  # running foot
        assert "Hyper-V architecture in depth" in " ".join(body.split())  # running head
    assert "Answer key" not in _text(pdf, 1, pages), "no answer key in the student handbook"
    middle = toc["Lab guide"]
    made = _pngs(pdf, "student", [1, 2, 5, middle])
    assert all(png.stat().st_size > 5000 for png in made)
    shutil.copy(pdf, ARTEFACTS / "student.pdf")


def test_instructor_handbook_is_built_by_the_task_with_notes_and_keys(shipped: Course, tmp_path: Path) -> None:
    from delivery.tasks import build_handbook

    handbook = Handbook.objects.create(course=shipped, kind=Handbook.Kind.INSTRUCTOR, course_version=shipped.version)
    build_handbook.apply(args=(handbook.pk,))
    handbook.refresh_from_db()
    assert handbook.status == Handbook.Status.READY and handbook.progress == 100, handbook.error
    pdf = tmp_path / "instructor.pdf"
    pdf.write_bytes(bytes(handbook.content))
    assert handbook.size == pdf.stat().st_size and bytes(handbook.content).startswith(b"%PDF-")
    assert 100 < handbook.pages < 400, handbook.pages

    cover = " ".join(_text(pdf, 1).split())
    assert "Instructor handbook" in cover and "instructors of this course's classes only" in cover
    toc = _toc(pdf)
    key = next(entry for entry in toc if entry.startswith("Answer key:"))
    answers = " ".join(_text(pdf, toc[key], toc[key] + 1).split())
    assert "Answer (" in answers
    everything = _text(pdf, 1, handbook.pages)
    assert "Instructor notes (" in everything and "Course overview for instructors" in everything
    made = _pngs(pdf, "instructor", [1, 3, toc[key]])
    assert all(png.stat().st_size > 5000 for png in made)
    shutil.copy(pdf, ARTEFACTS / "instructor.pdf")
