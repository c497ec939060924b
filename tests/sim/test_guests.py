"""Guest kinds and integration components: what each guest can do, and what fails without an IC."""

from __future__ import annotations

import json

import pytest

from labs.sim.errors import InvalidParameter
from labs.sim.guests import (
    BACKUP_CONDITIONS,
    GUEST_KINDS,
    GUEST_LABELS,
    BackupConditions,
    backup_outcome,
    features,
    heartbeat,
    ic_matrix,
    shutdown_outcome,
    time_sync,
)


def test_kinds_and_labels() -> None:
    assert GUEST_KINDS == (
        "windows-enlightened",
        "windows-xp",
        "windows-2000-server",
        "windows-no-integration-services",
        "linux-xen",
        "linux-ic-2.0",
        "linux-ic-2.1",
    )
    assert set(GUEST_LABELS) == set(GUEST_KINDS)
    for kind in GUEST_KINDS:
        assert features(kind).label == GUEST_LABELS[kind]


def test_ic_20_vs_21_matrix() -> None:
    v20, v21 = features("linux-ic-2.0"), features("linux-ic-2.1")
    # v2.0: synthetic devices and Fastpath Boot only, 1 vCPU (docs/sources.md#linux-ics)
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
    bare = features("windows-no-integration-services")
    assert not bare.enlightened and bare.ic_version is None
    assert not (bare.synthetic_storage or bare.synthetic_network or bare.shutdown_ic or bare.vss_backup)
    assert "without Integration Services" in bare.label


def test_windows_2000_server_sp4_has_integration_services_but_no_backup_service() -> None:
    w2k = features("windows-2000-server")
    assert w2k.enlightened and w2k.synthetic_storage and w2k.synthetic_network
    assert w2k.shutdown_ic and w2k.time_sync and w2k.heartbeat
    assert not w2k.vss_backup and w2k.max_vcpus == 1
    assert "Windows 2000 Server SP4" in w2k.supported_distributions


def test_xp_is_no_longer_listed_as_backing_up_online() -> None:
    assert not any("XP" in d for d in features("windows-enlightened").supported_distributions)
    xp = features("windows-xp")
    assert xp.enlightened and not xp.vss_backup and xp.max_vcpus == 1
    assert backup_outcome("windows-xp", running=True).mode == "saved-state"


def test_no_label_says_windows_server_2000() -> None:
    for kind in GUEST_KINDS:
        assert "Windows Server 2000" not in json.dumps(features(kind).to_dict())


def test_the_old_windows_2000_kind_names_its_replacements() -> None:
    with pytest.raises(InvalidParameter) as exc:
        features("windows-2000")
    assert "windows-no-integration-services" in exc.value.message
    assert "windows-2000-server" in exc.value.message


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


@pytest.mark.parametrize("kind", ["windows-no-integration-services", "linux-xen", "linux-ic-2.0"])
def test_shutdown_fails_without_the_ic(kind: str) -> None:
    out = shutdown_outcome(kind)
    assert not out.ok
    assert "shutdown integration component" in out.reason
    assert "turn it off" in out.reason  # the host can still power it off


def test_shutdown_reason_names_the_ic_version() -> None:
    assert "v2.0" in shutdown_outcome("linux-ic-2.0").reason
    assert "no integration components" in shutdown_outcome("windows-no-integration-services").reason


@pytest.mark.parametrize("kind", ["windows-enlightened", "linux-ic-2.1"])
def test_shutdown_works_with_the_ic(kind: str) -> None:
    assert shutdown_outcome(kind).ok


def test_backup_online_vs_saved_state_vs_files_copied() -> None:
    online = backup_outcome("windows-enlightened", running=True)
    assert online.mode == "online" and online.method == "Backup Using Child Partition Snapshot"
    assert online.failed is None and all(c["met"] for c in online.conditions)
    saved = backup_outcome("linux-ic-2.1", running=True)
    assert saved.mode == "saved-state" and saved.method == "Backup Using Saved State"
    assert "briefly interrupted" in saved.reason and saved.failed == "backup-is-installed"
    assert backup_outcome("windows-2000-server", running=True).failed == "backup-is-installed"
    assert "Windows 2000" in backup_outcome("windows-2000-server", running=True).reason
    for kind in GUEST_KINDS:
        off = backup_outcome(kind, running=False)
        assert off.mode == "vm-off" and "copies its files" in off.reason


@pytest.mark.parametrize(
    ("setting", "condition"),
    [
        ("backup_service_running", "backup-is-running"),
        ("snapshot_on_vhd_volume", "snapshot-location-same-volume"),
        ("basic_disks_only", "basic-disks-only"),
        ("volumes_support_shadow_copies", "volumes-support-shadow-copies"),
    ],
)
def test_every_online_condition_can_force_saved_state_and_is_named(setting: str, condition: str) -> None:
    out = backup_outcome("windows-enlightened", running=True, settings=BackupConditions(**{setting: False}))
    assert out.mode == "saved-state" and out.failed == condition
    assert [c["condition"] for c in out.conditions if not c["met"]] == [condition]


def test_dpm_adds_two_conditions() -> None:
    group_offline = BackupConditions(cluster_group_online=False)
    assert backup_outcome("windows-enlightened", True, group_offline).mode == "online"  # not checked without DPM
    dpm = backup_outcome("windows-enlightened", True, group_offline, app="dpm")
    assert dpm.mode == "saved-state" and dpm.failed == "cluster-group-online"
    assert len(dpm.conditions) == len(BACKUP_CONDITIONS) == 8


def test_a_paused_vm_fails_the_running_condition() -> None:
    out = backup_outcome("windows-enlightened", running=False, vm_off=False)
    assert out.mode == "saved-state" and out.failed == "vm-running"


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


def test_the_windows_vcpu_limits_are_named_parameters_and_the_labels_state_them() -> None:
    from labs.sim import params

    assert (params.WINDOWS_MAX_VCPUS, params.WINDOWS_2003_VISTA_MAX_VCPUS, params.SINGLE_VCPU) == (4, 2, 1)
    win = features("windows-enlightened")
    assert win.max_vcpus == params.WINDOWS_MAX_VCPUS
    assert "Windows Server 2003 SP2 (up to 2 vCPUs)" in win.supported_distributions
    assert features("windows-xp").max_vcpus == features("windows-2000-server").max_vcpus == params.SINGLE_VCPU
