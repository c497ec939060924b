"""LTI Dynamic Registration against the loopback platform: one URL pasted in the LMS registers the tool both ways."""

from __future__ import annotations

import pytest
from django.test import Client

from courseware.models import Course
from lti.models import Platform
from tests.lti.conftest import lms_launch
from tests.lti.platform import LEARNER, LoopbackPlatform, Message, Person

pytestmark = pytest.mark.django_db


def registration_url(lms: LoopbackPlatform) -> str:
    configuration = lms.url("/.well-known/openid-configuration")
    return f"/lti/register/?openid_configuration={configuration}&registration_token=tok-1"


def test_a_staff_member_registers_the_tool_and_the_platform_can_launch_at_once(
    lms: LoopbackPlatform, course: Course, stan: object
) -> None:
    client = Client()
    client.force_login(stan)  # type: ignore[arg-type]
    confirm = client.get(registration_url(lms))
    assert confirm.status_code == 200 and "Register" in confirm.content.decode()
    done = client.post(registration_url(lms))
    assert done.status_code == 200, done.content.decode()
    assert "js/lti-registered.js" in done.content.decode()

    sent = lms.registrations[0]
    assert sent["authorization"] == "Bearer tok-1"
    assert sent["body"]["initiate_login_uri"] == "http://testserver/lti/login/"
    assert sent["body"]["jwks_uri"] == "http://testserver/lti/jwks.json"
    assert sent["body"]["redirect_uris"] == ["http://testserver/lti/launch/"]
    platform = Platform.objects.get()
    assert (platform.issuer, platform.client_id) == (lms.issuer, lms.client_id)
    assert (platform.auth_login_url, platform.key_set_url) == (lms.url("/auth"), lms.url("/jwks"))
    assert list(platform.deployments.values_list("deployment_id", flat=True)) == [lms.deployment_id]

    lms.tool_key_set = Client().get("/lti/jwks.json").json()
    response = lms_launch(Client(), lms, Message(Person("u-anna", [LEARNER]), custom={"course": "sample"}))
    assert response.status_code == 302 and response["Location"] == "/courses/sample/"


def test_only_staff_may_register_a_platform(lms: LoopbackPlatform, alice_client: Client) -> None:
    response = alice_client.get(registration_url(lms))
    assert response.status_code in (302, 403)
    assert not Platform.objects.exists()
    assert lms.registrations == []


def test_a_configuration_whose_issuer_does_not_match_its_url_is_refused(lms: LoopbackPlatform, stan: object) -> None:
    client = Client()
    client.force_login(stan)  # type: ignore[arg-type]
    lms.openid_issuer = "https://evil.example"
    response = client.post(registration_url(lms))
    assert response.status_code == 400
    assert "does not match its URL" in response.content.decode()
    assert not Platform.objects.exists()
