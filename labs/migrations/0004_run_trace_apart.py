"""A run's trace events move out of its JSON result into a compressed column of their own (LabRun.trace).

An I/O run's events were most of its result (about 120 KB of 122 KB for a 100 KB write on the emulated path), and
every read of a run decoded them: the answer to a console command, the run log of the lab page, the dashboard.
Only the trace viewer and the comparison use them. Existing runs are moved here, in batches; reversing puts the
events back into the result.
"""

from django.db import migrations

import labs.fields

BATCH = 200


def events_to_trace(apps, schema_editor):  # type: ignore[no-untyped-def]
    LabRun = apps.get_model("labs", "LabRun")
    runs = LabRun.objects.filter(result__has_key="events").only("pk", "result").order_by("pk")
    for run in runs.iterator(chunk_size=BATCH):
        run.trace = run.result.pop("events")
        run.save(update_fields=["result", "trace"])


def trace_to_events(apps, schema_editor):  # type: ignore[no-untyped-def]
    LabRun = apps.get_model("labs", "LabRun")
    runs = LabRun.objects.filter(trace__isnull=False).only("pk", "result", "trace").order_by("pk")
    for run in runs.iterator(chunk_size=BATCH):
        run.result["events"] = run.trace
        run.trace = None
        run.save(update_fields=["result", "trace"])


class Migration(migrations.Migration):
    dependencies = [
        ("labs", "0003_backfill_lab_scores"),
    ]

    operations = [
        migrations.AddField(
            model_name="labrun",
            name="trace",
            field=labs.fields.CompressedJSONField(
                blank=True,
                help_text="The action's trace events (an I/O keeps up to engine.TRACE_EVENTS_KEPT), stored "
                "compressed; NULL for checks and for runs without a result. The run's summary and counters are in "
                "`result`.",
                null=True,
            ),
        ),
        migrations.RunPython(events_to_trace, trace_to_events, elidable=True),
    ]
