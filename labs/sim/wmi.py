"""The WMI v1 surface (``root\\virtualization``): classes, states, return codes, jobs, and a WQL parser.

Codes and names come from docs/sources.md#wmi. The WQL parser is a small tokenizer plus a
recursive-descent parser for ``SELECT * | prop[, prop] FROM Class [WHERE condition]``, where a
condition combines ``prop = 'value'`` comparisons (``=``, ``<>``, ``!=``, ``<``, ``<=``, ``>``,
``>=``, ``IS [NOT] NULL``) with ``AND``, ``OR``, ``NOT`` and parentheses. Keywords, class and
property names are case-insensitive, and so are string comparisons (as in WQL). A syntax error
raises `WqlError` carrying the 1-based column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from .errors import SimError

NAMESPACE = "root\\virtualization"

RETURN_CODES: dict[int, str] = {
    0: "Completed with No Error",
    4096: "Method Parameters Checked - Job Started",
    32768: "Failed",
    32769: "Access Denied",
    32770: "Not Supported",
    32771: "Status is unknown",
    32772: "Timeout",
    32773: "Invalid parameter",
    32774: "System is in use",
    32775: "Invalid state for this operation",
    32776: "Incorrect data type",
    32777: "System is not available",
    32778: "Out of memory",
}
"""WMI v1 method return codes (docs/sources.md#wmi)."""

ENABLED_STATES: dict[int, str] = {
    0: "Unknown",
    2: "Enabled",
    3: "Disabled",
    32768: "Paused",
    32769: "Suspended",
    32770: "Starting",
    32771: "Snapshotting",
    32773: "Saving",
    32774: "Stopping",
    32776: "Pausing",
    32777: "Resuming",
}
"""Msvm_ComputerSystem.EnabledState values (v1): 2 running, 3 off, 32768 paused, 32769 saved."""

STATE_LABELS: dict[int, str] = {2: "running", 3: "off", 32768: "paused", 32769: "saved"}
"""Learner-friendly names of the four stable states."""

REQUESTED_STATES: dict[int, str] = {2: "Start", 3: "Turn off", 10: "Reboot", 11: "Reset", 32768: "Pause", 32769: "Save"}
"""RequestStateChange RequestedState values (docs/sources.md#wmi)."""

EnabledState = int

TRANSITIONS: dict[tuple[EnabledState, int], tuple[tuple[EnabledState, ...], EnabledState]] = {
    (3, 2): ((32770,), 2),  # off -> Starting -> running
    (2, 3): ((32774,), 3),  # running -> Stopping -> off (turn off: no guest shutdown)
    (2, 10): ((32774, 32770), 2),  # reboot
    (2, 11): ((), 2),  # reset
    (2, 32768): ((32776,), 32768),  # running -> Pausing -> paused
    (2, 32769): ((32773,), 32769),  # running -> Saving -> saved
    (32768, 2): ((32777,), 2),  # paused -> Resuming -> running
    (32768, 3): ((32774,), 3),  # paused -> turn off
    (32768, 32769): ((32773,), 32769),  # paused -> save
    (32769, 2): ((32770,), 2),  # saved -> Starting (restore) -> running
}
"""Allowed RequestStateChange transitions: (current EnabledState, RequestedState) -> (transient states, final state).

Anything else returns 32775 (Invalid state). Turning off a saved VM is not modelled (Hyper-V
offers a separate "Delete Saved State" for that).
"""

JOB_STATES: dict[int, str] = {3: "Starting", 4: "Running", 7: "Completed"}
"""Msvm_ConcreteJob.JobState values used here (docs/sources.md#wmi)."""

SHUTDOWN_METHOD = "Msvm_ShutdownComponent.InitiateShutdown"
"""[mem] The WMI method for a graceful guest shutdown via the shutdown integration service (docs/sources.md#wmi)."""

HEALTH_OK = 5
HEALTH_CRITICAL = 25

AUTOMATIC_RECOVERY_ACTIONS = {0: "None", 1: "Restart", 2: "Revert to snapshot"}
DEFAULT_AUTOMATIC_RECOVERY_ACTION = 1
DEFAULT_AUTOMATIC_SHUTDOWN_ACTION = 1
"""1 = Save State (docs/sources.md#wmi)."""
DEFAULT_AUTOMATIC_STARTUP_ACTION = 1
"""Default 1 (docs/sources.md#wmi); [mem] read here as "restart the VM if it was running when the host shut down"."""

CLASSES: tuple[str, ...] = (
    "Msvm_ComputerSystem",
    "Msvm_ConcreteJob",
    "Msvm_VirtualSystemGlobalSettingData",
    "Msvm_VirtualSystemManagementService",
)
"""The classes this simulator can enumerate."""

MANAGEMENT_METHODS: tuple[str, ...] = (
    "DefineVirtualSystem",
    "ModifyVirtualSystem",
    "DestroyVirtualSystem",
    "AddVirtualSystemResources",
    "ModifyVirtualSystemResources",
    "RemoveVirtualSystemResources",
    "CreateVirtualSystemSnapshot",
    "ApplyVirtualSystemSnapshot",
    "RemoveVirtualSystemSnapshot",
    "ExportVirtualSystem",
    "ImportVirtualSystem",
    "GetSummaryInformation",
    "AddKvpItems",
    "ModifyKvpItems",
    "RemoveKvpItems",
    "ModifyServiceSettings",
    "FormatError",
)
"""Msvm_VirtualSystemManagementService methods (docs/sources.md#wmi); the simulator implements the first three."""


def canonical_class(name: str) -> str | None:
    """The properly cased class name for `name` (case-insensitive), or None."""
    for cls in CLASSES:
        if cls.lower() == name.lower():
            return cls
    return None


class WqlError(SimError):
    """A WQL query is malformed or names an unknown class or property; `column` is 1-based."""

    wmi_return_code = None

    def __init__(self, message: str, *, column: int, query: str) -> None:
        super().__init__(f"invalid query at column {column}: {message}", path="wql")
        self.column = column
        self.query = query

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data["column"] = self.column
        return data


# ---------------------------------------------------------------- tokenizer

KEYWORDS = ("SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE")


@dataclass(frozen=True)
class Token:
    """One WQL token: kind (ident, keyword, string, number, op, punct, end), its text/value and 1-based column."""

    kind: str
    text: str
    column: int
    value: Any = None


def tokenize(query: str) -> list[Token]:
    """Split a WQL query into tokens, raising WqlError with the column of any bad character."""
    tokens: list[Token] = []
    i = 0
    n = len(query)
    while i < n:
        ch = query[i]
        col = i + 1
        if ch.isspace():
            i += 1
            continue
        if ch.isalpha() or ch == "_":
            j = i
            while j < n and (query[j].isalnum() or query[j] == "_"):
                j += 1
            word = query[i:j]
            if word.upper() in KEYWORDS:
                tokens.append(Token("keyword", word.upper(), col))
            else:
                tokens.append(Token("ident", word, col))
            i = j
            continue
        if ch.isdigit() or (ch == "-" and i + 1 < n and query[i + 1].isdigit()):
            j = i + 1
            while j < n and query[j].isdigit():
                j += 1
            tokens.append(Token("number", query[i:j], col, int(query[i:j])))
            i = j
            continue
        if ch in "'\"":
            j = i + 1
            chars: list[str] = []
            while j < n and query[j] != ch:
                if query[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(query[j])
                j += 1
            if j >= n:
                raise WqlError("unterminated string literal", column=col, query=query)
            tokens.append(Token("string", query[i : j + 1], col, "".join(chars)))
            i = j + 1
            continue
        two = query[i : i + 2]
        if two in ("<>", "!=", "<=", ">="):
            tokens.append(Token("op", two, col))
            i += 2
            continue
        if ch in "=<>":
            tokens.append(Token("op", ch, col))
            i += 1
            continue
        if ch in ",()*":
            tokens.append(Token("punct", ch, col))
            i += 1
            continue
        raise WqlError(f"unexpected character {ch!r}", column=col, query=query)
    tokens.append(Token("end", "", n + 1))
    return tokens


# ---------------------------------------------------------------- AST


@dataclass(frozen=True)
class Comparison:
    """`prop op literal` (or `prop IS [NOT] NULL` with op "is"/"is not" and value None)."""

    prop: str
    op: str
    value: Any
    column: int


@dataclass(frozen=True)
class BoolOp:
    """`left AND right` / `left OR right`."""

    op: str
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Not:
    """`NOT operand`."""

    operand: Condition


Condition: TypeAlias = Comparison | BoolOp | Not


@dataclass(frozen=True)
class Query:
    """A parsed WQL SELECT: properties (None for *), class name as written, optional condition."""

    properties: tuple[str, ...] | None
    class_name: str
    class_column: int
    where: Condition | None
    text: str


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def error(self, expected: str) -> WqlError:
        found = self.tok.text or "end of query"
        return WqlError(f"expected {expected}, found {found!r}", column=self.tok.column, query=self.text)

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "keyword" and self.tok.text == word:
            self.pos += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.error(word)

    def ident(self, what: str) -> Token:
        if self.tok.kind != "ident":
            raise self.error(what)
        token = self.tok
        self.pos += 1
        return token

    def punct(self, ch: str) -> bool:
        if self.tok.kind == "punct" and self.tok.text == ch:
            self.pos += 1
            return True
        return False

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        properties: tuple[str, ...] | None
        if self.punct("*"):
            properties = None
        else:
            names = [self.ident("a property name or *").text]
            while self.punct(","):
                names.append(self.ident("a property name").text)
            properties = tuple(names)
        self.expect_keyword("FROM")
        cls = self.ident("a class name")
        where: Condition | None = None
        if self.keyword("WHERE"):
            where = self.or_expr()
        if self.tok.kind != "end":
            raise self.error("end of query" if where is not None else "WHERE or end of query")
        return Query(properties, cls.text, cls.column, where, self.text)

    def or_expr(self) -> Condition:
        left = self.and_expr()
        while self.keyword("OR"):
            left = BoolOp("OR", left, self.and_expr())
        return left

    def and_expr(self) -> Condition:
        left = self.not_expr()
        while self.keyword("AND"):
            left = BoolOp("AND", left, self.not_expr())
        return left

    def not_expr(self) -> Condition:
        if self.keyword("NOT"):
            return Not(self.not_expr())
        if self.punct("("):
            inner = self.or_expr()
            if not self.punct(")"):
                raise self.error("')'")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        prop = self.ident("a property name")
        if self.keyword("IS"):
            negated = self.keyword("NOT")
            self.expect_keyword("NULL")
            return Comparison(prop.text, "is not" if negated else "is", None, prop.column)
        if self.tok.kind != "op":
            raise self.error("a comparison operator (=, <>, !=, <, <=, >, >=)")
        op = self.tok.text
        self.pos += 1
        token = self.tok
        value: Any
        if token.kind in ("string", "number"):
            value = token.value
        elif token.kind == "keyword" and token.text in ("TRUE", "FALSE"):
            value = token.text == "TRUE"
        elif token.kind == "keyword" and token.text == "NULL":
            value = None
        else:
            raise self.error("a string, number, TRUE, FALSE or NULL")
        self.pos += 1
        return Comparison(prop.text, "!=" if op == "<>" else op, value, prop.column)


def parse_wql(text: str) -> Query:
    """Parse a WQL SELECT statement; raise WqlError (with column) on any syntax error."""
    if not isinstance(text, str):
        raise WqlError("the query must be a string", column=1, query=str(text))
    return _Parser(text).parse()


# ---------------------------------------------------------------- evaluation


def _lookup(instance: dict[str, Any], prop: str) -> tuple[bool, Any]:
    if prop in instance:
        return True, instance[prop]
    lower = prop.lower()
    for key in instance:
        if key.lower() == lower:
            return True, instance[key]
    return False, None


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "is":
        return actual is None
    if op == "is not":
        return actual is not None
    if actual is None or expected is None:
        return False
    if isinstance(actual, str) and isinstance(expected, str):
        a: Any = actual.lower()
        b: Any = expected.lower()
    elif isinstance(actual, bool) or isinstance(expected, bool):
        if not (isinstance(actual, bool) and isinstance(expected, bool)):
            return False
        a, b = actual, expected
    elif isinstance(actual, int) and isinstance(expected, int):
        a, b = actual, expected
    elif isinstance(actual, int) and isinstance(expected, str) and expected.lstrip("-").isdigit():
        a, b = actual, int(expected)
    else:
        a, b = str(actual).lower(), str(expected).lower()
    if op == "=":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _matches(cond: Condition, instance: dict[str, Any]) -> bool:
    if isinstance(cond, Comparison):
        _, actual = _lookup(instance, cond.prop)
        return _compare(actual, cond.op, cond.value)
    if isinstance(cond, Not):
        return not _matches(cond.operand, instance)
    if cond.op == "AND":
        return _matches(cond.left, instance) and _matches(cond.right, instance)
    return _matches(cond.left, instance) or _matches(cond.right, instance)


def _properties_in(cond: Condition | None) -> list[Comparison]:
    if cond is None:
        return []
    if isinstance(cond, Comparison):
        return [cond]
    if isinstance(cond, Not):
        return _properties_in(cond.operand)
    return _properties_in(cond.left) + _properties_in(cond.right)


def run_query(query: Query, instances: list[dict[str, Any]], schema: tuple[str, ...]) -> list[dict[str, Any]]:
    """Filter `instances` of one class (whose property names are `schema`) by `query`; project the properties."""
    known = {name.lower(): name for name in schema}
    for comparison in _properties_in(query.where):
        if comparison.prop.lower() not in known:
            raise WqlError(
                f"{query.class_name} has no property {comparison.prop!r}", column=comparison.column, query=query.text
            )
    selected: list[str] | None = None
    if query.properties is not None:
        selected = []
        for prop in query.properties:
            if prop.lower() not in known:
                column = query.text.find(prop) + 1
                raise WqlError(f"{query.class_name} has no property {prop!r}", column=max(1, column), query=query.text)
            selected.append(known[prop.lower()])
    result: list[dict[str, Any]] = []
    for instance in instances:
        if query.where is not None and not _matches(query.where, instance):
            continue
        if selected is None:
            result.append(dict(instance))
        else:
            result.append({name: instance.get(name) for name in selected})
    return result
