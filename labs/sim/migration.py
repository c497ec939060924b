"""Live Migration in Windows Server 2008 R2: prerequisites and the iterative pre-copy of memory.

Phases (fact sheet section 5): setup (a skeleton VM on the destination) -> full memory copy with
dirty-page tracking -> iterative copies of the pages dirtied meanwhile -> pause on the source and
send the remaining pages plus CPU/device state (the **blackout**) -> move storage ownership (CSV)
-> resume on the destination -> unsolicited ARP so switches learn the VM's new port -> the
source cleans up.

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
    "bandwidth_mb_s",
    "check_prerequisites",
    "migrate",
]

CPU_VENDORS = ("Intel", "AMD")
#: Editions a Node may name; only :data:`LIVE_MIGRATION_EDITIONS` can live-migrate.
EDITIONS = ("Standard", "Enterprise", "Datacenter", "Web", "Hyper-V Server 2008", "Hyper-V Server 2008 R2")
#: Fact sheet section 5: "Enterprise, Datacenter, or Hyper-V Server 2008 R2".
LIVE_MIGRATION_EDITIONS = ("Enterprise", "Datacenter", "Hyper-V Server 2008 R2")
#: Failover Clustering limit in 2008 R2 (fact sheet section 5).
MAX_CLUSTER_NODES = 16

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
    migration_network_gbps: float  # 0 = no migration network
    cluster: str = ""  # cluster name; "" = unnamed (not compared)

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

    def to_dict(self) -> dict[str, Any]:
        """Return the node's fields (bandwidth in Gbps)."""
        return dict(sorted(asdict(self).items()))


def check_prerequisites(source: Node, dest: Node, vm_on_csv: bool) -> None:
    """Raise NotSupported with the precise reason when `source` cannot live-migrate a VM to `dest`; else return None.

    Checks in this order (the first failure is reported): same node, editions, Failover Clustering,
    same cluster, CPU vendor, subnet, shared storage (CSV), migration network.
    """
    if source.name.casefold() == dest.name.casefold():
        raise NotSupported(
            f"source and destination are the same node ({source.name}); live migration moves a VM to another "
            "node of the cluster",
            path="destination.name",
        )
    for role, node in (("source", source), ("destination", dest)):
        if node.edition not in LIVE_MIGRATION_EDITIONS:
            raise NotSupported(
                f"{node.name} runs {node.edition}; live migration needs Windows Server 2008 R2 Enterprise, "
                "Datacenter or Hyper-V Server 2008 R2",
                path=f"{role}.edition",
            )
    for role, node in (("source", source), ("destination", dest)):
        if not node.clustered:
            raise NotSupported(
                f"{node.name} is not a Failover Cluster node; live migration in 2008 R2 works only between nodes of "
                f"one failover cluster (up to {MAX_CLUSTER_NODES} nodes)",
                path=f"{role}.clustered",
            )
    if source.cluster and dest.cluster and source.cluster.casefold() != dest.cluster.casefold():
        raise NotSupported(
            f"{source.name} is in cluster {source.cluster} but {dest.name} is in cluster {dest.cluster}; "
            "both nodes must belong to the same failover cluster",
            path="destination.cluster",
        )
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
    if not vm_on_csv:
        raise NotSupported(
            "the VM's storage is not shared: both nodes must reach its VHDs and configuration "
            "(Cluster Shared Volumes are recommended)",
            path="vm.storage",
        )
    for role, node in (("source", source), ("destination", dest)):
        if not node.csv_access:
            raise NotSupported(
                f"{node.name} cannot reach the Cluster Shared Volume holding the VM", path=f"{role}.csv_access"
            )
    for role, node in (("source", source), ("destination", dest)):
        if node.migration_network_gbps <= 0:
            raise NotSupported(
                f"{node.name} has no migration network; live migration needs a dedicated 1 Gbps network",
                path=f"{role}.migration_network_gbps",
            )
        if node.migration_network_gbps < 1:
            raise NotSupported(
                f"{node.name}'s migration network is {node.migration_network_gbps} Gbps; live migration needs a "
                "dedicated network of at least 1 Gbps",
                path=f"{role}.migration_network_gbps",
            )


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
            "detail": f"ownership of {vm}'s storage (CSV) moves to {dst}",
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
        summary=f"Failover Clustering hands {vm}'s storage (CSV) over to {dst}",
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
