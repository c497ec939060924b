"""Replay: the action vocabulary, validation with field paths, atomic failure, determinism."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labs.sim.actions import OPS, SCHEMAS, apply, replay, validate
from labs.sim.errors import InvalidParameter, InvalidState, ScenarioError, SimError
from labs.sim.host import Host

SCENARIOS = Path(__file__).resolve().parents[2] / "labs" / "sim" / "scenarios"

DEMO: list[dict[str, Any]] = [
    {"op": "vm.define", "name": "app01", "guest": "linux-ic-2.1", "memory_mb": 768, "vcpus": 2},
    {"op": "vm.state", "vm": "app01", "requested_state": 2},
    {"op": "io", "vm": "web01", "op_kind": "write", "bytes": 102400},
    {"op": "io", "vm": "setup-w2k3", "op_kind": "read", "bytes": 4096},
    {"op": "io", "vm": "app01", "op_kind": "write", "bytes": 3000, "device": "nic"},
    {"op": "wmi.query", "wql": "SELECT Name, ProcessID FROM Msvm_ComputerSystem WHERE EnabledState = 2"},
    {"op": "vm.state", "vm": "web01", "requested_state": 32769},
    {"op": "vm.backup", "vm": "setup-w2k3"},
    {"op": "host.reboot"},
]


def dump(host: Host) -> str:
    return json.dumps({"state": host.snapshot(), "trace": host.trace.to_dict()}, sort_keys=True)


def test_same_scenario_actions_and_seed_give_byte_identical_json() -> None:
    a = replay(SCENARIOS / "two-vms-io.yaml", 5, DEMO)
    b = replay(SCENARIOS / "two-vms-io.yaml", 5, DEMO)
    assert dump(a) == dump(b)


def test_a_different_seed_changes_pids_and_guids_only() -> None:
    a = replay(SCENARIOS / "two-vms-io.yaml", 5, DEMO).snapshot()
    b = replay(SCENARIOS / "two-vms-io.yaml", 6, DEMO).snapshot()
    assert a != b
    assert [v["state"] for v in a["vms"]] == [v["state"] for v in b["vms"]]
    assert a["counters"] == b["counters"]


def test_scenario_seed_is_the_default() -> None:
    assert Host(SCENARIOS / "two-vms-io.yaml").seed == 42


def test_snapshot_is_json_serialisable_everywhere() -> None:
    for path in sorted(SCENARIOS.glob("*.yaml")):
        json.dumps(Host(path).snapshot(), sort_keys=True)


def test_every_op_has_a_schema_and_is_documented() -> None:
    import labs.sim.actions as actions_module

    doc = actions_module.__doc__ or ""
    for op in OPS:
        assert f'"op": "{op}"' in doc, op
        assert op in SCHEMAS


@pytest.mark.parametrize(
    ("action", "path"),
    [
        ({}, "op"),
        ({"op": "vm.explode"}, "op"),
        ({"op": "vm.define", "name": "x", "guest": "linux-xen"}, "memory_mb"),
        ({"op": "vm.define", "name": "x", "guest": "linux-xen", "memory_mb": "lots"}, "memory_mb"),
        ({"op": "vm.define", "name": "x", "guest": "linux-xen", "memory_mb": True}, "memory_mb"),
        ({"op": "vm.define", "name": "x", "guest": "linux-xen", "memory_mb": 512, "colour": 1}, "colour"),
        ({"op": "vm.define", "name": "x", "guest": "beos", "memory_mb": 512}, "guest"),
        ({"op": "vm.define", "name": "x", "guest": "linux-xen", "memory_mb": -512}, "memory_mb"),
        ({"op": "vm.define", "name": "x", "guest": "linux-xen", "memory_mb": 512, "vcpus": 5}, "vcpus"),
        ({"op": "bios.set", "setting": "turbo", "value": True}, "setting"),
        ({"op": "bcdedit.set", "key": "hypervisorlaunchtype", "value": "on"}, "value"),
        ({"op": "azman.create_task", "name": "t", "operations": [1]}, "operations[0]"),
        ({"op": "run_as", "user": "a", "action": {"op": "io"}}, "action.vm"),
        ({"op": "run_as", "user": "a", "action": {"op": "host.reboot"}}, "action.op"),
    ],
)
def test_bad_actions_name_the_field(action: dict[str, Any], path: str) -> None:
    h = Host({})
    with pytest.raises(SimError) as err:
        apply(h, action)
    assert err.value.path == path


def test_replay_errors_name_the_action_index() -> None:
    actions = [{"op": "host.reboot"}, {"op": "vm.state", "vm": "ghost", "requested_state": 2}]
    with pytest.raises(SimError) as err:
        replay({}, 1, actions)
    assert err.value.path == "actions[1].vm"
    assert err.value.wmi_return_code == 32777


def test_scenario_errors_name_the_field_path() -> None:
    cases = [
        ({"vms": [{"name": "a"}, {"name": "b", "memory_mb": -1}]}, "vms[1].memory_mb"),
        ({"host": {"cpu": {"vendor": "via"}}}, "host.cpu.vendor"),
        ({"host": {"bios": {"dep_enabled": "yes"}}}, "host.bios.dep_enabled"),
        ({"hosts": {}}, "hosts"),
        ({"vms": [{"name": "a", "ram": 1}]}, "vms[0].ram"),
        ({"vms": [{"memory_mb": 1}]}, "vms[0].name"),
        ({"vms": [{"name": "a"}, {"name": "A"}]}, "vms[1].name"),
        ({"params": {"vm_exit_cycles": -3}}, "params.vm_exit_cycles"),
        ({"authorization": {"scopes": [{"name": 3}]}}, "authorization.scopes[0].name"),
        ({"host": {"bios": {"dep_enabled": False}}, "vms": [{"name": "a", "state": "running"}]}, "vms[0].state"),
    ]
    for data, path in cases:
        with pytest.raises(ScenarioError) as err:
            Host(data)
        assert err.value.path == path, (data, err.value)


def test_a_failing_action_leaves_the_host_unchanged() -> None:
    h = Host(SCENARIOS / "delegation.yaml")
    before = dump(h)
    rng = h.rng.getstate()
    for action in (
        {"op": "run_as", "user": "CONTOSO\\bob", "action": {"op": "vm.state", "vm": "fin-sql01",
                                                            "requested_state": 2}},
        {"op": "vm.state", "vm": "fin-sql01", "requested_state": 3},
        {"op": "azman.assign", "role": "No Such Role", "member": "x"},
        {"op": "wmi.query", "wql": "SELECT * FROM"},
        {"op": "access", "user": "nobody", "operation": "Start Virtual Machine"},
    ):
        with pytest.raises(SimError):
            apply(h, action)
        assert dump(h) == before
        assert h.rng.getstate() == rng


def test_actions_file_json_and_yaml(tmp_path: Path) -> None:
    json_file = tmp_path / "a.json"
    json_file.write_text(json.dumps({"actions": DEMO[:3]}))
    yaml_file = tmp_path / "a.yaml"
    yaml_file.write_text("- {op: vm.state, vm: web01, requested_state: 32768}\n")
    assert replay(SCENARIOS / "two-vms-io.yaml", 1, json_file).vm("app01").state == 2
    assert replay(SCENARIOS / "two-vms-io.yaml", 1, yaml_file).vm("web01").state == 32768
    with pytest.raises(InvalidParameter):
        replay({}, 1, tmp_path / "missing.json")


def test_validate_returns_the_action() -> None:
    action = {"op": "host.reboot"}
    assert validate(action) is action


def test_state_errors_keep_their_wmi_code_through_replay() -> None:
    with pytest.raises(InvalidState) as err:
        replay({"vms": [{"name": "a"}]}, 0, [{"op": "vm.state", "vm": "a", "requested_state": 32768}])
    assert err.value.wmi_return_code == 32775 and err.value.path == "actions[0].vm"
