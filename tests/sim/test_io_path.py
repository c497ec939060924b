"""Fidelity of the emulated and synthetic I/O paths (docs/sources.md#emulated-path, #synthetic-path, #crossings)."""

from __future__ import annotations

from typing import Any

import pytest

from labs.sim.__main__ import io_report
from labs.sim.actions import apply
from labs.sim.errors import InvalidParameter, InvalidState
from labs.sim.host import Host
from labs.sim.params import SOURCES, CostModel

KB = 1024
EVENT_KEYS = {"seq", "t_ns", "partition", "component", "mode", "kind", "summary"}


def test_synthetic_write_never_enters_root_user_mode() -> None:
    r = io_report("enlightened", "write", 100 * KB)
    c = r["counters"]
    assert c["root_user_transitions"] == 0
    assert c["vmwp_round_trips"] == 0
    assert c["port_accesses"] == 0
    assert not [e for e in r["events"] if e["partition"] == "root" and e["mode"] == "user"]
    assert c["user_kernel_transitions"] == 2, "only the guest application's own call and return"


def test_synthetic_100kb_is_one_gpa_direct_packet_of_25_pfns() -> None:
    r = io_report("enlightened", "write", 100 * KB)
    gpa = [e for e in r["events"] if e.get("packet_type") == 0x9]
    assert len(gpa) == 1 and gpa[0]["pfn_count"] == 25
    srb = [e for e in r["events"] if e["kind"] == "vstor_request"]
    assert srb[0]["vstor_operation"] == 3 and srb[0]["cdb_opcode"] == "0x2A"
    completions = [e for e in r["events"] if e.get("packet_type") == 0xB]
    assert len(completions) == 1
    assert r["counters"]["vsc_requests"] == 1 and r["counters"]["vmbus_packets"] == 2


def test_synthetic_300kb_write_is_two_requests_and_one_signal() -> None:
    r = io_report("enlightened", "write", 300 * KB)
    c = r["counters"]
    assert c["vsc_requests"] == 2
    assert r["params"]["arithmetic"]["requests"] == 2
    sizes = [e["bytes"] for e in r["events"] if e["kind"] == "vstor_request"]
    assert sizes == [256 * KB, 44 * KB]
    guest_signals = [e for e in r["events"] if e["kind"] == "signal" and e["mode"] == "kernel"
                     and e["partition"] != "root"]
    assert len(guest_signals) == 1 and guest_signals[0]["hypercall"] == "0x5D"
    batched = [e for e in r["events"] if e["kind"] == "ring_write" and e["was_empty"] is False]
    assert len(batched) == 1


def test_synthetic_read_uses_scsi_read() -> None:
    r = io_report("enlightened", "read", 8 * KB)
    assert [e["cdb_opcode"] for e in r["events"] if e["kind"] == "vstor_request"] == ["0x28"]


def test_emulated_100kb_write_port_accesses_times_two_crossings() -> None:
    r = io_report("emulated", "write", 100 * KB)
    c = r["counters"]
    a = r["params"]["arithmetic"]
    assert a["port_accesses"] == c["port_accesses"] == 40
    assert a["port_access_crossings"] == c["port_accesses"] * 2 == 80
    assert a["port_accesses_formula"] == "4 commands x 10 = 40"
    assert "7 setup writes" in a["port_accesses_per_command_formula"]
    assert c["root_user_transitions"] == a["root_user_transitions"] == 80 + 8
    assert c["vm_exits"] == 40
    assert c["vmwp_round_trips"] == 40 + 4
    assert c["vmbus_packets"] == 0


def test_emulated_each_port_access_follows_the_documented_chain() -> None:
    r = io_report("emulated", "write", 4 * KB)
    events = r["events"]
    first = next(i for i, e in enumerate(events) if e["kind"] == "port_io")
    chain = [(e["kind"], e["partition"], e["mode"]) for e in events[first:first + 9]]
    assert chain == [
        ("port_io", "vm1", "kernel"),
        ("vm_exit", "vm1", "hypervisor"),
        ("synic_message", "root", "hypervisor"),
        ("intercept", "root", "kernel"),
        ("mode_switch", "root", "user"),
        ("emulate", "root", "user"),
        ("mode_switch", "root", "kernel"),
        ("intercept_complete", "root", "kernel"),
        ("vm_resume", "vm1", "hypervisor"),
    ]
    assert events[first + 2]["message_type"] == "0x80010000"
    assert "HvMessageTypeX64IoPortIntercept" in str(events[first + 2]["summary"])


def test_emulated_completion_goes_back_through_vmwp_and_injects_irq14() -> None:
    r = io_report("emulated", "write", 100 * KB)
    kinds = [e["kind"] for e in r["events"]]
    assert kinds.count("io_submit") == 4 and kinds.count("disk_io") == 4 and kinds.count("ide_complete") == 4
    irqs = [e for e in r["events"] if e["kind"] == "interrupt"]
    assert len(irqs) == 4 and all(e["irq"] == 14 for e in irqs)
    command_writes = [e for e in r["events"] if e["kind"] == "emulate" and e["register"] == "Command"]
    assert all("0xCA" in str(e["summary"]) for e in command_writes)


def test_setup_writes_program_the_seven_task_file_registers() -> None:
    r = io_report("emulated", "write", 4 * KB)
    writes = [e["port"] for e in r["events"] if e["kind"] == "port_io" and e["direction"] == "out"]
    assert writes == ["0x1F1", "0x1F2", "0x1F3", "0x1F4", "0x1F5", "0x1F6", "0x1F7"]


def test_every_event_is_complete_and_self_describing() -> None:
    for guest in ("emulated", "enlightened"):
        r = io_report(guest, "write", 100 * KB)
        seqs = [e["seq"] for e in r["events"]]
        assert seqs == sorted(set(seqs))
        times = [e["t_ns"] for e in r["events"]]
        assert times == sorted(times)
        for e in r["events"]:
            assert set(e) >= EVENT_KEYS
            assert e["mode"] in ("user", "kernel", "hypervisor", "hardware")
            summary = str(e["summary"])
            assert summary[0].isupper() or summary[0].isdigit() or summary.startswith(("vm", "vmwp", "storflt"))
            assert summary.endswith("."), summary


def test_counters_include_the_contract_names() -> None:
    for guest in ("emulated", "enlightened"):
        c = io_report(guest, "write", 1000)["counters"]
        for name in ("user_kernel_transitions", "root_user_transitions", "vm_exits", "vmwp_round_trips",
                     "vmbus_packets", "vsc_requests", "port_accesses", "simulated_ns"):
            assert name in c and c[name] >= 0


def test_emulated_is_slower_than_synthetic_for_the_same_write() -> None:
    emu = io_report("emulated", "write", 100 * KB)["counters"]["simulated_ns"]
    syn = io_report("enlightened", "write", 100 * KB)["counters"]["simulated_ns"]
    assert emu > syn


def test_params_carry_every_value_with_a_source() -> None:
    params = io_report("emulated", "write", 100 * KB)["params"]["cost_model"]
    assert set(params) == set(SOURCES)
    assert params["ide_setup_port_writes"] == {"value": 7, "source": SOURCES["ide_setup_port_writes"]}
    assert "Savill" in params["ide_setup_port_writes"]["source"]
    assert params["vm_exit_cycles"]["source"].startswith("[mem]")
    assert params["storvsc_max_transfer_bytes"]["value"] == 0x40000


def test_cost_model_overrides_change_the_arithmetic() -> None:
    cm = CostModel(ide_bytes_per_command=64 * KB)
    assert cm.emulated_arithmetic(100 * KB)["port_accesses"] == 20
    with pytest.raises(InvalidParameter) as err:
        CostModel(vm_exit_cycles=-1)
    assert err.value.path == "params.vm_exit_cycles"


GUEST_PATHS = [
    ("windows-enlightened", "synthetic", "storflt.sys"),
    ("windows-no-integration-services", "emulated", None),
    ("linux-xen", "synthetic", "blkvsc"),
    ("linux-ic-2.0", "synthetic", "blkvsc"),
    ("linux-ic-2.1", "synthetic", "blkvsc"),
]


@pytest.mark.parametrize(("guest", "path", "vsc"), GUEST_PATHS)
def test_each_guest_kind_uses_its_path(guest: str, path: str, vsc: str | None) -> None:
    h = Host({"vms": [{"name": "g", "guest": guest, "state": "running"}]})
    result = apply(h, {"op": "io", "vm": "g", "op_kind": "write", "bytes": 100 * KB})
    assert result["path"] == path
    if vsc:
        components = {e["component"] for e in h.trace.events[result["first_seq"] - 1:]}
        assert vsc in components
    if guest == "linux-xen":
        assert any(e["kind"] == "hypercall_adapter" for e in h.trace.events)


@pytest.mark.parametrize("guest", ["windows-enlightened", "windows-no-integration-services"])
def test_nic_paths(guest: str) -> None:
    h = Host({"vms": [{"name": "g", "guest": guest, "state": "running"}]})
    result: dict[str, Any] = apply(h, {"op": "io", "vm": "g", "op_kind": "write", "bytes": 3000, "device": "nic"})
    events = h.trace.events[result["first_seq"] - 1:]
    if guest == "windows-no-integration-services":
        assert result["path"] == "emulated" and result["counters"]["port_accesses"] == 2 * 3
        assert any("DEC 21140" in str(e["summary"]) for e in events)
    else:
        assert result["path"] == "synthetic" and result["counters"]["root_user_transitions"] == 0
        assert [e["nvsp_message"] for e in events if "nvsp_message" in e] == [107, 107, 108, 108]


def test_io_validation() -> None:
    h = Host({"vms": [{"name": "g", "state": "running"}, {"name": "off"}]})
    for bad, path in (({"bytes": -1}, "bytes"), ({"bytes": 0}, "bytes"), ({"op_kind": "erase"}, "op_kind"),
                      ({"device": "floppy"}, "device")):
        action = {"op": "io", "vm": "g", "op_kind": "write", "bytes": 10, **bad}
        with pytest.raises(InvalidParameter) as err:
            apply(h, action)
        assert err.value.path == path
    with pytest.raises(InvalidState):
        apply(h, {"op": "io", "vm": "off", "op_kind": "write", "bytes": 10})


def test_emulated_nic_trace_names_the_dec_21140_driver_and_emulator_not_ide() -> None:
    r = io_report("emulated", "write", 3000, "nic")
    port_events = [e for e in r["events"] if e["kind"] in ("port_io", "emulate")]
    assert port_events
    for e in port_events:
        assert "IDE" not in e["summary"], e["summary"]
        assert e["component"] != "atapi.sys"
    guest_io = [e for e in port_events if e["kind"] == "port_io"]
    assert all(e["component"] == "dc21x4.sys" and "The DEC 21140 driver" in e["summary"] for e in guest_io)
    assert all("vmwp.exe's DEC 21140 network adapter emulator" in e["summary"]
               for e in port_events if e["kind"] == "emulate")


def test_emulated_disk_trace_still_names_the_ide_driver() -> None:
    r = io_report("emulated", "write", 4 * KB)
    assert {e["component"] for e in r["events"] if e["kind"] == "port_io"} == {"atapi.sys"}


def test_one_crossings_model_the_arithmetic_states_what_the_trace_counts() -> None:
    """40 port accesses -> 80 crossings; + 4 completions -> 88 in the root; + the guest's own call -> 90."""
    r = io_report("emulated", "write", 100 * KB)
    a, c = r["params"]["arithmetic"], r["counters"]
    assert (a["port_accesses"], a["port_access_crossings"], a["root_user_transitions"]) == (40, 80, 88)
    assert a["user_kernel_transitions"] == c["user_kernel_transitions"] == 90
    assert a["root_user_transitions"] == c["root_user_transitions"] == 88
    assert a["vmwp_round_trips"] == c["vmwp_round_trips"] == 44
    assert "seed" not in a["note"].lower()


@pytest.mark.parametrize(
    ("guest", "write", "read"),
    [("linux-ic-2.1", "write()", "read()"), ("windows-enlightened", "WriteFile", "ReadFile")],
)
def test_the_application_calls_its_own_systems_file_api(guest: str, write: str, read: str) -> None:
    for op_kind, verb in (("write", write), ("read", read)):
        first = io_report(guest, op_kind, 4 * KB)["events"][0]["summary"]
        assert f"({verb})" in first, first
    assert "WriteFile" not in io_report("linux-ic-2.1", "write", 4 * KB)["events"][1]["summary"]
