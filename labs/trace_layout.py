"""Layout and alignment for the trace viewer: where each component sits in the architecture diagram, which box an
event lights up, and how two traces of the same I/O line up step by step.

Pure Python (no Django): the template tag `labs.templatetags.trace_viewer` and the tests call it. Coordinates are SVG
user units (the SVG scales with its `viewBox`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

Event = dict[str, Any]

BOX_WIDTH = 150
BOX_HEIGHT = 46
GAP = 10
BAND_HEADER = 24
BOXES_PER_ROW = 2
COLUMN_WIDTH = BOXES_PER_ROW * BOX_WIDTH + (BOXES_PER_ROW + 1) * GAP
LABEL_CHARS = 22
"""Characters per label line before it wraps (12px text in a 150-unit box)."""

# Fixed slots per band kind: (slot, default name, role). A trace component that aliases to a slot fills it.
ROOT_USER_SLOTS: tuple[tuple[str, str, str], ...] = (
    ("vmms", "vmms.exe", "management service"),
    ("wmi", "WMI provider", "management interface"),
)
ROOT_KERNEL_SLOTS: tuple[tuple[str, str, str], ...] = (
    ("storvsp", "StorVSP", "VSP: storage"),
    ("netvsp", "NetVSP", "VSP: network"),
    ("vmbus", "vmbus.sys", "VMBus"),
    ("vid", "VID.sys", "virtualization driver"),
    ("storage", "storage stack", "VHD and disk drivers"),
    ("network", "vmswitch.sys", "virtual switch"),
)
CHILD_USER_SLOTS: tuple[tuple[str, str, str], ...] = (("app", "application", "user-mode program"),)
CHILD_KERNEL_COMMON: tuple[tuple[str, str, str], ...] = (
    ("fs", "file system", "file system driver"),
    ("volume", "volume manager", "volume driver"),
    ("disk", "disk class driver", "disk class"),
)
CHILD_KERNEL_EMULATED = (("ide", "atapi.sys", "IDE miniport: emulated"),)
CHILD_KERNEL_SYNTHETIC = (("storvsc", "storflt / storvsc", "storage VSC"),)
CHILD_KERNEL_VMBUS = (("vmbus", "VMBus driver", "channel driver"),)
# Slots shown only when a trace uses them.
CHILD_KERNEL_OPTIONAL: tuple[tuple[str, str, str], ...] = (
    ("tcpip", "tcpip.sys", "network stack"),
    ("netvsc", "netvsc", "network VSC"),
    ("nic", "NIC driver", "emulated NIC driver"),
    ("hypercall", "hypercall adapter", "Xen to Hyper-V"),
    ("syscall", "guest os", "system call entry"),
)
CHILD_USER_OPTIONAL: tuple[tuple[str, str, str], ...] = (("syscall", "guest os", "system call return"),)
ROOT_USER_OPTIONAL: tuple[tuple[str, str, str], ...] = ()

ALIASES: dict[str, dict[str, str]] = {
    "root-user": {
        "vmms.exe": "vmms",
        "vmms": "vmms",
        "wmi provider": "wmi",
        "wmi": "wmi",
        "wmiprvse.exe": "wmi",
        "vmwp.exe": "vmwp",
        "vmwp": "vmwp",
    },
    "root-kernel": {
        "storvsp": "storvsp",
        "storvsp.sys": "storvsp",
        "netvsp": "netvsp",
        "netvsp.sys": "netvsp",
        "vmbus.sys": "vmbus",
        "vmbus": "vmbus",
        "vid.sys": "vid",
        "vid": "vid",
        "root storage stack": "storage",
        "storage stack": "storage",
        "vhd": "storage",
        "vhdmp.sys": "storage",
        "vmswitch.sys": "network",
        "vmswitch": "network",
        "virtual switch": "network",
        "root network stack": "network",
    },
    "child-user": {"application": "app", "app": "app", "guest os": "syscall"},
    "child-kernel": {
        "ntfs.sys": "fs",
        "vfs/ext3": "fs",
        "fastfat.sys": "fs",
        "file system": "fs",
        "volmgr.sys": "volume",
        "ftdisk.sys": "volume",
        "dmio.sys": "volume",
        "volume manager": "volume",
        "disk.sys": "disk",
        "block layer": "disk",
        "disk class": "disk",
        "atapi.sys": "ide",
        "ata driver": "ide",
        "pciide.sys": "ide",
        "intelide.sys": "ide",
        "storflt.sys": "storvsc",
        "storflt": "storvsc",
        "storvsc.sys": "storvsc",
        "storvsc": "storvsc",
        "blkvsc": "storvsc",
        "blkvsc.sys": "storvsc",
        "vmbus": "vmbus",
        "vmbus.sys": "vmbus",
        "tcpip.sys": "tcpip",
        "tcp/ip stack": "tcpip",
        "netvsc": "netvsc",
        "netvsc.sys": "netvsc",
        "netvsc50.sys": "netvsc",
        "dc21x4.sys": "nic",
        "tulip": "nic",
        "hypercall adapter": "hypercall",
        "guest os": "syscall",
    },
}

MODE_NAMES = {"user": "user mode", "kernel": "kernel mode", "hypervisor": "hypervisor", "hardware": "hardware"}


def slug(text: str) -> str:
    """Lower-case `text` with every run of other characters than a-z and 0-9 turned into one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "x"


def _mode(event: Event) -> str:
    mode = event.get("mode")
    return mode if mode in ("user", "kernel", "hypervisor", "hardware") else "kernel"


def band_id(event: Event) -> str:
    """The band an event belongs to: hypervisor, hardware, root-user, root-kernel, child-<vm>-user/-kernel."""
    mode = _mode(event)
    if mode == "hypervisor" or str(event.get("component", "")).lower() == "hypervisor":
        return "hypervisor"
    if mode == "hardware":
        return "hardware"
    partition = str(event.get("partition") or "")
    side = "root" if partition == "root" else f"child-{slug(partition)}"
    return f"{side}-{'user' if mode == 'user' else 'kernel'}"


def _band_kind(band: str) -> str:
    if band.startswith("child-"):
        return "child-user" if band.endswith("-user") else "child-kernel"
    return band


def component_box_id(event: Event) -> str:
    """The id of the diagram box an event lights up: its band, then its fixed slot or its slugged component.

    Rule: hypervisor-mode events light the one hypervisor box; a component named in `ALIASES` for its band lights
    that slot (vmwp.exe lights the worker process of the event's `vm`); any other component lights its own box,
    `<band>--c-<slug>`, in its partition and mode band, so an unknown component never fails.
    """
    band = band_id(event)
    component = str(event.get("component") or "")
    if band == "hypervisor" and component.lower() in ("hypervisor", ""):
        return "hypervisor--hypervisor"
    slot = ALIASES.get(_band_kind(band), {}).get(component.lower())
    if slot == "vmwp":
        vm = event.get("vm")
        return f"{band}--vmwp-{slug(vm)}" if vm else f"{band}--vmwp"
    if slot:
        return f"{band}--{slot}"
    return f"{band}--c-{slug(component)}"


def event_key(event: Event) -> str:
    """The key of `box_map`: partition|mode|component|vm (vm only on root events, where vmwp.exe depends on it)."""
    vm = event.get("vm") if event.get("partition") == "root" else ""
    return "|".join((str(event.get("partition") or ""), _mode(event), str(event.get("component") or ""), str(vm or "")))


def _wrap(text: str, width: int = LABEL_CHARS, lines: int = 2) -> list[str]:
    words = str(text).split()
    out: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    out = out or [""]
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1].rstrip() + "…"
    return [line if len(line) <= width else line[: width - 1] + "…" for line in out]


def _child_partitions(trace: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for event in trace.get("events") or []:
        partition = event.get("partition")
        if partition and partition != "root" and _mode(event) in ("user", "kernel") and partition not in names:
            names.append(str(partition))
    for event in trace.get("events") or []:
        vm = event.get("vm")
        if event.get("partition") == "root" and vm and vm not in names:
            names.append(str(vm))
    vm = trace.get("vm")
    if vm and vm not in names:
        names.append(str(vm))
    return names or ["VM"]


def diagram_for(trace: dict[str, Any]) -> dict[str, Any]:
    """The architecture diagram of a trace: bands and boxes (SVG units) and the event-key to box-id map.

    Boxes cover the fixed architecture (hardware; hypervisor; root user: vmms.exe, vmwp.exe per VM, WMI provider;
    root kernel: VSPs, VMBus, VID.sys, storage and network stacks; child user: application; child kernel: file
    system, volume, disk class, IDE miniport or storage VSC, VMBus) plus every (partition, mode, component) the
    trace's events name. Returns {"width", "height", "bands", "boxes", "box_map", "box_map_json"}; each box is
    {"id", "label" (list of lines), "title", "x", "y", "w", "h", "band", "cx", "cy", "components", "fixed"}.
    """
    events: list[Event] = list(trace.get("events") or [])
    path = trace.get("path")
    children = _child_partitions(trace)

    # Ordered slots per band: slot id -> [default name, role, components seen, fixed?]
    bands: dict[str, dict[str, list[Any]]] = {}

    def add_slots(band: str, slots: Sequence[tuple[str, str, str]], fixed: bool = True) -> None:
        table = bands.setdefault(band, {})
        for slot_id, name, role in slots:
            table.setdefault(f"{band}--{slot_id}", [name, role, [], fixed])

    add_slots("root-user", ROOT_USER_SLOTS[:1])
    add_slots("root-user", [(f"vmwp-{slug(vm)}", "vmwp.exe", f"worker process: {vm}") for vm in children])
    add_slots("root-user", ROOT_USER_SLOTS[1:])
    add_slots("root-kernel", ROOT_KERNEL_SLOTS)
    for vm in children:
        base = f"child-{slug(vm)}"
        add_slots(f"{base}-user", CHILD_USER_SLOTS)
        add_slots(f"{base}-kernel", CHILD_KERNEL_COMMON)
        if path != "synthetic":
            add_slots(f"{base}-kernel", CHILD_KERNEL_EMULATED)
        if path != "emulated":
            add_slots(f"{base}-kernel", CHILD_KERNEL_SYNTHETIC)
        add_slots(f"{base}-kernel", CHILD_KERNEL_VMBUS)
    add_slots("hypervisor", (("hypervisor", "Hypervisor", "hvix64 / hvax64"),))
    add_slots("hardware", (("hardware", "Hardware", "CPU, memory, disk, NIC"),))

    optional = {
        "child-user": {slot: (name, role) for slot, name, role in CHILD_USER_OPTIONAL},
        "child-kernel": {slot: (name, role) for slot, name, role in CHILD_KERNEL_OPTIONAL},
        "root-user": {slot: (name, role) for slot, name, role in ROOT_USER_OPTIONAL},
    }
    box_map: dict[str, str] = {}
    for event in events:
        box = component_box_id(event)
        band = band_id(event)
        box_map.setdefault(event_key(event), box)
        table = bands.setdefault(band, {})
        component = str(event.get("component") or "")
        if box not in table:
            slot = box.split("--", 1)[1]
            name, role = optional.get(_band_kind(band), {}).get(slot, (component, ""))
            if slot.startswith("vmwp"):
                name, role = "vmwp.exe", f"worker process: {event.get('vm') or 'a VM'}"
            table[box] = [name, role, [], False]
        if component and component not in table[box][2]:
            table[box][2].append(component)

    boxes: list[dict[str, Any]] = []
    band_rows: list[dict[str, Any]] = []
    columns = ["root", *[f"child-{slug(vm)}" for vm in children]]
    column_names = {"root": "Root partition", **{f"child-{slug(vm)}": f"Child partition {vm}" for vm in children}}
    width = len(columns) * COLUMN_WIDTH + (len(columns) + 1) * GAP

    def rows_needed(count: int, per_row: int) -> int:
        return max(1, -(-count // per_row))

    def band_height(rows: int) -> int:
        return BAND_HEADER + rows * (BOX_HEIGHT + GAP)

    def place(band: str, label: str, kind: str, x: int, y: int, w: int, h: int, per_row: int) -> None:
        band_rows.append(
            {
                "id": band,
                "label": label,
                "kind": kind,
                "x": x,
                "y": y,
                "w": w,
                "h": h,
                "label_x": x + GAP,
                "label_y": y + 17,
            }
        )
        for index, (box_id, (name, role, components, fixed)) in enumerate(bands.get(band, {}).items()):
            row, col = divmod(index, per_row)
            bx = x + GAP + col * (BOX_WIDTH + GAP)
            by = y + BAND_HEADER + row * (BOX_HEIGHT + GAP)
            named = [c for c in components if c.lower() != name.lower()]
            first = ", ".join(named) if named else name
            lines = _wrap(first, lines=1) + (_wrap(role, lines=1) if role else [])
            title = first + (f" ({role})" if role else "")
            boxes.append(
                {
                    "id": box_id,
                    "label": lines,
                    "title": title,
                    "band": band,
                    "x": bx,
                    "y": by,
                    "w": BOX_WIDTH,
                    "h": BOX_HEIGHT,
                    "cx": bx + BOX_WIDTH // 2,
                    "cy": by + BOX_HEIGHT // 2,
                    "text_x": bx + BOX_WIDTH // 2,
                    "text_y": by + (19 if len(lines) > 1 else 28),
                    "marker_x": bx + 4,
                    "marker_y": by + 15,
                    "components": components,
                    "fixed": fixed,
                }
            )

    y = GAP
    for mode in ("user", "kernel"):
        rows = max(rows_needed(len(bands.get(f"{col}-{mode}", {})), BOXES_PER_ROW) for col in columns)
        height = band_height(rows)
        for index, col in enumerate(columns):
            x = GAP + index * (COLUMN_WIDTH + GAP)
            place(
                f"{col}-{mode}",
                f"{column_names[col]}: {MODE_NAMES[mode]}",
                f"{'root' if col == 'root' else 'child'}-{mode}",
                x,
                y,
                COLUMN_WIDTH,
                height,
                BOXES_PER_ROW,
            )
        y += height + GAP
    per_row = max(1, (width - GAP) // (BOX_WIDTH + GAP))
    for band, label in (("hypervisor", "Hypervisor"), ("hardware", "Hardware")):
        height = band_height(rows_needed(len(bands.get(band, {})), per_row))
        place(band, label, band, GAP, y, width - 2 * GAP, height, per_row)
        y += height + GAP

    return {
        "width": width,
        "height": y,
        "bands": band_rows,
        "boxes": boxes,
        "box_map": box_map,
        "box_map_json": json.dumps(box_map, sort_keys=True),
    }


# --- Alignment -------------------------------------------------------------------------------------------------------

_LCS_CELL_LIMIT = 4_000_000


def phase_landmark(event: Event) -> tuple[str, ...] | None:
    """The phase signature of an event both I/O paths share, or None for path-specific work.

    Landmarks: app_request and app_complete; the guest's user/kernel crossings (a child mode_switch, by direction:
    the guest-kernel entry and exit); the guest's own stack layers (a child `driver` event, by its slot, so ntfs.sys
    matches vfs/ext3); and the root's physical disk access (disk_io).
    """
    kind = str(event.get("kind") or "")
    child = event.get("partition") != "root" and _mode(event) in ("user", "kernel")
    if kind in ("app_request", "app_complete"):
        return (kind,)
    if kind == "mode_switch" and child:
        return (kind, str(event.get("to_mode") or _mode(event)))
    if kind == "driver" and child:
        component = str(event.get("component") or "")
        return (kind, ALIASES["child-kernel"].get(component.lower(), component))
    if kind == "disk_io" and event.get("partition") == "root":
        return (kind,)
    return None


Landmarks = list[tuple[int, tuple[str, ...]]]


def _match_landmarks(a: Landmarks, b: Landmarks) -> list[tuple[int, int]]:
    """Longest common subsequence of the two landmark lists, preferring the earliest matches; event index pairs."""
    n, m = len(a), len(b)
    if n * m > _LCS_CELL_LIMIT:  # too big for the table: match greedily in order instead
        pairs: list[tuple[int, int]] = []
        j = 0
        for i_event, sig in a:
            k = j
            while k < m and b[k][1] != sig:
                k += 1
            if k < m:
                pairs.append((i_event, b[k][0]))
                j = k + 1
        return pairs
    suffix = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = suffix[i], suffix[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if a[i][1] == b[j][1] else max(below[j], row[j + 1])
    pairs = []
    i = j = 0
    while i < n and j < m:
        if a[i][1] == b[j][1] and suffix[i][j] == suffix[i + 1][j + 1] + 1:
            pairs.append((a[i][0], b[j][0]))
            i += 1
            j += 1
        elif suffix[i + 1][j] >= suffix[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def align_traces(a_events: Sequence[Event], b_events: Sequence[Event]) -> list[tuple[int | None, int | None]]:
    """Align two traces step by step by phase; rows of (index in a, index in b), 0-based, None where one side waits.

    Rule: (1) each event gets a phase landmark (`phase_landmark`): app_request, the guest-kernel entry and exit
    (child mode_switch by direction), the guest's stack layers (child driver events by slot), the root's physical
    disk access, app_complete; other events are path-specific work. (2) The landmark sequences are matched with a
    longest common subsequence that prefers the earliest matches, so app_request pairs with app_request and
    app_complete with app_complete. (3) Between two consecutive matched landmarks, the path-specific events of
    the two traces are paired in order, first with first; the longer side's surplus is paired with None (the
    other trace has nothing left to do in that phase). Every index of each trace appears exactly once, and both
    columns increase down the rows.
    """
    a_marks = [(i, sig) for i, event in enumerate(a_events) if (sig := phase_landmark(event)) is not None]
    b_marks = [(j, sig) for j, event in enumerate(b_events) if (sig := phase_landmark(event)) is not None]
    anchors = _match_landmarks(a_marks, b_marks)
    rows: list[tuple[int | None, int | None]] = []
    i = j = 0
    for anchor_a, anchor_b in [*anchors, (len(a_events), len(b_events))]:
        a_run = list(range(i, anchor_a))
        b_run = list(range(j, anchor_b))
        for k in range(max(len(a_run), len(b_run))):
            rows.append((a_run[k] if k < len(a_run) else None, b_run[k] if k < len(b_run) else None))
        if anchor_a < len(a_events):
            rows.append((anchor_a, anchor_b))
        i, j = anchor_a + 1, anchor_b + 1
    return rows


# --- Viewer context --------------------------------------------------------------------------------------------------


def _field_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def layer_stack(event: Event) -> list[str]:
    """partition > mode > component, in words, for the detail panel."""
    partition = str(event.get("partition") or "")
    mode = _mode(event)
    where = "root partition" if partition == "root" else f"child partition {partition}"
    if mode == "hypervisor":
        return ["hypervisor", str(event.get("component") or "hypervisor")] + (
            [f"on behalf of {where}"] if partition else []
        )
    return [where, MODE_NAMES[mode], str(event.get("component") or "")]


def mode_transition(event: Event, previous: Event | None) -> str:
    """Text such as "kernel -> user" for a mode_switch, or for a change of partition/mode since the previous step."""
    if event.get("kind") == "mode_switch" and event.get("to_mode"):
        to_mode = str(event["to_mode"])
        from_mode = "kernel" if to_mode == "user" else "user"
        return f"{from_mode} -> {to_mode}"
    if previous is None:
        return ""
    before = (previous.get("partition"), _mode(previous))
    after = (event.get("partition"), _mode(event))
    if before == after:
        return ""
    if before[0] == after[0]:
        return f"{before[1]} -> {after[1]}"
    return f"{before[0]} {before[1]} -> {after[0]} {after[1]}"


def viewer_context(trace: dict[str, Any], viewer_id: str, label: str = "") -> dict[str, Any]:
    """Everything the `labs/_trace_viewer.html` fragment renders for one trace (ids, diagram, list, first step)."""
    vid = slug(viewer_id or "trace")
    # Number the events of this trace from 1, like its steps: "step 5" and "event #5" are the same thing (the stored
    # seq counts events over the whole attempt's replay, which no learner can relate to this trace).
    events: list[Event] = [{**event, "seq": n} for n, event in enumerate(trace.get("events") or [], start=1)]
    kinds: dict[str, int] = {}
    for event in events:
        kind = str(event.get("kind") or "")
        kinds[kind] = kinds.get(kind, 0) + 1
    first = events[0] if events else None
    params = trace.get("params") or {}
    arithmetic = params.get("arithmetic") if isinstance(params, dict) else None
    return {
        "id": vid,
        "prefix": f"tv-{vid}",
        "script_id": f"tv-{vid}-data",
        "label": label or str(trace.get("path") or "Trace").capitalize(),
        "count": len(events),
        "diagram": diagram_for(trace),
        "items": [
            {
                "n": n,
                "seq": event.get("seq", n),
                "summary": event.get("summary", ""),
                "kind": event.get("kind", ""),
                "box": component_box_id(event),
            }
            for n, event in enumerate(events, start=1)
        ],
        "kinds": list(kinds.items()),
        "first": first,
        "first_box": component_box_id(first) if first else "",
        "first_fields": [(key, _field_value(value)) for key, value in first.items()] if first else [],
        "first_stack": layer_stack(first) if first else [],
        "first_transition": mode_transition(first, None) if first else "",
        "counters": sorted((str(k), v) for k, v in (trace.get("counters") or {}).items()),
        "arithmetic": [str(line) for line in arithmetic] if isinstance(arithmetic, list) else [],
        # What static/js/trace-viewer.js needs per step, computed here so the rules live in one place (this module).
        "script_data": {
            "events": events,
            "boxes": [component_box_id(event) for event in events],
            "stacks": [layer_stack(event) for event in events],
            "transitions": [mode_transition(event, events[n - 1] if n else None) for n, event in enumerate(events)],
        },
    }
