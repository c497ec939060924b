"""Benchmark of labs.sim: emulated 100 KB write trace, 200-action replay, events per second.

Not a test: it prints figures and ratios against a trivial Python baseline measured in the same run
(building the same number of plain event dicts with an f-string summary), so the numbers mean
something on a noisy, shared machine. Targets from the issue: an emulated 100 KB write trace in
<= 2 ms; replaying a 200-action log in <= 50 ms.

Run: .venv/bin/python bench/sim_bench.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labs.sim.actions import apply, replay  # noqa: E402
from labs.sim.host import Host  # noqa: E402
from labs.sim.io import IoTarget, emulated_disk_io  # noqa: E402
from labs.sim.params import DEFAULT_COST_MODEL  # noqa: E402
from labs.sim.trace import Trace  # noqa: E402

SCENARIO: dict[str, Any] = {
    "host": {"memory_mb": 32768},
    "users": {"alice": {"groups": ["Ops"]}},
    "authorization": {
        "scopes": [{"name": "Lab"}],
        "role_definitions": [{"name": "Operators", "operations": ["Start Virtual Machine", "Stop Virtual Machine"],
                              "scope": "Lab"}],
        "role_assignments": [{"role": "Operators", "members": ["Ops"], "scope": "Lab"}],
    },
    "vms": [
        {"name": "web01", "guest": "windows-enlightened", "memory_mb": 1024, "state": "running"},
        {"name": "legacy", "guest": "windows-no-integration-services", "memory_mb": 512, "state": "running"},
    ],
}


def action_log(n: int = 200) -> list[dict[str, Any]]:
    """A deterministic, valid mix of `n` actions (VM lifecycle, I/O, WMI, AzMan)."""
    actions: list[dict[str, Any]] = [
        {"op": "vm.define", "name": f"lab{i}", "guest": "linux-ic-2.1", "memory_mb": 512, "scope": "Lab"}
        for i in range(4)
    ]
    cycle = [
        lambda i: {"op": "vm.state", "vm": f"lab{i % 4}", "requested_state": 2},
        lambda i: {"op": "io", "vm": "web01", "op_kind": "write", "bytes": 64 * 1024},
        lambda i: {"op": "io", "vm": "legacy", "op_kind": "read", "bytes": 4096},
        lambda i: {"op": "wmi.query", "wql": "SELECT Name, EnabledState FROM Msvm_ComputerSystem "
                                             "WHERE EnabledState = 2"},
        lambda i: {"op": "access", "user": "alice", "operation": "Start Virtual Machine", "vm": f"lab{i % 4}"},
        lambda i: {"op": "io", "vm": f"lab{i % 4}", "op_kind": "write", "bytes": 300 * 1024},
        lambda i: {"op": "vm.state", "vm": f"lab{i % 4}", "requested_state": 32768},
        lambda i: {"op": "vm.state", "vm": f"lab{i % 4}", "requested_state": 2},
        lambda i: {"op": "run_as", "user": "alice",
                   "action": {"op": "vm.state", "vm": f"lab{i % 4}", "requested_state": 3}},
        lambda i: {"op": "wmi.modify_system", "vm": "web01", "scope_of_residence": "Lab" if i % 2 else ""},
    ]
    k = 0
    while len(actions) < n:
        actions.append(cycle[k % len(cycle)](k // len(cycle)))
        k += 1
    return actions[:n]


def best_ms(fn: Callable[[], object], repeat: int, number: int) -> float:
    """Best of `repeat` runs of `number` calls, in milliseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1000


def baseline(n_events: int) -> Callable[[], object]:
    """Trivial Python: build `n_events` small dicts with an f-string summary (no simulation logic)."""

    def run() -> object:
        events = []
        for i in range(n_events):
            events.append({"seq": i + 1, "t_ns": i * 100, "partition": "vm1", "component": "x", "mode": "kernel",
                           "kind": "k", "summary": f"Event {i} of the baseline happens in the guest kernel."})
        return events

    return run


def main() -> int:
    target = IoTarget(vm="vm1", partition_id=2, vmwp_pid=1234, guest="windows-2000", synthetic_storage=False,
                      synthetic_network=False, hypercall_adapter=False, linux=False)

    def emulated_write() -> Trace:
        trace = Trace()
        emulated_disk_io(trace, DEFAULT_COST_MODEL, target, "write", 100 * 1024)
        return trace

    events_per_write = len(emulated_write().events)
    write_ms = best_ms(emulated_write, repeat=7, number=50)
    base_ms = best_ms(baseline(events_per_write), repeat=7, number=50)

    log = action_log(200)
    host = replay(SCENARIO, 1, log)
    replay_events = len(host.trace.events)
    replay_ms = best_ms(lambda: replay(SCENARIO, 1, log), repeat=5, number=5)
    base_replay_ms = best_ms(baseline(replay_events), repeat=5, number=5)

    h = Host(SCENARIO, 1)
    apply_ms = best_ms(lambda: apply(h, {"op": "io", "vm": "web01", "op_kind": "write", "bytes": 4096}),
                       repeat=5, number=200)

    print(f"emulated 100 KB write trace: {write_ms:.3f} ms ({events_per_write} events; target <= 2 ms) "
          f"-> {events_per_write / write_ms * 1000:,.0f} events/s")
    print(f"  baseline ({events_per_write} plain dicts): {base_ms:.3f} ms; ratio sim/baseline = "
          f"{write_ms / base_ms:.1f}x")
    print(f"200-action replay (incl. building the host): {replay_ms:.3f} ms ({replay_events} events; "
          f"target <= 50 ms) -> {replay_events / replay_ms * 1000:,.0f} events/s")
    print(f"  baseline ({replay_events} plain dicts): {base_replay_ms:.3f} ms; ratio sim/baseline = "
          f"{replay_ms / base_replay_ms:.1f}x")
    print(f"one synthetic 4 KB write action on a live host: {apply_ms:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
