"""The command line: human-readable by default, JSON with --json, one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labs.sim.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "labs" / "sim" / "scenarios"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_io_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "io", "--guest", "emulated", "--op", "write", "--bytes", "102400", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"events", "counters", "params"}
    assert data["counters"]["port_accesses"] == 40
    assert data["params"]["arithmetic"]["port_access_crossings"] == 80


def test_io_text_shows_the_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "io", "--guest", "emulated", "--bytes", "102400")
    assert code == 0
    assert "40 port accesses x 2 root user/kernel crossings = 80" in out
    assert "HvMessageTypeX64IoPortIntercept (0x80010000)" in out


def test_mmu_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "mmu", "--mode", "shadow", "--no-tagged-tlb", "--json")
    assert code == 0
    counters = json.loads(out)["counters"]
    assert {"vm_exits", "shadow_updates", "tlb_flushes", "walk_refs_per_miss", "hypervisor_cpu_pct"} <= set(counters)


def test_migrate_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "migrate", "--memory-mb", "1024", "--dirty-mb-s", "20", "--bandwidth-mb-s", "110")
    assert code == 0 and "blackout" in out and "passes" in out


def test_access_decision(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "access", "--scenario", str(SCENARIOS / "delegation.yaml"), "--user",
                       "CONTOSO\\alice", "--operation", "Start Virtual Machine", "--vm", "fin-sql01")
    assert code == 0 and out.startswith("ALLOWED")
    code, out, _ = run(capsys, "access", "--scenario", str(SCENARIOS / "delegation.yaml"), "--user",
                       "CONTOSO\\alice", "--operation", "Start Virtual Machine", "--vm", "hr-web01", "--json")
    assert code == 0 and json.loads(out)["allowed"] is False


def test_replay_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps([{"op": "bcdedit.set", "key": "hypervisorlaunchtype", "value": "auto"},
                                   {"op": "host.reboot"}, {"op": "vm.state", "vm": "app01", "requested_state": 2}]))
    code, out, _ = run(capsys, "replay", str(SCENARIOS / "imaged-server.yaml"), str(actions), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["state"]["hypervisor"]["running"] and data["state"]["vms"][0]["state"] == "running"
    assert data["trace"]["events"]


@pytest.mark.parametrize(
    "argv",
    [
        ["io", "--bytes", "-5"],
        ["io", "--guest", "martian"],
        ["mmu", "--mode", "slat", "--os-version", "2008"],
        ["mmu", "--mode", "shadow", "--workload", "nope"],
        ["access", "--scenario", "/no/such/file.yaml", "--user", "u", "--operation", "Start Virtual Machine"],
        ["replay", str(SCENARIOS / "two-vms-io.yaml"), "/no/such/actions.json"],
        ["frobnicate"],
        [],
    ],
)
def test_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "Traceback" not in err


def test_bad_scenario_key_names_the_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("vms:\n  - {name: a}\n  - {name: b, memory_mb: -1}\n")
    actions = tmp_path / "a.json"
    actions.write_text("[]")
    code, _, err = run(capsys, "replay", str(scenario), str(actions))
    assert code == 2 and err.strip() == "error: vms[1].memory_mb: must be >= 1; got -1 (negative)"


def test_unknown_vm_in_replay(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    actions = tmp_path / "a.json"
    actions.write_text('[{"op": "vm.state", "vm": "ghost", "requested_state": 2}]')
    code, _, err = run(capsys, "replay", str(SCENARIOS / "two-vms-io.yaml"), str(actions))
    assert code == 2 and err.startswith("error: actions[0].vm: no virtual machine named 'ghost'")
    assert "(WMI return code 32777)" in err


def test_module_entry_point_in_a_subprocess() -> None:
    proc = subprocess.run([sys.executable, "-m", "labs.sim", "io", "--guest", "enlightened", "--bytes", "307200",
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["counters"]["vsc_requests"] == 2
    bad = subprocess.run([sys.executable, "-m", "labs.sim", "io", "--bytes", "x"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
