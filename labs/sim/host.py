"""The simulated Hyper-V host: hardware, firmware, boot, partitions, processes, VMs, WMI and AzMan.

A `Host` is built from a scenario (see `labs.sim.scenario`) and a seed. Every public method
validates its arguments first and only then changes state, appending events to `host.trace`;
a failing call raises a typed `SimError` and leaves the host unchanged. All randomness
(process ids, VM GUIDs, job ids) comes from `host.rng = random.Random(seed)`, so the same
scenario, actions and seed give byte-identical `snapshot()` JSON.

Boot (docs/sources.md#deployment): ``hvboot.sys`` launches ``hvix64.exe`` (Intel) or ``hvax64.exe`` (AMD) when
the Hyper-V role is installed, BCD ``hypervisorlaunchtype`` is ``auto``, the CPU is x64 with
VT-x/AMD-V enabled in the BIOS and hardware DEP (XD/NX) enabled; otherwise the host says exactly
why not. Partition IDs are assigned from 1 (the root) and never reused while that hypervisor runs.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import guests, migration, mmu
from .azman import ADMINISTRATORS_GROUP, AzStore
from .disks import Disks
from .errors import (
    HardwareError,
    InvalidParameter,
    InvalidState,
    NotFound,
    NotSupported,
    OutOfMemory,
    ScenarioError,
    SimError,
)
from .io import COUNTER_NAMES, IoTarget, perform_io
from .network import MANAGEMENT_OS, PHYSICAL_NETWORK, Networks
from .params import (
    HV_CPUID_INTERFACE_LEAF,
    HV_CPUID_INTERFACE_SIGNATURE,
    STORVSC_PROTOCOL_VERSION,
    VMBUS_VERSION,
    CostModel,
)
from .scenario import Scenario, bios_version_key, load_scenario
from .trace import Trace
from .vmbus import DeviceOffer, handshake
from .wmi import (
    DEFAULT_AUTOMATIC_RECOVERY_ACTION,
    DEFAULT_AUTOMATIC_SHUTDOWN_ACTION,
    DEFAULT_AUTOMATIC_STARTUP_ACTION,
    ENABLED_STATES,
    HEALTH_OK,
    REQUESTED_STATES,
    SHUTDOWN_METHOD,
    STATE_LABELS,
    TRANSITIONS,
    canonical_class,
    parse_wql,
    run_query,
)

STATE_RUNNING = 2
STATE_OFF = 3
STATE_PAUSED = 32768
STATE_SAVED = 32769
INITIAL_STATE_CODES = {"off": STATE_OFF, "running": STATE_RUNNING, "paused": STATE_PAUSED, "saved": STATE_SAVED}

ADMINISTRATOR_USER = "Administrator"
"""The local administrator (member of BUILTIN\\Administrators); actions run as this user unless `run_as` is used."""

HYPERVISOR_IMAGES = {"intel": "hvix64.exe", "amd": "hvax64.exe"}
VT_NAMES = {"intel": "Intel VT-x", "amd": "AMD-V"}
DEP_NAMES = {"intel": "XD, Execute Disable", "amd": "NX, No Execute"}
SLAT_NAMES = {"intel": "EPT", "amd": "RVI"}

HV_CREATE_PARTITION = 0x40
HV_INITIALIZE_PARTITION = 0x41
HV_DELETE_PARTITION = 0x43
HV_DEPOSIT_MEMORY = 0x48
HV_MAP_GPA_PAGES = 0x4B
HV_CREATE_VP = 0x4E


@dataclass
class VirtualMachine:
    """One VM as VMMS knows it."""

    name: str
    guid: str
    guest: str
    memory_mb: int
    vcpus: int
    state: int = STATE_OFF
    scope: str = ""
    node: str = ""
    partition_id: int | None = None
    vmwp_pid: int | None = None
    channels: list[str] = field(default_factory=list)
    was_running_at_host_shutdown: bool = False
    backup: guests.BackupConditions = field(default_factory=guests.BackupConditions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable view of this VM."""
        return {
            "name": self.name,
            "guid": self.guid,
            "guest": self.guest,
            "memory_mb": self.memory_mb,
            "vcpus": self.vcpus,
            "enabled_state": self.state,
            "state": STATE_LABELS.get(self.state, ENABLED_STATES.get(self.state, "Unknown")),
            "scope_of_residence": self.scope,
            "node": self.node,
            "partition_id": self.partition_id,
            "vmwp_pid": self.vmwp_pid,
            "vmbus_channels": list(self.channels),
        }


class Host:
    """A simulated Windows Server 2008 / 2008 R2 host with the Hyper-V role (or without it)."""

    def __init__(self, scenario: Scenario | dict[str, Any] | str | Path, seed: int | None = None) -> None:
        self.scenario: Scenario = load_scenario(scenario)
        self.seed: int = self.scenario.seed if seed is None else seed
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise InvalidParameter("the seed must be an integer", path="seed")
        self.rng = random.Random(self.seed)
        self.trace = Trace()
        self.cost: CostModel = self.scenario.params
        spec = self.scenario.host
        self.name = spec.name
        self.memory_mb = spec.memory_mb
        self.cpu = spec.cpu
        self.os = spec.os
        self.bios_version = spec.bios.version
        self.bios_version_booted = spec.bios.version
        self.bios_versions = spec.bios.versions
        self.vt_option_available_from = spec.bios.vt_option_available_from
        self.bios_virtualization = spec.bios.virtualization_enabled
        self.vt_change_needs_power_off = spec.bios.vt_change_needs_power_off
        self.vt_pending_power_off: bool | None = None  # a VT change waiting for a full power-off
        self.bios_dep = spec.bios.dep_enabled
        self.role_installed = spec.hyperv_role
        self.hypervisorlaunchtype: str | None = spec.hypervisorlaunchtype
        self.pending_reboot = False
        self.hypervisor_running = False
        self.hypervisor_image: str | None = None
        self.no_hypervisor_reasons: list[str] = []
        self.boot_count = 0
        self.next_partition_id: dict[str, int] = {}
        self.partition_log: list[dict[str, Any]] = []
        self.used_pids: set[int] = set()
        self.vmms_pid: int | None = None
        self.vms: dict[str, VirtualMachine] = {}
        self.jobs: list[dict[str, Any]] = []
        self.users: dict[str, list[str]] = {ADMINISTRATOR_USER: [ADMINISTRATORS_GROUP]}
        for user, groups in self.scenario.users:
            self.users[user] = list(groups)
        self.azstore = AzStore.from_scenario(self.scenario.authorization, "authorization")
        self.networks = Networks()
        self.disks = Disks()
        self.nodes: dict[str, migration.Node] = {}
        self.vms_on_csv = False
        self.shared_storage = False
        if self.scenario.cluster is not None:
            self._load_cluster()
        self.boot()
        for index, vm_spec in enumerate(self.scenario.vms):
            self._load_vm(
                index,
                vm_spec.name,
                vm_spec.guest,
                vm_spec.memory_mb,
                vm_spec.vcpus,
                vm_spec.state,
                vm_spec.scope,
                vm_spec.node,
            )
            self.vms[vm_spec.name].backup = vm_spec.backup

    # ------------------------------------------------------------ helpers

    def _root(self) -> str:
        return "root" if self.hypervisor_running else "host"

    def _emit(
        self,
        component: str,
        mode: str,
        kind: str,
        summary: str,
        *,
        partition: str | None = None,
        cost_ns: int = 0,
        **fields: Any,
    ) -> None:
        self.trace.emit(
            partition=partition or self._root(),
            component=component,
            mode=mode,
            kind=kind,
            summary=summary,
            cost_ns=cost_ns,
            **fields,
        )

    def _new_pid(self) -> int:
        while True:
            pid = self.rng.randrange(1000, 10000) // 4 * 4  # Windows process ids are multiples of 4
            if pid not in self.used_pids:
                self.used_pids.add(pid)
                return pid

    def _new_guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4)).upper()

    def vm(self, name: object, path: str = "vm") -> VirtualMachine:
        """The VM named `name` (case-insensitive, as VM display names are in Hyper-V Manager)."""
        if not isinstance(name, str) or not name:
            raise InvalidParameter("must be a VM name", path=path)
        for vm in self.vms.values():
            if vm.name.lower() == name.lower():
                return vm
        known = ", ".join(sorted(self.vms)) or "none"
        raise NotFound(f"no virtual machine named {name!r} (known: {known})", path=path)

    def groups_of(self, user: object, path: str = "user") -> list[str]:
        """The groups of a scenario user (case-insensitive account name)."""
        if not isinstance(user, str) or not user:
            raise InvalidParameter("must be a user name", path=path)
        for known, groups in self.users.items():
            if known.lower() == user.lower():
                return list(groups)
        raise NotFound(f"no user named {user!r} (known: {', '.join(sorted(self.users))})", path=path)

    @property
    def slat_available(self) -> bool:
        """True when the CPU has EPT/RVI and the OS is Windows Server 2008 R2 (R1 has no SLAT support)."""
        return self.cpu.slat and self.os.version == "2008 R2"

    # ------------------------------------------------------------ cluster

    def _load_cluster(self) -> None:
        cluster = self.scenario.cluster
        assert cluster is not None
        names = [n.name for n in cluster.nodes]
        if self.name not in names:
            raise ScenarioError(
                f"the cluster must list the host {self.name!r} as one of its nodes", path="cluster.nodes"
            )
        for node in cluster.nodes:
            vendor = "AMD" if node.cpu_vendor == "amd" else "Intel"
            try:
                self.nodes[node.name] = migration.Node(
                    name=node.name,
                    cpu_vendor=vendor,
                    edition=node.edition,
                    clustered=node.clustered,
                    subnet=node.subnet,
                    csv_access=node.csv_access,
                    migration_network_gbps=node.migration_network_gbps,
                    os_version=self.os.version,  # a failover cluster's nodes all run one Windows version
                )
            except SimError as exc:
                raise ScenarioError(exc.message, path=f"cluster.nodes[{names.index(node.name)}]") from None
        self.vms_on_csv = cluster.vms_on_csv
        self.shared_storage = cluster.shared_storage

    # ------------------------------------------------------------ boot

    def boot_blockers(self) -> list[str]:
        """Every reason the hypervisor would not launch on the next boot, most basic first (empty: it launches)."""
        vendor = self.cpu.vendor
        reasons: list[str] = []
        if self.cpu.arch != "x64":
            reasons.append(f"the processor is {self.cpu.arch}, not x64 (Hyper-V needs an x64 processor; not Itanium)")
        if not self.cpu.virtualization:
            reasons.append(f"the processor has no hardware-assisted virtualization ({VT_NAMES[vendor]})")
        elif not self.bios_virtualization and self.vt_pending_power_off:
            reasons.append(
                f"hardware-assisted virtualization ({VT_NAMES[vendor]}) is enabled in BIOS setup but not yet in "
                "effect: this machine applies a change to it only after a full power-off, not a restart "
                "('reboot cold')"
            )
        elif not self.bios_virtualization:
            reasons.append(f"hardware-assisted virtualization ({VT_NAMES[vendor]}) is disabled in the BIOS")
        if not self.bios_dep:
            reasons.append(f"hardware DEP ({DEP_NAMES[vendor]}) is disabled in the BIOS")
        if not self.role_installed:
            reasons.insert(0, "the Hyper-V role is not installed")
        elif self.hypervisorlaunchtype is None:
            reasons.insert(
                0,
                "the BCD store has no hypervisorlaunchtype setting (typical after applying a captured "
                "image to new hardware): run 'bcdedit /set hypervisorlaunchtype auto' and reboot",
            )
        elif self.hypervisorlaunchtype == "off":
            reasons.insert(
                0, "BCD hypervisorlaunchtype is off: run 'bcdedit /set hypervisorlaunchtype auto' and reboot"
            )
        return reasons

    def boot(self, cold: bool = False) -> dict[str, Any]:
        """Boot the host: firmware, boot manager, hvboot.sys, then the hypervisor and root services (or not).

        `cold` is a full power-off and power-on: only then does a machine with
        ``bios.vt_change_needs_power_off`` apply a change to its VT setting (docs/sources.md#deployment)."""
        if cold and self.vt_pending_power_off is not None:
            self.bios_virtualization = self.vt_pending_power_off
            self.vt_pending_power_off = None
        self.boot_count += 1
        self.pending_reboot = False
        self.bios_version_booted = self.bios_version
        self.hypervisor_running = False
        self.hypervisor_image = None
        self.vmms_pid = None
        vendor = self.cpu.vendor
        if not self.cpu.virtualization:
            vt_state = "not supported by this processor"
        else:
            vt_state = "enabled" if self.bios_virtualization else "disabled"
        self._emit(
            "BIOS",
            "hardware",
            "firmware",
            f"The BIOS (version {self.bios_version}) starts the {'AMD' if vendor == 'amd' else 'Intel'} "
            f"{self.cpu.arch} processor: {VT_NAMES[vendor]} "
            f"{vt_state}, "
            f"hardware DEP ({DEP_NAMES[vendor]}) {'enabled' if self.bios_dep else 'disabled'}.",
            partition="host",
            bios_version=self.bios_version,
            boot=self.boot_count,
            virtualization_enabled=self.cpu.virtualization and self.bios_virtualization,
            dep_enabled=self.bios_dep,
        )
        edition = "Server Core" if self.os.installation == "core" else "Full installation"
        self._emit(
            "bootmgr",
            "kernel",
            "bcd",
            f"The Windows Boot Manager reads the BCD store of Windows Server {self.os.version} ({edition}): "
            f"hypervisorlaunchtype is {self.hypervisorlaunchtype or 'not set'}.",
            partition="host",
            hypervisorlaunchtype=self.hypervisorlaunchtype,
        )
        reasons = self.boot_blockers()
        self.no_hypervisor_reasons = reasons
        if reasons:
            self._emit(
                "hvboot.sys" if self.role_installed else "winload.exe",
                "kernel",
                "hypervisor_not_launched",
                f"No hypervisor: {reasons[0]}. Windows runs directly on the hardware and no virtual machine can start.",
                partition="host",
                reasons=list(reasons),
            )
            if self.role_installed:
                self._start_vmms("it can define VMs, but cannot start them without the hypervisor")
            return {"hypervisor_running": False, "reasons": list(reasons)}
        image = HYPERVISOR_IMAGES[vendor]
        self.hypervisor_running = True
        self.hypervisor_image = image
        self.next_partition_id[self.name] = 1
        self._emit(
            "hvboot.sys",
            "kernel",
            "hypervisor_launch",
            f"hvboot.sys loads {image} ({'Intel' if vendor == 'intel' else 'AMD'} processor) and launches the "
            "hypervisor beneath the running Windows instance.",
            partition="host",
            image=image,
        )
        root_id = self._allocate_partition(self.name, None)
        slat = (
            f"SLAT ({SLAT_NAMES[vendor]}) is available and used"
            if self.slat_available
            else "no SLAT: Windows Server 2008 (R1) has no SLAT support"
            if self.cpu.slat
            else f"no SLAT: the processor has no {SLAT_NAMES[vendor]}"
        )
        self._emit(
            "hypervisor",
            "hypervisor",
            "partition_created",
            f"The Windows instance becomes the root partition, partition ID {root_id}; {slat}.",
            partition="root",
            partition_id=root_id,
            slat=self.slat_available,
        )
        self._emit(
            "ntoskrnl.exe",
            "kernel",
            "drivers_loaded",
            "The root kernel loads VID.sys, WinHv, the VMBus driver (vmbus.sys) and the virtualization "
            "service providers (StorVSP, NetVSP).",
            partition="root",
        )
        self._start_vmms("")
        return {"hypervisor_running": True, "image": image, "root_partition_id": root_id}

    def _start_vmms(self, note: str) -> None:
        self.vmms_pid = self._new_pid()
        tail = f"; {note}" if note else ""
        self._emit(
            "vmms.exe",
            "user",
            "process_start",
            f"The Virtual Machine Management Service, vmms.exe (pid {self.vmms_pid}), starts in user mode and "
            f"publishes the WMI namespace root\\virtualization{tail}.",
            pid=self.vmms_pid,
        )

    def _allocate_partition(self, node: str, vm: str | None) -> int:
        pid = self.next_partition_id.get(node, 2)  # another node's root partition already holds ID 1
        self.next_partition_id[node] = pid + 1
        self.partition_log.append(
            {"node": node, "boot": self.boot_count if node == self.name else 0, "partition_id": pid, "vm": vm}
        )
        return pid

    def reboot(self, cold: bool = False) -> dict[str, Any]:
        """Restart the host (`cold`: a full power-off, then power-on): running VMs take their
        AutomaticShutdownAction (Save State), then the host boots again."""
        for vm in self._sorted_vms():
            if vm.node != self.name:
                continue
            if vm.state in (STATE_RUNNING, STATE_PAUSED):
                vm.was_running_at_host_shutdown = vm.state == STATE_RUNNING
                self._emit(
                    "vmms.exe",
                    "user",
                    "automatic_shutdown",
                    f"The host is shutting down: AutomaticShutdownAction {DEFAULT_AUTOMATIC_SHUTDOWN_ACTION} "
                    f"(Save State) saves {vm.name}.",
                    vm=vm.name,
                )
                self._teardown(vm, STATE_SAVED, "saves the VM's memory and device state to disk")
        if self.vmms_pid is not None:
            self.used_pids.discard(self.vmms_pid)
        self._emit(
            "host",
            "kernel",
            "host_shutdown",
            f"{self.name} is switched off and on again (a full power-off)." if cold else f"{self.name} restarts.",
            partition=self._root(),
            cold=cold,
        )
        result = self.boot(cold)
        restarted: list[str] = []
        if self.hypervisor_running:
            for vm in self._sorted_vms():
                if vm.node == self.name and vm.was_running_at_host_shutdown:
                    vm.was_running_at_host_shutdown = False
                    self._emit(
                        "vmms.exe",
                        "user",
                        "automatic_start",
                        f"AutomaticStartupAction {DEFAULT_AUTOMATIC_STARTUP_ACTION}: {vm.name} was running "
                        "when the host shut down, so VMMS restores it ([mem] reading of value 1).",
                        vm=vm.name,
                    )
                    self._transition(vm, STATE_RUNNING)
                    restarted.append(vm.name)
        result["vms_restored"] = restarted
        return result

    # ------------------------------------------------------------ firmware and OS configuration

    def bios_set(self, setting: str, value: bool) -> dict[str, Any]:
        """Change a BIOS setup option ("virtualization" or "dep"); it takes effect at the next boot."""
        if setting not in ("virtualization", "dep"):
            raise InvalidParameter(f"unknown BIOS setting {setting!r}: use 'virtualization' or 'dep'", path="setting")
        if not isinstance(value, bool):
            raise InvalidParameter("must be true or false", path="value")
        vendor = self.cpu.vendor
        if setting == "virtualization":
            if not self.cpu.virtualization:
                raise NotSupported(
                    f"this processor has no {VT_NAMES[vendor]}, so the BIOS offers no virtualization setting",
                    path="setting",
                )
            needed = self.vt_option_available_from
            if (
                value
                and needed is not None
                and bios_version_key(self.bios_version_booted, self.bios_versions)
                < bios_version_key(needed, self.bios_versions)
            ):
                if self.bios_version != self.bios_version_booted:
                    advice = (
                        f"BIOS {self.bios_version} is flashed but the machine still runs "
                        f"{self.bios_version_booted}: restart to reach the new setup option"
                    )
                else:
                    advice = f"upgrade the BIOS to {needed} first"
                raise NotSupported(
                    f"BIOS version {self.bios_version_booted} has no usable virtualization option in "
                    f"setup; {advice} (scenario parameter bios.vt_option_available_from)",
                    path="setting",
                )
            label = VT_NAMES[vendor]
            if self.vt_change_needs_power_off and value != self.bios_virtualization:
                self.vt_pending_power_off = value
                self.pending_reboot = True
                self._emit(
                    "BIOS",
                    "hardware",
                    "bios_setting",
                    f"In BIOS setup, {label} is set to {'Enabled' if value else 'Disabled'}; this machine applies "
                    "the change only after a full power-off (switch it off and on: 'reboot cold'), not a restart.",
                    partition="host",
                    setting=setting,
                    value=value,
                )
                return {"setting": setting, "value": value, "reboot_required": True, "power_off_required": True}
            self.vt_pending_power_off = None
            self.bios_virtualization = value
        else:
            self.bios_dep = value
            label = f"hardware DEP ({DEP_NAMES[vendor]})"
        self.pending_reboot = True
        self._emit(
            "BIOS",
            "hardware",
            "bios_setting",
            f"In BIOS setup, {label} is set to {'Enabled' if value else 'Disabled'}; the change applies when "
            "the machine restarts.",
            partition="host",
            setting=setting,
            value=value,
        )
        return {"setting": setting, "value": value, "reboot_required": True}

    def bios_upgrade(self, version: str) -> dict[str, Any]:
        """Flash a newer BIOS version (settings keep their values; applies at the next boot)."""
        if not isinstance(version, str) or not version:
            raise InvalidParameter("must be a BIOS version string", path="version")
        if self.bios_versions and version not in self.bios_versions:
            raise NotFound(
                f"no BIOS version {version!r} for this machine (available: {', '.join(self.bios_versions)})",
                path="version",
            )
        if bios_version_key(version, self.bios_versions) <= bios_version_key(self.bios_version, self.bios_versions):
            raise InvalidParameter(
                f"{version} is not newer than the installed BIOS {self.bios_version}", path="version"
            )
        old = self.bios_version
        self.bios_version = version
        self.pending_reboot = True
        self._emit(
            "BIOS",
            "hardware",
            "bios_upgrade",
            f"The BIOS is flashed from {old} to {version}; the new firmware runs at the next restart.",
            partition="host",
            old_version=old,
            version=version,
        )
        return {"old_version": old, "version": version, "reboot_required": True}

    def bcdedit_set(self, key: str, value: str) -> dict[str, Any]:
        """`bcdedit /set hypervisorlaunchtype auto|off`: takes effect at the next boot."""
        if key != "hypervisorlaunchtype":
            raise InvalidParameter(
                f"unsupported BCD element {key!r}: only hypervisorlaunchtype is modelled", path="key"
            )
        if value not in ("auto", "off"):
            raise InvalidParameter("hypervisorlaunchtype must be 'auto' or 'off'", path="value")
        self.hypervisorlaunchtype = value
        self.pending_reboot = True
        self._emit(
            "bcdedit.exe",
            "user",
            "bcd_set",
            f"bcdedit /set hypervisorlaunchtype {value}: the BCD store now "
            f"says hypervisorlaunchtype={value}; it applies at the next boot.",
            key=key,
            value=value,
        )
        return {"key": key, "value": value, "reboot_required": True}

    def role_install(self, role: str) -> dict[str, Any]:
        """Install the Hyper-V role: adds its components and sets hypervisorlaunchtype auto; needs a reboot."""
        if role != "Hyper-V":
            raise InvalidParameter(f"unknown role {role!r}: only 'Hyper-V' is modelled", path="role")
        if self.cpu.arch != "x64":
            raise NotSupported(
                f"Hyper-V needs x64 Windows Server on an x64 processor; this one is {self.cpu.arch}", path="role"
            )
        if self.role_installed:
            raise InvalidState("the Hyper-V role is already installed", path="role")
        self.role_installed = True
        self.hypervisorlaunchtype = "auto"
        self.pending_reboot = True
        core = self.os.installation == "core"
        # docs/sources.md#deployment: Server Core has no Server Manager; the role comes with ocsetup.
        tool, how = (
            ("ocsetup.exe", "On Server Core, 'start /w ocsetup Microsoft-Hyper-V' installs the Hyper-V role")
            if core
            else ("Server Manager", "Server Manager installs the Hyper-V role")
        )
        self._emit(
            tool,
            "user",
            "role_install",
            f"{how}: hvboot.sys, the hypervisor images, VMMS and the VSPs are added and "
            "the BCD store gets hypervisorlaunchtype=auto; a restart is required.",
            role=role,
        )
        command = "start /w ocsetup Microsoft-Hyper-V" if core else "Server Manager: Add Roles, Hyper-V"
        return {"role": role, "command": command, "hypervisorlaunchtype": "auto", "reboot_required": True}

    # ------------------------------------------------------------ VMs

    def _sorted_vms(self) -> list[VirtualMachine]:
        return [self.vms[name] for name in sorted(self.vms)]

    def _require_hypervisor(self, what: str) -> None:
        if not self.hypervisor_running:
            reason = self.no_hypervisor_reasons[0] if self.no_hypervisor_reasons else "the hypervisor is not running"
            raise HardwareError(f"{what} because the hypervisor is not running: {reason}", path="host")

    def _validate_definition(self, name: object, guest: object, memory_mb: object, vcpus: object) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("must be a non-empty VM name", path="name")
        if any(vm.name.lower() == name.lower() for vm in self.vms.values()):
            raise InvalidParameter(f"a virtual machine named {name!r} already exists", path="name")
        if isinstance(guest, str) and guest in guests.RENAMED_KINDS:
            raise InvalidParameter(guests.RENAMED_KINDS[guest], path="guest")
        if guest not in guests.GUEST_KINDS:
            raise InvalidParameter(f"unknown guest {guest!r} (one of {', '.join(guests.GUEST_KINDS)})", path="guest")
        if not isinstance(memory_mb, int) or isinstance(memory_mb, bool) or memory_mb <= 0:
            raise InvalidParameter(f"must be a positive number of MB, got {memory_mb!r}", path="memory_mb")
        if not isinstance(vcpus, int) or isinstance(vcpus, bool) or not 1 <= vcpus <= self.cost.max_vcpus_per_vm:
            raise InvalidParameter(f"must be 1..{self.cost.max_vcpus_per_vm}, got {vcpus!r}", path="vcpus")

    def define_vm(self, name: str, guest: str, memory_mb: int, vcpus: int = 1, scope: str = "") -> dict[str, Any]:
        """DefineVirtualSystem: create a VM (off) in the given authorization scope ("" = default scope)."""
        self._validate_definition(name, guest, memory_mb, vcpus)
        if not isinstance(scope, str):
            raise InvalidParameter("must be a scope name", path="scope")
        if not self.role_installed or self.vmms_pid is None:
            raise NotSupported(
                "VMMS is not running: install the Hyper-V role and boot with the hypervisor", path="host"
            )
        vm = VirtualMachine(
            name=name, guid=self._new_guid(), guest=guest, memory_mb=memory_mb, vcpus=vcpus, node=self.name
        )
        self.vms[name] = vm
        self._emit(
            "vmms.exe",
            "user",
            "wmi_method",
            f"Msvm_VirtualSystemManagementService.DefineVirtualSystem creates {name} "
            f"(GUID {vm.guid}, {memory_mb} MB, {vcpus} virtual processor{'s' if vcpus > 1 else ''}, "
            f"guest {guest}); return value 0.",
            method="DefineVirtualSystem",
            return_value=0,
            vm=name,
        )
        warning = self._vcpu_warning(vm)
        self._set_scope(vm, scope)
        result: dict[str, Any] = {"ReturnValue": 0, "vm": vm.to_dict()}
        if warning:
            result["warning"] = warning
        return result

    def _vcpu_warning(self, vm: VirtualMachine) -> str:
        limit = guests.features(vm.guest).max_vcpus
        if vm.vcpus > limit:
            message = (
                f"{vm.guest} supports at most {limit} virtual processor{'s' if limit > 1 else ''}; "
                f"{vm.vcpus} is an unsupported configuration"
            )
            self._emit("vmms.exe", "user", "warning", f"Warning for {vm.name}: {message}.", vm=vm.name)
            return message
        return ""

    def _load_vm(
        self, index: int, name: str, guest: str, memory_mb: int, vcpus: int, state: str, scope: str, node: str
    ) -> None:
        path = f"vms[{index}]"
        try:
            if not self.role_installed:
                raise ScenarioError("VMs need the Hyper-V role (host.hyperv_role: true)", path=f"{path}.name")
            vm = VirtualMachine(
                name=name, guid=self._new_guid(), guest=guest, memory_mb=memory_mb, vcpus=vcpus, node=node or self.name
            )
            self.vms[name] = vm
            self._emit(
                "vmms.exe",
                "user",
                "vm_loaded",
                f"VMMS registers the virtual machine {name} (GUID {vm.guid}) from the scenario.",
                vm=name,
            )
            self._set_scope(vm, scope)
            code = INITIAL_STATE_CODES[state]
            if code == STATE_SAVED:
                vm.state = STATE_SAVED
            elif code != STATE_OFF:
                if not self.hypervisor_running and vm.node == self.name:
                    raise ScenarioError(
                        f"cannot be {state}: the hypervisor is not running ({self.no_hypervisor_reasons[0]})",
                        path=f"{path}.state",
                    )
                self._check_memory(vm)
                self._transition(vm, STATE_RUNNING)
                if code == STATE_PAUSED:
                    self._transition(vm, STATE_PAUSED)
        except ScenarioError:
            raise
        except SimError as exc:
            raise ScenarioError(exc.message, path=f"{path}.{exc.path}" if exc.path else path) from None

    def destroy_vm(self, name: str) -> dict[str, Any]:
        """DestroyVirtualSystem: delete a VM that is off or saved (returns a completed job)."""
        vm = self.vm(name)
        if vm.state not in (STATE_OFF, STATE_SAVED):
            raise InvalidState(f"{vm.name} is {STATE_LABELS.get(vm.state)}; turn it off before deleting it", path="vm")
        del self.vms[vm.name]
        job = self._job(f"Destroying virtual machine {vm.name}")
        self._emit(
            "vmms.exe",
            "user",
            "wmi_method",
            f"DestroyVirtualSystem deletes {vm.name}; return value 4096 (job {job['InstanceID']} completed).",
            method="DestroyVirtualSystem",
            return_value=4096,
            vm=vm.name,
        )
        return {"ReturnValue": 4096, "Job": job}

    def _job(self, description: str) -> dict[str, Any]:
        job = {
            "InstanceID": self._new_guid(),
            "Description": description,
            "JobState": 7,
            "PercentComplete": 100,
            "ErrorCode": 0,
        }
        self.jobs.append(job)
        return dict(job)

    def _check_memory(self, vm: VirtualMachine) -> None:
        if vm.node != self.name:
            return
        used = sum(v.memory_mb for v in self.vms.values() if v.partition_id is not None and v.node == self.name)
        free = self.memory_mb - self.cost.root_reserved_memory_mb - used
        if vm.memory_mb > free:
            raise OutOfMemory(
                f"{vm.name} needs {vm.memory_mb} MB but only {max(free, 0)} MB is free on {self.name} "
                f"({self.memory_mb} MB minus {self.cost.root_reserved_memory_mb} MB kept for the root "
                f"[params.root_reserved_memory_mb] minus {used} MB used by running VMs)",
                path="vm",
            )

    def request_state_change(self, name: str, requested_state: int) -> dict[str, Any]:
        """Msvm_ComputerSystem.RequestStateChange: start/turn off/reboot/reset/pause/save; returns 4096 and a job."""
        vm = self.vm(name)
        if not isinstance(requested_state, int) or requested_state not in REQUESTED_STATES:
            codes = ", ".join(f"{k} {v}" for k, v in REQUESTED_STATES.items())
            raise InvalidParameter(
                f"RequestedState must be one of {codes}; got {requested_state!r}", path="requested_state"
            )
        key = (vm.state, requested_state)
        if key not in TRANSITIONS:
            raise InvalidState(
                f"cannot {REQUESTED_STATES[requested_state].lower()} {vm.name}: it is "
                f"{STATE_LABELS.get(vm.state, ENABLED_STATES.get(vm.state, '?'))}",
                path="vm",
            )
        transients, final = TRANSITIONS[key]
        if final == STATE_RUNNING and vm.partition_id is None:
            if vm.node == self.name:
                self._require_hypervisor(f"the virtual machine {vm.name} could not be started")
            self._check_memory(vm)
        job = self._job(f"{REQUESTED_STATES[requested_state]} virtual machine {vm.name}")
        self._emit(
            "vmms.exe",
            "user",
            "wmi_method",
            f"RequestStateChange({requested_state} = {REQUESTED_STATES[requested_state]}) on {vm.name} "
            f"returns 4096: job {job['InstanceID']} started.",
            method="RequestStateChange",
            requested_state=requested_state,
            return_value=4096,
            vm=vm.name,
        )
        old = vm.state
        for transient in transients:
            self._emit(
                "vmms.exe",
                "user",
                "state_change",
                f"{vm.name} EnabledState is {transient} ({ENABLED_STATES[transient]}).",
                vm=vm.name,
                enabled_state=transient,
            )
        if requested_state in (10, 11):
            self._emit(
                "vmwp.exe",
                "user",
                "vm_reset",
                f"vmwp.exe (pid {vm.vmwp_pid}) resets {vm.name}'s virtual "
                "processors and emulated devices; the partition and worker process stay.",
                vm=vm.name,
                pid=vm.vmwp_pid,
            )
        else:
            self._transition(vm, final)
        self._emit(
            "vmms.exe",
            "user",
            "job_completed",
            f"Job {job['InstanceID']} completed (JobState 7, "
            f"ErrorCode 0): {vm.name} went from {ENABLED_STATES[old]} ({old}) to {ENABLED_STATES[final]} "
            f"({final}).",
            job=job["InstanceID"],
            vm=vm.name,
            enabled_state=final,
        )
        return {"ReturnValue": 4096, "Job": job, "EnabledState": final, "vm": vm.name}

    def _transition(self, vm: VirtualMachine, final: int) -> None:
        """Move `vm` to a stable state, creating or tearing down its partition and vmwp.exe as needed."""
        if final == STATE_RUNNING and vm.partition_id is None:
            self._create_partition(vm, restoring=vm.state == STATE_SAVED)
        elif final == STATE_OFF:
            self._teardown(vm, STATE_OFF, "turns the VM off (no guest shutdown)")
        elif final == STATE_SAVED and vm.partition_id is not None:
            self._teardown(vm, STATE_SAVED, "writes the VM's memory and device state to its saved-state files")
        elif final == STATE_PAUSED:
            self._emit(
                "vmwp.exe",
                "user",
                "paused",
                f"vmwp.exe (pid {vm.vmwp_pid}) stops scheduling {vm.name}'s "
                "virtual processors; its partition and memory stay.",
                vm=vm.name,
                pid=vm.vmwp_pid,
            )
        elif final == STATE_RUNNING and vm.state == STATE_PAUSED:
            self._emit(
                "vmwp.exe",
                "user",
                "resumed",
                f"vmwp.exe (pid {vm.vmwp_pid}) lets {vm.name}'s virtual processors run again.",
                vm=vm.name,
                pid=vm.vmwp_pid,
            )
        vm.state = final

    def _create_partition(self, vm: VirtualMachine, restoring: bool) -> None:
        pid = self._new_pid()
        vm.vmwp_pid = pid
        part = vm.name
        self._emit(
            "vmms.exe",
            "user",
            "process_start",
            f"vmms.exe starts a worker process for {vm.name}: vmwp.exe (pid {pid}).",
            vm=vm.name,
            pid=pid,
            process="vmwp.exe",
        )
        partition_id = self._allocate_partition(vm.node, vm.name)
        vm.partition_id = partition_id
        hcost = self.cost.cycles_to_ns(self.cost.hypercall_cycles)
        calls = [
            (HV_CREATE_PARTITION, "HvCallCreatePartition", f"creates partition ID {partition_id} for {vm.name}"),
            (HV_INITIALIZE_PARTITION, "HvCallInitializePartition", "initialises the new partition"),
            (
                HV_DEPOSIT_MEMORY,
                "HvCallDepositMemory",
                "gives the hypervisor memory for the partition's own structures",
            ),
            (HV_MAP_GPA_PAGES, "HvCallMapGpaPages", f"maps {vm.memory_mb} MB of guest physical memory"),
        ]
        for code, name, what in calls:
            self.trace.count("hypercalls")
            self._emit(
                "VID.sys",
                "kernel",
                "hypercall",
                f"VID.sys in the root calls {name} (0x{code:02X}): it {what}.",
                partition="root",
                cost_ns=hcost,
                hypercall=f"0x{code:02X}",
                vm=vm.name,
                partition_id=partition_id,
            )
        for vp in range(vm.vcpus):
            self.trace.count("hypercalls")
            self._emit(
                "VID.sys",
                "kernel",
                "hypercall",
                f"VID.sys calls HvCallCreateVp (0x{HV_CREATE_VP:02X}) for virtual processor {vp} of {vm.name}.",
                partition="root",
                cost_ns=hcost,
                hypercall=f"0x{HV_CREATE_VP:02X}",
                vm=vm.name,
                vp=vp,
            )
        if restoring:
            self._emit(
                "vmwp.exe",
                "user",
                "restore",
                f"vmwp.exe restores {vm.name}'s memory and device state from "
                "its saved-state files; the guest continues where it stopped.",
                vm=vm.name,
                pid=pid,
            )
            return
        features = guests.features(vm.guest)
        self._emit(
            "vmwp.exe",
            "user",
            "power_on",
            f"vmwp.exe powers on {vm.name}'s emulated i440BX motherboard; the "
            "virtual BIOS and boot loader read the boot disk through the emulated IDE controller.",
            vm=vm.name,
            pid=pid,
        )
        if not features.enlightened and not features.synthetic_storage:
            self._emit(
                "guest kernel",
                "kernel",
                "guest_boot",
                f"{vm.name} ({vm.guest}) has no Integration "
                "Services installed: all its disk and network I/O stays on the emulated IDE controller and the "
                "emulated DEC 21140 NIC in vmwp.exe.",
                partition=part,
                partition_id=partition_id,
            )
            vm.channels = []
            return
        drivers = ", ".join(features.drivers)
        if vm.guest.startswith("linux"):
            what = f"The Linux kernel of {vm.name} loads Linux Integration Components v{features.ic_version}: {drivers}"
            if features.hypercall_adapter:
                what += "; the hypercall adapter maps the Xen-enabled kernel's hypercalls onto Hyper-V hypercalls"
        else:
            cpuid = f"CPUID leaf 0x{HV_CPUID_INTERFACE_LEAF:08X} = '{HV_CPUID_INTERFACE_SIGNATURE}'"
            what = (
                f"The Windows kernel of {vm.name} finds the hypervisor ({cpuid}) and loads "
                f"the Integration Services: {drivers}"
            )
        self._emit("guest kernel", "kernel", "guest_boot", f"{what}.", partition=part, partition_id=partition_id)
        linux = vm.guest.startswith("linux")
        storage_vsc = "blkvsc" if linux else "storflt.sys"
        offers = [
            DeviceOffer(
                "storage",
                storage_vsc,
                "StorVSP",
                self.cost.blkvsc_ring_pages if linux else self.cost.storvsc_ring_pages,
            ),
            DeviceOffer("network", "netvsc", "NetVSP", self.cost.netvsc_ring_pages),
        ]
        opened = [
            d for d, ok in (("storage", features.synthetic_storage), ("network", features.synthetic_network)) if ok
        ]
        channels = handshake(
            self.trace,
            self.cost,
            vm=vm.name,
            offers=offers,
            opened=opened,
            host_version=self.os.version,
            vmbus_version=VMBUS_VERSION[self.os.version],
            storage_protocol=STORVSC_PROTOCOL_VERSION[self.os.version],
        )
        vm.channels = sorted(channels)
        if "storage" in channels:
            if linux and features.fastpath_boot:
                how = "blkvsc takes over the IDE boot disk early in boot (Fastpath Boot)"
            elif linux:
                how = "blkvsc now serves the IDE boot disk over VMBus"
            else:
                how = "storflt now sends the IDE disk's I/O over VMBus; true emulation was only used to boot"
            self._emit(storage_vsc, "kernel", "fast_path", f"{how}.", partition=part, partition_id=partition_id)

    def _teardown(self, vm: VirtualMachine, final: int, what: str) -> None:
        if vm.partition_id is None:
            vm.state = final
            return
        self._emit("vmwp.exe", "user", "teardown", f"vmwp.exe (pid {vm.vmwp_pid}) {what}.", vm=vm.name, pid=vm.vmwp_pid)
        self.trace.count("hypercalls")
        self._emit(
            "VID.sys",
            "kernel",
            "hypercall",
            f"VID.sys calls HvCallDeletePartition (0x{HV_DELETE_PARTITION:02X})"
            f" for partition ID {vm.partition_id}; the ID is never reused while this hypervisor runs.",
            partition="root",
            hypercall=f"0x{HV_DELETE_PARTITION:02X}",
            vm=vm.name,
            partition_id=vm.partition_id,
        )
        self._emit(
            "vmwp.exe",
            "user",
            "process_exit",
            f"vmwp.exe (pid {vm.vmwp_pid}) for {vm.name} exits.",
            partition="root",
            vm=vm.name,
            pid=vm.vmwp_pid,
        )
        vm.partition_id = None
        vm.vmwp_pid = None
        vm.channels = []
        vm.state = final
        if final == STATE_OFF:
            merged = self.disks.merge_on_shutdown(vm.name)
            if merged:
                self._emit(
                    "vmms.exe",
                    "user",
                    "snapshot_merge",
                    f"{vm.name} is off: VMMS merges the .avhd files of its deleted snapshots into the parent VHD "
                    f"({', '.join(merged)}).",
                    vm=vm.name,
                    merged=merged,
                )

    def shutdown_vm(self, name: str) -> dict[str, Any]:
        """Graceful shutdown through Msvm_ShutdownComponent.InitiateShutdown (needs the guest's shutdown IC)."""
        vm = self.vm(name)
        if vm.state != STATE_RUNNING:
            raise InvalidState(f"{vm.name} is {STATE_LABELS.get(vm.state)}; only a running VM can shut down", path="vm")
        outcome = guests.shutdown_outcome(vm.guest)
        if not outcome.ok:
            raise NotSupported(f"{vm.name}: {outcome.reason}", path="vm")
        self._emit(
            "vmms.exe",
            "user",
            "wmi_method",
            f"{SHUTDOWN_METHOD} is called for {vm.name}. {outcome.reason}",
            method="InitiateShutdown",
            vm=vm.name,
        )
        self._emit(
            "guest os",
            "kernel",
            "guest_shutdown",
            f"{vm.name}'s operating system shuts down cleanly.",
            partition=vm.name,
            partition_id=vm.partition_id,
        )
        self._emit(
            "vmms.exe",
            "user",
            "state_change",
            f"{vm.name} EnabledState is 32774 (Stopping).",
            vm=vm.name,
            enabled_state=32774,
        )
        self._teardown(vm, STATE_OFF, "sees the guest power off")
        return {"ReturnValue": 0, "EnabledState": STATE_OFF, "vm": vm.name, "reason": outcome.reason}

    def backup_vm(self, name: str, app: str = "vss") -> dict[str, Any]:
        """Host-level backup through the Hyper-V VSS writer: online (child partition snapshot), saved state, or a
        file copy of a VM that is not running; the result lists every online condition and the first that failed."""
        vm = self.vm(name)
        if app not in guests.BACKUP_APPS:
            raise InvalidParameter(f"must be one of {', '.join(guests.BACKUP_APPS)}, got {app!r}", path="app")
        outcome = guests.backup_outcome(
            vm.guest,
            vm.state == STATE_RUNNING,
            vm.backup,
            app=app,
            vm_off=vm.state in (STATE_OFF, STATE_SAVED),
        )
        self._emit(
            "vmms.exe",
            "user",
            "backup",
            f"Host-level backup of {vm.name}: {outcome.method} ({outcome.mode}). {outcome.reason}",
            vm=vm.name,
            backup_mode=outcome.mode,
            failed_condition=outcome.failed,
        )
        return {"vm": vm.name, "app": app, **outcome.to_dict()}

    # ------------------------------------------------------------ I/O

    def io(self, name: str, op_kind: str, nbytes: int, device: str = "disk") -> dict[str, Any]:
        """Trace one guest I/O of `nbytes` bytes on the path the guest uses; return counters and the arithmetic."""
        vm = self.vm(name)
        if op_kind not in ("read", "write"):
            raise InvalidParameter("must be 'read' or 'write'", path="op_kind")
        if device not in ("disk", "nic"):
            raise InvalidParameter("must be 'disk' or 'nic'", path="device")
        if not isinstance(nbytes, int) or isinstance(nbytes, bool) or nbytes <= 0:
            raise InvalidParameter(f"must be a positive number of bytes, got {nbytes!r}", path="bytes")
        if vm.state != STATE_RUNNING or vm.partition_id is None or vm.vmwp_pid is None:
            raise InvalidState(f"{vm.name} is {STATE_LABELS.get(vm.state)}; I/O needs a running VM", path="vm")
        features = guests.features(vm.guest)
        target = IoTarget(
            vm=vm.name,
            partition_id=vm.partition_id,
            vmwp_pid=vm.vmwp_pid,
            guest=vm.guest,
            synthetic_storage="storage" in vm.channels,
            synthetic_network="network" in vm.channels,
            hypercall_adapter=features.hypercall_adapter,
            linux=vm.guest.startswith("linux"),
            host_version=self.os.version,
        )
        first = len(self.trace.events)
        path, counters = perform_io(self.trace, self.cost, target, device=device, op_kind=op_kind, nbytes=nbytes)
        arithmetic = (
            self.cost.emulated_arithmetic(nbytes)
            if path == "emulated" and device == "disk"
            else self.cost.synthetic_arithmetic(nbytes)
            if device == "disk"
            else {}
        )
        return {
            "vm": vm.name,
            "path": path,
            "device": device,
            "op_kind": op_kind,
            "bytes": nbytes,
            "counters": counters,
            "arithmetic": arithmetic,
            "first_seq": first + 1,
            "last_seq": len(self.trace.events),
        }

    # ------------------------------------------------------------ WMI

    def wmi_instances(self, cls: str) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
        """All instances of a WMI class and its property names."""
        schema: tuple[str, ...]
        if cls == "Msvm_ComputerSystem":
            schema = ("Name", "ElementName", "Caption", "EnabledState", "HealthState", "ProcessID")
            rows: list[dict[str, Any]] = [
                {
                    "Name": self.name,
                    "ElementName": self.name,
                    "Caption": "Hosting Computer System",
                    "EnabledState": 2,
                    "HealthState": HEALTH_OK,
                    "ProcessID": None,
                }
            ]
            for vm in self._sorted_vms():
                rows.append(
                    {
                        "Name": vm.guid,
                        "ElementName": vm.name,
                        "Caption": "Virtual Machine",
                        "EnabledState": vm.state,
                        "HealthState": HEALTH_OK,
                        "ProcessID": vm.vmwp_pid,
                    }
                )
            return rows, schema
        if cls == "Msvm_VirtualSystemGlobalSettingData":
            schema = (
                "InstanceID",
                "ElementName",
                "SystemName",
                "ScopeOfResidence",
                "AutomaticRecoveryAction",
                "AutomaticShutdownAction",
                "AutomaticStartupAction",
            )
            return [
                {
                    "InstanceID": f"Microsoft:{vm.guid}",
                    "ElementName": vm.name,
                    "SystemName": vm.guid,
                    "ScopeOfResidence": vm.scope,
                    "AutomaticRecoveryAction": DEFAULT_AUTOMATIC_RECOVERY_ACTION,
                    "AutomaticShutdownAction": DEFAULT_AUTOMATIC_SHUTDOWN_ACTION,
                    "AutomaticStartupAction": DEFAULT_AUTOMATIC_STARTUP_ACTION,
                }
                for vm in self._sorted_vms()
            ], schema
        if cls == "Msvm_VirtualSystemManagementService":
            schema = ("Name", "ElementName", "SystemName", "ProcessID")
            if self.vmms_pid is None:
                return [], schema
            return [
                {
                    "Name": "vmms",
                    "ElementName": "Hyper-V Virtual Machine Management Service",
                    "SystemName": self.name,
                    "ProcessID": self.vmms_pid,
                }
            ], schema
        schema = ("InstanceID", "Description", "JobState", "PercentComplete", "ErrorCode")
        return [dict(job) for job in self.jobs], schema

    def wmi_query(self, wql: str) -> dict[str, Any]:
        """Run a WQL query against root\\virtualization; return the matching instances."""
        query = parse_wql(wql)
        cls = canonical_class(query.class_name)
        if cls is None:
            from .wmi import WqlError

            raise WqlError(
                f"invalid class {query.class_name!r} (known: Msvm_ComputerSystem, Msvm_ConcreteJob, "
                "Msvm_VirtualSystemGlobalSettingData, Msvm_VirtualSystemManagementService)",
                column=query.class_column,
                query=wql,
            )
        if self.vmms_pid is None:
            raise NotSupported(
                "the root\\virtualization namespace is not available: the Hyper-V role is not "
                "installed, so VMMS is not running",
                path="wql",
            )
        instances, schema = self.wmi_instances(cls)
        rows = run_query(query, instances, schema)
        self._emit(
            "WMI (wmiprvse.exe)",
            "user",
            "wmi_query",
            f"The query '{wql}' returns {len(rows)} instance{'' if len(rows) == 1 else 's'} of {cls}.",
            wql=wql,
            results=len(rows),
        )
        return {"class": cls, "count": len(rows), "instances": rows}

    def _set_scope(self, vm: VirtualMachine, scope: str) -> None:
        if scope and not self.azstore.has_scope(scope):
            self._emit(
                "vmms.exe",
                "user",
                "scope_fallback",
                f"VMMS logs an event: {vm.name} names the authorization "
                f"scope {scope!r}, which does not exist in the store; the VM moves back to the default "
                "(application) scope.",
                vm=vm.name,
                scope=scope,
            )
            vm.scope = ""
            return
        vm.scope = scope

    def modify_system(self, name: str, scope_of_residence: str) -> dict[str, Any]:
        """ModifyVirtualSystem with a new Msvm_VirtualSystemGlobalSettingData.ScopeOfResidence ("" = default)."""
        vm = self.vm(name)
        if not isinstance(scope_of_residence, str):
            raise InvalidParameter('must be a scope name ("" for the default scope)', path="scope_of_residence")
        old = vm.scope
        self._emit(
            "vmms.exe",
            "user",
            "wmi_method",
            f"ModifyVirtualSystem sets ScopeOfResidence of {vm.name} to {scope_of_residence!r}; return value 0.",
            method="ModifyVirtualSystem",
            return_value=0,
            vm=vm.name,
            scope=scope_of_residence,
        )
        self._set_scope(vm, scope_of_residence)
        return {"ReturnValue": 0, "vm": vm.name, "old_scope": old, "scope_of_residence": vm.scope}

    # ------------------------------------------------------------ authorization

    def access_check(self, user: str, operation: str, vm_name: str | None) -> dict[str, Any]:
        """AzMan access check of `operation` for `user` on a VM's scope (or the application scope if no VM)."""
        groups = self.groups_of(user)
        scope = self.vm(vm_name).scope if vm_name is not None else ""
        decision = self.azstore.access_check(user, groups, operation, scope)
        verdict = "allowed" if decision.allowed else "denied"
        where = f"{vm_name} (scope {scope or 'default'})" if vm_name else "the application scope"
        self._emit(
            "vmms.exe",
            "user",
            "access_check",
            f"Authorization Manager check: {user} may {operation!r} on "
            f"{where}? {verdict.capitalize()}: {decision.reason}",
            user=user,
            operation=operation,
            scope=scope,
            allowed=decision.allowed,
        )
        result = decision.to_dict()
        result["user"] = user
        result["vm"] = vm_name
        return result

    def azman_delete_scope(self, name: str) -> None:
        """Delete a scope; VMs in it fall back to the default scope (VMMS logs an event)."""
        self.azstore.delete_scope(name)
        for vm in self._sorted_vms():
            if vm.scope == name:
                self._set_scope(vm, name)

    # ------------------------------------------------------------ models from sim-models

    def mmu_run(self, mode: str, tagged_tlb: bool, workload: str | dict[str, Any]) -> dict[str, Any]:
        """Run the memory-translation model (shadow paging vs SLAT) for one second of a workload on this host."""
        self._require_hypervisor("the memory-translation model cannot run")
        if isinstance(workload, str):
            if workload not in mmu.WORKLOADS:
                raise InvalidParameter(
                    f"unknown workload {workload!r} (one of {', '.join(sorted(mmu.WORKLOADS))})", path="workload"
                )
            wl = mmu.WORKLOADS[workload]
        elif isinstance(workload, dict):
            try:
                wl = mmu.Workload(**workload)
            except TypeError as exc:
                raise InvalidParameter(f"bad workload fields: {exc}", path="workload") from None
        else:
            raise InvalidParameter("must be a workload name or a dict of Workload fields", path="workload")
        result = mmu.simulate(mode, tagged_tlb, wl, slat_available=self.slat_available, trace=self.trace)
        return result.to_dict()

    def _cluster_move(self, name: str, to: str, what: str) -> tuple[VirtualMachine, migration.Node, migration.Node]:
        """The running VM, its node and the destination node of a move, or a typed error saying why not."""
        vm = self.vm(name)
        if not self.nodes:
            raise NotSupported(f"{what} needs Failover Clustering: this scenario has no cluster section", path="to")
        if not isinstance(to, str) or to not in self.nodes:
            raise NotFound(f"no cluster node named {to!r} (nodes: {', '.join(sorted(self.nodes))})", path="to")
        if vm.state != STATE_RUNNING:
            raise InvalidState(f"{vm.name} is {STATE_LABELS.get(vm.state)}; {what} moves a running VM", path="vm")
        return vm, self.nodes[vm.node], self.nodes[to]

    def _move_partition(self, vm: VirtualMachine, to: str) -> str:
        """Retire the VM's partition and vmwp.exe on its node and create new ones on `to`; return the old node."""
        old_node = vm.node
        old_partition, old_pid = vm.partition_id, vm.vmwp_pid
        if old_pid is not None:
            self.used_pids.discard(old_pid)
        self._emit(
            "vmwp.exe",
            "user",
            "process_exit",
            f"On {old_node}, vmwp.exe (pid {old_pid}) of {vm.name} exits "
            "and "
            f"partition ID {old_partition} is deleted after the move.",
            partition="root",
            vm=vm.name,
            node=old_node,
        )
        vm.node = to
        vm.vmwp_pid = self._new_pid()
        vm.partition_id = self._allocate_partition(to, vm.name)
        self._emit(
            "vmwp.exe",
            "user",
            "process_start",
            f"On {to}, {vm.name} now runs in partition ID {vm.partition_id} with its own vmwp.exe (pid {vm.vmwp_pid}).",
            partition="root",
            vm=vm.name,
            node=to,
            pid=vm.vmwp_pid,
        )
        return old_node

    def migrate(
        self, name: str, to: str, dirty_mb_s: float = 10.0, bandwidth_mb_s: float | None = None
    ) -> dict[str, Any]:
        """Live-migrate a running VM to another cluster node (2008 R2 only); return passes, bytes sent, blackout
        and warnings (a network slower than the recommended dedicated 1 Gbps warns, never refuses)."""
        vm, source, dest = self._cluster_move(name, to, "live migration")
        migration.check_prerequisites(source, dest, self.vms_on_csv, self.shared_storage)
        warnings = migration.network_warnings(source, dest)
        request = migration.MigrationRequest(
            vm_name=vm.name,
            memory_mb=vm.memory_mb,
            dirty_mb_s=dirty_mb_s,
            bandwidth_mb_s=bandwidth_mb_s,
            network_gbps=migration.effective_network_gbps(source, dest),
            source=source.name,
            destination=dest.name,
            vm_on_csv=self.vms_on_csv,
        )
        if to == self.name:
            self._require_hypervisor(f"{vm.name} cannot move to {to}")
            self._check_memory(VirtualMachine(vm.name, vm.guid, vm.guest, vm.memory_mb, vm.vcpus, node=to))
        for warning in warnings:
            self._emit("cluster", "user", "warning", f"Warning: {warning}.", partition="root", vm=vm.name)
        result = migration.migrate(request, trace=self.trace)
        old_node = self._move_partition(vm, to)
        out = result.to_dict()
        out["from"] = old_node
        out["to"] = to
        out["warnings"] = warnings
        return out

    def quick_migrate(self, name: str, to: str, storage_mb_s: float | None = None) -> dict[str, Any]:
        """Quick Migration (2008 RTM and R2): save the running VM, move its cluster group, restore it on `to`;
        return each phase's seconds and the downtime (the VM is down from the save to the end of the restore)."""
        vm, source, dest = self._cluster_move(name, to, "quick migration")
        migration.check_quick_prerequisites(source, dest, self.vms_on_csv, self.shared_storage)
        request = migration.QuickMigrationRequest(
            vm_name=vm.name,
            memory_mb=vm.memory_mb,
            storage_mb_s=storage_mb_s,
            source=source.name,
            destination=dest.name,
            vm_on_csv=self.vms_on_csv,
        )
        if to == self.name:
            self._require_hypervisor(f"{vm.name} cannot move to {to}")
            self._check_memory(VirtualMachine(vm.name, vm.guid, vm.guest, vm.memory_mb, vm.vcpus, node=to))
        result = migration.quick_migrate(request, trace=self.trace)
        old_node = self._move_partition(vm, to)
        out = result.to_dict()
        out["from"] = old_node
        out["to"] = to
        return out

    # ------------------------------------------------------------ virtual networks and disks

    def net_create_switch(self, name: str, kind: str, nic: str | None, management_os: bool) -> dict[str, Any]:
        """Create an external, internal or private virtual network (docs/sources.md#virtual-networks)."""
        self._require_vmms("create a virtual network")
        switch = self.networks.create_switch(name, kind, nic, management_os)
        where = {
            "external": f"bound to the physical NIC {switch.nic}; the management OS "
            + ("shares it through its own virtual NIC" if switch.management_os else "has no virtual NIC on it"),
            "internal": "for the VMs and the management OS; not bound to a physical NIC",
            "private": "for the VMs only: neither the management OS nor the physical network reach it",
        }[switch.kind]
        self._emit("vmms.exe", "user", "virtual_network", f"Virtual network {switch.name} ({switch.kind}) is "
                   f"created, {where}.", switch=switch.name, switch_kind=switch.kind)
        return {"switch": switch.to_dict()}

    def net_connect(self, name: str, switch: str, vlan_id: int | None) -> dict[str, Any]:
        """Connect a VM's network adapter to a virtual network, with an optional VLAN ID (1-4094)."""
        vm = self.vm(name)
        adapter = self.networks.connect(vm.name, switch, vlan_id)
        vlan = f"VLAN ID {adapter.vlan_id}" if adapter.vlan_id is not None else "no VLAN ID (untagged)"
        self._emit("vmms.exe", "user", "virtual_network", f"{vm.name}'s network adapter is connected to "
                   f"{adapter.switch} with {vlan}.", vm=vm.name, switch=adapter.switch, vlan_id=adapter.vlan_id)
        return {"adapter": adapter.to_dict()}

    def net_reach(self, source: str, dest: str) -> dict[str, Any]:
        """Whether two ends can talk: VM names, "host" (the management OS) or "physical" (the physical network)."""
        ends = [e if e in (MANAGEMENT_OS, PHYSICAL_NETWORK) else self.vm(e, path).name
                for e, path in ((source, "from"), (dest, "to"))]
        reachable, reason = self.networks.reach(ends[0], ends[1])
        self._emit("vmswitch.sys", "kernel", "network_reach", f"{ends[0]} -> {ends[1]}: "
                   f"{'reachable' if reachable else 'not reachable'}: {reason}.", reachable=reachable)
        return {"from": ends[0], "to": ends[1], "reachable": reachable, "reason": reason}

    def vhd_create(self, path: str, vhd_type: str, size_gb: int | None, parent: str | None) -> dict[str, Any]:
        """Create a fixed, dynamically expanding or differencing VHD (docs/sources.md#virtual-disks)."""
        self._require_vmms("create a VHD")
        disk = self.disks.create(path, vhd_type, size_gb, parent)
        detail = {
            "fixed": f"it takes its full {disk.size_gb} GB on the host's disk now",
            "dynamic": f"it starts at {disk.file_mb} MB and grows as the guest writes, up to {disk.size_gb} GB",
            "differencing": f"it records only changes against the read-only parent {disk.parent}",
        }[disk.type]
        self._emit("vmms.exe", "user", "vhd_create", f"{disk.path} is created as a {disk.type} VHD: {detail}.",
                   path=disk.path, vhd_type=disk.type)
        return {"vhd": disk.to_dict()}

    def vhd_attach(self, name: str, path: str) -> dict[str, Any]:
        """Attach a VHD to a VM that is off."""
        vm = self.vm(name)
        if vm.state != STATE_OFF:
            raise InvalidState(f"{vm.name} is {STATE_LABELS.get(vm.state)}; attach an IDE disk while it is off",
                               path="vm")
        disk = self.disks.attach(vm.name, path)
        self._emit("vmms.exe", "user", "vhd_attach", f"{disk.path} is attached to {vm.name}.", vm=vm.name)
        return {"vhd": disk.to_dict()}

    def vhd_write(self, name: str, mb: int) -> dict[str, Any]:
        """Record `mb` MB written by a running VM: into its newest .avhd, or its VHD (a dynamic one grows)."""
        vm = self.vm(name)
        if vm.state != STATE_RUNNING:
            raise InvalidState(f"{vm.name} is {STATE_LABELS.get(vm.state)}; only a running VM writes", path="vm")
        disks = self.disks.write(vm.name, mb)
        self._emit("vmwp.exe", "user", "vhd_write", f"{vm.name} writes {mb} MB into "
                   f"{', '.join(d.path for d in disks)}.", vm=vm.name, mb=mb)
        return {"vhds": [d.to_dict() for d in disks]}

    def vm_snapshot(self, name: str, snapshot: str) -> dict[str, Any]:
        """CreateVirtualSystemSnapshot: each VHD of the VM gets an .avhd differencing file it writes into."""
        vm = self.vm(name)
        created = self.disks.snapshot(vm.name, snapshot, self._new_guid())
        self._emit("vmms.exe", "user", "snapshot", f"Snapshot {snapshot!r} of {vm.name}: "
                   f"{', '.join(d.path for d in created)} created; the parent VHDs are read-only from now on.",
                   vm=vm.name)
        return {"snapshot": snapshot, "avhd": [d.to_dict() for d in created]}

    def vm_delete_snapshot(self, name: str, snapshot: str) -> dict[str, Any]:
        """RemoveVirtualSystemSnapshot: the .avhd files merge into the parent only when the VM is off (2008/R2)."""
        vm = self.vm(name)
        waiting = self.disks.delete_snapshot(vm.name, snapshot)
        now = vm.state == STATE_OFF
        merged = self.disks.merge_on_shutdown(vm.name) if now else []
        self._emit("vmms.exe", "user", "snapshot_delete", f"Snapshot {snapshot!r} of {vm.name} is deleted; "
                   + (f"{vm.name} is off, so its .avhd files merge now." if now else
                      f"{vm.name} is running, so {', '.join(waiting) or 'its .avhd files'} merge when it is shut "
                      "down (Windows Server 2008/R2)."), vm=vm.name)
        return {"snapshot": snapshot, "merge_pending": [] if now else waiting, "merged": merged}

    def _require_vmms(self, what: str) -> None:
        if self.vmms_pid is None:
            raise NotSupported(f"cannot {what}: VMMS is not running (install the Hyper-V role)", path="host")

    # ------------------------------------------------------------ state

    def invariants(self) -> list[str]:
        """Broken invariants (empty when all hold): one vmwp per live partition, unique ids, monotonic trace."""
        problems: list[str] = []
        pids = [vm.vmwp_pid for vm in self.vms.values() if vm.vmwp_pid is not None]
        if len(pids) != len(set(pids)):
            problems.append("two VMs share a vmwp.exe pid")
        for vm in self.vms.values():
            live = vm.state in (STATE_RUNNING, STATE_PAUSED)
            if live and (vm.vmwp_pid is None or vm.partition_id is None):
                problems.append(f"{vm.name} is live without a partition or vmwp.exe")
            if not live and (vm.vmwp_pid is not None or vm.partition_id is not None):
                problems.append(f"{vm.name} is not live but still has a partition or vmwp.exe")
        seen: set[tuple[str, int, int]] = set()
        for entry in self.partition_log:
            key = (entry["node"], entry["boot"], entry["partition_id"])
            if key in seen:
                problems.append(f"partition id {entry['partition_id']} reused on {entry['node']}")
            if entry["partition_id"] < 1:
                problems.append("partition id 0 is invalid")
            seen.add(key)
        last = 0
        for event in self.trace.events:
            if event["seq"] <= last:
                problems.append("trace seq not strictly increasing")
                break
            last = event["seq"]
        if any(v < 0 for v in self.trace.counters.values()):
            problems.append("a counter is negative")
        return problems

    def snapshot(self) -> dict[str, Any]:
        """JSON-serialisable state of the whole host (no events; see `trace.to_dict()` for those)."""
        processes: list[dict[str, Any]] = []
        if self.vmms_pid is not None:
            processes.append({"name": "vmms.exe", "pid": self.vmms_pid, "node": self.name})
        for vm in self._sorted_vms():
            if vm.vmwp_pid is not None:
                processes.append({"name": "vmwp.exe", "pid": vm.vmwp_pid, "vm": vm.name, "node": vm.node})
        partitions: list[dict[str, Any]] = []
        if self.hypervisor_running:
            partitions.append({"id": 1, "kind": "root", "node": self.name})
        for vm in self._sorted_vms():
            if vm.partition_id is not None:
                partitions.append({"id": vm.partition_id, "kind": "child", "vm": vm.name, "node": vm.node})
        counters = {name: self.trace.counters.get(name, 0) for name in COUNTER_NAMES if name != "simulated_ns"}
        counters.update(self.trace.counters)
        return {
            "seed": self.seed,
            "host": {
                "name": self.name,
                "memory_mb": self.memory_mb,
                "cpu": {
                    "vendor": self.cpu.vendor,
                    "arch": self.cpu.arch,
                    "virtualization": self.cpu.virtualization,
                    "slat": self.cpu.slat,
                    "model": self.cpu.model,
                },
                "bios": {
                    "version": self.bios_version,
                    "running_version": self.bios_version_booted,
                    "virtualization_enabled": self.bios_virtualization,
                    "virtualization_pending_power_off": self.vt_pending_power_off,
                    "dep_enabled": self.bios_dep,
                    "vt_option_available_from": self.vt_option_available_from,
                },
                "os": {"version": self.os.version, "installation": self.os.installation, "edition": self.os.edition},
                "hyperv_role": self.role_installed,
                "bcd": {"hypervisorlaunchtype": self.hypervisorlaunchtype},
                "pending_reboot": self.pending_reboot,
                "boot_count": self.boot_count,
                "slat_available": self.slat_available,
            },
            "hypervisor": {
                "running": self.hypervisor_running,
                "image": self.hypervisor_image,
                "reasons": list(self.no_hypervisor_reasons),
            },
            "partitions": partitions,
            "processes": processes,
            "vms": [vm.to_dict() for vm in self._sorted_vms()],
            "users": {user: list(groups) for user, groups in sorted(self.users.items())},
            "networks": self.networks.to_dict(),
            "disks": self.disks.to_dict(),
            "authorization": self.azstore.to_dict(),
            "jobs": len(self.jobs),
            "cluster": {
                "nodes": sorted(self.nodes),
                "vms_on_csv": self.vms_on_csv,
                "shared_storage": self.shared_storage,
                "node_details": [self.nodes[n].to_dict() for n in sorted(self.nodes)],
            }
            if self.nodes
            else None,
            "counters": dict(sorted(counters.items())),
            "simulated_ns": self.trace.clock_ns,
            "events": len(self.trace.events),
        }
