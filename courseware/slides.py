"""Split a lesson's Markdown into presentation slides at load time (docs/course-format.md, "Slides").

A slide starts at every `##` heading; `<!-- slide -->` on a line of its own starts another slide within the same
section; an image alone on its line gets a slide of its own (the text after it goes on the next one);
`<!-- notes ... -->` holds presenter-only Markdown for the slide it is in. Both markers are HTML comments, so the
lesson page (whose HTML is sanitised with comments removed) never shows them. Markers inside fenced code are text.

`lesson_slides(lesson, renderer, problems)` is the loader's one call: it renders every slide and its notes once and
returns the list stored on `Lesson.slides`; structural problems (an unclosed notes block, an empty slide, a marker
that is not on a line of its own) and broken links inside notes are appended to `problems` with file and line.
Links in slide bodies are already checked when the whole body is rendered, so their problems are not repeated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from courseware.content import LessonSpec, Problem
    from courseware.markdown import MarkdownRenderer

SLIDE_RE = re.compile(r"^<!--\s*slide\s*-->\s*$")
NOTES_OPEN_RE = re.compile(r"^<!--\s*notes\s*$")
NOTES_INLINE_RE = re.compile(r"^<!--\s*notes:(?P<text>.*)-->\s*$")
NOTES_CLOSE_RE = re.compile(r"^-->\s*$")
# Anything that looks like one of our markers but is not exactly one (indented, misspelt, or with extra words).
MARKER_LIKE_RE = re.compile(r"^\s*<!--\s*(slide|notes)", re.IGNORECASE)
FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING_RE = re.compile(r"^##\s+(?P<title>.+?)\s*#*\s*$")
# An image alone on its line is a diagram: it gets a slide of its own, as large as the screen allows.
DIAGRAM_RE = re.compile(r"^!\[[^\]]*\]\([^)\s]+(\s+\"[^\"]*\")?\)\s*$")


@dataclass
class _Draft:
    title: str
    kind: str  # "title" (before the first ## heading) | "section" | "continued" | "diagram"
    line: int  # 1-based line in the file where the slide starts
    body: list[str] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)  # (line in file where the notes start, Markdown)


def split_slides(body_md: str, body_offset: int, file: str, title: str) -> tuple[list[_Draft], list[tuple[int, str]]]:
    """The slides of a lesson body and the structural problems as (line in file, message); Markdown not rendered."""
    problems: list[tuple[int, str]] = []
    drafts = [_Draft(title=title, kind="title", line=body_offset + 1)]
    fence: str | None = None
    notes_start: int | None = None
    notes_lines: list[str] = []
    after_diagram = False
    for number, line in enumerate(body_md.splitlines(), start=body_offset + 1):
        current = drafts[-1]
        if notes_start is not None:
            if NOTES_CLOSE_RE.match(line):
                current.notes.append((notes_start, "\n".join(notes_lines)))
                notes_start, notes_lines = None, []
            elif "-->" in line:
                problems.append((number, "close presenter notes with '-->' on a line of its own"))
            else:
                notes_lines.append(line)
            continue
        if after_diagram and line.strip() and not _is_marker(line):
            # Text after a diagram goes on the next slide, so the diagram keeps the whole screen.
            drafts.append(_Draft(title=_section_title(drafts), kind="continued", line=number))
            current = drafts[-1]
            after_diagram = False
        fence_match = FENCE_RE.match(line)
        if fence is not None:
            if fence_match and fence_match.group(1)[0] == fence[0] and len(fence_match.group(1)) >= len(fence):
                fence = None
            current.body.append(line)
            continue
        if fence_match:
            fence = fence_match.group(1)
            current.body.append(line)
            continue
        heading = HEADING_RE.match(line)
        if heading:
            drafts.append(_Draft(title=_plain(heading.group("title")), kind="section", line=number, body=[line]))
            after_diagram = False
            continue
        if SLIDE_RE.match(line):
            after_diagram = False
            drafts.append(_Draft(title=_section_title(drafts), kind="continued", line=number))
            continue
        if DIAGRAM_RE.match(line):
            if _has_content(current):
                drafts.append(_Draft(title=_section_title(drafts), kind="diagram", line=number, body=[line]))
            else:  # the slide so far is only its heading: the diagram stays on it
                current.body.append(line)
                current.kind = "diagram" if current.kind == "section" else current.kind
            after_diagram = True
            continue
        inline = NOTES_INLINE_RE.match(line)
        if inline:
            current.notes.append((number, inline.group("text").strip()))
            continue
        if NOTES_OPEN_RE.match(line):
            notes_start, notes_lines = number, []
            continue
        if MARKER_LIKE_RE.match(line):
            problems.append(
                (number, "unknown slide marker: write '<!-- slide -->' or '<!-- notes' ... '-->' at a line's start")
            )
        current.body.append(line)
    if notes_start is not None:
        problems.append((notes_start, "presenter notes opened with '<!-- notes' are never closed with '-->'"))
    for draft in drafts:
        if draft.kind == "continued" and not "\n".join(draft.body).strip():
            problems.append((draft.line, "empty slide: '<!-- slide -->' is followed by no content before the next one"))
    for draft in drafts:
        for line, text in draft.notes:
            if not text.strip():
                problems.append((line, "empty presenter notes"))
    return drafts, problems


def _is_marker(line: str) -> bool:
    """A line that starts its own slide or holds notes: it never pushes text after a diagram to a new slide."""
    return any(regex.match(line) for regex in (HEADING_RE, SLIDE_RE, DIAGRAM_RE, NOTES_OPEN_RE, NOTES_INLINE_RE))


def _section_title(drafts: list[_Draft]) -> str:
    """The title of the section the last slide is in (a section's later slides repeat it)."""
    return drafts[-1].title


def _has_content(draft: _Draft) -> bool:
    """Whether a slide has anything but its own ## heading and blank lines."""
    return any(line.strip() and not HEADING_RE.match(line) for line in draft.body)


def _plain(heading: str) -> str:
    """A heading's text without the inline Markdown that would show as punctuation on a slide title."""
    return re.sub(r"[*_`]", "", heading).strip()


def lesson_slides(lesson: LessonSpec, renderer: MarkdownRenderer, problems: list[Problem]) -> list[dict[str, Any]]:
    """Render a lesson's slides: [{title, kind, html, notes_html}] in order; problems are appended with file:line."""
    from courseware.content import Problem

    drafts, structural = split_slides(lesson.body_md, lesson.body_offset, lesson.file, lesson.title)
    problems.extend(Problem(lesson.file, line, message) for line, message in structural)
    slides: list[dict[str, Any]] = []
    for draft in drafts:
        body = "\n".join(draft.body).strip()
        if draft.kind == "title":
            html = renderer.render(body).html if body else ""
        else:
            # The section heading becomes the slide's title; the body keeps its ### sub-headings.
            html = renderer.render(re.sub(r"^##\s+.*\n?", "", body, count=1)).html if body else ""
        notes_html = []
        for line, text in draft.notes:
            rendered = renderer.render(text)
            for within, message in rendered.problems:
                problems.append(Problem(lesson.file, line + within if within else line, message))
            notes_html.append(rendered.html)
        slides.append({"title": draft.title, "kind": draft.kind, "html": html, "notes_html": "\n".join(notes_html)})
    return slides
