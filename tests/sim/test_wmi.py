"""WMI v1 surface: classes, methods, return codes, jobs, and the WQL parser."""

from __future__ import annotations

import pytest

from labs.sim.actions import apply
from labs.sim.errors import NotFound, NotSupported
from labs.sim.host import Host
from labs.sim.wmi import RETURN_CODES, BoolOp, Comparison, WqlError, parse_wql

SCENARIO = {
    "authorization": {"scopes": [{"name": "Finance"}]},
    "vms": [{"name": "fin-sql01", "state": "running", "scope": "Finance"}, {"name": "web01"}],
}


def test_parse_simple_query() -> None:
    q = parse_wql("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='x'")
    assert q.properties is None and q.class_name == "Msvm_ComputerSystem"
    assert q.where == Comparison("ElementName", "=", "x", 41)


def test_parse_projection_and_boolean_logic() -> None:
    q = parse_wql('select Name, EnabledState from msvm_computersystem where (EnabledState = 2 or '
                  'EnabledState <> 3) and not Caption = "Hosting Computer System"')
    assert q.properties == ("Name", "EnabledState")
    assert isinstance(q.where, BoolOp) and q.where.op == "AND"


@pytest.mark.parametrize(
    ("query", "at"),
    [
        ("SELECT FROM Msvm_ComputerSystem", "FROM"),
        ("SELECT * Msvm_ComputerSystem", "Msvm"),
        ("SELECT * FROM Msvm_ComputerSystem WHERE ElementName='x", "'x"),
        ("SELECT * FROM Msvm_ComputerSystem WHERE ElementName 'x'", "'x'"),
        ("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = #", "#"),
        ("DELETE FROM Msvm_ComputerSystem", "DELETE"),
        ("SELECT * FROM Msvm_ComputerSystem garbage", "garbage"),
    ],
)
def test_syntax_errors_carry_the_column(query: str, at: str) -> None:
    column = query.index(at) + 1
    with pytest.raises(WqlError) as err:
        parse_wql(query)
    assert err.value.column == column
    assert f"column {column}" in str(err.value)


def test_error_at_end_of_query_points_past_the_last_character() -> None:
    query = "SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'x' AND"
    with pytest.raises(WqlError, match="end of query") as err:
        parse_wql(query)
    assert err.value.column == len(query) + 1


def test_query_vm_by_element_name_like_the_seed_script() -> None:
    h = Host(SCENARIO)
    r = apply(h, {"op": "wmi.query", "wql": "SELECT * FROM Msvm_ComputerSystem WHERE ElementName='fin-sql01'"})
    assert r["count"] == 1
    vm = r["instances"][0]
    assert vm["Caption"] == "Virtual Machine" and vm["EnabledState"] == 2
    assert vm["ProcessID"] == h.vm("fin-sql01").vmwp_pid and vm["Name"] == h.vm("fin-sql01").guid
    assert vm["HealthState"] == 5


def test_host_is_a_computer_system_too() -> None:
    h = Host(SCENARIO)
    r = h.wmi_query("SELECT Name, Caption FROM Msvm_ComputerSystem WHERE Caption = 'hosting computer system'")
    assert r["instances"] == [{"Name": "HV01", "Caption": "Hosting Computer System"}]


def test_management_service_and_global_settings() -> None:
    h = Host(SCENARIO)
    svc = h.wmi_query("SELECT * FROM Msvm_VirtualSystemManagementService")["instances"]
    assert svc[0]["Name"] == "vmms" and svc[0]["ProcessID"] == h.vmms_pid
    gsd = h.wmi_query("SELECT ElementName, ScopeOfResidence FROM Msvm_VirtualSystemGlobalSettingData "
                      "WHERE ScopeOfResidence = 'Finance'")["instances"]
    assert gsd == [{"ElementName": "fin-sql01", "ScopeOfResidence": "Finance"}]
    full = h.wmi_query("SELECT * FROM Msvm_VirtualSystemGlobalSettingData WHERE ElementName='web01'")["instances"][0]
    assert full["AutomaticRecoveryAction"] == 1 and full["AutomaticShutdownAction"] == 1
    assert full["InstanceID"] == f"Microsoft:{h.vm('web01').guid}"


def test_unknown_class_and_property_are_query_errors() -> None:
    h = Host(SCENARIO)
    with pytest.raises(WqlError) as err:
        h.wmi_query("SELECT * FROM Win32_Process")
    assert err.value.column == 15
    with pytest.raises(WqlError, match="no property 'Colour'"):
        h.wmi_query("SELECT * FROM Msvm_ComputerSystem WHERE Colour = 'red'")
    with pytest.raises(WqlError, match="no property 'Colour'"):
        h.wmi_query("SELECT Colour FROM Msvm_ComputerSystem")


def test_modify_system_sets_scope_of_residence() -> None:
    h = Host(SCENARIO)
    r = apply(h, {"op": "wmi.modify_system", "vm": "web01", "scope_of_residence": "Finance"})
    assert r["ReturnValue"] == 0 and h.vm("web01").scope == "Finance"


def test_missing_scope_falls_back_to_default_with_an_event() -> None:
    h = Host(SCENARIO)
    r = apply(h, {"op": "wmi.modify_system", "vm": "web01", "scope_of_residence": "Marketing"})
    assert r["scope_of_residence"] == "" and h.vm("web01").scope == ""
    assert h.trace.events[-1]["kind"] == "scope_fallback"
    assert "moves back to the default" in str(h.trace.events[-1]["summary"])


def test_scenario_vm_in_a_missing_scope_falls_back() -> None:
    h = Host({"vms": [{"name": "x", "scope": "Nowhere"}]})
    assert h.vm("x").scope == ""
    assert any(e["kind"] == "scope_fallback" for e in h.trace.events)


def test_deleting_a_scope_moves_its_vms_to_the_default_scope() -> None:
    h = Host(SCENARIO)
    apply(h, {"op": "azman.delete_scope", "name": "Finance"})
    assert h.vm("fin-sql01").scope == ""


def test_define_and_destroy() -> None:
    h = Host({})
    r = apply(h, {"op": "vm.define", "name": "new", "guest": "windows-enlightened", "memory_mb": 512})
    assert r["ReturnValue"] == 0 and r["vm"]["state"] == "off"
    d = apply(h, {"op": "vm.destroy", "vm": "new"})
    assert d["ReturnValue"] == 4096 and d["Job"]["JobState"] == 7 and d["Job"]["ErrorCode"] == 0
    with pytest.raises(NotFound) as err:
        apply(h, {"op": "vm.destroy", "vm": "new"})
    assert err.value.wmi_return_code == 32777


def test_query_needs_the_role() -> None:
    h = Host({"host": {"hyperv_role": False}})
    with pytest.raises(NotSupported):
        h.wmi_query("SELECT * FROM Msvm_ComputerSystem")


def test_return_code_table() -> None:
    assert RETURN_CODES[0] == "Completed with No Error"
    assert RETURN_CODES[4096].endswith("Job Started")
    assert {32768, 32769, 32770, 32773, 32775, 32777, 32778} <= set(RETURN_CODES)
