"""LTI 1.3 endpoints: the key set, OIDC login initiation, and the launch (resource links; deep linking in lti/deep.py).

Every refusal renders lti/error.html with a clear message, a 400 or 403, and signs nobody in.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pylti1p3.exception import LtiException, OIDCException

from classes.services import class_get_for_instructor
from lti import ags, deep, keys, nrps, services, tool
from lti.middleware import SESSION_FRAME_ORIGINS
from lti.models import LmsClass, Platform

logger = logging.getLogger(__name__)
LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id")


def refuse(request: HttpRequest, message: str, status: int = 400, platform: Platform | None = None) -> HttpResponse:
    if platform is not None:
        request.lti_frame_origins = platform.allowed_frame_origins  # type: ignore[attr-defined]
    return render(request, "lti/error.html", {"message": message}, status=status)


def launch_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("lti:launch"))


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = "public, max-age=3600"
    return response


def _param(request: HttpRequest, name: str) -> str:
    return request.POST.get(name) or request.GET.get(name) or ""


@csrf_exempt  # the LMS starts the login from its own origin; nothing here acts on our user's behalf
@require_http_methods(["GET", "POST"])
def login_initiation(request: HttpRequest) -> HttpResponse:
    platform = tool.platform_find(_param(request, "iss"), _param(request, "client_id") or None)
    try:
        redirect_obj = tool.oidc_login(request).get_redirect_object(launch_url(request))
    except (LtiException, OIDCException) as error:
        logger.info("LTI login refused: %s", error)
        return refuse(request, f"This LTI login was refused: {error}.", 400, platform)
    assert platform is not None  # pylti1p3 found the registration
    request.lti_frame_origins = platform.allowed_frame_origins  # type: ignore[attr-defined]
    if _param(request, "lti1p3_new_window"):
        response: HttpResponse = redirect(redirect_obj.get_redirect_url())
    else:
        # Inside the LMS frame the browser may refuse our cookies (third-party): lti-login.js checks, and offers
        # to open the same login in a new window where they are first-party.
        params = {name: _param(request, name) for name in LOGIN_PARAMS if _param(request, name)}
        params["lti1p3_new_window"] = "1"
        new_window_url = reverse("lti:login") + "?" + urlencode(params)
        response = render(
            request,
            "lti/login.html",
            {"auth_url": redirect_obj.get_redirect_url(), "new_window_url": new_window_url, "platform": platform},
        )
    return redirect_obj._process_response(response)  # sets the short-lived state cookie  # noqa: SLF001


def _unverified_platform(request: HttpRequest) -> Platform | None:
    """The platform a (not yet validated) id_token claims to come from: only to let our error page show in its frame."""
    token = request.POST.get("id_token", "")
    try:
        body = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        aud = claims.get("aud")
        return tool.platform_find(str(claims.get("iss")), aud if isinstance(aud, str) else None)
    except (IndexError, ValueError, TypeError, AttributeError):
        return None


@csrf_exempt  # the id_token is the proof (signed by the platform, state and one-time nonce checked)
@require_POST
def launch(request: HttpRequest) -> HttpResponse:
    message_launch = tool.message_launch(request)
    try:
        claims: dict[str, Any] = dict(message_launch.get_launch_data())
    except LtiException as error:
        logger.info("LTI launch refused: %s", error)
        message = f"This LTI launch was refused: {error}"
        if "State not found" in str(error) and not request.COOKIES:
            message += (
                ". Your browser did not send Hyper-V Lab's cookies inside the LMS page. Open the activity in a new "
                "window (most LMSs offer this) or allow cookies for this site."
            )
        return refuse(request, message, 403, _unverified_platform(request))
    request.session.pop(message_launch.get_launch_id(), None)  # pylti1p3 caches every launch in the session
    try:
        services.nonce_record(claims["iss"], str(claims.get("nonce", "")))
        platform = services.platform_for_claims(claims)
        message_type = claims.get(services.CLAIM_MESSAGE_TYPE)
        if message_type == "LtiResourceLinkRequest":
            target = services.target_resolve(claims.get(services.CLAIM_CUSTOM))
        elif message_type == "LtiDeepLinkingRequest":
            target = None
            if not services.is_teaching(claims.get(services.CLAIM_ROLES)):
                raise services.LaunchError("Only the course's instructors can add Hyper-V Lab activities to it.")
            settings = claims.get(deep.CLAIM_DEEP_LINKING)
            if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
                raise services.LaunchError("The LMS did not say where to return the chosen activities.")
        else:
            raise services.LaunchError(f"Hyper-V Lab does not handle “{message_type}” messages.")
        user = services.identity_sign_in(platform, claims)
    except services.LaunchError as error:
        return refuse(request, str(error), 400, _unverified_platform(request))
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_FRAME_ORIGINS] = platform.allowed_frame_origins
    if target is None:
        return deep.picker_start(request, platform, claims)
    with transaction.atomic():
        teaching = services.is_teaching(claims.get(services.CLAIM_ROLES))
        ags.link_record(platform, claims, target.item, user, grade=not teaching)
        lms_class = nrps.lms_class_for_launch(platform, claims, user, target.course)
    if lms_class is not None:
        messages.info(
            request,
            f"Your LMS course has a class here, “{lms_class.klass.title}”: its roster comes from the LMS; "
            "its live dashboard and gradebook are under Classes.",
        )
    return redirect(target.url)


@login_required
@require_http_methods(["GET", "POST"])
def roster(request: HttpRequest, class_id: int) -> HttpResponse:
    """An LMS class's roster sync: when it last ran, what went wrong, and a button to sync now (instructors)."""
    klass = class_get_for_instructor(request.user, class_id)
    lms_class = LmsClass.objects.select_related("platform").filter(klass=klass).first()
    if lms_class is None:
        raise Http404("This class does not come from an LMS.")
    if request.method == "POST":
        transaction.on_commit(lambda: nrps.enqueue_sync(lms_class.pk))
        messages.success(request, "The roster sync has started: reload this page in a moment.")
        return redirect("lti:roster", class_id=klass.pk)
    members = klass.memberships.count()
    return render(request, "lti/roster.html", {"klass": klass, "lms_class": lms_class, "members": members})
