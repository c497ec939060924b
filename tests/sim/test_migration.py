"""Live Migration in Windows Server 2008 R2: prerequisites with reasons, pre-copy passes, blackout."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labs.sim.errors import InvalidParameter, NotSupported
from labs.sim.migration import (
    DEFAULT_MIGRATION_PARAMS,
    MigrationParams,
    MigrationRequest,
    Node,
    QuickMigrationRequest,
    bandwidth_mb_s,
    check_prerequisites,
    check_quick_prerequisites,
    effective_network_gbps,
    migrate,
    network_warnings,
    quick_migrate,
)
from labs.sim.trace import Trace

A = Node("HV01", "Intel", "Enterprise", True, "10.0.1.0/24", True, 1.0, cluster="CL1")
B = Node("HV02", "Intel", "Datacenter", True, "10.0.1.0/24", True, 1.0, cluster="CL1")


def test_compatible_nodes_pass() -> None:
    check_prerequisites(A, B, vm_on_csv=True)
    check_prerequisites(A, dataclasses.replace(B, edition="Hyper-V Server 2008 R2"), vm_on_csv=True)


@pytest.mark.parametrize(
    ("source", "dest", "on_csv", "path", "words"),
    [
        (A, dataclasses.replace(B, name="hv01"), True, "destination.name", "same node"),
        (A, dataclasses.replace(B, clustered=False), True, "destination.clustered", "Failover Cluster"),
        (dataclasses.replace(A, clustered=False), B, True, "source.clustered", "up to 16 nodes"),
        (A, dataclasses.replace(B, cluster="CL2"), True, "destination.cluster", "same failover cluster"),
        (A, dataclasses.replace(B, cpu_vendor="AMD"), True, "destination.cpu_vendor", "Processor compatibility mode"),
        (A, dataclasses.replace(B, subnet="10.0.2.0/24"), True, "destination.subnet", "same subnet"),
        (A, dataclasses.replace(B, csv_access=False), True, "destination.csv_access", "Cluster Shared Volume"),
        (
            dataclasses.replace(A, os_version="2008"),
            dataclasses.replace(B, os_version="2008"),
            True,
            "source.os_version",
            "Quick Migration",
        ),
        (
            A,
            dataclasses.replace(B, edition="Standard"),
            True,
            "destination.edition",
            "Enterprise, Datacenter or Hyper-V Server 2008 R2",
        ),
        (dataclasses.replace(A, edition="Hyper-V Server 2008"), B, True, "source.edition", "Hyper-V Server 2008 R2"),
    ],
)
def test_each_prerequisite_is_refused_with_its_reason(
    source: Node, dest: Node, on_csv: bool, path: str, words: str
) -> None:
    with pytest.raises(NotSupported) as exc:
        check_prerequisites(source, dest, vm_on_csv=on_csv)
    assert exc.value.path == path
    assert words in exc.value.message
    assert exc.value.wmi_return_code == 32770


def test_storage_that_is_not_shared_is_refused_but_csv_is_only_recommended() -> None:
    with pytest.raises(NotSupported, match="Cluster Shared Volumes are recommended") as exc:
        check_prerequisites(A, B, vm_on_csv=False, shared_storage=False)
    assert exc.value.path == "vm.storage"
    check_prerequisites(A, B, vm_on_csv=False)  # a cluster disk that is dismounted and mounted: allowed
    check_prerequisites(A, dataclasses.replace(B, csv_access=False), vm_on_csv=False)


def test_a_2008_rtm_cluster_refuses_live_migration_and_names_quick_migration() -> None:
    rtm_a, rtm_b = dataclasses.replace(A, os_version="2008"), dataclasses.replace(B, os_version="2008")
    with pytest.raises(NotSupported) as exc:
        check_prerequisites(rtm_a, rtm_b, vm_on_csv=False)
    assert "Windows Server 2008 (RTM)" in exc.value.message and "2008 R2" in exc.value.message
    assert "quick-migrate" in exc.value.message
    check_quick_prerequisites(rtm_a, rtm_b, vm_on_csv=False)  # what an RTM cluster does instead


@pytest.mark.parametrize("gbps", [0.0, 0.1, 0.5])
def test_a_slow_or_missing_migration_network_warns_and_is_never_refused(gbps: float) -> None:
    slow = dataclasses.replace(B, migration_network_gbps=gbps)
    check_prerequisites(A, slow, vm_on_csv=True)
    [warning] = network_warnings(A, slow)
    assert "recommend" in warning and slow.name in warning and "longer blackout" in warning
    assert network_warnings(A, B) == []


def test_a_slower_network_means_more_passes_and_a_longer_blackout() -> None:
    shared = dataclasses.replace(B, migration_network_gbps=0.0)
    assert effective_network_gbps(A, shared) == DEFAULT_MIGRATION_PARAMS.shared_network_mbps / 1000
    fast = migrate(MigrationRequest("vm", 8192, 20.0, network_gbps=effective_network_gbps(A, B)))
    slow = migrate(MigrationRequest("vm", 8192, 20.0, network_gbps=effective_network_gbps(A, shared)))
    assert len(slow.passes) > len(fast.passes)
    assert slow.blackout_ms > fast.blackout_ms
    assert slow.total_seconds > fast.total_seconds


def test_quick_migration_downtime_is_save_plus_group_move_plus_restore() -> None:
    r = quick_migrate(QuickMigrationRequest("sql", 8192))
    state_mb = 8192 + 512 / 1024
    assert r.save_seconds == r.restore_seconds == pytest.approx(state_mb / 100)
    assert r.group_move_seconds == 3.0
    assert r.downtime_seconds == pytest.approx(2 * state_mb / 100 + 3.0)
    assert not r.within_tcp_timeout and "downtime" in r.explanation[3]
    bigger = quick_migrate(QuickMigrationRequest("sql", 16384))
    faster = quick_migrate(QuickMigrationRequest("sql", 8192, storage_mb_s=400))
    assert bigger.downtime_seconds > r.downtime_seconds > faster.downtime_seconds
    live = migrate(MigrationRequest("sql", 8192, 20.0))
    assert live.blackout_ms * 1000 < r.downtime_ms  # three orders of magnitude and more


def test_quick_migration_refuses_another_vendor_and_names_why() -> None:
    with pytest.raises(NotSupported, match="saved state does not restore") as exc:
        check_quick_prerequisites(A, dataclasses.replace(B, cpu_vendor="AMD"), vm_on_csv=True)
    assert exc.value.path == "destination.cpu_vendor"


def test_the_storage_handoff_says_nothing_changes_owner_on_csv() -> None:
    on_csv = migrate(MigrationRequest("vm", 1024, 10.0))
    no_csv = migrate(MigrationRequest("vm", 1024, 10.0, vm_on_csv=False))
    handoff = {p["phase"]: p["detail"] for p in on_csv.phases}["storage-handoff"]
    assert "nothing changes owner" in handoff and "ownership" not in handoff
    assert "dismounted" in {p["phase"]: p["detail"] for p in no_csv.phases}["storage-handoff"]


def test_cross_vendor_reason_says_never_across_vendors() -> None:
    with pytest.raises(NotSupported) as exc:
        check_prerequisites(A, dataclasses.replace(B, cpu_vendor="AMD"), vm_on_csv=True)
    assert "Intel" in exc.value.message and "AMD" in exc.value.message
    assert "generations of the same vendor" in exc.value.message


def test_bad_node_values_are_invalid_parameters() -> None:
    with pytest.raises(InvalidParameter) as exc:
        dataclasses.replace(A, cpu_vendor="VIA")
    assert exc.value.path == "node.cpu_vendor"
    with pytest.raises(InvalidParameter) as exc:
        dataclasses.replace(A, edition="Ultimate")
    assert exc.value.path == "node.edition"


def test_one_gigabit_is_about_119_mb_per_second() -> None:
    assert bandwidth_mb_s(1.0) == pytest.approx(119.209, abs=0.001)
    assert MigrationRequest("vm", 1024, 0.0).effective_bandwidth_mb_s == pytest.approx(119.209, abs=0.001)


def test_quiet_vm_converges_early_with_a_short_blackout() -> None:
    r = migrate(MigrationRequest("fin-sql01", 4096, 10.0))
    assert r.converged and r.stop_reason == "dirty set below threshold"
    assert len(r.passes) < 10
    assert r.passes[-1].dirty_pages_after < DEFAULT_MIGRATION_PARAMS.stop_threshold_pages
    assert r.passes[0].mb_sent == 4096.0  # pass 1 is the full copy
    assert r.blackout_ms < 100 and r.within_tcp_timeout


def test_each_pass_sends_what_the_previous_one_let_be_dirtied() -> None:
    r = migrate(MigrationRequest("vm", 2048, 20.0, bandwidth_mb_s=100.0))
    for prev, cur in zip(r.passes, r.passes[1:], strict=False):
        assert cur.pages_sent == prev.dirty_pages_after
    # pass 1: 2048 MB at 100 MB/s = 20.48 s; 20 MB/s x 20.48 s = 409.6 MB = 104,858 pages (rounded up)
    assert r.passes[0].seconds == pytest.approx(20.48)
    assert r.passes[0].dirty_pages_after == 104_858


def test_dirty_rate_above_bandwidth_never_converges_and_stops_at_10_passes() -> None:
    calm = migrate(MigrationRequest("vm", 4096, 10.0))
    hot = migrate(MigrationRequest("vm", 4096, 200.0))
    assert not hot.converged
    assert hot.stop_reason == "reached the 10-pass limit"
    assert len(hot.passes) == 10
    assert hot.blackout_ms > 100 * calm.blackout_ms
    assert not hot.within_tcp_timeout
    assert hot.final_pages == 4096 * 256  # the dirty set is capped at the memory size


def test_2012_r2_style_limit_of_5_passes() -> None:
    r = migrate(MigrationRequest("vm", 1024, 500.0), params=MigrationParams(max_passes=5))
    assert len(r.passes) == 5 and r.stop_reason == "reached the 5-pass limit"


def test_blackout_arithmetic() -> None:
    p = MigrationParams(device_state_kb=1024, switchover_overhead_ms=20, storage_handoff_ms=10)
    r = migrate(MigrationRequest("vm", 1024, 0.0, bandwidth_mb_s=100.0), params=p)
    assert r.converged and len(r.passes) == 1 and r.final_pages == 0
    # 1 MB of device state at 100 MB/s = 10 ms, + 20 + 10 ms
    assert r.blackout_ms == pytest.approx(40.0)
    assert r.bytes_sent == 1024 * 1024 * 1024 + 1024 * 1024


def test_faster_network_shortens_the_blackout_of_a_busy_vm() -> None:
    slow = migrate(MigrationRequest("vm", 4096, 60.0, network_gbps=1.0))
    fast = migrate(MigrationRequest("vm", 4096, 60.0, network_gbps=10.0))
    assert fast.total_seconds < slow.total_seconds
    assert fast.blackout_ms <= slow.blackout_ms


def test_trace_has_one_event_per_phase_and_pass() -> None:
    t = Trace()
    r = migrate(MigrationRequest("vm", 1024, 5.0, source="HV01", destination="HV02"), trace=t)
    kinds = [e["kind"] for e in t.events]
    assert kinds.count("migration.memory_pass") == len(r.passes)
    assert kinds[0] == "migration.setup" and kinds[-1] == "migration.cleanup"
    order = ["migration.pause", "migration.storage_handoff", "migration.resume", "migration.unsolicited_arp"]
    assert [k for k in kinds if k in order] == order
    assert all(e["partition"] == "root" and e["mode"] == "user" for e in t.events)
    assert {e["component"] for e in t.events} == {"vmms.exe", "vmwp.exe", "cluster"}
    assert t.counters["migration.pages_sent"] == r.total_pages_sent
    assert t.clock_ns == pytest.approx(r.total_seconds * 1e9, rel=1e-6)


def test_result_is_json_and_deterministic() -> None:
    a = migrate(MigrationRequest("vm", 2048, 33.3)).to_dict()
    assert a == migrate(MigrationRequest("vm", 2048, 33.3)).to_dict()
    json.dumps(a, sort_keys=True)
    for key in (
        "passes",
        "total_mb_sent",
        "bytes_sent",
        "total_seconds",
        "blackout_ms",
        "converged",
        "stop_reason",
        "within_tcp_timeout",
    ):
        assert key in a
    assert set(a["passes"][0]) >= {"pass", "mb_sent", "seconds", "dirty_mb_after"}


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"memory_mb": 0}, "request.memory_mb"),
        ({"dirty_mb_s": -1.0}, "request.dirty_mb_s"),
        ({"bandwidth_mb_s": 0.0}, "request.bandwidth_mb_s"),
        ({"network_gbps": -1.0}, "request.network_gbps"),
    ],
)
def test_impossible_requests_name_the_field(kwargs: dict[str, float], path: str) -> None:
    base: dict[str, object] = {"vm_name": "vm", "memory_mb": 1024, "dirty_mb_s": 1.0}
    base.update(kwargs)
    with pytest.raises(InvalidParameter) as exc:
        MigrationRequest(**base)  # type: ignore[arg-type]
    assert exc.value.path == path


def test_impossible_params_name_the_field() -> None:
    with pytest.raises(InvalidParameter) as exc:
        MigrationParams(max_passes=0)
    assert exc.value.path == "params.max_passes"


@given(
    memory_mb=st.integers(min_value=1, max_value=65_536),
    dirty=st.floats(min_value=0, max_value=2_000, allow_nan=False),
    bandwidth=st.floats(min_value=1, max_value=2_000, allow_nan=False),
    max_passes=st.integers(min_value=1, max_value=12),
    threshold=st.integers(min_value=0, max_value=5_000),
)
def test_properties(memory_mb: int, dirty: float, bandwidth: float, max_passes: int, threshold: int) -> None:
    params = MigrationParams(max_passes=max_passes, stop_threshold_pages=threshold)
    r = migrate(MigrationRequest("vm", memory_mb, dirty, bandwidth_mb_s=bandwidth), params=params)
    assert 1 <= len(r.passes) <= max_passes
    assert r.bytes_sent >= memory_mb * 1024 * 1024
    assert r.passes[0].pages_sent == memory_mb * 256
    assert all(x.dirty_pages_after <= memory_mb * 256 for x in r.passes)
    assert r.blackout_ms > 0 and r.total_seconds > 0
    assert r.converged == (r.final_pages < threshold)
    if not r.converged:
        assert len(r.passes) == max_passes


def _cluster_host(version: str, gbps: float = 1.0) -> Any:
    from labs.sim.host import Host

    return Host({
        "host": {"name": "N1", "memory_mb": 32768, "os": {"version": version, "edition": "enterprise"}},
        "cluster": {"vms_on_csv": version == "2008 R2", "nodes": [
            {"name": "N1", "migration_network_gbps": gbps},
            {"name": "N2", "migration_network_gbps": gbps},
        ]},
        "vms": [{"name": "sql", "guest": "windows-enlightened", "memory_mb": 4096, "state": "running"}],
    })


def test_the_host_of_a_2008_rtm_cluster_refuses_migrate_and_quick_migrates() -> None:
    from labs.sim.actions import apply

    host = _cluster_host("2008")
    with pytest.raises(NotSupported, match="Quick Migration") as exc:
        apply(host, {"op": "migrate", "vm": "sql", "to": "N2"})
    assert exc.value.path == "source.os_version"
    assert host.vm("sql").node == "N1"
    result = apply(host, {"op": "quick_migrate", "vm": "sql", "to": "N2"})
    assert result["method"] == "Quick Migration" and host.vm("sql").node == "N2"
    assert result["downtime_seconds"] == pytest.approx(2 * (4096 + 0.5) / 100 + 3.0)
    assert "dismounted on N1, mounted on N2" in result["phases"][1]["detail"]
    kinds = [e["kind"] for e in host.trace.events]
    assert "quick_migration.save" in kinds and "quick_migration.restore" in kinds
    assert host.invariants() == []


def test_the_host_warns_about_a_slow_network_and_shows_it_as_more_passes() -> None:
    from labs.sim.actions import apply

    fast = apply(_cluster_host("2008 R2"), {"op": "migrate", "vm": "sql", "to": "N2", "dirty_mb_s": 30})
    slow = apply(_cluster_host("2008 R2", 0.25), {"op": "migrate", "vm": "sql", "to": "N2", "dirty_mb_s": 30})
    shared = apply(_cluster_host("2008 R2", 0.0), {"op": "migrate", "vm": "sql", "to": "N2", "dirty_mb_s": 30})
    assert fast["warnings"] == [] and len(slow["warnings"]) == 2 and len(shared["warnings"]) == 2
    assert len(slow["passes"]) > len(fast["passes"]) and slow["blackout_ms"] > fast["blackout_ms"]
    assert len(shared["passes"]) > len(fast["passes"])
