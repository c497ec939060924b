"""The trace: an ordered list of complete, self-describing events plus counters.

Each event is a plain dict with the keys `seq`, `t_ns`, `partition`, `component`,
`mode` (``user`` / ``kernel`` / ``hypervisor`` / ``hardware``), `kind`, `summary`, and any
kind-specific fields (packet type, opcode, port, bytes ...). Any event can be rendered
without its neighbours. Simulated time only moves forward by modelled costs; wall-clock
time never changes an event, so the same inputs give byte-identical traces.

A trace may carry a `Budget`: every emitted event is charged to it, so an action that would run
too long or emit too many events stops inside its own loop (raising `BudgetExceeded`) instead of
after it finishes. The budget reads the wall clock only to decide whether to stop.
"""

from __future__ import annotations

import time
from typing import Any

from .errors import BudgetExceeded

MODES = ("user", "kernel", "hypervisor", "hardware")

JSONValue = Any  # JSON-serialisable: str, int, float, bool, None, list, dict


CLOCK_CHECK_EVERY = 256
"""How many events a `Budget` lets pass between two looks at the wall clock (an event costs about 2 us)."""


class Budget:
    """At most `max_events` events in the trace and `max_seconds` of wall time from `start()`; None = no limit."""

    def __init__(self, max_events: int | None = None, max_seconds: float | None = None) -> None:
        self.max_events = max_events
        self.max_seconds = max_seconds
        self.started = time.perf_counter()
        self.deadline = None if max_seconds is None else self.started + max_seconds
        self._until_clock = CLOCK_CHECK_EVERY

    def start(self) -> None:
        """Restart the wall-clock allowance from now (the event allowance is a total and does not restart)."""
        self.started = time.perf_counter()
        self.deadline = None if self.max_seconds is None else self.started + self.max_seconds
        self._until_clock = CLOCK_CHECK_EVERY

    def charge(self, events: int) -> None:
        """Raise BudgetExceeded if the trace now holds more than `max_events` or the time is up."""
        if self.max_events is not None and events > self.max_events:
            raise BudgetExceeded(
                f"the actions produced more than {self.max_events:,} trace events",
                events=events,
                elapsed_s=time.perf_counter() - self.started,
            )
        self._until_clock -= 1
        if self._until_clock <= 0:
            self._until_clock = CLOCK_CHECK_EVERY
            self.check_time(events)

    def check_time(self, events: int = 0) -> None:
        """Raise BudgetExceeded if the wall-clock allowance is used up."""
        if self.deadline is None:
            return
        now = time.perf_counter()
        if now > self.deadline:
            assert self.max_seconds is not None
            raise BudgetExceeded(
                f"the simulation took more than {int(self.max_seconds * 1000):,} ms",
                events=events,
                elapsed_s=now - self.started,
            )


class Trace:
    """Append-only event log with named integer counters and a simulated clock in nanoseconds."""

    def __init__(self) -> None:
        self.events: list[dict[str, JSONValue]] = []
        self.counters: dict[str, int] = {}
        self.clock_ns: int = 0
        self._seq: int = 0
        self.budget: Budget | None = None

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
        if self.budget is not None:
            self.budget.charge(len(self.events))
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
