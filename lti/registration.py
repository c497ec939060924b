"""LTI Dynamic Registration (LTI-DR 1.0): an LMS administrator adds the tool by pasting one URL.

The LMS opens /lti/register/?openid_configuration=...&registration_token=... in its admin page; a signed-in staff
member of this site confirms; pylti1p3's DynamicRegistration reads the platform's OpenID configuration, posts our
tool configuration to its registration endpoint, and we store the platform (and its deployment id) as if staff had
typed it into the admin. Staff sign-in is required because this page makes our server fetch the given URL and
trust what it answers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException

from lti import tool
from lti.models import Deployment, Platform

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


class ToolRegistration(DynamicRegistration):
    client_name = "Hyper-V Lab"
    description = "Hyper-V architecture lessons, quizzes and simulator labs, with grades and rosters."

    def __init__(self, request: HttpRequest) -> None:
        super().__init__()
        self.request = request
        self.platform: Platform | None = None

    def get_request_session(self) -> requests.Session:
        return tool.http_session()

    def _absolute(self, name: str) -> str:
        return self.request.build_absolute_uri(reverse(name))

    def get_initiate_login_uri(self) -> str:
        return self._absolute("lti:login")

    def get_jwks_uri(self) -> str:
        return self._absolute("lti:jwks")

    def get_redirect_uris(self) -> list[str]:
        return [self._absolute("lti:launch")]

    def get_target_link_uri(self) -> str:
        return self._absolute("lti:launch")

    def get_domain(self) -> str:
        return self.request.get_host()

    def get_logo_uri(self) -> str:
        return self.request.build_absolute_uri(static("favicon.svg"))

    def get_scopes(self) -> list[str]:
        return [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        ]

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict[str, str]]:
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": self.get_target_link_uri(),
                "label": "Add Hyper-V Lab activities",
            }
        ]

    def get_openid_configuration_endpoint(self) -> str:
        return self.request.GET.get("openid_configuration", "")

    def get_registration_token(self) -> str:
        return self.request.GET.get("registration_token", "")

    def get_openid_configuration(self) -> dict[str, Any]:
        configuration = super().get_openid_configuration()
        issuer = str(configuration.get("issuer", ""))
        endpoint = self.get_openid_configuration_endpoint()
        # LTI-DR 1.0, 3.5.1: the issuer is a prefix of the configuration URL, and the URLs it gives are its own.
        if not issuer or not endpoint.startswith(issuer) or urlsplit(issuer).scheme not in ("https", "http"):
            raise LtiException("The platform's OpenID configuration names an issuer that does not match its URL.")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
            if urlsplit(str(configuration.get(key, ""))).scheme not in ("https", "http"):
                raise LtiException(f"The platform's OpenID configuration has no valid {key}.")
        return configuration

    @transaction.atomic
    def complete_registration(self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]) -> Any:
        family = (openid_configuration.get(PLATFORM_CONFIGURATION) or {}).get("product_family_code", "")
        client_id = str(openid_registration.get("client_id", ""))
        if not client_id:
            raise LtiException("The platform did not give this tool a client id.")
        platform, _ = Platform.objects.update_or_create(
            issuer=openid_configuration["issuer"],
            client_id=client_id,
            defaults={
                "name": f"{family or 'LMS'} ({urlsplit(openid_configuration['issuer']).netloc})"[:200],
                "auth_login_url": openid_configuration["authorization_endpoint"],
                "auth_token_url": openid_configuration["token_endpoint"],
                "auth_audience": openid_configuration.get("authorization_server", "") or "",
                "key_set_url": openid_configuration["jwks_uri"],
                "is_active": True,
            },
        )
        deployment_id = (openid_registration.get(TOOL_CONFIGURATION) or {}).get("deployment_id")
        if deployment_id:
            Deployment.objects.get_or_create(platform=platform, deployment_id=str(deployment_id)[:200])
        self.platform = platform
        return platform


@staff_member_required
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    registration = ToolRegistration(request)
    configuration_url = registration.get_openid_configuration_endpoint()
    if not configuration_url:
        message = "This URL is for LMS dynamic registration: paste it into your LMS's tool registration page."
        return render(request, "lti/error.html", {"message": message}, status=400)
    origin = urlsplit(configuration_url)
    if origin.scheme in ("http", "https") and origin.netloc:
        # The LMS shows this page in its own admin page.
        request.lti_frame_origins = [f"{origin.scheme}://{origin.netloc}"]  # type: ignore[attr-defined]
    if request.method == "GET":
        return render(request, "lti/register.html", {"configuration_url": configuration_url})
    try:
        platform = registration.register()
    except (LtiException, AssertionError, KeyError, ValueError, requests.RequestException) as error:
        return render(request, "lti/error.html", {"message": f"The registration failed: {error}"}, status=400)
    return render(request, "lti/registered.html", {"platform": platform})
