"""End to end with a real Celery worker: a quiz submitted while the LMS is down reaches its gradebook once it is back,
by the task enqueued on commit and its retries (the worker talks to the loopback platform over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from courseware.models import Course, Quiz
from courseware.services import quiz_attempt_start, quiz_attempt_submit
from lti.models import Platform, ScoreOutbox
from tests.core.worker import celery_worker, wait_for
from tests.lti.conftest import lms_launch
from tests.lti.platform import LEARNER, LoopbackPlatform, Message, Person

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_retries_until_the_lms_is_back_and_sends_the_score_once(
    registered: Platform, lms: LoopbackPlatform, course: Course, settings: Any
) -> None:
    message = Message(Person("u-anna", [LEARNER]), custom={"course": "sample", "quiz": "basics-quiz"})
    assert lms_launch(Client(), lms, message).status_code == 302
    user = User.objects.get(lti_identities__subject="u-anna")
    quiz = Quiz.objects.get(item__slug="basics-quiz")
    with celery_worker() as (process, queue):
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        lms.down = True
        answers = {"q.drivers": "partitions", "q.root-components": ["vmms", "vmwp"], "q.dep": "true"}
        quiz_attempt_submit(quiz_attempt_start(user, quiz), answers)  # the task is enqueued on commit
        assert wait_for(lambda: ScoreOutbox.objects.filter(attempts__gte=1).exists(), timeout=60, interval=0.2)
        assert lms.scores == []
        lms.down = False
        sent = wait_for(lambda: ScoreOutbox.objects.filter(status="sent").exists(), timeout=90, interval=0.5)
        assert process.poll() is None, "the worker died"
    assert sent, "the retried task never sent the score"
    assert [(s["userId"], s["scoreGiven"], s["scoreMaximum"]) for s in lms.scores] == [("u-anna", 4, 4)]
