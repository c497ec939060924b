"""The apps stack core, accounts -> courseware -> labs -> classes: a lower app never imports a higher one, and its
templates neither load a higher app's tags nor post to its URLs (docs: STYLE "Layering"; core.access)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HIGHER = {
    "core": {"courseware", "labs", "classes", "lti"},
    "courseware": {"labs", "classes", "lti"},
    "labs": {"classes", "lti"},
    "classes": {"lti"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("app", sorted(HIGHER))
def test_a_lower_app_imports_no_higher_app(app: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(_imports(path) & HIGHER[app])}"
        for path in sorted((ROOT / app).rglob("*.py"))
        if _imports(path) & HIGHER[app]
    ]
    assert not offenders


def test_labs_imports_no_private_name_of_courseware() -> None:
    private = re.compile(r"from courseware\.\w+ import [^\n]*\b_\w+")
    assert not [p for p in (ROOT / "labs").rglob("*.py") if private.search(p.read_text())]


@pytest.mark.parametrize("folder", ["courseware", "labs"])
def test_lower_templates_load_no_classes_tags_and_post_to_no_classes_url(folder: str) -> None:
    for path in sorted((ROOT / "templates" / folder).rglob("*.html")):
        text = path.read_text()
        assert not re.search(r"{%\s*load[^%]*\bclasses_", text), path
        assert not re.search(r"action=\"{%\s*url\s+'classes:", text), path
