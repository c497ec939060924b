"""The product's URLconf plus a bare view: the baseline a page's throughput is compared with in the same run."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as product_urlpatterns


@require_POST
def noop(request: HttpRequest) -> HttpResponse:
    """The baseline of an htmx POST from a page: CSRF, session and user checked, nothing stored, a tiny fragment."""
    return HttpResponse("ok" if request.user.is_authenticated else "anonymous", content_type="text/html")


def bare(request: HttpRequest) -> HttpResponse:
    """As little as Django can do: the full middleware stack, no database, no template."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/noop/", noop, name="bench_noop"),
    *product_urlpatterns,
]
