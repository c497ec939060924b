"""Live Migration in Windows Server 2008 R2 and Quick Migration in 2008 (RTM): prerequisites and downtime.

Live migration phases (docs/sources.md#live-migration): setup (a skeleton VM on the destination)
-> full memory copy with dirty-page tracking -> iterative copies of the pages dirtied meanwhile ->
pause on the source and send the remaining pages plus CPU/device state (the **blackout**) -> hand
the VM's storage over (with CSV nothing changes owner: only the cluster group and storage handles
move; without CSV the disk is dismounted and mounted) -> resume on the destination -> unsolicited
ARP so switches learn the VM's new port -> the source cleans up.

Live migration is 2008 R2 only: a Windows Server 2008 (RTM) cluster is refused with the reason and
has Quick Migration instead (:func:`quick_migrate`; docs/sources.md#quick-migration): save the
VM's state to disk, move the cluster group, restore; the VM is down the whole time.

A dedicated migration network of 1 Gbps or more is a recommendation, not a requirement
(docs/sources.md#migration-network): :func:`network_warnings` says what is missing, and a slower
network shows up as more passes and a longer blackout.

Iteration stops after at most 10 passes in 2008 R2 (5 from 2012 R2), or earlier once the dirty
set is small; the blackout must stay within the TCP timeout so clients' connections survive.

The arithmetic (all in exact fractions, reported as rounded floats):

* pass 1 sends every page of memory;
* pass *n* sends the pages dirtied while pass *n-1* was on the wire:
  ``dirty_rate x duration(pass n-1)``, rounded up to whole pages and capped at the memory size;
* after each pass, stop when that dirty set is below ``stop_threshold_pages`` (converged) or when
  ``max_passes`` passes have run (not converged);
* blackout = (remaining dirty pages + device state) / bandwidth + switchover overhead + storage handoff.

Units: MB means MiB (2**20 bytes); pages are ``page_size_kb`` KiB; bandwidth is MB/s.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from typing import Any

from labs.sim.errors import InvalidParameter, NotSupported
from labs.sim.trace import Trace

__all__ = [
    "CPU_VENDORS",
    "DEFAULT_MIGRATION_PARAMS",
    "EDITIONS",
    "LIVE_MIGRATION_EDITIONS",
    "MigrationParams",
    "MigrationRequest",
    "MigrationResult",
    "Node",
    "QuickMigrationParams",
    "QuickMigrationRequest",
    "QuickMigrationResult",
    "bandwidth_mb_s",
    "check_prerequisites",
    "check_quick_prerequisites",
    "effective_network_gbps",
    "migrate",
    "network_warnings",
    "quick_migrate",
]

CPU_VENDORS = ("Intel", "AMD")
#: Editions a Node may name; only :data:`LIVE_MIGRATION_EDITIONS` can live-migrate.
EDITIONS = ("Standard", "Enterprise", "Datacenter", "Web", "Hyper-V Server 2008", "Hyper-V Server 2008 R2")
#: docs/sources.md#live-migration: "Enterprise, Datacenter, or Hyper-V Server 2008 R2".
LIVE_MIGRATION_EDITIONS = ("Enterprise", "Datacenter", "Hyper-V Server 2008 R2")
#: Editions with Failover Clustering, hence Quick Migration ([mem]: Hyper-V Server 2008 RTM has no clustering).
QUICK_MIGRATION_EDITIONS = ("Enterprise", "Datacenter", "Hyper-V Server 2008 R2")
#: Failover Clustering limit in 2008 R2 (docs/sources.md#live-migration).
MAX_CLUSTER_NODES = 16
#: Windows Server versions a node may run; live migration needs the second.
OS_VERSIONS = ("2008", "2008 R2")
#: docs/sources.md#migration-network: the recommended dedicated live-migration network, in Gbps.
RECOMMENDED_NETWORK_GBPS = 1.0

_MIB = 1024 * 1024


def bandwidth_mb_s(gbps: float) -> float:
    """Return the payload bandwidth in MB/s (MiB/s) of a `gbps` link: gbps x 10**9 / 8 / 2**20.

    1 Gbps = 125,000,000 bytes/s = about 119.2 MB/s; protocol overhead is ignored (a documented
    simplification: real throughput is somewhat lower).
    """
    return float(Fraction(str(gbps)) * 1_000_000_000 / 8 / _MIB)


def _check_number(value: Any, path: str, *, minimum: float = 0, strict: bool = False, integer: bool = False) -> None:
    """Raise InvalidParameter at `path` unless `value` is a finite number >= (or > if strict) `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        kind = "a whole number" if integer else "a number"
        raise InvalidParameter(f"expected {kind}, got {value!r}", path=path)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidParameter(f"expected a finite number, got {value!r}", path=path)
    if value < minimum or (strict and value == minimum):
        relation = "greater than" if strict else "at least"
        raise InvalidParameter(f"must be {relation} {minimum}, got {value}", path=path)


@dataclass(frozen=True)
class Node:
    """A Windows Server 2008 R2 Hyper-V host that might take part in a live migration."""

    name: str
    cpu_vendor: str  # "Intel" | "AMD"
    edition: str  # one of EDITIONS
    clustered: bool  # member of a Failover Cluster
    subnet: str  # e.g. "10.0.1.0/24"
    csv_access: bool  # can reach the Cluster Shared Volumes
    migration_network_gbps: float  # 0 = no dedicated migration network (it shares the cluster networks)
    cluster: str = ""  # cluster name; "" = unnamed (not compared)
    os_version: str = "2008 R2"  # "2008" (RTM: Quick Migration only) or "2008 R2"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameter("a node needs a name", path="node.name")
        if self.cpu_vendor not in CPU_VENDORS:
            raise InvalidParameter(
                f"cpu_vendor must be one of {', '.join(CPU_VENDORS)}, got {self.cpu_vendor!r}", path="node.cpu_vendor"
            )
        if self.edition not in EDITIONS:
            raise InvalidParameter(
                f"edition must be one of {', '.join(EDITIONS)}, got {self.edition!r}", path="node.edition"
            )
        _check_number(self.migration_network_gbps, "node.migration_network_gbps")
        if self.os_version not in OS_VERSIONS:
            raise InvalidParameter(
                f"os_version must be one of {', '.join(OS_VERSIONS)}, got {self.os_version!r}", path="node.os_version"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the node's fields (bandwidth in Gbps)."""
        return dict(sorted(asdict(self).items()))


def _check_cluster_pair(source: Node, dest: Node, what: str, editions: tuple[str, ...]) -> None:
    """Refuse (NotSupported) a move between `source` and `dest` that is not between two nodes of one cluster."""
    if source.name.casefold() == dest.name.casefold():
        raise NotSupported(
            f"source and destination are the same node ({source.name}); {what} moves a VM to another "
            "node of the cluster",
            path="destination.name",
        )
    for role, node in (("source", source), ("destination", dest)):
        if node.edition not in editions:
            raise NotSupported(
                f"{node.name} runs {node.edition}; {what} needs Windows Server 2008 R2 Enterprise, "
                "Datacenter or Hyper-V Server 2008 R2"
                if what == "live migration"
                else f"{node.name} runs {node.edition}; {what} needs Failover Clustering: Enterprise or Datacenter "
                "(or Hyper-V Server 2008 R2)",
                path=f"{role}.edition",
            )
    for role, node in (("source", source), ("destination", dest)):
        if not node.clustered:
            raise NotSupported(
                f"{node.name} is not a Failover Cluster node; {what} works only between nodes of "
                f"one failover cluster (up to {MAX_CLUSTER_NODES} nodes)",
                path=f"{role}.clustered",
            )
    if source.cluster and dest.cluster and source.cluster.casefold() != dest.cluster.casefold():
        raise NotSupported(
            f"{source.name} is in cluster {source.cluster} but {dest.name} is in cluster {dest.cluster}; "
            "both nodes must belong to the same failover cluster",
            path="destination.cluster",
        )


def _check_storage(source: Node, dest: Node, vm_on_csv: bool, shared_storage: bool) -> None:
    """Refuse a move when the VM's storage is not shared by both nodes (CSV is recommended, not required)."""
    if not shared_storage:
        raise NotSupported(
            "the VM's storage is not shared: both nodes must reach its VHDs and configuration "
            "(Cluster Shared Volumes are recommended)",
            path="vm.storage",
        )
    if vm_on_csv:
        for role, node in (("source", source), ("destination", dest)):
            if not node.csv_access:
                raise NotSupported(
                    f"{node.name} cannot reach the Cluster Shared Volume holding the VM", path=f"{role}.csv_access"
                )


def check_prerequisites(source: Node, dest: Node, vm_on_csv: bool, shared_storage: bool = True) -> None:
    """Raise NotSupported with the precise reason when `source` cannot live-migrate a VM to `dest`; else return None.

    Checks in this order (the first failure is reported): same node, Windows Server 2008 R2, editions,
    Failover Clustering, same cluster, CPU vendor, subnet, shared storage (CSV recommended). The migration
    network is not a prerequisite (docs/sources.md#migration-network): see :func:`network_warnings`.
    """
    if source.name.casefold() == dest.name.casefold():
        _check_cluster_pair(source, dest, "live migration", LIVE_MIGRATION_EDITIONS)
    for role, node in (("source", source), ("destination", dest)):
        if node.os_version != "2008 R2":
            raise NotSupported(
                f"{node.name} runs Windows Server 2008 (RTM): live migration arrived with Windows Server 2008 R2. "
                "A 2008 RTM failover cluster moves a VM with Quick Migration (save its state, move the cluster "
                "group, restore it on the other node), with downtime: use quick-migrate",
                path=f"{role}.os_version",
            )
    _check_cluster_pair(source, dest, "live migration", LIVE_MIGRATION_EDITIONS)
    if source.cpu_vendor != dest.cpu_vendor:
        raise NotSupported(
            f"{source.name} has an {source.cpu_vendor} processor and {dest.name} an {dest.cpu_vendor} one; "
            "a running VM cannot move across CPU vendors. Processor compatibility mode only hides differences "
            "between generations of the same vendor",
            path="destination.cpu_vendor",
        )
    if source.subnet != dest.subnet:
        raise NotSupported(
            f"{source.name} is on subnet {source.subnet} and {dest.name} on {dest.subnet}; the VM keeps its IP "
            "address, so both nodes must be on the same subnet",
            path="destination.subnet",
        )
    _check_storage(source, dest, vm_on_csv, shared_storage)


def check_quick_prerequisites(source: Node, dest: Node, vm_on_csv: bool, shared_storage: bool = True) -> None:
    """Raise NotSupported with the reason when `source` cannot quick-migrate a VM to `dest` (2008 or 2008 R2).

    Checks: same node, editions with Failover Clustering, clustered, same cluster, CPU vendor (a saved
    state does not restore on another vendor's processor), shared storage.
    """
    _check_cluster_pair(source, dest, "quick migration", QUICK_MIGRATION_EDITIONS)
    if source.cpu_vendor != dest.cpu_vendor:
        raise NotSupported(
            f"{source.name} has an {source.cpu_vendor} processor and {dest.name} an {dest.cpu_vendor} one; "
            "a saved state does not restore on another vendor's processor",
            path="destination.cpu_vendor",
        )
    _check_storage(source, dest, vm_on_csv, shared_storage)


def effective_network_gbps(source: Node, dest: Node, params: MigrationParams | None = None) -> float:
    """Return the Gbps a live migration gets: the slower dedicated network, or a share of the cluster networks."""
    p = params if params is not None else DEFAULT_MIGRATION_PARAMS
    dedicated = min(source.migration_network_gbps, dest.migration_network_gbps)
    if dedicated > 0:
        return dedicated
    return p.shared_network_mbps / 1000


def network_warnings(source: Node, dest: Node, params: MigrationParams | None = None) -> list[str]:
    """Return warnings (never refusals) when the nodes lack the recommended dedicated 1 Gbps migration network."""
    p = params if params is not None else DEFAULT_MIGRATION_PARAMS
    warnings: list[str] = []
    for node in (source, dest):
        if node.migration_network_gbps <= 0:
            warnings.append(
                f"{node.name} has no dedicated live-migration network: Microsoft recommends one of 1 Gbps or more. "
                f"The migration shares the cluster networks enabled for it (model: {p.shared_network_mbps} Mbps), "
                "so expect more passes and a longer blackout"
            )
        elif node.migration_network_gbps < RECOMMENDED_NETWORK_GBPS:
            warnings.append(
                f"{node.name}'s migration network is {node.migration_network_gbps:g} Gbps, below the recommended "
                "1 Gbps: each pass takes longer, so expect more passes and a longer blackout"
            )
    return warnings


@dataclass(frozen=True)
class MigrationParams:
    """Named, documented parameters of the pre-copy model (times in ms, sizes in pages or KB)."""

    #: [sheet] At most 10 memory passes in 2008 R2 (5 from 2012 R2). Pass 1 is the full copy.
    max_passes: int = 10
    #: [choice] Stop once fewer than this many pages were dirtied during the last pass. Hyper-V's own
    #: threshold is not published; 50 pages is Xen's rule (Clark et al., NSDI 2005).
    stop_threshold_pages: int = 50
    #: [arch] x86 page size in KB.
    page_size_kb: int = 4
    #: [approximate] How long a blackout clients' TCP sessions tolerate before applications notice. No single
    #: published figure; 5 s is a conservative teaching value (TCP retransmits for longer before resetting).
    tcp_timeout_budget_ms: int = 5_000
    #: [model] CPU registers plus device state sent during the blackout, in KB.
    device_state_kb: int = 512
    #: [model] Pausing the source, restoring state and resuming on the destination, in ms (Xen's measured
    #: whole downtimes were 60 ms and 210 ms: Clark et al. 2005).
    switchover_overhead_ms: int = 20
    #: [model] Handing the VM's storage (CSV) over to the destination, in ms.
    storage_handoff_ms: int = 10
    #: [model] Creating the skeleton VM on the destination, in ms (before any memory moves; VM still running).
    setup_ms: int = 1_000
    #: [model] Source cleanup after the VM runs on the destination, in ms.
    cleanup_ms: int = 500
    #: [model] Bandwidth a live migration gets, in Mbps, when there is no dedicated migration network and it
    #: shares the cluster networks (half of a 1 Gbps network; docs/sources.md#migration-network).
    shared_network_mbps: int = 500

    def __post_init__(self) -> None:
        for f in fields(self):
            minimum = 1 if f.name in ("max_passes", "page_size_kb") else 0
            _check_number(getattr(self, f.name), f"params.{f.name}", minimum=minimum, integer=True)

    def to_dict(self) -> dict[str, Any]:
        """Return every parameter by name."""
        return dict(sorted(asdict(self).items()))


DEFAULT_MIGRATION_PARAMS = MigrationParams()


@dataclass(frozen=True)
class MigrationRequest:
    """One VM to move: its memory, how fast it dirties memory, and the migration network's bandwidth.

    ``bandwidth_mb_s`` defaults to the payload rate of ``network_gbps`` (1 Gbps -> about 119.2 MB/s).
    """

    vm_name: str
    memory_mb: int
    dirty_mb_s: float
    bandwidth_mb_s: float | None = None
    network_gbps: float = 1.0
    source: str = "source"
    destination: str = "destination"
    vm_on_csv: bool = True  # with CSV nothing changes owner; without it the disk is dismounted and mounted

    def __post_init__(self) -> None:
        if not isinstance(self.vm_name, str) or not self.vm_name.strip():
            raise InvalidParameter("the VM needs a name", path="request.vm_name")
        _check_number(self.memory_mb, "request.memory_mb", minimum=1, integer=True)
        _check_number(self.dirty_mb_s, "request.dirty_mb_s")
        _check_number(self.network_gbps, "request.network_gbps", strict=True)
        if self.bandwidth_mb_s is not None:
            _check_number(self.bandwidth_mb_s, "request.bandwidth_mb_s", strict=True)

    @property
    def effective_bandwidth_mb_s(self) -> float:
        """Return the bandwidth used, in MB/s: the explicit value or the network's payload rate."""
        return self.bandwidth_mb_s if self.bandwidth_mb_s is not None else bandwidth_mb_s(self.network_gbps)

    def to_dict(self) -> dict[str, Any]:
        """Return the request's fields plus the effective bandwidth (MB/s)."""
        d = dict(asdict(self))
        d["effective_bandwidth_mb_s"] = round(self.effective_bandwidth_mb_s, 3)
        return dict(sorted(d.items()))


@dataclass(frozen=True)
class MigrationPass:
    """One memory pass: what was sent, how long it took, and what got dirtied meanwhile."""

    number: int
    pages_sent: int
    mb_sent: float
    seconds: float
    dirty_pages_after: int
    dirty_mb_after: float

    def to_dict(self) -> dict[str, Any]:
        """Return the pass (MB, seconds, pages)."""
        return {
            "pass": self.number,
            "pages_sent": self.pages_sent,
            "mb_sent": self.mb_sent,
            "seconds": self.seconds,
            "dirty_pages_after": self.dirty_pages_after,
            "dirty_mb_after": self.dirty_mb_after,
        }


@dataclass(frozen=True)
class MigrationResult:
    """The outcome of a simulated live migration."""

    request: MigrationRequest
    params: MigrationParams
    passes: tuple[MigrationPass, ...]
    phases: tuple[dict[str, Any], ...]
    final_pages: int
    total_pages_sent: int
    bytes_sent: int
    total_mb_sent: float
    total_seconds: float
    blackout_ms: float
    converged: bool
    stop_reason: str
    within_tcp_timeout: bool
    explanation: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return passes, totals (MB, bytes, seconds), blackout in ms, verdicts, phases and explanation."""
        return {
            "vm": self.request.vm_name,
            "request": self.request.to_dict(),
            "params": self.params.to_dict(),
            "passes": [p.to_dict() for p in self.passes],
            "phases": [dict(p) for p in self.phases],
            "final_pages": self.final_pages,
            "total_pages_sent": self.total_pages_sent,
            "bytes_sent": self.bytes_sent,
            "total_mb_sent": self.total_mb_sent,
            "total_seconds": self.total_seconds,
            "blackout_ms": self.blackout_ms,
            "converged": self.converged,
            "stop_reason": self.stop_reason,
            "within_tcp_timeout": self.within_tcp_timeout,
            "explanation": list(self.explanation),
        }


def _r(x: Fraction, digits: int = 3) -> float:
    """Round an exact fraction to a float with `digits` decimals."""
    return round(float(x), digits)


def _ns(seconds: Fraction) -> int:
    """Convert seconds to whole nanoseconds (rounded down)."""
    return int(seconds * 1_000_000_000)


def migrate(
    request: MigrationRequest,
    *,
    params: MigrationParams = DEFAULT_MIGRATION_PARAMS,
    trace: Trace | None = None,
) -> MigrationResult:
    """Simulate the live migration of `request` (prerequisites are :func:`check_prerequisites`' job).

    Returns passes, MB and bytes sent, total seconds, blackout in ms, whether the pre-copy converged and
    why it stopped. With `trace`, emits one event per phase and per pass (partition "root", mode "user").
    """
    if not isinstance(request, MigrationRequest):
        raise InvalidParameter("expected a MigrationRequest", path="request")
    if not isinstance(params, MigrationParams):
        raise InvalidParameter("expected MigrationParams", path="params")
    p = params
    page_bytes = p.page_size_kb * 1024
    memory_pages = request.memory_mb * _MIB // page_bytes
    bw = Fraction(str(request.effective_bandwidth_mb_s)) * _MIB  # bytes per second
    dirty_rate = Fraction(str(request.dirty_mb_s)) * _MIB  # bytes per second
    lines: list[str] = [
        f"memory {request.memory_mb:,} MB = {memory_pages:,} pages of {p.page_size_kb} KB; "
        f"bandwidth {_r(bw / _MIB)} MB/s; VM dirties {request.dirty_mb_s} MB/s"
    ]

    def mb(pages: int) -> float:
        return _r(Fraction(pages * page_bytes, _MIB))

    passes: list[MigrationPass] = []
    to_send = memory_pages
    dirty_after = 0
    converged = False
    while True:
        number = len(passes) + 1
        seconds = Fraction(to_send * page_bytes) / bw
        dirty_after = min(memory_pages, math.ceil(dirty_rate * seconds / page_bytes))
        passes.append(
            MigrationPass(
                number=number,
                pages_sent=to_send,
                mb_sent=mb(to_send),
                seconds=_r(seconds, 6),
                dirty_pages_after=dirty_after,
                dirty_mb_after=mb(dirty_after),
            )
        )
        what = "full copy of memory" if number == 1 else "pages dirtied during the previous pass"
        lines.append(
            f"pass {number}: {what}: {to_send:,} pages ({mb(to_send)} MB) / {_r(bw / _MIB)} MB/s = "
            f"{_r(seconds)} s; meanwhile {request.dirty_mb_s} MB/s x {_r(seconds)} s -> {dirty_after:,} pages dirty"
            + (" (capped at memory size)" if dirty_after == memory_pages and request.dirty_mb_s > 0 else "")
        )
        if dirty_after < p.stop_threshold_pages:
            converged = True
            stop_reason = "dirty set below threshold"
            lines.append(f"{dirty_after:,} dirty pages < threshold {p.stop_threshold_pages}: stop iterating")
            break
        if number >= p.max_passes:
            stop_reason = f"reached the {p.max_passes}-pass limit"
            lines.append(
                f"{dirty_after:,} dirty pages is still >= {p.stop_threshold_pages} after {number} passes: "
                f"the {p.max_passes}-pass limit forces the switchover"
            )
            break
        to_send = dirty_after

    final_pages = dirty_after
    state_bytes = p.device_state_kb * 1024
    final_bytes = final_pages * page_bytes + state_bytes
    copy_seconds = Fraction(final_bytes) / bw
    blackout_s = copy_seconds + Fraction(p.switchover_overhead_ms + p.storage_handoff_ms, 1000)
    blackout_ms = _r(blackout_s * 1000)
    lines.append(
        f"blackout: ({final_pages:,} pages + {p.device_state_kb} KB device state) / {_r(bw / _MIB)} MB/s = "
        f"{_r(copy_seconds * 1000)} ms + switchover {p.switchover_overhead_ms} ms + storage handoff "
        f"{p.storage_handoff_ms} ms = {blackout_ms} ms"
    )
    within = blackout_s * 1000 <= p.tcp_timeout_budget_ms
    lines.append(
        f"{blackout_ms} ms is {'within' if within else 'beyond'} the TCP timeout budget of "
        f"{p.tcp_timeout_budget_ms:,} ms" + ("" if within else ": clients' connections are likely to drop")
    )

    total_pages = sum(x.pages_sent for x in passes) + final_pages
    bytes_sent = total_pages * page_bytes + state_bytes
    precopy_s = sum((Fraction(x.pages_sent * page_bytes) / bw for x in passes), Fraction(0))
    setup_s = Fraction(p.setup_ms, 1000)
    cleanup_s = Fraction(p.cleanup_ms, 1000)
    total_s = setup_s + precopy_s + blackout_s + cleanup_s
    lines.append(
        f"total: setup {p.setup_ms} ms + pre-copy {_r(precopy_s)} s + blackout {blackout_ms} ms + cleanup "
        f"{p.cleanup_ms} ms = {_r(total_s)} s; {bytes_sent:,} bytes sent"
    )

    src, dst, vm = request.source, request.destination, request.vm_name
    phases: list[dict[str, Any]] = [
        {
            "phase": "setup",
            "seconds": _r(setup_s, 6),
            "vm_running_on": src,
            "detail": f"VMMS on {dst} creates a skeleton VM for {vm}",
        },
        {
            "phase": "pre-copy",
            "seconds": _r(precopy_s, 6),
            "vm_running_on": src,
            "detail": f"{len(passes)} memory passes with dirty-page tracking",
        },
        {
            "phase": "pause-and-final-copy",
            "seconds": _r(copy_seconds, 6),
            "vm_running_on": None,
            "detail": f"{vm} paused on {src}; {final_pages:,} pages plus CPU and device state sent",
        },
        {
            "phase": "storage-handoff",
            "seconds": _r(Fraction(p.storage_handoff_ms, 1000), 6),
            "vm_running_on": None,
            "detail": _storage_handoff_detail(vm, src, dst, request.vm_on_csv),
        },
        {
            "phase": "resume",
            "seconds": _r(Fraction(p.switchover_overhead_ms, 1000), 6),
            "vm_running_on": dst,
            "detail": f"{vm} resumes on {dst}",
        },
        {
            "phase": "unsolicited-arp",
            "seconds": 0.0,
            "vm_running_on": dst,
            "detail": f"unsolicited ARP from {vm} so physical switches learn its new port",
        },
        {
            "phase": "cleanup",
            "seconds": _r(cleanup_s, 6),
            "vm_running_on": dst,
            "detail": f"{src} removes its copy of {vm}",
        },
    ]

    result = MigrationResult(
        request=request,
        params=p,
        passes=tuple(passes),
        phases=tuple(phases),
        final_pages=final_pages,
        total_pages_sent=total_pages,
        bytes_sent=bytes_sent,
        total_mb_sent=_r(Fraction(bytes_sent, _MIB)),
        total_seconds=_r(total_s, 6),
        blackout_ms=blackout_ms,
        converged=converged,
        stop_reason=stop_reason,
        within_tcp_timeout=within,
        explanation=tuple(lines),
    )
    if trace is not None:
        _emit(trace, result, bw, page_bytes, copy_seconds)
    return result


def _storage_handoff_detail(vm: str, src: str, dst: str, on_csv: bool) -> str:
    """Say what happens to the VM's storage at the switchover (docs/sources.md#live-migration)."""
    if on_csv:
        return (
            f"{vm}'s cluster group and storage handles move to {dst}; on a Cluster Shared Volume nothing changes "
            "owner (every node already reaches the LUN)"
        )
    return f"{vm}'s cluster disk is dismounted on {src} and mounted on {dst}"


def _emit(trace: Trace, r: MigrationResult, bw: Fraction, page_bytes: int, copy_seconds: Fraction) -> None:
    """Emit one event per phase and per memory pass of `r`, advancing simulated time by each one's duration."""
    p = r.params
    vm, src, dst = r.request.vm_name, r.request.source, r.request.destination
    trace.emit(
        partition="root",
        component="vmms.exe",
        mode="user",
        kind="migration.setup",
        summary=f"Live migration of {vm} from {src} to {dst}: VMMS on {dst} creates a skeleton VM",
        cost_ns=p.setup_ms * 1_000_000,
        vm=vm,
        source=src,
        destination=dst,
    )
    for x in r.passes:
        what = "full memory copy with dirty-page tracking" if x.number == 1 else "copy of pages dirtied meanwhile"
        trace.emit(
            partition="root",
            component="vmwp.exe",
            mode="user",
            kind="migration.memory_pass",
            summary=(
                f"Pass {x.number} ({what}): {x.mb_sent} MB in {x.seconds} s; {x.dirty_mb_after} MB dirtied meanwhile"
            ),
            cost_ns=_ns(Fraction(x.pages_sent * page_bytes) / bw),
            vm=vm,
            pass_number=x.number,
            pages_sent=x.pages_sent,
            dirty_pages_after=x.dirty_pages_after,
        )
        trace.count("migration.pages_sent", x.pages_sent)
    trace.emit(
        partition="root",
        component="vmwp.exe",
        mode="user",
        kind="migration.pause",
        summary=(
            f"{vm} paused on {src} ({r.stop_reason}); sending the last {r.final_pages:,} pages and "
            f"{p.device_state_kb} KB of CPU and device state"
        ),
        cost_ns=_ns(copy_seconds),
        vm=vm,
        final_pages=r.final_pages,
    )
    trace.count("migration.pages_sent", r.final_pages)
    trace.emit(
        partition="root",
        component="cluster",
        mode="user",
        kind="migration.storage_handoff",
        summary=f"Failover Clustering: {_storage_handoff_detail(vm, src, dst, r.request.vm_on_csv)}",
        cost_ns=p.storage_handoff_ms * 1_000_000,
        vm=vm,
    )
    trace.emit(
        partition="root",
        component="vmwp.exe",
        mode="user",
        kind="migration.resume",
        summary=f"{vm} resumes on {dst}; blackout {r.blackout_ms} ms",
        cost_ns=p.switchover_overhead_ms * 1_000_000,
        vm=vm,
        blackout_ms=r.blackout_ms,
        within_tcp_timeout=r.within_tcp_timeout,
    )
    trace.emit(
        partition="root",
        component="vmwp.exe",
        mode="user",
        kind="migration.unsolicited_arp",
        summary=f"Unsolicited ARP for {vm} from {dst} so switches learn the VM's new port",
        vm=vm,
    )
    trace.emit(
        partition="root",
        component="vmms.exe",
        mode="user",
        kind="migration.cleanup",
        summary=f"{src} cleans up its copy of {vm}",
        cost_ns=p.cleanup_ms * 1_000_000,
        vm=vm,
    )


# ------------------------------------------------------------------------------------------------ Quick Migration


@dataclass(frozen=True)
class QuickMigrationParams:
    """Named parameters of the Quick Migration model (docs/sources.md#quick-migration); times in ms, rates in MB/s."""

    #: [model] Storage throughput for writing and reading the saved state, in MB/s (a 2008-era SAN LUN).
    storage_mb_s: int = 100
    #: [model] CPU registers plus device state saved with the memory, in KB (as for live migration).
    device_state_kb: int = 512
    #: [model] Taking the cluster group offline, moving it (the disk changes owner) and online again, in ms.
    group_move_ms: int = 3_000

    def __post_init__(self) -> None:
        for f in fields(self):
            minimum = 1 if f.name == "storage_mb_s" else 0
            _check_number(getattr(self, f.name), f"params.{f.name}", minimum=minimum, integer=True)

    def to_dict(self) -> dict[str, Any]:
        """Return every parameter by name."""
        return dict(sorted(asdict(self).items()))


DEFAULT_QUICK_MIGRATION_PARAMS = QuickMigrationParams()


@dataclass(frozen=True)
class QuickMigrationRequest:
    """One VM to quick-migrate: its memory and the storage throughput (MB/s; default the parameter's)."""

    vm_name: str
    memory_mb: int
    storage_mb_s: float | None = None
    source: str = "source"
    destination: str = "destination"
    vm_on_csv: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.vm_name, str) or not self.vm_name.strip():
            raise InvalidParameter("the VM needs a name", path="request.vm_name")
        _check_number(self.memory_mb, "request.memory_mb", minimum=1, integer=True)
        if self.storage_mb_s is not None:
            _check_number(self.storage_mb_s, "request.storage_mb_s", strict=True)

    def to_dict(self) -> dict[str, Any]:
        """Return the request's fields."""
        return dict(sorted(asdict(self).items()))


@dataclass(frozen=True)
class QuickMigrationResult:
    """The outcome of a simulated Quick Migration: the VM is down from the save to the end of the restore."""

    request: QuickMigrationRequest
    params: QuickMigrationParams
    storage_mb_s: float
    save_seconds: float
    group_move_seconds: float
    restore_seconds: float
    downtime_seconds: float
    downtime_ms: float
    within_tcp_timeout: bool
    phases: tuple[dict[str, Any], ...]
    explanation: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the phases, each duration in seconds, the downtime (s and ms) and the explanation."""
        return {
            "vm": self.request.vm_name,
            "method": "Quick Migration",
            "request": self.request.to_dict(),
            "params": self.params.to_dict(),
            "storage_mb_s": self.storage_mb_s,
            "save_seconds": self.save_seconds,
            "group_move_seconds": self.group_move_seconds,
            "restore_seconds": self.restore_seconds,
            "downtime_seconds": self.downtime_seconds,
            "downtime_ms": self.downtime_ms,
            "within_tcp_timeout": self.within_tcp_timeout,
            "phases": [dict(p) for p in self.phases],
            "explanation": list(self.explanation),
        }


def quick_migrate(
    request: QuickMigrationRequest,
    *,
    params: QuickMigrationParams = DEFAULT_QUICK_MIGRATION_PARAMS,
    tcp_timeout_budget_ms: int = DEFAULT_MIGRATION_PARAMS.tcp_timeout_budget_ms,
    trace: Trace | None = None,
) -> QuickMigrationResult:
    """Simulate a Quick Migration: save state to disk, move the cluster group, restore (prerequisites are
    :func:`check_quick_prerequisites`' job).

    downtime = (memory + device state) / storage throughput [save] + group move + the same again [restore];
    seconds, with MB = MiB. With `trace`, emits one event per phase (partition "root", mode "user").
    """
    if not isinstance(request, QuickMigrationRequest):
        raise InvalidParameter("expected a QuickMigrationRequest", path="request")
    if not isinstance(params, QuickMigrationParams):
        raise InvalidParameter("expected QuickMigrationParams", path="params")
    p = params
    rate = Fraction(str(request.storage_mb_s)) if request.storage_mb_s is not None else Fraction(p.storage_mb_s)
    state_mb = Fraction(request.memory_mb) + Fraction(p.device_state_kb, 1024)
    save_s = state_mb / rate
    move_s = Fraction(p.group_move_ms, 1000)
    restore_s = state_mb / rate
    down_s = save_s + move_s + restore_s
    down_ms = _r(down_s * 1000)
    within = down_s * 1000 <= tcp_timeout_budget_ms
    vm, src, dst = request.vm_name, request.source, request.destination
    storage = (
        "the cluster group moves; on a Cluster Shared Volume the disk keeps its owner"
        if request.vm_on_csv
        else f"the VM's disk changes owner: dismounted on {src}, mounted on {dst}"
    )
    lines = (
        f"save: ({request.memory_mb:,} MB memory + {p.device_state_kb} KB device state) / {_r(rate)} MB/s = "
        f"{_r(save_s)} s written to disk while {vm} is stopped",
        f"move the cluster group from {src} to {dst}: {_r(move_s)} s ({storage})",
        f"restore: the same {_r(state_mb)} MB read back at {_r(rate)} MB/s = {_r(restore_s)} s",
        f"downtime = {_r(save_s)} + {_r(move_s)} + {_r(restore_s)} = {_r(down_s)} s ({down_ms:,} ms): "
        + ("within" if within else "beyond")
        + f" the TCP timeout budget of {tcp_timeout_budget_ms:,} ms"
        + ("" if within else ": clients' TCP sessions are likely to drop"),
        "the downtime grows with the VM's memory and shrinks with faster storage; live migration (2008 R2) keeps "
        "the VM running until a blackout of milliseconds",
    )
    phases = (
        {"phase": "save", "seconds": _r(save_s, 6), "vm_running_on": None,
         "detail": f"{vm} is saved on {src}: memory and device state written to disk"},
        {"phase": "move-group", "seconds": _r(move_s, 6), "vm_running_on": None,
         "detail": f"Failover Clustering moves {vm}'s group to {dst}; {storage}"},
        {"phase": "restore", "seconds": _r(restore_s, 6), "vm_running_on": dst,
         "detail": f"{vm} is restored on {dst} from its saved state"},
    )
    result = QuickMigrationResult(
        request=request,
        params=p,
        storage_mb_s=_r(rate),
        save_seconds=_r(save_s, 6),
        group_move_seconds=_r(move_s, 6),
        restore_seconds=_r(restore_s, 6),
        downtime_seconds=_r(down_s, 6),
        downtime_ms=down_ms,
        within_tcp_timeout=within,
        phases=phases,
        explanation=lines,
    )
    if trace is not None:
        for phase, seconds, component in (
            (phases[0], save_s, "vmwp.exe"),
            (phases[1], move_s, "cluster"),
            (phases[2], restore_s, "vmwp.exe"),
        ):
            trace.emit(
                partition="root",
                component=component,
                mode="user",
                kind=f"quick_migration.{phase['phase']}",
                summary=f"Quick Migration of {vm}: {phase['detail']} ({_r(seconds)} s; {vm} is down)",
                cost_ns=_ns(seconds),
                vm=vm,
            )
    return result
