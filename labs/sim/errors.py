"""Typed errors of the simulator.

Every error names where it happened (`path`: a dotted field path such as
``scenario.host.cpu.vendor`` or ``vm[fin-sql01]``) and, where WMI would return
one, the WMI v1 return code, so a lab can show exactly what went wrong.
"""

from __future__ import annotations


class SimError(Exception):
    """Base class: a message for the learner, a field path, and an optional WMI return code."""

    wmi_return_code: int | None = None

    def __init__(self, message: str, *, path: str = "", wmi_return_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        if wmi_return_code is not None:
            self.wmi_return_code = wmi_return_code

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        code = f" (WMI return code {self.wmi_return_code})" if self.wmi_return_code is not None else ""
        return f"{where}{self.message}{code}"

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "path": self.path,
            "wmi_return_code": self.wmi_return_code,
        }


class ScenarioError(SimError):
    """A scenario (YAML or dict) is malformed: unknown key, wrong type, impossible value."""

    wmi_return_code = None


class InvalidParameter(SimError):
    """An argument is out of range or of the wrong kind (WMI 32773)."""

    wmi_return_code = 32773


class InvalidState(SimError):
    """The requested transition is impossible from the current state (WMI 32775)."""

    wmi_return_code = 32775


class AccessDenied(SimError):
    """Authorization Manager denied the operation (WMI 32769)."""

    wmi_return_code = 32769


class NotSupported(SimError):
    """The host or guest cannot do this at all (WMI 32770)."""

    wmi_return_code = 32770


class NotFound(SimError):
    """A named object (VM, scope, role, user) does not exist (WMI 32777, not available)."""

    wmi_return_code = 32777


class HardwareError(SimError):
    """The hardware or firmware configuration prevents the requested thing (e.g. no hypervisor)."""

    wmi_return_code = None


class OutOfMemory(SimError):
    """The host has not enough free memory for the VM (WMI 32778)."""

    wmi_return_code = 32778


class BudgetExceeded(Exception):
    """A run went over its event or time budget (see `trace.Budget`).

    Deliberately not a `SimError`: an action's rollback must not turn it into an ordinary failed action,
    because the host may be half-way through the action when the budget runs out; the run is abandoned.
    """

    def __init__(self, message: str, *, events: int = 0, elapsed_s: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.events = events
        self.elapsed_s = elapsed_s
        self.seq: int | None = None  # which action of a replay was running (set by the replaying caller)
