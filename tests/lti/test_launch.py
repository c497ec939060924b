"""End to end against the loopback platform: OIDC login initiation, launch, accounts, targets, framing, keys."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import User
from courseware.models import Course
from lti import keys
from lti.models import Identity, Platform, ToolKey
from tests.lti.conftest import lms_launch
from tests.lti.platform import INSTRUCTOR, LEARNER, LoopbackPlatform, Message, Person, rsa_pem_pair
from tests.test_production import ROOT, _env

pytestmark = pytest.mark.django_db

ANNA = Person("u-anna", [LEARNER], name="Anna Berg", given_name="Anna", family_name="Berg", email="anna@uni.test")


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_a_learner_lands_signed_in_on_the_quiz_the_link_names(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    client = Client()
    response = lms_launch(client, lms, Message(ANNA, custom={"course": "sample", "quiz": "basics-quiz"}))
    assert response.status_code == 302
    assert response["Location"] == "/courses/sample/quizzes/basics-quiz/"
    user = signed_in_user(client)
    assert user is not None
    assert (user.first_name, user.last_name, user.email, user.role) == ("Anna", "Berg", "anna@uni.test", "student")
    assert not user.has_usable_password()
    identity = Identity.objects.get(user=user)
    assert (identity.issuer, identity.subject, identity.platform) == (lms.issuer, "u-anna", registered)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Basics quiz" in page.content.decode() or "basics" in page.content.decode().lower()


def test_the_same_lms_user_gets_the_same_account_on_every_launch(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    lms_launch(Client(), lms, Message(ANNA, custom={"course": "sample"}))
    renamed = Person("u-anna", [LEARNER], given_name="Anna", family_name="Berg-Lund", email="anna@uni.test")
    lms_launch(Client(), lms, Message(renamed, custom={"course": "sample"}))
    assert User.objects.filter(lti_identities__subject="u-anna").count() == 1
    assert User.objects.get(lti_identities__subject="u-anna").last_name == "Berg-Lund"


def test_an_lms_instructor_becomes_an_instructor_and_a_learner_never_demotes_them(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    ivan = Person("u-ivan", [INSTRUCTOR], name="Ivan Petrov")
    lms_launch(Client(), lms, Message(ivan, custom={"course": "sample"}))
    user = User.objects.get(lti_identities__subject="u-ivan")
    assert user.role == User.Role.INSTRUCTOR
    assert user.first_name == "Ivan Petrov"  # only "name" was sent
    assert not user.is_staff
    lms_launch(Client(), lms, Message(Person("u-ivan", [LEARNER]), custom={"course": "sample"}))
    user.refresh_from_db()
    assert user.role == User.Role.INSTRUCTOR


@pytest.mark.parametrize(
    ("custom", "location"),
    [
        ({"course": "sample"}, "/courses/sample/"),
        ({"course": "sample", "module": "devices"}, "/courses/sample/#module-devices"),
        ({"course": "sample", "lesson": "partitions"}, "/courses/sample/lessons/partitions/"),
        ({"course": "sample", "quiz": "final-exam"}, "/courses/sample/quizzes/final-exam/"),
        ({"course": "sample", "lab": "io-trap-trace"}, "/courses/sample/labs/io-trap-trace/"),
    ],
)
def test_a_link_lands_on_the_course_module_lesson_quiz_or_lab_it_names(
    registered: Platform, lms: LoopbackPlatform, course: Course, custom: dict[str, str], location: str
) -> None:
    response = lms_launch(Client(), lms, Message(ANNA, custom=custom))
    assert response.status_code == 302
    assert response["Location"] == location


@pytest.mark.parametrize(
    ("custom", "message"),
    [
        ({}, "does not say which course to open"),
        ({"course": "nope"}, "The course “nope” does not exist here."),
        ({"course": "sample", "lab": "nope"}, "The lab “nope” is not in the course"),
        ({"course": "sample", "lab": "io-trap-trace", "quiz": "final-exam"}, "more than one place"),
    ],
)
def test_a_link_to_nothing_is_refused_with_a_clear_error_and_no_session(
    registered: Platform, lms: LoopbackPlatform, course: Course, custom: dict[str, str], message: str
) -> None:
    client = Client()
    response = lms_launch(client, lms, Message(ANNA, custom=custom))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.exists()


def test_lti_pages_may_be_framed_by_the_registered_platform_only(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    client = Client()
    response = lms_launch(client, lms, Message(ANNA, custom={"course": "sample", "lesson": "intro"}))
    page = client.get(response["Location"])
    assert "X-Frame-Options" not in page
    assert page["Content-Security-Policy"].endswith(f"frame-ancestors 'self' {lms.base}")
    # Someone who signed in here directly keeps the default: no framing at all.
    other = Client()
    other.force_login(User.objects.create_user("zoe", password="x-long-password-1"))
    assert other.get("/courses/sample/lessons/intro/")["X-Frame-Options"] == "DENY"


def test_the_login_page_offers_a_new_window_when_the_frame_blocks_cookies(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    client = Client()
    page = client.get(lms.login_initiation_url(Message(ANNA, custom={"course": "sample"})))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'target="_blank"' in text and "lti1p3_new_window=1" in text
    assert "<script>" not in text and "js/lti-login.js" in text  # no inline script (CSP script-src 'self')
    assert page["Content-Security-Policy"].endswith(f"frame-ancestors 'self' {lms.base}")
    # In the new window the login goes straight on to the platform.
    new_window = client.get(
        lms.login_initiation_url(Message(ANNA, custom={"course": "sample"})) + "&lti1p3_new_window=1"
    )
    assert new_window.status_code == 302
    assert new_window["Location"].startswith(lms.url("/auth?"))


def test_a_login_from_an_unregistered_platform_is_refused(db: None, lms: LoopbackPlatform) -> None:
    client = Client()
    response = client.get(lms.login_initiation_url(Message(ANNA)))
    assert response.status_code == 400
    assert "This LTI login was refused" in response.content.decode()
    assert signed_in_user(client) is None


def test_the_jwks_publishes_the_signing_key_and_rotation_keeps_the_previous_one(db: None) -> None:
    first = Client().get("/lti/jwks.json").json()["keys"]
    assert len(first) == 1 and first[0]["alg"] == "RS256" and first[0]["kty"] == "RSA" and "d" not in first[0]
    out = StringIO()
    call_command("lti_rotate_keys", stdout=out)
    kids = [key["kid"] for key in Client().get("/lti/jwks.json").json()["keys"]]
    assert kids == [keys.signing_key().kid, first[0]["kid"]]
    assert f"New signing key: {kids[0]}" in out.getvalue()
    # Two rotations later, with the grace period over, the first key is retired and no longer published.
    now = timezone.now()
    ToolKey.objects.filter(kid=first[0]["kid"]).update(created_at=now - timedelta(days=10))
    ToolKey.objects.filter(kid=kids[0]).update(created_at=now - timedelta(days=3))
    call_command("lti_rotate_keys", "--keep-days", "2", stdout=StringIO())
    published = [key["kid"] for key in Client().get("/lti/jwks.json").json()["keys"]]
    assert first[0]["kid"] not in published
    assert len(published) == 2


def test_production_cookies_work_inside_an_lms_frame(tmp_path: Path) -> None:
    """With DEBUG=0 the session and CSRF cookies are SameSite=None; Secure, so a browser sends them in the iframe."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SAMESITE, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SAMESITE, s.CSRF_COOKIE_SECURE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["None", "True", "None", "True"], result.stderr


def test_the_platform_key_set_is_fetched_once_and_again_only_when_the_platform_signs_with_a_new_key(
    registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    for _ in range(2):
        assert lms_launch(Client(), lms, Message(ANNA, custom={"course": "sample"})).status_code == 302
    assert lms.requests.count("GET /jwks") == 1, "the second launch used the cached key set"

    lms.private_key, lms.public_key = rsa_pem_pair()  # the LMS rotates its signing key
    assert lms_launch(Client(), lms, Message(ANNA, custom={"course": "sample"})).status_code == 302
    assert lms.requests.count("GET /jwks") == 2, "a key the cached set lacks fetched the set once more"
