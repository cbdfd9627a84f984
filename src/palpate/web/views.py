from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from palpate.audit.services import record_read
from palpate.clinics.roles import PATIENT_VIEW
from palpate.patients.access import patients_for
from palpate.web.decorators import client_ip, member_required
from palpate.web.today import LOOKAHEAD_DAYS, board_patient_ids, build_today


@member_required(PATIENT_VIEW)
def today(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    board = build_today(actor)
    recent_patients = list(patients_for(actor).order_by("-updated_at")[:10])
    record_read(actor, "today.view", patient_id=None, ip_address=client_ip(request),
                detail={"patients_shown": board_patient_ids(board, recent_patients)})
    return render(request, "web/today.html", {"board": board, "recent_patients": recent_patients,
                                              "lookahead": LOOKAHEAD_DAYS})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
