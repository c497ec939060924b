"""Host hardware and boot: the hypervisor launches, or the host says exactly why not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from labs.sim.actions import apply, replay
from labs.sim.errors import HardwareError, InvalidParameter, NotSupported, ScenarioError
from labs.sim.host import Host

SCENARIOS = Path(__file__).resolve().parents[2] / "labs" / "sim" / "scenarios"


def host_with(**host: Any) -> Host:
    return Host({"host": host})


def test_default_intel_host_launches_hvix64_and_root_is_partition_1() -> None:
    h = host_with()
    snap = h.snapshot()
    assert snap["hypervisor"] == {"running": True, "image": "hvix64.exe", "reasons": []}
    assert snap["partitions"] == [{"id": 1, "kind": "root", "node": "HV01"}]
    assert [p["name"] for p in snap["processes"]] == ["vmms.exe"]


def test_amd_host_launches_hvax64() -> None:
    assert host_with(cpu={"vendor": "amd"}).hypervisor_image == "hvax64.exe"


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ({"bios": {"dep_enabled": False}}, "hardware DEP (XD, Execute Disable) is disabled in the BIOS"),
        ({"cpu": {"vendor": "amd"}, "bios": {"dep_enabled": False}}, "hardware DEP (NX, No Execute) is disabled"),
        ({"bios": {"virtualization_enabled": False}}, "(Intel VT-x) is disabled in the BIOS"),
        ({"cpu": {"vendor": "amd"}, "bios": {"virtualization_enabled": False}}, "(AMD-V) is disabled in the BIOS"),
        ({"cpu": {"virtualization": False, "slat": False}}, "the processor has no hardware-assisted virtualization"),
        ({"hyperv_role": False}, "the Hyper-V role is not installed"),
        ({"bcd": {"hypervisorlaunchtype": "off"}}, "hypervisorlaunchtype is off"),
        ({"bcd": {"hypervisorlaunchtype": None}}, "no hypervisorlaunchtype setting"),
    ],
)
def test_no_hypervisor_and_the_exact_reason(host: dict[str, Any], reason: str) -> None:
    h = Host({"host": host})
    assert not h.hypervisor_running
    assert reason in h.no_hypervisor_reasons[0]
    event = [e for e in h.trace.events if e["kind"] == "hypervisor_not_launched"][0]
    assert reason in str(event["summary"])
    assert h.snapshot()["partitions"] == []


def test_dep_off_scenario_file_has_no_hypervisor_and_vms_cannot_start() -> None:
    h = Host(SCENARIOS / "dep-off.yaml")
    assert h.no_hypervisor_reasons == ["hardware DEP (XD, Execute Disable) is disabled in the BIOS"]
    apply(h, {"op": "vm.define", "name": "v", "guest": "windows-enlightened", "memory_mb": 512})
    with pytest.raises(HardwareError, match="hypervisor is not running: hardware DEP"):
        apply(h, {"op": "vm.state", "vm": "v", "requested_state": 2})


def test_impossible_hardware_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError) as err:
        Host({"host": {"cpu": {"virtualization": False, "slat": True}}})
    assert err.value.path == "host.cpu.slat"
    with pytest.raises(ScenarioError) as err:
        Host({"host": {"cpu": {"arch": "ia64"}}})
    assert err.value.path == "host.hyperv_role"


def test_non_x64_host_cannot_install_the_role() -> None:
    h = Host({"host": {"cpu": {"arch": "x86", "virtualization": False, "slat": False}, "hyperv_role": False}})
    assert "not x64" in h.no_hypervisor_reasons[1]
    with pytest.raises(NotSupported, match="x64"):
        apply(h, {"op": "role.install", "role": "Hyper-V"})


def test_all_reasons_are_listed() -> None:
    h = host_with(bios={"dep_enabled": False, "virtualization_enabled": False})
    assert len(h.no_hypervisor_reasons) == 2


def test_yaml_bare_off_means_off() -> None:
    h = Host({"host": {"bcd": {"hypervisorlaunchtype": False}}})
    assert h.hypervisorlaunchtype == "off"


def test_imaged_server_needs_bcdedit_and_reboot() -> None:
    h = Host(SCENARIOS / "imaged-server.yaml")
    assert h.role_installed and not h.hypervisor_running
    apply(h, {"op": "host.reboot"})
    assert not h.hypervisor_running, "a reboot alone does not fix the BCD store"
    apply(h, {"op": "bcdedit.set", "key": "hypervisorlaunchtype", "value": "auto"})
    assert not h.hypervisor_running and h.pending_reboot
    apply(h, {"op": "host.reboot"})
    assert h.hypervisor_running
    apply(h, {"op": "vm.state", "vm": "app01", "requested_state": 2})
    assert h.vm("app01").partition_id == 2


def test_laptop_m17x_needs_bios_upgrade_before_vt_can_be_enabled() -> None:
    h = Host(SCENARIOS / "laptop-m17x.yaml")
    assert "Intel VT-x" in h.no_hypervisor_reasons[0]
    with pytest.raises(NotSupported, match="upgrade the BIOS to A01"):
        apply(h, {"op": "bios.set", "setting": "virtualization", "value": True})
    apply(h, {"op": "bios.upgrade", "version": "A01"})
    with pytest.raises(NotSupported, match="restart to reach the new setup option"):
        apply(h, {"op": "bios.set", "setting": "virtualization", "value": True})
    apply(h, {"op": "host.reboot"})
    assert not h.hypervisor_running, "VT is still disabled by default after the upgrade"
    apply(h, {"op": "bios.set", "setting": "virtualization", "value": True})
    apply(h, {"op": "host.reboot"})
    assert h.hypervisor_running and h.hypervisor_image == "hvix64.exe"


def test_bios_upgrade_must_be_newer_and_known() -> None:
    h = Host(SCENARIOS / "laptop-m17x.yaml")
    with pytest.raises(Exception, match="A02"):
        apply(h, {"op": "bios.upgrade", "version": "A02"})
    apply(h, {"op": "bios.upgrade", "version": "A01"})
    with pytest.raises(InvalidParameter, match="not newer"):
        apply(h, {"op": "bios.upgrade", "version": "A0"})


def test_scenario_rejects_vt_enabled_on_a_bios_without_the_option() -> None:
    with pytest.raises(ScenarioError) as err:
        Host({"host": {"bios": {"version": "A0", "versions": ["A0", "A01"], "vt_option_available_from": "A01"}}})
    assert err.value.path == "host.bios.virtualization_enabled"


def test_role_install_sets_launchtype_and_needs_reboot() -> None:
    h = Host({"host": {"hyperv_role": False, "bcd": {"hypervisorlaunchtype": None}}})
    assert h.vmms_pid is None
    result = apply(h, {"op": "role.install", "role": "Hyper-V"})
    assert result["reboot_required"] and h.hypervisorlaunchtype == "auto" and not h.hypervisor_running
    apply(h, {"op": "host.reboot"})
    assert h.hypervisor_running and h.vmms_pid is not None


def test_reboot_saves_running_vms_and_restores_them() -> None:
    h = replay({"vms": [{"name": "a", "state": "running"}, {"name": "b", "state": "running"}]}, 1,
               [{"op": "vm.state", "vm": "b", "requested_state": 32768}, {"op": "host.reboot"}])
    assert h.vm("a").state == 2 and h.vm("b").state == 32769
    ids = [e["partition_id"] for e in h.partition_log if e["boot"] == 2]
    assert ids == [1, 2], "a new hypervisor instance assigns ids from 1 again (root first)"
    assert h.invariants() == []


def test_slat_needs_r2_and_ept_rvi() -> None:
    assert Host({"host": {"os": {"version": "2008 R2"}}}).slat_available
    assert not Host({"host": {"os": {"version": "2008"}}}).slat_available
    assert not Host({"host": {"cpu": {"slat": False}}}).slat_available
    r1 = Host({"host": {"os": {"version": "2008"}}})
    assert "Windows Server 2008 (R1) has no SLAT support" in str(r1.trace.events[3]["summary"])


def test_server_core_is_named_in_the_boot_trace() -> None:
    h = Host({"host": {"os": {"installation": "core"}}})
    assert "Server Core" in str(h.trace.events[1]["summary"])


def test_server_core_installs_the_role_with_ocsetup() -> None:
    core = Host({"host": {"hyperv_role": False, "os": {"installation": "core"}, "bcd": {"hypervisorlaunchtype": None}}})
    result = apply(core, {"op": "role.install", "role": "Hyper-V"})
    assert result["command"] == "start /w ocsetup Microsoft-Hyper-V"
    assert core.trace.events[-1]["component"] == "ocsetup.exe"
    full = Host({"host": {"hyperv_role": False, "bcd": {"hypervisorlaunchtype": None}}})
    assert "Server Manager" in apply(full, {"op": "role.install", "role": "Hyper-V"})["command"]


def _needs_power_off() -> Host:
    return Host({"host": {"bios": {"virtualization_enabled": False, "vt_change_needs_power_off": True}}})


def test_a_vt_change_waits_for_a_full_power_off_on_machines_that_need_one() -> None:
    h = _needs_power_off()
    result = apply(h, {"op": "bios.set", "setting": "virtualization", "value": True})
    assert result["power_off_required"] is True
    apply(h, {"op": "host.reboot"})
    assert not h.hypervisor_running and not h.bios_virtualization
    assert "only after a full power-off" in h.no_hypervisor_reasons[0]
    assert h.snapshot()["host"]["bios"]["virtualization_pending_power_off"] is True
    apply(h, {"op": "host.reboot", "cold": True})
    assert h.hypervisor_running and h.bios_virtualization
    assert h.snapshot()["host"]["bios"]["virtualization_pending_power_off"] is None


def test_without_the_parameter_a_restart_applies_the_vt_change() -> None:
    h = Host({"host": {"bios": {"virtualization_enabled": False}}})
    apply(h, {"op": "bios.set", "setting": "virtualization", "value": True})
    apply(h, {"op": "host.reboot"})
    assert h.hypervisor_running
