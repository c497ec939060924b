"""VMBus channel handshake, device initialisation and signalling (docs/sources.md#vmbus, #synthetic-path)."""

from __future__ import annotations

from typing import Any

from labs.sim.actions import apply
from labs.sim.host import Host
from labs.sim.vmbus import CONTROL_MESSAGE_NAMES, PACKET_TYPE_NAMES


def start(guest: str, version: str = "2008 R2") -> tuple[Host, list[dict[str, Any]]]:
    h = Host({"host": {"os": {"version": version}}, "vms": [{"name": "g", "guest": guest}]})
    first = len(h.trace.events)
    apply(h, {"op": "vm.state", "vm": "g", "requested_state": 2})
    return h, h.trace.events[first:]


def test_handshake_in_the_documented_order() -> None:
    _, events = start("windows-enlightened")
    messages = [e["message_type"] for e in events if e["kind"] == "vmbus_message"]
    # GpadlBody (9) messages only appear when a ring's page list does not fit in the GpadlHeader.
    assert [m for m in messages if m != 9] == [14, 15, 3, 1, 1, 4, 8, 10, 5, 6, 8, 10, 5, 6]
    assert messages.index(9) > messages.index(8, 7)
    names = [CONTROL_MESSAGE_NAMES[m] for m in messages[:6]]
    assert names == ["InitiateContact", "VersionResponse", "RequestOffers", "OfferChannel", "OfferChannel",
                     "AllOffersDelivered"]


def test_storage_init_is_four_inband_requests_each_completed() -> None:
    _, events = start("windows-enlightened")
    packets = [(e["packet_type"], e["vstor_operation"]) for e in events if "vstor_operation" in e]
    assert packets == [(6, 7), (0xB, 1), (6, 9), (0xB, 1), (6, 10), (0xB, 1), (6, 8), (0xB, 1)]
    assert all(e.get("status", 0) == 0 for e in events if e.get("vstor_operation") == 1)


def test_storage_init_precedes_nothing_before_open_result() -> None:
    _, events = start("windows-enlightened")
    kinds = [(e["kind"], e.get("message_type"), e.get("vstor_operation")) for e in events]
    open_result = max(i for i, k in enumerate(kinds) if k[1] == 6)
    begin_init = next(i for i, k in enumerate(kinds) if k[2] == 7)
    assert begin_init > open_result


def test_protocol_versions_follow_the_host_version() -> None:
    _, r2 = start("windows-enlightened", "2008 R2")
    _, r1 = start("windows-enlightened", "2008")
    assert any("4.2" in str(e["summary"]) for e in r2 if e.get("vstor_operation") == 9)
    assert any("2.0" in str(e["summary"]) for e in r1 if e.get("vstor_operation") == 9)
    assert [e["vmbus_version"] for e in r1 if e.get("message_type") == 14] == ["0.13"]
    assert [e["vmbus_version"] for e in r2 if e.get("message_type") == 14] == ["1.1"]


def test_control_messages_use_post_message_and_there_is_no_vmbus_hypercall() -> None:
    _, events = start("windows-enlightened")
    hypercalls = {e["hypercall"] for e in events if "hypercall" in e}
    assert {e["hypercall"] for e in events if e["kind"] == "vmbus_message"} == {"0x5C"}
    assert not hypercalls & {"0x60", "0x61", "0x62"}


def test_non_enlightened_guest_has_no_vmbus() -> None:
    h, events = start("windows-no-integration-services")
    assert not [e for e in events if e["kind"].startswith("vmbus")]
    assert h.vm("g").channels == []


def test_linux_ic_uses_blkvsc_with_a_bigger_ring_that_needs_a_gpadl_body() -> None:
    h, events = start("linux-ic-2.0")
    assert h.vm("g").channels == ["network", "storage"]
    storage_header = [e for e in events if e.get("message_type") == 8 and e["device"] == "storage"][0]
    assert storage_header["pages"] == 40
    assert [e for e in events if e.get("message_type") == 9 and e["device"] == "storage"]
    assert any(e["kind"] == "fast_path" and "Fastpath Boot" in str(e["summary"]) for e in events)


def test_network_channel_nvsp_init() -> None:
    _, events = start("windows-enlightened")
    assert [e["nvsp_message"] for e in events if "nvsp_message" in e] == [1, 2, 100]


def test_windows_ide_disk_switches_to_storflt_after_integration_services_load() -> None:
    _, events = start("windows-enlightened")
    fast = [e for e in events if e["kind"] == "fast_path"]
    assert fast and fast[0]["component"] == "storflt.sys"
    boot = [e for e in events if e["kind"] == "power_on"][0]
    assert "emulated IDE" in str(boot["summary"])


def test_packet_type_names_are_the_documented_ones() -> None:
    assert PACKET_TYPE_NAMES[0x9] == "GpaDirect" and PACKET_TYPE_NAMES[0xB] == "Completion"
    assert PACKET_TYPE_NAMES[0x6] == "InBand"
