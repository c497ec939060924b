"""The trace viewer's layout (boxes for every component, unknown ones in their band) and the step alignment."""

from __future__ import annotations

import pytest

from labs.trace_layout import align_traces, band_id, component_box_id, diagram_for, phase_landmark, viewer_context
from tests.labs.trace_viewer_urls import GUESTS, io_trace

CASES = [(guest, device, op) for guest in GUESTS for device in ("disk", "nic") for op in ("write", "read")]


def _boxes(diagram: dict) -> dict[str, dict]:
    return {box["id"]: box for box in diagram["boxes"]}


@pytest.mark.parametrize(("guest", "device", "op_kind"), CASES)
def test_every_event_lights_a_box_in_its_own_band(guest: str, device: str, op_kind: str) -> None:
    trace = io_trace(guest, device, op_kind)
    diagram = diagram_for(trace)
    boxes = _boxes(diagram)
    bands = {band["id"] for band in diagram["bands"]}
    for event in trace["events"]:
        box_id = component_box_id(event)
        assert box_id in boxes, f"no box for {event['partition']}/{event['mode']}/{event['component']}"
        assert boxes[box_id]["band"] == band_id(event)
        assert band_id(event) in bands
        assert event["component"] in boxes[box_id]["components"] or event["component"] == "hypervisor"


def test_the_fixed_architecture_is_drawn_for_an_emulated_disk_trace() -> None:
    diagram = diagram_for(io_trace("windows-no-integration-services"))
    labels = {box["id"]: " ".join(box["label"]) for box in diagram["boxes"]}
    expected = {
        "hardware--hardware": "Hardware",
        "hypervisor--hypervisor": "Hypervisor",
        "root-user--vmms": "vmms.exe",
        "root-user--vmwp-vm1": "vmwp.exe",
        "root-user--wmi": "WMI provider",
        "root-kernel--storvsp": "StorVSP",
        "root-kernel--netvsp": "NetVSP",
        "root-kernel--vmbus": "vmbus.sys",
        "root-kernel--vid": "VID.sys",
        "root-kernel--storage": "root storage stack",
        "root-kernel--network": "vmswitch.sys",
        "child-vm1-user--app": "application",
        "child-vm1-kernel--fs": "ntfs.sys",
        "child-vm1-kernel--volume": ".sys",  # volmgr.sys, or ftdisk.sys for Windows 2000
        "child-vm1-kernel--disk": "disk.sys",
        "child-vm1-kernel--ide": "atapi.sys",
        "child-vm1-kernel--vmbus": "VMBus",
    }
    for box_id, text in expected.items():
        assert box_id in labels, box_id
        assert text in labels[box_id], (box_id, labels[box_id])
    assert "child-vm1-kernel--storvsc" not in labels, "the emulated path shows the IDE miniport, not a VSC"


def test_the_synthetic_trace_fills_the_vsc_slot_and_marks_only_used_boxes() -> None:
    diagram = diagram_for(io_trace("windows-enlightened"))
    boxes = _boxes(diagram)
    assert boxes["child-vm1-kernel--storvsc"]["components"] == ["storflt.sys"]
    assert "child-vm1-kernel--ide" not in boxes
    assert boxes["root-kernel--storvsp"]["components"] == ["StorVSP"]
    assert boxes["root-user--vmwp-vm1"]["components"] == [], "no root user-mode step on the synthetic path"


def test_boxes_do_not_overlap_and_stay_inside_the_drawing() -> None:
    diagram = diagram_for(io_trace("linux-xen", "disk"))
    boxes = diagram["boxes"]
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["w"] <= diagram["width"]
        assert box["y"] >= 0 and box["y"] + box["h"] <= diagram["height"]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"]
                or b["x"] + b["w"] <= a["x"]
                or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"]
            )
            assert apart, (a["id"], b["id"])


def test_an_unknown_component_falls_back_to_its_partition_and_mode_band() -> None:
    strange = [
        {
            "seq": 1,
            "t_ns": 0,
            "partition": "vm7",
            "component": "quantum.sys",
            "mode": "kernel",
            "kind": "teleport",
            "summary": "Something new.",
        },
        {
            "seq": 2,
            "t_ns": 0,
            "partition": "root",
            "component": "vmcompute.exe",
            "mode": "user",
            "kind": "x",
            "summary": "Another.",
        },
        {
            "seq": 3,
            "t_ns": 0,
            "partition": "root",
            "component": "SLAT walker",
            "mode": "hardware",
            "kind": "y",
            "summary": "Hardware.",
        },
        {
            "seq": 4,
            "t_ns": 0,
            "partition": "vm7",
            "component": "apic",
            "mode": "hypervisor",
            "kind": "z",
            "summary": "Hypervisor part.",
        },
    ]
    diagram = diagram_for({"events": strange})
    boxes = _boxes(diagram)
    assert component_box_id(strange[0]) == "child-vm7-kernel--c-quantum-sys"
    assert boxes["child-vm7-kernel--c-quantum-sys"]["band"] == "child-vm7-kernel"
    assert boxes["root-user--c-vmcompute-exe"]["band"] == "root-user"
    assert boxes["hardware--c-slat-walker"]["band"] == "hardware"
    assert boxes["hypervisor--c-apic"]["band"] == "hypervisor"
    assert "quantum.sys" in boxes["child-vm7-kernel--c-quantum-sys"]["label"][0]
    assert diagram["box_map"]["vm7|kernel|quantum.sys|"] == "child-vm7-kernel--c-quantum-sys"


def test_vmwp_is_one_box_per_vm() -> None:
    bare = "windows-no-integration-services"
    events = io_trace(bare, vm="web")["events"] + io_trace(bare, vm="db")["events"]
    boxes = _boxes(diagram_for({"events": events}))
    assert "root-user--vmwp-web" in boxes and "root-user--vmwp-db" in boxes
    assert "child-web-kernel--ide" in boxes and "child-db-kernel--ide" in boxes


def _assert_valid_alignment(rows: list[tuple[int | None, int | None]], n_a: int, n_b: int) -> None:
    a_side = [a for a, _ in rows if a is not None]
    b_side = [b for _, b in rows if b is not None]
    assert a_side == list(range(n_a)), "every step of trace a appears once, in order"
    assert b_side == list(range(n_b)), "every step of trace b appears once, in order"
    assert all(a is not None or b is not None for a, b in rows)


@pytest.mark.parametrize(
    ("emulated", "synthetic", "device"),
    [
        ("windows-no-integration-services", "windows-enlightened", "disk"),
        ("windows-no-integration-services", "linux-ic-2.1", "disk"),
        ("windows-no-integration-services", "linux-xen", "nic"),
        ("windows-enlightened", "windows-no-integration-services", "nic"),
    ],
)
def test_alignment_pairs_app_request_and_app_complete_and_covers_every_step(
    emulated: str, synthetic: str, device: str
) -> None:
    a = io_trace(emulated, device)["events"]
    b = io_trace(synthetic, device)["events"]
    rows = align_traces(a, b)
    _assert_valid_alignment(rows, len(a), len(b))
    pairs = [(i, j) for i, j in rows if i is not None and j is not None]
    kinds = [(a[i]["kind"], b[j]["kind"]) for i, j in pairs]
    assert kinds[0] == ("app_request", "app_request")
    assert kinds[-1] == ("app_complete", "app_complete")
    assert ("mode_switch", "mode_switch") in kinds
    # The guest-kernel exit pairs with the guest-kernel exit.
    exits = [
        (i, j)
        for i, j in pairs
        if a[i]["kind"] == "mode_switch" and a[i].get("to_mode") == "user" and a[i]["partition"] != "root"
    ]
    assert exits and all(b[j]["kind"] == "mode_switch" and b[j]["to_mode"] == "user" for _, j in exits)


def test_alignment_of_emulated_and_synthetic_disk_matches_the_guest_stack_layers() -> None:
    a = io_trace("windows-no-integration-services")["events"]
    b = io_trace("linux-ic-2.1")["events"]
    rows = align_traces(a, b)
    by_a = {i: j for i, j in rows if i is not None}
    ntfs = next(i for i, e in enumerate(a) if e["component"] == "ntfs.sys")
    assert b[by_a[ntfs]]["component"] == "vfs/ext3", "the file system layers line up across guests"
    assert rows[:3] == [(0, 0), (1, 1), (2, 2)]
    # Once the synthetic request is done the emulated one is still trapping: the synthetic side waits.
    assert any(j is None for _, j in rows)
    assert len(rows) == len(a) + sum(1 for i, _ in rows if i is None)


def test_alignment_handles_empty_and_identical_traces() -> None:
    a = io_trace("windows-enlightened")["events"]
    assert align_traces([], []) == []
    assert align_traces(a, []) == [(i, None) for i in range(len(a))]
    assert align_traces([], a) == [(None, j) for j in range(len(a))]
    assert align_traces(a, a) == [(i, i) for i in range(len(a))]


def test_landmarks_are_the_shared_phases_only() -> None:
    events = io_trace("windows-no-integration-services")["events"]
    marks = [phase_landmark(e) for e in events if phase_landmark(e)]
    assert marks[0] == ("app_request",) and marks[-1] == ("app_complete",)
    assert ("mode_switch", "kernel") in marks and ("driver", "fs") in marks
    assert all(m[0] != "port_io" for m in marks)


def test_viewer_context_lists_every_event_and_the_kinds_with_counts() -> None:
    trace = io_trace("windows-no-integration-services")
    context = viewer_context(trace, "Left one!", "Emulated")
    assert context["id"] == "left-one" and context["script_id"] == "tv-left-one-data"
    assert [item["n"] for item in context["items"]] == list(range(1, len(trace["events"]) + 1))
    assert dict(context["kinds"])["port_io"] == 40
    assert ("port_accesses", 40) in context["counters"]
    assert context["first_stack"] == ["child partition vm1", "user mode", "application"]
