"""The trace: an ordered list of complete, self-describing events plus counters.

Each event is a plain dict with the keys `seq`, `t_ns`, `partition`, `component`,
`mode` (``user`` / ``kernel`` / ``hypervisor`` / ``hardware``), `kind`, `summary`, and any
kind-specific fields (packet type, opcode, port, bytes ...). Any event can be rendered
without its neighbours. Simulated time only moves forward by modelled costs; wall-clock
time is never read, so the same inputs give byte-identical traces.
"""

from __future__ import annotations

from typing import Any

MODES = ("user", "kernel", "hypervisor", "hardware")

JSONValue = Any  # JSON-serialisable: str, int, float, bool, None, list, dict


class Trace:
    """Append-only event log with named integer counters and a simulated clock in nanoseconds."""

    def __init__(self) -> None:
        self.events: list[dict[str, JSONValue]] = []
        self.counters: dict[str, int] = {}
        self.clock_ns: int = 0
        self._seq: int = 0

    def emit(
        self,
        *,
        partition: str,
        component: str,
        mode: str,
        kind: str,
        summary: str,
        cost_ns: int = 0,
        **fields: JSONValue,
    ) -> dict[str, JSONValue]:
        """Append one event stamped with the current simulated time, then advance the clock by `cost_ns`."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        if cost_ns < 0:
            raise ValueError("cost_ns must not be negative")
        self._seq += 1
        event: dict[str, JSONValue] = {
            "seq": self._seq,
            "t_ns": self.clock_ns,
            "partition": partition,
            "component": component,
            "mode": mode,
            "kind": kind,
            "summary": summary,
        }
        for key in sorted(fields):
            if key in event:
                raise ValueError(f"field {key!r} clashes with a standard event key")
            event[key] = fields[key]
        self.events.append(event)
        self.clock_ns += cost_ns
        return event

    def count(self, name: str, n: int = 1) -> None:
        """Add `n` (>= 0) to the counter `name`."""
        if n < 0:
            raise ValueError("counters never go down")
        self.counters[name] = self.counters.get(name, 0) + n

    def advance(self, ns: int) -> None:
        """Move simulated time forward by `ns` nanoseconds without an event."""
        if ns < 0:
            raise ValueError("time never goes backwards")
        self.clock_ns += ns

    def mark(self) -> tuple[int, int, int, dict[str, int]]:
        """Remember the current length, sequence number, clock and counters (for `rollback`)."""
        return (len(self.events), self._seq, self.clock_ns, dict(self.counters))

    def rollback(self, mark: tuple[int, int, int, dict[str, int]]) -> None:
        """Forget everything recorded since `mark` (used when an action fails, so it leaves no trace)."""
        length, seq, clock_ns, counters = mark
        del self.events[length:]
        self._seq = seq
        self.clock_ns = clock_ns
        self.counters = dict(counters)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "events": list(self.events),
            "counters": dict(sorted(self.counters.items())),
            "simulated_ns": self.clock_ns,
        }
