"""Render a run's output as an administrator would see it: tables, trees and key/value lists, never a Python repr.

`{% show_output value %}` picks the form from the shape of the value: a list of records is a table, a record is a
key/value list, the Authorization Manager store is a tree (as in azman.msc). Everything is escaped (format_html).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

MAX_DEPTH = 6
LABELS = {
    "vmwp_pid": "vmwp PID",
    "partition_id": "Partition",
    "scope_of_residence": "Scope",
    "memory_mb": "Memory (MB)",
    "vcpus": "vCPUs",
    "guid": "GUID",
    "slat": "SLAT",
    "bcd": "BCD",
    "bios": "BIOS",
    "cpu": "CPU",
    "os": "OS",
    "hyperv_role": "Hyper-V role",
    "vmbus_channels": "VMBus channels",
    "host.bcd": "Boot configuration (BCD)",
    "host.bios": "BIOS",
    "host.cpu": "Processor",
}
# Columns an administrator looks at first (Hyper-V Manager's order); others follow in their own order.
FIRST_COLUMNS = ("name", "state", "partition_id", "vmwp_pid", "scope_of_residence", "guest", "memory_mb", "vcpus")


def label(key: Any) -> str:
    key = str(key)
    return LABELS.get(key, key.replace("_", " ").replace(".", " ").capitalize())


def _scalar(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def _compact(value: Any) -> SafeString:
    """A nested value inside a table cell: names or a short list, never a dump."""
    if _is_scalar(value):
        return format_html("{}", _scalar(value))
    if isinstance(value, dict):
        return format_html_join(
            "; ", "{}: {}", ((label(k), _scalar(v) if _is_scalar(v) else "…") for k, v in value.items())
        )
    if not value:
        return format_html("{}", "none")
    if all(isinstance(v, dict) and "name" in v for v in value):
        return format_html_join(", ", "{}", ((str(v["name"]),) for v in value))
    if all(_is_scalar(v) for v in value):
        return format_html_join(", ", "{}", ((_scalar(v),) for v in value))
    return format_html("{} item{}", len(value), "" if len(value) == 1 else "s")


def _row(row: dict[str, Any], keys: list[str]) -> SafeString:
    first = format_html('<th scope="row">{}</th>', _compact(row.get(keys[0])))
    rest = format_html_join("", "<td>{}</td>", ((_compact(row.get(k)),) for k in keys[1:]))
    return format_html("{}{}", first, rest)


def _table(rows: list[dict[str, Any]], caption: str) -> SafeString:
    keys: list[str] = [k for k in FIRST_COLUMNS if any(k in row for row in rows)]
    for row in rows:
        keys += [k for k in row if k not in keys]
    head = format_html_join("", '<th scope="col">{}</th>', ((label(k),) for k in keys))
    body = format_html_join("", "<tr>{}</tr>", ((_row(row, keys),) for row in rows))
    return format_html(
        '<div class="table-scroll" tabindex="0" role="region" aria-label="{}">'
        '<table class="show-table"><caption>{}</caption><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>",
        caption,
        caption,
        head,
        body,
    )


def _kv(record: dict[str, Any], depth: int) -> SafeString:
    items = format_html_join(
        "",
        "<dt>{}</dt><dd>{}</dd>",
        ((label(k), _render(v, label(k), depth + 1)) for k, v in record.items()),
    )
    return format_html('<dl class="show-kv">{}</dl>', items)


def _tree(value: Any, depth: int = 0) -> SafeString:
    """A nested structure as an indented tree (the AzMan store, like azman.msc's left pane)."""
    if depth > MAX_DEPTH:
        return format_html("{}", "…")
    if isinstance(value, dict):
        name = value.get("name")
        children = [(k, v) for k, v in value.items() if k != "name"]
        parts = []
        for key, child in children:
            if _is_scalar(child):
                parts.append(format_html("<li>{}: {}</li>", label(key), _scalar(child)))
            elif child:
                parts.append(
                    format_html('<li><span class="node">{}</span>{}</li>', label(key), _tree(child, depth + 1))
                )
            else:
                parts.append(
                    format_html('<li><span class="node">{}</span>: <span class="muted">none</span></li>', label(key))
                )
        inner = format_html_join("", "{}", ((part,) for part in parts))
        if name is not None:
            return format_html('<ul><li><span class="node">{}</span><ul>{}</ul></li></ul>', name, inner)
        return format_html("<ul>{}</ul>", inner)
    if isinstance(value, list):
        if all(_is_scalar(v) for v in value):
            return format_html("<ul><li>{}</li></ul>", _compact(value))
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_tree(v, depth + 1),) for v in value)))
    return format_html("{}", _scalar(value))


def _render(value: Any, caption: str, depth: int) -> SafeString:
    if depth > MAX_DEPTH:
        return format_html("{}", "…")
    if _is_scalar(value):
        return format_html("{}", _scalar(value))
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return _table(value, caption)
        return _compact(value)
    return _kv(value, depth)


@register.simple_tag
def show_output(value: Any, what: str = "") -> SafeString:
    """A `show` answer (or any other run output) as tables, trees and key/value lists."""
    if not isinstance(value, dict):
        return _render(value, label(what), 0)
    sections = []
    for key, part in value.items():
        if key == "authorization":
            body = format_html('<div class="azman-tree show-tree">{}</div>', _tree(part))
        elif part is None:
            body = format_html('<p class="muted">{}</p>', "This host is not in a failover cluster.")
        else:
            body = _render(part, label(key), 1)
        sections.append(format_html('<div class="show-part"><p class="show-title">{}</p>{}</div>', label(key), body))
    return format_html_join("", "{}", ((section,) for section in sections))


@register.simple_tag
def record_output(value: Any) -> SafeString:
    """Any other action's result as a key/value list (the op and message are shown elsewhere)."""
    if not isinstance(value, dict):
        return _render(value, "", 0)
    rest = {k: v for k, v in value.items() if k not in ("op", "message")}
    return _kv(rest, 0) if rest else format_html("{}", "")


@register.filter
def plain(text: Any) -> str:
    """Engine text without internal state paths (`vms[name=…].state` becomes `state`)."""
    from labs.feedback import plain as _plain

    return _plain(str(text))
