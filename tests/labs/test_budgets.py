"""Budgets and bounds: no learner can stall the lab workers (issue 13, finding 1).

Every simulator action has bounds a real host would have; the event and time budgets are enforced inside the
simulator's loops; a run over budget is timed out and its action left out of later replays; each learner has
rate limits; workers take runs in fair order so one learner's queue does not delay another's.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from labs import console, engine, services
from labs.models import Lab, LabAction, LabAttempt, LabRun
from labs.sim.actions import MAX_IO_BYTES, validate
from labs.sim.errors import BudgetExceeded, InvalidParameter
from labs.sim.host import Host
from labs.sim.trace import Budget

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999999999999999999999KB"


def _act(attempt: LabAttempt, action: dict[str, Any]) -> LabRun:
    return services.lab_action_submit(attempt, "cmd", action, uuid.uuid4()).run


def _host(lab: Lab, attempt: LabAttempt) -> Host:
    return Host(engine.substitute(lab.definition["scenario"], attempt.params), seed=attempt.seed)


def test_the_reported_huge_write_is_refused_by_the_console_with_the_limit() -> None:
    with pytest.raises(console.ConsoleError, match=r"at most 2 MB") as caught:
        console.parse(f"io write {HUGE} on legacy01")
    assert caught.value.line == 1 and caught.value.column == 10
    with pytest.raises(console.ConsoleError, match=r"at most 2 MB"):
        console.parse("io write 1000MB on legacy01")
    assert console.parse("io write 2MB on legacy01")[0].action["bytes"] == MAX_IO_BYTES  # type: ignore[index]


@pytest.mark.parametrize(
    ("action", "path"),
    [
        ({"op": "io", "vm": "v", "op_kind": "write", "bytes": MAX_IO_BYTES + 1}, "bytes"),
        ({"op": "vm.define", "name": "v", "guest": "windows-enlightened", "memory_mb": 65537}, "memory_mb"),
        ({"op": "vm.define", "name": "v" * 101, "guest": "windows-enlightened", "memory_mb": 512}, "name"),
        ({"op": "azman.create_scope", "name": "s" * 4097}, "name"),
        ({"op": "azman.create_role", "name": "r" * 65, "operations": []}, "name"),
        ({"op": "azman.create_task", "name": "t", "operations": ["o"] * 65}, "operations"),
        ({"op": "azman.create_task", "name": "t", "operations": [], "description": "d" * 1025}, "description"),
        ({"op": "vm.state", "vm": "v", "requested_state": 70000}, "requested_state"),
        ({"op": "migrate", "vm": "v", "to": "HV02", "dirty_mb_s": float("inf")}, "dirty_mb_s"),
        ({"op": "wmi.query", "wql": "select * from Msvm_ComputerSystem " + "x" * 5000}, "wql"),
        ({"op": "quick_migrate", "vm": "v", "to": "HV02", "storage_mb_s": float("inf")}, "storage_mb_s"),
        ({"op": "vhd.write", "vm": "v", "mb": 10**40}, "mb"),
    ],
)
def test_the_simulator_refuses_inputs_no_real_host_would_take(action: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidParameter, match="at most|must be|RequestedState") as caught:
        validate(action)
    assert caught.value.path == path and caught.value.wmi_return_code == 32773


def test_the_event_budget_stops_an_action_inside_its_own_loop(io_lab: Lab, alice: Any) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    host = _host(io_lab, attempt)
    _boot_and_start(host, attempt.params["legacy_vm"])
    before = len(host.trace.events)
    host.trace.budget = Budget(max_events=before + 1_000)
    with pytest.raises(BudgetExceeded, match="more than"):
        host.io(attempt.params["legacy_vm"], "write", MAX_IO_BYTES, "nic")  # about 40,000 events unbounded
    assert len(host.trace.events) == before + 1_001, "stopped at the first event over budget, not after the action"


def test_the_time_budget_stops_a_run_inside_the_action_at_the_next_clock_read(
    io_lab: Lab, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The simulator reads the clock inside its own loop (every CLOCK_CHECK_EVERY trace events), so a run stops
    within that many events of its deadline. A fake clock, 1 ms later at every read, makes this exact whatever the
    machine's load: no wall-clock bound in the test (the real-worker flood test measures the real thing)."""
    from labs.sim import trace as trace_module

    reads = iter(range(10**9))
    monkeypatch.setattr(trace_module, "time", SimpleNamespace(perf_counter=lambda: next(reads) * 0.001))
    attempt = services.lab_attempt_current(alice, io_lab)
    vm = attempt.params["legacy_vm"]
    heavy = {"op": "io", "vm": vm, "op_kind": "write", "bytes": MAX_IO_BYTES, "device": "nic"}
    budget = 0.010  # ten clock reads
    with pytest.raises(BudgetExceeded, match="took more than") as caught:
        engine.replay(io_lab.definition, attempt.seed, attempt.params, [heavy], time_budget_s=budget)
    assert caught.value.elapsed_s - budget <= 0.001 + 1e-9, "stopped at the first clock read past the deadline"
    assert caught.value.events <= 12 * trace_module.CLOCK_CHECK_EVERY, "stopped inside the action, not after it"
    assert caught.value.seq == 1


def _boot_and_start(host: Host, vm: str) -> None:
    from labs.sim.actions import apply

    if host.vm(vm).state != 2:
        apply(host, {"op": "vm.state", "vm": vm, "requested_state": 2})


def test_an_action_over_budget_times_out_and_is_not_replayed_again(
    alice: Any, io_lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "RUN_EVENT_BUDGET", 5_000)
    attempt = services.lab_attempt_current(alice, io_lab)
    vm = attempt.params["legacy_vm"]
    heavy = _act(attempt, {"op": "io", "vm": vm, "op_kind": "write", "bytes": MAX_IO_BYTES, "device": "nic"})
    done = services.lab_run_execute(heavy.pk)
    assert done is not None and done.status == LabRun.Status.TIMED_OUT
    assert "action #1" in done.message and "left out of your lab" in done.message
    assert LabAction.objects.get(pk=heavy.action_id).over_budget
    engine.REPLAY_CACHE.clear()  # a later run on another worker replays from the log
    after = services.lab_run_execute(_act(attempt, {"op": "io", "vm": vm, "op_kind": "write", "bytes": 4096}).pk)
    assert after is not None and after.status == LabRun.Status.PASSED, after.message
    assert after.result["seq"] == 2
    check = services.lab_run_execute(services.lab_check_submit(attempt, uuid.uuid4()).run.pk)
    assert check is not None and check.status in (LabRun.Status.PASSED, LabRun.Status.FAILED)
    assert check.result["actions"] == 1, "the timed-out action is not in the replay"


def test_a_cached_replay_gives_exactly_what_a_fresh_replay_gives(alice: Any, azman_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, azman_lab)
    p = attempt.params
    actions = [
        {"op": "azman.create_scope", "name": "Finance"},
        {"op": "access", "user": p["operator"], "operation": "Start Virtual Machine", "vm": p["finance_vm_1"]},
        {"op": "azman.create_role", "name": "Ops", "operations": ["Start Virtual Machine"], "scope": "Finance"},
        {"op": "azman.assign", "role": "Ops", "member": p["operator"], "scope": "Finance"},
        {"op": "wmi.modify_system", "vm": p["finance_vm_1"], "scope_of_residence": "Finance"},
        {"op": "show", "what": "azman"},
    ]
    engine.REPLAY_CACHE.clear()
    args = (azman_lab.definition, attempt.seed, attempt.params)
    for n in range(1, len(actions) + 1):
        for kind in ("action", "check"):
            cached = engine.evaluate(*args, actions[:n], kind=kind, cache_key=("test", attempt.pk))
            fresh = engine.evaluate(*args, actions[:n], kind=kind)
            assert cached == fresh, (n, kind)
    assert engine.REPLAY_CACHE.events_held() > 0


def test_the_replay_cache_holds_a_bounded_number_of_events() -> None:
    cache = engine.ReplayCache(max_entries=10, max_events=1_000)

    class FakeHost:
        def __init__(self, events: int) -> None:
            self.trace = type("T", (), {"events": [{}] * events})()

    for key in range(5):
        cache.put(key, "f", engine.Replay(FakeHost(400), [], {}))
    assert cache.events_held() <= 1_000
    cache.put("big", "f", engine.Replay(FakeHost(5_000), [], {}))
    assert cache.take("big", "f") is None


def _console_post(client: Client, attempt: LabAttempt, source: str) -> Any:
    url = reverse("labs:console", kwargs={"attempt_id": attempt.pk})
    return client.post(url, {"source": source, "client_token": str(uuid.uuid4())})


def test_a_learner_over_the_submission_rate_gets_429_and_keeps_the_text(
    alice: Any, alice_client: Client, io_lab: Lab, settings: Any
) -> None:
    settings.LAB_SUBMISSIONS_PER_MINUTE = 3
    attempt = services.lab_attempt_current(alice, io_lab)
    for _ in range(3):
        assert _console_post(alice_client, attempt, "show vms").status_code == 302
    response = _console_post(alice_client, attempt, "show host")
    assert response.status_code == 429
    html = response.content.decode()
    assert "submissions in the last minute" in html and "show host</textarea>" in html
    assert LabAction.objects.filter(attempt=attempt).count() == 3


def test_a_learner_with_too_many_runs_waiting_gets_429_and_nothing_is_recorded(
    alice: Any, alice_client: Client, io_lab: Lab, settings: Any
) -> None:
    settings.LAB_QUEUED_RUNS_MAX = 4
    attempt = services.lab_attempt_current(alice, io_lab)
    assert _console_post(alice_client, attempt, "show vms\nshow host\nshow bcd").status_code == 302
    response = _console_post(alice_client, attempt, "show vms\nshow host")
    assert response.status_code == 429 and "3 runs waiting" in response.content.decode()
    assert LabAction.objects.filter(attempt=attempt).count() == 3, "all or nothing: no command of the POST is kept"
    assert _console_post(alice_client, attempt, "show vms").status_code == 302, "one more fits"
    check_url = reverse("labs:check", kwargs={"attempt_id": attempt.pk})
    check = alice_client.post(check_url, {"client_token": str(uuid.uuid4())})
    assert check.status_code == 429 and "4 runs waiting" in check.content.decode()
    assert not LabRun.objects.filter(attempt=attempt, kind=LabRun.Kind.CHECK).exists(), "a check needs room too"
    LabRun.objects.filter(attempt=attempt).update(status=LabRun.Status.PASSED)
    assert _console_post(alice_client, attempt, "show vms\nshow host\nshow bcd\nshow vms").status_code == 302


def test_an_out_of_bounds_command_is_refused_before_any_command_is_recorded(
    alice: Any, alice_client: Client, azman_lab: Lab
) -> None:
    attempt = services.lab_attempt_current(alice, azman_lab)
    response = _console_post(alice_client, attempt, f"show vms\nazman create role {'r' * 65}")
    html = response.content.decode()
    assert response.status_code == 400 and "line 2" in html and "at most 64 characters" in html
    assert not LabAction.objects.filter(attempt=attempt).exists()


def test_workers_take_runs_in_fair_order_so_a_flood_delays_another_learner_by_one_run(
    alice: Any, bob: Any, io_lab: Lab
) -> None:
    flooder, learner = services.lab_attempt_current(alice, io_lab), services.lab_attempt_current(bob, io_lab)
    flood = [_act(flooder, {"op": "show", "what": "vms"}) for _ in range(20)]
    victim = _act(learner, {"op": "show", "what": "vms"})
    order = []
    for _ in range(3):
        done = services.lab_run_execute_next(flood[0].pk)
        assert done is not None
        order.append(done.pk)
    assert order[:2] == [flood[0].pk, victim.pk], "the other learner's run is next after the flood's first"
    gaps = [b - a for a, b in zip(flood, flood[1:], strict=False) for a, b in [(a.fair_at, b.fair_at)]]
    assert all(gap >= timedelta(seconds=engine.RUN_TIME_BUDGET_S) for gap in gaps)
    late = _act(services.lab_attempt_current(bob, io_lab), {"op": "show", "what": "host"})
    turns = [services.lab_run_execute_next(late.pk) for _ in range(2)]
    assert late.pk in [t.pk for t in turns if t is not None], "a newcomer waits one run, however far the flood reaches"
