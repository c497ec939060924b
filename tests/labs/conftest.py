"""A small course holding the shipped labs, loaded through load_course, for the labs tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

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


def historical_lab(apps: Any, max_points: int = 0) -> tuple[Any, Any]:
    """A lab and its item in a course, made with a migration state's models (`apps`): the rows a data migration
    test starts from. Returns (lab, item)."""
    course = apps.get_model("courseware", "Course").objects.create(
        slug="c", title="C", version="1", source_path="/x", loaded_at=timezone.now()
    )
    module = apps.get_model("courseware", "Module").objects.create(course=course, slug="m", position=1, title="M")
    item = apps.get_model("courseware", "Item").objects.create(
        course=course, module=module, kind="lab", slug="lab", position=1, title="Lab"
    )
    lab = apps.get_model("labs", "Lab").objects.create(
        item=item, version="1", manual_html="", definition={}, max_points=max_points
    )
    return lab, item


def migrate_to(targets: list[tuple[str, str]]) -> Any:
    """Migrate the test database to `targets` (app, migration) and return that state's models (`apps`)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    """Leave the schema as every other test expects it."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
