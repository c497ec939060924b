"""Grades back to the LMS (AGS) end to end: the loopback platform's gradebook receives each score once, in order,
after an outage too. Scores are sent by the service the Celery task calls (`ags.scores_send`); the task, its
on-commit nudge and the sweeper are checked to enqueue it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from courseware.models import Course, Quiz
from courseware.services import quiz_attempt_start, quiz_attempt_submit
from labs import console, engine
from labs import services as labs_services
from labs.models import Lab, LabRun
from lti import ags
from lti.models import LinkLearner, Platform, ScoreOutbox
from tests.lti.conftest import lms_launch
from tests.lti.platform import INSTRUCTOR, LEARNER, LoopbackPlatform, Message, Person

pytestmark = pytest.mark.django_db

ANNA = Person("u-anna", [LEARNER], name="Anna Berg")
RIGHT = {"q.drivers": "partitions", "q.root-components": ["vmms", "vmwp"], "q.dep": "true"}  # 4 of 4 points
HALF = {"q.drivers": "partitions", "q.root-components": ["vmms"], "q.dep": "true"}  # 3 of 4
WRONG = {"q.drivers": "firmware", "q.dep": "false"}  # 0 of 4


def launch_quiz(lms: LoopbackPlatform, person: Person = ANNA, lineitem_id: str | None = None) -> User:
    message = Message(person, custom={"course": "sample", "quiz": "basics-quiz"}, lineitem_id=lineitem_id)
    assert lms_launch(Client(), lms, message).status_code == 302
    return User.objects.get(lti_identities__subject=person.user_id)


def submit_quiz(user: User, answers: dict[str, Any]) -> None:
    quiz = Quiz.objects.get(item__slug="basics-quiz")
    quiz_attempt_submit(quiz_attempt_start(user, quiz), answers)


def send_all() -> None:
    for learner_id in LinkLearner.objects.values_list("pk", flat=True):
        ags.scores_send(learner_id)


def test_a_submitted_quiz_reaches_the_lms_gradebook_once(
    registered: Platform, lms: LoopbackPlatform, course: Course, django_capture_on_commit_callbacks: Any
) -> None:
    line = lms.lineitem_add({"label": "Basics check", "scoreMaximum": 20, "resourceLinkId": "link-1"})
    user = launch_quiz(lms, lineitem_id=line["id"].rsplit("/", 1)[1])
    with mock.patch("lti.tasks.send_scores.delay") as nudge, django_capture_on_commit_callbacks(execute=True):
        submit_quiz(user, HALF)
    learner = LinkLearner.objects.get(user=user)
    nudge.assert_called_once_with(learner.pk)  # the Celery task is enqueued after commit
    row = ScoreOutbox.objects.get()
    assert (row.status, row.score_given, row.score_maximum, row.activity_progress) == ("pending", 3, 4, "Completed")

    ags.scores_send(learner.pk)
    assert len(lms.scores) == 1
    score = lms.scores[0]
    assert score["lineitem"] == line["id"].rsplit("/", 1)[1]
    assert (score["userId"], score["scoreGiven"], score["scoreMaximum"]) == ("u-anna", 3, 4)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")
    assert score["timestamp"].startswith(row.timestamp.isoformat()[:19])
    row.refresh_from_db()
    assert row.status == "sent" and row.sent_at is not None

    # Sending again, or the sweeper, sends nothing more for the same change.
    ags.scores_send(learner.pk)
    with mock.patch("lti.tasks.send_scores.delay") as sweep_nudge:
        assert ags.scores_sweep(now=timezone.now() + timedelta(hours=1)) == 0
    sweep_nudge.assert_not_called()
    assert len(lms.scores) == 1


def test_without_a_line_item_the_tool_creates_one_for_the_link_and_reuses_it(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    user = launch_quiz(lms)
    submit_quiz(user, WRONG)
    submit_quiz(user, RIGHT)
    send_all()
    assert len(lms.lineitems) == 1
    (line,) = lms.lineitems.values()
    assert (line["resourceLinkId"], line["label"], line["tag"]) == ("link-1", "Basics check", "quiz")
    assert [score["scoreGiven"] for score in lms.scores] == [0, 4]


def test_when_the_lms_is_down_scores_wait_and_then_arrive_in_order(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    user = launch_quiz(lms)
    learner_id = LinkLearner.objects.get(user=user).pk
    lms.down = True
    submit_quiz(user, WRONG)
    retry_in = ags.scores_send(learner_id)
    assert retry_in == ags.BACKOFF_SECONDS[0]
    submit_quiz(user, HALF)  # a second change while the LMS is down waits behind the first
    assert ags.scores_send(learner_id) is not None
    rows = list(ScoreOutbox.objects.order_by("id"))
    assert [row.status for row in rows] == ["pending", "pending"]
    assert rows[0].attempts == 1 and "503" in rows[0].last_error and rows[1].attempts == 0
    assert lms.scores == []

    # The task retries; the sweeper also finds the queue once its retry is due.
    later = timezone.now() + timedelta(seconds=ags.BACKOFF_SECONDS[0] + 1)
    with mock.patch("lti.tasks.send_scores.delay") as nudge:
        assert ags.scores_sweep(now=later) == 1
    nudge.assert_called_once_with(learner_id)
    lms.down = False
    assert ags.scores_send(learner_id, now=later) is None
    assert [score["scoreGiven"] for score in lms.scores] == [0, 3]
    assert list(ScoreOutbox.objects.values_list("status", flat=True)) == ["sent", "sent"]


def test_the_task_retries_while_the_lms_is_down(registered: Platform, lms: LoopbackPlatform, course: Course) -> None:
    from celery.exceptions import Retry

    from lti.tasks import send_scores

    user = launch_quiz(lms)
    submit_quiz(user, RIGHT)
    lms.down = True
    with pytest.raises(Retry):
        send_scores.apply(args=[LinkLearner.objects.get(user=user).pk], throw=True)
    assert ScoreOutbox.objects.get().status == "pending"


def test_a_queue_held_by_another_sender_is_left_to_it(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    user = launch_quiz(lms)
    submit_quiz(user, RIGHT)
    learner = LinkLearner.objects.get(user=user)
    LinkLearner.objects.filter(pk=learner.pk).update(sending_lease=uuid.uuid4(), sending_since=timezone.now())
    assert ags.scores_send(learner.pk) is None
    assert lms.scores == [] and ScoreOutbox.objects.get().status == "pending"
    # A sender that died long ago is taken over.
    ags.scores_send(learner.pk, now=timezone.now() + ags.SENDER_STALE + timedelta(seconds=1))
    assert len(lms.scores) == 1


def test_a_score_the_lms_refuses_for_good_is_kept_as_rejected_and_the_queue_moves_on(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    user = launch_quiz(lms, lineitem_id="999")  # a line item the LMS has since deleted: 404
    submit_quiz(user, RIGHT)
    ags.scores_send(LinkLearner.objects.get(user=user).pk)
    row = ScoreOutbox.objects.get()
    assert row.status == "rejected" and "404" in row.last_error


def test_learners_who_never_came_from_the_lms_and_instructors_send_nothing(
    registered: Platform, lms: LoopbackPlatform, course: Course, alice: User
) -> None:
    submit_quiz(alice, RIGHT)
    ivan = launch_quiz(lms, Person("u-ivan", [INSTRUCTOR], name="Ivan"))
    submit_quiz(ivan, RIGHT)
    assert not ScoreOutbox.objects.exists()
    assert not LinkLearner.objects.exists()


def solve(user: User, lab: Lab) -> LabRun:
    """Play the lab's solve lines as the learner, then check the work (the path of `manage.py lab_solve`)."""
    attempt = labs_services.lab_attempt_current(user, lab)
    for line in lab.definition["solve"]:
        for command in console.parse(engine.substitute(line, attempt.params)):
            if command.action is not None:
                run = labs_services.lab_action_submit(attempt, command.source, command.action, uuid.uuid4()).run
                labs_services.lab_run_execute(run.pk)
    check = labs_services.lab_check_submit(attempt, uuid.uuid4()).run
    return labs_services.lab_run_execute(check.pk) or LabRun.objects.get(pk=check.pk)


def test_a_lab_check_sends_the_score_and_finishing_the_lab_completes_it(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    message = Message(ANNA, custom={"course": "sample", "lab": "io-trap-trace"}, resource_link_id="link-lab")
    assert lms_launch(Client(), lms, message).status_code == 302
    user = User.objects.get(lti_identities__subject="u-anna")
    lab = Lab.objects.get(item__slug="io-trap-trace")
    attempt = labs_services.lab_attempt_current(user, lab)
    empty = labs_services.lab_check_submit(attempt, uuid.uuid4()).run
    assert labs_services.lab_run_execute(empty.pk).status == LabRun.Status.FAILED
    finished = solve(user, lab)
    assert finished.status == LabRun.Status.PASSED
    send_all()
    assert [(s["scoreGiven"], s["activityProgress"]) for s in lms.scores] == [
        (0, "InProgress"),
        (lab.max_points, "Completed"),
    ]
    assert all(s["scoreMaximum"] == lab.max_points for s in lms.scores)


def test_a_learner_who_never_came_from_an_lms_costs_one_query_per_score(
    registered: Platform, lms: LoopbackPlatform, course: Course, alice: User, django_assert_num_queries: Any
) -> None:
    item_id = Quiz.objects.get(item__slug="basics-quiz").item_id
    with django_assert_num_queries(1):
        written = ags.scores_enqueue(
            user_id=alice.pk, item_id=item_id, change="quiz-attempt:1", given=1, maximum=4, completed=True,
            timestamp=timezone.now(),
        )  # fmt: skip
    assert written == 0


def test_the_sweeper_nudges_each_queue_once_however_many_rows_wait(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    user = launch_quiz(lms)
    submit_quiz(user, WRONG)
    submit_quiz(user, RIGHT)
    assert ScoreOutbox.objects.count() == 2
    with mock.patch("lti.tasks.send_scores.delay") as nudge:
        assert ags.scores_sweep(now=timezone.now() + timedelta(minutes=5)) == 1
    nudge.assert_called_once_with(LinkLearner.objects.get(user=user).pk)
