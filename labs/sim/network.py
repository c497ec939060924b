"""Virtual networks of Hyper-V 2008/R2: external, internal and private switches, and VLAN IDs per VM adapter.

docs/sources.md#virtual-networks ([recalled]): an **external** network is bound to a physical NIC and
reaches the physical network (the management OS gets a virtual NIC on it unless that is turned off);
an **internal** one connects the VMs and the management OS; a **private** one the VMs only. A VLAN ID
is set per VM network adapter: two adapters on one switch talk only if both are untagged or both carry
the same VLAN ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import InvalidParameter, InvalidState, NotFound

__all__ = ["MANAGEMENT_OS", "PHYSICAL_NETWORK", "SWITCH_KINDS", "Adapter", "Networks", "VirtualSwitch"]

SWITCH_KINDS = ("external", "internal", "private")
MANAGEMENT_OS = "host"
"""The name `reach` uses for the management operating system (the root partition)."""
PHYSICAL_NETWORK = "physical"
"""The name `reach` uses for the physical network outside the host."""
VLAN_RANGE = (1, 4094)


@dataclass(frozen=True)
class VirtualSwitch:
    """One virtual network: its kind, the physical NIC it is bound to (external) and the management OS's share."""

    name: str
    kind: str
    nic: str | None
    management_os: bool  # the management OS has a virtual NIC on it (external: optional; internal: always)

    def to_dict(self) -> dict[str, Any]:
        """Return the switch's fields."""
        return {"name": self.name, "kind": self.kind, "nic": self.nic, "management_os": self.management_os}


@dataclass(frozen=True)
class Adapter:
    """A VM's network adapter on a switch, with its VLAN ID (None = untagged)."""

    vm: str
    switch: str
    vlan_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return the adapter's fields."""
        return {"vm": self.vm, "switch": self.switch, "vlan_id": self.vlan_id}


class Networks:
    """The host's virtual switches and the VMs' adapters; every method validates before it changes anything."""

    def __init__(self) -> None:
        self.switches: dict[str, VirtualSwitch] = {}
        self.adapters: dict[str, Adapter] = {}  # one adapter per VM in this model

    def create_switch(self, name: str, kind: str, nic: str | None = None, management_os: bool = True) -> VirtualSwitch:
        """Create a virtual network; an external one needs a physical NIC that no other external network uses."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("a virtual network needs a name", path="name")
        if any(s.lower() == name.lower() for s in self.switches):
            raise InvalidParameter(f"a virtual network named {name!r} already exists", path="name")
        if kind not in SWITCH_KINDS:
            raise InvalidParameter(f"kind must be one of {', '.join(SWITCH_KINDS)}, got {kind!r}", path="kind")
        if kind == "external":
            if not nic:
                raise InvalidParameter("an external virtual network is bound to a physical NIC: name it", path="nic")
            taken = [s.name for s in self.switches.values() if s.nic and s.nic.lower() == nic.lower()]
            if taken:
                raise InvalidState(f"the physical NIC {nic!r} is already bound to {taken[0]}", path="nic")
        elif nic:
            raise InvalidParameter(f"an {kind} virtual network has no physical NIC", path="nic")
        switch = VirtualSwitch(
            name=name,
            kind=kind,
            nic=nic if kind == "external" else None,
            management_os=(kind == "internal") or (kind == "external" and management_os),
        )
        self.switches[name] = switch
        return switch

    def switch(self, name: object) -> VirtualSwitch:
        """The switch named `name` (case-insensitive) or NotFound listing the known ones."""
        for known, switch in self.switches.items():
            if isinstance(name, str) and known.lower() == name.lower():
                return switch
        raise NotFound(f"no virtual network named {name!r} (known: {', '.join(sorted(self.switches)) or 'none'})",
                       path="switch")

    def connect(self, vm: str, switch: str, vlan_id: int | None) -> Adapter:
        """Connect `vm`'s network adapter to `switch` with `vlan_id` (1-4094, or None for untagged)."""
        target = self.switch(switch)
        if vlan_id is not None and (
            isinstance(vlan_id, bool) or not isinstance(vlan_id, int) or not VLAN_RANGE[0] <= vlan_id <= VLAN_RANGE[1]
        ):
            raise InvalidParameter(f"a VLAN ID is 1-4094 (or none), got {vlan_id!r}", path="vlan_id")
        adapter = Adapter(vm=vm, switch=target.name, vlan_id=vlan_id)
        self.adapters[vm] = adapter
        return adapter

    def reach(self, source: str, dest: str) -> tuple[bool, str]:
        """Whether `source` can talk to `dest` (VM names, MANAGEMENT_OS or PHYSICAL_NETWORK), and why."""
        ends = []
        for end in (source, dest):
            if end in (MANAGEMENT_OS, PHYSICAL_NETWORK) or end in self.adapters:
                ends.append(end)
            else:
                raise InvalidState(f"{end} has no network adapter on a virtual network", path="vm")
        a, b = ends
        if a == b:
            return True, f"{a} talks to itself"
        if PHYSICAL_NETWORK in (a, b) and MANAGEMENT_OS in (a, b):
            return True, "the management OS reaches the physical network through its own NIC"
        vm_ends = [e for e in (a, b) if e in self.adapters]
        if len(vm_ends) == 2:
            x, y = self.adapters[a], self.adapters[b]
            if x.switch != y.switch:
                return False, f"{a} is on {x.switch} and {b} on {y.switch}: different virtual networks"
            if x.vlan_id != y.vlan_id:
                return False, (
                    f"both are on {x.switch}, but {a} has VLAN {x.vlan_id or 'none (untagged)'} and {b} VLAN "
                    f"{y.vlan_id or 'none (untagged)'}: the switch keeps VLANs apart"
                )
            return True, f"both are on {x.switch} with the same VLAN ({x.vlan_id or 'untagged'})"
        vm = vm_ends[0]
        other = b if vm == a else a
        adapter = self.adapters[vm]
        switch = self.switches[adapter.switch]
        if other == MANAGEMENT_OS:
            if switch.kind == "private":
                return False, f"{switch.name} is a private network: VMs only, not the management OS"
            if not switch.management_os:
                return False, f"the management OS has no virtual NIC on the external network {switch.name}"
            return True, f"the management OS has a virtual NIC on the {switch.kind} network {switch.name}"
        if switch.kind != "external":
            return False, f"{switch.name} is an {switch.kind} network: it is not bound to a physical NIC"
        return True, f"{switch.name} is bound to the physical NIC {switch.nic}"

    def to_dict(self) -> dict[str, Any]:
        """Return the switches and adapters, sorted by name."""
        return {
            "switches": [self.switches[n].to_dict() for n in sorted(self.switches)],
            "adapters": [self.adapters[n].to_dict() for n in sorted(self.adapters)],
        }
