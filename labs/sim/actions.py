"""The action vocabulary: plain JSON dicts with an "op" key, applied to a `Host`.

This is the contract with the labs app (its console language compiles to these). Every action
is validated before anything changes: an unknown op, a missing or unknown field, or a value of
the wrong type raises a typed `SimError` whose `path` names the field (``actions[3].memory_mb``
when replaying a list). A failing action leaves the host unchanged, its trace included. Each
action returns a JSON-serialisable result dict (always with ``"op"``) and appends events to
``host.trace``. Actions run as the local Administrator unless wrapped in ``run_as``.

Host and firmware
  {"op": "bios.set", "setting": "virtualization"|"dep", "value": true|false}
      Change a BIOS setup option; applies at the next ``host.reboot``. A BIOS older than the
      scenario's ``bios.vt_option_available_from`` has no usable VT option (NotSupported).
  {"op": "bios.upgrade", "version": "A01"}
  {"op": "bcdedit.set", "key": "hypervisorlaunchtype", "value": "auto"|"off"}
  {"op": "role.install", "role": "Hyper-V"}       sets hypervisorlaunchtype auto; reboot needed
  {"op": "host.reboot", "cold": false}             running VMs are saved, then the host boots and
                                                   launches the hypervisor or says exactly why not;
                                                   cold = a full power-off (needed for a VT change on
                                                   machines with bios.vt_change_needs_power_off)

Virtual machines (WMI v1 semantics; errors carry the WMI return code)
  {"op": "vm.define", "name": "web01", "guest": "windows-enlightened", "memory_mb": 1024,
   "vcpus": 1, "scope": ""}                        DefineVirtualSystem; guest one of guests.GUEST_KINDS
  {"op": "vm.destroy", "vm": "web01"}              DestroyVirtualSystem (VM must be off or saved)
  {"op": "vm.state", "vm": "web01", "requested_state": 2|3|10|11|32768|32769}
      RequestStateChange: 2 Start, 3 Turn off, 10 Reboot, 11 Reset, 32768 Pause, 32769 Save;
      returns 4096 and a completed job; an impossible transition raises InvalidState (32775).
  {"op": "vm.shutdown", "vm": "web01"}             graceful, needs the guest's shutdown IC
  {"op": "vm.backup", "vm": "web01", "app": "vss"|"dpm"}
      Host-level backup through the Hyper-V VSS writer: "online" (Backup Using Child Partition
      Snapshot) when every condition of guests.BACKUP_CONDITIONS holds, else "saved-state" (Backup
      Using Saved State, the offline method) naming the first failed condition; "vm-off" (files
      copied) when the VM is off or saved. "dpm" adds DPM 2007 SP1's two conditions.
  {"op": "io", "vm": "web01", "op_kind": "read"|"write", "bytes": 102400, "device": "disk"|"nic"}
      Traces the I/O on the path the guest uses (emulated IDE / DEC 21140, or VMBus).

WMI
  {"op": "wmi.query", "wql": "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='web01'"}
  {"op": "wmi.modify_system", "vm": "web01", "scope_of_residence": "Finance"}
      ModifyVirtualSystem of Msvm_VirtualSystemGlobalSettingData.ScopeOfResidence ("" = default);
      a scope absent from the store sends the VM back to the default scope (VMMS logs an event).

Authorization Manager (the store is the scenario's ``authorization:`` section)
  {"op": "azman.create_scope", "name": "Finance", "description": ""}
  {"op": "azman.delete_scope", "name": "Finance"}
  {"op": "azman.create_task", "name": "Operate", "operations": ["Start Virtual Machine"],
   "tasks": [], "scope": "Finance"|null}
  {"op": "azman.create_role", "name": "Finance Operators", "operations": [], "tasks": ["Operate"],
   "scope": "Finance"|null}
  {"op": "azman.assign", "role": "Finance Operators", "member": "alice"|"FinanceOps", "scope": "Finance"|null}
  {"op": "azman.unassign", "role": ..., "member": ..., "scope": ...}
  {"op": "access", "user": "alice", "operation": "Start Virtual Machine", "vm": "fin-sql01"}
      Returns the decision and its reason; does not raise when denied.
  {"op": "run_as", "user": "alice", "action": {"op": "vm.state", "vm": "fin-sql01", "requested_state": 2}}
      Performs a VM management action as a delegated user: raises AccessDenied (32769) with the
      reason when AzMan denies it. Allowed inner ops and the operation each needs ([mem] mapping,
      see `OPERATION_FOR`): vm.define, vm.destroy, vm.state, vm.shutdown, wmi.modify_system.

Models
  {"op": "migrate", "vm": "web01", "to": "HV02", "dirty_mb_s": 10, "bandwidth_mb_s": null}
      Live migration to another cluster node (scenario ``cluster:``): passes, bytes sent, blackout and
      warnings. Windows Server 2008 R2 only: a 2008 (RTM) cluster refuses it (NotSupported, with the reason).
      A network slower than the recommended dedicated 1 Gbps warns; it is never refused.
  {"op": "quick_migrate", "vm": "web01", "to": "HV02", "storage_mb_s": null}
      Quick Migration (2008 RTM and R2): save, move the cluster group, restore; downtime in s and ms.
  {"op": "mmu.run", "mode": "shadow"|"slat", "tagged_tlb": true, "workload": "terminal-services"}
      One second of a memory-translation workload (name from mmu.WORKLOADS or a dict of fields).

Virtual networks and disks (docs/sources.md#virtual-networks, #virtual-disks)
  {"op": "net.create_switch", "name": "LAN", "kind": "external"|"internal"|"private", "nic": "NIC1",
   "management_os": true}                          an external network needs a physical NIC
  {"op": "net.connect", "vm": "web01", "switch": "LAN", "vlan_id": 20|null}
  {"op": "net.reach", "from": "web01"|"host"|"physical", "to": ...}   reachable and why
  {"op": "vhd.create", "path": "D:\\VMs\\web.vhd", "type": "fixed"|"dynamic"|"differencing",
   "size_gb": 40, "parent": null}                   differencing takes a parent instead of a size
  {"op": "vhd.attach", "vm": "web01", "path": ...}  while the VM is off
  {"op": "vhd.write", "vm": "web01", "mb": 500}     a dynamic VHD or an .avhd grows
  {"op": "vm.snapshot", "vm": "web01", "name": "before-patch"}   .avhd per VHD
  {"op": "vm.delete_snapshot", "vm": "web01", "name": ...}        merged when the VM is off

Bounds (checked by `validate`, InvalidParameter naming the field and the limit): every string at most
4,096 characters (the console's cap); AzMan task, role and operation names at most 64 characters and
descriptions 1,024 (azroles.h AZ_MAX_*); lists at most 64 names; io at most 2 MB per request; vm.define
at most 64 GB of memory and a name of at most 100 characters; migration rates 0..1,000,000 MB/s.

`replay(scenario, seed, actions)` builds a Host and applies the actions in order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from .errors import AccessDenied, InvalidParameter, NotSupported, SimError
from .host import STATE_PAUSED, Host
from .scenario import Scenario

# Field specs: name -> (accepted python types, required). `None` in the types allows null.
FieldSpec = tuple[tuple[type, ...], bool]

SCHEMAS: dict[str, dict[str, FieldSpec]] = {
    "bios.set": {"setting": ((str,), True), "value": ((bool,), True)},
    "bios.upgrade": {"version": ((str,), True)},
    "bcdedit.set": {"key": ((str,), True), "value": ((str,), True)},
    "host.reboot": {"cold": ((bool,), False)},
    "role.install": {"role": ((str,), True)},
    "vm.define": {
        "name": ((str,), True),
        "guest": ((str,), True),
        "memory_mb": ((int,), True),
        "vcpus": ((int,), False),
        "scope": ((str,), False),
    },
    "vm.destroy": {"vm": ((str,), True)},
    "vm.state": {"vm": ((str,), True), "requested_state": ((int,), True)},
    "vm.shutdown": {"vm": ((str,), True)},
    "vm.backup": {"vm": ((str,), True), "app": ((str,), False)},
    "io": {"vm": ((str,), True), "op_kind": ((str,), True), "bytes": ((int,), True), "device": ((str,), False)},
    "wmi.query": {"wql": ((str,), True)},
    "wmi.modify_system": {"vm": ((str,), True), "scope_of_residence": ((str,), True)},
    "azman.create_scope": {"name": ((str,), True), "description": ((str,), False)},
    "azman.delete_scope": {"name": ((str,), True)},
    "azman.create_task": {
        "name": ((str,), True),
        "operations": ((list,), True),
        "tasks": ((list,), False),
        "scope": ((str, type(None)), False),
        "description": ((str,), False),
    },
    "azman.create_role": {
        "name": ((str,), True),
        "operations": ((list,), False),
        "tasks": ((list,), False),
        "scope": ((str, type(None)), False),
        "description": ((str,), False),
    },
    "azman.assign": {"role": ((str,), True), "member": ((str,), True), "scope": ((str, type(None)), False)},
    "azman.unassign": {"role": ((str,), True), "member": ((str,), True), "scope": ((str, type(None)), False)},
    "access": {"user": ((str,), True), "operation": ((str,), True), "vm": ((str, type(None)), False)},
    "run_as": {"user": ((str,), True), "action": ((dict,), True)},
    "migrate": {
        "vm": ((str,), True),
        "to": ((str,), True),
        "dirty_mb_s": ((int, float), False),
        "bandwidth_mb_s": ((int, float, type(None)), False),
    },
    "quick_migrate": {"vm": ((str,), True), "to": ((str,), True), "storage_mb_s": ((int, float, type(None)), False)},
    "mmu.run": {"mode": ((str,), True), "tagged_tlb": ((bool,), False), "workload": ((str, dict), False)},
    "net.create_switch": {
        "name": ((str,), True),
        "kind": ((str,), True),
        "nic": ((str, type(None)), False),
        "management_os": ((bool,), False),
    },
    "net.connect": {"vm": ((str,), True), "switch": ((str,), True), "vlan_id": ((int, type(None)), False)},
    "net.reach": {"from": ((str,), True), "to": ((str,), True)},
    "vhd.create": {
        "path": ((str,), True),
        "type": ((str,), True),
        "size_gb": ((int, type(None)), False),
        "parent": ((str, type(None)), False),
    },
    "vhd.attach": {"vm": ((str,), True), "path": ((str,), True)},
    "vhd.write": {"vm": ((str,), True), "mb": ((int,), True)},
    "vm.snapshot": {"vm": ((str,), True), "name": ((str,), True)},
    "vm.delete_snapshot": {"vm": ((str,), True), "name": ((str,), True)},
}
"""Every op and its fields: (accepted JSON types, required)."""

OPS: tuple[str, ...] = tuple(sorted(SCHEMAS))

# --- Input bounds: what a real host would refuse, and what keeps one action's cost small -------------------

MAX_TEXT_CHARS = 4096
"""Longest string in any action field: the console's 4 KB input cap (a form field may not exceed it either)."""
MAX_LIST_ITEMS = 64
"""Most names in an action's list (operations, tasks): there are 33 Hyper-V operations."""
MAX_IO_BYTES = 2 * 1024 * 1024
"""model: largest traced I/O request (2 MB). The guest splits a transfer into 32 KB IDE commands, 256 KB VMBus
requests or 1,500-byte frames anyway, so a bigger request only repeats the same events (an emulated-NIC
2 MB write is about 40,000 events)."""
MAX_VM_MEMORY_MB = 64 * 1024
"""[mem] Hyper-V 2008 R2: at most 64 GB of memory per virtual machine."""
MAX_VM_NAME_CHARS = 100
"""[mem] Hyper-V Manager refuses a virtual machine name longer than 100 characters."""
MAX_RATE_MB_S = 1_000_000.0
"""model: a migration's dirty rate or bandwidth above 1 TB/s is no longer a host (and must be finite)."""
MAX_WORKLOAD_RATE = 10**9
"""model: an mmu workload field above a billion per second (or MB) is no longer a host."""
MAX_INTEGER = 2**63 - 1
"""Largest whole number in any field: WMI's integers are at most 64 bits."""
MAX_REQUESTED_STATE = 0xFFFF
"""RequestStateChange's RequestedState is a uint16 (WMI Msvm_ComputerSystem)."""

NAME_LIMITS: dict[tuple[str, str], tuple[int, str]] = {
    ("azman.create_task", "name"): (64, "AZ_MAX_TASK_NAME_LENGTH"),
    ("azman.create_task", "operations"): (64, "AZ_MAX_OPERATION_NAME_LENGTH"),
    ("azman.create_task", "tasks"): (64, "AZ_MAX_TASK_NAME_LENGTH"),
    ("azman.create_task", "description"): (1024, "AZ_MAX_DESCRIPTION_LENGTH"),
    ("azman.create_role", "name"): (64, "AZ_MAX_ROLE_NAME_LENGTH"),
    ("azman.create_role", "operations"): (64, "AZ_MAX_OPERATION_NAME_LENGTH"),
    ("azman.create_role", "tasks"): (64, "AZ_MAX_TASK_NAME_LENGTH"),
    ("azman.create_role", "description"): (1024, "AZ_MAX_DESCRIPTION_LENGTH"),
    ("azman.create_scope", "description"): (1024, "AZ_MAX_DESCRIPTION_LENGTH"),
    ("azman.assign", "role"): (64, "AZ_MAX_ROLE_NAME_LENGTH"),
    ("azman.unassign", "role"): (64, "AZ_MAX_ROLE_NAME_LENGTH"),
    ("vm.define", "name"): (MAX_VM_NAME_CHARS, "the Hyper-V Manager limit"),
}
"""Names with a shorter limit than MAX_TEXT_CHARS: AzMan's from the Windows SDK's azroles.h (AZ_MAX_*)."""


def _check_bounds(op: str, action: dict[str, Any], at: Callable[[str], str]) -> None:
    """Refuse a field outside the bounds above (InvalidParameter naming the field and the limit)."""
    for name, value in action.items():
        texts = value if isinstance(value, list) else [value]
        if isinstance(value, list) and len(value) > MAX_LIST_ITEMS:
            raise InvalidParameter(f"at most {MAX_LIST_ITEMS} names, got {len(value)}", path=at(name))
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            raise InvalidParameter(f"at most {MAX_INTEGER:,} (a 64-bit WMI integer)", path=at(name))
        limit, why = NAME_LIMITS.get((op, name), (MAX_TEXT_CHARS, "the console's 4 KB cap"))
        for text in texts:
            if isinstance(text, str) and len(text) > limit:
                raise InvalidParameter(f"at most {limit:,} characters ({why}), got {len(text):,}", path=at(name))
    if op == "io" and action["bytes"] > MAX_IO_BYTES:
        raise InvalidParameter(
            f"at most {MAX_IO_BYTES:,} bytes (2 MB) per traced I/O request, got {action['bytes']:,}", path=at("bytes")
        )
    if op == "vm.define" and action["memory_mb"] > MAX_VM_MEMORY_MB:
        raise InvalidParameter(
            f"at most {MAX_VM_MEMORY_MB:,} MB (64 GB) per virtual machine, got {action['memory_mb']:,}",
            path=at("memory_mb"),
        )
    if op == "vm.state" and not 0 <= action["requested_state"] <= MAX_REQUESTED_STATE:
        raise InvalidParameter(
            f"RequestedState is 0..{MAX_REQUESTED_STATE}, got {action['requested_state']}", path=at("requested_state")
        )
    if op in ("migrate", "quick_migrate"):
        for name in ("dirty_mb_s", "bandwidth_mb_s", "storage_mb_s"):
            rate = action.get(name)
            if rate is not None and not (math.isfinite(rate) and 0 <= rate <= MAX_RATE_MB_S):
                raise InvalidParameter(f"must be 0..{MAX_RATE_MB_S:,.0f} MB/s, got {rate!r}", path=at(name))
    workload = action.get("workload") if op == "mmu.run" else None
    if isinstance(workload, dict):
        if len(workload) > MAX_LIST_ITEMS:
            raise InvalidParameter(f"at most {MAX_LIST_ITEMS} fields", path=at("workload"))
        for key, field in workload.items():
            if isinstance(field, int) and not isinstance(field, bool) and abs(field) > MAX_WORKLOAD_RATE:
                raise InvalidParameter(f"at most {MAX_WORKLOAD_RATE:,}, got {field:,}", path=at(f"workload.{key}"))
            if isinstance(field, str) and len(field) > MAX_TEXT_CHARS:
                raise InvalidParameter(f"at most {MAX_TEXT_CHARS:,} characters", path=at(f"workload.{key}"))

DELEGABLE_OPS = ("vm.define", "vm.destroy", "vm.state", "vm.shutdown", "wmi.modify_system")

OPERATION_FOR_REQUESTED_STATE: dict[int, str] = {
    2: "Start Virtual Machine",
    3: "Stop Virtual Machine",
    10: "Stop Virtual Machine",
    11: "Stop Virtual Machine",
    32768: "Pause and Restart Virtual Machine",
    32769: "Stop Virtual Machine",
}
"""[mem] Which AzMan operation a RequestStateChange needs (resuming a paused VM needs
"Pause and Restart Virtual Machine" instead of "Start Virtual Machine"). Operation names are
verified (docs/sources.md#authorization-manager); this mapping of state changes to them is not."""

OPERATION_FOR: dict[str, str] = {
    "vm.define": "Create Virtual Machine",
    "vm.destroy": "Delete Virtual Machine",
    "vm.shutdown": "Stop Virtual Machine",
    "wmi.modify_system": "Change Virtual Machine Authorization Scope",
}
"""[mem] Which AzMan operation each delegable action needs (vm.state: see OPERATION_FOR_REQUESTED_STATE)."""


def validate(action: object, path: str = "") -> dict[str, Any]:
    """Check an action's op, fields and types; return it (raises InvalidParameter naming the field)."""

    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    if not isinstance(action, dict):
        raise InvalidParameter("an action must be a JSON object with an 'op' key", path=path or "action")
    op = action.get("op")
    if not isinstance(op, str):
        raise InvalidParameter("missing 'op' (a string)", path=at("op"))
    if op not in SCHEMAS:
        raise InvalidParameter(f"unknown op {op!r} (known: {', '.join(OPS)})", path=at("op"))
    schema = SCHEMAS[op]
    for key in action:
        if key != "op" and key not in schema:
            allowed = ", ".join(sorted(schema)) or "none"
            raise InvalidParameter(f"unknown field {key!r} for {op} (allowed: {allowed})", path=at(str(key)))
    for name, (types, required) in schema.items():
        if name not in action:
            if required:
                raise InvalidParameter(f"{op} needs the field {name!r}", path=at(name))
            continue
        value = action[name]
        ok = isinstance(value, types)
        if ok and isinstance(value, bool) and bool not in types:
            ok = False
        if not ok:
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise InvalidParameter(f"must be {wanted}, got {json.dumps(value, default=str)}", path=at(name))
        if list in types and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise InvalidParameter("must be a string", path=f"{at(name)}[{i}]")
    _check_bounds(op, action, at)
    if op == "run_as":
        inner = validate(action["action"], at("action"))
        if inner["op"] not in DELEGABLE_OPS:
            raise NotSupported(
                f"run_as applies to VM management actions ({', '.join(DELEGABLE_OPS)}), not {inner['op']}",
                path=at("action.op"),
            )
    return action


def _str_list(action: dict[str, Any], key: str) -> list[str]:
    value = action.get(key) or []
    return [str(v) for v in value]


def _required_operation(host: Host, action: dict[str, Any]) -> tuple[str, str | None]:
    """The AzMan operation an inner run_as action needs, and the VM whose scope applies (None = application)."""
    op = action["op"]
    if op == "vm.state":
        vm = host.vm(action["vm"], "action.vm")
        requested = action["requested_state"]
        if requested == 2 and vm.state == STATE_PAUSED:
            return "Pause and Restart Virtual Machine", vm.name
        if requested not in OPERATION_FOR_REQUESTED_STATE:
            raise InvalidParameter(f"unknown RequestedState {requested}", path="action.requested_state")
        return OPERATION_FOR_REQUESTED_STATE[requested], vm.name
    if op == "vm.define":
        return OPERATION_FOR[op], None
    return OPERATION_FOR[op], host.vm(action["vm"], "action.vm").name


def _run_as(host: Host, action: dict[str, Any]) -> dict[str, Any]:
    user = action["user"]
    inner = action["action"]
    operation, vm_name = _required_operation(host, inner)
    decision = host.access_check(user, operation, vm_name)
    if not decision["allowed"]:
        raise AccessDenied(f"{user} may not {operation!r}: {decision['reason']}", path="user")
    result = _dispatch(host, inner)
    return {"user": user, "operation": operation, "decision": decision, "result": result}


def _dispatch(host: Host, a: dict[str, Any]) -> dict[str, Any]:
    op = a["op"]
    handler = _HANDLERS[op]
    result = handler(host, a)
    return {"op": op, **result}


def _azman(host: Host, a: dict[str, Any], summary: str, call: Callable[[], None]) -> dict[str, Any]:
    call()
    host.trace.emit(
        partition=host._root(),
        component="Authorization Manager",
        mode="user",
        kind="azman",
        summary=summary,
        op=a["op"],
    )
    return {"store": host.azstore.to_dict()}


def _scope(a: dict[str, Any]) -> str | None:
    value = a.get("scope")
    return value if value else None


def _where(a: dict[str, Any]) -> str:
    return f"scope {a['scope']!r}" if a.get("scope") else "application level"


_HANDLERS: dict[str, Callable[[Host, dict[str, Any]], dict[str, Any]]] = {
    "bios.set": lambda h, a: h.bios_set(a["setting"], a["value"]),
    "bios.upgrade": lambda h, a: h.bios_upgrade(a["version"]),
    "bcdedit.set": lambda h, a: h.bcdedit_set(a["key"], a["value"]),
    "host.reboot": lambda h, a: h.reboot(a.get("cold", False)),
    "role.install": lambda h, a: h.role_install(a["role"]),
    "vm.define": lambda h, a: h.define_vm(a["name"], a["guest"], a["memory_mb"], a.get("vcpus", 1), a.get("scope", "")),
    "vm.destroy": lambda h, a: h.destroy_vm(a["vm"]),
    "vm.state": lambda h, a: h.request_state_change(a["vm"], a["requested_state"]),
    "vm.shutdown": lambda h, a: h.shutdown_vm(a["vm"]),
    "vm.backup": lambda h, a: h.backup_vm(a["vm"], a.get("app", "vss")),
    "io": lambda h, a: h.io(a["vm"], a["op_kind"], a["bytes"], a.get("device", "disk")),
    "wmi.query": lambda h, a: h.wmi_query(a["wql"]),
    "wmi.modify_system": lambda h, a: h.modify_system(a["vm"], a["scope_of_residence"]),
    "azman.create_scope": lambda h, a: _azman(
        h,
        a,
        f"An administrator creates the authorization scope {a['name']!r} under the Hyper-V services application.",
        lambda: h.azstore.create_scope(a["name"], a.get("description", "")),
    ),
    "azman.delete_scope": lambda h, a: _azman(
        h,
        a,
        f"An administrator deletes the authorization scope {a['name']!r}.",
        lambda: h.azman_delete_scope(a["name"]),
    ),
    "azman.create_task": lambda h, a: _azman(
        h,
        a,
        f"An administrator creates the task {a['name']!r} at {_where(a)} with operations "
        f"{', '.join(_str_list(a, 'operations')) or 'none'}.",
        lambda: h.azstore.create_task(
            a["name"],
            _str_list(a, "operations"),
            _scope(a),
            _str_list(a, "tasks"),
            description=a.get("description", ""),
        ),
    ),
    "azman.create_role": lambda h, a: _azman(
        h,
        a,
        f"An administrator creates the role definition {a['name']!r} at {_where(a)} (tasks: "
        f"{', '.join(_str_list(a, 'tasks')) or 'none'}; operations: "
        f"{', '.join(_str_list(a, 'operations')) or 'none'}).",
        lambda: h.azstore.create_role_definition(
            a["name"],
            _str_list(a, "operations"),
            _str_list(a, "tasks"),
            _scope(a),
            description=a.get("description", ""),
        ),
    ),
    "azman.assign": lambda h, a: _azman(
        h,
        a,
        f"An administrator assigns {a['member']} to the role {a['role']!r} at {_where(a)}.",
        lambda: h.azstore.assign(a["role"], a["member"], _scope(a)),
    ),
    "azman.unassign": lambda h, a: _azman(
        h,
        a,
        f"An administrator removes {a['member']} from the role {a['role']!r} at {_where(a)}.",
        lambda: h.azstore.unassign(a["role"], a["member"], _scope(a)),
    ),
    "access": lambda h, a: h.access_check(a["user"], a["operation"], a.get("vm")),
    "run_as": _run_as,
    "migrate": lambda h, a: h.migrate(
        a["vm"],
        a["to"],
        float(a.get("dirty_mb_s", 10.0)),
        None if a.get("bandwidth_mb_s") is None else float(a["bandwidth_mb_s"]),
    ),
    "quick_migrate": lambda h, a: h.quick_migrate(
        a["vm"], a["to"], None if a.get("storage_mb_s") is None else float(a["storage_mb_s"])
    ),
    "net.create_switch": lambda h, a: h.net_create_switch(
        a["name"], a["kind"], a.get("nic"), a.get("management_os", True)
    ),
    "net.connect": lambda h, a: h.net_connect(a["vm"], a["switch"], a.get("vlan_id")),
    "net.reach": lambda h, a: h.net_reach(a["from"], a["to"]),
    "vhd.create": lambda h, a: h.vhd_create(a["path"], a["type"], a.get("size_gb"), a.get("parent")),
    "vhd.attach": lambda h, a: h.vhd_attach(a["vm"], a["path"]),
    "vhd.write": lambda h, a: h.vhd_write(a["vm"], a["mb"]),
    "vm.snapshot": lambda h, a: h.vm_snapshot(a["vm"], a["name"]),
    "vm.delete_snapshot": lambda h, a: h.vm_delete_snapshot(a["vm"], a["name"]),
    "mmu.run": lambda h, a: h.mmu_run(a["mode"], a.get("tagged_tlb", True), a.get("workload", "terminal-services")),
}


def apply(host: Host, action: object, path: str = "") -> dict[str, Any]:
    """Validate and perform one action on `host`; return its result (on error the host is left unchanged)."""
    checked = validate(action, path)
    mark = host.trace.mark()
    rng_state = host.rng.getstate()
    try:
        return _dispatch(host, checked)
    except SimError as exc:
        host.trace.rollback(mark)
        host.rng.setstate(rng_state)
        if path:
            exc.path = f"{path}.{exc.path}" if exc.path else path
        raise


def load_actions(source: str | Path | Sequence[Any]) -> list[Any]:
    """Read an action list from a JSON/YAML file (a list, or {"actions": [...]}) or take a list as is."""
    if isinstance(source, (str, Path)):
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidParameter(f"cannot read actions file: {exc.strerror}", path=str(source)) from None
        try:
            data: Any = yaml.safe_load(text)
        except yaml.YAMLError:
            raise InvalidParameter("actions file is neither valid JSON nor YAML", path=str(source)) from None
    else:
        data = list(source)
    if isinstance(data, dict) and set(data) == {"actions"}:
        data = data["actions"]
    if not isinstance(data, list):
        raise InvalidParameter("actions must be a list of action objects", path="actions")
    return data


def replay(
    scenario: Scenario | dict[str, Any] | str | Path, seed: int | None, actions: str | Path | Sequence[Any]
) -> Host:
    """Build a Host from `scenario` and `seed` and apply `actions` in order; errors name `actions[i].field`."""
    host = Host(scenario, seed)
    for index, action in enumerate(load_actions(actions)):
        apply(host, action, f"actions[{index}]")
    return host


def replay_with_results(
    scenario: Scenario | dict[str, Any] | str | Path, seed: int | None, actions: str | Path | Sequence[Any]
) -> tuple[Host, list[dict[str, Any]]]:
    """Like `replay`, also returning each action's result."""
    host = Host(scenario, seed)
    results = [apply(host, action, f"actions[{index}]") for index, action in enumerate(load_actions(actions))]
    return host, results


__all__ = ["OPS", "SCHEMAS", "apply", "load_actions", "replay", "replay_with_results", "validate"]
