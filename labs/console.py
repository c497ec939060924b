"""The lab console: a small command language parsed by a Lark grammar and compiled to simulator actions.

Nothing here evaluates Python: the text is parsed to a tree, and a transformer turns each command into a
plain action dict (see labs/sim/actions.py) that the lab engine replays on the simulator. Budgets: at most
MAX_INPUT_BYTES of input, MAX_STEPS tree nodes visited and MAX_SECONDS of wall time per submission.
Errors carry the line and column and, where a word is close to a known one, a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from labs.engine import MAX_INPUT_BYTES
from labs.sim.actions import MAX_IO_BYTES as SIM_MAX_IO_BYTES

MAX_STEPS = 10_000
MAX_SECONDS = 0.2
MAX_COMMANDS = 20
"""Commands per submission; empty lines, comments and a trailing ';' or newline do not count."""
MAX_IO_BYTES = SIM_MAX_IO_BYTES
"""One `io` request's size limit, the simulator's (labs/sim/actions.py MAX_IO_BYTES)."""

GRAMMAR = r"""
start: [command] (_sep [command])*
_sep: _NL | ";"

?command: help | show | bios | bcdedit | reboot | role | vm | select | wmi | azman | access | run_as
        | io | mmu | migrate | quick_migrate | network | vhd | snapshot | answer

help: "help"i [WORD]
show: "show"i SHOW_WHAT
SHOW_WHAT.2: /(host|vms|azman|bcd|bios|cluster|networks|disks)\b/i

bios: "bios"i "set"i BIOS_SETTING ONOFF          -> bios_set
    | "bios"i "upgrade"i value                   -> bios_upgrade
BIOS_SETTING.2: /(virtualization|dep)\b/i

bcdedit: "bcdedit"i "/set"i BCD_KEY BCD_VALUE     -> bcdedit_set
BCD_KEY.2: /hypervisorlaunchtype\b/i
BCD_VALUE.2: /(auto|off)\b/i

reboot: "reboot"i [COLD]
COLD.2: /cold\b/i
role: "role"i "install"i value                   -> role_install

vm: "vm"i VM_VERB value                          -> vm_simple
  | "vm"i VM_VERB value "with"i BACKUP_APP       -> vm_backup_with
  | "vm"i "define"i value vm_option*             -> vm_define
VM_VERB.2: /(start|stop|turnoff|pause|resume|save|reset|reboot|shutdown|backup|destroy)\b/i
BACKUP_APP.2: /(dpm|vss)\b/i
vm_option: "guest"i value                        -> opt_guest
         | "memory"i INT                         -> opt_memory
         | "vcpus"i INT                          -> opt_vcpus

select: SELECT_LINE
SELECT_LINE.3: /select\b[^\n;]*/i

wmi: "wmi"i "modifyvirtualsystem"i value "scopeofresidence"i "=" value  -> wmi_modify
   | "wmi"i "requeststatechange"i value INT                             -> wmi_request_state

azman: "azman"i "create"i "scope"i value [STRING]                        -> az_create_scope
     | "azman"i "delete"i "scope"i value                                  -> az_delete_scope
     | "azman"i "create"i "task"i value "with"i string_list [tasks_clause] [scope_clause]   -> az_create_task
     | "azman"i "create"i "role"i value ["with"i string_list] [tasks_clause] [scope_clause] -> az_create_role
     | "azman"i "assign"i value "to"i value [scope_clause]               -> az_assign
     | "azman"i "unassign"i value "from"i value [scope_clause]           -> az_unassign
tasks_clause: "tasks"i string_list
scope_clause: "in"i "scope"i value
string_list: value ("," value)*

access: "access"i value value "on"i value
run_as: "run"i "as"i value (vm | wmi)

io: "io"i IO_KIND SIZE "on"i value [IO_DEVICE]
IO_KIND.2: /(read|write)\b/i
IO_DEVICE.2: /(disk|nic)\b/i
SIZE.2: /\d+(\.\d+)?\s*(kb|mb|k|m|b|bytes)?\b/i

mmu: "mmu"i MMU_MODE mmu_option*
MMU_MODE.2: /(shadow|slat)\b/i
mmu_option: "tagged-tlb"i ONOFF                  -> opt_tagged
          | "workload"i value                    -> opt_workload

migrate: "migrate"i value "to"i value migrate_option*
migrate_option: "dirty-rate"i NUMBER             -> opt_dirty
              | "bandwidth"i NUMBER              -> opt_bandwidth

quick_migrate: QUICK_MIGRATE value "to"i value ["storage"i NUMBER]

network: "network"i "create"i value SWITCH_KIND ["nic"i value] [NO_MGMT]   -> net_create
       | "network"i "connect"i value "to"i value ["vlan"i INT]             -> net_connect
       | "network"i "test"i value "to"i value                              -> net_reach
SWITCH_KIND.2: /(external|internal|private)\b/i
NO_MGMT.2: /no-management-os\b/i

vhd: "vhd"i "create"i value VHD_SIZED INT                 -> vhd_create_sized
   | "vhd"i "create"i value "differencing"i "parent"i value -> vhd_create_child
   | "vhd"i "attach"i value "to"i value                    -> vhd_attach
   | "vhd"i "write"i INT "on"i value                       -> vhd_write
VHD_SIZED.2: /(fixed|dynamic)\b/i

snapshot: "snapshot"i "take"i value value                 -> snapshot_take
        | "snapshot"i "delete"i value value               -> snapshot_delete
QUICK_MIGRATE.3: /quick-migrate\b/i

answer: ANSWER_LINE
ANSWER_LINE.3: /answer\b[^\n;]*/i

ONOFF.2: /(on|off)\b/i
?value: WORD | STRING
WORD: /[A-Za-z0-9_\\][A-Za-z0-9_.\-\\@$]*/
STRING: /"[^"\n]*"/ | /'[^'\n]*'/
INT.2: /\d+/
NUMBER.2: /\d+(\.\d+)?/
_NL: /\r?\n/
COMMENT: /#[^\n]*/
%ignore COMMENT
%ignore /[ \t]+/
"""

COMMANDS = (
    "help",
    "show",
    "bios",
    "bcdedit",
    "reboot",
    "role",
    "vm",
    "select",
    "wmi",
    "azman",
    "access",
    "run",
    "io",
    "mmu",
    "migrate",
    "quick-migrate",
    "network",
    "vhd",
    "snapshot",
    "answer",
)

REQUESTED_STATE = {
    "start": 2,
    "resume": 2,
    "stop": 3,
    "turnoff": 3,
    "reboot": 10,
    "reset": 11,
    "pause": 32768,
    "save": 32769,
}

HELP: dict[str, str] = {
    "": "Commands: help, show, bios, bcdedit, reboot, role, vm, select, wmi, azman, access, run as, io, mmu, "
    "migrate, quick-migrate, network, vhd, snapshot, answer. Type 'help <command>' for details. Separate commands "
    'with new lines or \';\'. Quote names with spaces: "Start Virtual Machine".',
    "show": "show host | vms | azman | bcd | bios | cluster | networks | disks — print part of the host's state.",
    "bios": "bios set virtualization on|off; bios set dep on|off; bios upgrade <version>. Settings apply at the "
    "next reboot.",
    "bcdedit": "bcdedit /set hypervisorlaunchtype auto|off — whether the boot loader launches the hypervisor.",
    "reboot": "reboot [cold] — restart the host; it launches the hypervisor or says exactly why not. 'reboot cold' "
    "switches the machine off and on: many machines apply a change to the VT setting only after a full power-off.",
    "role": "role install Hyper-V — install the Hyper-V role (a reboot follows).",
    "vm": "vm start|stop|turnoff|pause|resume|save|reset|reboot|shutdown|backup|destroy <name>; "
    "vm backup <name> with dpm (DPM 2007 SP1's extra conditions); "
    "vm define <name> guest <kind> memory <MB> [vcpus <n>]. Guest kinds: windows-enlightened, windows-xp, "
    "windows-2000-server, windows-no-integration-services, linux-xen, linux-ic-2.0, linux-ic-2.1.",
    "select": "select <properties> from <class> [where <property> = '<value>'] — a WQL query in root\\virtualization, "
    "e.g. select * from Msvm_ComputerSystem where ElementName = 'fin-sql01'.",
    "wmi": "wmi ModifyVirtualSystem <vm> ScopeOfResidence = '<scope>' — set a VM's authorization scope (the only way: "
    "the Authorization Manager console cannot); wmi RequestStateChange <vm> <code> (2 start, 3 turn off, "
    "10 reboot, 11 reset, 32768 pause, 32769 save).",
    "azman": "azman create scope <name>; azman delete scope <name>; "
    'azman create task <name> with "<operation>", ... [tasks "<task>", ...] [in scope <scope>]; '
    'azman create role <name> [with "<operation>", ...] [tasks "<task>", ...] [in scope <scope>]; '
    "azman assign <role> to <user or group> [in scope <scope>]; azman unassign <role> from <member> "
    "[in scope <scope>].",
    "access": 'access <user> "<operation>" on <vm> — ask Authorization Manager whether the user may do it, and why.',
    "run": "run as <user> <vm or wmi command> — try an operation as a delegated user, "
    "e.g. run as alice vm start fin-sql01.",
    "io": "io read|write <size> on <vm> [disk|nic] — trace one I/O request of at most 2 MB, "
    "e.g. io write 100KB on legacy01.",
    "mmu": "mmu shadow|slat [tagged-tlb on|off] [workload <name>] — one second of a workload under shadow paging or "
    "SLAT. Workloads: terminal-services, database, tlb-thrash-small-pages, tlb-thrash-large-pages.",
    "migrate": "migrate <vm> to <node> [dirty-rate <MB/s>] [bandwidth <MB/s>] — live-migrate a running VM "
    "(Windows Server 2008 R2 clusters only). Without the recommended dedicated 1 Gbps network it warns, and the "
    "slower network shows as more passes and a longer blackout.",
    "quick-migrate": "quick-migrate <vm> to <node> [storage <MB/s>] — Quick Migration: save the VM, move its "
    "cluster group, restore it on the other node; the VM is down the whole time (2008 RTM and R2).",
    "network": "network create <name> external|internal|private [nic <physical NIC>] [no-management-os]; "
    "network connect <vm> to <network> [vlan <1-4094>]; network test <vm|host|physical> to <vm|host|physical> — "
    "virtual networks and who can reach whom.",
    "vhd": "vhd create <path> fixed|dynamic <GB>; vhd create <path> differencing parent <path>; "
    "vhd attach <path> to <vm>; vhd write <MB> on <vm> — virtual hard disks and how their files grow.",
    "snapshot": "snapshot take <vm> <name>; snapshot delete <vm> <name> — snapshots (.avhd files); a deleted "
    "snapshot's files merge into the parent when the VM is shut down.",
    "answer": "answer <question id> <your answer> — answer one of the lab's questions.",
}


class ConsoleError(Exception):
    """A parse or budget error, with where it happened and a suggestion."""

    def __init__(self, message: str, line: int = 0, column: int = 0, suggestion: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.suggestion = suggestion

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        hint = f" Did you mean '{self.suggestion}'?" if self.suggestion else ""
        return f"{where}{self.message}.{hint}"


@dataclass(frozen=True)
class Command:
    """One compiled command: the source line, and either a simulator action or help text."""

    source: str
    line: int
    action: dict[str, Any] | None = None
    help_text: str | None = None


_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def _text(token: Any) -> str:
    value = str(token)
    if isinstance(token, Token) and token.type == "STRING":
        return value[1:-1]
    return value


def _size_bytes(token: Token) -> int:
    raw = str(token).strip().lower().replace(" ", "")
    number = "".join(ch for ch in raw if ch.isdigit() or ch == ".")
    unit = raw[len(number) :]
    scale = {"": 1, "b": 1, "bytes": 1, "k": 1024, "kb": 1024, "m": 1024 * 1024, "mb": 1024 * 1024}[unit]
    value = float(number) * scale
    return int(value) if value <= MAX_IO_BYTES else MAX_IO_BYTES + 1  # never int(inf) for 400 digits


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.started = time.perf_counter()

    def tick(self, node: Any) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise ConsoleError(f"the input needs more than {MAX_STEPS:,} interpreter steps")
        if time.perf_counter() - self.started > MAX_SECONDS:
            raise ConsoleError(f"the input took more than {int(MAX_SECONDS * 1000)} ms to interpret")


@v_args(inline=True)
class _Compile(Transformer[Token, Any]):
    """Turns the parse tree into action dicts; every node visited costs one budget step."""

    def __init__(self, budget: _Budget) -> None:
        super().__init__()
        self.budget = budget

    def __default__(self, data: Any, children: Any, meta: Any) -> Any:
        self.budget.tick(data)
        return Tree(data, children, meta)

    def _tick(self) -> None:
        self.budget.tick(None)

    def help(self, topic: Token | None) -> dict[str, Any]:
        self._tick()
        key = str(topic).lower() if topic else ""
        if key not in HELP:
            close = difflib.get_close_matches(key, list(HELP), n=1)
            raise ConsoleError(f"no help on '{key}'", suggestion=f"help {close[0]}" if close else "")
        return {"help": HELP[key]}

    def show(self, what: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "show", "what": str(what).lower()}

    def bios_set(self, setting: Token, onoff: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "bios.set", "setting": str(setting).lower(), "value": str(onoff).lower() == "on"}

    def bios_upgrade(self, version: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "bios.upgrade", "version": _text(version)}

    def bcdedit_set(self, key: Token, value: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "bcdedit.set", "key": str(key).lower(), "value": str(value).lower()}

    def reboot(self, cold: Token | None) -> dict[str, Any]:
        self._tick()
        return {"op": "host.reboot", "cold": True} if cold else {"op": "host.reboot"}

    def role_install(self, role: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "role.install", "role": _text(role)}

    def vm_simple(self, verb: Token, name: Token) -> dict[str, Any]:
        self._tick()
        verb_text, vm = str(verb).lower(), _text(name)
        if verb_text in REQUESTED_STATE:
            return {"op": "vm.state", "vm": vm, "requested_state": REQUESTED_STATE[verb_text]}
        return {"op": f"vm.{verb_text}", "vm": vm}

    def vm_backup_with(self, verb: Token, name: Token, app: Token) -> dict[str, Any]:
        self._tick()
        if str(verb).lower() != "backup":
            raise ConsoleError(
                f"'with {str(app).lower()}' goes with 'vm backup' only", verb.line or 0, verb.column or 0
            )
        return {"op": "vm.backup", "vm": _text(name), "app": str(app).lower()}

    def vm_define(self, name: Token, *options: tuple[str, Any]) -> dict[str, Any]:
        self._tick()
        action: dict[str, Any] = {"op": "vm.define", "name": _text(name)}
        action.update(dict(options))
        return action

    def opt_guest(self, value: Token) -> tuple[str, Any]:
        return ("guest", _text(value))

    def opt_memory(self, value: Token) -> tuple[str, Any]:
        return ("memory_mb", int(value))

    def opt_vcpus(self, value: Token) -> tuple[str, Any]:
        return ("vcpus", int(value))

    def select(self, line: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "wmi.query", "wql": str(line).strip()}

    def wmi_modify(self, vm: Token, scope: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "wmi.modify_system", "vm": _text(vm), "scope_of_residence": _text(scope)}

    def wmi_request_state(self, vm: Token, code: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "vm.state", "vm": _text(vm), "requested_state": int(code)}

    def string_list(self, *values: Token) -> list[str]:
        items = []
        for value in values:
            self._tick()
            items.append(_text(value))
        return items

    def tasks_clause(self, values: list[str]) -> list[str]:
        return values

    def scope_clause(self, value: Token) -> str:
        return _text(value)

    def az_create_scope(self, name: Token, description: Token | None) -> dict[str, Any]:
        self._tick()
        return {
            "op": "azman.create_scope",
            "name": _text(name),
            "description": _text(description) if description else "",
        }

    def az_delete_scope(self, name: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "azman.delete_scope", "name": _text(name)}

    def az_create_task(
        self, name: Token, operations: list[str], tasks: list[str] | None, scope: str | None
    ) -> dict[str, Any]:
        self._tick()
        return {
            "op": "azman.create_task",
            "name": _text(name),
            "operations": operations,
            "tasks": tasks or [],
            "scope": scope,
        }

    def az_create_role(
        self, name: Token, operations: list[str] | None, tasks: list[str] | None, scope: str | None
    ) -> dict[str, Any]:
        self._tick()
        return {
            "op": "azman.create_role",
            "name": _text(name),
            "operations": operations or [],
            "tasks": tasks or [],
            "scope": scope,
        }

    def az_assign(self, role: Token, member: Token, scope: str | None) -> dict[str, Any]:
        self._tick()
        return {"op": "azman.assign", "role": _text(role), "member": _text(member), "scope": scope}

    def az_unassign(self, role: Token, member: Token, scope: str | None) -> dict[str, Any]:
        self._tick()
        return {"op": "azman.unassign", "role": _text(role), "member": _text(member), "scope": scope}

    def access(self, user: Token, operation: Token, vm: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "access", "user": _text(user), "operation": _text(operation), "vm": _text(vm)}

    def run_as(self, user: Token, inner: dict[str, Any]) -> dict[str, Any]:
        self._tick()
        return {"op": "run_as", "user": _text(user), "action": inner}

    def io(self, kind: Token, size: Token, vm: Token, device: Token | None) -> dict[str, Any]:
        self._tick()
        nbytes = _size_bytes(size)
        if nbytes <= 0:
            raise ConsoleError("the I/O size must be more than 0 bytes", size.line or 0, size.column or 0)
        if nbytes > MAX_IO_BYTES:
            raise ConsoleError(
                f"one I/O request is at most 2 MB ({MAX_IO_BYTES:,} bytes)", size.line or 0, size.column or 0
            )
        return {
            "op": "io",
            "vm": _text(vm),
            "op_kind": str(kind).lower(),
            "bytes": nbytes,
            "device": str(device).lower() if device else "disk",
        }

    def mmu(self, mode: Token, *options: tuple[str, Any]) -> dict[str, Any]:
        self._tick()
        action: dict[str, Any] = {
            "op": "mmu.run",
            "mode": str(mode).lower(),
            "tagged_tlb": True,
            "workload": "terminal-services",
        }
        action.update(dict(options))
        return action

    def opt_tagged(self, onoff: Token) -> tuple[str, Any]:
        return ("tagged_tlb", str(onoff).lower() == "on")

    def opt_workload(self, value: Token) -> tuple[str, Any]:
        return ("workload", _text(value))

    def migrate(self, vm: Token, node: Token, *options: tuple[str, Any]) -> dict[str, Any]:
        self._tick()
        action: dict[str, Any] = {"op": "migrate", "vm": _text(vm), "to": _text(node)}
        action.update(dict(options))
        return action

    def quick_migrate(self, _word: Token, vm: Token, node: Token, storage: Token | None) -> dict[str, Any]:
        self._tick()
        action: dict[str, Any] = {"op": "quick_migrate", "vm": _text(vm), "to": _text(node)}
        if storage is not None:
            if float(storage) <= 0:
                raise ConsoleError("the storage throughput must be more than 0 MB/s", storage.line or 0, 1)
            action["storage_mb_s"] = float(storage)
        return action

    def net_create(self, name: Token, kind: Token, nic: Token | None, no_mgmt: Token | None) -> dict[str, Any]:
        self._tick()
        action: dict[str, Any] = {"op": "net.create_switch", "name": _text(name), "kind": str(kind).lower()}
        if nic is not None:
            action["nic"] = _text(nic)
        if no_mgmt is not None:
            action["management_os"] = False
        return action

    def net_connect(self, vm: Token, switch: Token, vlan: Token | None) -> dict[str, Any]:
        self._tick()
        action: dict[str, Any] = {"op": "net.connect", "vm": _text(vm), "switch": _text(switch)}
        if vlan is not None:
            action["vlan_id"] = int(vlan)
        return action

    def net_reach(self, source: Token, dest: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "net.reach", "from": _text(source), "to": _text(dest)}

    def vhd_create_sized(self, path: Token, kind: Token, size: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "vhd.create", "path": _text(path), "type": str(kind).lower(), "size_gb": int(size)}

    def vhd_create_child(self, path: Token, parent: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "vhd.create", "path": _text(path), "type": "differencing", "parent": _text(parent)}

    def vhd_attach(self, path: Token, vm: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "vhd.attach", "vm": _text(vm), "path": _text(path)}

    def vhd_write(self, mb: Token, vm: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "vhd.write", "vm": _text(vm), "mb": int(mb)}

    def snapshot_take(self, vm: Token, name: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "vm.snapshot", "vm": _text(vm), "name": _text(name)}

    def snapshot_delete(self, vm: Token, name: Token) -> dict[str, Any]:
        self._tick()
        return {"op": "vm.delete_snapshot", "vm": _text(vm), "name": _text(name)}

    def opt_dirty(self, value: Token) -> tuple[str, Any]:
        return ("dirty_mb_s", float(value))

    def opt_bandwidth(self, value: Token) -> tuple[str, Any]:
        return ("bandwidth_mb_s", float(value))

    def answer(self, line: Token) -> dict[str, Any]:
        self._tick()
        parts = str(line).split(None, 2)
        if len(parts) < 3:
            raise ConsoleError("write 'answer <question id> <your answer>'", line.line or 0, line.column or 0)
        return {"op": "answer", "question": parts[1], "value": parts[2].strip().strip("'\"")}


def command_group(action: dict[str, Any]) -> str:
    """The console command a compiled action came from (the word a lab's `console:` list names)."""
    op = str(action.get("op", ""))
    groups = {
        "host.reboot": "reboot",
        "role.install": "role",
        "bcdedit.set": "bcdedit",
        "wmi.query": "select",
        "mmu.run": "mmu",
        "run_as": "run",
        "vm.state": "vm",
        "wmi.modify_system": "wmi",
        "quick_migrate": "quick-migrate",
        "net.create_switch": "network",
        "net.connect": "network",
        "net.reach": "network",
        "vm.snapshot": "snapshot",
        "vm.delete_snapshot": "snapshot",
    }
    return groups.get(op, op.split(".")[0])


def check_offered(commands: list[Command], offered: list[str]) -> None:
    """Refuse a command that the lab's console does not offer (a lab may list its command groups)."""
    if not offered:
        return
    for command in commands:
        if command.action is not None and command_group(command.action) not in offered:
            word = command.source.split()[0] if command.source else command_group(command.action)
            raise ConsoleError(
                f"this lab's console offers {', '.join(offered)}; '{word}' is not one of them", command.line, 1
            )


def _first_word(text: str, line: int) -> str:
    lines = text.split("\n")
    if 0 < line <= len(lines):
        words = lines[line - 1].split()
        return words[0] if words else ""
    return ""


def _suggest(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word.lower(), [c.lower() for c in candidates], n=1, cutoff=0.6)
    return close[0] if close else ""


def _syntax_error(text: str, exc: UnexpectedInput) -> ConsoleError:
    line, column = getattr(exc, "line", 0) or 0, getattr(exc, "column", 0) or 0
    first = _first_word(text, line)
    if first and first.lower() not in COMMANDS:
        return ConsoleError(f"unknown command '{first}'", line, 1, _suggest(first, COMMANDS))
    if isinstance(exc, UnexpectedEOF):
        return ConsoleError("the command is incomplete; see 'help " + first.lower() + "'", line, column)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        expected = sorted({_pretty(name) for name in exc.expected if not name.startswith("_")} - {"$end"})
        lines = text.split("\n")
        end_column = len(lines[line - 1].rstrip()) + 1 if 0 < line <= len(lines) else column
        return ConsoleError("the command ends too early; expected " + ", ".join(expected[:8]), line, end_column)
    if isinstance(exc, UnexpectedToken):
        got = str(exc.token)
        expected = sorted({_pretty(name) for name in exc.expected if not name.startswith("_")})
        words = [e.strip("'") for e in expected if e.startswith("'")]
        suggestion = _suggest(got, words) if words else ""
        shown = ", ".join(expected[:8])
        return ConsoleError(f"unexpected '{got}'; expected {shown}", line, column, suggestion)
    if isinstance(exc, UnexpectedCharacters):
        char = getattr(exc, "char", "") or "?"
        return ConsoleError(f"unexpected character {char!r}", line, column)
    return ConsoleError("the command could not be understood", line, column)


_TERMINAL_WORDS = {
    "WORD": "a name",
    "STRING": "a quoted string",
    "INT": "a whole number",
    "NUMBER": "a number",
    "SIZE": "a size such as 100KB",
    "ONOFF": "'on' or 'off'",
    "IO_KIND": "'read' or 'write'",
    "IO_DEVICE": "'disk' or 'nic'",
    "MMU_MODE": "'shadow' or 'slat'",
    "BIOS_SETTING": "'virtualization' or 'dep'",
    "BCD_KEY": "'hypervisorlaunchtype'",
    "BCD_VALUE": "'auto' or 'off'",
    "VM_VERB": "a VM verb such as 'start'",
    "BACKUP_APP": "'dpm' or 'vss'",
    "QUICK_MIGRATE": "'quick-migrate'",
    "SWITCH_KIND": "'external', 'internal' or 'private'",
    "VHD_SIZED": "'fixed', 'dynamic' or 'differencing'",
    "SHOW_WHAT": "one of host, vms, azman, bcd, bios, cluster, networks, disks",
    "ANSWER_LINE": "an answer",
    "SELECT_LINE": "a WQL query",
    "COMMA": "','",
    "EQUAL": "'='",
    "SEMICOLON": "';'",
}


def _pretty(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    pattern = _PARSER.get_terminal(name).pattern if name in {t.name for t in _PARSER.terminals} else None
    if pattern is not None and pattern.type == "str":
        return f"'{pattern.value.lower()}'"
    return name.lower()


def parse(text: str) -> list[Command]:
    """Parse console input into commands (actions or help); raise ConsoleError with line, column and a hint."""
    if not isinstance(text, str):
        raise ConsoleError("the console takes text")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise ConsoleError(f"the input is longer than {MAX_INPUT_BYTES:,} bytes")
    if "\x00" in text:
        raise ConsoleError("the input contains a NUL character")
    budget = _Budget()
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except (LarkError, RecursionError):
        raise ConsoleError("the command could not be understood") from None
    commands: list[Command] = []
    lines = text.split("\n")
    compiler = _Compile(budget)
    # Empty commands (a trailing newline or ';', a blank or comment-only line) are placeholders, not commands.
    given = [child for child in tree.children if isinstance(child, Tree)]
    if len(given) > MAX_COMMANDS:
        raise ConsoleError(f"at most {MAX_COMMANDS} commands at once; you gave {len(given)}")
    for child in given:
        line = child.meta.line if not child.meta.empty else 0
        source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        try:
            compiled = compiler.transform(Tree("start", [child]))
        except VisitError as exc:
            if isinstance(exc.orig_exc, ConsoleError):
                error = exc.orig_exc
                raise ConsoleError(error.message, error.line or line, error.column or 1, error.suggestion) from None
            raise ConsoleError("the command could not be understood", line, 1) from None
        value = compiled.children[0]
        if isinstance(value, dict) and "help" in value:
            commands.append(Command(source=source, line=line, help_text=value["help"]))
        elif isinstance(value, dict):
            commands.append(Command(source=source, line=line, action=value))
        else:  # pragma: no cover - every rule above returns a dict
            raise ConsoleError("the command could not be understood", line, 1)
    if not commands:
        raise ConsoleError("type a command, or 'help'")
    return commands
