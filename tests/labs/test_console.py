"""The console language: parsed by a grammar into simulator actions, with clear errors and budgets."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labs import console
from labs.console import ConsoleError, parse
from labs.sim.actions import validate


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("bios set virtualization on", {"op": "bios.set", "setting": "virtualization", "value": True}),
        ("BIOS SET DEP OFF", {"op": "bios.set", "setting": "dep", "value": False}),
        ("bios upgrade A01", {"op": "bios.upgrade", "version": "A01"}),
        (
            "bcdedit /set hypervisorlaunchtype auto",
            {"op": "bcdedit.set", "key": "hypervisorlaunchtype", "value": "auto"},
        ),
        ("reboot", {"op": "host.reboot"}),
        ("reboot cold", {"op": "host.reboot", "cold": True}),
        ("role install Hyper-V", {"op": "role.install", "role": "Hyper-V"}),
        ("vm start fin-sql01", {"op": "vm.state", "vm": "fin-sql01", "requested_state": 2}),
        ("vm save fin-sql01", {"op": "vm.state", "vm": "fin-sql01", "requested_state": 32769}),
        ("vm shutdown web", {"op": "vm.shutdown", "vm": "web"}),
        ("vm backup web", {"op": "vm.backup", "vm": "web"}),
        ("vm backup web with DPM", {"op": "vm.backup", "vm": "web", "app": "dpm"}),
        ("wmi RequestStateChange web 32768", {"op": "vm.state", "vm": "web", "requested_state": 32768}),
        (
            "vm define web01 guest linux-ic-2.1 memory 512 vcpus 2",
            {"op": "vm.define", "name": "web01", "guest": "linux-ic-2.1", "memory_mb": 512, "vcpus": 2},
        ),
        (
            "select * from Msvm_ComputerSystem where ElementName = 'web'",
            {"op": "wmi.query", "wql": "select * from Msvm_ComputerSystem where ElementName = 'web'"},
        ),
        (
            "wmi ModifyVirtualSystem web ScopeOfResidence = 'Finance'",
            {"op": "wmi.modify_system", "vm": "web", "scope_of_residence": "Finance"},
        ),
        (
            'azman create scope Finance "Finance VMs"',
            {"op": "azman.create_scope", "name": "Finance", "description": "Finance VMs"},
        ),
        (
            'azman create task Power with "Start Virtual Machine", "Stop Virtual Machine" in scope Finance',
            {
                "op": "azman.create_task",
                "name": "Power",
                "operations": ["Start Virtual Machine", "Stop Virtual Machine"],
                "tasks": [],
                "scope": "Finance",
            },
        ),
        (
            'azman assign "Finance Operators" to alice',
            {"op": "azman.assign", "role": "Finance Operators", "member": "alice", "scope": None},
        ),
        (
            'access alice "Start Virtual Machine" on web',
            {"op": "access", "user": "alice", "operation": "Start Virtual Machine", "vm": "web"},
        ),
        (
            "run as alice vm stop web",
            {"op": "run_as", "user": "alice", "action": {"op": "vm.state", "vm": "web", "requested_state": 3}},
        ),
        (
            "io write 100KB on legacy",
            {"op": "io", "vm": "legacy", "op_kind": "write", "bytes": 102400, "device": "disk"},
        ),
        ("io read 1.5 MB on vm2 nic", {"op": "io", "vm": "vm2", "op_kind": "read", "bytes": 1572864, "device": "nic"}),
        (
            "mmu slat tagged-tlb off workload database",
            {"op": "mmu.run", "mode": "slat", "tagged_tlb": False, "workload": "database"},
        ),
        ("quick-migrate web to HV02", {"op": "quick_migrate", "vm": "web", "to": "HV02"}),
        (
            "network create LAN external nic NIC1 no-management-os",
            {"op": "net.create_switch", "name": "LAN", "kind": "external", "nic": "NIC1", "management_os": False},
        ),
        ("network connect web to LAN vlan 20", {"op": "net.connect", "vm": "web", "switch": "LAN", "vlan_id": 20}),
        ("network test web to host", {"op": "net.reach", "from": "web", "to": "host"}),
        ("vhd create a.vhd dynamic 40", {"op": "vhd.create", "path": "a.vhd", "type": "dynamic", "size_gb": 40}),
        (
            "vhd create b.vhd differencing parent a.vhd",
            {"op": "vhd.create", "path": "b.vhd", "type": "differencing", "parent": "a.vhd"},
        ),
        ("vhd attach a.vhd to web", {"op": "vhd.attach", "vm": "web", "path": "a.vhd"}),
        ("vhd write 500 on web", {"op": "vhd.write", "vm": "web", "mb": 500}),
        ("snapshot take web before-patch", {"op": "vm.snapshot", "vm": "web", "name": "before-patch"}),
        ("snapshot delete web before-patch", {"op": "vm.delete_snapshot", "vm": "web", "name": "before-patch"}),
        (
            "Quick-Migrate web to HV02 storage 250",
            {"op": "quick_migrate", "vm": "web", "to": "HV02", "storage_mb_s": 250.0},
        ),
        (
            "migrate web to HV02 dirty-rate 20 bandwidth 100",
            {"op": "migrate", "vm": "web", "to": "HV02", "dirty_mb_s": 20.0, "bandwidth_mb_s": 100.0},
        ),
    ],
)
def test_each_command_compiles_to_a_valid_simulator_action(text: str, action: dict[str, object]) -> None:
    [command] = parse(text)
    assert command.action == action
    validate(command.action)  # the simulator accepts exactly what the console produces


def test_quick_migrate_is_its_own_command_group_and_refuses_zero_storage() -> None:
    [command] = parse("quick-migrate web to HV02")
    assert command.action is not None and console.command_group(command.action) == "quick-migrate"
    with pytest.raises(ConsoleError, match="more than 0 MB/s"):
        parse("quick-migrate web to HV02 storage 0")
    with pytest.raises(ConsoleError) as exc:
        parse("quikc-migrate web to HV02")
    assert exc.value.suggestion == "quick-migrate"


def test_with_an_application_goes_only_with_backup() -> None:
    with pytest.raises(ConsoleError, match="goes with 'vm backup' only"):
        parse("vm start web with dpm")


def test_several_commands_on_lines_or_separated_by_semicolons_with_comments() -> None:
    commands = parse("# prepare the host\nbios set virtualization on; bios set dep on\n\nreboot  # then check\n")
    assert [c.action["op"] for c in commands if c.action] == ["bios.set", "bios.set", "host.reboot"]
    assert [c.line for c in commands] == [2, 2, 4]


def test_help_answers_without_an_action() -> None:
    [command] = parse("help azman")
    assert command.action is None and "azman create scope" in (command.help_text or "")


def test_answers_keep_the_whole_value() -> None:
    [command] = parse('answer why "the VSP runs in kernel mode"')
    assert command.action == {"op": "answer", "question": "why", "value": "the VSP runs in kernel mode"}


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("strat vm", (1, 1), ["unknown command 'strat'"]),
        ("reboot\nazman create scop Finance", (2, 14), ["unexpected 'scop'", "Did you mean 'scope'?"]),
        ("vm strat web", (1, 4), ["unexpected 'strat'"]),
        ("vm start", (1, 9), ["ends too early"]),
        ("io write 0KB on web", (1, 10), ["more than 0 bytes"]),
        ("bios set virt on", (1, 10), ["'virtualization' or 'dep'"]),
        ("help everything", (1, 1), ["no help on 'everything'"]),
        ("vm start web ]", (1, 14), ["unexpected"]),
    ],
)
def test_errors_give_line_column_and_a_suggestion(text: str, where: tuple[int, int], words: list[str]) -> None:
    with pytest.raises(ConsoleError) as excinfo:
        parse(text)
    error = excinfo.value
    assert (error.line, error.column) == where
    for word in words:
        assert word in str(error)


def test_input_over_4_kb_is_refused() -> None:
    with pytest.raises(ConsoleError, match="longer than 4,096 bytes"):
        parse("reboot\n" * 600)


def test_too_many_commands_at_once_are_refused() -> None:
    with pytest.raises(ConsoleError, match="at most 20 commands"):
        parse(";".join(["reboot"] * 21))


def test_the_step_budget_stops_a_long_interpretation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "MAX_STEPS", 5)
    with pytest.raises(ConsoleError, match="more than 5 interpreter steps"):
        parse('azman create task T with "a", "b", "c", "d", "e", "f", "g"')


def test_the_time_budget_stops_a_slow_interpretation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "MAX_SECONDS", -1.0)
    with pytest.raises(ConsoleError, match="ms to interpret"):
        parse("reboot")


def test_nothing_is_evaluated_as_python() -> None:
    with pytest.raises(ConsoleError):
        parse("__import__('os').system('true')")


COMMAND_WORDS = st.sampled_from(
    [
        "vm",
        "start",
        "azman",
        "create",
        "scope",
        "role",
        "with",
        "in",
        "to",
        "io",
        "write",
        "100KB",
        "on",
        "bios",
        "set",
        "dep",
        "on",
        "off",
        "select",
        "*",
        "from",
        "where",
        "=",
        "'x'",
        '"Start Virtual Machine"',
        ",",
        ";",
        "\n",
        "run",
        "as",
        "alice",
        "answer",
        "help",
        "mmu",
        "slat",
        "migrate",
        "wmi",
        "ModifyVirtualSystem",
        "ScopeOfResidence",
        "bcdedit",
        "/set",
        "hypervisorlaunchtype",
        "auto",
        "reboot",
        "access",
        "1e9",
        "-1",
        "#",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(COMMAND_WORDS, max_size=25).map(" ".join))
def test_generated_command_text_gives_actions_or_console_errors_only(text: str) -> None:
    try:
        commands = parse(text)
    except ConsoleError:
        return
    for command in commands:
        assert command.action is not None or command.help_text is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600).map(lambda raw: raw.decode("utf-8", "replace")))
def test_random_bytes_give_only_console_errors(text: str) -> None:
    with contextlib.suppress(ConsoleError):
        parse(text)


def test_empty_commands_do_not_count_toward_the_limit() -> None:
    twenty = "\n".join(["show vms"] * console.MAX_COMMANDS)
    for text in (twenty + "\n", twenty + ";", twenty + "\n# a comment\n", "# intro\n\n" + twenty + " ;\n\n"):
        assert len(parse(text)) == console.MAX_COMMANDS, repr(text[-12:])
    with pytest.raises(ConsoleError, match="at most 20 commands at once; you gave 21"):
        parse(twenty + "\nshow host\n")
