"""Quiz pages: attempts start and resume, answers are shown only when the policy allows, bad posts record nothing."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from courseware.models import Course, Progress, QuizAttempt

pytestmark = pytest.mark.django_db

BASICS = "/courses/sample/quizzes/basics-quiz/"
DEVICES = "/courses/sample/quizzes/devices-quiz/"
FINAL = "/courses/sample/quizzes/final-exam/"
SECRET = "/courses/sample/quizzes/secret-quiz/"


def _submit_url(page: str) -> str:
    match = re.search(r'action="(/courses/[^"]+/submit)"', page)
    assert match, "no quiz form on the page"
    return match.group(1)


def _start(client: Client, url: str) -> tuple[str, str]:
    """Start (or resume) an attempt with the POST a learner's button sends, then open the quiz."""
    base = url.split("?")[0]
    assert client.post(base + "start").status_code == 303
    response = client.get(base)
    assert response.status_code == 200
    page = response.content.decode()
    return page, _submit_url(page)


def test_opening_a_quiz_starts_nothing_until_the_learner_starts_it(sample_course: Course, alice_client: Client) -> None:
    page = alice_client.get(BASICS).content.decode()
    assert "Start the quiz" in page and not QuizAttempt.objects.exists(), "a GET never creates an attempt"
    assert alice_client.get(BASICS + "?retry=1").status_code == 200 and not QuizAttempt.objects.exists()
    assert alice_client.get(BASICS + "start").status_code == 405


def test_starting_a_quiz_starts_an_attempt_and_reloading_resumes_it(
    sample_course: Course, alice_client: Client
) -> None:
    page, submit = _start(alice_client, BASICS)
    assert QuizAttempt.objects.count() == 1
    again, submit_again = _start(alice_client, BASICS)
    assert submit_again == submit and QuizAttempt.objects.count() == 1
    controls = re.findall(r'id="(f-[^"]+)"', page)
    assert len(controls) == 8 and re.findall(r'id="(f-[^"]+)"', again) == controls  # same shuffled order


def test_every_control_is_labelled_and_each_question_is_a_fieldset(sample_course: Course, alice_client: Client) -> None:
    for url in (BASICS, DEVICES):
        page, _ = _start(alice_client, url)
        assert page.count("<fieldset") == page.count("<legend>") == 3
        for control_id in re.findall(r'<(?:input|select) [^>]*id="([^"]+)"', page):
            assert f'for="{control_id}"' in page, control_id
    assert 'type="number" step="any"' in page and "memory references" in page


def test_the_key_and_explanations_never_reach_the_browser_before_submission(
    sample_course: Course, alice_client: Client
) -> None:
    for url in (BASICS, DEVICES, FINAL, SECRET):
        page, _ = _start(alice_client, url)
        assert "EXPLAIN-" not in page and "correct" not in page.lower().replace("incorrect", "")


def test_a_plain_form_post_grades_redirects_and_shows_explanations_after_each_attempt(
    sample_course: Course, alice: User, alice_client: Client
) -> None:
    _, submit = _start(alice_client, BASICS)
    data = {"q.drivers": "partitions", "q.root-components": ["vmms", "vmwp"], "q.dep": "true"}
    response = alice_client.post(submit, data)
    assert response.status_code == 303 and response["Location"] == BASICS + "#result"
    page = alice_client.get(BASICS).content.decode()
    assert "Attempt 1: 100%" in page and "Passed" in page
    assert "EXPLAIN-DRIVERS-CORRECT" in page and "EXPLAIN-DRIVERS-QUESTION" in page
    attempt = QuizAttempt.objects.get()
    assert (attempt.points, attempt.max_points, attempt.percent, attempt.passed) == (4, 4, 100, True)
    assert attempt.answers == {"drivers": "partitions", "root-components": ["vmms", "vmwp"], "dep": True}
    assert attempt.results["root-components"] == {"points": 2.0, "max_points": 2.0, "correct": True}
    progress = Progress.objects.get(user=alice, item__slug="basics-quiz")
    assert (progress.status, progress.score_percent, progress.best_points, progress.attempts) == (
        "completed",
        100,
        4,
        1,
    )


def test_an_htmx_submission_returns_the_result_fragment_only(sample_course: Course, alice_client: Client) -> None:
    _, submit = _start(alice_client, BASICS)
    response = alice_client.post(submit, {"q.drivers": "firmware"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="quiz-panel">') and "<html" not in page
    assert "Attempt 1: 0%" in page and "Not passed" in page and "EXPLAIN-DRIVERS-CORRECT" in page
    assert "Try again" in page and 'action="/courses/sample/quizzes/basics-quiz/start"' in page  # unlimited


def test_try_again_starts_a_new_attempt_with_its_own_seed(sample_course: Course, alice_client: Client) -> None:
    _, submit = _start(alice_client, BASICS)
    alice_client.post(submit, {})
    _, second = _start(alice_client, BASICS + "?retry=1")
    assert second != submit
    first, latest = QuizAttempt.objects.order_by("number")
    assert latest.number == 2 and latest.submitted_at is None and latest.seed != first.seed


def test_once_passed_hides_answers_after_a_failed_attempt_and_shows_them_after_a_pass(
    sample_course: Course, alice_client: Client
) -> None:
    _, submit = _start(alice_client, DEVICES)
    failed = alice_client.post(submit, {"q.walk-refs": "23"}, headers={"HX-Request": "true"}).content.decode()
    assert "Not passed" in failed and "EXPLAIN-WALK-REFS" not in failed
    assert "shown once you pass" in failed
    _, submit = _start(alice_client, DEVICES + "?retry=1")
    options = dict(
        re.findall(r'<option value="(o[0-9a-f]+)">([^<]+)</option>', alice_client.get(DEVICES).content.decode())
    )
    by_text = {text: option for option, text in options.items()}
    data = {
        "q.walk-refs": "24",
        **{f"q.write-path.{k}": v for k, v in {"app": "1", "fs": "2", "vsc": "3", "vmbus": "4", "vsp": "5"}.items()},
        "q.op-role.start": by_text["VM Operator"],
        "q.op-role.scope": by_text["Administrator"],
    }
    passed = alice_client.post(submit, data, headers={"HX-Request": "true"}).content.decode()
    assert "Passed" in passed and "EXPLAIN-WALK-REFS" in passed and "Attempts left: 1" in passed


def test_after_last_attempt_shows_answers_only_when_attempts_are_used_up(
    sample_course: Course, alice_client: Client
) -> None:
    _, submit = _start(alice_client, FINAL)
    first = alice_client.post(submit, {"q.root-owns": "child"}, headers={"HX-Request": "true"}).content.decode()
    assert "EXPLAIN-FINAL-CORRECT" not in first and "Attempts left: 1" in first
    _, submit = _start(alice_client, FINAL + "?retry=1")
    last = alice_client.post(submit, {"q.root-owns": "root"}, headers={"HX-Request": "true"}).content.decode()
    assert "EXPLAIN-FINAL-CORRECT" in last and "Attempts left: 0" in last and "Try again" not in last


def test_a_never_quiz_never_shows_its_answers(sample_course: Course, alice_client: Client) -> None:
    _, submit = _start(alice_client, SECRET)
    result = alice_client.post(submit, {"q.vmbus-kind": "channel"}, headers={"HX-Request": "true"}).content.decode()
    assert "Passed" in result and "EXPLAIN-NEVER-CORRECT" not in result and "does not show its answers" in result
    assert "EXPLAIN-NEVER-CORRECT" not in alice_client.get(SECRET).content.decode()


def test_once_attempts_are_used_up_no_new_attempt_starts(sample_course: Course, alice_client: Client) -> None:
    _, submit = _start(alice_client, SECRET)
    alice_client.post(submit, {"q.vmbus-kind": "cable"})
    response = alice_client.post(SECRET + "start")
    assert response.status_code == 409
    page = response.content.decode()
    assert (
        "You have used all the attempts for this quiz." in page and '<form method="post" action="/courses' not in page
    )
    assert QuizAttempt.objects.count() == 1


def test_submitting_an_attempt_twice_is_refused_and_counted_once(
    sample_course: Course, alice: User, alice_client: Client
) -> None:
    _, submit = _start(alice_client, SECRET)
    assert alice_client.post(submit, {"q.vmbus-kind": "cable"}).status_code == 303
    again = alice_client.post(submit, {"q.vmbus-kind": "channel"})
    assert again.status_code == 400 and "already submitted" in again.content.decode()
    assert QuizAttempt.objects.get().answers == {"vmbus-kind": "cable"}
    assert Progress.objects.get(user=alice, item__slug="secret-quiz").attempts == 1


@pytest.mark.parametrize(
    "fields",
    [{"q.drivers": "made-up"}, {"q.no-such-question": "a"}, {"q.root-components": ["vmms", "forged"]}],
)
def test_tampered_choice_ids_get_400_with_a_message_and_nothing_is_recorded(
    sample_course: Course, alice: User, alice_client: Client, fields: dict
) -> None:
    _, submit = _start(alice_client, BASICS)
    response = alice_client.post(submit, fields)
    assert response.status_code == 400
    assert "Your answers were not recorded" in response.content.decode()
    attempt = QuizAttempt.objects.get()
    assert attempt.submitted_at is None and attempt.answers == {}
    assert not Progress.objects.filter(user=alice, item__slug="basics-quiz").exists()
    htmx = alice_client.post(submit, fields, headers={"HX-Request": "true"})
    assert htmx.status_code == 400 and htmx["HX-Retarget"] == "#quiz-refused"


def test_another_students_attempt_id_is_404_and_nothing_is_recorded(
    sample_course: Course, alice_client: Client, bob_client: Client
) -> None:
    _, submit = _start(alice_client, BASICS)
    response = bob_client.post(submit, {"q.drivers": "partitions"})
    assert response.status_code == 404
    assert QuizAttempt.objects.get().submitted_at is None and not Progress.objects.exists()


def test_an_attempt_id_of_another_quiz_is_404(sample_course: Course, alice_client: Client) -> None:
    _, submit = _start(alice_client, BASICS)
    other = submit.replace("basics-quiz", "final-exam")
    assert alice_client.post(other, {}).status_code == 404
    assert QuizAttempt.objects.get().submitted_at is None


def test_best_score_is_kept_across_attempts(sample_course: Course, alice: User, alice_client: Client) -> None:
    _, submit = _start(alice_client, BASICS)
    alice_client.post(submit, {"q.drivers": "partitions", "q.dep": "true"})
    _, submit = _start(alice_client, BASICS + "?retry=1")
    alice_client.post(submit, {"q.dep": "true"})
    progress = Progress.objects.get(user=alice, item__slug="basics-quiz")
    assert (progress.score_percent, progress.best_points, progress.attempts, progress.status) == (
        50,
        2,
        2,
        "in_progress",
    )


def test_a_second_tab_starting_the_same_attempt_resumes_it(sample_course: Course, alice: User) -> None:
    from courseware import services
    from courseware.models import Quiz

    quiz = Quiz.objects.get(item__slug="basics-quiz")
    first = services.quiz_attempt_start(alice, quiz)
    assert services.quiz_attempt_start(alice, quiz).pk == first.pk
    assert QuizAttempt.objects.count() == 1
