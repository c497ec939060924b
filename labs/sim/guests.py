"""Guest kinds and what their integration components (ICs) give them: Windows and Linux, 2008-2010.

Sources: fact sheet section 6 (Linux ICs), seed 000 (the January 2010 Linux IC v2 announcement),
seed 003 (enlightened Windows guests; Xen-enabled Linux with VSCs and a hypercall adapter).

The Linux IC versions, and the nuance a trainer should teach:

* **v1 (2008)**: SLES 10 only; synthetic network and storage, the hypercall adapter (maps a
  Xen-enabled kernel's calls onto Hyper-V hypercalls), Fastpath Boot. Modelled as ``linux-xen``.
* **v2.0** (January 2010; the seed's "Version 2"): 1 vCPU only; synthetic network and storage;
  Fastpath Boot. Not supported: operating system shutdown, time synchronization, data exchange
  (KVP), heartbeat, volume snapshot backup, jumbo frames/TCP offload, hot add/remove.
* **v2.1** (2010): adds SMP up to 4 vCPUs, time synchronization, shutdown and heartbeat
  (driver ``hv_utils``). KVP (data exchange) arrived only later, with LIS 3.x; VSS backup too is
  not part of 2.1.

Facts not on the fact sheet are marked [mem] (recalled, unverified) where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labs.sim.errors import InvalidParameter

__all__ = [
    "GUEST_KINDS",
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

GUEST_KINDS: tuple[str, ...] = ("windows-enlightened", "windows-2000", "linux-xen", "linux-ic-2.0", "linux-ic-2.1")

GUEST_LABELS: dict[str, str] = {
    "windows-enlightened": "Enlightened Windows (Server 2008, Server 2003 SP2, Vista SP1, XP SP3) with Integration "
    "Services",
    "windows-2000": "Windows 2000 without integration components (non-enlightened: emulated devices only)",
    "linux-xen": "Xen-enabled Linux (e.g. SLES 10) with Linux Integration Components v1",
    "linux-ic-2.0": "Linux with Integration Components v2.0 (January 2010)",
    "linux-ic-2.1": "Linux with Integration Components v2.1 (2010)",
}

#: [mem] Virtual processors an enlightened Windows guest may have on 2008 / 2008 R2 (not on the fact sheet).
WINDOWS_MAX_VCPUS = 4
#: [mem] Virtual processors assumed for a guest without ICs and for Linux IC v1 (not on the fact sheet).
SINGLE_VCPU = 1

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
            "Windows Server 2008",
            "Windows Server 2003 SP2",
            "Windows Vista SP1",
            "Windows XP SP3",
        ),
        drivers=("vmbus", "storvsc", "netvsc", "storflt", "integration services"),
        notes=(
            "Once Integration Services load, an IDE disk quietly switches to the synthetic VMBus path through "
            "the filter driver storflt; only boot and OS install use true emulation (Savill).",
            "Calls the hypervisor directly with hypercalls; no adapter needed.",
            "[mem] jumbo frames / TCP offload and disk hot add/remove are Windows-guest features of 2008 R2, not "
            "on the fact sheet.",
        ),
    ),
    "windows-2000": GuestFeatures(
        kind="windows-2000",
        label=GUEST_LABELS["windows-2000"],
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
        supported_distributions=("Windows 2000",),
        drivers=("emulated IDE", "emulated DEC/Intel 21140 NIC (legacy network adapter)", "emulated S3 Trio video"),
        notes=(
            "Every disk and network I/O goes through device emulation in vmwp.exe in the root partition; "
            "emulated devices are 'adequate for 10-Mbit network' (Windows Internals 6e).",
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
            "[mem] 1 vCPU assumed: the fact sheet does not give v1's processor limit.",
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
            "Unsupported in v2.0 (seed 000): operating system shutdown, time synchronization, data exchange, "
            "heartbeat, volume snapshot backup, jumbo frames and TCP offload, hot add/remove.",
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


@dataclass(frozen=True)
class BackupOutcome:
    """How a host-level backup (DPM through VSS on the host) captures this guest."""

    mode: str  # "online" | "saved-state" | "offline"
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-serialisable data."""
        return {"mode": self.mode, "reason": self.reason}


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


def backup_outcome(kind: str, running: bool) -> BackupOutcome:
    """Return how a host-level backup (DPM through VSS on the host) captures guest `kind` (running or off)."""
    f = _check_kind(kind)
    if not isinstance(running, bool):
        raise InvalidParameter(f"running must be true or false, got {running!r}", path="running")
    if not running:
        return BackupOutcome(
            mode="offline",
            reason="The VM is off: its files are consistent on disk and are backed up offline.",
        )
    if f.vss_backup:
        return BackupOutcome(
            mode="online",
            reason=(
                "The volume snapshot (VSS) integration component lets the guest's own VSS writers quiesce "
                "applications, so the running VM is backed up online without interruption."
            ),
        )
    return BackupOutcome(
        mode="saved-state",
        reason=(
            f"No volume snapshot (VSS) integration component ({_ic_phrase(f)}): the host puts the VM into a saved "
            "state for the snapshot and resumes it afterwards, so the guest is briefly interrupted."
        ),
    )


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
