"""LTI fixtures: a real platform on loopback (tests/lti/platform.py) registered with the tool, and the sample course.

`lms_launch` plays the browser between the two: it follows the tool's login page to the platform's authentication
endpoint and posts the launch form back to the tool, as a browser would inside the LMS.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from courseware.models import Course
from courseware.services import course_load
from lti.models import Deployment, Platform
from tests.classes.conftest import build_class_course
from tests.lti.platform import LoopbackPlatform, Message

AUTH_URL = re.compile(r'data-auth-url="([^"]+)"')


@pytest.fixture
def lms() -> Iterator[LoopbackPlatform]:
    platform = LoopbackPlatform()
    yield platform
    platform.close()


@pytest.fixture
def registered(db: None, lms: LoopbackPlatform) -> Platform:
    """The platform as staff register it in the admin, and the tool's keys as the platform reads them."""
    platform = Platform.objects.create(name="Loopback LMS", **lms.registration_fields())
    Deployment.objects.create(platform=platform, deployment_id=lms.deployment_id)
    lms.tool_key_set = Client().get("/lti/jwks.json").json()
    return platform


@pytest.fixture
def course(db: None, tmp_path: Path) -> Course:
    return course_load(build_class_course(tmp_path / "sample-course")).course


def login_step(client: Client, lms: LoopbackPlatform, message: Message) -> dict[str, str]:
    """Click the link in the LMS: the tool's login page, then the platform's answer (id_token, state, launch_url)."""
    page = client.get(lms.login_initiation_url(message))
    assert page.status_code == 200, page.content.decode()
    auth_url = html.unescape(AUTH_URL.search(page.content.decode()).group(1))
    answer = requests.get(auth_url, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def auth_params(client: Client, lms: LoopbackPlatform, message: Message) -> dict[str, str]:
    """Only the login initiation: the state and nonce the tool sent to the platform (for forging a launch)."""
    page = client.get(lms.login_initiation_url(message))
    auth_url = html.unescape(AUTH_URL.search(page.content.decode()).group(1))
    return {key: values[0] for key, values in parse_qs(urlsplit(auth_url).query).items()}


def post_launch(client: Client, form: dict[str, str], **extra: Any) -> Any:
    return client.post(
        urlsplit(form.get("launch_url", "/lti/launch/")).path or "/lti/launch/",
        {"id_token": form["id_token"], "state": form["state"]},
        **extra,
    )


def lms_launch(client: Client, lms: LoopbackPlatform, message: Message) -> Any:
    return post_launch(client, login_step(client, lms, message))
