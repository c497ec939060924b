"""The request type of the project's views (django-htmx's pattern: HtmxHttpRequest).

Behind @login_required (or instructor_required) `user` is an accounts User; django-htmx's middleware sets `htmx`.
Views that anonymous visitors may open too use it as well and check `user.is_authenticated` first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from accounts.models import User


class HtmxHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
