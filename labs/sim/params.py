"""The I/O and boot cost model: every number the simulator uses, with its source.

Each field of `CostModel` is documented in `SOURCES` with where the value comes from:
a published source listed in docs/sources.md, or **[mem]** when docs/sources.md marks it as
recalled and unverified, or **model** when it is a modelling assumption chosen so that the
simulator reproduces a figure docs/sources.md gives (e.g. "~40 port accesses", #crossings).
A lab may override any field (`CostModel(**overrides)`), so no [mem] value is a hard truth.

Units are in the field names: `_cycles`, `_mhz`, `_bytes`, `_pages`, `_mb`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import InvalidParameter

PAGE_SIZE_BYTES = 4096
"""x64 small page size; a GPA-direct packet lists one PFN per 4 KB page (docs/sources.md#synthetic-path: a
page-aligned 100 KB buffer = 25 PFNs; an unaligned one spans 26)."""

GUEST_SYSCALL_CROSSINGS = 2
"""The application's own system call into the guest kernel and its return: counted in user_kernel_transitions,
not in the root's crossings (docs/sources.md#crossings)."""


@dataclass(frozen=True)
class CostModel:
    """Named cost and size parameters of the I/O and boot model (see `SOURCES` for each one's origin)."""

    cpu_clock_mhz: int = 2400
    vm_exit_cycles: int = 2400
    mode_switch_cycles: int = 1000
    intercept_dispatch_cycles: int = 3000
    port_emulation_cycles: int = 2000
    guest_stack_layer_cycles: int = 1500
    vsp_processing_cycles: int = 4000
    hypercall_cycles: int = 1500
    disk_service_ns_per_kb: int = 10_000
    ide_setup_port_writes: int = 7
    ide_status_reads_per_command: int = 2
    ide_irq_acks_per_command: int = 1
    ide_bytes_per_command: int = 32 * 1024
    crossings_per_port_access: int = 2
    completion_trips_per_command: int = 1
    storvsc_max_transfer_bytes: int = 0x40000
    storvsc_ring_pages: int = 10
    blkvsc_ring_pages: int = 20
    netvsc_ring_pages: int = 64
    storvsc_max_outstanding_io: int = 64
    gpadl_header_max_pfns: int = 26
    nic_frame_bytes: int = 1500
    dec21140_port_accesses_per_frame: int = 3
    root_reserved_memory_mb: int = 512
    max_vcpus_per_vm: int = 4

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidParameter(f"must be a non-negative integer, got {value!r}", path=f"params.{field.name}")
        for name in ("cpu_clock_mhz", "ide_bytes_per_command", "storvsc_max_transfer_bytes", "nic_frame_bytes"):
            if getattr(self, name) == 0:
                raise InvalidParameter("must be greater than zero", path=f"params.{name}")

    def cycles_to_ns(self, cycles: int) -> int:
        """Convert CPU cycles to simulated nanoseconds at `cpu_clock_mhz` (rounded up, never zero for work)."""
        if cycles <= 0:
            return 0
        return max(1, (cycles * 1000 + self.cpu_clock_mhz - 1) // self.cpu_clock_mhz)

    @property
    def ide_port_accesses_per_command(self) -> int:
        """Port accesses per emulated IDE command: setup writes + status reads + IRQ acknowledgements."""
        return self.ide_setup_port_writes + self.ide_status_reads_per_command + self.ide_irq_acks_per_command

    def ide_commands_for(self, nbytes: int) -> int:
        """Number of emulated IDE commands the guest driver issues for `nbytes` bytes (at least one)."""
        return max(1, -(-nbytes // self.ide_bytes_per_command))

    def emulated_arithmetic(self, nbytes: int) -> dict[str, Any]:
        """The port-access arithmetic of an emulated IDE transfer of `nbytes` bytes, spelled out for the learner."""
        commands = self.ide_commands_for(nbytes)
        per_command = self.ide_port_accesses_per_command
        accesses = commands * per_command
        port_crossings = accesses * self.crossings_per_port_access
        completion_crossings = commands * self.completion_trips_per_command * 2
        return {
            "bytes": nbytes,
            "ide_bytes_per_command": self.ide_bytes_per_command,
            "commands": commands,
            "port_accesses_per_command": per_command,
            "port_accesses_per_command_formula": (
                f"{self.ide_setup_port_writes} setup writes + {self.ide_status_reads_per_command} status reads"
                f" + {self.ide_irq_acks_per_command} IRQ acknowledgement = {per_command}"
            ),
            "port_accesses": accesses,
            "port_accesses_formula": f"{commands} commands x {per_command} = {accesses}",
            "crossings_per_port_access": self.crossings_per_port_access,
            "port_access_crossings": port_crossings,
            "port_access_crossings_formula": (
                f"{accesses} port accesses x {self.crossings_per_port_access} root user/kernel crossings"
                f" = {port_crossings}"
            ),
            "completion_crossings": completion_crossings,
            "completion_crossings_formula": (
                f"{commands} commands x {self.completion_trips_per_command} completion trip to vmwp.exe x 2 crossings"
                f" = {completion_crossings}"
            ),
            "root_user_transitions": port_crossings + completion_crossings,
            "root_user_transitions_formula": (
                f"{port_crossings} + {completion_crossings} = {port_crossings + completion_crossings} "
                "user/kernel crossings in the root"
            ),
            "vmwp_round_trips": accesses + commands * self.completion_trips_per_command,
            "guest_crossings": GUEST_SYSCALL_CROSSINGS,
            "user_kernel_transitions": port_crossings + completion_crossings + GUEST_SYSCALL_CROSSINGS,
            "user_kernel_transitions_formula": (
                f"{port_crossings + completion_crossings} in the root + {GUEST_SYSCALL_CROSSINGS} in the guest "
                f"(the application's system call and its return) = "
                f"{port_crossings + completion_crossings + GUEST_SYSCALL_CROSSINGS}"
            ),
            "note": (
                "A model, not a measurement. The often-quoted 'about 80 traverses for a 100 KB write' (a 2008 "
                "Microsoft blog article on the Hyper-V architecture) has no published measurement behind it and "
                "matches the port accesses alone; this model adds the completion trips back to vmwp.exe that "
                "Microsoft's Hyper-V performance lead describes. Bus-master DMA register accesses are not counted "
                "separately."
            ),
        }

    def synthetic_arithmetic(self, nbytes: int) -> dict[str, Any]:
        """The request and PFN arithmetic of a synthetic (VMBus) storage transfer of `nbytes` bytes."""
        requests = max(1, -(-nbytes // self.storvsc_max_transfer_bytes))
        pfns = -(-nbytes // PAGE_SIZE_BYTES)
        return {
            "bytes": nbytes,
            "max_transfer_bytes": self.storvsc_max_transfer_bytes,
            "requests": requests,
            "requests_formula": f"ceil({nbytes} / {self.storvsc_max_transfer_bytes}) = {requests}",
            "pfns_total": pfns,
            "pfns_formula": f"ceil({nbytes} / {PAGE_SIZE_BYTES}) = {pfns} (page-aligned buffer)",
        }

    def to_dict(self) -> dict[str, Any]:
        """Every parameter as {"value": ..., "source": ...}, sorted by name."""
        return {
            field.name: {"value": getattr(self, field.name), "source": SOURCES[field.name]}
            for field in sorted(dataclasses.fields(self), key=lambda f: f.name)
        }


SOURCES: dict[str, str] = {
    "cpu_clock_mhz": "model: a nominal 2.4 GHz host used only to turn cycles into simulated nanoseconds",
    "vm_exit_cycles": (
        "[mem] ~2,400 cycles per VM exit round trip on Pentium 4 (Adams & Agesen, ASPLOS 2006); "
        "Intel 2009: 'hundreds or thousands of cycles'"
    ),
    "mode_switch_cycles": "[mem] approximate cost of one user<->kernel crossing; no published figure",
    "intercept_dispatch_cycles": (
        "[mem] approximate cost for the hypervisor to post a SynIC intercept message and for VID.sys to pick it up"
    ),
    "port_emulation_cycles": "[mem] approximate cost for vmwp.exe to emulate one IDE register access",
    "guest_stack_layer_cycles": "[mem] approximate cost of one driver layer (file system, volume, disk) per request",
    "vsp_processing_cycles": "[mem] approximate cost for a VSP to read a ring packet and build an IRP",
    "hypercall_cycles": "[mem] approximate; TLFS only says hypercalls aim to stay under 50 microseconds",
    "disk_service_ns_per_kb": "[mem] approximate physical disk service time per KB (same for both paths)",
    "ide_setup_port_writes": (
        "Savill, Mastering Windows Server 2016 Hyper-V: 'Setting up an IDE transfer involves seven I/O port "
        "writes, each of which is a separate round-trip to the emulator in the vmwp.exe'"
    ),
    "ide_status_reads_per_command": (
        "model: status-register reads per command (the '~40 port accesses' model, docs/sources.md#crossings)"
    ),
    "ide_irq_acks_per_command": (
        "model: interrupt acknowledgements per command (the '~40 port accesses' model, docs/sources.md#crossings)"
    ),
    "ide_bytes_per_command": (
        "model: bytes per IDE command, chosen so a 100 KB write is 4 commands x 10 accesses = 40 port accesses "
        "(docs/sources.md#crossings); not a measured value"
    ),
    "crossings_per_port_access": "[mem] about 2 root user<->kernel crossings per port access (VID.sys <-> vmwp.exe)",
    "completion_trips_per_command": (
        "Voellm (MSDN, 2007-12-12): after emulation the I/O goes into the root's I/O stack; completion needs "
        "another trip back to vmwp.exe"
    ),
    "storvsc_max_transfer_bytes": "Linux drivers/staging/hv vstorage.h: MAX_TRANSFER_LENGTH 0x40000 (256 KB)",
    "storvsc_ring_pages": "Linux drivers/staging/hv StorVsc.c: storvsc ring 10 pages",
    "blkvsc_ring_pages": "Linux drivers/staging/hv: blkvsc ring 20 pages",
    "netvsc_ring_pages": "[mem] approximate netvsc ring size; no published figure",
    "storvsc_max_outstanding_io": "Linux drivers/staging/hv StorVsc.c: 64 outstanding I/Os",
    "gpadl_header_max_pfns": (
        "[mem] approximate number of PFNs that fit in one GpadlHeader message; more need GpadlBody messages"
    ),
    "nic_frame_bytes": "[mem] Ethernet MTU of 1,500 bytes per frame (no jumbo frames: unsupported by Linux IC v2.0)",
    "dec21140_port_accesses_per_frame": (
        "model: CSR accesses per transmitted frame on the emulated DEC 21140 (poll demand, status read, "
        "status acknowledge); approximate"
    ),
    "root_reserved_memory_mb": "[mem] approximate memory kept for the root partition; no published figure",
    "max_vcpus_per_vm": "[mem] Hyper-V 2008 / 2008 R2 maximum of 4 virtual processors per VM",
}

DEFAULT_COST_MODEL = CostModel()
"""The default cost model (immutable, so sharing it is safe)."""

STORVSC_PROTOCOL_VERSION: dict[str, str] = {"2008": "2.0", "2008 R2": "4.2"}
"""storvsc QUERY_PROTOCOL_VERSION by host version (docs/sources.md#synthetic-path: 2.0 = WS2008; 4.2 = Win7/R2)."""

VMBUS_VERSION: dict[str, str] = {"2008": "0.13", "2008 R2": "1.1"}
"""[mem] VMBus protocol version negotiated by InitiateContact (docs/sources.md#vmbus: WS2008 0.13, Win7/R2 1.1)."""

WINDOWS_MAX_VCPUS = 4
"""[mem] Virtual processors of a Windows Server 2008 guest (1, 2 or 4; docs/sources.md#guests)."""

WINDOWS_2003_VISTA_MAX_VCPUS = 2
"""[mem] Virtual processors of Windows Server 2003 SP2 and Windows Vista SP1 guests (docs/sources.md#guests)."""

SINGLE_VCPU = 1
"""[mem] Virtual processors of Windows XP and Windows 2000 Server guests (docs/sources.md#guests); also assumed for a
guest without Integration Services and for Linux IC v1, for which no source gives a figure."""

HV_CPUID_INTERFACE_LEAF = 0x40000001
HV_CPUID_INTERFACE_SIGNATURE = "Hv#1"
"""[mem] How an enlightened guest detects Hyper-V: CPUID leaf 0x40000001 returns "Hv#1" (docs/sources.md#hypercalls)."""
