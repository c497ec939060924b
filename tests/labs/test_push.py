"""Lab results are pushed: the worker announces a stored result, and the page's one long-poll returns at once.

Without Redis the wait re-reads the row on a short interval; with Redis (when 127.0.0.1:6379 answers) it sleeps on
a pub/sub channel and reads the row only when told. The channel prefix is unique per test, as Redis is shared.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from labs import notify, services
from labs.models import Lab, LabRun
from tests.local_services import REDIS_URL, needs_redis

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def no_redis(settings: Any) -> None:
    settings.REDIS_URL = ""
    settings.LAB_NOTIFY_REDIS_URL = ""


@pytest.fixture
def with_redis(settings: Any) -> str:
    settings.LAB_NOTIFY_REDIS_URL = REDIS_URL
    settings.LAB_NOTIFY_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
    return str(settings.LAB_NOTIFY_PREFIX)


def _announce_through(settings: Any, redis_on: bool) -> None:
    """Results announced on Redis (a channel prefix of this test's own), or not at all (the row is re-read)."""
    if redis_on:
        settings.LAB_NOTIFY_REDIS_URL = REDIS_URL
        settings.LAB_NOTIFY_PREFIX = f"test-{uuid.uuid4().hex[:12]}"
    else:
        settings.REDIS_URL = settings.LAB_NOTIFY_REDIS_URL = ""


def _later(seconds: float, work: Any) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


# --- The wait, service level ---------------------------------------------------------------------------


def test_without_redis_the_wait_returns_soon_after_the_row_is_done(no_redis: None) -> None:
    done = threading.Event()
    thread = _later(0.2, done.set)
    started = time.monotonic()
    assert notify.wait_for_run(1, done.is_set, timeout=5)
    assert time.monotonic() - started < 0.6
    thread.join()


def test_the_wait_is_bounded_and_says_the_run_is_not_done(no_redis: None) -> None:
    started = time.monotonic()
    assert notify.wait_for_run(1, lambda: False, timeout=0.3) is False
    assert 0.3 <= time.monotonic() - started < 1.0


@needs_redis
def test_with_redis_the_wait_sleeps_until_announced_and_reads_the_row_only_then(with_redis: str) -> None:
    done = threading.Event()
    reads: list[float] = []

    def is_done() -> bool:
        reads.append(time.monotonic())
        return done.is_set()

    def finish() -> None:
        done.set()
        notify.lab_run_finished(42)

    thread = _later(0.5, finish)
    started = time.monotonic()
    assert notify.wait_for_run(42, is_done, timeout=10)
    assert time.monotonic() - started < 1.0
    assert len(reads) == 2, "one read after subscribing, one after the announcement: no polling in between"
    thread.join()


@needs_redis
def test_with_redis_an_announcement_of_another_run_does_not_end_the_wait(with_redis: str) -> None:
    thread = _later(0.1, lambda: notify.lab_run_finished(7))
    assert notify.wait_for_run(8, lambda: False, timeout=0.6) is False
    thread.join()


@needs_redis
def test_with_redis_a_thread_keeps_one_subscriber_connection_across_waits(with_redis: str) -> None:
    assert notify.wait_for_run(1, lambda: False, timeout=0.1) is False
    subscriber = notify._local.pubsub
    connection = subscriber.connection
    notify.lab_run_finished(1)  # announced after that wait ended: left in the connection for the next wait
    reads: list[int] = []
    done = threading.Event()

    def is_done() -> bool:
        reads.append(1)
        return done.is_set()

    thread = _later(0.3, lambda: (done.set(), notify.lab_run_finished(2)))
    assert notify.wait_for_run(2, is_done, timeout=5)
    thread.join()
    assert notify._local.pubsub is subscriber and subscriber.connection is connection, "no new connection per wait"
    assert len(reads) == 2, "the stale announcement was dropped before subscribing: no extra read"
    assert set(subscriber.channels) <= subscriber.pending_unsubscribe_channels, "unsubscribed after each wait"


@needs_redis
def test_with_redis_a_wait_that_fails_drops_its_subscriber(with_redis: str) -> None:
    def broken() -> bool:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        notify.wait_for_run(3, broken, timeout=1)
    assert notify._local.pubsub is None


def test_with_redis_down_the_wait_falls_back_to_reading_the_row(settings: Any) -> None:
    settings.LAB_NOTIFY_REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    notify.lab_run_finished(1)  # does not raise: the row is the record, the announcement only a nudge
    done = threading.Event()
    thread = _later(0.2, done.set)
    assert notify.wait_for_run(1, done.is_set, timeout=5)
    thread.join()


@needs_redis
@pytest.mark.django_db
def test_storing_a_result_announces_it_after_commit(
    with_redis: str, alice: Any, io_lab: Lab, django_capture_on_commit_callbacks: Any
) -> None:
    import redis

    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
    listener = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(notify.channel(run.pk))
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.lab_run_execute(run.pk)
        assert listener.get_message(timeout=0.3) is None, "nothing is announced before the result commits"
        for callback in callbacks:
            callback()
        message = listener.get_message(timeout=2)
        assert message is not None and message["channel"].decode() == notify.channel(run.pk)
    finally:
        listener.close()


# --- The long-poll view ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bad_wait_is_a_clear_400(alice: Any, alice_client: Client, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
    response = alice_client.get(reverse("labs:run", kwargs={"run_id": run.pk}) + "?wait=soon", **HX)
    assert response.status_code == 400 and b"whole number of seconds" in response.content


@pytest.mark.django_db
def test_another_learner_cannot_wait_on_my_run(alice: Any, bob_client: Client, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
    started = time.monotonic()
    assert bob_client.get(reverse("labs:run", kwargs={"run_id": run.pk}) + "?wait=5", **HX).status_code == 404
    assert time.monotonic() - started < 1, "a 404 is answered at once, not after the wait"


@pytest.mark.django_db
def test_a_pending_run_is_held_for_the_wait_then_asks_again(
    no_redis: None, alice: Any, alice_client: Client, io_lab: Lab, settings: Any
) -> None:
    settings.LAB_RUN_WAIT_SECONDS = 1  # the server bounds what the page asks for (25)
    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
    started = time.monotonic()
    body = alice_client.get(reverse("labs:run", kwargs={"run_id": run.pk}) + "?wait=25", **HX).content.decode()
    assert 1 <= time.monotonic() - started < 3
    trigger = 'data-hx-trigger="load, every 20s, visibilitychange from:document"'
    assert trigger in body, "still pending: the fragment asks again"


@pytest.mark.django_db
def test_a_finished_run_answers_at_once_with_a_constant_query_count(
    alice: Any, alice_client: Client, io_lab: Lab, django_assert_num_queries: Any
) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
    services.lab_run_execute(run.pk)
    with django_assert_num_queries(2):
        body = alice_client.get(reverse("labs:run", kwargs={"run_id": run.pk}) + "?wait=25", **HX).content.decode()
    assert "hx-trigger" not in body


@pytest.mark.django_db
def test_without_javascript_the_pending_run_links_to_a_page_that_waits_for_it(
    no_redis: None, alice: Any, alice_client: Client, io_lab: Lab
) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
    lab_url = reverse("labs:lab", kwargs={"course": io_lab.item.course.slug, "lab": io_lab.item.slug})
    wait_url = reverse("labs:run", kwargs={"run_id": run.pk}) + "?wait=25"
    assert f'<a href="{wait_url}">Wait for the result</a>' in alice_client.get(lab_url).content.decode()
    services.lab_run_execute(run.pk)
    page = alice_client.get(wait_url).content.decode()
    assert "<h1>Run" in page and "Wait for the result" not in page


@pytest.mark.parametrize("redis_on", [False, pytest.param(True, marks=needs_redis)])
@pytest.mark.django_db(transaction=True)
def test_the_long_poll_returns_as_soon_as_the_worker_stores_the_result(
    redis_on: bool, alice: Any, alice_client: Client, io_lab: Lab, settings: Any
) -> None:
    _announce_through(settings, redis_on)
    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run
    thread = _later(0.5, lambda: services.lab_run_execute(run.pk))
    started = time.monotonic()
    body = alice_client.get(reverse("labs:run", kwargs={"run_id": run.pk}) + "?wait=20", **HX).content.decode()
    elapsed = time.monotonic() - started
    thread.join()
    assert LabRun.objects.get(pk=run.pk).is_terminal
    assert "hx-trigger" not in body and "working on it" not in body, "the answer is the finished run"
    assert 0.5 <= elapsed < 2.5


# --- The POST that answers with the result ---------------------------------------------------------------


def _console_post(client: Client, io_lab: Lab, attempt: Any, source: str) -> tuple[str, float]:
    from tests.labs.test_lab_pages import _open, _token

    html = _open(client, io_lab).content.decode()
    started = time.monotonic()
    response = client.post(
        reverse("labs:console", kwargs={"attempt_id": attempt.pk}),
        {"source": source, "client_token": _token(html)},
        **HX,
    )
    assert response.status_code == 200
    return response.content.decode(), time.monotonic() - started


@pytest.mark.parametrize("redis_on", [False, pytest.param(True, marks=needs_redis)])
@pytest.mark.django_db(transaction=True)
def test_a_console_post_answers_with_the_results_its_worker_stores_within_the_bound(
    redis_on: bool, alice: Any, alice_client: Client, io_lab: Lab, settings: Any
) -> None:
    settings.LAB_RUN_INLINE_WAIT_MS = 3000
    _announce_through(settings, redis_on)
    attempt = services.lab_attempt_current(alice, io_lab)

    def worker() -> None:  # two runs, stored one after the other, as one worker takes them
        while LabRun.objects.filter(attempt=attempt).count() < 2:
            time.sleep(0.02)
        time.sleep(0.3)
        services.lab_run_execute_next(0)
        services.lab_run_execute_next(0)

    thread = _later(0, worker)
    vm = attempt.params["legacy_vm"]
    body, elapsed = _console_post(alice_client, io_lab, attempt, f"show host\nio write 4KB on {vm}")
    thread.join()
    runs = list(LabRun.objects.filter(attempt=attempt).order_by("pk"))
    assert len(runs) == 2 and all(run.is_terminal for run in runs)
    assert 'aria-busy="true"' not in body and body.count('aria-busy="false"') == 2, "both results, in the answer"
    assert "?wait=25" not in body, "no long-poll is needed"
    assert "emulated path" in body and "data-lab-panels" not in body, "the results; no panel changes after commands"
    assert 0.3 <= elapsed < 2.5, "answered when the last result was stored, not at the bound"


@pytest.mark.django_db(transaction=True)
def test_a_run_not_done_within_the_bound_is_answered_pending_with_its_long_poll(
    alice: Any, alice_client: Client, io_lab: Lab, settings: Any
) -> None:
    settings.LAB_RUN_INLINE_WAIT_MS = 200
    settings.REDIS_URL = settings.LAB_NOTIFY_REDIS_URL = ""
    attempt = services.lab_attempt_current(alice, io_lab)
    body, elapsed = _console_post(alice_client, io_lab, attempt, "show host")  # no worker runs it
    run = LabRun.objects.get(attempt=attempt)
    assert run.status == LabRun.Status.PENDING and 'aria-busy="true"' in body
    assert f'{reverse("labs:run", kwargs={"run_id": run.pk})}?wait=25' in body
    assert 0.2 <= elapsed < 1.5


@pytest.mark.django_db
def test_the_panels_are_asked_for_after_a_check_or_an_azman_lab_run_and_not_after_an_ordinary_command(
    alice: Any, alice_client: Client, io_lab: Lab, azman_lab: Lab
) -> None:
    def finished_fragment(lab: Lab, submit: Any) -> str:
        run = submit(services.lab_attempt_current(alice, lab))
        services.lab_run_execute(run.pk)
        return alice_client.get(reverse("labs:run", kwargs={"run_id": run.pk}), **HX).content.decode()

    def command(attempt: Any) -> Any:
        return services.lab_action_submit(attempt, "show vms", {"op": "show", "what": "vms"}, uuid.uuid4()).run

    def check(attempt: Any) -> Any:
        return services.lab_check_submit(attempt, uuid.uuid4()).run

    assert "data-lab-panels" not in finished_fragment(io_lab, command), "nothing beside the console changed"
    assert "data-lab-panels" in finished_fragment(io_lab, check), "the score and each check's result"
    assert "data-lab-panels" in finished_fragment(azman_lab, command), "the AzMan store"
    pending = command(services.lab_attempt_current(alice, azman_lab))
    body = alice_client.get(reverse("labs:run", kwargs={"run_id": pending.pk}), **HX).content.decode()
    assert "data-lab-panels" not in body, "not before the run is finished"
