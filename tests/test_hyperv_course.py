"""The shipped Hyper-V course: it validates, it is as large as promised, it loads, and every lab is solvable."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from labs.models import Lab

COURSE = Path(__file__).resolve().parent.parent / "courseware" / "content" / "hyperv"


def test_check_course_passes_and_reports_the_promised_size() -> None:
    out = StringIO()
    call_command("check_course", str(COURSE), "--json", stdout=out)
    summary = json.loads(out.getvalue())
    counts = summary.get("counts", summary)
    assert counts["modules"] >= 9
    assert counts["lessons"] >= 36
    assert counts["quizzes"] >= 9
    assert counts["questions"] >= 90
    assert counts["labs"] >= 6


@pytest.mark.django_db
def test_every_lab_of_the_loaded_course_passes_lab_solve(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("load_course", str(COURSE))
    slugs = sorted(
        Lab.objects.filter(item__course__slug="hyperv", item__archived=False).values_list("item__slug", flat=True)
    )
    assert len(slugs) >= 6
    for slug in slugs:
        call_command("lab_solve", slug, "--course", "hyperv")
        assert f"{slug}: Passed" in capsys.readouterr().out
