from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from palpate.clinics.roles import PATIENT_VIEW
from palpate.patients.access import patients_for
from palpate.web.decorators import member_required
from palpate.web.today import LOOKAHEAD_DAYS, build_today


@member_required(PATIENT_VIEW)
def today(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    board = build_today(actor)
    recent_patients = patients_for(actor).order_by("-updated_at")[:10]
    return render(request, "web/today.html", {"board": board, "recent_patients": recent_patients,
                                              "lookahead": LOOKAHEAD_DAYS})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
