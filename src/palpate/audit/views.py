from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from palpate.audit.models import AuditEvent
from palpate.audit.permissions import AUDIT_VIEW
from palpate.audit.services import record_read
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.http import MemberRequest


@member_required(AUDIT_VIEW)
def audit_log(request: MemberRequest) -> HttpResponse:
    actor = request.actor
    events = AuditEvent.objects.filter(clinic=actor.clinic).order_by("-seq")
    patient = request.GET.get("patient", "").strip()
    # isdigit() accepts "²"; only plain ASCII ids that fit the column are a filter.
    if patient.isascii() and patient.isdigit() and len(patient) <= 18:
        events = events.filter(patient_id=int(patient))
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # The log shows old and new values of patient records: reading it is itself audited.
    record_read(actor, "audit.view", patient_id=None, ip_address=client_ip(request),
                detail={"patient": patient, "action": action, "page": page.number})
    return render(request, "audit/log.html", {"page": page, "patient": patient, "action": action})
