"""Golden traces of the main scenarios, committed as JSON and compared byte for byte.

Regenerate after an intended change with::

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/sim/test_golden.py

then review the diff of tests/sim/golden/*.json like any other change (an expert trainer reads these).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labs.sim.__main__ import io_report
from labs.sim.actions import replay_with_results

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "labs" / "sim" / "scenarios"
GOLDEN = Path(__file__).resolve().parent / "golden"


def _replay(scenario: str, seed: int | None, actions: list[dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        host, results = replay_with_results(SCENARIOS / scenario, seed, actions)
        return {"scenario": scenario, "seed": host.seed, "actions": actions, "results": results,
                "state": host.snapshot(), "trace": host.trace.to_dict()}

    return build


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "io-emulated-100kb-write": lambda: io_report("emulated", "write", 100 * 1024),
    "io-synthetic-100kb-write": lambda: io_report("enlightened", "write", 100 * 1024),
    "io-synthetic-300kb-write": lambda: io_report("enlightened", "write", 300 * 1024),
    "io-emulated-nic-3000-bytes": lambda: io_report("emulated", "write", 3000, "nic"),
    "laptop-m17x": _replay("laptop-m17x.yaml", None, [
        {"op": "bios.upgrade", "version": "A01"},
        {"op": "host.reboot"},
        {"op": "bios.set", "setting": "virtualization", "value": True},
        {"op": "host.reboot"},
        {"op": "vm.state", "vm": "test01", "requested_state": 2},
    ]),
    "imaged-server": _replay("imaged-server.yaml", None, [
        {"op": "bcdedit.set", "key": "hypervisorlaunchtype", "value": "auto"},
        {"op": "host.reboot"},
        {"op": "vm.state", "vm": "app01", "requested_state": 2},
    ]),
    "delegation": _replay("delegation.yaml", None, [
        {"op": "access", "user": "CONTOSO\\alice", "operation": "Start Virtual Machine", "vm": "hr-web01"},
        {"op": "run_as", "user": "CONTOSO\\alice",
         "action": {"op": "vm.state", "vm": "fin-sql01", "requested_state": 2}},
        {"op": "wmi.modify_system", "vm": "hr-web01", "scope_of_residence": "Finance"},
        {"op": "access", "user": "CONTOSO\\alice", "operation": "Start Virtual Machine", "vm": "hr-web01"},
        {"op": "wmi.query", "wql": "SELECT ElementName, ScopeOfResidence FROM Msvm_VirtualSystemGlobalSettingData"},
    ]),
    "two-vms-io": _replay("two-vms-io.yaml", None, [
        {"op": "io", "vm": "web01", "op_kind": "write", "bytes": 102400},
        {"op": "io", "vm": "setup-w2k3", "op_kind": "write", "bytes": 4096},
        {"op": "vm.state", "vm": "web01", "requested_state": 32769},
        {"op": "wmi.query", "wql": "SELECT Name, EnabledState, ProcessID FROM Msvm_ComputerSystem"},
    ]),
}


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    path = GOLDEN / f"{name}.json"
    text = render(CASES[name]())
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}; run UPDATE_GOLDEN=1 pytest tests/sim/test_golden.py"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        old, new = json.loads(expected), json.loads(text)
        for key in sorted(set(old) | set(new)):
            assert old.get(key) == new.get(key), f"{name}: '{key}' differs from the golden file"
    assert text == expected


def test_no_stray_golden_files() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(CASES)
