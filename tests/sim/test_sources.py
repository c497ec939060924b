"""docs/sources.md is the project's own list of facts: code cites its sections by anchor, never a file outside the
repository ("the fact sheet", shared/hyperv-facts.md), and every anchor cited exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "docs" / "sources.md"
CODE_DIRS = ("labs", "courseware", "classes", "core", "accounts", "config", "tests", "docs")
CITATION = re.compile(r"docs/sources\.md#([a-z0-9-]+)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")


def _anchors() -> set[str]:
    return {_anchor(line.lstrip("#")) for line in SOURCES.read_text().splitlines() if line.startswith("## ")}


def _code_files() -> list[Path]:
    files: list[Path] = []
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".yaml", ".html", ".js"} and "golden" not in path.parts:
                files.append(path)
    return files


def test_every_cited_anchor_exists() -> None:
    anchors = _anchors()
    assert {"crossings", "backup", "guests", "quick-migration", "migration-network", "memory-translation"} <= anchors
    missing = [
        f"{path.relative_to(ROOT)}: #{anchor}"
        for path in _code_files()
        for anchor in CITATION.findall(path.read_text(encoding="utf-8", errors="replace"))
        if anchor not in anchors
    ]
    assert not missing, "citations of sections docs/sources.md does not have:\n" + "\n".join(missing)


def test_the_simulator_and_its_tests_cite_no_file_outside_the_repository() -> None:
    outside = re.compile(r"fact sheet|hyperv-facts|shared/seeds", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("labs", "tests/sim", "tests/labs")
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__) and outside.search(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, offenders
