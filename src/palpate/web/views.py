from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from palpate.clinics.roles import PATIENT_VIEW
from palpate.patients.access import patients_for
from palpate.web.decorators import member_required


@member_required(PATIENT_VIEW)
def today(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    recent = patients_for(actor).order_by("-updated_at")[:10]
    return render(request, "web/today.html", {"recent": recent})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
