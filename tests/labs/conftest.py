"""A small course holding the shipped labs, loaded through load_course, for the labs tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from courseware.services import course_load
from labs.models import Lab

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_LABS = ROOT / "courseware" / "content" / "hyperv" / "labs"

COURSE_YAML = """slug: lab-course
title: Lab course
version: "1"
summary: Labs under test.
audience: Tests.
modules:
  - 01-labs
"""
MODULE_YAML = """slug: labs
title: Labs
summary: The shipped labs.
items:
  - lesson: intro
{items}
"""
LESSON = """---
slug: intro
title: Introduction
minutes: 5
objectives:
  - Find the labs.
instructor_notes: Nothing special.
---
See [the trace lab](lab:io-trap-trace).
"""


def build_lab_course(folder: Path, slugs: list[str]) -> Path:
    """Write a one-module course whose items are the given shipped labs; return its folder."""
    (folder / "01-labs").mkdir(parents=True)
    (folder / "course.yaml").write_text(COURSE_YAML)
    items = "\n".join(f"  - lab: {slug}" for slug in slugs)
    (folder / "01-labs" / "module.yaml").write_text(MODULE_YAML.format(items=items))
    (folder / "01-labs" / "intro.md").write_text(LESSON)
    for slug in slugs:
        shutil.copytree(SHIPPED_LABS / slug, folder / "labs" / slug)
    return folder


@pytest.fixture
def lab_course(db: None, tmp_path: Path) -> dict[str, Lab]:
    folder = build_lab_course(tmp_path / "lab-course", ["io-trap-trace", "azman-scopes"])
    course_load(folder)
    return {lab.item.slug: lab for lab in Lab.objects.select_related("item__course")}


@pytest.fixture
def io_lab(lab_course: dict[str, Lab]) -> Lab:
    return lab_course["io-trap-trace"]


@pytest.fixture
def azman_lab(lab_course: dict[str, Lab]) -> Lab:
    return lab_course["azman-scopes"]
