"""Disk and network I/O through the emulated and the synthetic (VMBus) paths, as traces.

Emulated IDE (docs/sources.md#emulated-path): every IN/OUT to an IDE register traps to the hypervisor, which
posts an ``HvMessageTypeX64IoPortIntercept`` (0x80010000) SynIC message to the root; VID.sys
hands it to ``vmwp.exe`` (root user mode), which emulates the register and returns; the
hypervisor resumes the guest. After the command register is written, ``vmwp.exe`` sends the
data through the root's storage stack; the completion comes back to ``vmwp.exe``, which has
IRQ14 injected into the guest.

Synthetic (docs/sources.md#synthetic-path): storvsc (or storflt below the IDE disk once Integration Services
load, or blkvsc for Linux ICs) builds ``VSTOR_PACKET{EXECUTE_SRB}`` with a SCSI CDB and sends
it in a GPA-direct packet (type 0x9) listing the guest's page frame numbers; at most
256 KB per request. The guest writes the ring in its own kernel mode and signals
(``HvCallSignalEvent`` 0x5D) only when the ring goes from empty to non-empty; StorVSP in the
root kernel reads the ring and sends an IRP to the VHD/disk stack; the reply is a Completion
packet (type 0xB). No root user-mode transition at all.

Every function appends events to a `Trace` and returns the counters of that I/O alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .params import PAGE_SIZE_BYTES, CostModel
from .trace import Trace
from .vmbus import (
    HVCALL_SIGNAL_EVENT,
    NVSP_SEND_RNDIS_PACKET,
    NVSP_SEND_RNDIS_PACKET_COMPLETE,
    PACKET_COMPLETION,
    PACKET_DATA_USING_GPA_DIRECT,
    PACKET_DATA_USING_TRANSFER_PAGES,
    VSTOR_EXECUTE_SRB,
)

HV_MESSAGE_X64_IO_PORT_INTERCEPT = 0x80010000
"""SynIC message type for an I/O port intercept (Hyper-V TLFS hv_message_type)."""

IDE_IRQ = 14
"""The primary IDE channel's interrupt line (docs/sources.md#emulated-path: vmwp.exe has IRQ14 injected)."""

# Not Hyper-V facts: standard command codes (T10 SCSI block commands, T13 ATA command set).
SCSI_READ_10 = 0x28
SCSI_WRITE_10 = 0x2A
ATA_READ_DMA = 0xC8
ATA_WRITE_DMA = 0xCA

# Primary IDE channel task-file registers at their standard legacy addresses (ATA specification, not a Hyper-V
# source), in the order a driver programs them: Savill's "seven I/O port writes" (docs/sources.md#emulated-path).
IDE_SETUP_REGISTERS: tuple[tuple[int, str], ...] = (
    (0x1F1, "Features"),
    (0x1F2, "Sector Count"),
    (0x1F3, "LBA Low"),
    (0x1F4, "LBA Mid"),
    (0x1F5, "LBA High"),
    (0x1F6, "Drive/Head"),
    (0x1F7, "Command"),
)
DEC21140_IO_BASE = 0xEC00
"""model: an example PCI I/O BAR for the emulated DEC 21140's CSRs (CSRn at offset 8*n); the virtual BIOS picks it."""

IDE_ALT_STATUS = (0x3F6, "Alternate Status")
IDE_STATUS = (0x1F7, "Status")

COUNTER_NAMES = (
    "user_kernel_transitions",
    "root_user_transitions",
    "vm_exits",
    "vmwp_round_trips",
    "vmbus_packets",
    "vsc_requests",
    "port_accesses",
    "hypercalls",
    "interrupts_injected",
    "simulated_ns",
)


@dataclass(frozen=True)
class IoTarget:
    """Who does the I/O: the VM, its partition id, its vmwp.exe pid, and which path its guest uses."""

    vm: str
    partition_id: int
    vmwp_pid: int
    guest: str
    synthetic_storage: bool
    synthetic_network: bool
    hypercall_adapter: bool
    linux: bool
    host_version: str = "2008 R2"


class _Run:
    """Emits the events of one I/O and keeps its own counters."""

    def __init__(self, trace: Trace, cost: CostModel, target: IoTarget) -> None:
        self.trace = trace
        self.cost = cost
        self.t = target
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.start_ns = trace.clock_ns

    def count(self, name: str, n: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + n
        self.trace.count(name, n)

    def guest(self, mode: str, component: str, kind: str, summary: str, cycles: int = 0, **fields: Any) -> None:
        self.trace.emit(
            partition=self.t.vm,
            component=component,
            mode=mode,
            kind=kind,
            summary=summary,
            cost_ns=self.cost.cycles_to_ns(cycles),
            partition_id=self.t.partition_id,
            **fields,
        )

    def root(self, mode: str, component: str, kind: str, summary: str, cycles: int = 0, **fields: Any) -> None:
        self.trace.emit(
            partition="root",
            component=component,
            mode=mode,
            kind=kind,
            summary=summary,
            cost_ns=self.cost.cycles_to_ns(cycles),
            partition_id=1,
            vm=self.t.vm,
            **fields,
        )

    def hv(self, kind: str, summary: str, cycles: int = 0, partition: str | None = None, **fields: Any) -> None:
        self.trace.emit(
            partition=partition or self.t.vm,
            component="hypervisor",
            mode="hypervisor",
            kind=kind,
            summary=summary,
            cost_ns=self.cost.cycles_to_ns(cycles),
            **fields,
        )

    def guest_crossing(self, to_mode: str, summary: str) -> None:
        self.guest(to_mode, "guest os", "mode_switch", summary, self.cost.mode_switch_cycles, to_mode=to_mode)
        self.count("user_kernel_transitions")

    def root_crossing(self, to_mode: str, summary: str) -> None:
        self.root(
            to_mode,
            "vmwp.exe" if to_mode == "user" else "VID.sys",
            "mode_switch",
            summary,
            self.cost.mode_switch_cycles,
            to_mode=to_mode,
        )
        self.count("user_kernel_transitions")
        self.count("root_user_transitions")

    def finish(self) -> dict[str, int]:
        self.counters["simulated_ns"] = self.trace.clock_ns - self.start_ns
        return dict(sorted(self.counters.items()))


def _kb(nbytes: int) -> str:
    if nbytes % 1024 == 0:
        return f"{nbytes // 1024} KB"
    return f"{nbytes} bytes"


def _app_enter(run: _Run, op_kind: str, nbytes: int, what: str) -> None:
    if what != "file":
        verb = "send" if op_kind == "write" else "recv"
    elif run.t.linux:  # a Linux application calls the POSIX write()/read(), not the Win32 API
        verb = "write()" if op_kind == "write" else "read()"
    else:
        verb = "WriteFile" if op_kind == "write" else "ReadFile"
    noun = "a file" if what == "file" else "the network"
    direction = "write" if op_kind == "write" else "read"
    prep = "to" if op_kind == "write" else "from"
    run.guest(
        "user",
        "application",
        "app_request",
        f"An application in {run.t.vm} asks to {direction} {_kb(nbytes)} {prep} {noun} ({verb}).",
        op_kind=op_kind,
        bytes=nbytes,
    )
    run.guest_crossing("kernel", f"The {verb} call crosses from user mode into the kernel of {run.t.vm}.")


def _app_return(run: _Run, op_kind: str, nbytes: int) -> None:
    run.guest_crossing("user", f"The request is complete; control returns from the kernel of {run.t.vm} to user mode.")
    run.guest(
        "user",
        "application",
        "app_complete",
        f"The application in {run.t.vm} sees its {_kb(nbytes)} {op_kind} succeed.",
        op_kind=op_kind,
        bytes=nbytes,
    )


def _guest_disk_stack(run: _Run, bottom: str) -> None:
    layers: tuple[tuple[str, str], ...]
    if run.t.linux:
        layers = (("vfs/ext3", "the file system"), ("block layer", "the block layer"))
    else:
        # Windows 2000, XP and 2003 manage basic volumes with ftdisk.sys; volmgr.sys arrived with Vista/2008.
        volume = "volmgr.sys" if run.t.guest == "windows-enlightened" else "ftdisk.sys"
        layers = (
            ("ntfs.sys", "the NTFS file system"),
            (volume, "the volume manager"),
            ("disk.sys", "the disk class driver"),
        )
    for component, name in layers:
        run.guest(
            "kernel",
            component,
            "driver",
            f"In {run.t.vm}'s kernel, {name} ({component}) passes the request down towards {bottom}.",
            run.cost.guest_stack_layer_cycles,
        )


_EMULATED_DEVICES: dict[str, tuple[str, str, str, str]] = {
    # device: (guest driver on Windows, guest driver on Linux, what the driver is called, vmwp.exe's emulator)
    "ide": ("atapi.sys", "ata driver", "IDE driver", "IDE controller"),
    # dc21x4.sys is Windows' driver for the DEC 21x4x family; Linux drives it with tulip (not on docs/sources.md).
    "dec21140": ("dc21x4.sys", "tulip driver", "DEC 21140 driver", "DEC 21140 network adapter"),
}


def _port_access(
    run: _Run,
    port: int,
    register: str,
    write: bool,
    value: int | None,
    index: int,
    purpose: str = "",
    device: str = "ide",
) -> None:
    """One emulated register access (IDE or DEC 21140): trap, intercept message, VID.sys, vmwp.exe, back, resume."""
    windows_driver, linux_driver, driver_name, emulated = _EMULATED_DEVICES[device]
    instr = "OUT" if write else "IN"
    if write:
        written = f" of 0x{value:02X}" if value is not None else ""
        action = f"handles the guest's write{written} to"
    else:
        action = "returns the current value of"
    run.count("port_accesses")
    run.guest(
        "kernel",
        linux_driver if run.t.linux else windows_driver,
        "port_io",
        f"The {driver_name} in {run.t.vm} executes {instr} on port 0x{port:03X} ({register} register"
        f"{'; ' + purpose if purpose else ''}): port access {index}.",
        0,
        port=f"0x{port:03X}",
        register=register,
        direction="out" if write else "in",
        port_access=index,
    )
    run.count("vm_exits")
    run.hv(
        "vm_exit",
        f"The {instr} instruction traps: {run.t.vm}'s virtual processor exits to the hypervisor "
        "(I/O instruction intercept).",
        run.cost.vm_exit_cycles,
        exit_reason="io_instruction",
        port=f"0x{port:03X}",
    )
    run.hv(
        "synic_message",
        f"The hypervisor posts an HvMessageTypeX64IoPortIntercept (0x80010000) message for port "
        f"0x{port:03X} to the root partition's SynIC.",
        run.cost.intercept_dispatch_cycles,
        partition="root",
        message_type=f"0x{HV_MESSAGE_X64_IO_PORT_INTERCEPT:08X}",
        vm=run.t.vm,
    )
    run.root(
        "kernel",
        "VID.sys",
        "intercept",
        f"VID.sys in the root kernel receives the port intercept for "
        f"{run.t.vm} and hands it to that VM's worker process, vmwp.exe (pid {run.t.vmwp_pid}).",
    )
    run.count("vmwp_round_trips")
    run.root_crossing(
        "user", f"Root kernel to user-mode crossing: vmwp.exe (pid {run.t.vmwp_pid}) wakes up to emulate the register."
    )
    run.root(
        "user",
        "vmwp.exe",
        "emulate",
        f"vmwp.exe's {emulated} emulator {action} the {register} register "
        f"(0x{port:03X}) of {run.t.vm}'s emulated {emulated}.",
        run.cost.port_emulation_cycles,
        port=f"0x{port:03X}",
        register=register,
        pid=run.t.vmwp_pid,
    )


def _port_access_return(run: _Run, instr: str) -> None:
    run.root_crossing("kernel", "User to kernel crossing: vmwp.exe returns the emulation result to VID.sys.")
    run.root("kernel", "VID.sys", "intercept_complete", f"VID.sys completes the intercept for {run.t.vm}.")
    run.hv(
        "vm_resume",
        f"The hypervisor resumes {run.t.vm}'s virtual processor after the {instr} instruction.",
        run.cost.vm_exit_cycles // 2,
    )


def emulated_disk_io(trace: Trace, cost: CostModel, target: IoTarget, op_kind: str, nbytes: int) -> dict[str, int]:
    """Trace an emulated IDE disk transfer of `nbytes` bytes (op_kind "read" or "write"); return its counters."""
    run = _Run(trace, cost, target)
    write = op_kind == "write"
    arithmetic = cost.emulated_arithmetic(nbytes)
    _app_enter(run, op_kind, nbytes, "file")
    _guest_disk_stack(run, "the IDE port driver (atapi.sys)" if not target.linux else "the IDE driver")
    commands = arithmetic["commands"]
    remaining = nbytes
    index = 0
    ata_cmd = ATA_WRITE_DMA if write else ATA_READ_DMA
    ata_name = "WRITE DMA" if write else "READ DMA"
    for command in range(1, commands + 1):
        chunk = min(remaining, cost.ide_bytes_per_command)
        remaining -= chunk
        run.guest(
            "kernel",
            "atapi.sys" if not target.linux else "ata driver",
            "ide_command",
            f"The IDE driver in {target.vm} starts command {command} of {commands}: {ata_name} "
            f"(0x{ata_cmd:02X}) for {_kb(chunk)} ({-(-chunk // 512)} sectors).",
            command=command,
            commands=commands,
            ata_command=f"0x{ata_cmd:02X}",
            bytes=chunk,
        )
        for _ in range(cost.ide_status_reads_per_command):
            index += 1
            _port_access(run, IDE_ALT_STATUS[0], IDE_ALT_STATUS[1], False, None, index)
            _port_access_return(run, "IN")
        for position in range(cost.ide_setup_port_writes):
            port, register = IDE_SETUP_REGISTERS[position % len(IDE_SETUP_REGISTERS)]
            is_command = position == cost.ide_setup_port_writes - 1
            if is_command:
                port, register = 0x1F7, "Command"
            index += 1
            _port_access(run, port, register, True, ata_cmd if is_command else None, index)
            if is_command:
                run.root(
                    "user",
                    "vmwp.exe",
                    "io_submit",
                    f"The Command register write starts the transfer: "
                    f"vmwp.exe submits a {_kb(chunk)} {op_kind} of {target.vm}'s virtual disk to the root's "
                    "I/O stack.",
                    0,
                    bytes=chunk,
                    pid=target.vmwp_pid,
                )
            _port_access_return(run, "OUT")
            if is_command:
                run.root(
                    "kernel",
                    "root storage stack",
                    "disk_io",
                    f"The root's storage stack (file system, "
                    f"volume, disk and storage miniport drivers) {'writes' if write else 'reads'} "
                    f"{_kb(chunk)} {'to' if write else 'from'} the physical disk.",
                    0,
                    bytes=chunk,
                )
                trace.advance(cost.disk_service_ns_per_kb * -(-chunk // 1024))
                run.count("vmwp_round_trips")
                run.root_crossing(
                    "user",
                    f"The root's I/O stack completes the request; the completion travels "
                    f"back up to vmwp.exe (pid {target.vmwp_pid}) in user mode.",
                )
                run.root(
                    "user",
                    "vmwp.exe",
                    "ide_complete",
                    f"vmwp.exe marks {ata_name} command {command} complete "
                    "in the emulated controller and asks VID.sys to raise IRQ14.",
                    cost.port_emulation_cycles,
                    irq=IDE_IRQ,
                )
                run.root_crossing("kernel", "User to kernel crossing: vmwp.exe calls into VID.sys to assert IRQ14.")
                run.count("interrupts_injected")
                run.hv(
                    "interrupt",
                    f"The hypervisor injects IRQ14 into {target.vm}'s virtual processor.",
                    cost.vm_exit_cycles // 2,
                    irq=IDE_IRQ,
                )
                run.guest(
                    "kernel",
                    "atapi.sys" if not target.linux else "ata driver",
                    "isr",
                    f"{target.vm}'s IDE interrupt handler runs for command {command}.",
                    cost.guest_stack_layer_cycles,
                    irq=IDE_IRQ,
                )
        for _ in range(cost.ide_irq_acks_per_command):
            index += 1
            _port_access(run, IDE_STATUS[0], IDE_STATUS[1], False, None, index, "reading it acknowledges IRQ14")
            _port_access_return(run, "IN")
    run.guest(
        "kernel",
        "disk.sys" if not target.linux else "block layer",
        "driver",
        f"{'The IDE command is' if commands == 1 else f'All {commands} IDE commands are'} done; "
        f"{target.vm}'s disk stack completes the request upwards.",
        cost.guest_stack_layer_cycles,
    )
    _app_return(run, op_kind, nbytes)
    return run.finish()


def _vsc_name(target: IoTarget) -> str:
    if target.linux:
        return "blkvsc"
    return "storflt.sys"


def synthetic_disk_io(
    trace: Trace, cost: CostModel, target: IoTarget, op_kind: str, nbytes: int, *, ring_pending: int = 0
) -> dict[str, int]:
    """Trace a synthetic (VMBus) disk transfer of `nbytes` bytes; return its counters.

    `ring_pending` is the number of packets already waiting in the outbound ring (0 = empty ring,
    so the first packet triggers a signal).
    """
    run = _Run(trace, cost, target)
    write = op_kind == "write"
    vsc = _vsc_name(target)
    arithmetic = cost.synthetic_arithmetic(nbytes)
    requests = arithmetic["requests"]
    cdb = SCSI_WRITE_10 if write else SCSI_READ_10
    cdb_name = "WRITE(10)" if write else "READ(10)"
    _app_enter(run, op_kind, nbytes, "file")
    if target.linux:
        bottom = "blkvsc, the Linux IC block VSC (fastpath)"
    else:
        bottom = "the IDE disk, where the storflt filter of the Integration Services redirects it to VMBus"
    _guest_disk_stack(run, bottom)
    if target.hypercall_adapter:
        run.guest(
            "kernel",
            "hypercall adapter",
            "hypercall_adapter",
            f"{target.vm} runs a Xen-enabled kernel: the hypercall adapter maps its Xen hypercalls onto "
            "Hyper-V hypercalls, and the VSC drivers talk VMBus directly.",
            cost.guest_stack_layer_cycles,
        )
    pending = ring_pending
    offset = 0
    sizes: list[int] = []
    for number in range(1, requests + 1):
        size = min(cost.storvsc_max_transfer_bytes, nbytes - offset)
        offset += size
        sizes.append(size)
        pfns = -(-size // PAGE_SIZE_BYTES)
        run.count("vsc_requests")
        run.guest(
            "kernel",
            vsc,
            "vstor_request",
            f"{vsc} builds VSTOR_PACKET {{operation EXECUTE_SRB (3), flags REQUEST_COMPLETION}} carrying a "
            f"SCSI {cdb_name} CDB (opcode 0x{cdb:02X}) for {_kb(size)}: request {number} of {requests}.",
            cost.guest_stack_layer_cycles,
            vstor_operation=VSTOR_EXECUTE_SRB,
            cdb_opcode=f"0x{cdb:02X}",
            bytes=size,
            request=number,
            requests=requests,
        )
        run.guest(
            "kernel",
            vsc,
            "vmbus_packet",
            f"{vsc} sends it as a GPA-direct packet (type 0x9) listing {pfns} guest page frame numbers; "
            "the data itself is not copied.",
            0,
            packet_type=PACKET_DATA_USING_GPA_DIRECT,
            pfn_count=pfns,
            direction="child->root",
        )
        was_empty = pending == 0
        pending += 1
        run.count("vmbus_packets")
        if was_empty:
            run.guest(
                "kernel",
                "vmbus",
                "ring_write",
                f"{vsc} copies the packet descriptor into the channel's outbound ring buffer in {target.vm}'s "
                "kernel mode and advances the write index; the ring went from empty to non-empty.",
                cost.guest_stack_layer_cycles,
                ring="outbound",
                was_empty=True,
            )
            run.count("hypercalls")
            run.count("vm_exits")
            run.guest(
                "kernel",
                "vmbus",
                "signal",
                f"{target.vm} signals the root with HvCallSignalEvent (0x5D); the hypercall is a VM exit.",
                cost.hypercall_cycles,
                hypercall=f"0x{HVCALL_SIGNAL_EVENT:02X}",
            )
            run.hv(
                "event_flag",
                "The hypervisor sets the channel's bit in the root's SynIC event flags page and interrupts the root.",
                cost.vm_exit_cycles,
                partition="root",
                vm=target.vm,
            )
        else:
            run.guest(
                "kernel",
                "vmbus",
                "ring_write",
                f"{vsc} copies the packet descriptor into the outbound ring buffer; the ring already held "
                f"{pending - 1} unread packet(s), so no signal is needed (batched).",
                cost.guest_stack_layer_cycles,
                ring="outbound",
                was_empty=False,
            )
    run.root(
        "kernel",
        "vmbus.sys",
        "vmbus_interrupt",
        f"The root's VMBus driver sees the event flag and runs "
        f"StorVSP's channel callback for {target.vm}, still in kernel mode.",
        cost.vsp_processing_cycles,
    )
    for number, size in enumerate(sizes, start=1):
        run.root(
            "kernel",
            "StorVSP",
            "ring_read",
            f"StorVSP reads request {number} (EXECUTE_SRB, {cdb_name}, {_kb(size)}) from the ring in root kernel mode.",
            cost.vsp_processing_cycles,
            request=number,
        )
        run.root(
            "kernel",
            "StorVSP",
            "irp",
            f"StorVSP sends an IRP for the {_kb(size)} {op_kind} straight down to "
            "the VHD/disk stack, using the guest's pages directly: no root user-mode transition.",
            cost.vsp_processing_cycles,
            bytes=size,
            request=number,
        )
    inbound_empty = True
    for number, size in enumerate(sizes, start=1):
        run.root(
            "kernel",
            "root storage stack",
            "disk_io",
            f"The root's storage stack "
            f"{'writes' if write else 'reads'} {_kb(size)} {'to' if write else 'from'} the physical disk "
            f"for request {number}.",
            0,
            bytes=size,
            request=number,
        )
        trace.advance(cost.disk_service_ns_per_kb * -(-size // 1024))
        run.count("vmbus_packets")
        if inbound_empty:
            ring_note = "the ring was empty"
        else:
            ring_note = "the ring already held an unread completion, so no new signal is needed"
        run.root(
            "kernel",
            "StorVSP",
            "vmbus_packet",
            f"The IRP completes; StorVSP writes a Completion packet "
            f"(type 0xB), SCSI status 0, for request {number} into {target.vm}'s inbound ring ({ring_note}).",
            cost.vsp_processing_cycles,
            packet_type=PACKET_COMPLETION,
            request=number,
            status=0,
            direction="root->child",
            was_empty=inbound_empty,
        )
        if inbound_empty:
            inbound_empty = False
            run.count("hypercalls")
            run.root(
                "kernel",
                "vmbus.sys",
                "signal",
                f"The inbound ring went from empty to non-empty, so the root "
                f"signals {target.vm} with HvCallSignalEvent (0x5D).",
                cost.hypercall_cycles,
                hypercall=f"0x{HVCALL_SIGNAL_EVENT:02X}",
            )
            run.count("interrupts_injected")
            run.hv(
                "event_flag",
                f"The hypervisor sets the channel's bit in {target.vm}'s SynIC event flags page "
                "and raises its VMBus interrupt.",
                cost.vm_exit_cycles // 2,
            )
    for number in range(1, requests + 1):
        run.guest(
            "kernel",
            vsc,
            "completion",
            f"{target.vm}'s VMBus interrupt handler hands {vsc} the Completion "
            f"for request {number}; {vsc} completes the SCSI request.",
            cost.guest_stack_layer_cycles,
            request=number,
        )
    run.guest(
        "kernel",
        "disk.sys" if not target.linux else "block layer",
        "driver",
        f"{target.vm}'s disk stack completes the request upwards.",
        cost.guest_stack_layer_cycles,
    )
    _app_return(run, op_kind, nbytes)
    return run.finish()


def emulated_nic_io(trace: Trace, cost: CostModel, target: IoTarget, op_kind: str, nbytes: int) -> dict[str, int]:
    """Trace sending (write) or receiving (read) `nbytes` through the emulated DEC 21140; return its counters."""
    run = _Run(trace, cost, target)
    frames = max(1, -(-nbytes // cost.nic_frame_bytes))
    send = op_kind == "write"
    _app_enter(run, op_kind, nbytes, "network")
    run.guest(
        "kernel",
        "tcpip.sys" if not target.linux else "tcp/ip stack",
        "driver",
        f"{target.vm}'s TCP/IP stack splits {_kb(nbytes)} into {frames} Ethernet frame(s) of at most "
        f"{cost.nic_frame_bytes} bytes for the emulated DEC 21140 NIC (PCI VEN_1011&DEV_0009).",
        cost.guest_stack_layer_cycles,
        frames=frames,
    )
    csrs = (
        (0x08 if send else 0x10, "CSR1 (transmit poll demand)" if send else "CSR2 (receive poll demand)", True),
        (0x28, "CSR5 (status)", False),
        (0x28, "CSR5 (status acknowledge)", True),
    )
    index = 0
    for frame in range(1, frames + 1):
        for position in range(cost.dec21140_port_accesses_per_frame):
            offset, register, write = csrs[position % len(csrs)]
            index += 1
            _port_access(run, DEC21140_IO_BASE + offset, register, write, None, index, device="dec21140")
            if position == 0:
                if send:
                    what = f"takes frame {frame} from the guest's transmit descriptor ring and passes it to"
                else:
                    what = f"copies frame {frame} into the guest's receive descriptor ring from"
                run.root(
                    "user",
                    "vmwp.exe",
                    "nic_frame",
                    f"vmwp.exe's DEC 21140 emulator {what} the virtual switch in the root.",
                    cost.port_emulation_cycles,
                    frame=frame,
                )
            _port_access_return(run, "OUT" if write else "IN")
            if position == 0:
                run.count("interrupts_injected")
                run.hv(
                    "interrupt",
                    f"The hypervisor injects the NIC's PCI interrupt into {target.vm} for frame {frame}.",
                    cost.vm_exit_cycles // 2,
                    frame=frame,
                )
    _app_return(run, op_kind, nbytes)
    return run.finish()


def synthetic_nic_io(trace: Trace, cost: CostModel, target: IoTarget, op_kind: str, nbytes: int) -> dict[str, int]:
    """Trace sending (write) or receiving (read) `nbytes` through netvsc <-> NetVSP; return its counters."""
    run = _Run(trace, cost, target)
    frames = max(1, -(-nbytes // cost.nic_frame_bytes))
    send = op_kind == "write"
    _app_enter(run, op_kind, nbytes, "network")
    run.guest(
        "kernel",
        "tcpip.sys" if not target.linux else "tcp/ip stack",
        "driver",
        f"{target.vm}'s TCP/IP stack splits {_kb(nbytes)} into {frames} Ethernet frame(s) for netvsc.",
        cost.guest_stack_layer_cycles,
        frames=frames,
    )
    if send:
        for frame in range(1, frames + 1):
            run.count("vsc_requests")
            run.count("vmbus_packets")
            run.guest(
                "kernel",
                "netvsc",
                "vmbus_packet",
                f"netvsc wraps frame {frame} in an RNDIS message and sends "
                "NVSP SendRNDISPacket (107) as a GPA-direct packet (type 0x9) naming the frame's pages.",
                cost.guest_stack_layer_cycles,
                packet_type=PACKET_DATA_USING_GPA_DIRECT,
                nvsp_message=NVSP_SEND_RNDIS_PACKET,
                frame=frame,
                direction="child->root",
            )
            if frame == 1:
                run.count("hypercalls")
                run.count("vm_exits")
                run.guest(
                    "kernel",
                    "vmbus",
                    "signal",
                    f"The outbound ring went from empty to non-empty: {target.vm} "
                    "signals the root with HvCallSignalEvent (0x5D).",
                    cost.hypercall_cycles,
                    hypercall=f"0x{HVCALL_SIGNAL_EVENT:02X}",
                )
        for frame in range(1, frames + 1):
            run.root(
                "kernel",
                "NetVSP",
                "ring_read",
                f"NetVSP in the root kernel reads frame {frame} from the ring "
                "and hands it to the virtual switch (vmswitch.sys).",
                cost.vsp_processing_cycles,
                frame=frame,
            )
            run.count("vmbus_packets")
            run.root(
                "kernel",
                "NetVSP",
                "vmbus_packet",
                f"NetVSP answers SendRNDISPacketComplete (108) in a Completion packet (type 0xB) for frame {frame}.",
                cost.vsp_processing_cycles,
                packet_type=PACKET_COMPLETION,
                nvsp_message=NVSP_SEND_RNDIS_PACKET_COMPLETE,
                frame=frame,
                direction="root->child",
            )
    else:
        for frame in range(1, frames + 1):
            run.count("vmbus_packets")
            run.root(
                "kernel",
                "NetVSP",
                "vmbus_packet",
                f"NetVSP copies frame {frame} into {target.vm}'s shared "
                "receive buffer and sends NVSP SendRNDISPacket (107) in a TransferPages packet (type 0x7).",
                cost.vsp_processing_cycles,
                packet_type=PACKET_DATA_USING_TRANSFER_PAGES,
                nvsp_message=NVSP_SEND_RNDIS_PACKET,
                frame=frame,
                direction="root->child",
            )
            if frame == 1:
                run.count("hypercalls")
                run.root(
                    "kernel",
                    "vmbus.sys",
                    "signal",
                    f"The inbound ring went from empty to non-empty: the root "
                    f"signals {target.vm} with HvCallSignalEvent (0x5D).",
                    cost.hypercall_cycles,
                    hypercall=f"0x{HVCALL_SIGNAL_EVENT:02X}",
                )
        for frame in range(1, frames + 1):
            run.count("vsc_requests")
            run.count("vmbus_packets")
            run.guest(
                "kernel",
                "netvsc",
                "vmbus_packet",
                f"netvsc indicates frame {frame} up the stack and returns "
                "the receive-buffer section with SendRNDISPacketComplete (108) in a Completion packet "
                "(type 0xB).",
                cost.guest_stack_layer_cycles,
                packet_type=PACKET_COMPLETION,
                nvsp_message=NVSP_SEND_RNDIS_PACKET_COMPLETE,
                frame=frame,
                direction="child->root",
            )
    _app_return(run, op_kind, nbytes)
    return run.finish()


def perform_io(
    trace: Trace, cost: CostModel, target: IoTarget, *, device: str, op_kind: str, nbytes: int
) -> tuple[str, dict[str, int]]:
    """Run one I/O on the path the guest uses for `device` ("disk" or "nic"); return (path name, counters)."""
    if device == "disk":
        if target.synthetic_storage:
            return "synthetic", synthetic_disk_io(trace, cost, target, op_kind, nbytes)
        return "emulated", emulated_disk_io(trace, cost, target, op_kind, nbytes)
    if target.synthetic_network:
        return "synthetic", synthetic_nic_io(trace, cost, target, op_kind, nbytes)
    return "emulated", emulated_nic_io(trace, cost, target, op_kind, nbytes)
