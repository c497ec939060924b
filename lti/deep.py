"""Deep linking: an LMS instructor picks lessons, quizzes and labs from our catalogue to add to the LMS course.

The deep linking request (validated in lti/views.py) is kept in the session under a random key; the picker posts
the choices back here, and we answer the platform with a signed LtiDeepLinkingResponse (pylti1p3's DeepLink) that
the browser posts to the platform's deep_link_return_url. Each content item is an ltiResourceLink to our launch URL
whose custom parameters name the item; quizzes and labs carry a line item with the chosen maximum score.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from courseware.models import Course, Item
from lti import services, tool
from lti.models import Platform

CLAIM_DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
SESSION_PREFIX = "lti_deep_link:"
MAX_SCORE_LIMIT = 10_000
HEAVY_FIELDS = ("quiz__questions", "lab__definition", "lab__manual_html", "lab__answer_key_html")


@dataclass
class Choice:
    item: Item
    selected: bool
    title: str
    max_score: str
    error: str = ""

    @property
    def graded(self) -> bool:
        return self.item.kind in (Item.Kind.QUIZ, Item.Kind.LAB)

    @property
    def field(self) -> str:
        return f"{self.item.pk}"


def picker_start(request: HttpRequest, platform: Platform, claims: dict[str, Any]) -> HttpResponse:
    """Keep the validated request for this signed-in instructor and send them to the picker."""
    settings = claims[CLAIM_DEEP_LINKING]  # checked by the launch view
    key = secrets.token_urlsafe(16)
    request.session[SESSION_PREFIX + key] = {
        "platform_id": platform.pk,
        "user_id": request.user.pk,
        "deployment_id": claims.get(services.CLAIM_DEPLOYMENT),
        "settings": settings,
    }
    return redirect("lti:deep_link", key=key)


def _pending(request: HttpRequest, key: str) -> dict[str, Any]:
    pending = request.session.get(SESSION_PREFIX + key)
    if not isinstance(pending, dict) or pending.get("user_id") != request.user.pk:
        raise Http404("This activity picker has expired: open it again from the LMS.")
    return pending


def _catalogue() -> list[tuple[Course, list[Item]]]:
    items = (
        Item.objects.filter(archived=False, module__archived=False)
        .select_related("course", "module", "quiz", "lab")
        .defer(*HEAVY_FIELDS)
        .order_by("course__title", "course_id", "position")
    )
    grouped: dict[int, tuple[Course, list[Item]]] = {}
    for item in items:
        grouped.setdefault(item.course_id, (item.course, []))[1].append(item)
    return list(grouped.values())


def _default_max(item: Item) -> str:
    points = 0.0
    if item.kind == Item.Kind.QUIZ:
        points = item.quiz.max_points
    elif item.kind == Item.Kind.LAB:
        points = item.lab.max_points
    return f"{points:g}" if points > 0 else "100"


def _choices(catalogue: list[tuple[Course, list[Item]]], data: Any = None) -> list[tuple[Course, list[Choice]]]:
    result = []
    for course, items in catalogue:
        choices = []
        for item in items:
            if data is None:
                choices.append(Choice(item, False, item.title, _default_max(item)))
                continue
            choice = Choice(
                item,
                data.get(f"pick-{item.pk}") == "on",
                data.get(f"title-{item.pk}", "").strip() or item.title,
                data.get(f"max-{item.pk}", "").strip(),
            )
            if choice.selected and len(choice.title) > 200:
                choice.error = "The title is longer than 200 characters."
            elif choice.selected and choice.graded:
                try:
                    value = float(choice.max_score)
                except ValueError:
                    value = -1
                if not (0 < value <= MAX_SCORE_LIMIT) or value != value:  # NaN is not a score
                    choice.error = f"The maximum score must be a number above 0 and at most {MAX_SCORE_LIMIT}."
            choices.append(choice)
        result.append((course, choices))
    return result


def _resource(request: HttpRequest, choice: Choice) -> DeepLinkResource:
    item = choice.item
    target = services.Target(item.course, item.module, item)
    resource = (
        DeepLinkResource()
        .set_url(request.build_absolute_uri(reverse("lti:launch")))
        .set_title(choice.title)
        .set_custom_params(target.as_custom())
    )
    if choice.graded:
        line_item = (
            LineItem()
            .set_score_maximum(float(choice.max_score))
            .set_label(choice.title)
            .set_resource_id(f"{item.course.slug}/{item.kind}/{item.slug}")
            .set_tag(item.kind)
        )
        resource.set_lineitem(line_item)
    return resource


@login_required
@require_http_methods(["GET", "POST"])
def deep_link(request: HttpRequest, key: str) -> HttpResponse:
    pending = _pending(request, key)
    platform = Platform.objects.filter(pk=pending["platform_id"], is_active=True).first()
    if platform is None:
        raise Http404("This LMS is no longer registered.")
    request.lti_frame_origins = platform.allowed_frame_origins  # type: ignore[attr-defined]
    catalogue = _catalogue()
    settings = pending["settings"]
    if request.method == "GET":
        context = {"catalogue": _choices(catalogue), "platform": platform, "settings": settings}
        return render(request, "lti/deep_link.html", context)
    choices = _choices(catalogue, request.POST)
    picked = [choice for _, group in choices for choice in group if choice.selected]
    errors = [choice for choice in picked if choice.error]
    if not settings.get("accept_multiple", True) and len(picked) > 1:
        message = f"{platform.name} accepts one activity at a time: pick one."
    elif not picked:
        message = "Pick at least one lesson, quiz or lab."
    elif errors:
        message = "Some choices need a correction (see below)."
    else:
        message = ""
    if message:
        context = {"catalogue": choices, "platform": platform, "settings": settings, "message": message}
        return render(request, "lti/deep_link.html", context, status=400)
    registration = tool.registration_for(platform)
    deep = DeepLink(registration, pending["deployment_id"], settings)
    token = deep.get_response_jwt([_resource(request, choice) for choice in picked])
    del request.session[SESSION_PREFIX + key]
    return render(
        request,
        "lti/deep_link_return.html",
        {"return_url": settings["deep_link_return_url"], "jwt": token, "picked": picked, "platform": platform},
    )
