"""Command line: `python -m labs.sim io|mmu|migrate|access|replay ...` (human-readable; JSON with --json).

Any simulator error or bad input prints one line (``error: <path>: <message>``) on stderr and
exits with status 2 -- never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import migration, mmu
from .actions import replay_with_results
from .errors import InvalidParameter, SimError
from .guests import GUEST_KINDS
from .host import Host
from .trace import Trace


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        raise SystemExit(2)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


GUEST_FOR_PATH = {"emulated": "windows-no-integration-services", "enlightened": "windows-enlightened"}


def io_report(guest: str, op_kind: str, nbytes: int, device: str = "disk", seed: int = 0) -> dict[str, Any]:
    """The `io` command's data: events, counters and params of one I/O in a fresh one-VM host."""
    kind = GUEST_FOR_PATH.get(guest, guest)
    host = Host({"vms": [{"name": "vm1", "guest": kind, "memory_mb": 512, "state": "running"}]}, seed)
    host.trace = Trace()
    result = host.io("vm1", op_kind, nbytes, device)
    counters = dict(result["counters"])
    return {
        "events": host.trace.events,
        "counters": counters,
        "params": {
            "guest": kind,
            "path": result["path"],
            "device": device,
            "op_kind": op_kind,
            "bytes": nbytes,
            "arithmetic": result["arithmetic"],
            "cost_model": host.cost.to_dict(),
        },
    }


def _print_events(events: Sequence[dict[str, Any]]) -> None:
    for e in events:
        print(
            f"{e['seq']:>5} {e['t_ns']:>12,} ns  {e['partition']:<10} {e['mode']:<10} {e['component']:<20} "
            f"{e['summary']}"
        )


def _print_mapping(title: str, data: dict[str, Any]) -> None:
    print(title)
    for key in sorted(data):
        value = data[key]
        if isinstance(value, (dict, list)):
            value = json.dumps(value, sort_keys=True)
        print(f"  {key}: {value}")


def _cmd_io(args: argparse.Namespace) -> dict[str, Any]:
    report = io_report(args.guest, args.op, args.bytes, args.device, args.seed)
    if not args.json:
        _print_events(report["events"])
        _print_mapping("counters:", report["counters"])
        arithmetic = report["params"]["arithmetic"]
        print(f"path: {report['params']['path']} ({report['params']['guest']})")
        for key in sorted(arithmetic):
            if key.endswith("_formula") or key == "note":
                print(f"  {arithmetic[key]}")
    return report


def _cmd_mmu(args: argparse.Namespace) -> dict[str, Any]:
    if args.workload not in mmu.WORKLOADS:
        raise InvalidParameter(
            f"unknown workload {args.workload!r} (one of {', '.join(sorted(mmu.WORKLOADS))})", path="workload"
        )
    workload = mmu.WORKLOADS[args.workload]
    overrides = {name: getattr(args, name) for name in _WORKLOAD_INT_FIELDS if getattr(args, name) is not None}
    if overrides:
        workload = dataclasses.replace(workload, **overrides)
    slat_available = args.cpu_slat and args.os_version == "2008 R2"
    trace = Trace()
    result = mmu.simulate(args.mode, args.tagged_tlb, workload, slat_available=slat_available, trace=trace)
    data = result.to_dict()
    counter_keys = ("vm_exits", "shadow_updates", "tlb_flushes", "walk_refs_per_miss", "hypervisor_cpu_pct")
    out = {"result": data, "events": trace.events, "counters": {k: data[k] for k in counter_keys if k in data}}
    if not args.json:
        _print_events(trace.events)
        _print_mapping("result:", data)
    return out


def _cmd_migrate(args: argparse.Namespace) -> dict[str, Any]:
    request = migration.MigrationRequest(
        vm_name=args.vm,
        memory_mb=args.memory_mb,
        dirty_mb_s=args.dirty_mb_s,
        bandwidth_mb_s=args.bandwidth_mb_s,
        network_gbps=args.network_gbps,
    )
    trace = Trace()
    result = migration.migrate(request, trace=trace)
    data = result.to_dict()
    if not args.json:
        _print_events(trace.events)
        print(
            f"passes: {len(data['passes'])}  bytes sent: {data['bytes_sent']:,}  blackout: {data['blackout_ms']} ms"
            f"  converged: {data['converged']} ({data['stop_reason']})"
        )
    return {"result": data, "events": trace.events}


def _cmd_access(args: argparse.Namespace) -> dict[str, Any]:
    host = Host(args.scenario, args.seed)
    decision = host.access_check(args.user, args.operation, args.vm)
    if not args.json:
        print(f"{'ALLOWED' if decision['allowed'] else 'DENIED'}: {decision['reason']}")
    return decision


def _cmd_replay(args: argparse.Namespace) -> dict[str, Any]:
    host, results = replay_with_results(args.scenario, args.seed, args.actions)
    data: dict[str, Any] = {"state": host.snapshot(), "results": results, "trace": host.trace.to_dict()}
    if not args.json:
        _print_events(host.trace.events)
        state = data["state"]
        hv = state["hypervisor"]
        print(f"hypervisor: {'running (' + str(hv['image']) + ')' if hv['running'] else 'not running'}")
        for reason in hv["reasons"]:
            print(f"  reason: {reason}")
        for vm in state["vms"]:
            print(
                f"vm {vm['name']}: {vm['state']} (EnabledState {vm['enabled_state']}), partition "
                f"{vm['partition_id']}, vmwp pid {vm['vmwp_pid']}, scope {vm['scope_of_residence'] or 'default'}"
            )
        _print_mapping("counters:", state["counters"])
    return data


_WORKLOAD_INT_FIELDS = (
    "context_switches_per_s",
    "page_table_updates_per_s",
    "page_faults_per_s",
    "invlpg_per_s",
    "other_vm_exits_per_s",
    "working_set_mb",
    "page_size_kb",
    "page_touches_per_s",
)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for all subcommands."""
    parser = _Parser(prog="python -m labs.sim", description="Hyper-V (Windows Server 2008 / R2) simulator.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
        p.add_argument("--seed", type=int, default=None, help="random seed (pids, GUIDs)")

    p = sub.add_parser("io", help="trace one disk or network I/O on the emulated or the synthetic path")
    common(p)
    p.add_argument(
        "--guest",
        choices=("emulated", "enlightened", *GUEST_KINDS),
        default="enlightened",
    )
    p.add_argument("--op", choices=("read", "write"), default="write")
    p.add_argument("--bytes", type=_positive_int, default=100 * 1024)
    p.add_argument("--device", choices=("disk", "nic"), default="disk")
    p.set_defaults(func=_cmd_io)

    p = sub.add_parser("mmu", help="shadow paging vs SLAT for one second of a workload")
    common(p)
    p.add_argument("--mode", choices=("shadow", "slat"), required=True)
    p.add_argument("--tagged-tlb", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--workload", default="terminal-services", help=f"one of {', '.join(sorted(mmu.WORKLOADS))}")
    p.add_argument("--os-version", choices=("2008", "2008 R2"), default="2008 R2")
    p.add_argument("--cpu-slat", action=argparse.BooleanOptionalAction, default=True, help="CPU has EPT/RVI")
    for name in _WORKLOAD_INT_FIELDS:
        p.add_argument("--" + name.replace("_", "-"), type=int, default=None, dest=name)
    p.set_defaults(func=_cmd_mmu)

    p = sub.add_parser("migrate", help="live migration: passes, bytes sent, blackout")
    common(p)
    p.add_argument("--vm", default="vm1")
    p.add_argument("--memory-mb", type=_positive_int, default=1024)
    p.add_argument("--dirty-mb-s", type=_non_negative_float, default=10.0)
    p.add_argument("--bandwidth-mb-s", type=_non_negative_float, default=None)
    p.add_argument("--network-gbps", type=_non_negative_float, default=1.0)
    p.set_defaults(func=_cmd_migrate)

    p = sub.add_parser("access", help="Authorization Manager decision for a user, operation and VM")
    common(p)
    p.add_argument("--scenario", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--operation", required=True)
    p.add_argument("--vm", default=None)
    p.set_defaults(func=_cmd_access)

    p = sub.add_parser("replay", help="replay an action list on a scenario; print the final state and trace")
    common(p)
    p.add_argument("scenario")
    p.add_argument("actions")
    p.set_defaults(func=_cmd_replay)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 2 simulator error or bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "io" and args.seed is None:
        args.seed = 0
    try:
        data = args.func(args)
    except SimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RecursionError:
        print("error: input nested too deeply", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(data, sort_keys=True, indent=1))
    return 0


def _run() -> int:
    try:
        return main()
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(_run())
