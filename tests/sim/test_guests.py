"""Guest kinds and integration components: what each guest can do, and what fails without an IC."""

from __future__ import annotations

import json

import pytest

from labs.sim.errors import InvalidParameter
from labs.sim.guests import (
    GUEST_KINDS,
    GUEST_LABELS,
    backup_outcome,
    features,
    heartbeat,
    ic_matrix,
    shutdown_outcome,
    time_sync,
)


def test_kinds_and_labels() -> None:
    assert GUEST_KINDS == ("windows-enlightened", "windows-2000", "linux-xen", "linux-ic-2.0", "linux-ic-2.1")
    assert set(GUEST_LABELS) == set(GUEST_KINDS)
    for kind in GUEST_KINDS:
        assert features(kind).label == GUEST_LABELS[kind]


def test_ic_20_vs_21_matrix() -> None:
    v20, v21 = features("linux-ic-2.0"), features("linux-ic-2.1")
    # v2.0: synthetic devices and Fastpath Boot only, 1 vCPU (seed 000)
    assert v20.synthetic_storage and v20.synthetic_network and v20.fastpath_boot
    assert v20.max_vcpus == 1
    for missing in (
        "shutdown_ic",
        "time_sync",
        "heartbeat",
        "kvp",
        "vss_backup",
        "jumbo_frames_tcp_offload",
        "hot_add_remove",
    ):
        assert getattr(v20, missing) is False, missing
    # v2.1 adds SMP up to 4 vCPUs, time sync, shutdown, heartbeat; KVP only later (LIS 3.x)
    assert v21.max_vcpus == 4
    assert v21.shutdown_ic and v21.time_sync and v21.heartbeat
    assert not v21.kvp and not v21.vss_backup
    assert "hv_utils" in v21.drivers and "hv_utils" not in v20.drivers
    assert {"vmbus", "storvsc", "blkvsc"} <= set(v21.drivers)
    assert "Red Hat Enterprise Linux 5.5" in v21.supported_distributions
    assert "Red Hat Enterprise Linux 5.5" not in v20.supported_distributions
    assert "SUSE Linux Enterprise Server 10 SP3" in v21.supported_distributions


def test_windows_guests() -> None:
    win = features("windows-enlightened")
    assert win.enlightened and win.vss_backup and win.shutdown_ic and win.time_sync and win.heartbeat and win.kvp
    old = features("windows-2000")
    assert not old.enlightened and old.ic_version is None
    assert not (old.synthetic_storage or old.synthetic_network or old.shutdown_ic or old.vss_backup)


def test_xen_enabled_linux_uses_the_hypercall_adapter() -> None:
    xen = features("linux-xen")
    assert xen.hypercall_adapter and xen.synthetic_storage and xen.synthetic_network and xen.ic_version == "1.0"
    assert xen.supported_distributions == ("SUSE Linux Enterprise Server 10",)
    assert not any(features(k).hypercall_adapter for k in GUEST_KINDS if k != "linux-xen")


def test_unknown_kind_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidParameter) as exc:
        features("linux-ic-3.0")
    for kind in GUEST_KINDS:
        assert kind in exc.value.message
    assert exc.value.path == "kind"
    with pytest.raises(InvalidParameter):
        shutdown_outcome("freebsd")


@pytest.mark.parametrize("kind", ["windows-2000", "linux-xen", "linux-ic-2.0"])
def test_shutdown_fails_without_the_ic(kind: str) -> None:
    out = shutdown_outcome(kind)
    assert not out.ok
    assert "shutdown integration component" in out.reason
    assert "turn it off" in out.reason  # the host can still power it off


def test_shutdown_reason_names_the_ic_version() -> None:
    assert "v2.0" in shutdown_outcome("linux-ic-2.0").reason
    assert "no integration components" in shutdown_outcome("windows-2000").reason


@pytest.mark.parametrize("kind", ["windows-enlightened", "linux-ic-2.1"])
def test_shutdown_works_with_the_ic(kind: str) -> None:
    assert shutdown_outcome(kind).ok


def test_backup_online_vs_saved_state_vs_offline() -> None:
    assert backup_outcome("windows-enlightened", running=True).mode == "online"
    saved = backup_outcome("linux-ic-2.1", running=True)
    assert saved.mode == "saved-state" and "briefly interrupted" in saved.reason and "VSS" in saved.reason
    assert backup_outcome("windows-2000", running=True).mode == "saved-state"
    for kind in GUEST_KINDS:
        assert backup_outcome(kind, running=False).mode == "offline"


def test_backup_rejects_non_bool_running() -> None:
    with pytest.raises(InvalidParameter) as exc:
        backup_outcome("windows-enlightened", running="yes")  # type: ignore[arg-type]
    assert exc.value.path == "running"


def test_time_sync_and_heartbeat_helpers() -> None:
    assert time_sync("linux-ic-2.1").available and not time_sync("linux-ic-2.0").available
    assert heartbeat("windows-enlightened", running=True).available
    assert not heartbeat("windows-enlightened", running=False).available
    assert not heartbeat("linux-ic-2.0", running=True).available


def test_ic_matrix_for_the_lesson_table() -> None:
    rows = ic_matrix()
    json.dumps(rows, sort_keys=True)
    assert [r["kind"] for r in rows] == list(GUEST_KINDS)
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["linux-ic-2.0"]["shutdown_ic"] is False and by_kind["linux-ic-2.1"]["shutdown_ic"] is True
    assert by_kind["linux-ic-2.1"]["max_vcpus"] == 4
    for kind in GUEST_KINDS:
        assert by_kind[kind]["vss_backup"] == features(kind).vss_backup


def test_features_to_dict_is_json() -> None:
    for kind in GUEST_KINDS:
        d = features(kind).to_dict()
        json.dumps(d)
        assert d["kind"] == kind and isinstance(d["drivers"], list)
