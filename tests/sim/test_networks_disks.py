"""Virtual networks (external, internal, private; VLAN IDs) and VHDs (fixed, dynamic, differencing; snapshots
and when their .avhd files merge): docs/sources.md#virtual-networks, #virtual-disks."""

from __future__ import annotations

import pytest

from labs.sim.actions import apply
from labs.sim.errors import InvalidParameter, InvalidState, NotFound
from labs.sim.host import Host


def _host() -> Host:
    return Host({"vms": [
        {"name": "a", "state": "running"}, {"name": "b", "state": "running"}, {"name": "c", "state": "off"},
    ]}, seed=3)


def test_external_internal_private_reach_what_they_should() -> None:
    h = _host()
    apply(h, {"op": "net.create_switch", "name": "LAN", "kind": "external", "nic": "NIC1"})
    apply(h, {"op": "net.create_switch", "name": "Lab", "kind": "internal"})
    apply(h, {"op": "net.create_switch", "name": "Cluster", "kind": "private"})

    def reach(a: str, b: str) -> bool:
        return bool(apply(h, {"op": "net.reach", "from": a, "to": b})["reachable"])

    apply(h, {"op": "net.connect", "vm": "a", "switch": "LAN"})
    assert reach("a", "physical") and reach("a", "host")
    apply(h, {"op": "net.connect", "vm": "a", "switch": "Lab"})
    assert reach("a", "host") and not reach("a", "physical")
    apply(h, {"op": "net.connect", "vm": "a", "switch": "Cluster"})
    result = apply(h, {"op": "net.reach", "from": "a", "to": "host"})
    assert not result["reachable"] and "private" in result["reason"]
    apply(h, {"op": "net.connect", "vm": "b", "switch": "Cluster"})
    assert reach("a", "b")


def test_vlan_ids_keep_adapters_on_one_switch_apart() -> None:
    h = _host()
    apply(h, {"op": "net.create_switch", "name": "LAN", "kind": "external", "nic": "NIC1"})
    apply(h, {"op": "net.connect", "vm": "a", "switch": "LAN", "vlan_id": 20})
    apply(h, {"op": "net.connect", "vm": "b", "switch": "LAN", "vlan_id": 30})
    result = apply(h, {"op": "net.reach", "from": "a", "to": "b"})
    assert not result["reachable"] and "VLAN 20" in result["reason"] and "VLAN 30" in result["reason"]
    apply(h, {"op": "net.connect", "vm": "b", "switch": "LAN", "vlan_id": 20})
    assert apply(h, {"op": "net.reach", "from": "a", "to": "b"})["reachable"]
    with pytest.raises(InvalidParameter, match="1-4094"):
        apply(h, {"op": "net.connect", "vm": "b", "switch": "LAN", "vlan_id": 4095})


def test_an_external_network_needs_its_own_physical_nic_and_may_hide_the_management_os() -> None:
    h = _host()
    with pytest.raises(InvalidParameter, match="physical NIC"):
        apply(h, {"op": "net.create_switch", "name": "LAN", "kind": "external"})
    apply(h, {"op": "net.create_switch", "name": "LAN", "kind": "external", "nic": "NIC1", "management_os": False})
    with pytest.raises(InvalidState, match="already bound"):
        apply(h, {"op": "net.create_switch", "name": "LAN2", "kind": "external", "nic": "nic1"})
    apply(h, {"op": "net.connect", "vm": "a", "switch": "LAN"})
    assert not apply(h, {"op": "net.reach", "from": "host", "to": "a"})["reachable"]
    assert apply(h, {"op": "net.reach", "from": "a", "to": "physical"})["reachable"]
    with pytest.raises(NotFound):
        apply(h, {"op": "net.connect", "vm": "a", "switch": "nope"})


def test_fixed_takes_its_size_now_dynamic_grows_differencing_needs_a_parent() -> None:
    h = _host()
    fixed = apply(h, {"op": "vhd.create", "path": "D:\\fixed.vhd", "type": "fixed", "size_gb": 10})["vhd"]
    dynamic = apply(h, {"op": "vhd.create", "path": "D:\\dyn.vhd", "type": "dynamic", "size_gb": 10})["vhd"]
    assert fixed["file_mb"] == 10 * 1024 and dynamic["file_mb"] == 2
    with pytest.raises(InvalidParameter, match="needs a parent"):
        apply(h, {"op": "vhd.create", "path": "D:\\child.vhd", "type": "differencing"})
    child = apply(h, {"op": "vhd.create", "path": "D:\\child.vhd", "type": "differencing", "parent": "D:\\dyn.vhd"})
    assert child["vhd"]["parent"] == "D:\\dyn.vhd" and child["vhd"]["size_gb"] == 10
    with pytest.raises(InvalidState, match="read-only parent"):
        apply(h, {"op": "vhd.attach", "vm": "c", "path": "D:\\dyn.vhd"})
    with pytest.raises(InvalidState, match="while it is off"):
        apply(h, {"op": "vhd.attach", "vm": "a", "path": "D:\\fixed.vhd"})


def test_a_deleted_snapshot_merges_only_when_the_vm_is_shut_down() -> None:
    h = _host()
    apply(h, {"op": "vhd.create", "path": "D:\\c.vhd", "type": "dynamic", "size_gb": 20})
    apply(h, {"op": "vhd.attach", "vm": "c", "path": "D:\\c.vhd"})
    apply(h, {"op": "vm.state", "vm": "c", "requested_state": 2})
    apply(h, {"op": "vhd.write", "vm": "c", "mb": 100})
    snap = apply(h, {"op": "vm.snapshot", "vm": "c", "name": "before-patch"})
    [avhd] = snap["avhd"]
    assert avhd["path"].startswith("D:\\c_") and avhd["path"].endswith(".avhd") and avhd["parent"] == "D:\\c.vhd"
    apply(h, {"op": "vhd.write", "vm": "c", "mb": 300})
    disks = {d["path"]: d for d in h.snapshot()["disks"]["vhds"]}
    assert disks["D:\\c.vhd"]["file_mb"] == 102 and disks[avhd["path"]]["file_mb"] == 302
    deleted = apply(h, {"op": "vm.delete_snapshot", "vm": "c", "name": "before-patch"})
    assert deleted["merge_pending"] == [avhd["path"]] and deleted["merged"] == []
    assert avhd["path"] in {d["path"] for d in h.snapshot()["disks"]["vhds"]}, "no merge while the VM runs"
    apply(h, {"op": "vm.state", "vm": "c", "requested_state": 3})
    after = {d["path"]: d for d in h.snapshot()["disks"]["vhds"]}
    assert avhd["path"] not in after and after["D:\\c.vhd"]["file_mb"] == 402 and after["D:\\c.vhd"]["vm"] == "c"
    assert any(e["kind"] == "snapshot_merge" for e in h.trace.events)


def test_two_snapshots_merge_the_whole_chain_once_both_are_deleted() -> None:
    h = _host()
    apply(h, {"op": "vhd.create", "path": "D:\\c.vhd", "type": "fixed", "size_gb": 1})
    apply(h, {"op": "vhd.attach", "vm": "c", "path": "D:\\c.vhd"})
    apply(h, {"op": "vm.snapshot", "vm": "c", "name": "s1"})
    apply(h, {"op": "vm.snapshot", "vm": "c", "name": "s2"})
    assert len([d for d in h.snapshot()["disks"]["vhds"] if d["path"].endswith(".avhd")]) == 2
    assert apply(h, {"op": "vm.delete_snapshot", "vm": "c", "name": "s2"})["merged"] == []  # s1 still needs them
    merged = apply(h, {"op": "vm.delete_snapshot", "vm": "c", "name": "s1"})["merged"]
    assert len(merged) == 2 and [d["path"] for d in h.snapshot()["disks"]["vhds"]] == ["D:\\c.vhd"]
