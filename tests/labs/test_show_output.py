"""`show …` answers render as an administrator would read them (issue 11): tables, trees, key/value lists, and no
Python repr anywhere a learner can see it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from labs import services
from labs.models import Lab

HX = {"headers": {"HX-Request": "true"}}
REPR = re.compile(r"\{'|': |\[\{|\bNone\b|\bTrue\b|\bFalse\b")


def _show(alice: Any, client: Client, lab: Lab, what: str) -> str:
    attempt = services.lab_attempt_current(alice, lab)
    run = services.lab_action_submit(attempt, f"show {what}", {"op": "show", "what": what}, uuid.uuid4()).run
    services.lab_run_execute(run.pk)
    return client.get(reverse("labs:run", kwargs={"run_id": run.pk}), **HX).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("what", ["vms", "host", "azman", "bios", "bcd", "cluster"])
def test_show_answers_have_no_python_repr(alice: Any, alice_client: Client, azman_lab: Lab, what: str) -> None:
    html = _show(alice, alice_client, azman_lab, what)
    text = re.sub(r"<[^>]+>", " ", html)
    assert not REPR.search(text), f"show {what}: a Python repr reached the page: {REPR.search(text)}"
    assert "<pre" not in html


@pytest.mark.django_db
def test_show_vms_is_a_table_and_show_azman_a_tree(alice: Any, alice_client: Client, azman_lab: Lab) -> None:
    vms = _show(alice, alice_client, azman_lab, "vms")
    assert '<table class="show-table">' in vms
    for header in ("Name", "State", "Partition", "vmwp PID", "Scope"):
        assert f'<th scope="col">{header}</th>' in vms
    azman = _show(alice, alice_client, azman_lab, "azman")
    assert 'class="azman-tree show-tree"' in azman and "Role definitions" in azman
    host = _show(alice, alice_client, azman_lab, "host")
    assert '<dl class="show-kv">' in host
