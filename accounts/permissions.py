"""Role checks for views: a signed-in user without the role gets 403, an anonymous one the login page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from core.http import HtmxHttpRequest

View = Callable[..., HttpResponse]


def instructor_required(view: View) -> View:
    """Allow instructors and staff; students get 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_instructor:
            raise PermissionDenied("This page is for instructors.")
        return view(request, *args, **kwargs)

    return wrapper
