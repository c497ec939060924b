"""Pages of a learner who came through an LMS may be framed by that LMS, and only by it.

X-Frame-Options cannot name an origin, so for those responses it is dropped and the Content-Security-Policy gets
`frame-ancestors` with the registered platform's origins (added to any policy already set, replacing its
frame-ancestors). Everyone else keeps X-Frame-Options: DENY. Listed first in MIDDLEWARE so it sees the final headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

SESSION_FRAME_ORIGINS = "lti_frame_origins"


def _origins(request: HttpRequest) -> list[str]:
    origins = getattr(request, "lti_frame_origins", None)
    if origins is None and hasattr(request, "session"):
        origins = request.session.get(SESSION_FRAME_ORIGINS)
    return [
        origin for origin in origins or [] if isinstance(origin, str) and origin.startswith(("http://", "https://"))
    ]


def with_frame_ancestors(policy: str, origins: list[str]) -> str:
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    directives = [part for part in directives if not part.lower().startswith("frame-ancestors")]
    directives.append("frame-ancestors " + " ".join(["'self'", *origins]))
    return "; ".join(directives)


class FramePolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        origins = _origins(request)
        if origins:
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
            response["Content-Security-Policy"] = with_frame_ancestors(
                response.get("Content-Security-Policy", ""), origins
            )
        return response
