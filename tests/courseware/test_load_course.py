"""load_course: validates first and writes nothing on a problem; re-loading keeps progress by stable slugs."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from courseware import content, services
from courseware.content import CourseSpec, LabSpec
from courseware.models import Course, CourseImage, Item, Lesson, Module, Progress, Quiz, QuizAttempt
from tests.courseware.conftest import BROKEN, SAMPLE, lab_title_only

pytestmark = pytest.mark.django_db


def _table_sizes() -> dict[str, int]:
    models = (Course, Module, Item, Lesson, Quiz, CourseImage, Progress, QuizAttempt)
    return {model.__name__: model.objects.count() for model in models}


def test_loading_the_sample_course_stores_modules_and_items_in_teaching_order() -> None:
    out = StringIO()
    call_command("load_course", str(SAMPLE), stdout=out)
    assert "Created sample 1.0" in out.getvalue()
    course = Course.objects.get(slug="sample")
    assert course.version == "1.0" and course.source_path == str(SAMPLE.resolve())
    assert "<strong>every feature</strong>" in course.summary_html
    assert list(course.modules.values_list("slug", flat=True)) == ["basics", "devices", "review"]
    assert list(course.items.values_list("slug", "kind")) == [
        ("intro", "lesson"),
        ("partitions", "lesson"),
        ("basics-quiz", "quiz"),
        ("synthetic-devices", "lesson"),
        ("devices-quiz", "quiz"),
        ("io-trap-trace", "lab"),
        ("wrap-up", "lesson"),
        ("final-exam", "quiz"),
        ("secret-quiz", "quiz"),
    ]
    assert Item.objects.get(slug="io-trap-trace").title == "Trace an I/O trap"
    quiz = Quiz.objects.get(item__slug="basics-quiz")
    assert (quiz.pass_mark, quiz.attempts_allowed, quiz.show_answers, quiz.shuffle) == (
        60,
        0,
        "after_each_attempt",
        True,
    )
    assert quiz.max_points == 4.0
    assert [term["slug"] for term in course.glossary] == ["hypervisor", "root-partition", "vmbus"]
    assert "OVERVIEW-SECRET" in course.instructor_overview_html
    assert set(CourseImage.objects.values_list("path", "content_type")) == {
        ("partitions.svg", "image/svg+xml"),
        ("dot.png", "image/png"),
    }


def test_lessons_are_stored_as_html_with_their_table_of_contents() -> None:
    services.course_load(SAMPLE)
    lesson = Lesson.objects.get(item__slug="intro")
    assert lesson.minutes == 10 and lesson.objectives[0] == "Describe what a hypervisor does."
    assert '<h2 id="what-a-hypervisor-owns">' in lesson.body_html
    assert lesson.toc == [
        {"level": 2, "id": "what-a-hypervisor-owns", "title": "What a hypervisor owns"},
        {"level": 3, "id": "components", "title": "Components"},
        {"level": 2, "id": "checking-the-role", "title": "Checking the role"},
    ]
    assert "NOTES-SECRET-INTRO" in lesson.instructor_notes_html and "NOTES-SECRET" not in lesson.body_html


def test_a_broken_course_exits_non_zero_lists_every_problem_and_changes_nothing(alice: User) -> None:
    services.course_load(SAMPLE)
    Progress.objects.create(
        user=alice, item=Item.objects.get(slug="intro"), status="completed", last_activity_at="2026-01-01T00:00Z"
    )
    before = _table_sizes()
    err = StringIO()
    with pytest.raises(CommandError, match="13 problem"):
        call_command("load_course", str(BROKEN), stderr=err)
    assert len(err.getvalue().splitlines()) == 13
    assert "course.yaml:4: unknown field 'author'" in err.getvalue()
    assert _table_sizes() == before
    assert not Course.objects.filter(slug="broken").exists()


def test_a_broken_edit_of_a_loaded_course_leaves_the_loaded_version_untouched(sample_copy: Path) -> None:
    services.course_load(sample_copy)
    (sample_copy / "course.yaml").write_text((sample_copy / "course.yaml").read_text().replace('"1.0"', '"2.0"'))
    (sample_copy / "01-basics" / "intro.md").write_text("no front matter")
    with pytest.raises(services.CourseInvalidError):
        services.course_load(sample_copy)
    assert Course.objects.get(slug="sample").version == "1.0"
    assert "hypervisor" in Lesson.objects.get(item__slug="intro").body_html


def test_reloading_an_edited_course_keeps_progress_archives_removed_items_and_records_the_version(
    sample_copy: Path, alice: User
) -> None:
    services.course_load(sample_copy)
    intro = Item.objects.get(slug="intro")
    wrap_up = Item.objects.get(slug="wrap-up")
    services.lesson_mark_complete(alice, intro)
    services.lesson_mark_complete(alice, wrap_up)
    quiz = Quiz.objects.get(item__slug="basics-quiz")
    attempt = services.quiz_attempt_start(alice, quiz)
    services.quiz_attempt_submit(attempt, {"q.drivers": "partitions"})

    # Edit: new version, intro retitled, wrap-up renamed (a new slug), module order changed.
    course_yaml = sample_copy / "course.yaml"
    course_yaml.write_text(course_yaml.read_text().replace('"1.0"', '"1.1"'))
    intro_md = sample_copy / "01-basics" / "intro.md"
    intro_md.write_text(
        intro_md.read_text().replace("title: Introduction to the hypervisor", "title: Meet the hypervisor")
    )
    wrap_md = sample_copy / "03-review" / "wrap-up.md"
    wrap_md.write_text(wrap_md.read_text().replace("slug: wrap-up", "slug: summary"))
    module_yaml = sample_copy / "03-review" / "module.yaml"
    module_yaml.write_text(module_yaml.read_text().replace("lesson: wrap-up", "lesson: summary"))

    out = StringIO()
    call_command("load_course", str(sample_copy), stdout=out)
    assert "Updated (was 1.0) sample 1.1" in out.getvalue()
    assert "Archived (progress kept): wrap-up" in out.getvalue()

    assert Course.objects.get().version == "1.1"
    intro.refresh_from_db()
    assert intro.title == "Meet the hypervisor" and not intro.archived
    wrap_up.refresh_from_db()
    assert wrap_up.archived
    assert Item.objects.get(slug="summary").position == wrap_up.position
    assert Progress.objects.get(user=alice, item=intro).status == "completed"
    assert Progress.objects.get(user=alice, item=wrap_up).status == "completed"
    assert QuizAttempt.objects.get(user=alice).quiz_id == quiz.pk
    assert Progress.objects.get(user=alice, item__slug="basics-quiz").attempts == 1
    # The archived item is hidden from the outline and no longer counts towards the course percentage.
    state = services.progress_for_course(alice, Course.objects.get())
    assert "wrap-up" not in [s.item.slug for m in state.modules for s in m.items]
    assert state.total == 9


def test_an_item_that_comes_back_is_unarchived_with_its_progress(sample_copy: Path, alice: User) -> None:
    services.course_load(sample_copy)
    services.lesson_mark_complete(alice, Item.objects.get(slug="wrap-up"))
    backup = sample_copy.parent / "review-backup"
    shutil.copytree(sample_copy / "03-review", backup)
    module_yaml = sample_copy / "03-review" / "module.yaml"
    module_yaml.write_text(module_yaml.read_text().replace("  - lesson: wrap-up\n", ""))
    (sample_copy / "03-review" / "wrap-up.md").unlink()
    services.course_load(sample_copy)
    assert Item.objects.get(slug="wrap-up").archived
    shutil.rmtree(sample_copy / "03-review")
    shutil.copytree(backup, sample_copy / "03-review")
    services.course_load(sample_copy)
    item = Item.objects.get(slug="wrap-up")
    assert not item.archived and Progress.objects.get(user=alice, item=item).is_completed


def test_reloading_the_same_folder_changes_no_identities() -> None:
    services.course_load(SAMPLE)
    ids = dict(Item.objects.values_list("slug", "pk"))
    report = services.course_load(SAMPLE)
    assert not report.created and report.archived_items == []
    assert dict(Item.objects.values_list("slug", "pk")) == ids
    assert CourseImage.objects.count() == 2


def _store_with(monkeypatch: pytest.MonkeyPatch, store: object) -> None:
    monkeypatch.setattr(content, "_lab_hooks", content.LabHooks(validate=lab_title_only, store=store))  # type: ignore[arg-type]


def test_the_lab_hook_stores_each_lab_item_inside_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str, str]] = []

    def loader(item: Item, lab: LabSpec, course: CourseSpec) -> None:
        calls.append((item.slug, lab.title, course.slug))
        assert Item.objects.filter(pk=item.pk).exists()

    _store_with(monkeypatch, loader)
    services.course_load(SAMPLE)
    assert calls == [("io-trap-trace", "Trace an I/O trap", "sample")]


def test_a_failing_lab_store_rolls_the_whole_load_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def loader(item: Item, lab: LabSpec, course: CourseSpec) -> None:
        raise RuntimeError("labs app failed")

    _store_with(monkeypatch, loader)
    with pytest.raises(RuntimeError):
        services.course_load(SAMPLE)
    assert Course.objects.count() == 0 and Item.objects.count() == 0
