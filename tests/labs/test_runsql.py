"""The hot path's SQL (labs.runsql) against the ORM: what it writes reads back the same through the models, on
SQLite and on PostgreSQL (CI), and each conditional statement does nothing when its condition fails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from labs import engine, runsql, services
from labs.models import Lab, LabAction, LabAttempt, LabRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def attempt(io_lab: Lab) -> LabAttempt:
    return services.lab_attempt_current(User.objects.create_user("runsql-learner"), io_lab)


def test_a_submitted_action_and_its_run_read_back_through_the_models_as_written(attempt: LabAttempt) -> None:
    token = uuid.uuid4()
    action = {"op": "io", "vm": attempt.params["enlightened_vm"], "op_kind": "write", "bytes": 4096}
    run = services.lab_action_submit(attempt, "io write 4KB  # é", action, token).run

    stored = LabRun.objects.select_related("action").get(pk=run.pk)
    for field in (
        "attempt_id",
        "kind",
        "action_id",
        "upto_seq",
        "client_token",
        "status",
        "result",
        "message",
        "points",
        "created_at",
        "nudged_at",
        "fair_at",
        "deliveries",
        "claimed_at",
        "lease",
    ):
        assert getattr(stored, field) == getattr(run, field), field
    assert stored.action.action == action and stored.action.client_token == token and stored.action.seq == 1
    assert stored.action.source == "io write 4KB  # é" and not stored.action.over_budget
    refreshed = LabAttempt.objects.get(pk=attempt.pk)
    assert refreshed.action_count == 1 and refreshed.last_activity_at == stored.created_at


def test_the_next_number_is_refused_for_a_reset_attempt_and_nothing_is_written(attempt: LabAttempt) -> None:
    LabAttempt.objects.filter(pk=attempt.pk).update(status=LabAttempt.Status.RESET)
    with pytest.raises(ValueError, match="was reset"):
        services.lab_action_submit(attempt, "x", {"op": "io", "vm": "v", "op_kind": "read", "bytes": 1}, uuid.uuid4())
    assert not LabAction.objects.filter(attempt=attempt).exists()
    assert LabAttempt.objects.get(pk=attempt.pk).action_count == 0


def test_the_queue_comes_with_the_attempts_row_as_aware_utc(attempt: LabAttempt) -> None:
    now = timezone.now()
    assert runsql.attempt_touch(attempt.pk, attempt.user_id, now) == (0, (None, None, None, 0))
    run = services.lab_check_submit(attempt, uuid.uuid4()).run
    other = services.lab_attempt_current(User.objects.create_user("runsql-other"), attempt.lab)
    count, (serving, head, last, waiting) = runsql.attempt_touch(attempt.pk, attempt.user_id, now)
    assert count == 0 and serving is None and head == last == LabRun.objects.get(pk=run.pk).fair_at and waiting == 1
    assert head is not None and head.utcoffset() == timedelta(0)
    assert runsql.attempt_touch(other.pk, other.user_id, now)[1] == (None, head, None, 0), "another learner's queue"
    LabRun.objects.filter(pk=run.pk).update(status=LabRun.Status.RUNNING)
    assert runsql.attempt_next_seq(attempt.pk, attempt.user_id, now) == (1, (head, None, head, 1))
    LabRun.objects.filter(pk=run.pk).update(status=LabRun.Status.PASSED)
    assert runsql.attempt_next_seq(attempt.pk, attempt.user_id, now) == (2, (None, None, None, 0)), "a result is done"


def test_submissions_take_their_turns_and_limits_alike_on_either_backend(
    attempt: LabAttempt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One statement on PostgreSQL (runsql.action_submit_pg), a transaction elsewhere: the same rows and refusals."""
    action = {"op": "show", "what": "vms"}
    first = services.lab_action_submit(attempt, "show vms", action, uuid.uuid4(), queue_room_for=1).run
    second = services.lab_action_submit(attempt, "show vms", action, uuid.uuid4(), queue_room_for=1).run
    other = services.lab_attempt_current(User.objects.create_user("runsql-other"), attempt.lab)
    theirs = services.lab_action_submit(other, "show vms", action, uuid.uuid4(), queue_room_for=1).run
    stored = {run.pk: run for run in LabRun.objects.filter(pk__in=[first.pk, second.pk, theirs.pk])}
    for run in (first, second, theirs):
        assert (stored[run.pk].fair_at, stored[run.pk].upto_seq) == (run.fair_at, run.upto_seq)
    assert first.fair_at == first.created_at, "nothing queued: right away"
    assert second.fair_at == first.fair_at + timedelta(seconds=engine.RUN_TIME_BUDGET_S), "one budget after my last"
    assert theirs.fair_at == first.fair_at, "another learner goes at the head of the queue, before my second"
    assert (first.upto_seq, second.upto_seq, first.action.seq, second.action.seq) == (1, 2, 1, 2)

    monkeypatch.setattr(engine, "MAX_ACTIONS", 2)
    with pytest.raises(ValueError, match="already has 2 actions"):
        services.lab_action_submit(attempt, "show vms", action, uuid.uuid4())
    with pytest.raises(services.RateLimited, match="2 runs waiting"):
        services.lab_action_submit(attempt, "show vms", action, uuid.uuid4(), queue_room_for=99)
    assert LabAction.objects.filter(attempt=attempt).count() == 2
    assert LabAttempt.objects.get(pk=attempt.pk).action_count == 2, "a refused submission writes nothing"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-30 12:53:38.209929", datetime(2026, 11, 30, 12, 53, 38, 209929, tzinfo=UTC)),
        (datetime(2026, 11, 30, 12, 0, tzinfo=UTC), datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),
        (None, None),
    ],
)
def test_datetimes_from_either_backend_become_aware(raw: object, expected: datetime | None) -> None:
    assert runsql._datetime(raw) == expected


def test_a_value_that_is_no_datetime_is_an_error_not_a_silent_none() -> None:
    with pytest.raises(ValueError, match="not a datetime"):
        runsql._datetime("yesterday")


def test_the_head_claim_takes_the_earliest_turn_and_a_second_claim_of_it_finds_nothing(attempt: LabAttempt) -> None:
    first = services.lab_check_submit(attempt, uuid.uuid4()).run
    later = services.lab_check_submit(attempt, uuid.uuid4()).run
    LabRun.objects.filter(pk=later.pk).update(fair_at=first.fair_at - timedelta(seconds=5))
    now, lease = timezone.now(), uuid.uuid4()

    claimed = runsql.run_claim(now, lease)
    assert claimed is not None
    assert (claimed.pk, claimed.attempt_id, claimed.kind, claimed.upto_seq, claimed.deliveries) == (
        later.pk, attempt.pk, "check", 0, 1
    )  # fmt: skip
    assert (claimed.status, claimed.lease, claimed.claimed_at) == (LabRun.Status.RUNNING, lease, now)
    row = LabRun.objects.get(pk=later.pk)
    assert (row.status, row.lease, row.claimed_at) == (LabRun.Status.RUNNING, lease, now)
    assert runsql.run_claim(now, uuid.uuid4(), later.pk, now - timedelta(seconds=60)) is None  # a fresh claim holds


def test_a_stale_claim_is_taken_over_and_the_old_lease_can_no_longer_store(attempt: LabAttempt) -> None:
    run = services.lab_check_submit(attempt, uuid.uuid4()).run
    then = timezone.now() - timedelta(minutes=10)
    old = uuid.uuid4()
    assert runsql.run_claim(then, old, run.pk, then - timedelta(minutes=1)) is not None
    now, new = timezone.now(), uuid.uuid4()
    assert runsql.run_claim(now, new, run.pk, now - timedelta(minutes=5), pending=False) is not None

    trace = [{"seq": 1, "summary": "é </script>"}]
    fields = {"status": "passed", "result": {"k": [1, "é"]}, "message": "m", "points": 2, "finished_at": now}
    assert not runsql.run_finish(run.pk, old, {**fields, "trace": trace})
    assert runsql.run_finish(run.pk, new, {**fields, "trace": trace})
    stored = LabRun.objects.get(pk=run.pk)
    assert (stored.status, stored.result, stored.points, stored.deliveries) == ("passed", {"k": [1, "é"]}, 2, 2)
    assert "trace" in stored.get_deferred_fields() and stored.trace == trace
    assert not runsql.run_finish(run.pk, new, fields)  # stored once: it is no longer running


def test_the_scenario_and_the_log_come_in_one_read_with_only_what_the_cache_lacks(attempt: LabAttempt) -> None:
    vm = attempt.params["enlightened_vm"]
    for size in (1, 2, 3):
        services.lab_action_submit(attempt, "x", {"op": "io", "vm": vm, "op_kind": "read", "bytes": size}, uuid.uuid4())
    LabAction.objects.filter(attempt=attempt, seq=2).update(over_budget=True)
    LabAttempt.objects.filter(pk=attempt.pk).update(hints_used={"c1": 2})

    scenario, log = runsql.attempt_scenario_and_log(attempt.pk, 3)
    assert (scenario.seed, scenario.params, scenario.hints_used) == (attempt.seed, attempt.params, {"c1": 2})
    assert scenario.definition == attempt.lab.definition
    assert log == [
        (1, {"op": "io", "vm": vm, "op_kind": "read", "bytes": 1}),
        (3, {"op": "io", "vm": vm, "op_kind": "read", "bytes": 3}),
    ]
    assert runsql.attempt_scenario_and_log(attempt.pk, 3, after_seq=1)[1] == [(1, None), log[1]]
    assert runsql.attempt_scenario_and_log(attempt.pk, 1)[1] == log[:1]
    assert runsql.action_log(attempt.pk, 3) == log


def test_a_fresh_attempt_reads_its_scenario_and_an_empty_log(attempt: LabAttempt) -> None:
    scenario, log = runsql.attempt_scenario_and_log(attempt.pk, 0)
    assert scenario.seed == attempt.seed and log == []
    with pytest.raises(LabAttempt.DoesNotExist):
        runsql.attempt_scenario_and_log(attempt.pk + 1000, 0)


def test_an_attempt_reads_back_with_its_lab_item_and_course_as_the_orm_loads_them(attempt: LabAttempt) -> None:
    LabAttempt.objects.filter(pk=attempt.pk).update(hints_used={"c1": 2}, completed_at=timezone.now())
    read = runsql.attempt_for_user(attempt.pk, attempt.user_id)
    orm = LabAttempt.objects.select_related("lab__item__course").get(pk=attempt.pk)
    assert read is not None and read.pk == orm.pk
    for instance, expected in ((read, orm), (read.lab, orm.lab), (read.lab.item, orm.lab.item)):
        for field in type(expected)._meta.concrete_fields:
            assert getattr(instance, field.attname) == getattr(expected, field.attname), field.name
    course, expected_course = read.lab.item.course, orm.lab.item.course
    for name in ("pk", "slug", "title", "version", "loaded_at"):
        assert getattr(course, name) == getattr(expected_course, name), name
    assert {"glossary", "instructor_overview_html"} <= course.get_deferred_fields(), "the heavy columns stay behind"
    assert read.hints_used == {"c1": 2} and isinstance(read.params, dict) and read.completed_at is not None
    assert read.lab.definition == orm.lab.definition and not read._state.adding


def test_an_attempt_of_another_learner_or_an_impossible_id_reads_as_none(attempt: LabAttempt) -> None:
    other = User.objects.create_user("runsql-stranger")
    assert runsql.attempt_for_user(attempt.pk, other.pk) is None
    assert runsql.attempt_for_user(2**63, attempt.user_id) is None
    assert runsql.attempt_for_user(0, attempt.user_id) is None


def test_a_check_is_queued_alike_on_either_backend(attempt: LabAttempt, settings: Any) -> None:
    """One statement on PostgreSQL (runsql.check_submit_pg), a transaction elsewhere."""
    action = {"op": "show", "what": "vms"}
    first = services.lab_action_submit(attempt, "show vms", action, uuid.uuid4(), queue_room_for=1).run
    token = uuid.uuid4()
    check = services.lab_check_submit(attempt, token, queue_room_for=1)
    assert check.created and check.run.kind == LabRun.Kind.CHECK and check.run.upto_seq == 1
    assert check.run.fair_at == first.fair_at + timedelta(seconds=engine.RUN_TIME_BUDGET_S)
    stored = LabRun.objects.get(pk=check.run.pk)
    assert (stored.upto_seq, stored.fair_at, stored.client_token) == (1, check.run.fair_at, token)
    assert stored.action_id is None
    again = services.lab_check_submit(attempt, token, queue_room_for=1)
    assert not again.created and again.run.pk == check.run.pk, "a double click is the same check"
    settings.LAB_QUEUED_RUNS_MAX = 2
    with pytest.raises(services.RateLimited, match="2 runs waiting"):
        services.lab_check_submit(attempt, uuid.uuid4(), queue_room_for=1)
    assert LabRun.objects.filter(attempt=attempt).count() == 2, "a refused check writes nothing"
    gone = LabAttempt(pk=10**9, user_id=attempt.user_id, lab_id=attempt.lab_id)
    with pytest.raises(LabAttempt.DoesNotExist):
        services.lab_check_submit(gone, uuid.uuid4())


def test_on_postgresql_the_hot_statements_are_prepared_once_per_connection(attempt: LabAttempt) -> None:
    """Parsing and planning them each time cost PostgreSQL as much as running them (labs.runsql._cursor)."""
    from django.db import connection

    action = {"op": "show", "what": "vms"}
    for _ in range(3):
        run = services.lab_action_submit(attempt, "show vms", action, uuid.uuid4()).run
        assert services.lab_run_execute(run.pk) is not None
        assert runsql.attempt_for_user(attempt.pk, attempt.user_id) is not None
    with CaptureQueriesContext(connection) as queries:  # logged like any query (DEBUG, query-counting tests)
        services.lab_action_submit(attempt, "show vms", action, uuid.uuid4())
    assert any("INSERT INTO labs_labaction" in str(q["sql"]) for q in queries.captured_queries)
    if connection.vendor != "postgresql":
        return  # SQLite has no server-side statements: the same SQL runs through Django's cursor
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    for fragment in ("WITH s AS", "SET status", "UNION ALL", "FROM labs_labattempt a JOIN"):
        assert sum(fragment in statement for statement in prepared) >= 1, fragment


@pytest.mark.django_db(transaction=True)
def test_a_claim_skips_the_wal_flush_for_itself_only(io_lab: Lab) -> None:
    """On PostgreSQL the claim's statement sets synchronous_commit off for its own transaction (runsql._ASYNC_COMMIT);
    the connection's next commits, the result's among them, still wait for the flush."""
    from django.db import connection

    attempt = services.lab_attempt_current(User.objects.create_user("runsql-claimer"), io_lab)
    run = services.lab_check_submit(attempt, uuid.uuid4()).run
    claimed = runsql.run_claim(timezone.now(), uuid.uuid4(), run.pk, timezone.now(), pending=True)
    assert claimed is not None and claimed.pk == run.pk
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    assert LabRun.objects.get(pk=run.pk).status == LabRun.Status.RUNNING
