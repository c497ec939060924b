"""Test-only URLconf: pages that include the trace viewer fragment with real simulator traces.

Used by tests/browser/test_trace_viewer.py through `@pytest.mark.urls("tests.labs.trace_viewer_urls")`; the
accounts URLs and `home` are here because base.html links to them.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.http import require_GET

from labs.sim import io
from labs.sim.params import CostModel
from labs.sim.trace import Trace
from labs.trace_layout import align_traces

GUESTS = {
    # guest: (synthetic devices, Linux, Xen hypercall adapter)
    "windows-no-integration-services": (False, False, False),
    "windows-enlightened": (True, False, False),
    "linux-ic-2.1": (True, True, False),
    "linux-xen": (True, True, True),
}


def io_trace(
    guest: str = "windows-no-integration-services",
    device: str = "disk",
    op_kind: str = "write",
    nbytes: int = 102400,
    vm: str = "vm1",
) -> dict[str, Any]:
    """One simulated I/O as the dict the trace viewer takes: events, counters, path, vm, guest, params."""
    synthetic, linux, adapter = GUESTS[guest]
    trace = Trace()
    target = io.IoTarget(
        vm=vm,
        partition_id=2,
        vmwp_pid=1234,
        guest=guest,
        synthetic_storage=synthetic,
        synthetic_network=synthetic,
        hypercall_adapter=adapter,
        linux=linux,
    )
    path, counters = io.perform_io(trace, CostModel(), target, device=device, op_kind=op_kind, nbytes=nbytes)
    arithmetic = (
        CostModel().emulated_arithmetic(nbytes) if path == "emulated" else CostModel().synthetic_arithmetic(nbytes)
    )
    lines = [f"{key}: {value}" for key, value in arithmetic.items() if key.endswith("_formula")]
    return {
        "events": trace.events,
        "counters": counters,
        "path": path,
        "vm": vm,
        "guest": guest,
        "params": {"arithmetic": lines},
    }


PAGE = """{% extends "base.html" %}{% load static %}
{% block title %}Trace viewer test{% endblock %}
{% block head %}<link rel="stylesheet" href="{% static 'css/labs.css' %}">
<script src="{% static 'js/trace-viewer.js' %}" defer></script>{% endblock %}
{% block content %}
<h1>Emulated and synthetic disk write</h1>
{% if trace_b %}
<div class="trace-compare" data-trace-compare>
  {{ alignment|json_script:"trace-alignment" }}
  {% include "labs/_trace_viewer.html" with viewer_id="a" trace=trace_a label="Emulated IDE" %}
  {% include "labs/_trace_viewer.html" with viewer_id="b" trace=trace_b label="Synthetic" %}
</div>
{% else %}
{% include "labs/_trace_viewer.html" with viewer_id="a" trace=trace_a label="Emulated IDE" %}
{% endif %}
{% endblock %}
"""


@require_GET
def compare_page(request: HttpRequest) -> HttpResponse:
    trace_a = io_trace("windows-no-integration-services")
    trace_b = io_trace("windows-enlightened")
    alignment = align_traces(trace_a["events"], trace_b["events"])
    context = {"trace_a": trace_a, "trace_b": trace_b, "alignment": alignment}
    return HttpResponse(engines["django"].from_string(PAGE).render(context, request))


@require_GET
def single_page(request: HttpRequest) -> HttpResponse:
    guest = request.GET.get("guest", "windows-no-integration-services")
    context = {"trace_a": io_trace(guest, request.GET.get("device", "disk"))}
    return HttpResponse(engines["django"].from_string(PAGE).render(context, request))


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("home")


urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("trace-viewer/compare/", compare_page, name="trace_viewer_compare"),
    path("trace-viewer/single/", single_page, name="trace_viewer_single"),
]
