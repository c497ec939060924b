"""Template tag for the trace viewer fragment: the layout comes from `labs.trace_layout`."""

from __future__ import annotations

from typing import Any

from django import template

from labs.trace_layout import viewer_context

register = template.Library()


@register.simple_tag
def trace_viewer_context(trace: dict[str, Any], viewer_id: str, label: str = "") -> dict[str, Any]:
    """The diagram, list items and first step of one trace, for `labs/_trace_viewer.html`."""
    return viewer_context(trace or {}, str(viewer_id or "trace"), str(label or ""))
