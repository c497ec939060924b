from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import services


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """JSON health of the database and the broker: 200 when both answer, 503 otherwise."""
    database = services.database_status()
    broker = services.broker_status()
    ok = bool(database["ok"]) and bool(broker["ok"])
    body = {"ok": ok, "database": database, "broker": broker}
    if database["ok"]:
        body["workers"] = services.workers_status()
    return JsonResponse(body, status=200 if ok else 503)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
