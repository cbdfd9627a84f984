from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from palpate.audit.checkpoint import make_checkpoint
from palpate.audit.forms import ExportForm
from palpate.audit.models import AuditEvent
from palpate.audit.patients import directory
from palpate.audit.permissions import AUDIT_EXPORT, AUDIT_VIEW
from palpate.audit.services import fold_reads, record_read
from palpate.audit.words import action_choices, action_words, change_lines
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.http import MemberRequest

EXPORT_COLUMNS = ["seq", "created_at", "actor_name", "action", "patient_id", "object_type", "object_id", "old", "new",
                  "ip_address", "prev_hash", "hash"]


# The log's filters (besides the page): a patient's id, record number or name, an action, free text.
FILTERS = ("patient", "record", "name", "action", "q")
LONGEST_FILTER = 200


@member_required(AUDIT_VIEW)
def audit_log(request: MemberRequest) -> HttpResponse:
    actor = request.actor
    clinic_id = actor.clinic.pk
    # The log shows old and new values of patient records: reading it is itself audited.
    filters = {key: request.GET.get(key, "").strip()[:LONGEST_FILTER] for key in FILTERS}
    page_number = request.GET.get("page")
    record_read(actor, "audit.view", patient_id=None, ip_address=client_ip(request),
                detail={**{k: v for k, v in filters.items() if v}, "page": str(page_number or 1)})
    # Reads wait in a staging table until the worker folds them; whoever reads the trail sees it whole.
    fold_reads([clinic_id])
    events = AuditEvent.objects.filter(clinic=actor.clinic).order_by("-seq")
    patient = filters["patient"]
    # isdigit() accepts "²"; only plain ASCII ids that fit the column are a filter.
    if patient.isascii() and patient.isdigit() and len(patient) <= 18:
        events = events.filter(patient_id=int(patient))
    elif patient:
        events = events.none()
    # Record number and name go through the patients app's directory, which knows only this clinic's
    # patients: another clinic's patient matches nothing.
    for key in ("record", "name"):
        if filters[key]:
            events = events.filter(patient_id__in=directory().matching(clinic_id, filters[key]))
    if filters["action"]:
        events = events.filter(action__startswith=filters["action"])
    if filters["q"]:
        text = filters["q"]
        events = events.annotate(old_text=Cast("old", TextField()), new_text=Cast("new", TextField())).filter(
            Q(actor_name__icontains=text) | Q(action__icontains=text) | Q(object_type__icontains=text)
            | Q(object_id__icontains=text) | Q(old_text__icontains=text) | Q(new_text__icontains=text))
    page = Paginator(events, 50).get_page(page_number)
    names = directory().names(clinic_id, (e.patient_id for e in page.object_list))
    rows = [{"event": e, "action": action_words(e.action), "patient": names.get(e.patient_id, e.patient_id or ""),
             "changes": change_lines(e.old, e.new)} for e in page.object_list]
    query = urlencode({k: v for k, v in filters.items() if v})
    # The actions this clinic's trail holds, offered in words; the URL still carries the code.
    actions = (AuditEvent.objects.filter(clinic=actor.clinic).order_by("action")
               .values_list("action", flat=True).distinct())
    return render(request, "audit/log.html", {"page": page, "rows": rows, **filters, "query": query,
                                              "action_choices": action_choices(actions, filters["action"]),
                                              "can_export": actor.can(AUDIT_EXPORT)})


def _rows(events: Any) -> Iterator[dict[str, Any]]:
    for e in events.iterator(chunk_size=1000):
        yield {"seq": e.seq, "created_at": e.created_at.isoformat(timespec="microseconds"), "actor_name": e.actor_name,
               "action": e.action, "patient_id": e.patient_id, "object_type": e.object_type, "object_id": e.object_id,
               "old": e.old, "new": e.new, "ip_address": e.ip_address, "prev_hash": e.prev_hash, "hash": e.hash}


def _csv(events: Any) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for row in _rows(events):
        row["old"] = json.dumps(row["old"], sort_keys=True) if row["old"] is not None else ""
        row["new"] = json.dumps(row["new"], sort_keys=True) if row["new"] is not None else ""
        writer.writerow(row)
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json(events: Any, meta: dict[str, Any]) -> Iterator[str]:
    yield json.dumps(meta)[:-1] + ', "events": ['
    for n, row in enumerate(_rows(events)):
        yield ("," if n else "") + "\n" + json.dumps(row, sort_keys=True)
    yield "\n]}\n"


@member_required(AUDIT_EXPORT)
def export(request: MemberRequest) -> HttpResponse:
    """Owners export the trail for a patient or a date range, as CSV or JSON; the export is audited."""
    actor = request.actor
    if "format" not in request.GET:
        return render(request, "audit/export.html", {"form": ExportForm(initial={"format": "csv"})})
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/export.html", {"form": form})
    data = form.cleaned_data
    fold_reads([actor.clinic.pk])
    events = AuditEvent.objects.filter(clinic=actor.clinic).order_by("seq")
    if data["patient"] is not None:
        events = events.filter(patient_id=data["patient"])
        # Every patient of this clinic has events (their registration at least); no events means
        # another clinic's patient or none at all, and either is a 404.
        if not events.exists():
            raise Http404("no such patient")
    zone = timezone.get_current_timezone()
    if data["date_from"]:
        events = events.filter(created_at__gte=dt.datetime.combine(data["date_from"], dt.time.min, zone))
    if data["date_to"]:
        events = events.filter(created_at__lt=dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time.min, zone))
    scope = {"patient": data["patient"], "from": data["date_from"].isoformat() if data["date_from"] else None,
             "to": data["date_to"].isoformat() if data["date_to"] else None, "format": data["format"]}
    record_read(actor, "audit.export", patient_id=data["patient"], ip_address=client_ip(request),
                detail={**scope, "events": events.count()})
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    name = f"audit-{actor.clinic.slug}-{'patient-' + str(data['patient']) + '-' if data['patient'] else ''}{stamp}"
    if data["format"] == "json":
        meta = {"clinic": actor.clinic.slug, "exported_at": timezone.now().isoformat(), "scope": scope}
        response = StreamingHttpResponse(_json(events, meta), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
    else:
        response = StreamingHttpResponse(_csv(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@member_required(AUDIT_EXPORT)
def checkpoint(request: MemberRequest) -> HttpResponse:
    """A signed checkpoint of this clinic's chain head, for the owner to keep outside Palpate."""
    actor = request.actor
    fold_reads([actor.clinic.pk])
    document = make_checkpoint([actor.clinic.pk])
    record_read(actor, "audit.checkpoint", patient_id=None, ip_address=client_ip(request),
                detail={"seq": document["clinics"][0]["seq"] if document["clinics"] else 0})
    response = HttpResponse(json.dumps(document, indent=2) + "\n", content_type="application/json")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-checkpoint-{actor.clinic.slug}-{stamp}.json"'
    return response
