"""Lab folders: validated with file and line, loaded by load_course, and every shipped lab is solvable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labs.content import validate_lab_folder
from labs.models import Lab
from tests.labs.conftest import SHIPPED_LABS

SHIPPED = sorted(p.name for p in SHIPPED_LABS.iterdir() if (p / "lab.yaml").is_file())


@pytest.mark.parametrize("slug", SHIPPED)
def test_every_shipped_lab_validates(slug: str) -> None:
    problems, lab = validate_lab_folder(SHIPPED_LABS / slug)
    assert problems == []
    assert lab is not None and lab.max_points > 0 and lab.definition["solve"]


def _broken_lab(tmp_path: Path) -> Path:
    folder = tmp_path / "broken-lab"
    shutil.copytree(SHIPPED_LABS / "azman-scopes", folder)
    text = (folder / "lab.yaml").read_text()
    text = text.replace("slug: azman-scopes", "slug: azman-scopes\ncolour: blue")
    text = text.replace("  - id: least-privilege", "  - id: least-privilege\n    bogus: 1")
    text = text.replace(
        'access: {user: "${operator}", operation: Delete', 'acess: {user: "${operator}", operation: Delete'
    )
    text = text.replace(
        "  - azman create scope Finance", "  - azman create scop Finance\n  - io write 1KB on ${nobody}"
    )
    (folder / "lab.yaml").write_text(text)
    return folder


def test_a_broken_lab_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    problems, _ = validate_lab_folder(_broken_lab(tmp_path))
    messages = [p.message for p in problems]
    assert any("unknown key 'colour'" in m for m in messages)
    assert any("slug 'azman-scopes' must equal the folder name 'broken-lab'" in m for m in messages)
    assert any("check 'least-privilege': unknown key 'bogus'" in m for m in messages)
    assert any("unknown predicate 'acess'" in m for m in messages)
    assert any("'${nobody}' is used but no variant named 'nobody' is declared" in m for m in messages)
    colour = next(p for p in problems if "colour" in p.message)
    assert colour.file == "labs/broken-lab/lab.yaml" and colour.line == 2


def test_a_scenario_that_does_not_build_and_a_solve_line_that_does_not_parse_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "io-trap-trace"
    shutil.copytree(SHIPPED_LABS / "io-trap-trace", folder)
    text = (folder / "lab.yaml").read_text()
    text = text.replace("memory_mb: 512", "memory_mb: -5").replace(
        "  - io write 100KB on ${legacy_vm}", "  - io wrte 100KB"
    )
    (folder / "lab.yaml").write_text(text)
    problems, _ = validate_lab_folder(folder)
    assert any("does not build on the simulator" in p.message and "memory_mb" in p.message for p in problems)
    assert any("solve line 'io wrte 100KB' does not parse" in p.message for p in problems)


def test_yaml_errors_are_reported_with_their_line(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "lab.yaml").write_text("slug: bad\ntitle: [unclosed\n")
    problems, lab = validate_lab_folder(folder)
    assert lab is None and problems[0].message.startswith("YAML error") and problems[0].line is not None


def test_load_course_stores_labs_with_rendered_manuals(lab_course: dict[str, Lab]) -> None:
    lab = lab_course["azman-scopes"]
    assert lab.max_points == 11
    assert "<h2" in lab.manual_html and "<script" not in lab.manual_html
    assert lab.definition["tasks_html"][0].startswith("Create a scope named <strong>Finance</strong>")
    assert lab.answer_key_html


@pytest.mark.parametrize("slug", ["io-trap-trace", "azman-scopes"])
def test_lab_solve_passes_for_the_shipped_labs(
    lab_course: dict[str, Lab], slug: str, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("lab_solve", slug, "--seed", "11")
    out = capsys.readouterr().out
    assert f"{slug}: Passed" in out
    assert "✖" not in out


def test_lab_solve_fails_when_a_solve_line_is_missing(lab_course: dict[str, Lab]) -> None:
    lab = lab_course["azman-scopes"]
    lab.definition["solve"] = lab.definition["solve"][:-3]
    lab.save()
    with pytest.raises(CommandError, match="not every check passes"):
        call_command("lab_solve", "azman-scopes")


def test_lab_solve_leaves_no_learner_behind(lab_course: dict[str, Lab]) -> None:
    from accounts.models import User

    call_command("lab_solve", "io-trap-trace")
    assert not User.objects.filter(username__startswith="lab-solve-").exists()


def test_lab_solve_of_an_unknown_lab_says_how_to_load_it(db: None) -> None:
    with pytest.raises(CommandError, match="Load its course first"):
        call_command("lab_solve", "no-such-lab")


def test_the_sample_course_loads_with_the_labs_app_in_place(db: None) -> None:
    call_command("load_course", str(Path(__file__).resolve().parents[1] / "fixtures" / "sample-course"))
    lab = Lab.objects.get(item__course__slug="sample", item__slug="io-trap-trace")
    assert lab.title == "Trace an I/O trap" and lab.max_points == 11
