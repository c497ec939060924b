"""Guest kinds and what their integration components (ICs) give them: Windows and Linux, 2008-2010.

Sources: docs/sources.md#guests (the supported guests of 2008 RTM, Windows 2000 Server SP4 and XP
without the backup integration service), docs/sources.md#linux-ics (Linux IC versions) and
docs/sources.md#backup (the conditions of an online backup).

The Windows kinds:

* ``windows-enlightened``: Windows Server 2008 (up to 4 vCPUs), Windows Server 2003 SP2 and
  Windows Vista SP1 (up to 2) with Integration Services, the backup integration service included.
* ``windows-xp``: Windows XP Professional SP2/SP3 with Integration Services, 1 vCPU, no backup
  integration service.
* ``windows-2000-server``: Windows 2000 Server / Advanced Server SP4 with Integration Services,
  1 vCPU; only the backup integration service is missing (MSDN dd405549).
* ``windows-no-integration-services``: a Windows guest whose Integration Services are not
  installed (during setup, for example): it runs on emulated devices only.

The Linux IC versions, and the nuance a trainer should teach:

* **v1 (2008)**: SLES 10 only; synthetic network and storage, the hypercall adapter (maps a
  Xen-enabled kernel's calls onto Hyper-V hypercalls), Fastpath Boot. Modelled as ``linux-xen``.
* **v2.0** (January 2010; announced as "Version 2"): 1 vCPU only; synthetic network and storage;
  Fastpath Boot. Not supported: operating system shutdown, time synchronization, data exchange
  (KVP), heartbeat, volume snapshot backup, jumbo frames/TCP offload, hot add/remove.
* **v2.1** (2010): adds SMP up to 4 vCPUs, time synchronization, shutdown and heartbeat
  (driver ``hv_utils``). KVP (data exchange) arrived only later, with LIS 3.x; VSS backup too is
  not part of 2.1.

Recalled, unverified facts are marked [mem] where they are used (docs/sources.md#recalled-parameters).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from labs.sim.errors import InvalidParameter
from labs.sim.params import SINGLE_VCPU, WINDOWS_2003_VISTA_MAX_VCPUS, WINDOWS_MAX_VCPUS

__all__ = [
    "BACKUP_APPS",
    "BACKUP_CONDITIONS",
    "GUEST_KINDS",
    "RENAMED_KINDS",
    "BackupConditions",
    "GUEST_LABELS",
    "BackupOutcome",
    "GuestFeatures",
    "IcOutcome",
    "ShutdownOutcome",
    "backup_outcome",
    "features",
    "heartbeat",
    "ic_matrix",
    "shutdown_outcome",
    "time_sync",
]

GUEST_KINDS: tuple[str, ...] = (
    "windows-enlightened",
    "windows-xp",
    "windows-2000-server",
    "windows-no-integration-services",
    "linux-xen",
    "linux-ic-2.0",
    "linux-ic-2.1",
)

RENAMED_KINDS: dict[str, str] = {
    "windows-2000": (
        "the kind 'windows-2000' was renamed: use 'windows-no-integration-services' for a guest without "
        "Integration Services installed (emulated devices only), or 'windows-2000-server' for Windows 2000 "
        "Server SP4, which has Integration Services"
    ),
}
"""Kinds that no longer exist, with the message that names their replacements."""

GUEST_LABELS: dict[str, str] = {
    "windows-enlightened": "Enlightened Windows (Server 2008, Server 2003 SP2, Vista SP1) with Integration Services",
    "windows-xp": "Windows XP Professional SP2/SP3 with Integration Services (no backup integration service)",
    "windows-2000-server": "Windows 2000 Server SP4 with Integration Services (no backup integration service)",
    "windows-no-integration-services": "Windows without Integration Services installed (emulated devices only)",
    "linux-xen": "Xen-enabled Linux (e.g. SLES 10) with Linux Integration Components v1",
    "linux-ic-2.0": "Linux with Integration Components v2.0 (January 2010)",
    "linux-ic-2.1": "Linux with Integration Components v2.1 (2010)",
}

# [mem] vCPU limits are named parameters in params.py (docs/sources.md#guests): Windows Server 2008 up to 4,
# Windows Server 2003 SP2 and Vista SP1 up to 2 (the windows-enlightened kind's label says so), XP and 2000 Server 1.

_LINUX_VSC_DRIVERS = ("vmbus", "storvsc", "blkvsc", "netvsc (RNDIS)")


@dataclass(frozen=True)
class GuestFeatures:
    """What one guest kind can do on Hyper-V: devices, integration services, limits and drivers."""

    kind: str
    label: str
    enlightened: bool  # knows it runs on a hypervisor (VMBus VSCs and/or hypercalls)
    synthetic_storage: bool
    synthetic_network: bool
    fastpath_boot: bool  # boot disk on IDE switches to the synthetic path once drivers load
    hypercall_adapter: bool  # Xen-style calls mapped onto Hyper-V hypercalls
    shutdown_ic: bool
    time_sync: bool
    heartbeat: bool
    kvp: bool  # data exchange (key/value pairs)
    vss_backup: bool
    jumbo_frames_tcp_offload: bool
    hot_add_remove: bool  # VHD / pass-through disks while running
    max_vcpus: int
    ic_version: str | None  # None = no integration components
    supported_distributions: tuple[str, ...]
    drivers: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return every feature as JSON-serialisable data (tuples become lists)."""
        return {
            "kind": self.kind,
            "label": self.label,
            "enlightened": self.enlightened,
            "synthetic_storage": self.synthetic_storage,
            "synthetic_network": self.synthetic_network,
            "fastpath_boot": self.fastpath_boot,
            "hypercall_adapter": self.hypercall_adapter,
            "shutdown_ic": self.shutdown_ic,
            "time_sync": self.time_sync,
            "heartbeat": self.heartbeat,
            "kvp": self.kvp,
            "vss_backup": self.vss_backup,
            "jumbo_frames_tcp_offload": self.jumbo_frames_tcp_offload,
            "hot_add_remove": self.hot_add_remove,
            "max_vcpus": self.max_vcpus,
            "ic_version": self.ic_version,
            "supported_distributions": list(self.supported_distributions),
            "drivers": list(self.drivers),
            "notes": list(self.notes),
        }


_FEATURES: dict[str, GuestFeatures] = {
    "windows-enlightened": GuestFeatures(
        kind="windows-enlightened",
        label=GUEST_LABELS["windows-enlightened"],
        enlightened=True,
        synthetic_storage=True,
        synthetic_network=True,
        fastpath_boot=True,
        hypercall_adapter=False,
        shutdown_ic=True,
        time_sync=True,
        heartbeat=True,
        kvp=True,
        vss_backup=True,
        jumbo_frames_tcp_offload=True,
        hot_add_remove=True,
        max_vcpus=WINDOWS_MAX_VCPUS,
        ic_version="Windows Integration Services",
        supported_distributions=(
            f"Windows Server 2008 (up to {WINDOWS_MAX_VCPUS} vCPUs)",
            f"Windows Server 2003 SP2 (up to {WINDOWS_2003_VISTA_MAX_VCPUS} vCPUs)",
            f"Windows Vista SP1 (up to {WINDOWS_2003_VISTA_MAX_VCPUS} vCPUs)",
        ),
        drivers=("vmbus", "storvsc", "netvsc", "storflt", "integration services"),
        notes=(
            "Once Integration Services load, an IDE disk quietly switches to the synthetic VMBus path through "
            "the filter driver storflt; only boot and OS install use true emulation (Savill).",
            "Calls the hypervisor directly with hypercalls; no adapter needed.",
            "[mem] jumbo frames / TCP offload and disk hot add/remove are Windows-guest features of 2008 R2 "
            "(recalled, not sourced).",
        ),
    ),
    "windows-xp": GuestFeatures(
        kind="windows-xp",
        label=GUEST_LABELS["windows-xp"],
        enlightened=True,
        synthetic_storage=True,
        synthetic_network=True,
        fastpath_boot=True,
        hypercall_adapter=False,
        shutdown_ic=True,
        time_sync=True,
        heartbeat=True,
        kvp=True,
        vss_backup=False,
        jumbo_frames_tcp_offload=False,
        hot_add_remove=False,
        max_vcpus=SINGLE_VCPU,
        ic_version="Windows Integration Services",
        supported_distributions=("Windows XP Professional SP2", "Windows XP Professional SP3"),
        drivers=("vmbus", "storvsc", "netvsc", "storflt", "integration services (no backup)"),
        notes=(
            "No backup integration service for XP (docs/sources.md#backup): a host-level backup of a running XP "
            "guest always uses saved state.",
        ),
    ),
    "windows-2000-server": GuestFeatures(
        kind="windows-2000-server",
        label=GUEST_LABELS["windows-2000-server"],
        enlightened=True,
        synthetic_storage=True,
        synthetic_network=True,
        fastpath_boot=True,
        hypercall_adapter=False,
        shutdown_ic=True,
        time_sync=True,
        heartbeat=True,
        kvp=True,
        vss_backup=False,
        jumbo_frames_tcp_offload=False,
        hot_add_remove=False,
        max_vcpus=SINGLE_VCPU,
        ic_version="Windows Integration Services",
        supported_distributions=("Windows 2000 Server SP4", "Windows 2000 Advanced Server SP4"),
        drivers=("vmbus", "storvsc", "netvsc", "storflt", "integration services (no backup)"),
        notes=(
            "A supported guest of Windows Server 2008 Hyper-V with Integration Services; MSDN dd405549: "
            "'Windows 2000: Backup Integration Service is not supported', so a running Windows 2000 Server guest "
            "is always backed up by saved state.",
        ),
    ),
    "windows-no-integration-services": GuestFeatures(
        kind="windows-no-integration-services",
        label=GUEST_LABELS["windows-no-integration-services"],
        enlightened=False,
        synthetic_storage=False,
        synthetic_network=False,
        fastpath_boot=False,
        hypercall_adapter=False,
        shutdown_ic=False,
        time_sync=False,
        heartbeat=False,
        kvp=False,
        vss_backup=False,
        jumbo_frames_tcp_offload=False,
        hot_add_remove=False,
        max_vcpus=SINGLE_VCPU,
        ic_version=None,
        supported_distributions=("any Windows version before its Integration Services are installed",),
        drivers=("emulated IDE", "emulated DEC/Intel 21140 NIC (legacy network adapter)", "emulated S3 Trio video"),
        notes=(
            "Until Integration Services are installed (during setup, for example), every disk and network I/O goes "
            "through device emulation in vmwp.exe in the root partition; emulated devices are 'adequate for "
            "10-Mbit network' (Windows Internals 6e).",
        ),
    ),
    "linux-xen": GuestFeatures(
        kind="linux-xen",
        label=GUEST_LABELS["linux-xen"],
        enlightened=True,
        synthetic_storage=True,
        synthetic_network=True,
        fastpath_boot=True,
        hypercall_adapter=True,
        shutdown_ic=False,
        time_sync=False,
        heartbeat=False,
        kvp=False,
        vss_backup=False,
        jumbo_frames_tcp_offload=False,
        hot_add_remove=False,
        max_vcpus=SINGLE_VCPU,
        ic_version="1.0",
        supported_distributions=("SUSE Linux Enterprise Server 10",),
        drivers=("synthetic storage VSC", "synthetic network VSC", "hypercall adapter"),
        notes=(
            "The hypercall adapter maps the Xen-enabled kernel's hypercalls onto Hyper-V hypercalls.",
            "[mem] 1 vCPU assumed: no source gives v1's processor limit.",
        ),
    ),
    "linux-ic-2.0": GuestFeatures(
        kind="linux-ic-2.0",
        label=GUEST_LABELS["linux-ic-2.0"],
        enlightened=True,
        synthetic_storage=True,
        synthetic_network=True,
        fastpath_boot=True,
        hypercall_adapter=False,
        shutdown_ic=False,
        time_sync=False,
        heartbeat=False,
        kvp=False,
        vss_backup=False,
        jumbo_frames_tcp_offload=False,
        hot_add_remove=False,
        max_vcpus=1,
        ic_version="2.0",
        supported_distributions=(
            "SUSE Linux Enterprise Server 10 SP2",
            "SUSE Linux Enterprise Server 11",
            "Red Hat Enterprise Linux 5.2",
            "Red Hat Enterprise Linux 5.3",
            "Red Hat Enterprise Linux 5.4",
        ),
        drivers=_LINUX_VSC_DRIVERS,
        notes=(
            "Unsupported in v2.0 (the January 2010 announcement): operating system shutdown, time synchronization, "
            "data exchange, heartbeat, volume snapshot backup, jumbo frames and TCP offload, hot add/remove.",
            "Fastpath Boot: boot devices use the block VSC (blkvsc).",
        ),
    ),
    "linux-ic-2.1": GuestFeatures(
        kind="linux-ic-2.1",
        label=GUEST_LABELS["linux-ic-2.1"],
        enlightened=True,
        synthetic_storage=True,
        synthetic_network=True,
        fastpath_boot=True,
        hypercall_adapter=False,
        shutdown_ic=True,
        time_sync=True,
        heartbeat=True,
        kvp=False,
        vss_backup=False,
        jumbo_frames_tcp_offload=False,
        hot_add_remove=False,
        max_vcpus=4,
        ic_version="2.1",
        supported_distributions=(
            "SUSE Linux Enterprise Server 10 SP3",
            "SUSE Linux Enterprise Server 11",
            "Red Hat Enterprise Linux 5.2",
            "Red Hat Enterprise Linux 5.3",
            "Red Hat Enterprise Linux 5.4",
            "Red Hat Enterprise Linux 5.5",
        ),
        drivers=(*_LINUX_VSC_DRIVERS, "hv_utils"),
        notes=(
            "v2.1 adds SMP up to 4 vCPUs, time synchronization, shutdown and heartbeat (hv_utils).",
            "Data exchange (KVP) arrived only later, with LIS 3.x.",
        ),
    ),
}


def _check_kind(kind: str, path: str = "kind") -> GuestFeatures:
    """Return the features of `kind` or raise InvalidParameter listing the valid kinds."""
    if isinstance(kind, str) and kind in RENAMED_KINDS:
        raise InvalidParameter(RENAMED_KINDS[kind], path=path)
    if not isinstance(kind, str) or kind not in _FEATURES:
        raise InvalidParameter(f"unknown guest kind {kind!r}; valid kinds: {', '.join(GUEST_KINDS)}", path=path)
    return _FEATURES[kind]


def features(kind: str) -> GuestFeatures:
    """Return what guest `kind` supports (raises InvalidParameter listing the valid kinds when unknown)."""
    return _check_kind(kind)


@dataclass(frozen=True)
class ShutdownOutcome:
    """Result of asking the guest to shut down gracefully (Msvm_ShutdownComponent.InitiateShutdown)."""

    ok: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-serialisable data."""
        return {"ok": self.ok, "reason": self.reason}


BACKUP_APPS: tuple[str, ...] = ("vss", "dpm")
"""Who takes a host-level backup: any VSS requestor through the Hyper-V VSS writer, or DPM 2007 SP1 (two more
conditions)."""

BACKUP_CONDITIONS: tuple[tuple[str, str], ...] = (
    ("backup-is-installed", "the backup integration service is part of the guest's integration services"),
    ("backup-is-running", "the backup integration service is running in the guest"),
    ("vm-running", "the VM is running"),
    ("snapshot-location-same-volume", "the VM's snapshot file location is on the same volume as its VHDs"),
    ("basic-disks-only", "the guest uses only basic disks (no dynamic disks)"),
    ("volumes-support-shadow-copies", "every volume in the guest can take a shadow copy (NTFS)"),
    ("cluster-group-online", "DPM 2007 SP1: the VM's cluster group is online"),
    ("shadow-storage-same-volume", "DPM 2007 SP1: the guest volumes' shadow storage is on the same volume"),
)
"""Every condition of an online backup ("Backup Using Child Partition Snapshot"), in the order they are checked
(docs/sources.md#backup: MSDN dd405549, DPM 2007 SP1 documentation). The last two apply to DPM only."""

_DPM_ONLY = ("cluster-group-online", "shadow-storage-same-volume")

METHOD_ONLINE = "Backup Using Child Partition Snapshot"
METHOD_SAVED_STATE = "Backup Using Saved State"


@dataclass(frozen=True)
class BackupConditions:
    """The per-VM settings an online backup depends on (all true by default: nothing stands in the way)."""

    backup_service_running: bool = True
    snapshot_on_vhd_volume: bool = True
    basic_disks_only: bool = True
    volumes_support_shadow_copies: bool = True
    cluster_group_online: bool = True
    shadow_storage_same_volume: bool = True

    def to_dict(self) -> dict[str, bool]:
        """Return every setting by name."""
        return dict(sorted(asdict(self).items()))


@dataclass(frozen=True)
class BackupOutcome:
    """How a host-level backup (through the Hyper-V VSS writer) captures this guest, and why."""

    mode: str  # "online" | "saved-state" | "vm-off"
    method: str  # Microsoft's name of the method
    reason: str
    conditions: tuple[dict[str, Any], ...] = ()
    failed: str | None = None  # the first condition that failed (None: online, or the VM is off)

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-serialisable data."""
        return {
            "mode": self.mode,
            "method": self.method,
            "reason": self.reason,
            "conditions": [dict(c) for c in self.conditions],
            "failed": self.failed,
        }


@dataclass(frozen=True)
class IcOutcome:
    """Whether one integration service works for this guest, and why."""

    service: str
    available: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-serialisable data."""
        return {"service": self.service, "available": self.available, "reason": self.reason}


def _ic_phrase(f: GuestFeatures) -> str:
    """Name the guest's integration components for a sentence."""
    if f.ic_version is None:
        return "it has no integration components"
    if f.kind.startswith("linux"):
        return f"Linux Integration Components v{f.ic_version} do not include it"
    return f"its {f.ic_version} do not include it"


def shutdown_outcome(kind: str) -> ShutdownOutcome:
    """Return whether a graceful shutdown request reaches guest `kind` (needs the shutdown IC)."""
    f = _check_kind(kind)
    if f.shutdown_ic:
        return ShutdownOutcome(
            ok=True,
            reason=(
                f"The shutdown integration service ({f.ic_version}) passes the request to the guest, which shuts "
                "down its operating system cleanly."
            ),
        )
    return ShutdownOutcome(
        ok=False,
        reason=(
            f"The graceful shutdown request fails: the guest lacks the shutdown integration component "
            f"({_ic_phrase(f)}). Shut it down from inside the guest, or turn it off from the host "
            "(like pulling the power cord)."
        ),
    )


def backup_outcome(
    kind: str,
    running: bool,
    settings: BackupConditions | None = None,
    *,
    app: str = "vss",
    vm_off: bool | None = None,
) -> BackupOutcome:
    """Return how a host-level backup captures guest `kind`: online, saved state, or (VM not running) a file copy.

    `running` is whether the VM runs; `vm_off` (default: ``not running``) says it is off or saved, so its files are
    copied as they are. A paused VM is neither: it fails the "VM running" condition and is backed up by saved
    state. Online needs every condition of :data:`BACKUP_CONDITIONS` (the DPM ones only with ``app="dpm"``); the
    result lists each one and names the first that failed.
    """
    f = _check_kind(kind)
    if not isinstance(running, bool):
        raise InvalidParameter(f"running must be true or false, got {running!r}", path="running")
    if app not in BACKUP_APPS:
        raise InvalidParameter(f"app must be one of {', '.join(BACKUP_APPS)}, got {app!r}", path="app")
    s = settings if settings is not None else BackupConditions()
    if not isinstance(s, BackupConditions):
        raise InvalidParameter("expected BackupConditions", path="settings")
    off = (not running) if vm_off is None else vm_off
    if off:
        return BackupOutcome(
            mode="vm-off",
            method="VM not running: files copied",
            reason=(
                "The VM is not running (off or saved): the Hyper-V VSS writer copies its files (configuration, "
                "VHDs, saved state) as they are; no guest is interrupted."
            ),
        )
    met: dict[str, bool] = {
        "backup-is-installed": f.vss_backup,
        "backup-is-running": f.vss_backup and s.backup_service_running,
        "vm-running": running,
        "snapshot-location-same-volume": s.snapshot_on_vhd_volume,
        "basic-disks-only": s.basic_disks_only,
        "volumes-support-shadow-copies": s.volumes_support_shadow_copies,
        "cluster-group-online": s.cluster_group_online,
        "shadow-storage-same-volume": s.shadow_storage_same_volume,
    }
    checked = [name for name, _ in BACKUP_CONDITIONS if app == "dpm" or name not in _DPM_ONLY]
    conditions: tuple[dict[str, Any], ...] = tuple(
        {"condition": name, "description": text, "met": met[name]}
        for name, text in BACKUP_CONDITIONS
        if name in checked
    )
    failed = next((name for name in checked if not met[name]), None)
    if failed is None:
        return BackupOutcome(
            mode="online",
            method=METHOD_ONLINE,
            reason=(
                "Every condition of an online backup is met: the backup integration service asks the guest's own "
                "VSS writers to bring applications to a consistent state, the guest takes a snapshot of its "
                "volumes, and the VM keeps running."
            ),
            conditions=conditions,
        )
    return BackupOutcome(
        mode="saved-state",
        method=METHOD_SAVED_STATE,
        reason=(
            f"Not online because {_failure_text(failed, f)}. Hyper-V falls back to saved state (the offline "
            "method): the VM is saved for a moment, the volume snapshot is taken, and the VM is restored, so the "
            "guest is briefly interrupted."
        ),
        conditions=conditions,
        failed=failed,
    )


def _failure_text(condition: str, f: GuestFeatures) -> str:
    """Say in words why `condition` failed for guest features `f`."""
    if condition == "backup-is-installed":
        if f.ic_version is None:
            return "the guest has no integration services installed, so no backup integration service"
        if f.kind.startswith("linux"):
            return f"Linux Integration Components v{f.ic_version} have no backup integration service"
        if f.kind == "windows-2000-server":
            return "there is no backup integration service for Windows 2000 (MSDN: 'not supported')"
        if f.kind == "windows-xp":
            return "there is no backup integration service for Windows XP"
        return "the guest's integration services do not include the backup service"
    return {
        "backup-is-running": "the backup integration service is not running in the guest",
        "vm-running": "the VM is not running (it is paused)",
        "snapshot-location-same-volume": "the VM's snapshot file location is on another volume than its VHDs",
        "basic-disks-only": "the guest uses dynamic disks; online backup needs basic disks only",
        "volumes-support-shadow-copies": "a guest volume cannot take a shadow copy (not NTFS)",
        "cluster-group-online": "the VM's cluster group is not online (DPM 2007 SP1 condition)",
        "shadow-storage-same-volume": "the shadow storage is not on the same volume (DPM 2007 SP1 condition)",
    }[condition]


def time_sync(kind: str) -> IcOutcome:
    """Return whether guest `kind` takes its clock from the host through the time synchronization IC."""
    f = _check_kind(kind)
    if f.time_sync:
        return IcOutcome(
            "time synchronization", True, "The time synchronization IC keeps the guest clock on the host's."
        )
    return IcOutcome(
        "time synchronization",
        False,
        f"No time synchronization IC ({_ic_phrase(f)}): the guest clock drifts unless it uses NTP itself.",
    )


def heartbeat(kind: str, running: bool) -> IcOutcome:
    """Return whether the host sees a heartbeat from guest `kind` (needs the heartbeat IC and a running VM)."""
    f = _check_kind(kind)
    if not isinstance(running, bool):
        raise InvalidParameter(f"running must be true or false, got {running!r}", path="running")
    if not running:
        return IcOutcome("heartbeat", False, "The VM is not running, so there is no heartbeat.")
    if f.heartbeat:
        return IcOutcome("heartbeat", True, "The heartbeat IC answers the host regularly: the guest is responsive.")
    return IcOutcome(
        "heartbeat",
        False,
        f"No heartbeat IC ({_ic_phrase(f)}): the host cannot tell a hung guest from a healthy one.",
    )


_MATRIX_COLUMNS = (
    "synthetic_storage",
    "synthetic_network",
    "fastpath_boot",
    "hypercall_adapter",
    "shutdown_ic",
    "time_sync",
    "heartbeat",
    "kvp",
    "vss_backup",
    "jumbo_frames_tcp_offload",
    "hot_add_remove",
)


def ic_matrix() -> list[dict[str, Any]]:
    """Return one row per guest kind (in GUEST_KINDS order) with its label, IC version, vCPUs and feature flags."""
    rows: list[dict[str, Any]] = []
    for kind in GUEST_KINDS:
        f = _FEATURES[kind]
        row: dict[str, Any] = {
            "kind": kind,
            "label": f.label,
            "ic_version": f.ic_version,
            "enlightened": f.enlightened,
            "max_vcpus": f.max_vcpus,
        }
        for col in _MATRIX_COLUMNS:
            row[col] = bool(getattr(f, col))
        rows.append(row)
    return rows
