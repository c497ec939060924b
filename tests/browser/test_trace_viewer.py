"""The trace viewer in Chromium: keyboard stepping, jump, filter, play/pause and the linked comparison."""

from __future__ import annotations

import pytest

from labs.trace_layout import align_traces, component_box_id
from tests.browser.conftest import wait_for_js
from tests.labs.trace_viewer_urls import io_trace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.labs.trace_viewer_urls"),
]

PAGE = "/trace-viewer/compare/"
EMULATED = io_trace("windows-no-integration-services")["events"]
SYNTHETIC = io_trace("windows-enlightened")["events"]


def step_of(page, viewer: str) -> int:
    return int(page.inner_text(f"#tv-{viewer} [data-tv-detail-n]"))


def shows_step(page, viewer: str, events: list[dict], n: int) -> None:
    """Assert the viewer shows step n (1-based): detail, list marker, highlighted box, step input."""
    event = events[n - 1]
    assert step_of(page, viewer) == n
    assert page.inner_text(f"#tv-{viewer} [data-tv-detail-summary]") == event["summary"]
    current = page.locator(f'#tv-{viewer} [data-tv-list] a[aria-current="step"]')
    assert current.count() == 1
    assert current.get_attribute("data-step") == str(n)
    assert page.locator(f"#tv-{viewer} g.tv-box.is-current").get_attribute("data-box") == component_box_id(event)
    assert page.input_value(f"#tv-{viewer}-step") == str(n)


def test_a_learner_steps_through_a_trace_with_keys_jump_filter_and_play(audited_page) -> None:
    page = audited_page.page
    audited_page.goto(PAGE)
    page.uncheck("input[data-trace-link]")
    assert page.is_visible("#tv-a [data-tv-controls]"), "the script reveals the controls"
    shows_step(page, "a", EMULATED, 1)

    page.focus('#tv-a [data-tv-action="first"]')
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    shows_step(page, "a", EMULATED, 4)
    assert page.inner_text("#tv-a [data-tv-live]") == f"Step 4 of 400: {EMULATED[3]['summary']}"
    marker = page.locator("#tv-a g.tv-box.is-current .tv-box-marker")
    assert marker.text_content() == "▶" and marker.evaluate("m => getComputedStyle(m).visibility") == "visible"
    stroke = page.locator("#tv-a g.tv-box.is-current rect").evaluate("r => parseFloat(getComputedStyle(r).strokeWidth)")
    assert stroke >= 4, "the current box has a thicker outline, not only another colour"
    assert page.locator("#tv-a [data-tv-edge]").get_attribute("visibility") == "visible", "arrow from step 3's box"
    assert "Layer stack" in page.inner_text("#tv-a [data-tv-detail-fields]")
    assert step_of(page, "b") == 1, "unlinked: the other trace stays put"

    page.keyboard.press("End")
    shows_step(page, "a", EMULATED, 400)
    page.keyboard.press("ArrowLeft")
    shows_step(page, "a", EMULATED, 399)
    page.keyboard.press("Home")
    shows_step(page, "a", EMULATED, 1)

    # Filter by kind: the list shows only port accesses and stepping jumps between them.
    port_steps = [n for n, e in enumerate(EMULATED, start=1) if e["kind"] == "port_io"]
    page.select_option("#tv-a-filter", "port_io")
    assert page.locator("#tv-a [data-tv-list] li:visible").count() == 40
    shows_step(page, "a", EMULATED, port_steps[0])
    page.click('#tv-a [data-tv-action="forward"]')
    shows_step(page, "a", EMULATED, port_steps[1])
    page.click('#tv-a [data-tv-action="last"]')
    shows_step(page, "a", EMULATED, port_steps[-1])
    page.select_option("#tv-a-filter", "")
    assert page.locator("#tv-a [data-tv-list] li:visible").count() == 400

    # Go to step.
    page.fill("#tv-a-step", "123")
    page.click("#tv-a .tv-goto button")
    shows_step(page, "a", EMULATED, 123)
    page.fill("#tv-a-step", "77")
    page.press("#tv-a-step", "Enter")
    shows_step(page, "a", EMULATED, 77)

    # Play advances on its own; Pause stops it.
    page.select_option("#tv-a-speed", "25")
    page.click('#tv-a [data-tv-action="play"]')
    assert page.inner_text('#tv-a [data-tv-action="play"]') == "Pause"
    wait_for_js(page, "document.querySelector('#tv-a [data-tv-detail-n]').textContent > 80")
    page.click('#tv-a [data-tv-action="play"]')
    assert page.inner_text('#tv-a [data-tv-action="play"]') == "Play"
    stopped = step_of(page, "a")
    assert stopped > 77
    page.wait_for_timeout(300)
    assert step_of(page, "a") == stopped
    assert page.inner_text("#tv-a [data-tv-live]").startswith(f"Step {stopped} of 400: ")

    # Space toggles play from inside the viewer (here: the event list), and a list item jumps there.
    page.click("#tv-a-step-5 a")
    shows_step(page, "a", EMULATED, 5)
    page.keyboard.press("Space")
    wait_for_js(page, "document.querySelector('#tv-a [data-tv-detail-n]').textContent > 6")
    page.keyboard.press("Space")
    assert page.inner_text('#tv-a [data-tv-action="play"]') == "Play"
    # Arrow keys typed into the step field stay in the field.
    page.focus("#tv-a-step")
    before = step_of(page, "a")
    page.keyboard.press("ArrowLeft")
    assert step_of(page, "a") == before
    audited_page.audit()


def test_the_linked_comparison_moves_both_traces_along_the_alignment(audited_page) -> None:
    page = audited_page.page
    rows = align_traces(EMULATED, SYNTHETIC)
    audited_page.goto(PAGE)
    assert page.is_checked("input[data-trace-link]"), "linked by default"
    shows_step(page, "a", EMULATED, 1)
    shows_step(page, "b", SYNTHETIC, 1)

    page.focus('#tv-a [data-tv-action="forward"]')
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    shows_step(page, "a", EMULATED, 4)
    shows_step(page, "b", SYNTHETIC, 4)
    assert "Aligned row 4 of" in page.inner_text("[data-trace-align-status]")

    # Jump the emulated trace into its port-access work: the synthetic side shows the step it has reached.
    page.fill("#tv-a-step", "50")
    page.press("#tv-a-step", "Enter")
    shows_step(page, "a", EMULATED, 50)
    row = next(r for r, (i, _) in enumerate(rows) if i == 49)
    reached = max(j for _, j in rows[: row + 1] if j is not None)
    shows_step(page, "b", SYNTHETIC, reached + 1)
    assert "waits at step" in page.inner_text("[data-trace-align-status]")

    # The synthetic viewer's own controls drive both as well.
    page.click('#tv-b [data-tv-action="last"]')
    shows_step(page, "a", EMULATED, 400)
    shows_step(page, "b", SYNTHETIC, len(SYNTHETIC))
    page.click('#tv-b [data-tv-action="first"]')
    shows_step(page, "a", EMULATED, 1)
    shows_step(page, "b", SYNTHETIC, 1)

    # Playing linked advances both; pausing stops both.
    page.select_option("#tv-a-speed", "25")
    page.click('#tv-a [data-tv-action="play"]')
    assert page.inner_text('#tv-b [data-tv-action="play"]') == "Pause"
    wait_for_js(page, "document.querySelector('#tv-b [data-tv-detail-n]').textContent > 3")
    page.click('#tv-b [data-tv-action="play"]')
    assert page.inner_text('#tv-a [data-tv-action="play"]') == "Play"
    a_step, b_step = step_of(page, "a"), step_of(page, "b")
    assert rows[next(r for r, (i, _) in enumerate(rows) if i == a_step - 1)][1] in (b_step - 1, None)

    # Unlinked, each trace steps on its own.
    page.uncheck("input[data-trace-link]")
    page.click('#tv-a [data-tv-action="forward"]')
    assert step_of(page, "a") == a_step + 1
    assert step_of(page, "b") == b_step
    audited_page.audit()


def test_a_single_viewer_works_without_a_comparison(audited_page) -> None:
    page = audited_page.page
    audited_page.goto("/trace-viewer/single/?guest=linux-xen")
    events = io_trace("linux-xen")["events"]
    assert page.locator("input[data-trace-link]").count() == 0
    page.focus('#tv-a [data-tv-action="first"]')
    page.keyboard.press("End")
    shows_step(page, "a", events, len(events))
    page.keyboard.press("ArrowLeft")
    shows_step(page, "a", events, len(events) - 1)
    audited_page.audit()
