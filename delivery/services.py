"""Classroom delivery services: reference traces for present mode (handbooks: delivery.handbooks)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# The two paths a trainer walks the room through: one 100 KB disk write, as in labs/sim's golden traces.
REFERENCE_TRACES: dict[str, dict[str, str]] = {
    "emulated": {"guest": "emulated", "label": "Emulated IDE path: one 100 KB disk write"},
    "synthetic": {"guest": "enlightened", "label": "Synthetic path (VSC, VMBus, VSP): one 100 KB disk write"},
}


@lru_cache(maxsize=len(REFERENCE_TRACES))
def reference_trace(path: str) -> dict[str, Any]:
    """The trace viewer's data for a reference I/O, computed once per process (the simulator is deterministic)."""
    from labs.sim.__main__ import io_report

    report = io_report(REFERENCE_TRACES[path]["guest"], "write", 100 * 1024, "disk", seed=0)
    arithmetic = report["params"].get("arithmetic") or {}
    lines = arithmetic.get("lines") if isinstance(arithmetic, dict) else None
    return {
        "events": report["events"],
        "counters": report["counters"],
        "path": report["params"]["path"],
        "vm": "vm1",
        "guest": report["params"]["guest"],
        "params": {
            "arithmetic": [str(line) for line in lines]
            if isinstance(lines, list)
            else [f"{key}: {value}" for key, value in sorted(arithmetic.items())]
        },
    }
