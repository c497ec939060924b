"""A run's trace events live apart from its result (LabRun.trace, compressed JSON): written with the result,
read only by the trace viewer and the comparison, never by the run log or the answer to a command."""

from __future__ import annotations

import json
import uuid
import zlib
from typing import Any

import pytest
from django.core import exceptions, serializers
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from labs import services
from labs.fields import CompressedJSONField
from labs.models import Lab, LabAttempt, LabRun
from tests.labs.conftest import historical_lab, migrate_to, migrate_to_latest

HX = {"HTTP_HX_REQUEST": "true"}


def _io_run(user: User, lab: Lab, vm_param: str = "legacy_vm") -> LabRun:
    attempt = services.lab_attempt_current(user, lab)
    action = {"op": "io", "vm": attempt.params[vm_param], "op_kind": "write", "bytes": 100 * 1024, "device": "disk"}
    run = services.lab_action_submit(attempt, "io write 100KB", action, uuid.uuid4()).run
    done = services.lab_run_execute(run.pk)
    assert done is not None and done.status == LabRun.Status.PASSED
    return done


def _reads_trace(sql: str) -> bool:
    return '"labs_labrun"."trace"' in sql


# --- The field ----------------------------------------------------------------------------------------


def test_the_field_reads_compressed_json_and_none() -> None:
    field = CompressedJSONField(null=True)
    value = [{"summary": "é </script>", "n": 1}] * 300
    assert field.from_db_value(zlib.compress(json.dumps(value).encode()), None, connection) == value
    assert field.from_db_value(memoryview(zlib.compress(b"[]")), None, connection) == []
    assert field.get_db_prep_value(None, connection) is None and field.from_db_value(None, None, connection) is None


def test_the_field_says_what_is_wrong_with_bytes_that_are_not_compressed_json() -> None:
    field = CompressedJSONField(null=True)
    with pytest.raises(exceptions.ValidationError, match="not compressed JSON"):
        field.to_python(b"plain bytes")
    with pytest.raises(exceptions.ValidationError, match="not JSON"):
        field.to_python("{not json")
    assert field.to_python('[{"a": 1}]') == [{"a": 1}]


@pytest.mark.django_db
def test_a_run_with_its_trace_survives_dumpdata_and_loaddata(alice: User, io_lab: Lab) -> None:
    run = _io_run(alice, io_lab)
    trace = LabRun.objects.defer(None).get(pk=run.pk).trace
    text = serializers.serialize("json", [LabRun.objects.defer(None).get(pk=run.pk)], fields=["trace", "result"])
    assert json.loads(text)[0]["fields"]["trace"] == json.dumps(trace, ensure_ascii=False)
    restored = next(iter(serializers.deserialize("json", text))).object
    assert restored.trace == trace


# --- Where the trace is written and read --------------------------------------------------------------


@pytest.mark.django_db
def test_an_io_run_stores_its_events_as_its_trace_and_its_result_only_counts_them(alice: User, io_lab: Lab) -> None:
    run = _io_run(alice, io_lab)
    stored = LabRun.objects.get(pk=run.pk)
    assert "events" not in stored.result and stored.result["events_total"] >= 100
    assert "trace" in stored.get_deferred_fields(), "listing runs does not read their traces"
    assert len(stored.trace) == stored.result["events_total"]
    with connection.cursor() as cursor:  # in the database: compressed JSON, a fraction of the size
        cursor.execute("SELECT trace FROM labs_labrun WHERE id = %s", [run.pk])
        raw = bytes(cursor.fetchone()[0])
    assert json.loads(zlib.decompress(raw)) == stored.trace and len(raw) < len(json.dumps(stored.trace)) / 5
    assert stored.trace[0]["kind"] == "app_request" and stored.trace[-1]["kind"] == "app_complete"


@pytest.mark.django_db
def test_a_check_run_has_no_trace(alice: User, io_lab: Lab) -> None:
    attempt = services.lab_attempt_current(alice, io_lab)
    run = services.lab_check_submit(attempt, uuid.uuid4()).run
    services.lab_run_execute(run.pk)
    stored = LabRun.objects.defer(None).get(pk=run.pk)
    assert stored.is_terminal and stored.trace is None and stored.io_trace() is None


@pytest.mark.django_db
def test_the_answer_to_a_command_never_reads_a_trace(alice: User, alice_client: Client, io_lab: Lab) -> None:
    earlier = _io_run(alice, io_lab)
    attempt = LabAttempt.objects.get(pk=earlier.attempt_id)
    alice_client.get(reverse("labs:lab", kwargs={"course": io_lab.item.course.slug, "lab": io_lab.item.slug}))
    with CaptureQueriesContext(connection) as queries:  # read at once: each request resets the query log
        response = alice_client.post(
            reverse("labs:console", kwargs={"attempt_id": attempt.pk}),
            {"source": f"io write 4KB on {attempt.params['enlightened_vm']}", "client_token": str(uuid.uuid4())},
            **HX,
        )
    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if _reads_trace(q["sql"])]
    lab_url = reverse("labs:lab", kwargs={"course": io_lab.item.course.slug, "lab": io_lab.item.slug})
    with CaptureQueriesContext(connection) as queries:
        page = alice_client.get(lab_url)
    assert page.status_code == 200 and f"run-{earlier.pk}" in page.content.decode()
    assert not [q["sql"] for q in queries.captured_queries if _reads_trace(q["sql"])]


@pytest.mark.django_db
def test_the_trace_page_and_the_comparison_read_the_traces_in_the_query_that_loads_the_runs(
    alice: User, alice_client: Client, io_lab: Lab
) -> None:
    emulated = _io_run(alice, io_lab, "legacy_vm")
    synthetic = _io_run(alice, io_lab, "enlightened_vm")
    trace_url = reverse("labs:trace", kwargs={"run_id": emulated.pk})
    alice_client.get(trace_url)
    with CaptureQueriesContext(connection) as queries:  # read at once: each request resets the query log
        assert alice_client.get(trace_url).status_code == 200
    assert sum(_reads_trace(q["sql"]) for q in queries.captured_queries) == 1
    compare_url = reverse("labs:compare", kwargs={"attempt_id": emulated.attempt_id})
    alice_client.get(compare_url, {"a": emulated.pk, "b": synthetic.pk})
    with CaptureQueriesContext(connection) as queries:
        response = alice_client.get(compare_url, {"a": emulated.pk, "b": synthetic.pk})
    assert sum(_reads_trace(q["sql"]) for q in queries.captured_queries) == 1
    assert response.status_code == 200 and "data-trace-compare" in response.content.decode()


# --- The migration that moved the events --------------------------------------------------------------

BEFORE = [("labs", "0003_backfill_lab_scores")]
AFTER = [("labs", "0004_run_trace_apart")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_stored_events_into_the_trace_and_back() -> None:
    apps = migrate_to(BEFORE)
    user = apps.get_model("accounts", "User").objects.create(username="old-learner", email="o@example.test")
    lab, _ = historical_lab(apps)
    attempt = apps.get_model("labs", "LabAttempt").objects.create(user=user, lab=lab, number=1, seed=1)
    runs = apps.get_model("labs", "LabRun").objects
    events = [{"seq": n, "kind": "driver", "summary": f"step {n} é"} for n in range(1, 301)]
    io: Any = runs.create(
        attempt=attempt,
        kind="action",
        upto_seq=1,
        status="passed",
        result={"output": {"op": "io"}, "events": events, "events_total": 300},
    )
    check: Any = runs.create(attempt=attempt, kind="check", upto_seq=1, status="failed", result={"checks": []})

    migrate_to(AFTER)
    moved = LabRun.objects.defer(None)
    assert moved.get(pk=io.pk).trace == events
    assert moved.get(pk=io.pk).result == {"output": {"op": "io"}, "events_total": 300}
    assert moved.get(pk=check.pk).trace is None and moved.get(pk=check.pk).result == {"checks": []}

    back = migrate_to(BEFORE).get_model("labs", "LabRun").objects
    assert back.get(pk=io.pk).result["events"] == events and "trace" not in {f.name for f in back.model._meta.fields}
    migrate_to_latest()
