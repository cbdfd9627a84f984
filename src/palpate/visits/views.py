"""Views for visits. Every view reads the patient through palpate.patients.access first.

Then the visit is fetched filtered by the patient's clinic and the patient, so another clinic's
note is a 404 however its id was guessed. The note page is the one screen of a treatment visit:
an editable form while the note is a draft (for roles that write clinical notes), read-only once
signed or for read-only roles. Live htmx partials re-run the safety screen and the billing as the
therapist types; the same computation runs again on every save.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINICAL_VIEW, CLINICAL_WRITE, NOTE_SIGN, SAFETY_OVERRIDE
from palpate.lib.bodychart import Mark, expand_regions, marks_from_restrictions
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.pdf import pdf_response, render_pdf
from palpate.lib.records import SignedAndLocked, StaleEdit, check_editable
from palpate.patients.access import access_episode, access_patient
from palpate.patients.models import EpisodeStatus, Patient
from palpate.patients.vocab import paired_regions, region_groups
from palpate.visits import note, services, vocab
from palpate.visits.forms import ROW_FORMS, VisitNoteForm, blank_row
from palpate.visits.models import Visit
from palpate.visits.safety import (
    effective_restrictions,
)

VISITS_PER_PAGE = 50


def _visit(patient: Patient, visit_pk: object) -> Visit:
    try:
        return (Visit.objects.select_related("episode", "therapist", "signed_by", "last_saved_by", "plan")
                .get(clinic_id=patient.clinic_id, patient=patient, pk=int(str(visit_pk))))
    except (Visit.DoesNotExist, ValueError):
        raise Http404("No such visit") from None


def _note_url(visit: Visit) -> str:
    return reverse("visits:note", args=[visit.patient_id, visit.pk])


# -- chart marks ---------------------------------------------------------------------------------


def _marks(screen: dict[str, Any], treatments: list[dict[str, Any]]) -> dict[tuple[str, str], list[Mark]]:
    groups, paired = region_groups(), set(paired_regions())
    marks = marks_from_restrictions(effective_restrictions(screen), groups, paired)
    for row in treatments:
        if not row.get("region"):
            continue
        text = f"planned: {vocab.label(row.get('technique')).lower()} {row.get('pressure')} {row.get('minutes')} min"
        for key in expand_regions(str(row["region"]), row.get("side") or None, groups, paired):
            marks.setdefault(key, []).append(Mark("planned", text))
    return marks


def _context(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit, state: note.NoteState, **extra: Any) -> dict[str, Any]:
    actor = request.actor
    treatments = []
    for form in state.rows["t"].forms:
        if form.is_bound:
            if form.is_valid() and not form.removed and not form.is_blank():
                treatments.append(form.row())  # type: ignore[attr-defined]
        elif not form.is_blank():
            treatments.append(dict(form.initial))
    status = state.row_status()
    saved = {kind: [dict(f.initial) for f in rowset.forms if not f.is_bound and f.initial]
             for kind, rowset in state.rows.items()}
    return {
        "patient": patient, "visit": visit, "episode": visit.episode, "state": state, "form": state.form,
        "rows": state.rows, "paired_rows": {kind: [(form, status.get(form.key, {}) if kind == "t" else {})
                                                   for form in rowset.forms] for kind, rowset in state.rows.items()},
        "saved_rows": saved, "screen": state.screen, "billing": state.billing, "row_status": status,
        "marks": _marks(state.screen, treatments),
        "editable": not visit.is_signed and actor.can(CLINICAL_WRITE),
        "can_sign": actor.can(NOTE_SIGN), "can_override": actor.can(SAFETY_OVERRIDE),
        "pressure_help": vocab.pressure_help(), **extra,
    }


# -- views ---------------------------------------------------------------------------------------


@member_required(CLINICAL_VIEW)
def visit_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _visit_list(request, access_patient(request.actor, pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _visit_list(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    actor = request.actor
    visits = (Visit.objects.filter(clinic_id=patient.clinic_id, patient=patient)
              .select_related("episode", "therapist").order_by("-visit_date", "-id"))
    page = Paginator(visits, VISITS_PER_PAGE).get_page(request.GET.get("page"))
    record_read(actor, "visit.list", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return render(request, "visits/list.html", {"patient": patient, "page": page})


@member_required(CLINICAL_WRITE)
def start_visit(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """GET: what "Start visit" will do; POST: open today's prefilled draft (one click from the chart)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    episode = access_episode(actor, patient, episode_pk)
    if request.method == "POST":
        if episode.status != EpisodeStatus.ACTIVE:
            messages.error(request, "This episode is discharged; reopen it before documenting a visit.")
            return redirect("patients:detail", pk=patient.pk)
        visit, created = services.do_start_visit(actor, patient, episode)
        if not created:
            messages.info(request, "You already have a draft note for this episode today; here it is.")
        return redirect(_note_url(visit))
    plan = services.current_plan(episode)
    filled = services.prefill(episode, plan)
    # The page shows the last visit's rows and findings: a read of the chart.
    record_read(actor, "visit.start_view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    return render(request, "visits/start.html", {"patient": patient, "episode": episode, "plan": plan,
                                                 "filled": filled})


@member_required(CLINICAL_VIEW)
def visit_note(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """The note: GET shows it (editable draft or read-only), POST saves the draft (and may sign it)."""
    patient = access_patient(request.actor, pk, write=request.method == "POST")
    return _visit_note(request, patient, _visit(patient, visit_pk))


@require_http_methods(["GET", "HEAD", "POST"])
def _visit_note(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit) -> HttpResponse:
    actor = request.actor
    if request.method == "POST":
        services.check_can_write(actor)
        if visit.is_signed:
            return _locked(request, patient, visit)
        return _save(request, patient, visit)
    record_read(actor, "visit.view", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    state = note.stored_state(visit)
    addenda = list(visit.addenda.select_related("signed_by").all())
    return render(request, "visits/note.html", _context(request, patient, visit, state, addenda=addenda))


def _save(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit) -> HttpResponse:
    """Save the draft as typed; the screen and billing run again on it first.

    - invalid input, or a screen that cannot run: nothing saved, the form comes back as typed;
    - a treatment row that breaks today's screen (without an override): the note, findings and
      complementary rows are saved (the new contraindication is on record at once) but the treatment
      rows are not; the form comes back as typed with the breach next to the row;
    - someone saved since this form was opened: nothing saved (409), the form comes back as typed
      with what the other person saved, on the current version so the next save goes through.
    """
    actor = request.actor
    submitted_version = request.POST.get("version")
    typed = note.read_typed(request.POST, visit)
    state = note.typed_state(request.actor, patient, visit, typed)
    if not typed.valid or state.screen_problem:
        if state.screen_problem:
            state.notices.append(("error", f"The safety screen could not run: {state.screen_problem} "
                                           "Correct it and save again; nothing was saved."))
        elif not typed.form.errors:  # the form's own errors have their summary (lib/_form_errors.html)
            state.notices.append(("error", "Nothing was saved: please correct the rows marked below. "
                                           "Nothing you typed has been lost."))
        return render(request, "visits/note.html", _context(request, patient, visit, state), status=200)

    assert state.check is not None
    rows_ok = state.check.ok
    changes = note.note_changes(actor, visit, typed, state)
    try:
        saved = services.do_save_visit(actor, visit, submitted_version, changes)
    except SignedAndLocked:
        return _locked(request, patient, _visit(patient, visit.pk), typed)
    except StaleEdit:
        fresh = _visit(patient, visit.pk)
        typed.data["version"] = str(fresh.version)
        state.stale = _stale_report(fresh, changes.values, [row for _, row, _ in note.typed_rows(typed, "t")])
        who = fresh.last_saved_by
        name = (who.get_full_name() or who.get_username()) if who else "someone else"
        when = timezone.localtime(fresh.updated_at).strftime("%H:%M")
        state.notices.append(("error", f"Not saved: this note was saved by {name} at {when} after you opened it. "
                                       "Your text is kept below; review what they saved and save again."))
        return render(request, "visits/note.html", _context(request, patient, fresh, state), status=409)

    if not rows_ok:
        typed.data["version"] = str(saved.version)
        # The panel shows what was saved and billed: the stored rows, not the refused ones.
        state.billing = changes.billing
        count = len(set(state.check.blocking) | set(state.check.refused))
        state.notices.append((
            "error",
            f"Saved the note, findings and complementary therapies, but NOT the treatment rows: {count} row"
            f"{'s' if count != 1 else ''} break{'s' if count == 1 else ''} today's safety screen (shown next to "
            "the row). Change or remove the row, or give a reason to override (therapists only), then save again.",
        ))
        return render(request, "visits/note.html", _context(request, patient, saved, state), status=200)

    if "sign" in request.POST:
        try:
            services.do_sign_visit(actor, saved, saved.version)
        except services.NotSignable as problem:
            messages.error(request, f"Saved, but not signed: {problem}")
            return redirect(_note_url(saved))
        except PermissionDenied as refused:
            messages.error(request, f"Saved, but not signed: {refused}")
            return redirect(_note_url(saved))
        messages.success(request, "Saved and signed. The note is now locked; corrections are signed addenda.")
        return redirect(_note_url(saved))
    messages.success(request, "Draft saved.")
    return redirect(_note_url(saved))


def _locked(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit, typed: note.Typed | None = None) -> HttpResponse:
    """A save that arrives after the note was signed: refused (403), but what was typed stays on screen."""
    typed = typed or note.read_typed(request.POST, visit)
    state = note.NoteState(typed.form, typed.rows, visit.screen_result or {}, visit.billing or {}, None)
    who = visit.signed_by
    name = (who.get_full_name() or who.get_username()) if who else "someone"
    when = timezone.localtime(visit.signed_at).strftime("%H:%M") if visit.signed_at else ""
    state.notices.append(("error", f"Not saved: this note was signed by {name} at {when} and is locked. What you typed "
                                   "is kept below; copy what matters into a signed addendum."))
    context = _context(request, patient, visit, state, locked=True, editable=True)
    return render(request, "visits/note.html", context, status=403)


def _stale_report(fresh: Visit, typed_values: dict[str, Any], typed_treatments: list[dict[str, Any]]) -> dict[str, Any]:
    """What the other person saved, where it differs from what this person typed."""
    labels = dict(VisitNoteForm.Meta.labels)
    differences = []
    for name in VisitNoteForm.Meta.fields:
        theirs, yours = getattr(fresh, name), typed_values.get(name)
        if (theirs or None) != (yours or None):
            differences.append({"label": labels.get(name, name), "theirs": theirs if theirs not in (None, "") else "—"})
    if (fresh.findings or []) != (typed_values.get("findings") or []):
        differences.append({"label": "Findings today", "theirs": "; ".join(
            f"{vocab.label(f['code'])}{' at ' + vocab.where(f['region'], f.get('side')) if f.get('region') else ''}"
            for f in fresh.findings or []) or "—"})
    theirs_rows, _ = services.stored_rows(fresh)
    strip = [{k: r[k] for k in ("technique", "region", "side", "pressure", "minutes")} for r in theirs_rows]
    mine = [{k: r[k] for k in ("technique", "region", "side", "pressure", "minutes")} for r in typed_treatments]
    if strip != mine:
        differences.append({"label": "Treatment rows", "theirs": "; ".join(
            f"{vocab.label(r['technique'])} {vocab.where(r['region'], r['side'])} {r['pressure']} {r['minutes']} min"
            for r in theirs_rows) or "—"})
    return {"by": fresh.last_saved_by, "at": fresh.updated_at, "differences": differences}


@member_required(CLINICAL_WRITE)
def live(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """htmx: the safety screen, today's suggestions, billing and per-row warnings for the form as typed."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    visit = _visit(patient, visit_pk)
    if request.method == "POST":
        check_editable(visit)
        typed = note.read_typed(request.POST, visit)
        state = note.typed_state(request.actor, patient, visit, typed)
    else:
        state = note.stored_state(visit)
    context = _context(request, patient, visit, state, oob=request.method == "POST")
    return render(request, "visits/_live.html", context)


@member_required(CLINICAL_WRITE)
def new_row(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """htmx: one blank row for a table of the note (``?kind=t|c|f|rom``)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    visit = _visit(patient, visit_pk)
    check_editable(visit)
    kind = request.GET.get("kind", "t")
    if kind not in ROW_FORMS:
        kind = "t"
    return render(request, f"visits/_row_{kind}.html", {"row": blank_row(kind), "status": {}, "patient": patient,
                                                        "visit": visit, "editable": True})


@member_required(CLINICAL_WRITE)
def sign_visit(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    visit = _visit(patient, visit_pk)
    problem = ""
    if request.method == "POST":
        services.check_can_sign(actor)
        check_editable(visit)
        try:
            # A missing version counts as stale: signing must be of the note the signer reviewed.
            services.do_sign_visit(actor, visit, request.POST.get("version", ""))
        except services.NotSignable as refused:
            problem = str(refused)
        except StaleEdit:
            visit = _visit(patient, visit.pk)
            problem = ("The note was saved again after you opened this page; review it below and sign again.")
        else:
            messages.success(request, "Signed. The note is now locked; corrections are signed addenda.")
            return redirect(_note_url(visit))
    problems = [problem] if problem else ([] if visit.is_signed else services.unresolved(visit))
    treatments, complementary = services.stored_rows(visit)
    record_read(actor, "visit.sign_view", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    return render(request, "visits/sign.html", {
        "patient": patient, "visit": visit, "problems": problems, "treatments": treatments,
        "complementary": complementary, "can_sign": actor.can(NOTE_SIGN),
    }, status=409 if problem else 200)


@member_required(CLINICAL_WRITE)
def add_addendum(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    visit = _visit(patient, visit_pk)
    error, text = "", ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            services.do_add_addendum(actor, visit, text)
        except ValueError as problem:
            error = str(problem)
        else:
            messages.success(request, "Addendum signed and added to the note.")
            return redirect(_note_url(visit))
    addenda = list(visit.addenda.select_related("signed_by").all())
    record_read(actor, "visit.addendum_view", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    return render(request, "visits/addendum.html", {
        "patient": patient, "visit": visit, "addenda": addenda, "error": error, "text": text,
        "can_sign": actor.can(NOTE_SIGN),
    })


@member_required(CLINICAL_VIEW)
def note_pdf(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    patient = access_patient(request.actor, pk)
    return _note_pdf(request, patient, _visit(patient, visit_pk))


@require_safe
def _note_pdf(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit) -> HttpResponse:
    actor = request.actor
    treatments, complementary = services.stored_rows(visit)
    addenda = list(visit.addenda.select_related("signed_by").all())
    pdf = render_pdf("visits/note_pdf.html", {
        "patient": patient, "visit": visit, "episode": visit.episode, "treatments": treatments,
        "complementary": complementary, "addenda": addenda, "billing": visit.billing or {},
        "screen": visit.screen_result or {}, "clinic": actor.clinic, "rom": visit.rom or [],
    }, request)
    record_read(actor, "visit.pdf", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    return pdf_response(pdf, f"visit-note-{patient.record_number}-{visit.visit_date:%Y-%m-%d}")

