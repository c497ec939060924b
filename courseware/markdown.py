"""Render course Markdown to sanitised HTML at load time: links between items are resolved and checked here.

Python-Markdown with tables, fenced code highlighted by Pygments (CSS classes, no inline styles; see
static/css/pygments.css), admonitions, and heading ids for the table of contents. Every link and image goes
through a resolver; a target it cannot resolve becomes a problem with the line it is on. The result is then
cleaned by nh3 with an explicit allow-list, whatever the Markdown produced.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET  # noqa: S405 - we only walk the tree Markdown built, never parse input with it
from collections.abc import Callable
from dataclasses import dataclass, field

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pygments.token import STANDARD_TYPES

ADMONITION_TYPES = frozenset({"note", "tip", "warning"})

# A resolver gets a link target as written (`lesson:slug`, `images/a.svg`, `https://...`) and whether it is an
# image; it returns the URL to use, or raises BrokenLink with a message for the author.
Resolver = Callable[[str, bool], str]


class BrokenLinkError(Exception):
    """A link or image target that does not resolve; the message is shown to the course author."""


ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre", "span", "div", "a",
        "img", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "blockquote", "sup", "sub", "kbd",
        "dl", "dt", "dd", "del", "abbr",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "ol": {"start"},
    "abbr": {"title"},
}
PYGMENTS_CLASSES = frozenset(cls for cls in STANDARD_TYPES.values() if cls)
ALLOWED_CLASSES = {
    "div": {"admonition", "highlight", *ADMONITION_TYPES},
    "p": {"admonition-title"},
    "span": set(PYGMENTS_CLASSES),
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


def _is_own_image(src: str) -> bool:
    """Images come from the course's images/ folder, served by this site: a path on this host, never another host."""
    return src.startswith("/") and not src.startswith("//")


def sanitise(raw_html: str, refused_images: list[str] | None = None) -> str:
    """Clean HTML with the course allow-list: anything not listed (scripts, styles, event handlers) is removed.

    An <img> whose src is not on this site (raw HTML such as `<img src="https://...">`) loses its src, and the
    src is appended to `refused_images` so the loader can report it.
    """

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not _is_own_image(value):
            if refused_images is not None:
                refused_images.append(value)
            return None
        return value

    cleaned = nh3.clean(
        raw_html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(classes) for tag, classes in ALLOWED_CLASSES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        attribute_filter=attribute_filter,
    )
    # A link whose href was refused (javascript:…) keeps nh3's rel, which HTML allows only with an href.
    return cleaned.replace('<a rel="noopener noreferrer">', "<a>")


@dataclass
class Rendered:
    html: str
    toc: list[dict[str, object]] = field(default_factory=list)
    # (line within the source text, 1-based, or None; message)
    problems: list[tuple[int | None, str]] = field(default_factory=list)


class _LinkTreeprocessor(Treeprocessor):
    def __init__(self, md: markdown.Markdown, owner: MarkdownRenderer) -> None:
        super().__init__(md)
        self.owner = owner

    def run(self, root: ET.Element) -> None:
        for element in root.iter():
            if element.tag == "a" and element.get("href") is not None:
                element.set("href", self.owner._resolve(element.get("href", ""), image=False))
            elif element.tag == "img":
                if not (element.get("alt") or "").strip():
                    self.owner._broken.append((element.get("src", ""), "image has no alt text"))
                element.set("src", self.owner._resolve(element.get("src", ""), image=True))


class _LinkExtension(Extension):
    def __init__(self, owner: MarkdownRenderer) -> None:
        super().__init__()
        self.owner = owner

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Python-Markdown's API name
        # After inline patterns (priority 20) so links exist, before prettify.
        md.treeprocessors.register(_LinkTreeprocessor(md, self.owner), "courseware_links", 15)


_ADMONITION_RE = re.compile(r"^\s*!!!\s*([^\s\"]*)")


class MarkdownRenderer:
    """Renders many documents of one course with one resolver; not thread-safe (Python-Markdown instances are not)."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve
        self._broken: list[tuple[str, str]] = []
        self._md = markdown.Markdown(
            extensions=[
                "tables",
                "fenced_code",
                "codehilite",
                "admonition",
                "toc",
                "sane_lists",
                _LinkExtension(self),
            ],
            extension_configs={
                "codehilite": {"css_class": "highlight", "guess_lang": False, "noclasses": False},
                "toc": {"permalink": False, "toc_depth": "2-3"},
            },
            output_format="html",
        )

    def _resolve(self, target: str, image: bool) -> str:
        try:
            return self.resolve(target, image)
        except BrokenLinkError as error:
            self._broken.append((target, str(error)))
            return ""

    def render(self, text: str) -> Rendered:
        """Render a block of Markdown; problems carry the line within `text` where the target first appears."""
        self._broken = []
        self._md.reset()
        raw = self._md.convert(text)
        problems: list[tuple[int | None, str]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            match = _ADMONITION_RE.match(line)
            if match and match.group(1) not in ADMONITION_TYPES:
                kinds = ", ".join(sorted(ADMONITION_TYPES))
                problems.append((number, f"unknown admonition '!!! {match.group(1)}' (use one of: {kinds})"))
        for target, message in self._broken:
            problems.append((_line_of(text, target), message))
        refused: list[str] = []
        clean = sanitise(raw, refused)
        for src in refused:
            if src:  # an unresolved Markdown image has src "" and is reported above already
                problems.append(
                    (_line_of(text, src), f"image '{src}' is not allowed: images come from the course's images/ folder")
                )
        toc = _flatten_toc(getattr(self._md, "toc_tokens", []))
        return Rendered(html=clean, toc=toc, problems=problems)

    def render_inline(self, text: str) -> Rendered:
        """Render a short text (a choice, a matching item) without the wrapping paragraph."""
        rendered = self.render(text)
        stripped = rendered.html.strip()
        if stripped.startswith("<p>") and stripped.endswith("</p>") and stripped.count("<p>") == 1:
            rendered.html = stripped[3:-4]
        return rendered


def _line_of(text: str, target: str) -> int | None:
    if not target:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if target in line:
            return number
    return None


def _flatten_toc(tokens: list[dict[str, object]]) -> list[dict[str, object]]:
    flat: list[dict[str, object]] = []
    for token in tokens:
        level = int(token["level"])  # type: ignore[call-overload]
        if level in (2, 3):
            flat.append({"level": level, "id": token["id"], "title": html.unescape(str(token["name"]))})
        flat.extend(_flatten_toc(token.get("children", [])))  # type: ignore[arg-type]
    return flat
