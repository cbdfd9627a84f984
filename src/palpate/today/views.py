from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import PATIENT_VIEW
from palpate.lib.decorators import client_ip, member_required
from palpate.patients.access import patients_for
from palpate.portal.today import open_flags
from palpate.scheduling.today import day_board
from palpate.today.board import LOOKAHEAD_DAYS, board_patient_ids, build_today


@member_required(PATIENT_VIEW)
def today(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    board = build_today(actor)
    portal_flags = open_flags(actor)  # warning signs patients reported after a session (palpate.portal)
    recent_patients = list(patients_for(actor).only("id", "family_name", "given_name", "record_number")
                           .order_by("-updated_at")[:10])
    schedule = day_board(actor)  # the day's appointments and authorisations running out (palpate.scheduling)
    record_read(actor, "today.view", patient_id=None, ip_address=client_ip(request),
                detail={"patients_shown": board_patient_ids(board, [*recent_patients, *schedule.patients,
                                                                    *(f.patient for f in portal_flags)])})
    return render(request, "today/today.html", {"board": board, "recent_patients": recent_patients,
                                                "lookahead": LOOKAHEAD_DAYS, "schedule": schedule,
                                                "portal_flags": portal_flags})
