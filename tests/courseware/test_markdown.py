"""Markdown is rendered at load with tables, highlighted code, admonitions and heading ids, then sanitised by nh3."""

from __future__ import annotations

import pytest

from courseware.markdown import BrokenLinkError, MarkdownRenderer, sanitise
from courseware.models import Lesson, item_path


def _resolve(target: str, image: bool) -> str:
    if target.startswith("lesson:ok"):
        return "/lessons/ok/" + (target.partition("#")[2] and "#" + target.partition("#")[2])
    if image and target == "images/ok.svg":
        return "/images/ok.svg"
    if target.startswith("https:"):
        return target
    raise BrokenLinkError(f"broken '{target}'")


@pytest.fixture
def renderer() -> MarkdownRenderer:
    return MarkdownRenderer(_resolve)


def test_tables_code_and_admonitions_render_with_classes_not_inline_styles(renderer: MarkdownRenderer) -> None:
    text = "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nx = 1\n```\n\n!!! warning\n    Careful.\n"
    html = renderer.render(text).html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<div class="highlight">' in html and '<span class="n">x</span>' in html
    assert '<div class="admonition warning">' in html and '<p class="admonition-title">Warning</p>' in html
    assert "style=" not in html


def test_headings_get_ids_and_a_flat_table_of_contents(renderer: MarkdownRenderer) -> None:
    rendered = renderer.render("## First & foremost\n\ntext\n\n### Deeper\n\n#### Too deep\n")
    assert '<h2 id="first-foremost">First &amp; foremost</h2>' in rendered.html
    assert rendered.toc == [
        {"level": 2, "id": "first-foremost", "title": "First & foremost"},
        {"level": 3, "id": "deeper", "title": "Deeper"},
    ]


def test_links_and_images_are_resolved_and_broken_ones_reported_with_their_line(renderer: MarkdownRenderer) -> None:
    text = "[ok](lesson:ok#part)\n\nline two\n\n[bad](lesson:gone) and ![pic](images/ok.svg)\n\n![](images/none.svg)\n"
    rendered = renderer.render(text)
    assert '<a href="/lessons/ok/#part"' in rendered.html
    assert '<img alt="pic" src="/images/ok.svg">' in rendered.html
    assert (5, "broken 'lesson:gone'") in rendered.problems
    assert (7, "image has no alt text") in rendered.problems
    assert (7, "broken 'images/none.svg'") in rendered.problems


def test_only_note_tip_and_warning_admonitions_are_allowed(renderer: MarkdownRenderer) -> None:
    rendered = renderer.render("text\n\n!!! danger\n    No.\n")
    assert rendered.problems == [(3, "unknown admonition '!!! danger' (use one of: note, tip, warning)")]


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<iframe src="https://example.com"></iframe>',
        '<div style="position:fixed">x</div>',
        '<svg onload="alert(1)"></svg>',
        '<form action="/x"><input name="q"></form>',
    ],
)
def test_raw_html_is_sanitised(renderer: MarkdownRenderer, attack: str) -> None:
    html = renderer.render(f"Text.\n\n{attack}\n").html
    for needle in ("<script", "onerror", "javascript:", "<iframe", "style=", "onload", "<form", "<input", "alert(1)</"):
        assert needle not in html


def test_the_sanitiser_keeps_only_known_classes_and_attributes() -> None:
    assert sanitise('<div class="admonition evil">x</div>') == '<div class="admonition">x</div>'
    assert sanitise('<span class="k nope" id="x">if</span>') == '<span class="k">if</span>'
    assert sanitise('<h2 id="a" onclick="x()">T</h2>') == '<h2 id="a">T</h2>'
    assert (
        sanitise('<a href="https://e.com" target="_blank">l</a>')
        == '<a href="https://e.com" rel="noopener noreferrer">l</a>'
    )


def test_inline_rendering_drops_the_paragraph(renderer: MarkdownRenderer) -> None:
    assert renderer.render_inline("In **the** root").html == "In <strong>the</strong> root"


@pytest.mark.django_db
def test_the_sample_course_lesson_html_is_stored_sanitised(sample_course: object) -> None:
    html = Lesson.objects.get(item__slug="intro").body_html
    assert "<script" not in html and 'alert("xss")' not in html and "javascript:" not in html and "onclick" not in html
    assert '<img alt="Root and child partitions" src="/courses/sample/images/partitions.svg?v=1.0">' in html
    assert 'href="/courses/sample/lessons/partitions/"' in html
    assert 'href="/courses/sample/quizzes/basics-quiz/"' in html
    assert 'href="/courses/sample/glossary/#term-hypervisor"' in html
    partitions = Lesson.objects.get(item__slug="partitions").body_html
    assert 'href="/courses/sample/lessons/intro/#what-a-hypervisor-owns"' in partitions
    # The labs app's `labs:lab` page when it is installed, else the lab's entry in the outline.
    assert f'href="{item_path("sample", "lab", "io-trap-trace")}"' in partitions
