"""Property tests: any sequence of actions keeps the host's invariants."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labs.sim.actions import apply
from labs.sim.errors import SimError
from labs.sim.host import Host

SCENARIO: dict[str, Any] = {
    "host": {"memory_mb": 4096},
    "users": {"alice": {"groups": ["Ops"]}},
    "authorization": {
        "scopes": [{"name": "Lab"}],
        "role_definitions": [{"name": "Operators", "operations": ["Start Virtual Machine", "Stop Virtual Machine"],
                              "scope": "Lab"}],
        "role_assignments": [{"role": "Operators", "members": ["Ops"], "scope": "Lab"}],
    },
    "vms": [
        {"name": "a", "guest": "windows-enlightened", "memory_mb": 1024, "scope": "Lab"},
        {"name": "b", "guest": "windows-no-integration-services", "memory_mb": 1024},
        {"name": "c", "guest": "linux-ic-2.0", "memory_mb": 1024, "state": "running"},
    ],
}

VMS = st.sampled_from(["a", "b", "c", "d", "ghost"])
ACTIONS = st.one_of(
    st.builds(lambda vm, s: {"op": "vm.state", "vm": vm, "requested_state": s}, VMS,
              st.sampled_from([2, 3, 10, 11, 32768, 32769, 7])),
    st.builds(lambda vm: {"op": "vm.shutdown", "vm": vm}, VMS),
    st.builds(lambda vm: {"op": "vm.backup", "vm": vm}, VMS),
    st.builds(lambda vm: {"op": "vm.destroy", "vm": vm}, VMS),
    st.builds(lambda g, m: {"op": "vm.define", "name": "d", "guest": g, "memory_mb": m},
              st.sampled_from(["windows-enlightened", "linux-xen", "linux-ic-2.1"]), st.sampled_from([512, 9000, 0])),
    st.builds(lambda vm, k, n, d: {"op": "io", "vm": vm, "op_kind": k, "bytes": n, "device": d}, VMS,
              st.sampled_from(["read", "write"]), st.integers(-10, 600_000), st.sampled_from(["disk", "nic"])),
    st.builds(lambda vm, s: {"op": "wmi.modify_system", "vm": vm, "scope_of_residence": s}, VMS,
              st.sampled_from(["", "Lab", "Missing"])),
    st.builds(lambda vm, s: {"op": "run_as", "user": "alice",
                             "action": {"op": "vm.state", "vm": vm, "requested_state": s}}, VMS,
              st.sampled_from([2, 3])),
    st.just({"op": "host.reboot"}),
    st.builds(lambda v: {"op": "bios.set", "setting": "dep", "value": v}, st.booleans()),
    st.builds(lambda v: {"op": "bcdedit.set", "key": "hypervisorlaunchtype", "value": v},
              st.sampled_from(["auto", "off"])),
    st.just({"op": "wmi.query", "wql": "SELECT * FROM Msvm_ComputerSystem WHERE EnabledState = 2"}),
    st.just({"op": "azman.delete_scope", "name": "Lab"}),
)


def state_json(h: Host) -> str:
    return json.dumps({"s": h.snapshot(), "t": h.trace.to_dict()}, sort_keys=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, max_size=25), st.integers(0, 3))
def test_any_action_sequence_keeps_the_invariants(actions: list[dict[str, Any]], seed: int) -> None:
    h = Host(SCENARIO, seed)
    last_seq = 0
    for action in actions:
        before = state_json(h)
        try:
            apply(h, action)
        except SimError:
            assert state_json(h) == before, f"failed action {action} changed the host"
        assert h.invariants() == []
        live = [vm for vm in h.vms.values() if vm.state in (2, 32768)]
        vmwp = [p for p in h.snapshot()["processes"] if p["name"] == "vmwp.exe"]
        assert sorted(p["vm"] for p in vmwp) == sorted(vm.name for vm in live)
        assert all(v >= 0 for v in h.trace.counters.values())
        seqs = [e["seq"] for e in h.trace.events]
        assert all(b > a for a, b in zip(seqs, seqs[1:], strict=False))
        if seqs:
            assert seqs[-1] >= last_seq
            last_seq = seqs[-1]
        json.dumps(h.snapshot())


@settings(max_examples=25, deadline=None)
@given(st.lists(ACTIONS, max_size=15), st.integers(0, 1000))
def test_replay_is_deterministic(actions: list[dict[str, Any]], seed: int) -> None:
    outputs = []
    for _ in range(2):
        h = Host(SCENARIO, seed)
        for action in actions:
            with contextlib.suppress(SimError):
                apply(h, action)
        outputs.append(state_json(h))
    assert outputs[0] == outputs[1]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 2_000_000), st.sampled_from(["read", "write"]))
def test_synthetic_request_count_and_no_root_user_mode(nbytes: int, op_kind: str) -> None:
    h = Host({"vms": [{"name": "v", "state": "running"}]})
    r = apply(h, {"op": "io", "vm": "v", "op_kind": op_kind, "bytes": nbytes})
    assert r["counters"]["vsc_requests"] == -(-nbytes // 0x40000)
    assert r["counters"]["root_user_transitions"] == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1_000_000))
def test_emulated_crossings_are_twice_the_port_accesses_plus_completions(nbytes: int) -> None:
    h = Host({"vms": [{"name": "v", "guest": "windows-no-integration-services", "state": "running"}]})
    r = apply(h, {"op": "io", "vm": "v", "op_kind": "write", "bytes": nbytes})
    c = r["counters"]
    commands = r["arithmetic"]["commands"]
    assert c["port_accesses"] == commands * 10
    assert c["root_user_transitions"] == 2 * c["port_accesses"] + 2 * commands
