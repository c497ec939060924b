"""Lab pages: the console over htmx and plain forms, polling, hints, reset, traces; ids of others are 404."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from labs import services
from labs.models import Lab, LabAction, LabAttempt, LabRun

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _lab_url(lab: Lab) -> str:
    return reverse("labs:lab", kwargs={"course": lab.item.course.slug, "lab": lab.item.slug})


def _open(client: Client, lab: Lab) -> Any:
    """Start the lab (a POST; a no-op once started), then open its page."""
    client.post(reverse("labs:start", kwargs={"course": lab.item.course.slug, "lab": lab.item.slug}))
    return client.get(_lab_url(lab))


def _token(html: str, name: str = "console-token") -> str:
    match = re.search(rf'value="([0-9a-f-]{{36}})" id="{name}"', html)
    assert match, f"no {name} in the page"
    return match.group(1)


def test_the_lab_page_shows_the_manual_tasks_with_my_variant_and_the_console(alice_client: Client, io_lab: Lab) -> None:
    page = _open(alice_client, io_lab)
    assert page.status_code == 200
    html = page.content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    assert attempt.params["legacy_vm"] in html and "${legacy_vm}" not in html
    assert '<label for="console-input">' in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html
    assert "answer-key" not in html and "Answer key" not in html


def test_a_console_command_over_htmx_returns_a_waiting_run_then_its_result(alice_client: Client, io_lab: Lab) -> None:
    html = _open(alice_client, io_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    response = alice_client.post(
        reverse("labs:console", kwargs={"attempt_id": attempt.pk}),
        {"source": f"io write 100KB on {attempt.params['legacy_vm']}", "client_token": _token(html)},
        **HX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    run = LabRun.objects.get(attempt=attempt)
    # One long-poll per run, sent at once and answered when the result is stored (labs/notify.py), never fast polling.
    assert f'data-hx-get="{reverse("labs:run", kwargs={"run_id": run.pk})}?wait=25"' in body
    assert 'data-hx-trigger="load, every 20s, visibilitychange from:document"' in body
    assert 'data-hx-sync="this:drop"' in body
    assert "every 2s" not in body and "delay:300ms" not in body
    assert 'hx-swap-oob="true"' in body, "the form gets a fresh token for the next command"
    services.lab_run_execute(run.pk)
    finished = alice_client.get(reverse("labs:run", kwargs={"run_id": run.pk}), **HX).content.decode()
    assert "hx-trigger" not in finished, "polling stops once the run is finished"
    assert "emulated path" in finished and reverse("labs:trace", kwargs={"run_id": run.pk}) in finished


def test_a_double_submit_is_recorded_once(alice_client: Client, io_lab: Lab) -> None:
    html = _open(alice_client, io_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    data = {"source": "show host", "client_token": _token(html)}
    url = reverse("labs:console", kwargs={"attempt_id": attempt.pk})
    alice_client.post(url, data, **HX)
    alice_client.post(url, data, **HX)
    assert LabAction.objects.filter(attempt=attempt).count() == 1
    assert LabRun.objects.filter(attempt=attempt).count() == 1


def test_a_garbage_command_gets_a_clear_error_and_records_nothing(alice_client: Client, io_lab: Lab) -> None:
    html = _open(alice_client, io_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    url = reverse("labs:console", kwargs={"attempt_id": attempt.pk})
    htmx = alice_client.post(url, {"source": "vm strat web", "client_token": _token(html)}, **HX)
    assert htmx.status_code == 200 and htmx["HX-Retarget"] == "#console-feedback"
    assert "line 1, column 4: unexpected &#x27;strat&#x27;" in htmx.content.decode()
    plain = alice_client.post(url, {"source": "vm strat web", "client_token": _token(html)})
    assert plain.status_code == 400
    assert ">vm strat web</textarea>" in plain.content.decode(), "what the learner typed is kept"
    assert not LabAction.objects.filter(attempt=attempt).exists()


def test_a_missing_or_forged_token_is_a_400(alice_client: Client, io_lab: Lab) -> None:
    _open(alice_client, io_lab)
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    url = reverse("labs:console", kwargs={"attempt_id": attempt.pk})
    assert alice_client.post(url, {"source": "reboot", "client_token": "not-a-uuid"}).status_code == 400
    assert alice_client.post(reverse("labs:check", kwargs={"attempt_id": attempt.pk}), {}).status_code == 400


def test_help_works_without_javascript(alice_client: Client, io_lab: Lab) -> None:
    html = _open(alice_client, io_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    page = alice_client.post(
        reverse("labs:console", kwargs={"attempt_id": attempt.pk}), {"source": "help io", "client_token": _token(html)}
    )
    assert page.status_code == 200 and "trace one I/O request" in page.content.decode()


def test_check_my_work_and_hints_without_javascript(alice_client: Client, azman_lab: Lab) -> None:
    html = _open(alice_client, azman_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=azman_lab)
    response = alice_client.post(
        reverse("labs:check", kwargs={"attempt_id": attempt.pk}), {"client_token": _token(html, "check-token")}
    )
    assert response.status_code == 302
    run = LabRun.objects.get(attempt=attempt, kind=LabRun.Kind.CHECK)
    services.lab_run_execute(run.pk)
    page = _open(alice_client, azman_lab).content.decode()
    beside = re.search(r'<div class="check-result" id="check-result-scope-exists">(.*?)</div>', page, re.S)
    assert beside and "Not yet" in beside.group(1) and "0 of 1 point" in beside.group(1)
    assert "<dt>Asked</dt>" in beside.group(1) and "<dt>You have</dt>" in beside.group(1)
    assert "[name=" not in page and "Expected " not in page, "plain words, no internal paths"
    hint = alice_client.post(reverse("labs:hint", kwargs={"attempt_id": attempt.pk}), {"check": "scope-exists"}, **HX)
    assert "Scopes are created under the application" in hint.content.decode()
    assert (
        alice_client.post(reverse("labs:hint", kwargs={"attempt_id": attempt.pk}), {"check": "nope"}).status_code == 400
    )


def test_reset_starts_a_new_attempt(alice_client: Client, io_lab: Lab) -> None:
    _open(alice_client, io_lab)
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    assert alice_client.post(reverse("labs:reset", kwargs={"attempt_id": attempt.pk})).status_code == 303
    attempt.refresh_from_db()
    assert attempt.status == LabAttempt.Status.RESET
    assert LabAttempt.objects.filter(user__username="alice", lab=io_lab, status="active").count() == 1
    page = alice_client.get(_lab_url(io_lab)).content.decode()
    assert "Attempt 2" in page and f'href="?attempt={attempt.number}"' in page, "the old attempt stays listed"
    old = alice_client.get(_lab_url(io_lab) + "?attempt=1").content.decode()
    assert "as it ended, read-only" in old and 'id="console-input"' not in old


def test_opening_a_lab_creates_nothing_until_the_learner_starts_it(alice_client: Client, io_lab: Lab) -> None:
    page = alice_client.get(_lab_url(io_lab)).content.decode()
    assert "Start the lab" in page and 'method="post"' in page
    assert not LabAttempt.objects.exists(), "a GET never creates an attempt"
    start = reverse("labs:start", kwargs={"course": io_lab.item.course.slug, "lab": io_lab.item.slug})
    assert alice_client.get(start).status_code == 405
    assert alice_client.post(start).status_code == 303
    alice_client.post(start)  # a second start goes back to the same attempt
    assert LabAttempt.objects.count() == 1


def test_reopening_a_finished_lab_shows_the_attempt_as_it_ended(alice: Any, alice_client: Client, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    LabAttempt.objects.filter(pk=attempt.pk).update(status=LabAttempt.Status.COMPLETED)
    page = alice_client.get(_lab_url(io_lab)).content.decode()
    assert LabAttempt.objects.count() == 1, "reopening a finished lab starts nothing"
    assert "you passed this lab" in page and attempt.params["legacy_vm"] in page
    assert "Start again" in page and "data-confirm=" in page


def _finished_io_run(user: Any, lab: Lab, vm_key: str) -> LabRun:
    attempt = services.lab_attempt_current(user, lab)
    vm = attempt.params[vm_key]
    run = services.lab_action_submit(
        attempt, f"io write 100KB on {vm}", {"op": "io", "vm": vm, "op_kind": "write", "bytes": 102400}, uuid.uuid4()
    ).run
    done = services.lab_run_execute(run.pk)
    assert done is not None
    return done


def test_trace_and_compare_pages_show_precomputed_steps(alice: Any, alice_client: Client, io_lab: Lab) -> None:
    emulated = _finished_io_run(alice, io_lab, "legacy_vm")
    synthetic = _finished_io_run(alice, io_lab, "enlightened_vm")
    trace = alice_client.get(reverse("labs:trace", kwargs={"run_id": emulated.pk}))
    assert trace.status_code == 200
    assert emulated.trace[5]["summary"].split("(")[0][:40] in trace.content.decode()
    url = reverse("labs:compare", kwargs={"attempt_id": emulated.attempt_id})
    compare = alice_client.get(url, {"a": emulated.pk, "b": synthetic.pk})
    assert compare.status_code == 200 and "data-trace-compare" in compare.content.decode()
    assert alice_client.get(url, {"a": "x", "b": synthetic.pk}).status_code == 400


def test_compare_opens_with_two_traces_chosen_and_numbers_steps_like_events(
    alice: Any, alice_client: Client, io_lab: Lab
) -> None:
    emulated = _finished_io_run(alice, io_lab, "legacy_vm")
    synthetic = _finished_io_run(alice, io_lab, "enlightened_vm")
    page = alice_client.get(reverse("labs:compare", kwargs={"attempt_id": emulated.attempt_id})).content.decode()
    assert "data-trace-compare" in page, "two traces exist: the page opens with them side by side"
    assert f'<option value="{emulated.pk}" selected>' in page and f'<option value="{synthetic.pk}" selected>' in page
    # The second run's events are numbered from 1 in its own trace, like its steps (not from the attempt's count).
    trace = alice_client.get(reverse("labs:trace", kwargs={"run_id": synthetic.pk})).content.decode()
    assert 'id="tv-a-step-1"' in trace and '<span class="tv-seq">#1</span>' in trace
    steps = re.findall(r'data-step="(\d+)".*?<span class="tv-seq">#(\d+)</span>', trace)
    assert steps and all(step == seq for step, seq in steps)


def test_another_learners_attempts_and_runs_are_404(alice: Any, bob_client: Client, io_lab: Lab) -> None:
    run = _finished_io_run(alice, io_lab, "legacy_vm")
    attempt_id = run.attempt_id
    for name in ("labs:console", "labs:check", "labs:hint", "labs:reset", "labs:azman"):
        response = bob_client.post(
            reverse(name, kwargs={"attempt_id": attempt_id}),
            {"source": "reboot", "client_token": str(uuid.uuid4()), "check": "x"},
        )
        assert response.status_code == 404, name
    assert bob_client.get(reverse("labs:compare", kwargs={"attempt_id": attempt_id})).status_code == 404
    assert bob_client.get(reverse("labs:run", kwargs={"run_id": run.pk})).status_code == 404
    assert bob_client.get(reverse("labs:trace", kwargs={"run_id": run.pk})).status_code == 404
    assert bob_client.get(reverse("classes:replay", kwargs={"attempt_id": attempt_id})).status_code == 403
    assert LabAction.objects.filter(attempt_id=attempt_id).count() == 1


def test_anonymous_visitors_are_sent_to_sign_in(anon_client: Client, alice: Any, io_lab: Lab) -> None:
    run = _finished_io_run(alice, io_lab, "legacy_vm")
    for url in (
        _lab_url(io_lab),
        reverse("labs:run", kwargs={"run_id": run.pk}),
        reverse("labs:trace", kwargs={"run_id": run.pk}),
        reverse("labs:compare", kwargs={"attempt_id": run.attempt_id}),
        reverse("classes:replay", kwargs={"attempt_id": run.attempt_id}),
    ):
        response = anon_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    post = anon_client.post(reverse("labs:console", kwargs={"attempt_id": run.attempt_id}), {"source": "reboot"})
    assert post.status_code == 302


def test_staff_replay_any_attempt_read_only_and_other_instructors_get_404(
    alice: Any, ian_client: Client, stan_client: Client, io_lab: Lab
) -> None:
    run = _finished_io_run(alice, io_lab, "legacy_vm")
    url = reverse("classes:replay", kwargs={"attempt_id": run.attempt_id})
    page = stan_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "io write 100KB on" in html and "<textarea" not in html
    # An instructor sees the attempts of students in their own classes only (tests/classes covers that side).
    assert ian_client.get(url).status_code == 404


def test_unknown_lab_slug_is_404(alice_client: Client, io_lab: Lab) -> None:
    url = reverse("labs:lab", kwargs={"course": io_lab.item.course.slug, "lab": "no-such-lab"})
    assert alice_client.get(url).status_code == 404


@pytest.mark.parametrize("runs", [3, 25])
def test_the_lab_page_query_count_does_not_grow_with_runs(
    alice: Any, alice_client: Client, io_lab: Lab, runs: int, django_assert_num_queries: Any
) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    for _ in range(runs):
        services.lab_run_execute(
            services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run.pk
        )
    with django_assert_num_queries(7):
        assert alice_client.get(_lab_url(io_lab)).status_code == 200


@pytest.mark.parametrize("runs", [3, 25])
def test_the_run_poll_query_count_is_constant(
    alice: Any, alice_client: Client, io_lab: Lab, runs: int, django_assert_num_queries: Any
) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    ids = [
        services.lab_action_submit(attempt, "reboot", {"op": "host.reboot"}, uuid.uuid4()).run.pk for _ in range(runs)
    ]
    with django_assert_num_queries(2):
        assert alice_client.get(reverse("labs:run", kwargs={"run_id": ids[-1]}), **HX).status_code == 200


def test_the_azman_form_console_adds_to_the_store_like_the_console(alice_client: Client, azman_lab: Lab) -> None:
    html = _open(alice_client, azman_lab).content.decode()
    assert "Authorization Manager" in html and "ScopeOfResidence</code> is set only through WMI" in html
    assert 'name="scope_of_residence"' not in html, "as in azman.msc, a VM's scope cannot be set here"
    attempt = LabAttempt.objects.get(user__username="alice", lab=azman_lab)
    url = reverse("labs:azman", kwargs={"attempt_id": attempt.pk})
    response = alice_client.post(
        url,
        {
            "form": "scope",
            "name": "Finance",
            "description": "Finance VMs",
            "client_token": _token(html, "azman-token-scope"),
        },
        **HX,
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="azman-token-scope" data-hx-swap-oob="true"' in body
    action = LabAction.objects.get(attempt=attempt)
    assert action.source == 'azman create scope Finance "Finance VMs"'
    assert action.action == {"op": "azman.create_scope", "name": "Finance", "description": "Finance VMs"}
    services.lab_run_execute(LabRun.objects.get(action=action).pk)
    role = alice_client.post(
        url,
        {
            "form": "role",
            "name": "Finance VM Operator",
            "scope": "Finance",
            "operations": ["Start Virtual Machine", "Stop Virtual Machine"],
            "tasks": "",
            "client_token": _token(html, "azman-token-role"),
        },
    )
    assert role.status_code == 302
    second = LabAction.objects.get(attempt=attempt, seq=2)
    assert second.action["op"] == "azman.create_role" and second.action["scope"] == "Finance"
    services.lab_run_execute(LabRun.objects.get(action=second).pk)
    page = _open(alice_client, azman_lab).content.decode()
    assert '<option value="Finance">Scope Finance</option>' in page
    assert "Finance VM Operator (Start Virtual Machine, Stop Virtual Machine)" in page


def test_the_azman_form_refuses_made_up_operations_and_records_nothing(alice_client: Client, azman_lab: Lab) -> None:
    html = _open(alice_client, azman_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=azman_lab)
    response = alice_client.post(
        reverse("labs:azman", kwargs={"attempt_id": attempt.pk}),
        {
            "form": "role",
            "name": "X",
            "operations": ["Format Host Disk"],
            "client_token": _token(html, "azman-token-role"),
        },
    )
    assert response.status_code == 400 and "Operations are fixed" in response.content.decode()
    assert not LabAction.objects.filter(attempt=attempt).exists()


def test_a_lab_without_the_azman_form_has_no_azman_endpoint(alice_client: Client, io_lab: Lab) -> None:
    _open(alice_client, io_lab)
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    response = alice_client.post(
        reverse("labs:azman", kwargs={"attempt_id": attempt.pk}),
        {"form": "scope", "name": "F", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 404


def test_a_command_the_labs_console_does_not_offer_is_refused(alice_client: Client, io_lab: Lab) -> None:
    html = _open(alice_client, io_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    response = alice_client.post(
        reverse("labs:console", kwargs={"attempt_id": attempt.pk}), {"source": "reboot", "client_token": _token(html)}
    )
    assert response.status_code == 400
    assert "this lab&#x27;s console offers io, show, select, answer, help; &#x27;reboot&#x27; is not one of them" in (
        response.content.decode()
    )
    assert not LabAction.objects.filter(attempt=attempt).exists()


def test_staff_step_through_a_students_trace_read_only_others_get_404(
    alice: Any, bob: Any, stan_client: Client, ian_client: Client, bob_client: Client, io_lab: Lab
) -> None:
    run = _finished_io_run(alice, io_lab, "legacy_vm")
    url = reverse("classes:replay_trace", kwargs={"attempt_id": run.attempt_id, "run_id": run.pk})
    assert url in stan_client.get(reverse("classes:replay", kwargs={"attempt_id": run.attempt_id})).content.decode()
    page = stan_client.get(url)
    assert page.status_code == 200 and "read-only" in page.content.decode()
    assert ian_client.get(url).status_code == 404
    assert bob_client.get(url).status_code == 403
    other = _finished_io_run(bob, io_lab, "legacy_vm")
    forged = reverse("classes:replay_trace", kwargs={"attempt_id": run.attempt_id, "run_id": other.pk})
    assert stan_client.get(forged).status_code == 404


def test_a_student_in_a_class_raises_their_hand_from_the_lab(
    alice: Any, alice_client: Client, ian: Any, io_lab: Lab
) -> None:
    from datetime import date, timedelta

    from classes import services as classes_services
    from classes.models import HandRaise

    assert "Raise my hand" not in _open(alice_client, io_lab).content.decode(), "self-paced: no class, no hand"
    today = date.today()
    klass = classes_services.class_create(ian, io_lab.item.course, "Monday class", today, today + timedelta(days=5))
    classes_services.membership_add(klass, alice, "code")
    page = _open(alice_client, io_lab).content.decode()
    assert "Raise my hand" in page and "Monday class" in page
    response = alice_client.post(
        reverse("classes:hand", kwargs={"class_id": klass.pk}),
        {"note": "stuck on the counters", "next": _lab_url(io_lab)},
    )
    assert response.status_code == 303 and response["Location"] == _lab_url(io_lab)
    assert HandRaise.objects.get(klass=klass, user=alice).note == "stuck on the counters"
    evil = alice_client.post(reverse("classes:hand", kwargs={"class_id": klass.pk}), {"next": "https://evil.example/"})
    assert evil["Location"] == reverse("classes:detail", args=[klass.pk])


def test_lab_answer_keys_are_on_the_instructor_notes_page_only(
    alice_client: Client, ian: Any, ian_client: Client, io_lab: Lab
) -> None:
    from datetime import date, timedelta

    from classes.services import class_create

    class_create(ian, io_lab.item.course, "Hyper-V week", date.today(), date.today() + timedelta(days=4))
    url = reverse("courseware:instructor", args=[io_lab.item.course.slug])
    page = ian_client.get(url).content.decode()
    assert "Lab answer keys" in page and "Discussion prompt" in page
    assert alice_client.get(url).status_code == 403
    assert "Discussion prompt" not in _open(alice_client, io_lab).content.decode()


def test_pages_with_several_answer_keys_have_unique_ids(ian: Any, ian_client: Client, io_lab: Lab) -> None:
    """Every answer key starts with "## Answer key (instructors)": its heading id must not repeat on one page."""
    from collections import Counter
    from datetime import date, timedelta

    from classes.services import class_create

    klass = class_create(ian, io_lab.item.course, "Hyper-V week", date.today(), date.today() + timedelta(days=4))
    for url in (
        reverse("courseware:instructor", args=[io_lab.item.course.slug]),
        reverse("classes:notes", args=[klass.pk]),
    ):
        page = ian_client.get(url).content.decode()
        assert page.count("Answer key (instructors)") >= 2
        repeated = [value for value, n in Counter(re.findall(r'\sid="([^"]+)"', page)).items() if n > 1]
        assert not repeated, f"{url}: repeated ids {repeated}"
        for target in re.findall(r'href="#([^"]+)"', page):
            assert f'id="{target}"' in page, f"{url}: in-page link to a missing id #{target}"


def test_every_azman_form_field_is_held_to_the_consoles_4_kb_cap(alice_client: Client, azman_lab: Lab) -> None:
    html = _open(alice_client, azman_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=azman_lab)
    url = reverse("labs:azman", kwargs={"attempt_id": attempt.pk})
    token = _token(html, "azman-token-scope")
    for field in ("name", "description", "scope"):
        data = {"form": "scope", "name": "Finance", "client_token": token, field: "x" * 4097}
        response = alice_client.post(url, data, **HX)
        assert f"The field &#x27;{field}&#x27; is longer than 4,096 bytes." in response.content.decode(), field
    many_tasks = {"form": "role", "name": "Ops", "tasks": ["t" * 1000] * 5, "client_token": token}
    assert "longer than 4,096 bytes" in alice_client.post(url, many_tasks, **HX).content.decode()
    assert not attempt.actions.exists(), "nothing recorded, nothing replayed"


def test_a_console_command_reads_no_course_overview_or_glossary(alice_client: Client, io_lab: Lab) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    html = _open(alice_client, io_lab).content.decode()
    attempt = LabAttempt.objects.get(user__username="alice", lab=io_lab)
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.post(
            reverse("labs:console", kwargs={"attempt_id": attempt.pk}),
            {"source": "show vms", "client_token": _token(html)},
            **HX,
        )
    assert response.status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"courseware_course"' in sql, "the course comes with the attempt"
    for column in ("glossary", "instructor_overview_html", "summary_html", "audience_html"):
        assert f'"{column}"' not in sql, column


@pytest.mark.parametrize("attempt_id", [0, 2**63, 10**30])
def test_an_impossible_attempt_id_in_a_url_is_404(alice_client: Client, attempt_id: int) -> None:
    assert alice_client.get(reverse("labs:panels", kwargs={"attempt_id": attempt_id})).status_code == 404
    post = alice_client.post(reverse("labs:console", kwargs={"attempt_id": attempt_id}), {"source": "show vms"})
    assert post.status_code == 404
