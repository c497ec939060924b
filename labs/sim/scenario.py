"""Load a scenario (YAML file or dict) into typed, frozen dataclasses.

A scenario describes the host hardware, firmware and OS, the users, the Authorization
Manager store, the VMs and (optionally) a failover cluster. Unknown keys, wrong types,
negative sizes and impossible values raise `ScenarioError` whose `path` is the dotted
field path, e.g. ``vms[1].memory_mb`` or ``host.bios.dep_enabled``.

Shape (every key optional unless marked *)::

    seed: 7                                # default seed when the caller gives none
    host:
      name: HV01                           # NetBIOS name (Msvm_ComputerSystem.Name of the host)
      memory_mb: 8192
      cpu: {vendor: intel|amd, arch: x64|x86|ia64, virtualization: true, slat: true, model: "..."}
      bios: {version: "A0", virtualization_enabled: true, dep_enabled: true,
             vt_option_available_from: "A01", versions: ["A0", "A01"],
             vt_change_needs_power_off: false}   # true: a VT change applies only after `reboot cold`
      os: {version: "2008"|"2008 R2", installation: full|core,
           edition: standard|enterprise|datacenter|hyper-v-server}
      hyperv_role: true                    # Hyper-V role installed
      bcd: {hypervisorlaunchtype: auto|off|null}   # null = not set (image applied to new hardware)
    users: {alice: {groups: [FinanceOps]}}
    authorization: {...}                   # handed as-is to azman.AzStore.from_scenario
    vms:
      - {name*: fin-sql01, guest: windows-enlightened, memory_mb: 1024, vcpus: 1,
         state: off|running|paused|saved, scope: Finance, node: HV01,
         backup: {backup_service_running, snapshot_on_vhd_volume, basic_disks_only,
                  volumes_support_shadow_copies, cluster_group_online, shadow_storage_same_volume}}
    cluster:
      vms_on_csv: true                     # false: the VM's cluster disk is dismounted and mounted on a move
      shared_storage: true                 # false: no storage both nodes reach (moves are refused)
      nodes: [{name*, cpu_vendor: intel|amd, edition: Enterprise|Datacenter|Standard|Web|"Hyper-V Server 2008 R2"...,
               clustered, subnet, csv_access, migration_network_gbps}]   # include the host itself by name
                                           # every node runs the host's os.version; 0 Gbps = no dedicated network
    params: {vm_exit_cycles: 2400, ...}    # overrides of params.CostModel fields
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from .errors import ScenarioError, SimError
from .guests import GUEST_KINDS, RENAMED_KINDS, BackupConditions
from .params import CostModel

CPU_VENDORS = ("intel", "amd")
CPU_ARCHES = ("x64", "x86", "ia64")
OS_VERSIONS = ("2008", "2008 R2")
INSTALLATIONS = ("full", "core")
EDITIONS = ("standard", "enterprise", "datacenter", "hyper-v-server")
LAUNCH_TYPES = ("auto", "off")
NODE_CPU_VENDORS = ("Intel", "AMD")
NODE_EDITIONS = ("Standard", "Enterprise", "Datacenter", "Web", "Hyper-V Server 2008", "Hyper-V Server 2008 R2")
"""Cluster node editions, as migration.EDITIONS names them."""
VM_INITIAL_STATES = ("off", "running", "paused", "saved")


def guest_kinds() -> tuple[str, ...]:
    """The guest kinds the simulator knows (guests.GUEST_KINDS)."""
    return GUEST_KINDS


@dataclass(frozen=True)
class CpuSpec:
    """The host processor: vendor, architecture, VT-x/AMD-V and SLAT (EPT/RVI) capability."""

    vendor: str = "intel"
    arch: str = "x64"
    virtualization: bool = True
    slat: bool = True
    model: str = ""


@dataclass(frozen=True)
class BiosSpec:
    """The firmware: version, VT and DEP settings, and from which version setup offers the VT option."""

    version: str = "1.0"
    virtualization_enabled: bool = True
    dep_enabled: bool = True
    vt_option_available_from: str | None = None
    versions: tuple[str, ...] = ()
    vt_change_needs_power_off: bool = False  # [mem] many machines apply a VT change only after a full power-off


@dataclass(frozen=True)
class OsSpec:
    """The root OS: Windows Server version, installation option (Full/Server Core) and edition."""

    version: str = "2008 R2"
    installation: str = "full"
    edition: str = "enterprise"


@dataclass(frozen=True)
class HostSpec:
    """The physical host."""

    name: str = "HV01"
    memory_mb: int = 8192
    cpu: CpuSpec = field(default_factory=CpuSpec)
    bios: BiosSpec = field(default_factory=BiosSpec)
    os: OsSpec = field(default_factory=OsSpec)
    hyperv_role: bool = True
    hypervisorlaunchtype: str | None = "auto"


@dataclass(frozen=True)
class VmSpec:
    """A VM present when the scenario starts."""

    name: str
    guest: str = "windows-enlightened"
    memory_mb: int = 512
    vcpus: int = 1
    state: str = "off"
    scope: str = ""
    node: str = ""
    backup: BackupConditions = field(default_factory=BackupConditions)


@dataclass(frozen=True)
class NodeSpec:
    """A failover-cluster node (see migration.Node)."""

    name: str
    cpu_vendor: str = "intel"
    edition: str = "Enterprise"
    clustered: bool = True
    subnet: str = "10.0.0.0/24"
    csv_access: bool = True
    migration_network_gbps: float = 1.0


@dataclass(frozen=True)
class ClusterSpec:
    """An optional failover cluster the host belongs to."""

    nodes: tuple[NodeSpec, ...] = ()
    vms_on_csv: bool = True
    shared_storage: bool = True  # both nodes reach the VM's storage (a CSV or a cluster disk that can move)


@dataclass(frozen=True)
class Scenario:
    """A whole scenario, validated."""

    host: HostSpec = field(default_factory=HostSpec)
    users: tuple[tuple[str, tuple[str, ...]], ...] = ()
    authorization: dict[str, Any] | None = None
    vms: tuple[VmSpec, ...] = ()
    cluster: ClusterSpec | None = None
    params: CostModel = field(default_factory=CostModel)
    seed: int = 0

    def cost_model(self) -> CostModel:
        """The cost model with this scenario's overrides applied."""
        return self.params


class _Reader:
    """Typed access to one mapping of the raw scenario, with the dotted path for errors."""

    def __init__(self, data: object, path: str, allowed: tuple[str, ...]) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScenarioError(f"must be a mapping, got {type(data).__name__}", path=path or "scenario")
        for key in data:
            if not isinstance(key, str) or key not in allowed:
                raise ScenarioError(f"unknown key {key!r} (allowed: {', '.join(allowed)})", path=self._join(path, key))
        self.data: dict[str, Any] = data
        self.path = path

    @staticmethod
    def _join(path: str, key: object) -> str:
        return f"{path}.{key}" if path else str(key)

    def sub(self, key: str) -> str:
        return self._join(self.path, key)

    def str_(self, key: str, default: str, choices: tuple[str, ...] | None = None) -> str:
        value = self.data.get(key, default)
        if value is False and choices is not None and "off" in choices:
            value = "off"  # YAML 1.1 reads a bare `off` as false
        if not isinstance(value, str):
            raise ScenarioError(f"must be a string, got {type(value).__name__}", path=self.sub(key))
        if choices is not None and value not in choices:
            raise ScenarioError(f"must be one of {', '.join(choices)}; got {value!r}", path=self.sub(key))
        return value

    def opt_str(self, key: str, default: str | None, choices: tuple[str, ...] | None = None) -> str | None:
        if key in self.data and self.data[key] is None:
            return None
        if key not in self.data and default is None:
            return None
        return self.str_(key, default or "", choices)

    def bool_(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ScenarioError(f"must be true or false, got {value!r}", path=self.sub(key))
        return value

    def int_(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ScenarioError(f"must be an integer, got {value!r}", path=self.sub(key))
        if value < minimum:
            what = "negative" if value < 0 else "too small"
            raise ScenarioError(f"must be >= {minimum}; got {value} ({what})", path=self.sub(key))
        return value

    def number(self, key: str, default: float) -> float:
        value = self.data.get(key, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ScenarioError(f"must be a non-negative number, got {value!r}", path=self.sub(key))
        return float(value)

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise ScenarioError("must be a list of strings", path=self.sub(key))
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ScenarioError(f"must be a string, got {item!r}", path=f"{self.sub(key)}[{i}]")
        return tuple(value)


def _cpu(data: object, path: str) -> CpuSpec:
    r = _Reader(data, path, ("vendor", "arch", "virtualization", "slat", "model"))
    return CpuSpec(
        vendor=r.str_("vendor", "intel", CPU_VENDORS),
        arch=r.str_("arch", "x64", CPU_ARCHES),
        virtualization=r.bool_("virtualization", True),
        slat=r.bool_("slat", True),
        model=r.str_("model", ""),
    )


def _bios(data: object, path: str) -> BiosSpec:
    keys = (
        "version",
        "virtualization_enabled",
        "dep_enabled",
        "vt_option_available_from",
        "versions",
        "vt_change_needs_power_off",
    )
    r = _Reader(data, path, keys)
    spec = BiosSpec(
        version=r.str_("version", "1.0"),
        virtualization_enabled=r.bool_("virtualization_enabled", True),
        dep_enabled=r.bool_("dep_enabled", True),
        vt_option_available_from=r.opt_str("vt_option_available_from", None),
        versions=r.str_list("versions"),
        vt_change_needs_power_off=r.bool_("vt_change_needs_power_off", False),
    )
    if spec.versions and spec.version not in spec.versions:
        raise ScenarioError(f"{spec.version!r} is not in versions {list(spec.versions)}", path=r.sub("version"))
    if spec.vt_option_available_from is not None:
        if spec.versions and spec.vt_option_available_from not in spec.versions:
            raise ScenarioError("must be one of the listed versions", path=r.sub("vt_option_available_from"))
        if spec.virtualization_enabled and bios_version_key(spec.version, spec.versions) < bios_version_key(
            spec.vt_option_available_from, spec.versions
        ):
            raise ScenarioError(
                f"BIOS {spec.version} has no virtualization option before {spec.vt_option_available_from}, "
                "so virtualization cannot be enabled",
                path=r.sub("virtualization_enabled"),
            )
    return spec


def bios_version_key(version: str, versions: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """Sort key for a BIOS version: its position in `versions` if listed, else a natural sort key."""
    if version in versions:
        return (0, versions.index(version))
    parts = tuple((1, int(tok)) if tok.isdigit() else (0, tok) for tok in re.findall(r"\d+|\D+", version))
    return (1, parts)


def _os(data: object, path: str) -> OsSpec:
    r = _Reader(data, path, ("version", "installation", "edition"))
    return OsSpec(
        version=r.str_("version", "2008 R2", OS_VERSIONS),
        installation=r.str_("installation", "full", INSTALLATIONS),
        edition=r.str_("edition", "enterprise", EDITIONS),
    )


def _host(data: object, path: str) -> HostSpec:
    r = _Reader(data, path, ("name", "memory_mb", "cpu", "bios", "os", "hyperv_role", "bcd"))
    name = r.str_("name", "HV01")
    if not name:
        raise ScenarioError("must not be empty", path=r.sub("name"))
    bcd = _Reader(r.data.get("bcd"), r.sub("bcd"), ("hypervisorlaunchtype",))
    cpu = _cpu(r.data.get("cpu"), r.sub("cpu"))
    if cpu.slat and not cpu.virtualization:
        raise ScenarioError(
            "impossible hardware: SLAT (EPT/RVI) is part of VT-x/AMD-V, so a processor without "
            "hardware-assisted virtualization cannot have it",
            path=r.sub("cpu.slat"),
        )
    role = r.bool_("hyperv_role", True)
    if role and cpu.arch != "x64":
        raise ScenarioError(
            f"impossible: the Hyper-V role exists only in x64 Windows Server 2008, and this processor is {cpu.arch}",
            path=r.sub("hyperv_role"),
        )
    return HostSpec(
        name=name,
        memory_mb=r.int_("memory_mb", 8192, minimum=1),
        cpu=cpu,
        bios=_bios(r.data.get("bios"), r.sub("bios")),
        os=_os(r.data.get("os"), r.sub("os")),
        hyperv_role=role,
        hypervisorlaunchtype=bcd.opt_str("hypervisorlaunchtype", "auto", LAUNCH_TYPES),
    )


def _vm(data: object, path: str, max_vcpus: int) -> VmSpec:
    r = _Reader(data, path, ("name", "guest", "memory_mb", "vcpus", "state", "scope", "node", "backup"))
    if "name" not in r.data:
        raise ScenarioError("is required", path=r.sub("name"))
    name = r.str_("name", "")
    if not name:
        raise ScenarioError("must not be empty", path=r.sub("name"))
    guest = r.data.get("guest")
    if isinstance(guest, str) and guest in RENAMED_KINDS:
        raise ScenarioError(RENAMED_KINDS[guest], path=r.sub("guest"))
    return VmSpec(
        name=name,
        backup=_backup(r.data.get("backup"), r.sub("backup")),
        guest=r.str_("guest", "windows-enlightened", guest_kinds()),
        memory_mb=r.int_("memory_mb", 512, minimum=1),
        vcpus=_vcpus(r, max_vcpus),
        state=r.str_("state", "off", VM_INITIAL_STATES),
        scope=r.str_("scope", ""),
        node=r.str_("node", ""),
    )


def _backup(data: object, path: str) -> BackupConditions:
    """A VM's optional `backup:` settings (what an online backup needs; every one defaults to true)."""
    names = tuple(f.name for f in fields(BackupConditions))
    r = _Reader(data, path, names)
    return BackupConditions(**{name: r.bool_(name, True) for name in names})


def _vcpus(r: _Reader, max_vcpus: int) -> int:
    vcpus = r.int_("vcpus", 1, minimum=1)
    if vcpus > max_vcpus:
        raise ScenarioError(f"must be <= {max_vcpus} (params.max_vcpus_per_vm)", path=r.sub("vcpus"))
    return vcpus


def _cluster(data: object, path: str) -> ClusterSpec:
    r = _Reader(data, path, ("nodes", "vms_on_csv", "shared_storage"))
    raw_nodes = r.data.get("nodes", [])
    if not isinstance(raw_nodes, list):
        raise ScenarioError("must be a list", path=r.sub("nodes"))
    nodes: list[NodeSpec] = []
    for i, raw in enumerate(raw_nodes):
        npath = f"{r.sub('nodes')}[{i}]"
        nr = _Reader(
            raw,
            npath,
            ("name", "cpu_vendor", "edition", "clustered", "subnet", "csv_access", "migration_network_gbps"),
        )
        if "name" not in nr.data:
            raise ScenarioError("is required", path=nr.sub("name"))
        node = NodeSpec(
            name=nr.str_("name", ""),
            cpu_vendor=nr.str_("cpu_vendor", "intel", CPU_VENDORS + NODE_CPU_VENDORS).lower(),
            edition=nr.str_("edition", "Enterprise", NODE_EDITIONS),
            clustered=nr.bool_("clustered", True),
            subnet=nr.str_("subnet", "10.0.0.0/24"),
            csv_access=nr.bool_("csv_access", True),
            migration_network_gbps=nr.number("migration_network_gbps", 1.0),
        )
        if any(n.name == node.name for n in nodes):
            raise ScenarioError(f"duplicate node name {node.name!r}", path=nr.sub("name"))
        nodes.append(node)
    return ClusterSpec(
        nodes=tuple(nodes), vms_on_csv=r.bool_("vms_on_csv", True), shared_storage=r.bool_("shared_storage", True)
    )


def _params(data: object, path: str) -> CostModel:
    names = tuple(f.name for f in dataclasses.fields(CostModel))
    r = _Reader(data, path, names)
    overrides = {key: r.int_(key, 0) for key in r.data}
    try:
        return CostModel(**overrides)
    except SimError as exc:
        raise ScenarioError(exc.message, path=f"{path}.{exc.path.split('.')[-1]}") from None


def load_scenario(source: str | Path | dict[str, Any] | Scenario) -> Scenario:
    """Validate a scenario given as a dict, a YAML file path, or an already built `Scenario`."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, (str, Path)):
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario file: {exc.strerror}", path=str(source)) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise ScenarioError(f"invalid YAML{where}", path=str(source)) from None
        return scenario_from_dict(data)
    return scenario_from_dict(source)


def scenario_from_dict(data: object) -> Scenario:
    """Validate a raw scenario mapping into a `Scenario`."""
    r = _Reader(data, "", ("seed", "host", "users", "authorization", "vms", "cluster", "params"))
    params = _params(r.data.get("params"), "params")
    host = _host(r.data.get("host"), "host")
    users_raw = r.data.get("users", {}) or {}
    if not isinstance(users_raw, dict):
        raise ScenarioError("must be a mapping of user name to {groups: [...]}", path="users")
    users: list[tuple[str, tuple[str, ...]]] = []
    for name in sorted(users_raw, key=str):
        if not isinstance(name, str) or not name:
            raise ScenarioError("user names must be non-empty strings", path=f"users.{name}")
        ur = _Reader(users_raw[name], f"users.{name}", ("groups",))
        users.append((name, ur.str_list("groups")))
    authorization = r.data.get("authorization")
    if authorization is not None and not isinstance(authorization, dict):
        raise ScenarioError("must be a mapping", path="authorization")
    vms_raw = r.data.get("vms", []) or []
    if not isinstance(vms_raw, list):
        raise ScenarioError("must be a list", path="vms")
    vms: list[VmSpec] = []
    for i, raw in enumerate(vms_raw):
        vm = _vm(raw, f"vms[{i}]", params.max_vcpus_per_vm)
        if any(v.name.lower() == vm.name.lower() for v in vms):
            raise ScenarioError(f"duplicate VM name {vm.name!r}", path=f"vms[{i}].name")
        vms.append(vm)
    cluster = _cluster(r.data["cluster"], "cluster") if r.data.get("cluster") is not None else None
    node_names = {n.name for n in cluster.nodes} if cluster else set()
    for i, vm in enumerate(vms):
        if vm.node and vm.node != host.name and vm.node not in node_names:
            raise ScenarioError(f"unknown node {vm.node!r}", path=f"vms[{i}].node")
    return Scenario(
        host=host,
        users=tuple(users),
        authorization=authorization,
        vms=tuple(vms),
        cluster=cluster,
        params=params,
        seed=r.int_("seed", 0),
    )
