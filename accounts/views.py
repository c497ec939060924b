from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import NOT_AVAILABLE, SignupForm
from core import ratelimit


def _signup_key(request: HttpRequest) -> str:
    return f"accounts:signups:{ratelimit.client_address(request)}"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Self sign-up. Every POST counts toward the client address's SIGNUP_LIMIT per SIGNUP_WINDOW_MINUTES, so one
    client cannot mint accounts (nor, with them, fresh join-code attempts, which are counted per account)."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        window = settings.SIGNUP_WINDOW_MINUTES * 60
        if ratelimit.hit(_signup_key(request), window) > settings.SIGNUP_LIMIT:
            context = {"form": form, "throttled": True, "minutes": settings.SIGNUP_WINDOW_MINUTES}
            return render(request, "registration/signup.html", context, status=429)
        if form.is_valid():
            try:
                user = form.save()
            except IntegrityError:  # the same username or email signed up a moment ago
                form.add_error(None, NOT_AVAILABLE)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome, {user.username}. Your account is ready.")
                return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


def login_locked_out(
    request: HttpRequest, credentials: dict[str, Any] | None = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Shown instead of the login form once an account has too many failed attempts (django-axes)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
