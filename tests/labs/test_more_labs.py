"""Four more labs (host readiness, SLAT, live migration, Linux ICs): valid, solvable, wrong paths fail right."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from courseware.services import course_load
from labs import console, engine
from labs.content import validate_lab_folder
from labs.models import Lab
from tests.labs.conftest import SHIPPED_LABS, build_lab_course

SLUGS = ["host-readiness", "slat-vs-shadow", "live-migration", "linux-ics"]
SEEDS = [1, 2, 3, 7, 42, 1234]


@pytest.fixture
def more_labs(db: None, tmp_path: Path) -> dict[str, Lab]:
    folder = build_lab_course(tmp_path / "more-labs", SLUGS)
    intro = folder / "01-labs" / "intro.md"  # the shared lesson links to io-trap-trace, which this course lacks
    intro.write_text(
        intro.read_text().replace("[the trace lab](lab:io-trap-trace)", "[the SLAT lab](lab:slat-vs-shadow)")
    )
    course_load(folder)
    return {lab.item.slug: lab for lab in Lab.objects.select_related("item__course")}


@pytest.mark.parametrize("slug", SLUGS)
def test_the_lab_folder_validates(slug: str) -> None:
    problems, lab = validate_lab_folder(SHIPPED_LABS / slug)
    assert problems == []
    assert lab is not None and lab.max_points > 0 and lab.definition["solve"]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("slug", SLUGS)
def test_the_solve_lines_pass_every_check(more_labs: dict[str, Lab], slug: str, seed: int) -> None:
    out = StringIO()
    call_command("lab_solve", slug, "--seed", str(seed), stdout=out)
    assert "Every required check passes" in out.getvalue()


# --- Wrong paths, through the same console and engine as a learner ---------------------------------------


def _attempt(slug: str, seed: int, lines: list[str]) -> tuple[dict[str, Any], engine.Replay, dict[str, Any]]:
    """Replay console lines on a lab; return the variant values, the replay and the check results by id."""
    _, lab = validate_lab_folder(SHIPPED_LABS / slug)
    assert lab is not None
    definition = lab.definition
    params = engine.draw_params(definition, seed)
    actions = [
        command.action
        for line in lines
        for command in console.parse(engine.substitute(line, params))
        if command.action is not None
    ]
    outcome = engine.replay(definition, seed, params, actions)
    checks = {c.id: c for c in engine.evaluate_checks(definition, params, outcome)}
    return params, outcome, checks


def _solve_lines(slug: str) -> list[str]:
    _, lab = validate_lab_folder(SHIPPED_LABS / slug)
    assert lab is not None
    return list(lab.definition["solve"])


def test_host_readiness_vt_cannot_be_enabled_on_the_a0_bios() -> None:
    _, outcome, checks = _attempt("host-readiness", 3, ["bios set virtualization on", "bios set dep on", "reboot"])
    refused = outcome.steps[0]
    assert not refused.ok and refused.error is not None
    assert refused.error["error"] == "NotSupported"
    assert "upgrade the BIOS to A01 first" in refused.error["message"]
    assert checks["dep-enabled"].passed
    assert not checks["vt-enabled"].passed
    hv = checks["hypervisor-running"]
    assert not hv.passed
    assert "hypervisor.running = False" in hv.message and "apply at the next restart" in hv.message


def test_host_readiness_the_flashed_bios_needs_a_restart_before_its_vt_option() -> None:
    _, outcome, checks = _attempt("host-readiness", 3, ["bios upgrade A01", "bios set virtualization on"])
    assert not outcome.steps[1].ok and outcome.steps[1].error is not None
    assert "restart to reach the new setup option" in outcome.steps[1].error["message"]
    assert not checks["bios-a01"].passed and "running_version = 'A0'" in checks["bios-a01"].message


def test_host_readiness_bios_fixed_but_no_bcdedit_still_names_the_bcd_store() -> None:
    lines = ["bios upgrade A01", "reboot", "bios set virtualization on", "bios set dep on", "reboot cold"]
    _, outcome, checks = _attempt("host-readiness", 5, lines)
    snapshot = outcome.host.snapshot()
    assert snapshot["hypervisor"]["running"] is False
    assert snapshot["hypervisor"]["reasons"] == [
        "the BCD store has no hypervisorlaunchtype setting (typical after applying a captured image to new hardware): "
        "run 'bcdedit /set hypervisorlaunchtype auto' and reboot"
    ]
    assert checks["vt-enabled"].passed and checks["dep-enabled"].passed and checks["bios-a01"].passed
    bcd = checks["bcd-auto"]
    assert not bcd.passed
    assert "hypervisorlaunchtype = None" in bcd.message and "not this machine's BCD entry" in bcd.message


def test_host_readiness_a_plain_restart_leaves_the_vt_change_waiting_for_a_power_off() -> None:
    lines = ["bios upgrade A01", "reboot", "bios set virtualization on", "bios set dep on", "reboot"]
    _, outcome, checks = _attempt("host-readiness", 5, lines)
    snapshot = outcome.host.snapshot()
    assert snapshot["host"]["bios"]["virtualization_pending_power_off"] is True
    assert any("only after a full power-off" in reason for reason in snapshot["hypervisor"]["reasons"])
    assert not checks["vt-enabled"].passed and "reboot cold" in checks["vt-enabled"].message
    assert checks["dep-enabled"].passed


def test_host_readiness_the_first_boot_lists_three_reasons() -> None:
    _, outcome, checks = _attempt("host-readiness", 1, ["show host", "answer reasons-count 4"])
    assert len(outcome.host.snapshot()["hypervisor"]["reasons"]) == 3
    assert not checks["counted-reasons"].passed
    assert checks["counted-reasons"].message == "Expected the right answer; observed '4' (your answer)."


def test_slat_ending_with_an_untagged_run_fails_the_flush_check_with_the_observed_value() -> None:
    lines = ["mmu slat workload terminal-services tagged-tlb off"]
    _, _, checks = _attempt("slat-vs-shadow", 1, lines)
    assert checks["final-workload"].passed and checks["final-slat"].passed
    flushes = checks["final-few-flushes"]
    assert not flushes.passed
    assert "at most 100" in flushes.message and "6000" in flushes.message and "turn tagging back on" in flushes.message


def test_slat_the_model_gives_the_answers_the_lab_expects() -> None:
    lines = [
        "mmu shadow workload terminal-services",
        "mmu shadow workload terminal-services tagged-tlb off",
        "mmu shadow workload tlb-thrash-small-pages",
        "mmu slat workload tlb-thrash-small-pages",
        "mmu slat workload tlb-thrash-large-pages",
        "mmu slat workload terminal-services",
    ]
    _, outcome, _ = _attempt("slat-vs-shadow", 1, lines)
    r = [step.result or {} for step in outcome.steps]
    assert all(step.ok for step in outcome.steps)
    assert r[0]["overhead_cpu_pct"] == 9.7 and r[5]["overhead_cpu_pct"] == 1.91
    assert r[5]["hypervisor_cpu_pct"] == 0.6
    assert round(r[1]["tlb_flushes"] / r[0]["tlb_flushes"]) == 64
    assert r[3]["overhead_cpu_pct"] > r[2]["overhead_cpu_pct"]
    assert r[3]["hypervisor_cpu_pct"] < r[2]["hypervisor_cpu_pct"] < r[3]["guest_walk_cpu_pct"]  # the guest pays
    assert r[3]["walk_refs_per_miss"] == 24 and r[4]["walk_refs_per_miss"] == 19


def test_slat_a_wrong_answer_is_marked_without_revealing_the_key() -> None:
    _, _, checks = _attempt("slat-vs-shadow", 1, ["answer thrash-loser shadow", "answer walk-refs-4k 4"])
    assert checks["thrash-loser"].message == "Expected the right answer; observed 'shadow' (your answer)."
    assert checks["walk-refs-4k"].message == "Expected the right answer; observed '4' (your answer)."


def test_live_migration_to_the_amd_node_is_refused_with_the_prerequisite() -> None:
    params, outcome, checks = _attempt("live-migration", 2, ["migrate ${vm} to ${amd_node}"])
    step = outcome.steps[0]
    assert not step.ok and step.error is not None
    assert step.error["error"] == "NotSupported" and step.error["path"] == "destination.cpu_vendor"
    assert "cannot move across CPU vendors" in step.error["message"]
    moved = checks["vm-on-target"]
    assert not moved.passed
    assert f"node = {params['source']!r}" in moved.message and "same processor vendor" in moved.message
    assert not checks["converged"].passed and "none yet" in checks["converged"].message


def test_live_migration_to_the_other_subnet_is_refused_with_the_prerequisite() -> None:
    _, outcome, _ = _attempt("live-migration", 4, ["migrate ${vm} to ${far_node}"])
    error = outcome.steps[0].error
    assert error is not None and error["path"] == "destination.subnet"
    assert "must be on the same subnet" in error["message"]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_live_migration_moving_the_real_vm_at_the_busy_rate_fails_convergence_and_tcp(seed: int) -> None:
    params, outcome, checks = _attempt("live-migration", seed, ["migrate ${vm} to ${target} dirty-rate ${busy_rate}"])
    result = outcome.steps[0].result
    assert result is not None
    assert len(result["passes"]) == 10 and result["stop_reason"] == "reached the 10-pass limit"
    assert result["blackout_ms"] > 5000
    assert checks["vm-on-target"].passed  # it lands: 2008 R2 forces the switchover after the tenth pass
    assert not checks["converged"].passed and "move it when the job is paused" in checks["converged"].message
    assert not checks["within-tcp"].passed
    assert not checks["rehearsed"].passed and params["twin"] in checks["rehearsed"].title


def test_live_migration_declaring_no_load_or_a_faster_network_fails_the_guard_checks() -> None:
    _, _, no_load = _attempt("live-migration", 1, ["migrate ${vm} to ${target} dirty-rate 0"])
    assert no_load["converged"].passed and not no_load["honest-load"].passed
    assert "dirty-rate 20" in no_load["honest-load"].message
    _, _, fast = _attempt("live-migration", 1, ["migrate ${vm} to ${target} dirty-rate ${busy_rate} bandwidth 5000"])
    assert fast["converged"].passed and not fast["honest-network"].passed
    assert "119.2 MB/s" in fast["honest-network"].message


def test_live_migration_rehearsing_last_fails_the_last_move_check() -> None:
    lines = ["migrate ${vm} to ${target} dirty-rate 20", "migrate ${twin} to ${target} dirty-rate ${busy_rate}"]
    params, _, checks = _attempt("live-migration", 3, lines)
    last = checks["last-move-is-vm"]
    assert not last.passed and params["twin"] in last.observed and "last successful migration" in last.message


def test_linux_ics_the_v20_guest_refuses_a_graceful_shutdown_and_turning_it_off_fails_a_check() -> None:
    params, outcome, checks = _attempt("linux-ics", 2, ["vm shutdown ${vm20}", "vm turnoff ${vm20}"])
    refused = outcome.steps[0]
    assert not refused.ok and refused.error is not None and refused.error["wmi_return_code"] == 32770
    assert "lacks the shutdown integration component" in refused.error["message"]
    running = checks["vm20-still-running"]
    assert not running.passed and "'off'" in running.message and "pulling the power cord" in running.message
    assert params["vm20"] in running.message


def test_linux_ics_turning_the_v21_guest_off_is_not_a_graceful_shutdown() -> None:
    _, _, checks = _attempt("linux-ics", 2, ["vm turnoff ${vm21}"])
    assert checks["vm21-off"].passed
    assert not checks["vm21-shut-down"].passed and "none yet" in checks["vm21-shut-down"].message


def test_linux_ics_backup_modes_follow_the_guest() -> None:
    lines = ["vm backup ${win}", "vm shutdown ${vm21}", "vm backup ${vm21}", "vm backup ${vm20}"]
    params, outcome, checks = _attempt("linux-ics", 7, lines)
    backups = [step.result or {} for step in outcome.steps if step.action["op"] == "vm.backup"]
    modes = {result["vm"]: result["mode"] for result in backups}
    assert modes == {params["win"]: "online", params["vm21"]: "vm-off", params["vm20"]: "saved-state"}
    failed = {result["vm"]: result["failed"] for result in backups}
    assert failed == {params["win"]: None, params["vm21"]: None, params["vm20"]: "backup-is-installed"}
    assert checks["linux-backup-saved-state"].passed
    assert checks["vm20-still-running"].passed  # the saved state lasts for the snapshot; the VM resumes
    _, _, ended_on_windows = _attempt("linux-ics", 7, ["vm backup ${vm20}", "vm backup ${win}"])
    assert not ended_on_windows["linux-backup-saved-state"].passed
    assert "'online'" in ended_on_windows["linux-backup-saved-state"].message


def test_solve_lines_do_not_depend_on_an_unlisted_variant() -> None:
    for slug in SLUGS:
        for line in _solve_lines(slug):
            assert "${" not in engine.substitute(line, engine.draw_params(_definition(slug), 1)), line


def _definition(slug: str) -> dict[str, Any]:
    _, lab = validate_lab_folder(SHIPPED_LABS / slug)
    assert lab is not None
    return lab.definition


def _question(slug: str, question_id: str) -> dict[str, Any]:
    _, lab = validate_lab_folder(SHIPPED_LABS / slug)
    assert lab is not None
    return next(q for q in lab.definition["questions"] if q["id"] == question_id)


def test_the_quick_migration_answer_and_answer_key_are_what_the_simulator_computes() -> None:
    from labs.sim.migration import MigrationRequest, QuickMigrationRequest, migrate, quick_migrate

    quick = quick_migrate(QuickMigrationRequest("vm", 8192))
    assert _question("live-migration", "quick-downtime")["answer"] == quick.downtime_seconds
    key = (SHIPPED_LABS / "live-migration" / "answer-key.md").read_text()
    assert f"**quick-downtime** {quick.downtime_seconds} s" in key
    assert f"{quick.save_seconds} s to\n  save" in key or f"{quick.save_seconds} s to save" in key
    slow = migrate(MigrationRequest("vm", 8192, 20.0, bandwidth_mb_s=60))
    assert f"the night move needs {len(slow.passes)}" in key


def test_the_slat_answer_key_table_is_what_the_simulator_computes() -> None:
    from labs.sim import mmu

    key = (SHIPPED_LABS / "slat-vs-shadow" / "answer-key.md").read_text()
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in key.splitlines() if line.startswith("| ") and "," in line.split("|")[1]}
    for label, cells in rows.items():
        workload, mode, tagging = (part.strip() for part in label.split(","))
        r = mmu.simulate("slat" if mode == "SLAT" else "shadow", tagging == "tagged", mmu.WORKLOADS[workload])
        expected = [r.overhead_cpu_pct, r.hypervisor_cpu_pct, r.guest_walk_cpu_pct]
        assert [float(c) for c in cells[:3]] == expected, label
        assert int(cells[3].replace(",", "")) == r.vm_exits and int(cells[5]) == r.walk_refs_per_miss, label
    assert len(rows) == 7
    assert _question("slat-vs-shadow", "ts-slat-hypervisor-pct")["answer"] == mmu.simulate(
        "slat", True, mmu.WORKLOADS["terminal-services"]
    ).hypervisor_cpu_pct
