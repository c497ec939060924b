"""Every URL that takes an id, for every persona (issue 13 item 2).

The world: ian teaches class X on the sample course with alice in it (she accepted); olga teaches class Z on
another course with alice and bob in it, so olga is an instructor of another class with the same student; stan
is staff; bob is invited to X but has not answered. Each row of ACCESS says what each persona gets. The table is
checked against the URLconf: a new URL with an int parameter and no row here fails
`test_every_id_taking_url_has_a_row`, so its author must decide who may open it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from accounts.models import User
from classes import services
from classes.models import Export, HandRaise, Invitation
from courseware import services as cw_services
from courseware.models import Course, Quiz
from courseware.services import course_load
from delivery.certificates import certificate_issue
from labs import services as lab_services
from labs.models import Lab, LabRun
from lti.models import LmsClass, Platform
from tests.classes.conftest import build_class_course, make_class
from tests.labs.conftest import build_lab_course

pytestmark = pytest.mark.django_db

PERSONAS = ("anon", "bob", "olga", "alice", "ian", "stan")  # the row's owner acts after everyone else
OK, LOGIN = "ok", "login"  # ok: a handled answer (200, 302 elsewhere than sign-in, 303, 400)

World = dict[str, Any]
Row = tuple[str, Callable[[World], list[Any]], dict[str, Any], dict[str, object]]


def _only(*allowed: str, others: int = 404, **special: object) -> dict[str, object]:
    expected: dict[str, object] = dict.fromkeys(PERSONAS, others)
    expected.update(dict.fromkeys(allowed, OK), anon=LOGIN)
    expected.update(special)
    return expected


def _io_run(user: User, lab: Lab) -> LabRun:
    attempt = lab_services.lab_attempt_current(user, lab)
    vm = attempt.params["legacy_vm"]
    action = {"op": "io", "vm": vm, "op_kind": "write", "bytes": 102400}
    run = lab_services.lab_action_submit(attempt, f"io write 100KB on {vm}", action, uuid.uuid4()).run
    done = lab_services.lab_run_execute(run.pk)
    assert done is not None
    return done


def _token() -> dict[str, str]:
    return {"client_token": str(uuid.uuid4()), "source": "help", "check": "x", "form": "scope", "name": "s"}


STUDENT_OWN = _only("alice")  # a learner's own attempt or run: nobody else, not even staff, acts on it
TEACHERS = _only("ian", "stan")  # class X's instructor pages
TEACHERS_AND_MEMBER = _only("ian", "stan", "alice")  # class X pages with a student view
REPLAY = _only("ian", "stan", alice=403, bob=403)  # students are refused outright; other instructors get 404

ACCESS: dict[str, Row] = {
    "courseware:quiz_submit": (
        "post", lambda w: [w["course_a"].slug, "basics-quiz", w["quiz_attempt"]], {}, STUDENT_OWN,
    ),
    "labs:console": ("post", lambda w: [w["attempt_a"]], _token(), STUDENT_OWN),
    "labs:check": ("post", lambda w: [w["attempt_a"]], _token(), STUDENT_OWN),
    "labs:hint": ("post", lambda w: [w["attempt_a"]], _token(), STUDENT_OWN),
    "labs:azman": ("post", lambda w: [w["azman_attempt"]], _token(), STUDENT_OWN),
    "labs:compare": ("get", lambda w: [w["attempt_a"]], {}, STUDENT_OWN),
    "labs:panels": ("get", lambda w: [w["attempt_a"]], {}, STUDENT_OWN),
    "labs:run": ("get", lambda w: [w["run_a"]], {}, STUDENT_OWN),
    "labs:trace": ("get", lambda w: [w["run_a"]], {}, STUDENT_OWN),
    "classes:invitation_answer": ("post", lambda w: [w["invitation"], "decline"], {}, _only("bob")),
    "classes:detail": ("get", lambda w: [w["x"]], {}, TEACHERS_AND_MEMBER),
    "classes:heatmap": ("get", lambda w: [w["x"], "io-trap-trace"], {}, TEACHERS),
    "classes:gradebook": ("get", lambda w: [w["x"]], {}, TEACHERS_AND_MEMBER),
    "classes:export": ("post", lambda w: [w["x"]], {}, TEACHERS),
    "classes:exports": ("get", lambda w: [w["x"]], {}, TEACHERS),
    "classes:export_download": ("get", lambda w: [w["x"], w["export"]], {}, TEACHERS),
    "classes:student": ("get", lambda w: [w["x"], w["alice"].pk], {}, TEACHERS),
    "classes:pacing": ("get", lambda w: [w["x"]], {}, TEACHERS),
    "classes:manage": ("get", lambda w: [w["x"]], {}, TEACHERS),
    "classes:notes": ("get", lambda w: [w["x"]], {}, TEACHERS),
    "classes:hand": ("post", lambda w: [w["x"]], {"note": "stuck"}, _only("alice")),
    "classes:hand_resolve": ("post", lambda w: [w["x"], w["hand"]], {}, TEACHERS),
    "classes:replay": ("get", lambda w: [w["attempt_a"]], {}, REPLAY),
    "classes:replay_trace": ("get", lambda w: [w["attempt_a"], w["run_a"]], {}, REPLAY),
    "delivery:class_certificates": ("get", lambda w: [w["x"]], {}, TEACHERS),
    "delivery:certificate_issue": ("post", lambda w: [w["x"], w["alice"].pk], {}, TEACHERS),
    "delivery:certificate_revoke": ("post", lambda w: [w["x"], w["certificate"]], {"reason": "test"}, TEACHERS),
    "lti:roster": ("get", lambda w: [w["x"]], {}, TEACHERS),  # class X mirrors an LMS course
    # Last: they change what the rows above read.
    "classes:reset": (
        "post", lambda w: [w["x"], w["alice"].pk, "quiz"], {"item": "basics-quiz", "reason": "test"}, TEACHERS,
    ),
    "labs:reset": ("post", lambda w: [w["attempt_a"]], {}, STUDENT_OWN),
}  # fmt: skip


def _id_taking_url_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str | None) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":  # Django's admin: staff only, its own permission checks
                    walk(pattern, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                converters = pattern.pattern.converters.values()
                if any(isinstance(converter, IntConverter) for converter in converters):
                    names.add(f"{namespace}:{pattern.name}" if namespace else str(pattern.name))

    walk(get_resolver(), None)
    return names


def test_every_id_taking_url_has_a_row() -> None:
    missing = _id_taking_url_names() - set(ACCESS)
    assert not missing, f"say who may open these in ACCESS: {sorted(missing)}"
    assert not set(ACCESS) - _id_taking_url_names(), "a row for a URL that no longer exists"


@pytest.fixture
def world(
    tmp_path: Path, alice: User, bob: User, ian: User, olga: User, stan: User
) -> World:  # fmt: skip
    course_a: Course = course_load(build_class_course(tmp_path / "a")).course
    course_load(build_lab_course(tmp_path / "b", ["io-trap-trace", "azman-scopes"]))
    course_b = Course.objects.get(slug="lab-course")
    x = make_class(ian, course_a)
    services.membership_add(x, alice, "code")
    z = make_class(olga, course_b, title="Olga's class")
    services.membership_add(z, alice, "code")
    services.membership_add(z, bob, "code")
    services.invitations_create(x, ["bob"], ian)
    lab_a = Lab.objects.get(item__course=course_a, item__slug="io-trap-trace")
    run_a = _io_run(alice, lab_a)
    quiz = Quiz.objects.get(item__course=course_a, item__slug="basics-quiz")
    lms = Platform.objects.create(
        name="LMS", issuer="https://lms.test", client_id="c", auth_login_url="https://lms.test/auth",
        auth_token_url="https://lms.test/token", key_set_url="https://lms.test/jwks",
    )  # fmt: skip
    LmsClass.objects.create(platform=lms, context_id="course-1", klass=x)
    return {
        "alice": alice,
        "course_a": course_a,
        "x": x.pk,
        "attempt_a": run_a.attempt_id,
        "run_a": run_a.pk,
        "run_b": _io_run(alice, Lab.objects.get(item__course=course_b, item__slug="io-trap-trace")),
        "azman_attempt": lab_services.lab_attempt_current(
            alice, Lab.objects.get(item__course=course_b, item__slug="azman-scopes")
        ).pk,
        "quiz_attempt": cw_services.quiz_attempt_start(alice, quiz).pk,
        "invitation": Invitation.objects.get(user=bob).pk,
        "export": Export.objects.create(klass=x, status=Export.Status.READY, content=b"x", rows=1).pk,
        "hand": HandRaise.objects.create(klass=x, user=alice).pk,
        "certificate": certificate_issue(x, alice, ian).pk,
    }


def _kind(response: Any) -> object:
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return LOGIN
    if response.status_code in (200, 302, 303, 400):
        return OK
    return int(response.status_code)


def test_each_persona_gets_what_the_table_says_on_every_id_taking_url(world: World) -> None:
    users = {user.username: user for user in User.objects.all()}
    clients = {"anon": Client()}
    for name in PERSONAS[1:]:
        clients[name] = Client()
        clients[name].force_login(users[name])
    wrong = []
    for name, (method, args, data, expected) in ACCESS.items():
        url = reverse(name, args=args(world))
        for persona in PERSONAS:
            got = _kind(getattr(clients[persona], method)(url, data))
            if got != expected[persona]:
                wrong.append(f"{persona} {method.upper()} {name}: {got}, expected {expected[persona]}")
    assert not wrong, "\n".join(wrong)


def test_an_instructor_sees_a_shared_student_s_work_only_in_the_course_of_her_own_class(
    world: World, olga: User
) -> None:
    olga_client = Client()
    olga_client.force_login(olga)
    run_b: LabRun = world["run_b"]
    assert olga_client.get(reverse("classes:replay", args=[run_b.attempt_id])).status_code == 200
    assert olga_client.get(reverse("classes:replay_trace", args=[run_b.attempt_id, run_b.pk])).status_code == 200
    assert olga_client.get(reverse("classes:replay", args=[world["attempt_a"]])).status_code == 404
    assert olga_client.get(reverse("classes:student", args=[world["x"], world["alice"].pk])).status_code == 404


def test_a_class_that_is_not_accepted_opens_no_work(world: World, ian: User, bob: User) -> None:
    """bob is invited to X but has not answered: ian sees none of his work."""
    ian_client = Client()
    ian_client.force_login(ian)
    attempt = lab_services.lab_attempt_current(
        bob, Lab.objects.get(item__course=world["course_a"], item__slug="io-trap-trace")
    )
    assert ian_client.get(reverse("classes:student", args=[world["x"], bob.pk])).status_code == 404
    assert ian_client.get(reverse("classes:replay", args=[attempt.pk])).status_code == 404
