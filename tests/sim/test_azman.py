"""Authorization Manager as Hyper-V uses it: fixed operations, tasks, roles, scoped assignments, explained checks."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labs.sim.azman import (
    ADMINISTRATORS_GROUP,
    APPLICATION_NAME,
    OPERATIONS,
    STORE_LOCATION,
    AzStore,
)
from labs.sim.errors import InvalidParameter, InvalidState, NotFound, NotSupported, ScenarioError

FACT_SHEET_OPERATIONS = [
    "Read Service Configuration",
    "Reconfigure Service",
    "Create Virtual Machine",
    "Delete Virtual Machine",
    "Change Virtual Machine Authorization Scope",
    "Start Virtual Machine",
    "Stop Virtual Machine",
    "Pause and Restart Virtual Machine",
    "Reconfigure Virtual Machine",
    "View Virtual Machine Configuration",
    "Allow Input to Virtual Machine",
    "Allow Output from Virtual Machine",
    "Modify Internal Ethernet Port",
    "Create Internal Ethernet Port",
    "Delete Internal Ethernet Port",
    "Bind to External Ethernet Port",
    "Unbind from External Ethernet Port",
    "Create Virtual Switch",
    "Delete Virtual Switch",
    "Modify Switch Settings",
    "Create Virtual Switch Port",
    "Delete Virtual Switch Port",
    "Connect Virtual Switch Port",
    "Disconnect Virtual Switch Port",
    "Modify Switch Port Settings",
    "Change VLAN Configuration on Port",
    "View Switches",
    "View Switch Ports",
    "View External Ethernet Ports",
    "View Internal Ethernet Ports",
    "View VLAN Settings",
    "View LAN Endpoints",
    "View Virtual Switch Management Service",
]

SCENARIO = {
    "scopes": [{"name": "Finance", "description": "Finance VMs"}, {"name": "HR"}],
    "tasks": [
        {"name": "Power", "operations": ["Start Virtual Machine", "Stop Virtual Machine"]},
        {"name": "Console", "operations": ["Allow Input to Virtual Machine", "Allow Output from Virtual Machine"]},
        {"name": "Operate", "operations": ["View Virtual Machine Configuration"], "tasks": ["Power", "Console"]},
    ],
    "role_definitions": [
        {"name": "VM Operators", "tasks": ["Operate"]},
        {"name": "VM Viewers", "operations": ["View Virtual Machine Configuration"]},
    ],
    "role_assignments": [
        {"role": "VM Operators", "members": ["CONTOSO\\HR-Ops"], "scope": "HR"},
        {"role": "VM Viewers", "members": ["CONTOSO\\alice"], "scope": "Finance"},
        {"role": "VM Operators", "members": ["CONTOSO\\Helpdesk"]},
    ],
}


@pytest.fixture
def store() -> AzStore:
    return AzStore.from_scenario(SCENARIO, "scenario.authorization")


def test_exactly_the_33_fact_sheet_operations() -> None:
    assert len(OPERATIONS) == 33
    assert [OPERATIONS[k] for k in sorted(OPERATIONS)] == FACT_SHEET_OPERATIONS
    assert OPERATIONS[215] == "Start Virtual Machine"


def test_default_store_location_and_application() -> None:
    d = AzStore().to_dict()
    assert d["store"]["location"] == STORE_LOCATION
    assert d["store"]["location"].endswith("\\Microsoft\\Windows\\Hyper-V\\InitialStore.xml")
    assert d["store"]["registry"]["ServiceApplication"] == APPLICATION_NAME == "Hyper-V services"
    assert d["store"]["registry"]["StoreLocation"] == STORE_LOCATION


def test_default_store_lets_local_administrators_do_all_33_operations_anywhere() -> None:
    s = AzStore()
    s.create_scope("Finance")
    admin = next(r for r in s.to_dict()["application"]["role_definitions"] if r["name"] == "Administrator")
    assert len(admin["operations"]) == 33
    for op in FACT_SHEET_OPERATIONS:
        for scope in ("", "Finance"):
            d = s.access_check("bob", ["builtin\\administrators"], op, scope)  # group names are case-insensitive
            assert d.allowed, (op, scope)
            assert d.member == ADMINISTRATORS_GROUP and d.role == "Administrator" and d.assignment_scope == ""


def test_a_user_outside_administrators_is_denied_by_default() -> None:
    d = AzStore().access_check("CONTOSO\\eve", ["CONTOSO\\Domain Users"], "Start Virtual Machine", "")
    assert not d.allowed
    assert "CONTOSO\\eve has no role assignment" in d.reason and "Start Virtual Machine" in d.reason


def test_store_without_default_administrators_denies_them() -> None:
    s = AzStore.from_scenario({"default_administrators": False}, "a")
    assert not s.access_check("bob", [ADMINISTRATORS_GROUP], "Start Virtual Machine", "").allowed


@pytest.mark.parametrize("action", ["create", "change", "delete"])
def test_operations_cannot_be_created_or_changed(action: str) -> None:
    s = AzStore()
    with pytest.raises(NotSupported, match="You cannot create or change operations"):
        if action == "create":
            s.create_operation("Snapshot Virtual Machine", 500)
        elif action == "change":
            s.change_operation("Start Virtual Machine", new_name="Boot Virtual Machine")
        else:
            s.delete_operation("Start Virtual Machine")
    assert len(s.operations()) == 33


def test_scoped_assignment_applies_only_in_its_scope(store: AzStore) -> None:
    allowed = store.access_check("CONTOSO\\carol", ["CONTOSO\\HR-Ops"], "Start Virtual Machine", "HR")
    assert allowed.allowed
    assert allowed.assignment_scope == "HR" and allowed.role == "VM Operators"
    assert allowed.member == "CONTOSO\\HR-Ops"

    denied = store.access_check("CONTOSO\\carol", ["CONTOSO\\HR-Ops"], "Start Virtual Machine", "Finance")
    assert not denied.allowed
    assert "at scope Finance or at application level" in denied.reason
    assert "VM Operators" in denied.reason and "scope HR does not apply to a VM in scope Finance" in denied.reason


def test_application_level_assignment_applies_to_every_scope(store: AzStore) -> None:
    for scope in ("", "Finance", "HR"):
        d = store.access_check("CONTOSO\\dave", ["CONTOSO\\Helpdesk"], "Stop Virtual Machine", scope)
        assert d.allowed and d.assignment_scope == ""
    d = store.access_check("CONTOSO\\dave", ["CONTOSO\\Helpdesk"], "Stop Virtual Machine", "Finance")
    assert "application level" in d.reason and "apply to every scope" in d.reason


def test_nested_tasks_reach_operations_and_the_path_is_reported(store: AzStore) -> None:
    d = store.access_check("x", ["CONTOSO\\HR-Ops"], "Allow Input to Virtual Machine", "HR")
    assert d.allowed and d.task_path == ("Operate", "Console")
    assert "'Operate' -> 'Console'" in d.reason
    direct = store.access_check("x", ["CONTOSO\\HR-Ops"], "View Virtual Machine Configuration", "HR")
    assert direct.task_path == ("Operate",)


def test_role_that_does_not_include_the_operation_is_explained(store: AzStore) -> None:
    d = store.access_check("CONTOSO\\alice", [], "Start Virtual Machine", "Finance")
    assert not d.allowed
    assert any("VM Viewers" in n and "does not include 'Start Virtual Machine'" in n for n in d.notes)
    assert store.access_check("contoso\\ALICE", [], "View Virtual Machine Configuration", "Finance").allowed


def test_user_matched_directly_and_through_group() -> None:
    s = AzStore.from_scenario(
        {
            "role_definitions": [{"name": "Starters", "operations": ["Start Virtual Machine"]}],
            "role_assignments": [{"role": "Starters", "members": ["CONTOSO\\alice", "CONTOSO\\Ops"]}],
        },
        "a",
    )
    assert s.access_check("CONTOSO\\alice", [], "Start Virtual Machine", "").member == "CONTOSO\\alice"
    via_group = s.access_check("CONTOSO\\bob", ["CONTOSO\\Ops"], "Start Virtual Machine", "")
    assert via_group.member == "CONTOSO\\Ops" and "through group CONTOSO\\Ops" in via_group.reason
    assert not s.access_check("CONTOSO\\bob", ["CONTOSO\\Sales"], "Start Virtual Machine", "").allowed


def test_scope_assignment_is_reported_before_application_level(store: AzStore) -> None:
    store.assign("VM Viewers", "CONTOSO\\Helpdesk", "Finance")
    d = store.access_check("dave", ["CONTOSO\\Helpdesk"], "View Virtual Machine Configuration", "Finance")
    assert d.assignment_scope == "Finance" and d.role == "VM Viewers"


def test_unknown_operation_suggests_the_closest() -> None:
    with pytest.raises(InvalidParameter) as exc:
        AzStore().access_check("bob", [], "Start Virtual Machin", "")
    assert "Did you mean 'Start Virtual Machine'" in exc.value.message
    assert exc.value.path == "operation" and exc.value.wmi_return_code == 32773


def test_unknown_scope_in_access_check_is_not_found() -> None:
    with pytest.raises(NotFound) as exc:
        AzStore().access_check("bob", [], "Start Virtual Machine", "Payroll")
    assert exc.value.path == "scope"


def test_scopes_lifecycle() -> None:
    s = AzStore()
    assert s.has_scope("") and not s.has_scope("Finance")
    s.create_scope("Finance", "money")
    assert s.has_scope("Finance")
    with pytest.raises(InvalidState):
        s.create_scope("Finance")
    s.create_role_definition("Fin", ["Start Virtual Machine"], [], scope="Finance")
    s.assign("Fin", "CONTOSO\\alice", "Finance")
    assert s.access_check("CONTOSO\\alice", [], "Start Virtual Machine", "Finance").allowed
    s.delete_scope("Finance")
    assert not s.has_scope("Finance")
    with pytest.raises(NotFound):
        s.delete_scope("Finance")


def test_unassign_removes_access(store: AzStore) -> None:
    store.unassign("VM Operators", "contoso\\hr-ops", "HR")
    assert not store.access_check("x", ["CONTOSO\\HR-Ops"], "Start Virtual Machine", "HR").allowed
    with pytest.raises(NotFound):
        store.unassign("VM Operators", "CONTOSO\\HR-Ops", "HR")


def test_add_and_remove_from_role_definition(store: AzStore) -> None:
    store.add_to_role_definition("VM Viewers", operations=["Start Virtual Machine"])
    assert store.access_check("CONTOSO\\alice", [], "Start Virtual Machine", "Finance").allowed
    store.remove_from_role_definition("VM Viewers", operations=["Start Virtual Machine"])
    assert not store.access_check("CONTOSO\\alice", [], "Start Virtual Machine", "Finance").allowed


def test_task_cannot_include_itself(store: AzStore) -> None:
    with pytest.raises(InvalidParameter, match="cannot include itself"):
        store.add_to_task("Power", tasks=["Operate"])


def test_scope_level_definitions_are_invisible_elsewhere() -> None:
    s = AzStore()
    s.create_scope("HR")
    s.create_scope("Finance")
    s.create_task("HR Power", ["Start Virtual Machine"], scope="HR")
    with pytest.raises(NotFound):
        s.create_role_definition("Fin", [], ["HR Power"], scope="Finance")
    with pytest.raises(NotFound):
        s.create_role_definition("App", [], ["HR Power"])


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"scopez": []}, "scenario.authorization.scopez"),
        ({"scopes": [{"name": "A", "colour": "red"}]}, "scenario.authorization.scopes[0].colour"),
        (
            {"tasks": [{"name": "T", "operations": ["Strat Virtual Machine"]}]},
            "scenario.authorization.tasks[0].operations[0]",
        ),
        ({"tasks": [{"name": "T", "tasks": ["Missing"]}]}, "scenario.authorization.tasks[0].tasks[0]"),
        ({"role_definitions": [{"name": "R", "scope": "Nowhere"}]}, "scenario.authorization.role_definitions[0].scope"),
        (
            {"role_assignments": [{"role": "Ghost", "members": ["x"]}]},
            "scenario.authorization.role_assignments[0].role",
        ),
        (
            {"role_assignments": [{"role": "Administrator", "members": []}]},
            "scenario.authorization.role_assignments[0].members",
        ),
        ({"scopes": "Finance"}, "scenario.authorization.scopes"),
        ({"default_administrators": "yes"}, "scenario.authorization.default_administrators"),
    ],
)
def test_scenario_errors_name_the_field(data: dict[str, object], path: str) -> None:
    with pytest.raises(ScenarioError) as exc:
        AzStore.from_scenario(data, "scenario.authorization")
    assert exc.value.path == path


def test_scenario_suggests_operation_names() -> None:
    with pytest.raises(ScenarioError, match="Did you mean 'Start Virtual Machine'"):
        AzStore.from_scenario({"tasks": [{"name": "T", "operations": ["Strat Virtual Machine"]}]}, "a")


def test_to_dict_is_a_json_tree(store: AzStore) -> None:
    d = store.to_dict()
    json.dumps(d, sort_keys=True)
    app = d["application"]
    assert app["name"] == "Hyper-V services"
    assert [s["name"] for s in app["scopes"]] == ["Finance", "HR"]
    hr = next(s for s in app["scopes"] if s["name"] == "HR")
    assert hr["role_assignments"] == [{"role": "VM Operators", "members": ["CONTOSO\\HR-Ops"]}]
    assert {t["name"] for t in app["tasks"]} == {"Power", "Console", "Operate"}
    assert len(app["operations"]) == 33


def test_same_inputs_same_output() -> None:
    a = AzStore.from_scenario(SCENARIO, "a")
    b = AzStore.from_scenario(SCENARIO, "a")
    assert a.to_dict() == b.to_dict()
    da = a.access_check("x", ["CONTOSO\\HR-Ops", "CONTOSO\\Helpdesk"], "Start Virtual Machine", "Finance")
    db = b.access_check("x", ["CONTOSO\\Helpdesk", "CONTOSO\\HR-Ops"], "Start Virtual Machine", "Finance")
    assert da.to_dict() == db.to_dict()  # group order does not change the decision or its explanation


@given(
    groups=st.lists(st.sampled_from(["CONTOSO\\HR-Ops", "CONTOSO\\Helpdesk", "CONTOSO\\alice", "X"]), max_size=4),
    op=st.sampled_from(FACT_SHEET_OPERATIONS),
    scope=st.sampled_from(["", "Finance", "HR"]),
)
def test_access_check_matches_the_rule(groups: list[str], op: str, scope: str) -> None:
    """Allowed iff an assignment at the VM's scope or application level reaches the operation."""
    s = AzStore.from_scenario(SCENARIO, "a")
    d = s.access_check("CONTOSO\\nobody", groups, op, scope)
    operate = {
        "View Virtual Machine Configuration",
        "Start Virtual Machine",
        "Stop Virtual Machine",
        "Allow Input to Virtual Machine",
        "Allow Output from Virtual Machine",
    }
    expected = (
        ("CONTOSO\\Helpdesk" in groups and op in operate)
        or (scope == "HR" and "CONTOSO\\HR-Ops" in groups and op in operate)
        or (scope == "Finance" and "CONTOSO\\alice" in groups and op == "View Virtual Machine Configuration")
    )
    assert d.allowed == expected
    assert d.reason.endswith(".")


def test_deleting_a_task_unlinks_it_and_removes_the_access_it_gave(store: AzStore) -> None:
    assert store.access_check("x", ["CONTOSO\\Helpdesk"], "Start Virtual Machine", "HR").allowed
    store.delete_task("Power")
    assert not store.access_check("x", ["CONTOSO\\Helpdesk"], "Start Virtual Machine", "HR").allowed
    assert store.access_check("x", ["CONTOSO\\Helpdesk"], "Allow Input to Virtual Machine", "HR").allowed
    operate = next(t for t in store.to_dict()["application"]["tasks"] if t["name"] == "Operate")
    assert operate["tasks"] == ["Console"]
    with pytest.raises(NotFound):
        store.delete_task("Power")


def test_deleting_a_role_definition_removes_its_assignments(store: AzStore) -> None:
    store.delete_role_definition("VM Operators")
    assert not store.access_check("x", ["CONTOSO\\HR-Ops"], "Start Virtual Machine", "HR").allowed
    assert all(a["role"] != "VM Operators" for a in store.assignments())
