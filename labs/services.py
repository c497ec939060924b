"""Lab attempts and runs: start, act, check, execute on the simulator, sweep, reset.

Every action or "check my work" creates a LabRun row in the same transaction as the action; the Celery task is
enqueued only after that transaction commits. A worker claims a run with a conditional UPDATE, evaluates it on
the simulator (labs.engine) and stores the result with another conditional UPDATE that only the claim holder can
make, so a run's result is recorded once even if the message is delivered twice.

Fairness: a message is a turn, not an order. The worker that receives one takes the pending run with the
earliest `fair_at`; each learner's runs are stamped one run budget apart and a newcomer's run is stamped at the
head of the queue, so a learner who queues twenty runs delays another learner's run by at most the run in
progress. Each learner may have at most LAB_QUEUED_RUNS_MAX runs waiting and make LAB_SUBMISSIONS_PER_MINUTE
submissions a minute (RateLimited, nothing recorded).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.http import Http404
from django.utils import timezone

from core import ratelimit
from labs import engine, notify, runsql, signals
from labs.models import Lab, LabAction, LabAttempt, LabRun

log = logging.getLogger(__name__)

MAX_DELIVERIES = 3
SEED_RANGE = 2**31 - 1


class RateLimited(ValueError):
    """The learner is over a rate limit; the message says what to do. Nothing was recorded."""


def _setting(name: str) -> float:
    """A lab-run setting; config/settings.py is the one place that gives each its default (and documents it)."""
    return float(getattr(settings, name))


# --- Access: one helper per object, filtering by the requesting user ------------------------------------


def lab_attempt_get_for_user(user: Any, attempt_id: int) -> LabAttempt:
    """The attempt with this id if it belongs to `user`; 404 otherwise (another learner's id never leaks)."""
    attempt = runsql.attempt_for_user(attempt_id, user.pk) if user.is_authenticated else None
    if attempt is None:
        raise Http404("No such lab attempt.")
    return attempt


def lab_runs_load_traces(runs: list[LabRun]) -> None:
    """Read the trace of each of `runs` (deferred by LabRun.objects) in one query."""
    traces = dict(LabRun.objects.filter(pk__in=[run.pk for run in runs]).values_list("pk", "trace"))
    for run in runs:
        run.trace = traces.get(run.pk)


def lab_runs_refresh(runs: list[LabRun]) -> None:
    """Re-read the state and result of `runs` in place (one query), keeping what they already hold."""
    fields = ("status", "result", "message", "points", "claimed_at", "finished_at")
    fresh = {row.pop("pk"): row for row in LabRun.objects.filter(pk__in=[run.pk for run in runs]).values("pk", *fields)}
    for run in runs:
        for name, value in fresh.get(run.pk, {}).items():  # a run deleted meanwhile (its learner was) keeps its state
            setattr(run, name, value)


def lab_run_get_for_user(user: Any, run_id: int, *, with_trace: bool = False) -> LabRun:
    """The run with this id if its attempt belongs to `user`; 404 otherwise. Its trace is read only if asked."""
    runs = LabRun.objects.defer(None) if with_trace else LabRun.objects.all()
    try:
        return runs.select_related("attempt__lab__item", "action").get(pk=run_id, attempt__user=user)
    except LabRun.DoesNotExist:
        raise Http404("No such lab run.") from None


# --- Attempts ------------------------------------------------------------------------------------------


def lab_attempt_current(user: Any, lab: Lab) -> LabAttempt:
    """The learner's active attempt at `lab`, starting one (with a fresh seed and variant values) if needed."""
    attempt = LabAttempt.objects.filter(user=user, lab=lab, status=LabAttempt.Status.ACTIVE).first()
    if attempt:
        return attempt
    return _lab_attempt_create(user, lab)


def _lab_attempt_create(user: Any, lab: Lab, seed: int | None = None) -> LabAttempt:
    seed = seed if seed is not None else random.SystemRandom().randrange(1, SEED_RANGE)
    params = engine.draw_params(lab.definition, seed)
    try:
        with transaction.atomic():
            number = (LabAttempt.objects.filter(user=user, lab=lab).aggregate(n=Max("number"))["n"] or 0) + 1
            return LabAttempt.objects.create(user=user, lab=lab, number=number, seed=seed, params=params)
    except IntegrityError:
        # Two tabs started an attempt at once: the other one won; use it.
        return LabAttempt.objects.get(user=user, lab=lab, status=LabAttempt.Status.ACTIVE)


def lab_attempt_reset(attempt: LabAttempt, reason: str = "", seed: int | None = None) -> LabAttempt:
    """Keep `attempt` for the record (status reset) and start a new one with a new seed."""
    with transaction.atomic():
        LabAttempt.objects.filter(pk=attempt.pk, status=LabAttempt.Status.ACTIVE).update(
            status=LabAttempt.Status.RESET, reset_reason=reason[:500]
        )
    return _lab_attempt_create(attempt.user, attempt.lab, seed=seed)


# --- Submitting actions and checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    run: LabRun
    created: bool  # False when the same client token was submitted before (a double click)


def lab_submission_throttle(user: Any) -> None:
    """Count one submission by `user`; RateLimited if it is over the per-minute limit. (How many runs a learner may
    have waiting is checked by the submission itself, with the attempt's row: `queue_room_for`.)"""
    per_minute = int(_setting("LAB_SUBMISSIONS_PER_MINUTE"))
    count = ratelimit.hit(f"labs:submissions:{user.pk}", 60)
    if count > per_minute:
        raise RateLimited(
            f"You sent {per_minute} submissions in the last minute: wait a moment, then run it again "
            "(your text is kept)."
        )


def _check_queue_room(waiting: int, runs: int) -> None:
    """RateLimited if `runs` more runs would put the learner, who has `waiting`, over LAB_QUEUED_RUNS_MAX."""
    queued_max = int(_setting("LAB_QUEUED_RUNS_MAX"))
    if runs and waiting + runs > queued_max:
        raise RateLimited(
            f"You have {waiting} runs waiting for the simulator (at most {queued_max}): wait for their results, "
            "then run it again (your text is kept)."
        )


def _fair_at(queue: runsql.Queue, now: datetime) -> datetime:
    """This run's turn (start-time fair queueing) from the `queue`: the turn being served, or one run budget after
    this learner's last waiting run, whichever is later. A learner with nothing waiting goes right after the run in
    progress (the head of the queue, or `now` when nothing waits). runsql.action_submit_pg says the same in SQL."""
    serving = queue.serving or queue.head or now
    if queue.last is None:
        return serving
    return max(serving, queue.last + timedelta(seconds=engine.RUN_TIME_BUDGET_S))


def lab_action_validate(action: dict[str, Any]) -> dict[str, Any]:
    """The simulator's own input check at submission, so an out-of-bounds action is refused before it is stored."""
    from labs.sim.actions import validate
    from labs.sim.errors import SimError

    if action.get("op") in engine.ENGINE_OPS:
        if len(str(action)) > engine.MAX_INPUT_BYTES:
            raise ValueError(f"The input is longer than {engine.MAX_INPUT_BYTES:,} bytes.")
        return action
    try:
        return validate(action)
    except SimError as exc:
        raise ValueError(f"{exc}.") from None


def lab_action_submit(
    attempt: LabAttempt, source: str, action: dict[str, Any], client_token: uuid.UUID, *, queue_room_for: int = 0
) -> Submission:
    """Append `action` to the attempt's log and create its run, in one transaction; enqueue after commit.
    RateLimited, with nothing recorded, if the learner has no room in the queue for `queue_room_for` more runs: a
    learner's request asks (a console POST of several commands asks room for all of them with its first)."""
    if attempt.status == LabAttempt.Status.RESET:
        raise ValueError("This attempt was reset; reload the lab to continue in the new attempt.")
    if len(source.encode("utf-8", "surrogatepass")) > engine.MAX_INPUT_BYTES:
        raise ValueError(f"The input is longer than {engine.MAX_INPUT_BYTES:,} bytes.")
    lab_action_validate(action)
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _action_submit_pg(attempt, source, action, client_token, now, queue_room_for)
    try:  # a token seen before (a double click) fails the unique constraint: the first submission is the record
        with transaction.atomic():
            taken = runsql.attempt_next_seq(attempt.pk, attempt.user_id, now)  # locks the row until the commit
            if taken is None:
                raise ValueError("This attempt was reset; reload the lab to continue in the new attempt.")
            seq, queue = taken
            _check_queue_room(queue.waiting, queue_room_for)
            if seq > engine.MAX_ACTIONS:
                raise ValueError(
                    f"This attempt already has {engine.MAX_ACTIONS} actions; reset the lab to start again."
                )
            lab_action = runsql.action_insert(attempt.pk, seq, source, action, client_token, now)
            run = runsql.run_insert(
                attempt.pk, LabRun.Kind.ACTION, lab_action.pk, seq, client_token, _fair_at(queue, now), now
            )
            run.action = lab_action
            _enqueue_on_commit(run.pk)
    except IntegrityError:
        # The same token raced in from a second request: the first one is the record.
        return Submission(LabRun.objects.get(attempt=attempt, client_token=client_token), created=False)
    attempt.action_count = seq
    run.attempt = attempt
    return Submission(run, created=True)


def _action_submit_pg(
    attempt: LabAttempt,
    source: str,
    action: dict[str, Any],
    client_token: uuid.UUID,
    now: datetime,
    queue_room_for: int,
) -> Submission:
    """lab_action_submit on PostgreSQL: the same rows and limits in one statement (runsql.action_submit_pg)."""

    def write() -> LabRun | None:
        submitted = runsql.action_submit_pg(
            attempt.pk,
            attempt.user_id,
            source,
            action,
            client_token,
            now,
            max_actions=engine.MAX_ACTIONS,
            room=queue_room_for,
            queued_max=int(_setting("LAB_QUEUED_RUNS_MAX")),
            spacing_s=engine.RUN_TIME_BUDGET_S,
        )
        if submitted is None:
            return None
        lab_action, run = submitted
        run.action = lab_action
        return run

    return _submit_in_one_statement(attempt, client_token, write, lambda: _refused(attempt, queue_room_for))


def _submit_in_one_statement(
    attempt: LabAttempt, client_token: uuid.UUID, write: Callable[[], LabRun | None], refused: Callable[[], NoReturn]
) -> Submission:
    """Run `write` (one statement that records a run, or returns None having written nothing), enqueue its run after
    commit, and answer as the transaction does: the first run of a double click's token, or `refused()`'s error.
    Inside a caller's transaction it runs in a savepoint, so that an IntegrityError leaves that usable."""
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            run = write()
            if run is not None:
                _enqueue_on_commit(run.pk)
    except IntegrityError:
        # The same token raced in from a second request: the first one is the record.
        return Submission(LabRun.objects.get(attempt=attempt, client_token=client_token), created=False)
    if run is None:
        refused()
    attempt.action_count = run.upto_seq
    run.attempt = attempt
    return Submission(run, created=True)


def _refused(attempt: LabAttempt, queue_room_for: int, *, action: bool = True) -> NoReturn:
    """Why a one-statement submission wrote nothing, in the order the transaction checks: reset (an action) or gone,
    queue, length (an action)."""
    row = LabAttempt.objects.filter(pk=attempt.pk).values("status", "action_count").first()
    if action and (row is None or row["status"] == LabAttempt.Status.RESET):
        raise ValueError("This attempt was reset; reload the lab to continue in the new attempt.")
    if row is None:
        raise LabAttempt.DoesNotExist(f"no lab attempt {attempt.pk}")
    waiting = LabRun.objects.filter(
        attempt__user_id=attempt.user_id, status__in=(LabRun.Status.PENDING, LabRun.Status.RUNNING)
    ).count()
    _check_queue_room(waiting, queue_room_for)
    if action and row["action_count"] >= engine.MAX_ACTIONS:
        raise ValueError(f"This attempt already has {engine.MAX_ACTIONS} actions; reset the lab to start again.")
    raise ValueError("The run could not be recorded: run it again.")  # a limit moved between the two reads


def lab_check_submit(attempt: LabAttempt, client_token: uuid.UUID, *, queue_room_for: int = 0) -> Submission:
    """Create a "check my work" run over every action so far; enqueue after commit. RateLimited, with nothing
    recorded, if the learner has no room in the queue for `queue_room_for` more runs (a learner's request asks 1)."""
    if connection.vendor == "postgresql":
        now = timezone.now()

        def write() -> LabRun | None:
            return runsql.check_submit_pg(
                attempt.pk,
                attempt.user_id,
                client_token,
                now,
                room=queue_room_for,
                queued_max=int(_setting("LAB_QUEUED_RUNS_MAX")),
                spacing_s=engine.RUN_TIME_BUDGET_S,
            )

        return _submit_in_one_statement(
            attempt, client_token, write, lambda: _refused(attempt, queue_room_for, action=False)
        )
    existing = LabRun.objects.filter(attempt=attempt, client_token=client_token).first()
    if existing:
        return Submission(existing, created=False)
    now = timezone.now()
    try:
        with transaction.atomic():
            upto_seq, queue = runsql.attempt_touch(attempt.pk, attempt.user_id, now)  # locks the row until the commit
            _check_queue_room(queue.waiting, queue_room_for)
            fair_at = _fair_at(queue, now)
            run = runsql.run_insert(attempt.pk, LabRun.Kind.CHECK, None, upto_seq, client_token, fair_at, now)
            _enqueue_on_commit(run.pk)
    except IntegrityError:
        return Submission(LabRun.objects.get(attempt=attempt, client_token=client_token), created=False)
    run.attempt = attempt
    return Submission(run, created=True)


def _enqueue_on_commit(run_id: int) -> None:
    from labs.tasks import execute_lab_run

    transaction.on_commit(lambda: _send(execute_lab_run, run_id))


def _send(task: Any, run_id: int, recover: bool = False) -> None:
    try:
        task.apply_async((run_id, recover) if recover else (run_id,), queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    except Exception:  # noqa: BLE001 - a broker outage must not lose the run: the sweeper re-sends it
        log.warning("could not enqueue lab run %s; the sweeper will re-send it", run_id, exc_info=True)


# --- Executing a run (the Celery task body) ------------------------------------------------------------


def lab_run_execute_next(run_id: int, recover: bool = False) -> LabRun | None:
    """The task body: recover run `run_id` if the sweeper says its worker died, else run the pending run whose
    turn it is (which may be another learner's: a message is a turn)."""
    now = timezone.now()
    if recover:
        claimed = _claim(now, run_id=run_id, pending=False)
        if claimed is not None:
            return _execute_claimed(claimed)
    for _ in range(3):  # another worker may claim the same head first: take the next one
        claimed = _claim(now)
        if claimed is not None:
            return _execute_claimed(claimed)
        if not LabRun.objects.filter(status=LabRun.Status.PENDING).exists():
            return None
    return None


def lab_run_execute(run_id: int, now: datetime | None = None) -> LabRun | None:
    """Claim run `run_id`, evaluate it on the simulator and store the result once; None if there was nothing to do."""
    claimed = _claim(now or timezone.now(), run_id=run_id, pending=True)
    if claimed is None:
        return None  # finished already, or another worker holds a fresh claim
    return _execute_claimed(claimed)


def _stale(now: datetime) -> datetime:
    return now - timedelta(seconds=_setting("LAB_RUN_STALE_SECONDS"))


def _claim(now: datetime, run_id: int | None = None, *, pending: bool = True) -> LabRun | None:
    """Take the head of the queue, or run `run_id` (pending, or running but stale: its worker died), with one
    conditional UPDATE under a new lease (the run's `lease`).

    One statement, committed on its own (autocommit); on PostgreSQL without waiting for the WAL flush (see
    runsql._ASYNC_COMMIT), in one round trip where a transaction with SET LOCAL took four."""
    return runsql.run_claim(now, uuid.uuid4(), run_id, _stale(now), pending=pending)


def _execute_claimed(run: LabRun) -> LabRun | None:
    """Evaluate the run this worker claimed; the claim's own UPDATE returned what this needs of the run."""
    if run.deliveries > MAX_DELIVERIES:
        return _finish(run, engine.could_not_evaluate("the run was interrupted too many times"))
    fault_delay = _setting("LAB_RUN_FAULT_DELAY_SECONDS")
    if fault_delay:
        time.sleep(fault_delay)  # fault-injection tests only: keeps a run "running" long enough to kill its worker
    # Every action number, but only the actions the worker's cached replay lacks are read (and decoded).
    known = engine.REPLAY_CACHE.seqs_held(run.attempt_id)
    cached_upto = known[-1] if known else -1
    scenario, logged = runsql.attempt_scenario_and_log(run.attempt_id, run.upto_seq, cached_upto)
    definition = scenario.definition
    if known is not None and engine.REPLAY_CACHE.known_seqs(
        run.attempt_id, definition, scenario.seed, scenario.params
    ) is None:
        known = None  # the cached replay is of another scenario: it is not used
    seqs = [seq for seq, _ in logged]
    actions: list[dict[str, Any] | None] = [action for _, action in logged]
    if (known is None and cached_upto >= 0) or (known is not None and known != seqs[: len(known)]):
        actions = [action for _, action in runsql.action_log(run.attempt_id, run.upto_seq)]  # read the whole log
    try:
        outcome = engine.evaluate(
            definition,
            scenario.seed,
            scenario.params,
            actions,  # type: ignore[arg-type]
            kind=run.kind,
            hints_used=scenario.hints_used,
            seqs=seqs,
            cache_key=run.attempt_id,
        )
    except SoftTimeLimitExceeded:
        engine.REPLAY_CACHE.clear()  # the host may be half-way through an action
        outcome = engine.timed_out("the worker's time limit")
    except Exception:  # noqa: BLE001 - an infrastructure or engine failure is never reported as a wrong answer
        engine.REPLAY_CACHE.clear()
        log.exception("lab run %s could not be evaluated", run.pk)
        outcome = engine.could_not_evaluate("an internal error in the lab engine")
    return _finish(run, outcome)


def _finish(run: LabRun, outcome: engine.Outcome) -> LabRun | None:
    """The one place a run's result is stored: once, by the claim holder, with what it implies, in one transaction.

    An action whose own run went over the simulator's budget is marked so that no later replay includes it."""
    fields = {
        "status": outcome.status,
        "result": outcome.result,
        "trace": outcome.trace,
        "message": outcome.message,
        "points": outcome.points,
        "finished_at": timezone.now(),
    }
    needs_progress = run.kind == LabRun.Kind.CHECK and outcome.status in (LabRun.Status.PASSED, LabRun.Status.FAILED)
    over_budget = run.kind == LabRun.Kind.ACTION and outcome.over_budget_seq == run.upto_seq
    # One statement needs no transaction of its own (in autocommit it is one); more are atomic together.
    with transaction.atomic() if (needs_progress or over_budget) else nullcontext():
        if not runsql.run_finish(run.pk, run.lease, fields):
            return None  # our claim was taken over by a recovery; its result is the record
        if over_budget:
            LabAction.objects.filter(attempt_id=run.attempt_id, seq=run.upto_seq).update(over_budget=True)
        if needs_progress:
            attempt = LabAttempt.objects.select_related("lab__item", "user").get(pk=run.attempt_id)
            run.attempt = attempt
            _record_progress(attempt, outcome)
            signals.lab_check_scored.send(
                sender=LabRun, run=run, points=outcome.points, passed=outcome.status == LabRun.Status.PASSED
            )
        transaction.on_commit(lambda: notify.lab_run_finished(run.pk))
    for name, value in fields.items():
        setattr(run, name, value)
    return run


def _record_progress(attempt: LabAttempt, outcome: engine.Outcome) -> None:
    from courseware.services import progress_record_lab_check

    lab = attempt.lab
    LabAttempt.objects.filter(pk=attempt.pk, best_points__lt=outcome.points).update(best_points=outcome.points)
    passed = outcome.status == LabRun.Status.PASSED
    if passed:
        LabAttempt.objects.filter(pk=attempt.pk, status=LabAttempt.Status.ACTIVE).update(
            status=LabAttempt.Status.COMPLETED, completed_at=timezone.now()
        )
    # Every graded check counts, failed ones too: partial points are the learner's score until a better check.
    progress_record_lab_check(attempt.user, lab.item, min(outcome.points, lab.max_points), lab.max_points, passed)


# --- Recovery ------------------------------------------------------------------------------------------


def lab_runs_sweep(now: datetime | None = None) -> int:
    """Re-send runs whose message was lost and recover runs whose worker died, each at most once per deadline;
    returns how many messages were sent.

    A message is a turn (see lab_run_execute_next), so a pending run needs a new one only when the queue holds
    fewer messages than there are pending runs: after a broker flush, not while a backlog drains."""
    from labs.tasks import execute_lab_run

    now = now or timezone.now()
    pending_before = now - timedelta(seconds=_setting("LAB_RUN_PENDING_SECONDS"))
    stale_before = _stale(now)
    resent = 0
    # Not re-sent since its claim, or re-sent longer than a deadline ago.
    not_nudged = Q(nudged_at__lt=F("claimed_at")) | Q(nudged_at__lt=pending_before)
    dead = LabRun.objects.filter(not_nudged, status=LabRun.Status.RUNNING, claimed_at__lt=stale_before)
    for run_id in list(dead.values_list("pk", flat=True)[:500]):
        if LabRun.objects.filter(not_nudged, pk=run_id, status=LabRun.Status.RUNNING).update(nudged_at=now):
            _send(execute_lab_run, run_id, recover=True)
            resent += 1
    lost = LabRun.objects.filter(status=LabRun.Status.PENDING, nudged_at__lt=pending_before)
    if not lost.exists():
        return resent
    waiting = queue_length()
    missing = LabRun.objects.filter(status=LabRun.Status.PENDING).count() - (waiting or 0)
    for run_id in list(lost.order_by("fair_at", "pk").values_list("pk", flat=True)[: max(0, min(missing, 500))]):
        # Claim the re-send so that two sweepers never nudge the same run twice in one round.
        if LabRun.objects.filter(pk=run_id, status=LabRun.Status.PENDING, nudged_at__lt=pending_before).update(
            nudged_at=now
        ):
            _send(execute_lab_run, run_id)
            resent += 1
    return resent


def queue_length() -> int | None:
    """Messages waiting in the lab runs' broker queue (not those a worker holds); None if the broker won't say."""
    from amqp.exceptions import ChannelError
    from celery import current_app

    try:
        with current_app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(queue=settings.CELERY_TASK_DEFAULT_QUEUE, passive=True)
            return int(declared.message_count)
    except ChannelError as exc:
        if getattr(exc, "reply_code", None) == 404:
            return 0  # Redis drops an empty queue's key
        log.warning("could not read the length of the lab runs queue", exc_info=True)
        return None
    except Exception:  # noqa: BLE001 - an unreachable broker: count every pending run as lost
        log.warning("could not read the length of the lab runs queue", exc_info=True)
        return None


# --- Hints ---------------------------------------------------------------------------------------------


def lab_hint_reveal(attempt: LabAttempt, check_id: str) -> list[str]:
    """Reveal the next hint of a check's ladder (recorded on the attempt); return the hints revealed so far."""
    check = attempt.lab.check_by_id(check_id)
    if check is None:
        raise KeyError(check_id)
    ladder = engine.substitute(check.get("hints", []), attempt.params)
    with transaction.atomic():
        locked = LabAttempt.objects.select_for_update().get(pk=attempt.pk)
        used = dict(locked.hints_used)
        used[check_id] = min(len(ladder), int(used.get(check_id, 0)) + 1)
        LabAttempt.objects.filter(pk=locked.pk).update(hints_used=used, last_activity_at=timezone.now())
    attempt.hints_used = used
    return list(ladder[: used[check_id]])
