"""Runs: created with the action in one transaction, enqueued on commit, claimed once, recorded once, recovered."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from courseware.models import Progress
from labs import engine, services
from labs.models import Lab, LabAction, LabAttempt, LabRun

pytestmark = pytest.mark.django_db


def _act(attempt: LabAttempt, action: dict[str, Any], source: str = "cmd") -> LabRun:
    return services.lab_action_submit(attempt, source, action, uuid.uuid4()).run


def test_an_action_creates_its_log_entry_and_a_pending_run_and_enqueues_after_commit(
    alice: Any, io_lab: Lab, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    monkeypatch.setattr("labs.tasks.execute_lab_run.apply_async", lambda args, **kw: sent.append(args[0]))
    attempt = services.lab_attempt_current(alice, io_lab)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = _act(attempt, {"op": "io", "vm": attempt.params["legacy_vm"], "op_kind": "write", "bytes": 102400})
    assert run.status == LabRun.Status.PENDING and run.upto_seq == 1
    assert LabAction.objects.get(attempt=attempt).seq == 1
    assert sent == [], "nothing is sent before the transaction commits"
    for callback in callbacks:
        callback()
    assert sent == [run.pk]


def test_the_same_submission_twice_is_recorded_once(alice: Any, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    token = uuid.uuid4()
    first = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, token)
    second = services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, token)
    assert first.created and not second.created and first.run.pk == second.run.pk
    assert LabAction.objects.filter(attempt=attempt).count() == 1
    attempt.refresh_from_db()
    assert attempt.action_count == 1


def test_executing_a_run_stores_the_result_once(alice: Any, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = _act(attempt, {"op": "io", "vm": attempt.params["legacy_vm"], "op_kind": "write", "bytes": 102400})
    done = services.lab_run_execute(run.pk)
    assert done is not None and done.status == LabRun.Status.PASSED and done.deliveries == 1
    assert done.result["output"]["counters"]["port_accesses"] == 40
    assert "emulated path" in done.message
    assert services.lab_run_execute(run.pk) is None, "a second delivery of a finished run does nothing"
    run.refresh_from_db()
    assert run.deliveries == 1 and run.finished_at == done.finished_at


def test_a_simulator_error_is_a_failed_action_with_the_wmi_code(alice: Any, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = _act(attempt, {"op": "vm.state", "vm": attempt.params["legacy_vm"], "requested_state": 2})
    done = services.lab_run_execute(run.pk)
    assert done is not None and done.status == LabRun.Status.FAILED
    assert done.result["error"]["wmi_return_code"] == 32775
    assert "cannot start" in done.message


def test_a_check_run_that_passes_records_completion_and_points(alice: Any, azman_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, azman_lab)
    p = attempt.params
    for action in (
        {"op": "azman.create_scope", "name": "Finance"},
        {
            "op": "azman.create_role",
            "name": "Ops",
            "operations": ["Start Virtual Machine", "Stop Virtual Machine"],
            "scope": "Finance",
        },
        {"op": "azman.assign", "role": "Ops", "member": p["operator"], "scope": "Finance"},
        {"op": "wmi.modify_system", "vm": p["finance_vm_1"], "scope_of_residence": "Finance"},
        {"op": "wmi.modify_system", "vm": p["finance_vm_2"], "scope_of_residence": "Finance"},
    ):
        services.lab_run_execute(_act(attempt, action).pk)
    check = services.lab_check_submit(attempt, uuid.uuid4()).run
    done = services.lab_run_execute(check.pk)
    assert done is not None and done.status == LabRun.Status.PASSED and done.points == 11
    attempt.refresh_from_db()
    assert attempt.status == LabAttempt.Status.COMPLETED and attempt.best_points == 11
    progress = Progress.objects.get(user=alice, item=azman_lab.item)
    assert progress.status == Progress.Status.COMPLETED


def test_a_failing_check_says_expected_and_observed_and_records_no_completion(alice: Any, azman_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, azman_lab)
    services.lab_run_execute(_act(attempt, {"op": "azman.create_scope", "name": "Finance"}).pk)
    done = services.lab_run_execute(services.lab_check_submit(attempt, uuid.uuid4()).run.pk)
    assert done is not None and done.status == LabRun.Status.FAILED
    failing = {c["id"]: c for c in done.result["checks"] if not c["passed"]}
    vm1 = attempt.params["finance_vm_1"]
    assert failing["vm1-in-scope"]["message"].startswith(
        f"Expected vms[name={vm1}].scope_of_residence = 'Finance'; observed vms[name={vm1}].scope_of_residence = ''"
    )
    assert "(after action #1)" in failing["vm1-in-scope"]["message"]
    assert not Progress.objects.filter(user=alice, item=azman_lab.item, status=Progress.Status.COMPLETED).exists()


def test_a_run_over_budget_times_out_with_a_clear_message(
    alice: Any, io_lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "RUN_EVENT_BUDGET", 100)
    attempt = services.lab_attempt_current(alice, io_lab)
    run = _act(attempt, {"op": "io", "vm": attempt.params["legacy_vm"], "op_kind": "write", "bytes": 102400})
    done = services.lab_run_execute(run.pk)
    assert done is not None and done.status == LabRun.Status.TIMED_OUT
    assert "over its budget" in done.message and "more than 100 trace events" in done.message


def test_an_engine_crash_reads_as_could_not_evaluate_never_as_wrong(
    alice: Any, io_lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine, "replay", boom)
    attempt = services.lab_attempt_current(alice, io_lab)
    done = services.lab_run_execute(services.lab_check_submit(attempt, uuid.uuid4()).run.pk)
    assert done is not None and done.status == LabRun.Status.COULD_NOT_EVALUATE
    assert "This is not a wrong answer: try again." in done.message
    assert "disk on fire" not in done.message


def test_a_run_held_by_a_dead_worker_is_reclaimed_and_recorded_once(alice: Any, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = _act(attempt, {"op": "host.reboot"})
    long_ago = timezone.now() - timedelta(minutes=10)
    LabRun.objects.filter(pk=run.pk).update(
        status=LabRun.Status.RUNNING, claimed_at=long_ago, lease=uuid.uuid4(), deliveries=1
    )
    done = services.lab_run_execute(run.pk)
    assert done is not None and done.status == LabRun.Status.PASSED and done.deliveries == 2


def test_a_fresh_claim_is_not_stolen(alice: Any, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = _act(attempt, {"op": "host.reboot"})
    LabRun.objects.filter(pk=run.pk).update(status=LabRun.Status.RUNNING, claimed_at=timezone.now(), lease=uuid.uuid4())
    assert services.lab_run_execute(run.pk) is None


def test_a_run_interrupted_too_often_could_not_be_evaluated(alice: Any, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = _act(attempt, {"op": "host.reboot"})
    LabRun.objects.filter(pk=run.pk).update(deliveries=services.MAX_DELIVERIES)
    done = services.lab_run_execute(run.pk)
    assert done is not None and done.status == LabRun.Status.COULD_NOT_EVALUATE


def test_the_sweeper_resends_lost_and_stale_runs_only(alice: Any, io_lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []
    monkeypatch.setattr("labs.tasks.execute_lab_run.apply_async", lambda args, **kw: sent.append(args[0]))
    monkeypatch.setattr(services, "queue_length", lambda: 0)  # the lost messages are not in the broker
    attempt = services.lab_attempt_current(alice, io_lab)
    lost, fresh, stale, finished = (_act(attempt, {"op": "host.reboot"}) for _ in range(4))
    old = timezone.now() - timedelta(minutes=5)
    LabRun.objects.filter(pk=lost.pk).update(nudged_at=old)
    # Claimed (and so nudged) minutes ago; a run nudged after its claim was re-sent and waits for its deadline.
    LabRun.objects.filter(pk=stale.pk).update(status=LabRun.Status.RUNNING, claimed_at=old, nudged_at=old)
    LabRun.objects.filter(pk=finished.pk).update(status=LabRun.Status.PASSED, nudged_at=old)
    assert services.lab_runs_sweep() == 2
    assert sorted(sent) == sorted([lost.pk, stale.pk])
    sent.clear()
    assert services.lab_runs_sweep() == 0 and sent == [], "a re-sent run is not nudged again before its deadline"
    assert fresh.pk not in sent
    later = timezone.now() + timedelta(seconds=settings.LAB_RUN_PENDING_SECONDS + 1)
    assert services.lab_runs_sweep(now=later) >= 1 and stale.pk in sent, "a run still stale is re-sent next deadline"


def test_reset_keeps_the_old_attempt_and_starts_a_new_seed(alice: Any, io_lab: Lab) -> None:
    first = services.lab_attempt_current(alice, io_lab)
    _act(first, {"op": "host.reboot"})
    second = services.lab_attempt_reset(first, "start again")
    first.refresh_from_db()
    assert first.status == LabAttempt.Status.RESET and first.actions.count() == 1
    assert second.number == 2 and second.status == LabAttempt.Status.ACTIVE and second.action_count == 0
    assert services.lab_attempt_current(alice, io_lab) == second
    with pytest.raises(ValueError, match="was reset"):
        _act(first, {"op": "host.reboot"})


def test_variants_are_drawn_from_the_seed_and_differ_between_learners(alice: Any, bob: Any, io_lab: Lab) -> None:
    assert engine.draw_params(io_lab.definition, 5) == engine.draw_params(io_lab.definition, 5)
    seeds = {engine.draw_params(io_lab.definition, seed)["legacy_vm"] for seed in range(1, 40)}
    assert len(seeds) > 1
    a, b = services.lab_attempt_current(alice, io_lab), services.lab_attempt_current(bob, io_lab)
    assert a.params == engine.draw_params(io_lab.definition, a.seed)
    assert b.params == engine.draw_params(io_lab.definition, b.seed)


def test_hints_are_revealed_one_at_a_time_and_recorded(alice: Any, azman_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, azman_lab)
    assert services.lab_hint_reveal(attempt, "vm1-in-scope") == [
        "Which WMI class carries a VM's scope, and which method changes it?"
    ]
    assert len(services.lab_hint_reveal(attempt, "vm1-in-scope")) == 2
    third = services.lab_hint_reveal(attempt, "vm1-in-scope")
    assert third[-1] == f"wmi ModifyVirtualSystem {attempt.params['finance_vm_1']} ScopeOfResidence = 'Finance'"
    assert len(services.lab_hint_reveal(attempt, "vm1-in-scope")) == 3, "the ladder ends"
    attempt.refresh_from_db()
    assert attempt.hints_used == {"vm1-in-scope": 3}
    with pytest.raises(KeyError):
        services.lab_hint_reveal(attempt, "no-such-check")


def test_a_result_check_can_pick_the_action_by_its_fields(alice: Any, io_lab: Lab) -> None:
    definition = dict(io_lab.definition)
    legacy, enlightened = "setup-w2k3", "app-w2k8"
    params = {"legacy_vm": legacy, "enlightened_vm": enlightened}
    definition["checks"] = [
        {
            "id": "legacy-emulated",
            "expect": {"result": {"op": "io", "where": {"vm": legacy}, "path": "path", "equals": "emulated"}},
        }
    ]
    actions = [
        {"op": "io", "vm": legacy, "op_kind": "write", "bytes": 4096},
        {"op": "io", "vm": enlightened, "op_kind": "write", "bytes": 4096},
    ]
    outcome = engine.evaluate(definition, 1, params, actions, kind="check")
    assert outcome.status == "passed", outcome.result["checks"][0]["message"]
    definition["checks"][0]["expect"]["result"]["where"] = {"vm": enlightened}
    failed = engine.evaluate(definition, 1, params, actions, kind="check")
    assert failed.status == "failed" and "observed 'synthetic'" in failed.result["checks"][0]["message"]


def test_after_a_broker_flush_the_sweeper_resends_each_lost_run_once(
    alice: Any, io_lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    waiting: list[int] = []  # the broker's queue, as the sweeper's sends fill it
    monkeypatch.setattr("labs.tasks.execute_lab_run.apply_async", lambda args, **kw: sent.append(args[0]))
    monkeypatch.setattr(services, "queue_length", lambda: len(sent) - len(waiting))
    attempt = services.lab_attempt_current(alice, io_lab)
    runs = [_act(attempt, {"op": "host.reboot"}) for _ in range(6)]
    sent.clear()  # the flush: every message is gone
    for round_number in range(1, 6):  # the backlog drains slowly: one run per sweep
        later = timezone.now() + timedelta(seconds=round_number * (settings.LAB_RUN_PENDING_SECONDS + 1))
        services.lab_runs_sweep(now=later)
        pending = LabRun.objects.filter(status=LabRun.Status.PENDING).order_by("fair_at", "pk").first()
        if pending is not None:
            services.lab_run_execute(pending.pk)
            waiting.append(pending.pk)  # its message was consumed
    assert sorted(sent) == sorted(r.pk for r in runs), "each lost run re-sent once, none while its message waits"
