"""The trace viewer fragment, rendered by Django's template engine: what a reader gets without JavaScript."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from django.template.loader import render_to_string
from django.utils.html import escape

from labs.trace_layout import component_box_id
from tests.labs.trace_viewer_urls import io_trace


def render(trace: dict, viewer_id: str = "a", label: str = "Emulated IDE") -> str:
    return render_to_string("labs/_trace_viewer.html", {"viewer_id": viewer_id, "trace": trace, "label": label})


class Elements(HTMLParser):
    """Collects start tags with their attributes, and the text of each <label for=...>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "label" and attributes.get("for"):
            self.label_for.add(str(attributes["for"]))


def parse(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    return parser


def test_every_event_summary_is_in_the_list_in_order() -> None:
    trace = io_trace("windows-no-integration-services")
    html = render(trace)
    list_html = html[html.index("data-tv-list") : html.index("</ol>")]
    previous = -1
    for n, event in enumerate(trace["events"], start=1):
        item = f'id="tv-a-step-{n}"'
        assert item in list_html, f"step {n} is missing"
        start = list_html.index(item)
        following = list_html.find(f'id="tv-a-step-{n + 1}"')
        own = list_html[start : following if following != -1 else len(list_html)]
        assert escape(event["summary"]) in own, f"step {n} does not show its own summary"
        assert start > previous, f"step {n} is out of order"
        previous = start
    assert list_html.count("<li ") == len(trace["events"]) == 400


def test_the_counters_table_shows_40_port_accesses() -> None:
    html = render(io_trace("windows-no-integration-services"))
    assert re.search(r"<th scope=\"row\"><code>port_accesses</code></th><td>40</td>", html)
    assert re.search(r"<code>vmwp_round_trips</code></th><td>44</td>", html)
    assert "The arithmetic" in html and "10 commands x" not in html  # 100 KB at 32 KB per command is 4 commands
    assert "4 commands x 10 = 40" in html


def test_the_data_is_a_json_script_and_hostile_text_is_escaped() -> None:
    trace = io_trace("windows-enlightened")
    trace["events"][0] = dict(trace["events"][0], summary="</script><script>alert('x')</script> & more")
    html = render(trace)
    match = re.search(r'<script id="tv-a-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the trace is emitted with json_script"
    assert "<script>alert" not in html, "no raw markup from the trace reaches the page"
    assert "\\u003C/script\\u003E" in match.group(1)
    data = json.loads(match.group(1))
    assert data["events"][0]["summary"].startswith("</script>")
    assert len(data["events"]) == len(trace["events"]) == len(data["boxes"]) == len(data["stacks"])
    assert "&lt;/script&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html


def test_every_input_and_select_has_a_label() -> None:
    elements = parse(render(io_trace("windows-no-integration-services")))
    fields = [attrs for tag, attrs in elements.tags if tag in ("input", "select", "textarea")]
    assert len(fields) >= 3, "step number, speed and kind filter"
    for attrs in fields:
        assert attrs.get("id") in elements.label_for, f"unlabelled field {attrs}"


def test_controls_are_hidden_until_the_script_runs_and_have_text_labels() -> None:
    html = render(io_trace("windows-no-integration-services"))
    assert re.search(r'<div class="tv-controls" data-tv-controls hidden>', html)
    for text in ("First", "Back", "Play", "Forward", "Last", "Go"):
        assert re.search(rf"<button [^>]*>{text}</button>", html), text
    assert '<option value="port_io">port_io (40)</option>' in html


def test_the_diagram_has_a_box_per_component_and_highlights_step_one() -> None:
    trace = io_trace("windows-no-integration-services")
    elements = parse(render(trace))
    boxes = {attrs["data-box"]: attrs for tag, attrs in elements.tags if tag == "g" and attrs.get("data-box")}
    for event in trace["events"]:
        assert component_box_id(event) in boxes
    current = [box for box, attrs in boxes.items() if "is-current" in (attrs.get("class") or "")]
    assert current == [component_box_id(trace["events"][0])]
    svg = next(attrs for tag, attrs in elements.tags if tag == "svg")
    assert svg["role"] == "img" and svg["aria-labelledby"]
    box_map = json.loads(svg["data-box-map"] or "{}")
    assert box_map["vm1|kernel|atapi.sys|"] == "child-vm1-kernel--ide"


def test_step_one_is_current_and_its_detail_is_shown() -> None:
    trace = io_trace("windows-no-integration-services")
    html = render(trace)
    assert html.count('aria-current="step"') == 1
    assert re.search(r'<a href="#tv-a-step-1" data-step="1" aria-current="step">', html)
    detail = html[html.index("data-tv-detail") : html.index("</section>", html.index("data-tv-detail"))]
    assert escape(trace["events"][0]["summary"]) in detail
    assert "child partition vm1 &gt; user mode &gt; application" in detail
    assert "<dt>kind</dt><dd>app_request</dd>" in detail


def test_two_viewers_on_one_page_have_distinct_ids() -> None:
    a = parse(render(io_trace("windows-no-integration-services"), "a"))
    b = parse(render(io_trace("windows-enlightened"), "b", "Synthetic"))
    ids_a = {attrs["id"] for _, attrs in a.tags if attrs.get("id")}
    ids_b = {attrs["id"] for _, attrs in b.tags if attrs.get("id")}
    assert not ids_a & ids_b


def test_an_empty_trace_renders() -> None:
    html = render({"events": [], "counters": {}})
    assert "This trace has no events." in html and "0 steps" in html


def test_the_script_data_carries_each_steps_box_stack_and_transition_computed_on_the_server() -> None:
    from labs.trace_layout import layer_stack, mode_transition

    trace = io_trace("windows-enlightened")
    html = render(trace)
    match = re.search(r'<script id="tv-a-data" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    data = json.loads(match.group(1))
    events = trace["events"]
    assert data["events"] == events
    assert data["boxes"] == [component_box_id(event) for event in events]
    assert data["stacks"][0] == layer_stack(events[0])
    assert data["transitions"][5] == mode_transition(events[5], events[4])
    assert any(data["transitions"]) and len(data["stacks"]) == len(events)
