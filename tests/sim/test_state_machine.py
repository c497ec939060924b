"""The VM state machine: WMI v1 EnabledState, RequestStateChange, partitions and vmwp.exe."""

from __future__ import annotations

import pytest

from labs.sim.actions import apply
from labs.sim.errors import AccessDenied, InvalidParameter, InvalidState, NotSupported, OutOfMemory, ScenarioError
from labs.sim.host import Host
from labs.sim.wmi import TRANSITIONS

RUNNING, OFF, PAUSED, SAVED = 2, 3, 32768, 32769


def host() -> Host:
    return Host({"vms": [{"name": "v", "guest": "windows-enlightened"}]}, seed=3)


def state(h: Host, requested: int) -> dict[str, object]:
    return apply(h, {"op": "vm.state", "vm": "v", "requested_state": requested})


def test_start_creates_a_partition_and_one_vmwp() -> None:
    h = host()
    r = state(h, 2)
    assert r["ReturnValue"] == 4096 and r["EnabledState"] == RUNNING
    vm = h.vm("v")
    assert vm.partition_id == 2 and vm.vmwp_pid is not None and vm.vmwp_pid % 4 == 0
    assert [p["name"] for p in h.snapshot()["processes"]] == ["vmms.exe", "vmwp.exe"]
    hypercalls = [e["hypercall"] for e in h.trace.events if e["kind"] == "hypercall"]
    assert hypercalls[:4] == ["0x40", "0x41", "0x48", "0x4B"] and "0x4E" in hypercalls
    transient = [e["enabled_state"] for e in h.trace.events if e["kind"] == "state_change"]
    assert transient == [32770]


def test_every_transition_in_the_table() -> None:
    for (start, requested), (_, final) in sorted(TRANSITIONS.items()):
        h = host()
        for step in {OFF: [], RUNNING: [2], PAUSED: [2, 32768], SAVED: [2, 32769]}[start]:
            state(h, step)
        assert h.vm("v").state == start
        state(h, requested)
        assert h.vm("v").state == final
        assert h.invariants() == []


@pytest.mark.parametrize(("steps", "requested"), [([], 3), ([], 32768), ([], 32769), ([], 10), ([2], 2),
                                                    ([2, 32769], 3), ([2, 32769], 32768), ([2, 32768], 32768)])
def test_impossible_transitions_return_32775(steps: list[int], requested: int) -> None:
    h = host()
    for step in steps:
        state(h, step)
    before = h.snapshot()
    events = len(h.trace.events)
    with pytest.raises(InvalidState) as err:
        state(h, requested)
    assert err.value.wmi_return_code == 32775
    assert h.snapshot() == before and len(h.trace.events) == events


def test_unknown_requested_state_is_invalid_parameter() -> None:
    with pytest.raises(InvalidParameter) as err:
        state(host(), 4)
    assert err.value.wmi_return_code == 32773 and err.value.path == "requested_state"


def test_partition_ids_are_never_reused() -> None:
    h = host()
    ids = []
    for _ in range(3):
        state(h, 2)
        ids.append(h.vm("v").partition_id)
        state(h, 3)
    assert ids == [2, 3, 4]


def test_save_and_restore_gets_a_new_partition_and_vmwp() -> None:
    h = host()
    state(h, 2)
    first = (h.vm("v").partition_id, h.vm("v").vmwp_pid)
    state(h, 32769)
    assert h.vm("v").vmwp_pid is None and h.vm("v").partition_id is None
    state(h, 2)
    assert (h.vm("v").partition_id, h.vm("v").vmwp_pid) != first
    assert any(e["kind"] == "restore" for e in h.trace.events)


def test_pause_keeps_the_partition() -> None:
    h = host()
    state(h, 2)
    pid = h.vm("v").vmwp_pid
    state(h, 32768)
    assert h.vm("v").vmwp_pid == pid and h.vm("v").partition_id == 2
    state(h, 2)
    assert [e["enabled_state"] for e in h.trace.events if e["kind"] == "state_change"][-1] == 32777


def test_graceful_shutdown_needs_the_shutdown_ic() -> None:
    h = Host({"vms": [{"name": "w", "state": "running"}, {"name": "l", "guest": "linux-ic-2.0", "state": "running"},
                      {"name": "l21", "guest": "linux-ic-2.1", "state": "running"}]})
    assert apply(h, {"op": "vm.shutdown", "vm": "w"})["EnabledState"] == OFF
    assert apply(h, {"op": "vm.shutdown", "vm": "l21"})["EnabledState"] == OFF
    with pytest.raises(NotSupported, match="shutdown integration component"):
        apply(h, {"op": "vm.shutdown", "vm": "l"})
    assert h.vm("l").state == RUNNING


def test_backup_modes() -> None:
    h = Host({"vms": [{"name": "w", "state": "running"}, {"name": "old", "guest": "windows-no-integration-services",
                                                          "state": "running"}, {"name": "off"}]})
    assert apply(h, {"op": "vm.backup", "vm": "w"})["mode"] == "online"
    assert apply(h, {"op": "vm.backup", "vm": "old"})["mode"] == "saved-state"
    assert apply(h, {"op": "vm.backup", "vm": "off"})["mode"] == "vm-off"


def test_backup_reads_the_scenario_conditions_and_names_the_failed_one() -> None:
    h = Host({"vms": [
        {"name": "w", "state": "running", "backup": {"snapshot_on_vhd_volume": False}},
        {"name": "xp", "guest": "windows-xp", "state": "running"},
        {"name": "p", "state": "paused"},
        {"name": "c", "state": "running", "backup": {"cluster_group_online": False}},
    ]})
    w = apply(h, {"op": "vm.backup", "vm": "w"})
    assert w["mode"] == "saved-state" and w["failed"] == "snapshot-location-same-volume"
    assert w["method"] == "Backup Using Saved State" and "another volume" in w["reason"]
    assert apply(h, {"op": "vm.backup", "vm": "xp"})["failed"] == "backup-is-installed"
    assert apply(h, {"op": "vm.backup", "vm": "p"})["failed"] == "vm-running"
    assert apply(h, {"op": "vm.backup", "vm": "c"})["mode"] == "online"
    dpm = apply(h, {"op": "vm.backup", "vm": "c", "app": "dpm"})
    assert dpm["mode"] == "saved-state" and dpm["failed"] == "cluster-group-online"
    with pytest.raises(InvalidParameter):
        apply(h, {"op": "vm.backup", "vm": "c", "app": "ntbackup"})


def test_the_old_windows_2000_kind_is_refused_with_its_replacements() -> None:
    with pytest.raises(ScenarioError, match="windows-no-integration-services"):
        Host({"vms": [{"name": "old", "guest": "windows-2000"}]})
    h = Host({})
    with pytest.raises(InvalidParameter, match="windows-2000-server"):
        apply(h, {"op": "vm.define", "name": "x", "guest": "windows-2000", "memory_mb": 512})


def test_out_of_memory_is_32778() -> None:
    h = Host({"host": {"memory_mb": 2048}, "vms": [{"name": "a", "memory_mb": 1024, "state": "running"},
                                                   {"name": "b", "memory_mb": 1024}]})
    with pytest.raises(OutOfMemory) as err:
        apply(h, {"op": "vm.state", "vm": "b", "requested_state": 2})
    assert err.value.wmi_return_code == 32778 and "root_reserved_memory_mb" in err.value.message


def test_run_as_delegated_user() -> None:
    h = Host("labs/sim/scenarios/delegation.yaml")
    r = apply(h, {"op": "run_as", "user": "CONTOSO\\alice",
                  "action": {"op": "vm.state", "vm": "fin-sql01", "requested_state": 2}})
    assert r["decision"]["allowed"] and h.vm("fin-sql01").state == RUNNING
    with pytest.raises(AccessDenied) as err:
        apply(h, {"op": "run_as", "user": "CONTOSO\\alice",
                  "action": {"op": "vm.state", "vm": "hr-web01", "requested_state": 2}})
    assert err.value.wmi_return_code == 32769 and h.vm("hr-web01").state == OFF
    with pytest.raises(AccessDenied):
        apply(h, {"op": "run_as", "user": "CONTOSO\\bob",
                  "action": {"op": "vm.state", "vm": "fin-sql01", "requested_state": 3}})


def test_access_action_reports_decision_and_reason() -> None:
    h = Host("labs/sim/scenarios/delegation.yaml")
    allowed = apply(h, {"op": "access", "user": "CONTOSO\\alice", "operation": "Start Virtual Machine",
                        "vm": "fin-sql01"})
    denied = apply(h, {"op": "access", "user": "CONTOSO\\alice", "operation": "Delete Virtual Machine",
                       "vm": "fin-sql01"})
    admin = apply(h, {"op": "access", "user": "Administrator", "operation": "Delete Virtual Machine",
                      "vm": "hr-web01"})
    assert allowed["allowed"] and not denied["allowed"] and admin["allowed"]
    assert denied["reason"]


def test_mmu_run_uses_the_hosts_slat_capability() -> None:
    r2 = Host({})
    r = apply(r2, {"op": "mmu.run", "mode": "slat", "tagged_tlb": True, "workload": "terminal-services"})
    assert r["mode"] == "slat"
    r1 = Host({"host": {"os": {"version": "2008"}}})
    with pytest.raises(NotSupported):
        apply(r1, {"op": "mmu.run", "mode": "slat"})
    assert apply(r1, {"op": "mmu.run", "mode": "shadow"})["shadow_updates"] > 0


def test_live_migration_between_cluster_nodes() -> None:
    h = Host("labs/sim/scenarios/cluster.yaml")
    r = apply(h, {"op": "migrate", "vm": "sql01", "to": "NODE2", "dirty_mb_s": 20})
    assert r["to"] == "NODE2" and r["passes"] and r["bytes_sent"] > 4096 * 1024 * 1024
    vm = h.vm("sql01")
    assert vm.node == "NODE2" and vm.state == RUNNING and vm.partition_id == 2, "NODE2's root is partition 1"
    assert h.invariants() == []
    with pytest.raises(NotSupported, match="(?i)vendor|AMD"):
        apply(h, {"op": "migrate", "vm": "sql01", "to": "NODE3"})
