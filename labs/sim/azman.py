"""Authorization Manager (AzMan) as Windows Server 2008 / 2008 R2 Hyper-V uses it.

Hyper-V keeps its authorization policy in an AzMan XML store,
``%ProgramData%\\Microsoft\\Windows\\Hyper-V\\InitialStore.xml``, named by the registry values
``StoreLocation`` and ``ServiceApplication`` under
``HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization``; the application is
"Hyper-V services" (John Howard, "Explaining the Hyper-V authorization model", parts 1-3).

The model:

* **Operations** are fixed: the 33 of :data:`OPERATIONS`. "You cannot create or change operations."
* **Tasks** group operations and may include other tasks.
* **Role definitions** group operations and tasks.
* **Role assignments** bind users and groups to one role definition.
* **Scopes** are created under the application; tasks, role definitions and assignments may live
  at application level or inside a scope. Application-level assignments apply to every scope.
* The default store holds the built-in "Administrator" role definition with all 33 operations,
  assigned at application level to ``BUILTIN\\Administrators``.

Which scope a VM lives in (``ScopeOfResidence`` on ``Msvm_VirtualSystemGlobalSettingData``) is not
AzMan's business: the host / WMI owns it, and the AzMan console cannot set it.

The access check follows docs/sources.md#authorization-manager's rule, marked [recalled] there (unverified):
allowed if any of the caller's SIDs (the user or one of their groups) is in a role assignment at the
VM's scope or at application level whose role definition reaches the operation, directly or through
(nested) tasks. Non-administrators also need WMI namespace and DCOM rights; this module does not
model those.

Account names are compared case-insensitively (as Windows does); names of scopes, tasks and role
definitions are compared exactly, with "did you mean" suggestions on a miss.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from labs.sim.errors import InvalidParameter, InvalidState, NotFound, NotSupported, ScenarioError

__all__ = [
    "ADMINISTRATORS_GROUP",
    "ADMINISTRATOR_ROLE",
    "APPLICATION_NAME",
    "OPERATIONS",
    "OPERATION_IDS",
    "REGISTRY_KEY",
    "STORE_LOCATION",
    "AccessDecision",
    "AzStore",
]

#: Where Hyper-V's default store lives (docs/sources.md#authorization-manager).
STORE_LOCATION = "%ProgramData%\\Microsoft\\Windows\\Hyper-V\\InitialStore.xml"
#: Registry key holding the ``StoreLocation`` and ``ServiceApplication`` values.
REGISTRY_KEY = "HKLM\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization"
#: The AzMan application Hyper-V's VMMS checks against (registry value ``ServiceApplication``).
APPLICATION_NAME = "Hyper-V services"
#: The built-in role definition of the default store.
ADMINISTRATOR_ROLE = "Administrator"
#: The group assigned to :data:`ADMINISTRATOR_ROLE` at application level in the default store.
ADMINISTRATORS_GROUP = "BUILTIN\\Administrators"

#: The 33 fixed Hyper-V operations. The NAMES are verified (docs/sources.md#authorization-manager); the numeric
#: operation IDS are [mem] (recalled, unverified): treat them as labels for display, never as a
#: contract. Nothing in the simulator keys behaviour on the numbers.
OPERATIONS: dict[int, str] = {
    100: "Read Service Configuration",
    105: "Reconfigure Service",
    200: "Create Virtual Machine",
    205: "Delete Virtual Machine",
    210: "Change Virtual Machine Authorization Scope",
    215: "Start Virtual Machine",
    220: "Stop Virtual Machine",
    225: "Pause and Restart Virtual Machine",
    230: "Reconfigure Virtual Machine",
    235: "View Virtual Machine Configuration",
    240: "Allow Input to Virtual Machine",
    245: "Allow Output from Virtual Machine",
    300: "Modify Internal Ethernet Port",
    305: "Create Internal Ethernet Port",
    310: "Delete Internal Ethernet Port",
    315: "Bind to External Ethernet Port",
    320: "Unbind from External Ethernet Port",
    325: "Create Virtual Switch",
    330: "Delete Virtual Switch",
    335: "Modify Switch Settings",
    340: "Create Virtual Switch Port",
    345: "Delete Virtual Switch Port",
    350: "Connect Virtual Switch Port",
    355: "Disconnect Virtual Switch Port",
    360: "Modify Switch Port Settings",
    365: "Change VLAN Configuration on Port",
    370: "View Switches",
    375: "View Switch Ports",
    380: "View External Ethernet Ports",
    385: "View Internal Ethernet Ports",
    390: "View VLAN Settings",
    395: "View LAN Endpoints",
    400: "View Virtual Switch Management Service",
}

#: Reverse map: operation name -> [mem] numeric ID.
OPERATION_IDS: dict[str, int] = {name: op_id for op_id, name in sorted(OPERATIONS.items())}

_OPERATION_NAMES: tuple[str, ...] = tuple(OPERATIONS[k] for k in sorted(OPERATIONS))
_FIXED_OPERATIONS_MESSAGE = (
    "You cannot create or change operations: Hyper-V's 33 operations are fixed. "
    "Group them into tasks and role definitions instead."
)


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return a ' Did you mean ...?' sentence for `word` among `choices`, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    if not close:
        # Case-insensitive second chance (e.g. "start virtual machine").
        folded = {c.casefold(): c for c in choices}
        close = [folded[m] for m in difflib.get_close_matches(word.casefold(), sorted(folded), n=3, cutoff=0.5)]
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"


def _scope_label(scope: str) -> str:
    """Human name of a scope: 'application level' for the default scope, else 'scope NAME'."""
    return "application level" if scope == "" else f"scope {scope}"


@dataclass
class _Task:
    name: str
    description: str
    operations: list[str]
    tasks: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "operations": [{"id": OPERATION_IDS[o], "name": o} for o in self.operations],
            "tasks": list(self.tasks),
        }


@dataclass
class _RoleDefinition:
    name: str
    description: str
    operations: list[str]
    tasks: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "operations": [{"id": OPERATION_IDS[o], "name": o} for o in self.operations],
            "tasks": list(self.tasks),
        }


@dataclass
class _Container:
    """What the application or one scope holds: tasks, role definitions, role assignments."""

    description: str = ""
    tasks: dict[str, _Task] = field(default_factory=dict)
    roles: dict[str, _RoleDefinition] = field(default_factory=dict)
    # role definition name -> members (account names, in the order they were added)
    assignments: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "tasks": [self.tasks[k].to_dict() for k in sorted(self.tasks)],
            "role_definitions": [self.roles[k].to_dict() for k in sorted(self.roles)],
            "role_assignments": [
                {"role": role, "members": list(self.assignments[role])} for role in sorted(self.assignments)
            ],
        }


@dataclass(frozen=True)
class AccessDecision:
    """Outcome of one access check: allowed or not, a learner-readable reason, and the structured path."""

    allowed: bool
    reason: str
    user: str
    operation: str
    operation_id: int
    scope: str  # the VM's scope; "" = default (application) scope
    member: str | None = None  # the SID that matched: the user or one of their groups
    role: str | None = None  # the role definition of the matching assignment
    assignment_scope: str | None = None  # "" = application level, else the scope of the assignment
    task_path: tuple[str, ...] = ()  # tasks walked from the role definition down to the operation
    notes: tuple[str, ...] = ()  # assignments that were looked at and why they did not apply

    def to_dict(self) -> dict[str, Any]:
        """Return the decision as JSON-serialisable data."""
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "user": self.user,
            "operation": self.operation,
            "operation_id": self.operation_id,
            "scope": self.scope,
            "member": self.member,
            "role": self.role,
            "assignment_scope": self.assignment_scope,
            "task_path": list(self.task_path),
            "notes": list(self.notes),
        }


_TOP_KEYS = ("default_administrators", "role_assignments", "role_definitions", "scopes", "tasks")
_SCOPE_KEYS = ("description", "name")
_TASK_KEYS = ("description", "name", "operations", "scope", "tasks")
_ROLE_KEYS = ("description", "name", "operations", "scope", "tasks")
_ASSIGNMENT_KEYS = ("members", "role", "scope")


def _check_keys(data: dict[str, Any], allowed: tuple[str, ...], path: str) -> None:
    """Raise ScenarioError naming the first unknown key of `data` (sorted for determinism)."""
    for key in sorted(str(k) for k in data):
        if key not in allowed:
            raise ScenarioError(
                f"unknown key {key!r}; allowed keys: {', '.join(allowed)}.{_suggest(key, allowed)}",
                path=f"{path}.{key}",
            )


def _as_str(value: Any, path: str, *, required: bool = True) -> str:
    """Return `value` as a string or raise ScenarioError at `path`."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ScenarioError(f"expected a non-empty string, got {value!r}", path=path)
    return value


def _as_str_list(value: Any, path: str) -> list[str]:
    """Return `value` as a list of non-empty strings (None -> []) or raise ScenarioError at `path`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError(f"expected a list of strings, got {type(value).__name__}", path=path)
    return [_as_str(v, f"{path}[{i}]") for i, v in enumerate(value)]


def _as_list_of_dicts(value: Any, path: str) -> list[dict[str, Any]]:
    """Return `value` as a list of mappings (None -> []) or raise ScenarioError at `path`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ScenarioError(f"expected a list, got {type(value).__name__}", path=path)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ScenarioError(f"expected a mapping, got {type(item).__name__}", path=f"{path}[{i}]")
    return list(value)


class AzStore:
    """Hyper-V's AzMan store: one application ("Hyper-V services"), its scopes, tasks, roles and assignments."""

    def __init__(self, *, default_administrators: bool = True) -> None:
        """Create the default store: the Administrator role (all 33 operations) assigned to BUILTIN\\Administrators.

        With ``default_administrators=False`` the Administrator role definition exists but nobody is assigned.
        """
        self.store_location = STORE_LOCATION
        self.application_name = APPLICATION_NAME
        self._app = _Container(description="Hyper-V authorization policy")
        self._scopes: dict[str, _Container] = {}
        self._app.roles[ADMINISTRATOR_ROLE] = _RoleDefinition(
            name=ADMINISTRATOR_ROLE,
            description="Built-in: every Hyper-V operation",
            operations=list(_OPERATION_NAMES),
            tasks=[],
        )
        if default_administrators:
            self._app.assignments[ADMINISTRATOR_ROLE] = [ADMINISTRATORS_GROUP]

    # ------------------------------------------------------------------ scenario loading

    @classmethod
    def from_scenario(cls, data: dict[str, Any] | None, path: str) -> AzStore:
        """Build a store from a scenario's ``authorization:`` section (None = the default store).

        Shape (every list optional; ``scope`` omitted or "" = application level)::

            default_administrators: true          # keep BUILTIN\\Administrators -> Administrator
            scopes: [{name: Finance, description: "..."}]
            tasks: [{name: Power, operations: [Start Virtual Machine], tasks: [], scope: Finance}]
            role_definitions: [{name: VM Operators, operations: [], tasks: [Power], scope: Finance}]
            role_assignments: [{role: VM Operators, members: [CONTOSO\\alice], scope: Finance}]

        Items are created in list order, so a task may only include tasks listed before it.
        Raises ScenarioError whose ``path`` names the offending field (e.g. ``{path}.tasks[1].operations[0]``).
        """
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ScenarioError(f"expected a mapping, got {type(data).__name__}", path=path)
        _check_keys(data, _TOP_KEYS, path)
        default_admins = data.get("default_administrators", True)
        if not isinstance(default_admins, bool):
            raise ScenarioError("expected true or false", path=f"{path}.default_administrators")
        store = cls(default_administrators=default_admins)

        for i, item in enumerate(_as_list_of_dicts(data.get("scopes"), f"{path}.scopes")):
            p = f"{path}.scopes[{i}]"
            _check_keys(item, _SCOPE_KEYS, p)
            name = _as_str(item.get("name"), f"{p}.name")
            desc = _as_str(item.get("description"), f"{p}.description", required=False)
            with _rebased(p, "name"):
                store.create_scope(name, desc)

        for section, keys in (("tasks", _TASK_KEYS), ("role_definitions", _ROLE_KEYS)):
            for i, item in enumerate(_as_list_of_dicts(data.get(section), f"{path}.{section}")):
                p = f"{path}.{section}[{i}]"
                _check_keys(item, keys, p)
                name = _as_str(item.get("name"), f"{p}.name")
                ops = _as_str_list(item.get("operations"), f"{p}.operations")
                tasks = _as_str_list(item.get("tasks"), f"{p}.tasks")
                scope = _as_str(item.get("scope"), f"{p}.scope", required=False) or None
                desc = _as_str(item.get("description"), f"{p}.description", required=False)
                with _rebased(p, "name"):
                    if section == "tasks":
                        store.create_task(name, ops, scope=scope, tasks=tasks, description=desc)
                    else:
                        store.create_role_definition(name, ops, tasks, scope=scope, description=desc)

        for i, item in enumerate(_as_list_of_dicts(data.get("role_assignments"), f"{path}.role_assignments")):
            p = f"{path}.role_assignments[{i}]"
            _check_keys(item, _ASSIGNMENT_KEYS, p)
            role = _as_str(item.get("role"), f"{p}.role")
            members = _as_str_list(item.get("members"), f"{p}.members")
            if not members:
                raise ScenarioError("a role assignment needs at least one member (user or group)", path=f"{p}.members")
            scope = _as_str(item.get("scope"), f"{p}.scope", required=False) or None
            for j, member in enumerate(members):
                with _rebased(p, f"members[{j}]"):
                    store.assign(role, member, scope)
        return store

    # ------------------------------------------------------------------ operations (fixed)

    def operations(self) -> list[dict[str, Any]]:
        """Return the 33 fixed operations as ``[{id, name}]`` sorted by the [mem] numeric ID."""
        return [{"id": op_id, "name": OPERATIONS[op_id]} for op_id in sorted(OPERATIONS)]

    def create_operation(self, name: str, operation_id: int | None = None) -> None:
        """Always refuse: Hyper-V's operations are fixed (raises NotSupported)."""
        raise NotSupported(_FIXED_OPERATIONS_MESSAGE, path="operation")

    def change_operation(self, name: str, new_name: str | None = None, operation_id: int | None = None) -> None:
        """Always refuse: Hyper-V's operations are fixed (raises NotSupported)."""
        raise NotSupported(_FIXED_OPERATIONS_MESSAGE, path="operation")

    def delete_operation(self, name: str) -> None:
        """Always refuse: Hyper-V's operations are fixed (raises NotSupported)."""
        raise NotSupported(_FIXED_OPERATIONS_MESSAGE, path="operation")

    @staticmethod
    def resolve_operation(name: str, path: str = "operation") -> str:
        """Return the canonical operation name for `name` (exact or case-insensitive match).

        Raises InvalidParameter with a "did you mean" suggestion when the name is not one of the 33.
        """
        if name in OPERATION_IDS:
            return name
        for candidate in _OPERATION_NAMES:
            if candidate.casefold() == name.strip().casefold():
                return candidate
        raise InvalidParameter(
            f"{name!r} is not a Hyper-V operation (there are 33 fixed operations).{_suggest(name, _OPERATION_NAMES)}",
            path=path,
        )

    # ------------------------------------------------------------------ scopes

    def has_scope(self, name: str) -> bool:
        """Return True when a scope called `name` exists ("" is the default scope and always exists)."""
        return name == "" or name in self._scopes

    def scopes(self) -> list[str]:
        """Return the scope names, sorted."""
        return sorted(self._scopes)

    def create_scope(self, name: str, description: str = "") -> None:
        """Create a scope under the application (raises InvalidState if it exists, InvalidParameter if unnamed)."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("a scope needs a non-empty name", path="name")
        if name in self._scopes:
            raise InvalidState(f"scope {name!r} already exists", path="name")
        self._scopes[name] = _Container(description=description)

    def delete_scope(self, name: str) -> None:
        """Delete a scope with everything defined in it (raises NotFound if it does not exist).

        VMs whose ScopeOfResidence still names it are the host's business: VMMS logs an event and
        moves such a VM back to the default scope.
        """
        self._container(name, "name")
        del self._scopes[name]

    def _container(self, scope: str | None, path: str) -> _Container:
        """Return the application (scope None or "") or the named scope's container; NotFound otherwise."""
        if scope is None or scope == "":
            return self._app
        if scope not in self._scopes:
            raise NotFound(f"there is no scope {scope!r} in the store.{_suggest(scope, self.scopes())}", path=path)
        return self._scopes[scope]

    def _visible(self, scope: str | None) -> list[_Container]:
        """Containers whose definitions are visible from `scope`: the scope itself, then the application."""
        own = self._container(scope, "scope")
        return [own] if own is self._app else [own, self._app]

    # ------------------------------------------------------------------ tasks and role definitions

    def _find_task(self, name: str, scope: str | None, path: str) -> _Task:
        """Find a task visible from `scope` (the scope's own tasks first, then application tasks)."""
        for container in self._visible(scope):
            if name in container.tasks:
                return container.tasks[name]
        known = sorted({t for c in self._visible(scope) for t in c.tasks})
        raise NotFound(
            f"there is no task {name!r} visible from {_scope_label(scope or '')}.{_suggest(name, known)}", path=path
        )

    def _find_role(self, name: str, scope: str | None, path: str) -> _RoleDefinition:
        """Find a role definition visible from `scope` (scope first, then application)."""
        for container in self._visible(scope):
            if name in container.roles:
                return container.roles[name]
        known = sorted({r for c in self._visible(scope) for r in c.roles})
        raise NotFound(
            f"there is no role definition {name!r} visible from {_scope_label(scope or '')}.{_suggest(name, known)}",
            path=path,
        )

    def _name_taken(self, container: _Container, name: str) -> bool:
        return name in container.tasks or name in container.roles

    def create_task(
        self,
        name: str,
        operations: list[str],
        scope: str | None = None,
        tasks: list[str] | None = None,
        *,
        description: str = "",
    ) -> None:
        """Create a task grouping `operations` and other `tasks` at application level or in `scope`.

        Included tasks must already exist and be visible (same scope or application level).
        """
        container = self._container(scope, "scope")
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("a task needs a non-empty name", path="name")
        if self._name_taken(container, name):
            raise InvalidState(f"{name!r} already exists at {_scope_label(scope or '')}", path="name")
        ops = [self.resolve_operation(o, f"operations[{i}]") for i, o in enumerate(operations)]
        subtasks = list(tasks or [])
        for i, t in enumerate(subtasks):
            self._find_task(t, scope, f"tasks[{i}]")
        container.tasks[name] = _Task(
            name=name, description=description, operations=_dedupe(ops), tasks=_dedupe(subtasks)
        )

    def create_role_definition(
        self,
        name: str,
        operations: list[str],
        tasks: list[str],
        scope: str | None = None,
        *,
        description: str = "",
    ) -> None:
        """Create a role definition grouping `operations` and `tasks` at application level or in `scope`."""
        container = self._container(scope, "scope")
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameter("a role definition needs a non-empty name", path="name")
        if self._name_taken(container, name):
            raise InvalidState(f"{name!r} already exists at {_scope_label(scope or '')}", path="name")
        ops = [self.resolve_operation(o, f"operations[{i}]") for i, o in enumerate(operations)]
        for i, t in enumerate(tasks):
            self._find_task(t, scope, f"tasks[{i}]")
        container.roles[name] = _RoleDefinition(
            name=name, description=description, operations=_dedupe(ops), tasks=_dedupe(list(tasks))
        )

    def add_to_task(
        self, name: str, operations: list[str] | None = None, tasks: list[str] | None = None, scope: str | None = None
    ) -> None:
        """Add operations and/or tasks to an existing task (refuses a task that would include itself)."""
        task = self._find_task(name, scope, "name")
        ops = [self.resolve_operation(o, f"operations[{i}]") for i, o in enumerate(operations or [])]
        new_tasks = list(tasks or [])
        for i, t in enumerate(new_tasks):
            self._find_task(t, scope, f"tasks[{i}]")
            if t == name or self._task_reaches_task(t, name, scope):
                raise InvalidParameter(
                    f"task {t!r} includes {name!r}: a task cannot include itself", path=f"tasks[{i}]"
                )
        task.operations = _dedupe(task.operations + ops)
        task.tasks = _dedupe(task.tasks + new_tasks)

    def remove_from_task(
        self, name: str, operations: list[str] | None = None, tasks: list[str] | None = None, scope: str | None = None
    ) -> None:
        """Remove operations and/or tasks from an existing task (names not present are ignored)."""
        task = self._find_task(name, scope, "name")
        ops = {self.resolve_operation(o, f"operations[{i}]") for i, o in enumerate(operations or [])}
        drop = set(tasks or [])
        task.operations = [o for o in task.operations if o not in ops]
        task.tasks = [t for t in task.tasks if t not in drop]

    def add_to_role_definition(
        self, name: str, operations: list[str] | None = None, tasks: list[str] | None = None, scope: str | None = None
    ) -> None:
        """Add operations and/or tasks to an existing role definition."""
        role = self._find_role(name, scope, "name")
        ops = [self.resolve_operation(o, f"operations[{i}]") for i, o in enumerate(operations or [])]
        new_tasks = list(tasks or [])
        for i, t in enumerate(new_tasks):
            self._find_task(t, scope, f"tasks[{i}]")
        role.operations = _dedupe(role.operations + ops)
        role.tasks = _dedupe(role.tasks + new_tasks)

    def remove_from_role_definition(
        self, name: str, operations: list[str] | None = None, tasks: list[str] | None = None, scope: str | None = None
    ) -> None:
        """Remove operations and/or tasks from an existing role definition (names not present are ignored)."""
        role = self._find_role(name, scope, "name")
        ops = {self.resolve_operation(o, f"operations[{i}]") for i, o in enumerate(operations or [])}
        drop = set(tasks or [])
        role.operations = [o for o in role.operations if o not in ops]
        role.tasks = [t for t in role.tasks if t not in drop]

    def _dependants(self, scope: str | None, name: str, kind: str) -> list[_Container]:
        """Containers whose references to `name` resolve to the definition at `scope` (itself first).

        An application-level definition is also seen from every scope that does not define its own
        task or role definition of that name.
        """
        if scope:
            return [self._container(scope, "scope")]
        out = [self._app]
        for s in sorted(self._scopes):
            c = self._scopes[s]
            shadowed = name in c.tasks if kind == "task" else name in c.roles
            if not shadowed:
                out.append(c)
        return out

    def delete_task(self, name: str, scope: str | None = None) -> None:
        """Delete a task; tasks and role definitions that included it lose that link (as in the AzMan console)."""
        container = self._container(scope, "scope")
        if name not in container.tasks:
            known = sorted(container.tasks)
            raise NotFound(
                f"there is no task {name!r} at {_scope_label(scope or '')}.{_suggest(name, known)}", path="name"
            )
        dependants = self._dependants(scope, name, "task")
        del container.tasks[name]
        for c in dependants:
            for task in c.tasks.values():
                task.tasks = [t for t in task.tasks if t != name]
            for role in c.roles.values():
                role.tasks = [t for t in role.tasks if t != name]

    def delete_role_definition(self, name: str, scope: str | None = None) -> None:
        """Delete a role definition together with its role assignments."""
        container = self._container(scope, "scope")
        if name not in container.roles:
            known = sorted(container.roles)
            raise NotFound(
                f"there is no role definition {name!r} at {_scope_label(scope or '')}.{_suggest(name, known)}",
                path="name",
            )
        dependants = self._dependants(scope, name, "role")
        del container.roles[name]
        for c in dependants:
            c.assignments.pop(name, None)

    def _task_reaches_task(self, start: str, target: str, scope: str | None) -> bool:
        """True when task `start` includes task `target`, directly or transitively."""
        stack = [start]
        seen: list[str] = []
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.append(current)
            task = self._find_task(current, scope, "tasks")
            if target in task.tasks:
                return True
            stack.extend(task.tasks)
        return False

    def _path_to_operation(self, role: _RoleDefinition, operation: str, scope: str | None) -> tuple[str, ...] | None:
        """Return the task path by which `role` reaches `operation` (() = directly), or None if it does not.

        Search order is deterministic: the role's own operations first, then its tasks depth-first
        in the order they were added.
        """
        if operation in role.operations:
            return ()

        def walk(task_name: str, trail: tuple[str, ...]) -> tuple[str, ...] | None:
            if task_name in trail:
                return None
            task = self._find_task(task_name, scope, "tasks")
            here = trail + (task_name,)
            if operation in task.operations:
                return here
            for sub in task.tasks:
                found = walk(sub, here)
                if found is not None:
                    return found
            return None

        for t in role.tasks:
            found = walk(t, ())
            if found is not None:
                return found
        return None

    # ------------------------------------------------------------------ role assignments

    def assign(self, role: str, member: str, scope: str | None = None) -> None:
        """Add `member` (a user or group account name) to the assignment of role definition `role` at `scope`."""
        container = self._container(scope, "scope")
        self._find_role(role, scope, "role")
        if not isinstance(member, str) or not member.strip():
            raise InvalidParameter("a role assignment member must be a non-empty account name", path="member")
        members = container.assignments.setdefault(role, [])
        if member.casefold() not in [m.casefold() for m in members]:
            members.append(member)

    def unassign(self, role: str, member: str, scope: str | None = None) -> None:
        """Remove `member` from the assignment of `role` at `scope` (raises NotFound if not assigned)."""
        container = self._container(scope, "scope")
        members = container.assignments.get(role, [])
        kept = [m for m in members if m.casefold() != member.casefold()]
        if len(kept) == len(members):
            raise NotFound(f"{member} is not assigned to {role!r} at {_scope_label(scope or '')}", path="member")
        if kept:
            container.assignments[role] = kept
        else:
            del container.assignments[role]

    def assignments(self) -> list[dict[str, Any]]:
        """Return every role assignment as ``[{scope, role, members}]``: application level first, then by scope."""
        out: list[dict[str, Any]] = []
        for scope_name, container in [("", self._app)] + [(s, self._scopes[s]) for s in sorted(self._scopes)]:
            for role in sorted(container.assignments):
                out.append({"scope": scope_name, "role": role, "members": list(container.assignments[role])})
        return out

    # ------------------------------------------------------------------ access check

    def access_check(self, user: str, groups: list[str], operation: str, scope: str) -> AccessDecision:
        """Decide whether `user` (member of `groups`) may perform `operation` on an object in `scope`.

        `scope` is the VM's (or switch's) ScopeOfResidence; "" is the default (application) scope.
        Evaluation order, and so which match is reported: assignments at the object's scope first,
        then application-level assignments; within a level by role-definition name; within an
        assignment by member in the order added. Raises InvalidParameter for an unknown operation and
        NotFound for a scope that is not in the store.
        """
        op = self.resolve_operation(operation)
        op_id = OPERATION_IDS[op]
        if scope != "" and scope not in self._scopes:
            raise NotFound(
                f"there is no scope {scope!r} in the store (VMMS would move such a VM back to the default scope)."
                f"{_suggest(scope, self.scopes())}",
                path="scope",
            )
        sids = [user] + list(groups)
        folded = [s.casefold() for s in sids]

        levels: list[tuple[str, _Container]] = []
        if scope != "":
            levels.append((scope, self._scopes[scope]))
        levels.append(("", self._app))

        notes: list[str] = []
        for level_scope, container in levels:
            for role_name in sorted(container.assignments):
                members = container.assignments[role_name]
                matched = next((m for m in members if m.casefold() in folded), None)
                if matched is None:
                    continue
                role = self._find_role(role_name, level_scope or None, "role")
                trail = self._path_to_operation(role, op, level_scope or None)
                via = self._via(user, matched)
                if trail is None:
                    notes.append(
                        f"{via} is assigned {role_name!r} at {_scope_label(level_scope)}, "
                        f"but that role definition does not include '{op}' through any task"
                    )
                    continue
                how = "directly" if not trail else "through task " + " -> ".join(repr(t) for t in trail)
                reason = (
                    f"{user} may '{op}' on an object in {_scope_label(scope) if scope else 'the default scope'}: "
                    f"{via} is assigned role definition {role_name!r} at {_scope_label(level_scope)}, "
                    f"which includes the operation {how}."
                )
                if level_scope == "" and scope != "":
                    reason += " Application-level assignments apply to every scope."
                return AccessDecision(
                    allowed=True,
                    reason=reason,
                    user=user,
                    operation=op,
                    operation_id=op_id,
                    scope=scope,
                    member=matched,
                    role=role_name,
                    assignment_scope=level_scope,
                    task_path=trail,
                    notes=tuple(notes),
                )

        # Denied: explain, including assignments elsewhere that would have granted it.
        for other in sorted(self._scopes):
            if other == scope:
                continue
            container = self._scopes[other]
            for role_name in sorted(container.assignments):
                matched = next((m for m in container.assignments[role_name] if m.casefold() in folded), None)
                if matched is None:
                    continue
                role = self._find_role(role_name, other, "role")
                if self._path_to_operation(role, op, other) is not None:
                    where = f"a VM in scope {scope}" if scope else "a VM in the default scope"
                    notes.append(
                        f"the assignment of {role_name} to {matched} at scope {other} does not apply to {where}"
                    )
        place = f"at scope {scope} or at application level" if scope else "at application level (the default scope)"
        reason = f"{user} has no role assignment {place} that reaches '{op}'"
        if notes:
            reason += "; " + "; ".join(notes)
        reason += "."
        return AccessDecision(
            allowed=False,
            reason=reason,
            user=user,
            operation=op,
            operation_id=op_id,
            scope=scope,
            notes=tuple(notes),
        )

    @staticmethod
    def _via(user: str, matched: str) -> str:
        """Describe which SID matched: the user, or the user through a group."""
        if matched.casefold() == user.casefold():
            return user
        return f"{user} (through group {matched})"

    # ------------------------------------------------------------------ rendering

    def to_dict(self) -> dict[str, Any]:
        """Return the store as an azman.msc-like tree: store -> application -> definitions, assignments, scopes."""
        app = self._app.to_dict()
        app["name"] = self.application_name
        app["operations"] = self.operations()
        app["scopes"] = [dict(self._scopes[name].to_dict(), name=name) for name in sorted(self._scopes)]
        return {
            "store": {
                "location": self.store_location,
                "registry": {
                    "key": REGISTRY_KEY,
                    "StoreLocation": self.store_location,
                    "ServiceApplication": self.application_name,
                },
            },
            "application": app,
        }


@contextmanager
def _rebased(item_path: str, default_field: str) -> Iterator[None]:
    """Re-raise any simulator error inside the block as ScenarioError at ``item_path.<field>``."""
    try:
        yield
    except (InvalidParameter, NotFound, NotSupported, InvalidState) as exc:
        sub = exc.path or default_field
        raise ScenarioError(exc.message, path=f"{item_path}.{sub}") from exc


def _dedupe(items: list[str]) -> list[str]:
    """Return `items` without repeats, keeping first-seen order."""
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
