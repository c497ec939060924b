"""The statements of a lab action's hot path, written once in SQL that SQLite (3.35+) and PostgreSQL both run.

A lab action is a handful of small statements: read the learner's attempt, append the action and its run (on
PostgreSQL in one statement), claim the run, read the log, store the result. Built by the ORM each cost about
0.2-0.9 ms of Python, which was more than the database and the simulator together (`bench/labs_bench.py`: 3.4x a
no-op Celery task). Here each is one prepared string and its parameters, adapted by the model fields themselves
(`get_db_prep_save`: JSON, UUIDs, datetimes), with the table and column names taken from the models. Everything else
about runs stays in `labs.services` with the ORM; the semantics (conditional UPDATEs, a lease per claim, one result
per run) are the ones it documents.
"""

# ruff: noqa: S608 - the SQL strings are built from the models' table names and status constants only; every value
# is a query parameter.
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import psycopg
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labs.models import Lab, LabAction, LabAttempt, LabRun

_RUN = LabRun._meta.db_table
_ACTION = LabAction._meta.db_table
_ATTEMPT = LabAttempt._meta.db_table
_LAB = Lab._meta.db_table
_PENDING = str(LabRun.Status.PENDING)
_RUNNING = str(LabRun.Status.RUNNING)
_RESET = str(LabAttempt.Status.RESET)
MAX_ID = 2**63 - 1  # the largest value of a 64-bit id column (a larger one from a URL matches nothing)


def _prep(model: Any, field: str, value: Any) -> Any:
    """`value` as the database driver takes it for `model.field` (the ORM's own adaptation)."""
    return model._meta.get_field(field).get_db_prep_save(value, connection)


def _json(value: Any) -> Any:
    """A JSON column as read by a raw cursor (text on both backends), decoded."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _datetime(value: Any) -> datetime | None:
    """A datetime column as read by a raw cursor: aware on PostgreSQL, naive UTC text on SQLite."""
    if value is None or isinstance(value, datetime) and timezone.is_aware(value):
        return value
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return timezone.make_aware(parsed, UTC) if timezone.is_naive(parsed) else parsed


def _loaded(model: Any, **values: Any) -> Any:
    """The instance of a row this module wrote or read, as the ORM loads one (`Model.from_db`): saved, and any field
    not given deferred (read from the database if something uses it)."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _cursor() -> Any:
    """A cursor for these statements. On PostgreSQL each one is a server-side prepared statement (psycopg prepares
    it on first use on a connection and then sends only its parameters): the statements are few and run on every
    lab action, and parsing and planning them anew each time cost PostgreSQL about as much as running them (the
    submission's statement took 0.94 ms). Django's own queries keep its default, client-side binding. The cursor
    goes through Django's wrapper like any other: database errors become Django's, queries are logged when DEBUG."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = _PreparedCursor(connection.connection)
    return _LoggedCursor(cursor, connection) if connection.queries_logged else CursorWrapper(cursor, connection)


class _PreparedCursor(psycopg.Cursor):  # type: ignore[type-arg]
    """psycopg's server-side binding cursor, every statement prepared (PostgreSQL only)."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


class _LoggedCursor(CursorDebugWrapper):
    """Django's debug wrapper (DEBUG, or a test counting queries) for these statements: psycopg keeps no query text
    for a prepared statement, where Django looks for it, so the statement is logged as composed here."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


def _one(sql: str, params: list[Any] | dict[str, Any]) -> tuple[Any, ...] | None:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


# --- Reading an attempt --------------------------------------------------------------------------------


class _Joined:
    """A SELECT of a row and the rows its foreign keys lead to, prepared once: what
    `Model.objects.select_related(...).get(...)` reads, without building and compiling the query each time (on a
    lab request that was about half of the lookup's 1.1 ms). Each column goes through the converters the ORM would
    apply (JSON, datetimes, booleans); `skip` columns are left deferred, as `defer()` leaves them."""

    def __init__(self, chain: list[tuple[Any, str, str | None]], where: str, skip: dict[Any, tuple[str, ...]]) -> None:
        self.chain = chain  # (model, alias, the field of the previous model that leads to it)
        self.where = where
        self.skip = skip
        self._prepared: tuple[str, list[tuple[Any, list[str], list[Any]]]] | None = None

    def _prepare(self) -> tuple[str, list[tuple[Any, list[str], list[Any]]]]:
        quote = connection.ops.quote_name
        columns, parts, joins = [], [], []
        previous: tuple[Any, str] | None = None
        for model, alias, via in self.chain:
            fields = [f for f in model._meta.concrete_fields if f.name not in self.skip.get(model, ())]
            converting = []
            for f in fields:
                col = f.get_col(alias)
                converting.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
                columns.append(f"{alias}.{quote(f.column)}")
            parts.append((model, [f.attname for f in fields], converting))
            if previous is None:
                joins.append(f"{quote(model._meta.db_table)} {alias}")
            else:
                link = quote(previous[0]._meta.get_field(via).column)
                key = quote(model._meta.pk.column)
                joins.append(f"JOIN {quote(model._meta.db_table)} {alias} ON {alias}.{key} = {previous[1]}.{link}")
            previous = (model, alias)
        sql = f"SELECT {', '.join(columns)} FROM {' '.join(joins)} WHERE {self.where}"
        return sql, parts

    def get(self, params: list[Any]) -> Any | None:
        """The first model's instance with the others attached (as select_related does), or None."""
        if self._prepared is None:
            self._prepared = self._prepare()
        sql, parts = self._prepared
        row = _one(sql, params)
        if row is None:
            return None
        values = iter(row)
        instances = []
        for model, names, columns in parts:
            converted = []
            for col, converters in columns:
                value = next(values)
                for converter in converters:
                    value = converter(value, col, connection)
                converted.append(value)
            instances.append(model.from_db(connection.alias, names, converted))
        for (_, _, via), instance, parent in zip(self.chain[1:], instances[1:], instances[:-1], strict=True):
            assert via is not None
            parent._meta.get_field(via).set_cached_value(parent, instance)
        return instances[0]


def _attempt_with_course() -> _Joined:
    from courseware.models import HEAVY_COURSE_FIELDS, Course, Item

    return _Joined(
        [(LabAttempt, "a", None), (Lab, "l", "lab"), (Item, "i", "item"), (Course, "c", "course")],
        "a.id = %s AND a.user_id = %s",
        {Course: HEAVY_COURSE_FIELDS},
    )


_ATTEMPT_FOR_USER = _attempt_with_course()


def attempt_for_user(attempt_id: int, user_id: int) -> LabAttempt | None:
    """Learner `user_id`'s attempt `attempt_id` with its lab, the lab's item and the item's course (without the
    course's heavy columns), or None if there is no such attempt of theirs (an id out of the column's range too)."""
    if not 0 < attempt_id <= MAX_ID:
        return None
    return _ATTEMPT_FOR_USER.get([attempt_id, user_id])  # type: ignore[no-any-return]


# --- Submitting ----------------------------------------------------------------------------------------

# The queue, read in the same statement as the attempt's row is taken: the latest turn being served, the first one
# waiting, this learner's last turn waiting or being served (labs.services._fair_at), and how many runs this learner
# has waiting or being served (labs.services.LAB_QUEUED_RUNS_MAX).
_MINE = (
    f"FROM {_RUN} r JOIN {_ATTEMPT} mine ON mine.id = r.attempt_id "
    f"WHERE mine.user_id = %s AND r.status IN ('{_PENDING}', '{_RUNNING}')"
)
_SERVING = f"(SELECT MAX(r.fair_at) FROM {_RUN} r WHERE r.status = '{_RUNNING}')"
_HEAD = f"(SELECT MIN(r.fair_at) FROM {_RUN} r WHERE r.status = '{_PENDING}')"
_QUEUE = f"{_SERVING}, {_HEAD}, (SELECT MAX(r.fair_at) {_MINE}), (SELECT COUNT(*) {_MINE})"
_NEXT_SEQ = (
    f"UPDATE {_ATTEMPT} SET action_count = action_count + 1, last_activity_at = %s "
    f"WHERE id = %s AND status <> '{_RESET}' RETURNING action_count, {_QUEUE}"
)
_TOUCH = f"UPDATE {_ATTEMPT} SET last_activity_at = %s WHERE id = %s RETURNING action_count, {_QUEUE}"


class Queue(NamedTuple):
    """The queue as a submission finds it, for learner `user_id` (see _QUEUE)."""

    serving: datetime | None
    head: datetime | None
    last: datetime | None
    waiting: int


def _queue(row: tuple[Any, ...]) -> Queue:
    return Queue(_datetime(row[0]), _datetime(row[1]), _datetime(row[2]), int(row[3] or 0))


def attempt_next_seq(attempt_id: int, user_id: int, now: datetime) -> tuple[int, Queue] | None:
    """Take the attempt's next action number, locking its row until the transaction ends: (seq, the queue for
    learner `user_id`), or None if the attempt was reset."""
    row = _one(_NEXT_SEQ, [_prep(LabAttempt, "last_activity_at", now), attempt_id, user_id, user_id])
    return (int(row[0]), _queue(row[1:])) if row else None


def attempt_touch(attempt_id: int, user_id: int, now: datetime) -> tuple[int, Queue]:
    """Lock the attempt's row until the transaction ends and record activity: (its action count, the queue for
    learner `user_id`)."""
    row = _one(_TOUCH, [_prep(LabAttempt, "last_activity_at", now), attempt_id, user_id, user_id])
    if row is None:
        raise LabAttempt.DoesNotExist(f"no lab attempt {attempt_id}")
    return int(row[0]), _queue(row[1:])


_INSERT_ACTION = (  # the columns in the order of action_insert's values
    f"INSERT INTO {_ACTION} (attempt_id, seq, source, action, client_token, created_at, over_budget) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id"
)


def action_insert(
    attempt_id: int, seq: int, source: str, action: dict[str, Any], client_token: uuid.UUID, now: datetime
) -> LabAction:
    """Append an action to the attempt's log; the model instance, as `LabAction.objects.create` would return it.
    IntegrityError if its number or token is taken."""
    values = {
        "attempt_id": attempt_id,
        "seq": seq,
        "source": source,
        "action": action,
        "client_token": client_token,
        "created_at": now,
        "over_budget": False,
    }
    row = _one(_INSERT_ACTION, [_prep(LabAction, name, value) for name, value in values.items()])
    assert row is not None
    return _loaded(LabAction, id=int(row[0]), **values)


_INSERT_RUN = (
    f"INSERT INTO {_RUN} (attempt_id, kind, action_id, upto_seq, client_token, status, result, message, points, "
    "created_at, nudged_at, fair_at, deliveries) "
    f"VALUES (%s, %s, %s, %s, %s, '{_PENDING}', %s, '', 0, %s, %s, %s, 0) RETURNING id"
)


def run_insert(
    attempt_id: int,
    kind: str,
    action_id: int | None,
    upto_seq: int,
    client_token: uuid.UUID,
    fair_at: datetime,
    now: datetime,
) -> LabRun:
    """Create a pending run; the model instance, as `LabRun.objects.create` would return it. IntegrityError if the
    attempt has a run with this client token."""
    row = _one(
        _INSERT_RUN,
        [
            attempt_id,
            kind,
            action_id,
            upto_seq,
            _prep(LabRun, "client_token", client_token),
            _prep(LabRun, "result", {}),
            _prep(LabRun, "created_at", now),
            _prep(LabRun, "nudged_at", now),
            _prep(LabRun, "fair_at", fair_at),
        ],
    )
    assert row is not None
    return _pending_run(
        int(row[0]),
        attempt_id=attempt_id,
        kind=kind,
        action_id=action_id,
        upto_seq=upto_seq,
        client_token=client_token,
        fair_at=fair_at,
        created_at=now,
        nudged_at=now,
    )


def _pending_run(run_id: int, **values: Any) -> LabRun:
    """The instance of a run just inserted as pending: `values` (attempt_id, kind, action_id, upto_seq,
    client_token, fair_at, created_at, nudged_at) and every other field as the INSERT wrote it."""
    return _loaded(
        LabRun,
        id=run_id,
        status=LabRun.Status.PENDING,
        result={},
        message="",
        points=0,
        claimed_at=None,
        finished_at=None,
        deliveries=0,
        lease=None,
        **values,
    )


# On PostgreSQL an action is submitted in one statement (data-modifying CTEs): number it, append it, create its run.
# A statement commits on its own, so this is one round trip where the steps above take five (BEGIN, UPDATE, two
# INSERTs, COMMIT). The limits are conditions of the UPDATE: when one fails nothing is written and no row comes back.
# A check is queued the same way. The run's turn is labs.services._fair_at's rule, in SQL.
_MINE_OF_USER = _MINE.replace("%s", "%(user)s")  # the same rows, with a named parameter
_ROOM = f"(%(room)s = 0 OR (SELECT COUNT(*) {_MINE_OF_USER}) + %(room)s <= %(queued_max)s)"
_QUEUE_NAMED = f"{_SERVING} AS serving, {_HEAD} AS head, (SELECT MAX(r.fair_at) {_MINE_OF_USER}) AS last"
_FAIR_AT = "GREATEST(COALESCE(s.serving, s.head, %(now)s), s.last + %(spacing)s * INTERVAL '1 second')"
_RUN_COLUMNS = (
    "attempt_id, kind, action_id, upto_seq, client_token, status, result, message, points, created_at, nudged_at, "
    "fair_at, deliveries"
)
_SUBMIT_PG = f"""
WITH s AS (
  UPDATE {_ATTEMPT} SET action_count = action_count + 1, last_activity_at = %(now)s
  WHERE id = %(attempt)s AND status <> '{_RESET}' AND action_count < %(max_actions)s AND {_ROOM}
  RETURNING action_count AS seq, {_QUEUE_NAMED}
), a AS (
  INSERT INTO {_ACTION} (attempt_id, seq, source, action, client_token, created_at, over_budget)
  SELECT %(attempt)s, s.seq, %(source)s, %(action)s, %(token)s, %(now)s, FALSE FROM s
  RETURNING id, seq
), queued AS (
  INSERT INTO {_RUN} ({_RUN_COLUMNS})
  SELECT %(attempt)s, '{LabRun.Kind.ACTION}', a.id, a.seq, %(token)s, '{_PENDING}', %(result)s, '', 0, %(now)s, %(now)s,
    {_FAIR_AT}, 0
  FROM a CROSS JOIN s
  RETURNING id, fair_at
)
SELECT a.id, a.seq, queued.id, queued.fair_at FROM a CROSS JOIN queued
"""
_CHECK_PG = f"""
WITH s AS (
  UPDATE {_ATTEMPT} SET last_activity_at = %(now)s WHERE id = %(attempt)s AND {_ROOM}
  RETURNING action_count AS upto, {_QUEUE_NAMED}
), queued AS (
  INSERT INTO {_RUN} ({_RUN_COLUMNS})
  SELECT %(attempt)s, '{LabRun.Kind.CHECK}', NULL, s.upto, %(token)s, '{_PENDING}', %(result)s, '', 0, %(now)s, %(now)s,
    {_FAIR_AT}, 0
  FROM s
  RETURNING id, upto_seq, fair_at
)
SELECT id, upto_seq, fair_at FROM queued
"""


def _queue_params(
    attempt_id: int, user_id: int, client_token: uuid.UUID, now: datetime, room: int, queued_max: int, spacing_s: float
) -> dict[str, Any]:
    return {
        "now": _prep(LabRun, "created_at", now),
        "attempt": attempt_id,
        "user": user_id,
        "room": room,
        "queued_max": queued_max,
        "token": _prep(LabRun, "client_token", client_token),
        "result": _prep(LabRun, "result", {}),
        "spacing": spacing_s,
    }


def check_submit_pg(
    attempt_id: int,
    user_id: int,
    client_token: uuid.UUID,
    now: datetime,
    *,
    room: int,
    queued_max: int,
    spacing_s: float,
) -> LabRun | None:
    """PostgreSQL only: queue a check over every action so far in one statement, as attempt_touch and run_insert do
    in a transaction. None, with nothing written, if there is no such attempt or (with `room` > 0) the learner has no
    room for `room` more runs under `queued_max`. IntegrityError if the attempt has a run with this client token."""
    row = _one(_CHECK_PG, _queue_params(attempt_id, user_id, client_token, now, room, queued_max, spacing_s))
    if row is None:
        return None
    return _pending_run(
        int(row[0]),
        attempt_id=attempt_id,
        kind=LabRun.Kind.CHECK,
        action_id=None,
        upto_seq=int(row[1]),
        client_token=client_token,
        fair_at=_datetime(row[2]),
        created_at=now,
        nudged_at=now,
    )


def action_submit_pg(
    attempt_id: int,
    user_id: int,
    source: str,
    action: dict[str, Any],
    client_token: uuid.UUID,
    now: datetime,
    *,
    max_actions: int,
    room: int,
    queued_max: int,
    spacing_s: float,
) -> tuple[LabAction, LabRun] | None:
    """PostgreSQL only: number, append and queue an action in one statement, as attempt_next_seq, action_insert and
    run_insert do in a transaction (the run's turn as labs.services._fair_at computes it, `spacing_s` after the
    learner's last). None, with nothing written, if the attempt was reset, already has `max_actions` actions, or
    (with `room` > 0) the learner has no room for `room` more runs under `queued_max`. IntegrityError if the
    attempt has a run with this client token."""
    params = _queue_params(attempt_id, user_id, client_token, now, room, queued_max, spacing_s)
    params.update({"max_actions": max_actions, "source": source, "action": _prep(LabAction, "action", action)})
    row = _one(_SUBMIT_PG, params)
    if row is None:
        return None
    action_id, seq, run_id, fair_at = int(row[0]), int(row[1]), int(row[2]), _datetime(row[3])
    lab_action = _loaded(
        LabAction,
        id=action_id,
        attempt_id=attempt_id,
        seq=seq,
        source=source,
        action=action,
        client_token=client_token,
        created_at=now,
        over_budget=False,
    )
    run = _pending_run(
        run_id,
        attempt_id=attempt_id,
        kind=LabRun.Kind.ACTION,
        action_id=action_id,
        upto_seq=seq,
        client_token=client_token,
        fair_at=fair_at,
        created_at=now,
        nudged_at=now,
    )
    return lab_action, run


# --- Executing -----------------------------------------------------------------------------------------


# A claim need not survive a database crash (its run would be pending again, and re-sent), so on PostgreSQL it commits
# without waiting for the WAL flush: set_config(..., true) is SET LOCAL inside the statement's own transaction, one
# round trip still. The result's commit waits for the flush, and so makes the claim before it durable too.
_ASYNC_COMMIT = (
    "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit "
    if connection.vendor == "postgresql"
    else ""
)
_CLAIM = (
    f"UPDATE {_RUN} SET status = '{_RUNNING}', claimed_at = %s, lease = %s, deliveries = deliveries + 1 "
    f"{_ASYNC_COMMIT}WHERE {{where}} RETURNING id, attempt_id, kind, upto_seq, deliveries"
)
_CLAIM_HEAD = _CLAIM.format(
    where=f"id = (SELECT id FROM {_RUN} WHERE status = '{_PENDING}' ORDER BY fair_at, id LIMIT 1) "
    f"AND status = '{_PENDING}'"
)
_CLAIM_ONE = _CLAIM.format(where=f"id = %s AND (status = '{_RUNNING}' AND claimed_at < %s OR status = '{_PENDING}')")
_CLAIM_STALE = _CLAIM.format(where=f"id = %s AND status = '{_RUNNING}' AND claimed_at < %s")


def run_claim(
    now: datetime,
    lease: uuid.UUID,
    run_id: int | None = None,
    stale_before: datetime | None = None,
    *,
    pending: bool = True,
) -> LabRun | None:
    """Claim a run with one conditional UPDATE: the head of the queue (no `run_id`), or run `run_id` if it is pending
    (with `pending`) or running with a claim older than `stale_before` (its worker died). The claimed run with what
    the worker needs of it (the UPDATE returns it; the other fields are deferred), or None if nothing was claimed."""
    params = [_prep(LabRun, "claimed_at", now), _prep(LabRun, "lease", lease)]
    if run_id is None:
        sql = _CLAIM_HEAD
    else:
        sql = _CLAIM_ONE if pending else _CLAIM_STALE
        params += [run_id, _prep(LabRun, "claimed_at", stale_before)]
    row = _one(sql, params)
    if row is None:
        return None
    return _loaded(
        LabRun,
        id=int(row[0]),
        attempt_id=int(row[1]),
        kind=str(row[2]),
        upto_seq=int(row[3]),
        deliveries=int(row[4]),
        status=LabRun.Status.RUNNING,
        claimed_at=now,
        lease=lease,
    )


@dataclass(frozen=True)
class AttemptScenario:
    """What evaluating a run needs of its attempt and lab."""

    seed: int
    params: dict[str, Any]
    hints_used: dict[str, int]
    definition: dict[str, Any]


# The attempt's scenario (part 0) and its replayable actions (part 1, in order) in one read: seq holds the seed in
# part 0, data the params or the action (only those after the cache's last one are read).
_SCENARIO_AND_LOG = (
    f"SELECT 0, a.seed, a.params, a.hints_used, l.definition FROM {_ATTEMPT} a JOIN {_LAB} l ON l.id = a.lab_id "
    "WHERE a.id = %s "
    f"UNION ALL SELECT 1, seq, CASE WHEN seq > %s THEN action ELSE NULL END, NULL, NULL FROM {_ACTION} "
    "WHERE attempt_id = %s AND seq <= %s AND over_budget = %s "
    "ORDER BY 1, 2"
)
_LOG = f"SELECT seq, action FROM {_ACTION} WHERE attempt_id = %s AND seq <= %s AND over_budget = %s ORDER BY seq"

Log = list[tuple[int, dict[str, Any] | None]]


def attempt_scenario_and_log(attempt_id: int, upto_seq: int, after_seq: int = -1) -> tuple[AttemptScenario, Log]:
    """The attempt's scenario and its replayable actions 1..upto_seq as (seq, action), in one read; only actions
    after `after_seq` are read and decoded (the others are None), so a worker whose cache holds the start reads
    only what is new."""
    with _cursor() as cursor:
        cursor.execute(_SCENARIO_AND_LOG, [attempt_id, after_seq, attempt_id, upto_seq, False])
        rows = cursor.fetchall()
    if not rows or rows[0][0] != 0:
        raise LabAttempt.DoesNotExist(f"no lab attempt {attempt_id}")
    _, seed, params, hints_used, definition = rows[0]
    scenario = AttemptScenario(
        seed=int(seed), params=_json(params), hints_used=_json(hints_used), definition=_json(definition)
    )
    return scenario, [(int(seq), _json(action) if action is not None else None) for _, seq, action, _, _ in rows[1:]]


def action_log(attempt_id: int, upto_seq: int) -> Log:
    """The attempt's replayable actions 1..upto_seq in order, as (seq, action), every one read."""
    with _cursor() as cursor:
        cursor.execute(_LOG, [attempt_id, upto_seq, False])
        rows = cursor.fetchall()
    return [(int(seq), _json(action)) for seq, action in rows]


_FINISH = (
    f"UPDATE {_RUN} SET status = %s, result = %s, trace = %s, message = %s, points = %s, finished_at = %s "
    f"WHERE id = %s AND status = '{_RUNNING}' AND lease = %s"
)


def run_finish(run_id: int, lease: uuid.UUID, fields: dict[str, Any]) -> bool:
    """Store a result if `lease` still holds the run; False if a recovery took it over."""
    with _cursor() as cursor:
        cursor.execute(
            _FINISH,
            [
                fields["status"],
                _prep(LabRun, "result", fields["result"]),
                _prep(LabRun, "trace", fields.get("trace")),
                fields["message"],
                fields["points"],
                _prep(LabRun, "finished_at", fields["finished_at"]),
                run_id,
                _prep(LabRun, "lease", lease),
            ],
        )
        return bool(cursor.rowcount)
