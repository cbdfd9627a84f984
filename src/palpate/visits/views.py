"""Views for visits. Every view reads the patient through palpate.patients.access first.

Then the visit is fetched filtered by the patient's clinic and the patient, so another clinic's
note is a 404 however its id was guessed. The note page is the one screen of a treatment visit:
an editable form while the note is a draft (for roles that write clinical notes), read-only once
signed or for read-only roles. Live htmx partials re-run the safety screen and the billing as the
therapist types; the same computation runs again on every save.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from palpate.audit.services import record_read
from palpate.clinics.roles import CLINICAL_VIEW, CLINICAL_WRITE, NOTE_SIGN, SAFETY_OVERRIDE
from palpate.patients.access import access_episode, access_patient
from palpate.patients.models import EpisodeStatus, Patient
from palpate.patients.vocab import paired_regions, region_groups
from palpate.visits import services, vocab
from palpate.visits.billing import compute_billing
from palpate.visits.forms import ROW_FORMS, RowSet, VisitNoteForm, blank_row
from palpate.visits.models import Visit
from palpate.visits.safety import (
    RowCheck,
    check_rows,
    effective_restrictions,
    row_key,
    screen_error,
    screen_visit,
)
from palpate.web.bodychart import Mark, expand_regions, marks_from_restrictions
from palpate.web.decorators import client_ip, member_required
from palpate.web.pdf import pdf_response, render_pdf
from palpate.web.records import SignedAndLocked, StaleEdit, check_editable

READ_METHODS = ("GET", "HEAD")
VISITS_PER_PAGE = 50


def _visit(patient: Patient, visit_pk: object) -> Visit:
    try:
        return (Visit.objects.select_related("episode", "therapist", "signed_by", "last_saved_by", "plan")
                .get(clinic_id=patient.clinic_id, patient=patient, pk=int(str(visit_pk))))
    except (Visit.DoesNotExist, ValueError):
        raise Http404("No such visit") from None


def _note_url(visit: Visit) -> str:
    return reverse("visits:note", args=[visit.patient_id, visit.pk])


@cache
def _screen_template() -> str:
    """The evaluations app's screen partial when it exists (one look everywhere), else our own."""
    try:
        get_template("evaluations/_screen_result.html")
    except TemplateDoesNotExist:
        return "visits/_screen_summary.html"
    return "evaluations/_screen_result.html"


# -- the note's state, for the page and for the live partial -----------------------------------


@dataclass
class NoteState:
    form: VisitNoteForm
    rows: dict[str, RowSet]
    screen: dict[str, Any]
    billing: dict[str, Any]
    check: RowCheck | None
    screen_problem: str = ""
    notices: list[tuple[str, str]] = field(default_factory=list)  # (level, text) shown above the form
    stale: dict[str, Any] | None = None

    def row_status(self) -> dict[str, dict[str, Any]]:
        """Per treatment row key: blocking breaches, overrides in force, a refused override."""
        out: dict[str, dict[str, Any]] = {}
        if self.check is None:
            return out
        for key, found in self.check.blocking.items():
            out.setdefault(key, {})["blocking"] = [b.message for b in found]
        for key, pairs in self.check.overridden.items():
            out.setdefault(key, {})["overridden"] = [(b.message, reason) for b, reason in pairs]
        for key, why in self.check.refused.items():
            out.setdefault(key, {})["refused"] = why
        return out


def _stored_state(visit: Visit) -> NoteState:
    treatments, complementary = services.stored_rows(visit)
    reasons = {tuple(o["row_key"]): o["reason"] for o in visit.overrides or [] if "row_key" in o}
    for row in treatments:
        row["override_reason"] = reasons.get(row_key(row), "")
    local = [{"code": f["code"], "region": f.get("region"), "side": f.get("side") or "",
              "days_ago": f.get("days_ago"), "closed": {True: "yes", False: "no"}.get(f.get("closed"), "")}
             for f in visit.findings or [] if f.get("region")]
    rom = [{"measure": f"{m.get('joint')}:{m.get('motion')}", "side": m.get("side") or "", "degrees": m.get("degrees")}
           for m in visit.rom or []]
    rows = {"t": RowSet("t", initial=treatments), "c": RowSet("c", initial=complementary),
            "f": RowSet("f", initial=local), "rom": RowSet("rom", initial=rom)}
    # Stored rows get the prefixes t-0, t-1...: key the check by the bare index, as RowForm.key does.
    check = check_rows([(f"{i}", row, "") for i, row in enumerate(treatments)], visit.screen_result,
                       visit.overrides or [], False, None, timezone.now())
    return NoteState(VisitNoteForm(instance=visit), rows, visit.screen_result or {}, visit.billing or {}, check,
                     screen_problem=screen_error(visit.screen_result))


@dataclass
class Typed:
    """The note form as typed (bound), with what could be read from it."""

    data: QueryDict
    form: VisitNoteForm
    rows: dict[str, RowSet]
    valid: bool
    findings: list[dict[str, Any]] | None  # None when the findings could not be read
    vitals: dict[str, Any] | None


def _read_typed(request: HttpRequest, visit: Visit) -> Typed:
    data = request.POST.copy()
    form = VisitNoteForm(data, instance=visit)
    rows = {kind: RowSet(kind, data=data) for kind in ROW_FORMS}
    form_valid = form.is_valid()
    rows_valid = {kind: rowset.is_valid() for kind, rowset in rows.items()}
    findings = vitals = None
    if rows_valid["f"] and "whole_body_findings" not in form.errors:
        findings = [{"code": code} for code in form.cleaned_data.get("whole_body_findings", [])]
        findings += [f.finding() for f in rows["f"].used()]  # type: ignore[attr-defined]
    vital_errors = {"temperature_c", "bp_systolic", "bp_diastolic"} & set(form.errors)
    if not vital_errors:
        vitals = form.vitals()
    return Typed(data, form, rows, form_valid and all(rows_valid.values()), findings, vitals)


def _typed_rows(typed: Typed, kind: str) -> list[tuple[str, dict[str, Any], str]]:
    """(key, row, typed override reason) for the valid rows of one table."""
    out = []
    for form in typed.rows[kind].used():
        if form.is_valid():
            row = form.row()  # type: ignore[attr-defined]
            out.append((form.key, row, form.cleaned_data.get("override_reason", "") if kind == "t" else ""))
    return out


def _preview(visit: Visit, typed: Typed) -> Visit:
    """The visit as typed (unsaved), for the screen: soreness feeds the dose, findings/vitals the screen."""
    preview = Visit(pk=visit.pk, clinic_id=visit.clinic_id, visit_date=visit.visit_date,
                    findings=visit.findings if typed.findings is None else typed.findings,
                    vitals=visit.vitals if typed.vitals is None else typed.vitals)
    for name in ("soreness_since_last", "soreness_hours", "relief"):
        typed_ok = name not in typed.form.errors and hasattr(typed.form, "cleaned_data")
        setattr(preview, name, typed.form.cleaned_data.get(name) if typed_ok else getattr(visit, name))
    preview.relief = preview.relief or ""
    return preview


def _typed_state(request: HttpRequest, patient: Patient, visit: Visit, typed: Typed) -> NoteState:
    actor = request.actor  # type: ignore[attr-defined]
    screen = screen_visit(actor.clinic, patient, visit.episode, _preview(visit, typed),
                          services.latest_evaluation(visit.episode))
    treatments = _typed_rows(typed, "t")
    complementary = [row for _, row, _ in _typed_rows(typed, "c")]
    billing = compute_billing([row for _, row, _ in treatments], complementary, actor.clinic.payer_unit_rule,
                              visit.episode.payer)
    check = check_rows(treatments, screen, visit.overrides or [], actor.can(SAFETY_OVERRIDE), actor.user,
                       timezone.now())
    return NoteState(typed.form, typed.rows, screen, billing, check, screen_problem=screen_error(screen))


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


def _context(request: HttpRequest, patient: Patient, visit: Visit, state: NoteState, **extra: Any) -> dict[str, Any]:
    actor = request.actor  # type: ignore[attr-defined]
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
        "marks": _marks(state.screen, treatments), "screen_template": _screen_template(),
        "editable": not visit.is_signed and actor.can(CLINICAL_WRITE),
        "can_sign": actor.can(NOTE_SIGN), "can_override": actor.can(SAFETY_OVERRIDE),
        "pressure_help": vocab.pressure_help(), **extra,
    }


# -- views ---------------------------------------------------------------------------------------


@member_required(CLINICAL_VIEW)
def visit_list(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    patient = access_patient(actor, pk)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    visits = (Visit.objects.filter(clinic_id=patient.clinic_id, patient=patient)
              .select_related("episode", "therapist").order_by("-visit_date", "-id"))
    page = Paginator(visits, VISITS_PER_PAGE).get_page(request.GET.get("page"))
    record_read(actor, "visit.list", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return render(request, "visits/list.html", {"patient": patient, "page": page})


@member_required(CLINICAL_WRITE)
def start_visit(request: HttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """GET: what "Start visit" will do; POST: open today's prefilled draft (one click from the chart)."""
    actor = request.actor  # type: ignore[attr-defined]
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
    return render(request, "visits/start.html", {"patient": patient, "episode": episode, "plan": plan,
                                                 "filled": filled})


@member_required(CLINICAL_VIEW)
def visit_note(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """The note: GET shows it (editable draft or read-only), POST saves the draft (and may sign it)."""
    actor = request.actor  # type: ignore[attr-defined]
    writing = request.method == "POST"
    patient = access_patient(actor, pk, write=writing)
    visit = _visit(patient, visit_pk)
    if writing:
        services.check_can_write(actor)
        if visit.is_signed:
            return _locked(request, patient, visit)
        return _save(request, patient, visit)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed([*READ_METHODS, "POST"])
    record_read(actor, "visit.view", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    state = _stored_state(visit)
    addenda = list(visit.addenda.select_related("signed_by").all())
    return render(request, "visits/note.html", _context(request, patient, visit, state, addenda=addenda))


def _save(request: HttpRequest, patient: Patient, visit: Visit) -> HttpResponse:
    """Save the draft as typed; the screen and billing run again on it first.

    - invalid input, or a screen that cannot run: nothing saved, the form comes back as typed;
    - a treatment row that breaks today's screen (without an override): the note, findings and
      complementary rows are saved (the new contraindication is on record at once) but the treatment
      rows are not; the form comes back as typed with the breach next to the row;
    - someone saved since this form was opened: nothing saved (409), the form comes back as typed
      with what the other person saved, on the current version so the next save goes through.
    """
    actor = request.actor  # type: ignore[attr-defined]
    submitted_version = request.POST.get("version")
    typed = _read_typed(request, visit)
    state = _typed_state(request, patient, visit, typed)
    if not typed.valid or state.screen_problem:
        if state.screen_problem:
            state.notices.append(("error", f"The safety screen could not run: {state.screen_problem} "
                                           "Correct it and save again; nothing was saved."))
        elif not typed.form.errors:  # the form's own errors have their summary (web/_form_errors.html)
            state.notices.append(("error", "Nothing was saved: please correct the rows marked below. "
                                           "Nothing you typed has been lost."))
        return render(request, "visits/note.html", _context(request, patient, visit, state), status=200)

    assert state.check is not None
    rows_ok = state.check.ok
    form = typed.form
    values = {name: form.cleaned_data.get(name) for name in form.Meta.fields}
    values["relief"] = values.get("relief") or ""
    values["findings"] = typed.findings or []
    values["vitals"] = typed.vitals or {}
    values["rom"] = [f.measurement() for f in typed.rows["rom"].used()]  # type: ignore[attr-defined]
    treatments = [row for _, row, _ in _typed_rows(typed, "t")]
    complementary = [row for _, row, _ in _typed_rows(typed, "c")]
    stored_treatments = None if rows_ok else services.stored_rows(visit)[0]
    billing = compute_billing(treatments if rows_ok else stored_treatments or [], complementary,
                              actor.clinic.payer_unit_rule, visit.episode.payer)
    changes = services.NoteChanges(
        values=values, treatments=treatments if rows_ok else None, complementary=complementary,
        screen=state.screen, billing=billing, overrides=state.check.overrides if rows_ok else None,
        new_overrides=state.check.new_overrides if rows_ok else [])
    try:
        saved = services.do_save_visit(actor, visit, submitted_version, changes)
    except SignedAndLocked:
        return _locked(request, patient, _visit(patient, visit.pk), typed)
    except StaleEdit:
        fresh = _visit(patient, visit.pk)
        typed.data["version"] = str(fresh.version)
        state.stale = _stale_report(fresh, values, treatments)
        who = fresh.last_saved_by
        name = (who.get_full_name() or who.get_username()) if who else "someone else"
        when = timezone.localtime(fresh.updated_at).strftime("%H:%M")
        state.notices.append(("error", f"Not saved: this note was saved by {name} at {when} after you opened it. "
                                       "Your text is kept below; review what they saved and save again."))
        return render(request, "visits/note.html", _context(request, patient, fresh, state), status=409)

    if not rows_ok:
        typed.data["version"] = str(saved.version)
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


def _locked(request: HttpRequest, patient: Patient, visit: Visit, typed: Typed | None = None) -> HttpResponse:
    """A save that arrives after the note was signed: refused (403), but what was typed stays on screen."""
    typed = typed or _read_typed(request, visit)
    state = NoteState(typed.form, typed.rows, visit.screen_result or {}, visit.billing or {}, None)
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
def live(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """htmx: the safety screen, today's suggestions, billing and per-row warnings for the form as typed."""
    actor = request.actor  # type: ignore[attr-defined]
    patient = access_patient(actor, pk, write=True)
    visit = _visit(patient, visit_pk)
    if request.method == "POST":
        check_editable(visit)
        typed = _read_typed(request, visit)
        state = _typed_state(request, patient, visit, typed)
    else:
        state = _stored_state(visit)
    context = _context(request, patient, visit, state, oob=request.method == "POST")
    return render(request, "visits/_live.html", context)


@member_required(CLINICAL_WRITE)
def new_row(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """htmx: one blank row for a table of the note (``?kind=t|c|f|rom``)."""
    actor = request.actor  # type: ignore[attr-defined]
    patient = access_patient(actor, pk, write=True)
    visit = _visit(patient, visit_pk)
    check_editable(visit)
    kind = request.GET.get("kind", "t")
    if kind not in ROW_FORMS:
        kind = "t"
    return render(request, f"visits/_row_{kind}.html", {"row": blank_row(kind), "status": {}, "patient": patient,
                                                        "visit": visit, "editable": True})


@member_required(CLINICAL_WRITE)
def sign_visit(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    patient = access_patient(actor, pk, write=request.method == "POST")
    visit = _visit(patient, visit_pk)
    problem = ""
    if request.method == "POST":
        services.check_can_sign(actor)
        check_editable(visit)
        try:
            services.do_sign_visit(actor, visit, request.POST.get("version"))
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
    return render(request, "visits/sign.html", {
        "patient": patient, "visit": visit, "problems": problems, "treatments": treatments,
        "complementary": complementary, "can_sign": actor.can(NOTE_SIGN),
    }, status=409 if problem else 200)


@member_required(CLINICAL_WRITE)
def add_addendum(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
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
    return render(request, "visits/addendum.html", {
        "patient": patient, "visit": visit, "addenda": addenda, "error": error, "text": text,
        "can_sign": actor.can(NOTE_SIGN),
    })


@member_required(CLINICAL_VIEW)
def note_pdf(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    patient = access_patient(actor, pk)
    if request.method not in READ_METHODS:
        return HttpResponseNotAllowed(READ_METHODS)
    visit = _visit(patient, visit_pk)
    treatments, complementary = services.stored_rows(visit)
    addenda = list(visit.addenda.select_related("signed_by").all())
    pdf = render_pdf("visits/note_pdf.html", {
        "patient": patient, "visit": visit, "episode": visit.episode, "treatments": treatments,
        "complementary": complementary, "addenda": addenda, "billing": visit.billing or {},
        "screen": visit.screen_result or {}, "clinic": actor.clinic, "rom": visit.rom or [],
    }, request)
    record_read(actor, "visit.pdf", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    return pdf_response(pdf, f"visit-note-{patient.record_number}-{visit.visit_date:%Y-%m-%d}")

