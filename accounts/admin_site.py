"""The Django admin, except that a signed-in non-staff user gets 403 instead of the admin login form."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class StaffAdminSite(admin.AdminSite):
    site_header = "Hyper-V Lab administration"
    site_title = "Hyper-V Lab admin"

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = request.user
            if user.is_authenticated and not (user.is_active and user.is_staff):
                raise PermissionDenied("The admin is for staff.")
            return inner(request, *args, **kwargs)

        guarded.__dict__.update(getattr(inner, "__dict__", {}))
        return guarded
