"""Virtual disks of Hyper-V 2008/R2: fixed, dynamically expanding and differencing VHDs, and snapshots (.avhd).

docs/sources.md#virtual-disks ([recalled]): a **fixed** VHD takes its whole size on the host's disk when it
is created; a **dynamically expanding** one grows as the guest writes; a **differencing** one records only
the changes against a read-only parent. A snapshot of a VM creates an ``.avhd`` differencing file per VHD;
the VM then writes into it. Deleting a snapshot in 2008/R2 does not merge the ``.avhd`` back at once: the
merge happens when the VM is shut down (turned off), not while it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidParameter, InvalidState, NotFound

__all__ = ["VHD_TYPES", "Disks", "Vhd"]

VHD_TYPES = ("fixed", "dynamic", "differencing")
DYNAMIC_HEADER_MB = 2
"""[model] Size of an empty dynamically expanding or differencing VHD (footer, header and block table), in MB."""


@dataclass
class Vhd:
    """One virtual hard disk file: its type, virtual size, size on the host's disk and parent (differencing)."""

    path: str
    type: str
    size_gb: int
    file_mb: int
    parent: str | None = None
    vm: str | None = None  # attached to this VM (IDE)
    snapshot_of: str | None = None  # an .avhd: the VHD it records changes for

    def to_dict(self) -> dict[str, Any]:
        """Return the disk's fields (sizes in GB and MB)."""
        return {
            "path": self.path,
            "type": self.type,
            "size_gb": self.size_gb,
            "file_mb": self.file_mb,
            "parent": self.parent,
            "vm": self.vm,
            "snapshot_of": self.snapshot_of,
        }


@dataclass
class Disks:
    """The host's VHD files and each VM's snapshots; every method validates before it changes anything."""

    files: dict[str, Vhd] = field(default_factory=dict)
    snapshots: dict[str, list[str]] = field(default_factory=dict)  # vm -> snapshot names, oldest first
    pending_merges: dict[str, list[str]] = field(default_factory=dict)  # vm -> .avhd files awaiting a shutdown

    def vhd(self, path: object) -> Vhd:
        """The VHD at `path` or NotFound listing the known ones."""
        if isinstance(path, str) and path in self.files:
            return self.files[path]
        raise NotFound(f"no VHD {path!r} (known: {', '.join(sorted(self.files)) or 'none'})", path="path")

    def create(self, path: str, vhd_type: str, size_gb: int | None, parent: str | None) -> Vhd:
        """Create a VHD: fixed and dynamic take `size_gb`; differencing takes a `parent` and inherits its size."""
        if not isinstance(path, str) or not path.lower().endswith(".vhd"):
            raise InvalidParameter("a VHD path ends in .vhd", path="path")
        if path in self.files:
            raise InvalidParameter(f"{path} already exists", path="path")
        if vhd_type not in VHD_TYPES:
            raise InvalidParameter(f"type must be one of {', '.join(VHD_TYPES)}, got {vhd_type!r}", path="type")
        if vhd_type == "differencing":
            if parent is None:
                raise InvalidParameter("a differencing VHD needs a parent", path="parent")
            base = self.vhd(parent)
            disk = Vhd(path=path, type=vhd_type, size_gb=base.size_gb, file_mb=DYNAMIC_HEADER_MB, parent=base.path)
        else:
            if parent is not None:
                raise InvalidParameter(f"a {vhd_type} VHD has no parent", path="parent")
            if isinstance(size_gb, bool) or not isinstance(size_gb, int) or not 1 <= size_gb <= 2040:
                raise InvalidParameter(f"size_gb must be 1-2040 (a VHD holds at most 2 TB), got {size_gb!r}",
                                       path="size_gb")
            file_mb = size_gb * 1024 if vhd_type == "fixed" else DYNAMIC_HEADER_MB
            disk = Vhd(path=path, type=vhd_type, size_gb=size_gb, file_mb=file_mb)
        self.files[path] = disk
        return disk

    def attach(self, vm: str, path: str) -> Vhd:
        """Attach a VHD to `vm`; a parent of a differencing disk stays read-only and cannot be attached."""
        disk = self.vhd(path)
        if disk.vm is not None:
            raise InvalidState(f"{path} is already attached to {disk.vm}", path="path")
        children = [d.path for d in self.files.values() if d.parent == path]
        if children:
            raise InvalidState(f"{path} is the read-only parent of {children[0]}: attach the child instead",
                               path="path")
        disk.vm = vm
        return disk

    def write(self, vm: str, mb: int) -> list[Vhd]:
        """Record `mb` MB written by `vm`: it lands in the newest .avhd if there is one, else in the VHD itself."""
        if isinstance(mb, bool) or not isinstance(mb, int) or mb <= 0:
            raise InvalidParameter(f"mb must be a positive whole number, got {mb!r}", path="mb")
        targets = [d for d in self.files.values() if d.vm == vm]
        if not targets:
            raise InvalidState(f"{vm} has no virtual disk attached", path="vm")
        for disk in targets:
            if disk.type != "fixed":
                disk.file_mb = min(disk.file_mb + mb, disk.size_gb * 1024 + DYNAMIC_HEADER_MB)
        return targets

    def snapshot(self, vm: str, name: str, guid: str) -> list[Vhd]:
        """Take a snapshot: each VHD of `vm` gets a new .avhd child the VM writes into from now on."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("a snapshot needs a name", path="name")
        if name in self.snapshots.get(vm, []):
            raise InvalidParameter(f"{vm} already has a snapshot named {name!r}", path="name")
        current = sorted((d for d in self.files.values() if d.vm == vm), key=lambda d: d.path)
        if not current:
            raise InvalidState(f"{vm} has no virtual disk attached", path="vm")
        created: list[Vhd] = []
        for disk in current:
            base = disk.snapshot_of or disk.path
            avhd = f"{base[:-4]}_{guid}.avhd"
            disk.vm = None
            child = Vhd(path=avhd, type="differencing", size_gb=disk.size_gb, file_mb=DYNAMIC_HEADER_MB,
                        parent=disk.path, vm=vm, snapshot_of=base)
            self.files[avhd] = child
            created.append(child)
        self.snapshots.setdefault(vm, []).append(name)
        return created

    def _chain(self, vm: str) -> list[Vhd]:
        """The .avhd files of `vm`'s disks, newest first, down to (not including) each base VHD."""
        chain: list[Vhd] = []
        for disk in sorted((d for d in self.files.values() if d.vm == vm), key=lambda d: d.path):
            while disk.snapshot_of is not None and disk.parent is not None:
                chain.append(disk)
                disk = self.files[disk.parent]
        return chain

    def delete_snapshot(self, vm: str, name: str) -> list[str]:
        """Delete a snapshot from the tree; its .avhd files wait for the VM's shutdown to be merged (2008/R2)."""
        if name not in self.snapshots.get(vm, []):
            known = ", ".join(self.snapshots.get(vm, [])) or "none"
            raise NotFound(f"{vm} has no snapshot named {name!r} (snapshots: {known})", path="name")
        self.snapshots[vm].remove(name)
        waiting = sorted(d.path for d in self._chain(vm))
        self.pending_merges[vm] = waiting
        return waiting

    def merge_on_shutdown(self, vm: str) -> list[str]:
        """Merge the .avhd files of deleted snapshots into their base VHDs now that `vm` is off; return them.

        Only when every snapshot of the VM is deleted: a remaining snapshot still needs its .avhd chain."""
        if self.snapshots.get(vm) or not self.pending_merges.get(vm):
            return []
        merged: list[str] = []
        for avhd in self._chain(vm):  # newest first: each one folds into its parent
            assert avhd.parent is not None
            parent = self.files[avhd.parent]
            if parent.type != "fixed":
                parent.file_mb = min(
                    parent.file_mb + avhd.file_mb - DYNAMIC_HEADER_MB, parent.size_gb * 1024 + DYNAMIC_HEADER_MB
                )
            parent.vm = vm
            del self.files[avhd.path]
            merged.append(avhd.path)
        self.pending_merges.pop(vm, None)
        return merged

    def to_dict(self) -> dict[str, Any]:
        """Return every VHD (sorted by path), each VM's snapshots and pending merges."""
        return {
            "vhds": [self.files[p].to_dict() for p in sorted(self.files)],
            "snapshots": {vm: list(names) for vm, names in sorted(self.snapshots.items()) if names},
            "pending_merges": {vm: list(paths) for vm, paths in sorted(self.pending_merges.items()) if paths},
        }
