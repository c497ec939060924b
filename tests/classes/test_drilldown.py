"""Drill-down: replaying a student's lab attempt (only the class's instructors and staff), the student's quiz
answers, resets with a logged reason, and the failure-mode heatmap of a lab."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from classes import dashboard, services
from classes.models import Class, ResetLog
from courseware import services as cw_services
from courseware.models import Course, Progress, Quiz, QuizAttempt
from labs import services as lab_services
from labs.models import Lab, LabAttempt, LabRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(course: Course) -> Lab:
    return Lab.objects.get(item__course=course, item__slug="io-trap-trace")


def _check_run(attempt: LabAttempt, failing: dict[str, str], status: str = "failed") -> LabRun:
    checks = [
        {"id": c["id"], "title": c["title"], "passed": c["id"] not in failing, "message": failing.get(c["id"], "")}
        for c in attempt.lab.definition["checks"]
    ]
    return LabRun.objects.create(attempt=attempt, kind="check", upto_seq=0, status=status, result={"checks": checks})


def test_replay_is_for_the_class_instructors_and_staff_only(
    alice_in_class: Class, alice: User, bob: User, lab: Lab, ian_client: Client, olga_client: Client,
    stan_client: Client, alice_client: Client,
) -> None:  # fmt: skip
    attempt = lab_services.lab_attempt_current(alice, lab)
    url = reverse("classes:replay", kwargs={"attempt_id": attempt.pk})
    assert ian_client.get(url).status_code == 200
    assert stan_client.get(url).status_code == 200
    assert olga_client.get(url).status_code == 404
    assert alice_client.get(url).status_code == 403
    bobs = lab_services.lab_attempt_current(bob, lab)  # bob is in no class of ian's
    assert ian_client.get(reverse("classes:replay", kwargs={"attempt_id": bobs.pk})).status_code == 404


def test_a_class_on_another_course_does_not_open_this_courses_attempts(
    tmp_path: Any, alice: User, ian: User, ian_client: Client, lab: Lab
) -> None:
    from courseware.services import course_load
    from tests.classes.conftest import build_class_course, make_class

    other_folder = build_class_course(tmp_path / "other")
    (other_folder / "course.yaml").write_text(
        (other_folder / "course.yaml").read_text().replace("slug: sample", "slug: other")
    )
    other = course_load(other_folder).course
    services.membership_add(make_class(ian, other), alice, "csv")
    attempt = lab_services.lab_attempt_current(alice, lab)
    assert ian_client.get(reverse("classes:replay", kwargs={"attempt_id": attempt.pk})).status_code == 404


def test_the_drill_down_shows_progress_lab_attempts_and_quiz_answers(
    alice_in_class: Class, alice: User, lab: Lab, course: Course, ian_client: Client
) -> None:
    lab_services.lab_attempt_current(alice, lab)
    quiz = Quiz.objects.get(item__course=course, item__slug="basics-quiz")
    attempt = cw_services.quiz_attempt_start(alice, quiz)
    question = quiz.questions[0]
    cw_services.quiz_attempt_submit(attempt, {})
    html = ian_client.get(reverse("classes:student", args=[alice_in_class.pk, alice.pk])).content.decode()
    assert "Replay the action log" in html and lab.item.title in html and "In progress (lab open)" in html
    assert "Attempt 1:" in html and question["prompt_html"][:20] in html


def test_resetting_a_lab_attempt_keeps_it_and_logs_the_reason(
    alice_in_class: Class, alice: User, ian: User, lab: Lab, ian_client: Client
) -> None:
    attempt = lab_services.lab_attempt_current(alice, lab)
    url = reverse("classes:reset", args=[alice_in_class.pk, alice.pk, "lab"])
    refused = ian_client.post(url, {"item": "io-trap-trace", "reason": ""})
    assert refused.status_code == 303 and not ResetLog.objects.exists()
    response = ian_client.post(url, {"item": "io-trap-trace", "reason": "wrong VM deleted"})
    assert response.status_code == 303
    attempt.refresh_from_db()
    assert attempt.status == LabAttempt.Status.RESET and "wrong VM deleted" in attempt.reset_reason
    assert LabAttempt.objects.filter(user=alice, status="active").count() == 1
    log = ResetLog.objects.get()
    assert (log.kind, log.reason, log.instructor, log.student) == ("lab", "wrong VM deleted", ian, alice)
    assert (
        "wrong VM deleted"
        in ian_client.get(reverse("classes:student", args=[alice_in_class.pk, alice.pk])).content.decode()
    )


def test_resetting_quiz_attempts_lets_the_student_start_again(
    alice_in_class: Class, alice: User, course: Course, ian_client: Client
) -> None:
    quiz = Quiz.objects.get(item__course=course, item__slug="basics-quiz")
    cw_services.quiz_attempt_submit(cw_services.quiz_attempt_start(alice, quiz), {})
    url = reverse("classes:reset", args=[alice_in_class.pk, alice.pk, "quiz"])
    assert ian_client.post(url, {"item": "basics-quiz", "reason": "fire alarm mid-quiz"}).status_code == 303
    archived = QuizAttempt.objects.get(user=alice)  # kept, with its answers, but no longer counted
    assert archived.archived_at is not None and "ian" in archived.archived_note
    assert "fire alarm mid-quiz" in archived.archived_note and alice_in_class.title in archived.archived_note
    assert cw_services.quiz_attempt_start(alice, quiz).number == 2
    progress = Progress.objects.get(user=alice, item=quiz.item)
    assert progress.attempts == 0 and progress.score_percent is None
    log = ResetLog.objects.get()
    assert log.kind == "quiz" and log.detail["attempts"][0]["number"] == 1


def test_a_reset_of_a_student_outside_the_class_is_404(
    alice_in_class: Class, bob: User, ian_client: Client, course: Course
) -> None:
    url = reverse("classes:reset", args=[alice_in_class.pk, bob.pk, "quiz"])
    assert ian_client.post(url, {"item": "basics-quiz", "reason": "x"}).status_code == 404


def test_the_heatmap_counts_each_students_latest_check(
    alice_in_class: Class, alice: User, bob: User, lab: Lab, ian_client: Client
) -> None:
    services.membership_add(alice_in_class, bob, "csv")
    first, second = (c["id"] for c in lab.definition["checks"][:2])
    alices = LabAttempt.objects.create(user=alice, lab=lab, number=1, seed=1)
    bobs = LabAttempt.objects.create(user=bob, lab=lab, number=1, seed=2)
    _check_run(alices, {first: "Run: io write 100KB on VM-A", second: "x"})
    _check_run(alices, {first: "Run: io write 100KB on VM-A"})  # latest: only the first check fails
    _check_run(bobs, {first: "Run: io write 100KB on VM-A"})
    heat = dashboard.heatmap_build(alice_in_class, lab)
    by_id = {check.check_id: check for check in heat.checks}
    assert (heat.students, heat.checked) == (2, 2)
    assert by_id[first].failing == 2 and by_id[first].messages == [("Run: io write 100KB on VM-A", 2)]
    assert by_id[second].failing == 0
    html = ian_client.get(reverse("classes:heatmap", args=[alice_in_class.pk, lab.item.slug])).content.decode()
    assert "2 of 2 students checked their work" in html and "Run: io write 100KB on VM-A" in html
    fragment = ian_client.get(
        reverse("classes:heatmap", args=[alice_in_class.pk, lab.item.slug]), headers={"HX-Request": "true"}
    ).content.decode()
    assert fragment.lstrip().startswith('<section id="heat"')


def test_the_heatmap_query_count_is_constant(
    course: Course, ian: User, ian_client: Client, lab: Lab, django_assert_num_queries: Any
) -> None:
    from classes.seed import seed_class

    ian_client.get(reverse("home"))  # the user, cached from then on (accounts.caching)
    for students in (30, 300):
        klass = seed_class(course, students, instructor=ian, prefix=f"s{students}", seed=students)
        url = reverse("classes:heatmap", args=[klass.pk, lab.item.slug])
        # class, lab, member count, latest check runs (the session and the user come from the cache)
        with django_assert_num_queries(4):
            assert ian_client.get(url).status_code == 200


def test_an_unknown_lab_is_404(alice_in_class: Class, ian_client: Client) -> None:
    assert ian_client.get(reverse("classes:heatmap", args=[alice_in_class.pk, "nope"])).status_code == 404


def test_the_heatmap_groups_the_same_mistake_across_learners_variants(
    alice_in_class: Class, alice: User, bob: User, lab: Lab
) -> None:
    services.membership_add(alice_in_class, bob, "csv")
    first = lab.definition["checks"][0]["id"]
    alices = LabAttempt.objects.create(user=alice, lab=lab, number=1, seed=1, params={"legacy_vm": "VM-A"})
    bobs = LabAttempt.objects.create(user=bob, lab=lab, number=1, seed=2, params={"legacy_vm": "VM-B"})
    _check_run(alices, {first: "Run: io write 100KB on VM-A"})
    _check_run(bobs, {first: "Run: io write 100KB on VM-B"})
    heat = {check.check_id: check for check in dashboard.heatmap_build(alice_in_class, lab).checks}
    assert heat[first].messages == [("Run: io write 100KB on {legacy_vm}", 2)], "one group, not one per learner"
