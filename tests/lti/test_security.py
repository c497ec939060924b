"""Forged and replayed launches: each is refused with a clear error, and nobody is signed in.

Each test first starts a real login with the loopback platform (so the tool holds a state and a nonce, as it would
for a victim), then posts a token built by the attacker. `test_the_forging_helper_makes_a_valid_launch` is the
control: the same helper with nothing altered is accepted, so each refusal is due to the one thing altered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from courseware.models import Course
from lti.models import Identity, Platform
from tests.lti.conftest import auth_params, login_step, post_launch
from tests.lti.platform import LEARNER, LoopbackPlatform, Message, Person, rsa_pem_pair

pytestmark = pytest.mark.django_db

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MALLORY = Person("u-mallory", [LEARNER], name="Mallory")


def launch_claims(lms: LoopbackPlatform, nonce: str, **changes: Any) -> dict[str, Any]:
    claims = {
        "iss": lms.issuer,
        "aud": lms.client_id,
        "azp": lms.client_id,
        "sub": MALLORY.user_id,
        "nonce": nonce,
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": lms.deployment_id,
        CLAIM + "target_link_uri": "http://testserver/lti/launch/",
        CLAIM + "resource_link": {"id": "link-1"},
        CLAIM + "roles": [LEARNER],
        CLAIM + "custom": {"course": "sample"},
    }
    claims.update(changes)
    return claims


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assert_refused(client: Client, response: Any, message: str, status: int = 403) -> None:
    assert response.status_code == status, response.content.decode()[:500]
    text = response.content.decode()
    assert "This LMS link could not open Hyper-V Lab" in text
    assert message in text
    assert client.session.get("_auth_user_id") is None
    assert not Identity.objects.exists()
    assert not User.objects.exists()


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def pending(client: Client, registered: Platform, lms: LoopbackPlatform, course: Course) -> dict[str, str]:
    """A login the tool started: its state and nonce, as the platform received them."""
    return auth_params(client, lms, Message(MALLORY, custom={"course": "sample"}))


def test_the_forging_helper_makes_a_valid_launch(
    client: Client, lms: LoopbackPlatform, pending: dict[str, str]
) -> None:
    token = lms.sign(launch_claims(lms, pending["nonce"]))
    response = post_launch(client, {"id_token": token, "state": pending["state"]})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id")


def test_a_reused_nonce_is_refused(client: Client, registered: Platform, lms: LoopbackPlatform, course: Course) -> None:
    form = login_step(client, lms, Message(MALLORY, custom={"course": "sample"}))
    state_cookie = {key: morsel.value for key, morsel in client.cookies.items() if key.startswith("lti1p3-")}
    assert post_launch(client, form).status_code == 302
    # The captured form replayed in the same browser, and in another browser holding the state cookie.
    again = post_launch(client, form)
    assert again.status_code == 403
    assert "Invalid Nonce" in again.content.decode()
    thief = Client()
    thief.cookies.load(state_cookie)
    stolen = post_launch(thief, form)
    assert stolen.status_code == 403
    assert "Invalid Nonce" in stolen.content.decode()
    assert thief.session.get("_auth_user_id") is None
    assert Identity.objects.count() == 1


def test_a_nonce_already_used_is_refused_even_if_the_session_still_holds_it(
    client: Client, registered: Platform, lms: LoopbackPlatform, course: Course
) -> None:
    """Defence in depth: accepted nonces are also recorded in the database, per issuer."""
    first = auth_params(client, lms, Message(MALLORY, custom={"course": "sample"}))
    token = lms.sign(launch_claims(lms, first["nonce"]))
    assert post_launch(client, {"id_token": token, "state": first["state"]}).status_code == 302
    session = client.session
    session[f"lti1p3-nonce-{first['nonce']}"] = True  # as if the session store had been restored from a copy
    session.save()
    replay = post_launch(client, {"id_token": token, "state": first["state"]})
    assert replay.status_code == 400
    assert "already used" in replay.content.decode()


def test_a_state_mismatch_is_refused(client: Client, lms: LoopbackPlatform, pending: dict[str, str]) -> None:
    token = lms.sign(launch_claims(lms, pending["nonce"]))
    response = post_launch(client, {"id_token": token, "state": "state-not-ours"})
    assert_refused(client, response, "State not found")


def test_an_unsigned_token_alg_none_is_refused(client: Client, lms: LoopbackPlatform, pending: dict[str, str]) -> None:
    kid = lms.registration().get_kid()
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    claims = launch_claims(lms, pending["nonce"], iat=int(time.time()), exp=int(time.time()) + 300)
    token = f"{header}.{b64(json.dumps(claims).encode())}."
    assert_refused(
        client, post_launch(client, {"id_token": token, "state": pending["state"]}), "Unable to find public key"
    )


def test_an_hs256_token_signed_with_the_platform_public_key_is_refused(
    client: Client, lms: LoopbackPlatform, pending: dict[str, str]
) -> None:
    kid = lms.registration().get_kid()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    claims = launch_claims(lms, pending["nonce"], iat=int(time.time()), exp=int(time.time()) + 300)
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(lms.public_key.encode(), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(signature)}"
    assert_refused(
        client, post_launch(client, {"id_token": token, "state": pending["state"]}), "Unable to find public key"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iss": "https://evil.example"}, "Registration not found"),
        ({"aud": "someone-elses-client", "azp": "someone-elses-client"}, "Registration not found"),
        ({CLAIM + "deployment_id": "dep-unknown"}, "The deployment ID &quot;dep-unknown&quot; is not recognised"),
    ],
    ids=["wrong-issuer", "wrong-audience", "wrong-deployment"],
)
def test_a_token_for_another_issuer_audience_or_deployment_is_refused(
    client: Client, lms: LoopbackPlatform, pending: dict[str, str], change: dict[str, str], message: str
) -> None:
    token = lms.sign(launch_claims(lms, pending["nonce"], **change))
    response = post_launch(client, {"id_token": token, "state": pending["state"]})
    assert_refused(client, response, message)


def test_an_expired_token_is_refused(client: Client, lms: LoopbackPlatform, pending: dict[str, str]) -> None:
    an_hour_ago = int(time.time()) - 3600
    token = lms.sign(launch_claims(lms, pending["nonce"], iat=an_hour_ago - 300, exp=an_hour_ago), expiration=None)
    assert_refused(client, post_launch(client, {"id_token": token, "state": pending["state"]}), "Signature has expired")


def test_a_token_signed_by_a_key_missing_from_the_platform_jwks_is_refused(
    client: Client, lms: LoopbackPlatform, pending: dict[str, str]
) -> None:
    other_private, _ = rsa_pem_pair()
    token = lms.sign(launch_claims(lms, pending["nonce"]), private_key=other_private)
    assert_refused(
        client, post_launch(client, {"id_token": token, "state": pending["state"]}), "Unable to find public key"
    )
    assert lms.requests.count("GET /jwks") == 2, "fetched, then once more for the unknown key, and still refused"


def test_forged_key_ids_do_not_make_the_tool_fetch_the_platform_keys_on_every_request(
    lms: LoopbackPlatform, registered: Platform, course: Course
) -> None:
    other_private, _ = rsa_pem_pair()
    for _ in range(3):
        client = Client()
        pending = auth_params(client, lms, Message(MALLORY, custom={"course": "sample"}))
        token = lms.sign(launch_claims(lms, pending["nonce"]), private_key=other_private)
        assert_refused(
            client, post_launch(client, {"id_token": token, "state": pending["state"]}), "Unable to find public key"
        )
    assert lms.requests.count("GET /jwks") == 2, "one fetch, one refetch for the unknown key, then the cache"


def test_a_launch_from_an_unregistered_platform_is_refused(
    client: Client, registered: Platform, lms: LoopbackPlatform, pending: dict[str, str]
) -> None:
    token = lms.sign(launch_claims(lms, pending["nonce"]))
    registered.is_active = False  # staff switched the registration off between the login and the launch
    registered.save()
    assert_refused(
        client, post_launch(client, {"id_token": token, "state": pending["state"]}), "Registration not found"
    )
