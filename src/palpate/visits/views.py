"""Views for visits. Every view reads the patient through palpate.patients.access first.

Then the visit is fetched filtered by the patient's clinic and the patient, so another clinic's
note is a 404 however its id was guessed. The note page is the one screen of a treatment visit:
an editable form while the note is a draft (for roles that write clinical notes), read-only once
signed or for read-only roles.

Saving walks view -> service -> core -> models and back: the view reads the forms into a
``NoteInput``, ``services.check_visit_note`` screens, checks and bills it once,
``services.do_save_visit_note`` writes it and says how it went, and the view turns that outcome
into a response. The live htmx preview shows the same check without saving.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINICAL_VIEW, CLINICAL_WRITE, NOTE_SIGN, SAFETY_OVERRIDE
from palpate.core.response import session_response
from palpate.core.safety import OVERRIDE_REASON_MIN_CHARS
from palpate.lib.clinical import clinic_policy
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.pdf import pdf_response, render_pdf
from palpate.lib.records import StaleEdit, check_editable
from palpate.lib.vocabulary import label, pressure_help, where
from palpate.lib.voiding import void_page, voidable_of_patient
from palpate.patients.access import access_episode, access_patient
from palpate.patients.models import EpisodeStatus, Patient
from palpate.visits import carry, services
from palpate.visits.forms import ROW_FORMS, NoteForms, VisitNoteForm, blank_row
from palpate.visits.models import Visit
from palpate.visits.note import NoteInput, Treatment

VISITS_PER_PAGE = 50
MAX_ROW_NUMBER = 999  # a row number in an accessible name; no table has near this many rows


# What the note page shows of a visit besides the note: its episode, who wrote and signed it, its plan.
PAGE_RELATED = ("episode", "therapist", "signed_by", "last_saved_by", "plan", "plan__signed_by")


def _visit(patient: Patient, visit_pk: object, related: tuple[str, ...] = PAGE_RELATED) -> Visit:
    try:
        visit = (Visit.objects.select_related(*related)
                 .get(clinic_id=patient.clinic_id, patient=patient, pk=int(str(visit_pk))))
    except (Visit.DoesNotExist, ValueError):
        raise Http404("No such visit") from None
    visit.patient = patient  # read through the patient door already
    return visit


def _note_url(visit: Visit) -> str:
    return reverse("visits:note", args=[visit.patient_id, visit.pk])


# -- what the note page shows --------------------------------------------------------------------


@dataclass
class NotePage:
    """The note's forms with what the screen says about them, ready for the template."""

    forms: NoteForms
    screen: dict[str, Any]
    billing: dict[str, Any]
    # "t:<row key>" (treatment) or "c:<row key>" (complementary therapy) -> the screen's verdict
    verdicts: dict[str, services.RowVerdict] = field(default_factory=dict)
    notices: list[tuple[str, str]] = field(default_factory=list)  # (level, text) above the form
    stale: dict[str, Any] | None = None
    notes: dict[str, list[str]] = field(default_factory=dict)  # "t:<key>" -> what the carry-forward says
    response: Any = None  # the last session's response to the carried rows, when checked (a preview)

    @property
    def screen_problem(self) -> str:
        return services.screen_problem(self.screen)

    def row_status(self, kind: str, key: str) -> dict[str, Any]:
        status: dict[str, Any] = {"notes": self.notes.get(f"{kind}:{key}", [])}
        verdict = self.verdicts.get(f"{kind}:{key}")
        if verdict is None:
            return status
        return {**status, "blocking": [b.message for b in verdict.blocking],
                "overridden": [(b.message, reason) for b, reason in verdict.overridden],
                "from_plan": [(b.message, words) for b, words in verdict.from_plan],
                "refused": verdict.refused, "overridable": verdict.overridable}


def stored_page(visit: Visit) -> NotePage:
    """The note as stored, with the stored screen's verdict on each row."""
    stored = NoteInput.of(visit)
    forms = NoteForms(visit, stored=stored)
    verdicts, others = services.stored_verdicts(visit, stored.treatments, stored.complementary)
    # Stored rows are the forms t-0, t-1...: keyed by their index, as RowForm.key reads the prefix.
    keyed = {**{f"t:{i}": v for i, v in enumerate(verdicts)}, **{f"c:{i}": v for i, v in enumerate(others)}}
    notes = {f"t:{i}": n for i, n in enumerate(carry.row_notes(visit.carried_forward, stored.treatments))}
    return NotePage(forms, visit.screen_result or {}, visit.billing or {}, keyed, notes=notes)


def checked_page(forms: NoteForms, checked: services.NoteCheck) -> NotePage:
    """The forms as typed with the check of what they hold (a row the last session's response
    would remove has no verdict: the response preview says what happens to it)."""
    keys = [f.key for f in forms.rows["t"].used() if f.is_valid()]
    other_keys = [f.key for f in forms.rows["c"].used() if f.is_valid()]
    keyed = {f"t:{key}": v for key, v in zip(keys, checked.typed_rows, strict=True) if v is not None}
    keyed.update({f"c:{key}": v for key, v in zip(other_keys, checked.complementary_rows, strict=True)})
    typed = [f.row() for f in forms.rows["t"].used() if f.is_valid()]  # type: ignore[attr-defined]
    notes = {f"t:{key}": n for key, n in zip(keys, carry.row_notes(forms.visit.carried_forward, typed), strict=True)}
    return NotePage(forms, checked.screen, checked.billing, keyed, notes=notes, response=checked.response)


def carried_panel(visit: Visit, forms: NoteForms, clinic: Any, response: Any = None) -> dict[str, Any]:
    """What the page shows of the carried-forward rows: each change the last session's soreness
    made (with its reason, and the put-back control), the adverse-event prompt after severe
    soreness, and, in a live preview, what saving would change."""
    carried = visit.carried_forward or {}
    changes = []
    for change in carried.get("changes") or []:
        index = int(change.get("index", -1))
        changes.append({**change, "where": where(str(change.get("region")), change.get("side") or None),
                        "technique_label": label(str(change.get("technique")), "technique"),
                        "field": f"putback-{index}", "typed": forms.put_back.get(index, ""),
                        "error": forms.put_back_errors.get(index, "")})
    prompt = ""
    basis = carried.get("basis") or {}
    if basis:
        prompt = session_response(carry.last_session(basis.get("soreness_since_last"), basis.get("soreness_hours")),
                                  clinic_policy(clinic)).adverse_event_prompt()
    # (The clinic's thresholds, as the rule applied them: palpate.core.response.)
    pending = []
    if response is not None:
        for change in [*response.applied, *response.reverted, *response.put_back]:
            pending.append(change)
        prompt = response.prompt
    policy = clinic_policy(clinic)
    return {"source": carried.get("source", ""), "changes": changes, "prompt": prompt, "pending": pending,
            "rows": carried.get("rows") or [],
            "thresholds": {"lower": policy.soreness_lower_min, "hours": policy.soreness_hours_max,
                           "severe": policy.soreness_severe_min, "severe_hours": policy.soreness_severe_hours}}


def _context(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit, page: NotePage,
             **extra: Any) -> dict[str, Any]:
    actor = request.actor
    forms = page.forms
    if forms.bound:
        treatments = [f.row() for f in forms.rows["t"].used() if f.is_valid()]  # type: ignore[attr-defined]
    else:
        treatments = [Treatment(**{k: v for k, v in f.initial.items() if k != "override_reason"})
                      for f in forms.rows["t"].forms if f.initial]
    saved = {kind: [dict(f.initial) for f in rowset.forms if not f.is_bound and f.initial]
             for kind, rowset in forms.rows.items()}
    return {
        "patient": patient, "visit": visit, "episode": visit.episode, "state": page, "form": forms.form,
        "error_links": forms.error_links() if forms.bound else [],
        "rows": forms.rows,
        "paired_rows": {kind: [(form, page.row_status(kind, form.key) if kind in ("t", "c") else {})
                               for form in rowset.forms]
                        for kind, rowset in forms.rows.items()},
        "carried": carried_panel(visit, forms, actor.clinic, page.response),
        "saved_rows": saved, "screen": page.screen, "billing": page.billing,
        "chart_rows": [t.stored() for t in treatments],
        "editable": not visit.is_signed and actor.can(CLINICAL_WRITE)
                    and not services.why_not_documentable(actor, visit.episode),
        "can_sign": actor.can(NOTE_SIGN), "can_override": actor.can(SAFETY_OVERRIDE),
        "min_reason": OVERRIDE_REASON_MIN_CHARS, "pressure_help": pressure_help(), **extra,
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
            messages.error(request, episode.not_active_message("documenting a visit"))
            return redirect("patients:detail", pk=patient.pk)
        visit, created = services.do_start_visit(actor, patient, episode)
        if not created:
            messages.info(request, "You already have a draft note for this episode today; here it is.")
        return redirect(_note_url(visit))
    plan = services.current_plan(episode)
    services.check_can_document(actor, episode, plan)
    filled = services.prefill(episode, plan)
    # The page shows the last visit's rows and findings: a read of the chart.
    record_read(actor, "visit.start_view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    return render(request, "visits/start.html", {"patient": patient, "episode": episode, "plan": plan,
                                                 "filled": filled})


@member_required(CLINICAL_VIEW)
def visit_note(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """The note: GET shows it (editable draft or read-only), POST saves the draft (and may sign it)."""
    saving = request.method == "POST"
    patient = access_patient(request.actor, pk, write=saving)
    # A save needs the episode (payer, condition); the rest only if the page is drawn again.
    related = ("episode", "plan", "plan__signed_by") if saving else PAGE_RELATED
    return _visit_note(request, patient, _visit(patient, visit_pk, related))


@require_http_methods(["GET", "HEAD", "POST"])
def _visit_note(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit) -> HttpResponse:
    actor = request.actor
    if request.method == "POST":
        services.check_can_write(actor)
        return _save(request, patient, visit)
    record_read(actor, "visit.view", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    addenda = list(visit.addenda.select_related("signed_by").all())
    typed = request.session.pop(_typed_key(visit), None)
    if typed is not None and not visit.is_signed:
        data = QueryDict(mutable=True)
        for name, values in typed["data"].items():
            data.setlist(name, values)
        forms = NoteForms(visit, data=data)
        if forms.is_valid():  # the rows a save refused, as typed, with the reason next to each
            page = checked_page(forms, services.check_visit_note(actor, visit, forms.note()))
            page.notices.append(("error", typed["notice"]))
            return render(request, "visits/note.html", _context(request, patient, visit, page, addenda=addenda))
    return render(request, "visits/note.html", _context(request, patient, visit, stored_page(visit), addenda=addenda))


def _typed_key(visit: Visit) -> str:
    return f"visits.typed.{visit.pk}"


def _save(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit) -> HttpResponse:
    """Save the draft as typed: read the forms, let the services check and save, answer the outcome.

    Invalid input: nothing saved, the form comes back as typed with its errors. Otherwise the
    outcome (services.SaveOutcome) decides: saved (and signed if asked), saved without the refused
    treatment rows, unscreened, stale (409) or locked (403); what was typed is never lost.
    """
    actor = request.actor
    forms = NoteForms(visit, data=request.POST)
    if visit.is_signed:
        return _locked(request, patient, visit, forms)
    if not forms.is_valid():
        page = NotePage(forms, visit.screen_result or {}, visit.billing or {})
        if not forms.form.errors:  # the form's own errors have their summary (lib/_form_errors.html)
            page.notices.append(("error", "Nothing was saved: please correct the rows marked below. "
                                          "Nothing you typed has been lost."))
        return render(request, "visits/note.html", _context(request, patient, visit, page))
    note = forms.note()
    checked = services.check_visit_note(actor, visit, note)
    outcome = services.do_save_visit_note(actor, visit, checked, request.POST.get("version"))
    page = checked_page(forms, checked)

    if outcome.status == "unscreened":
        page.notices.append(("error", f"The safety screen could not run: {page.screen_problem} "
                                      "Correct it and save again; nothing was saved."))
        return render(request, "visits/note.html", _context(request, patient, visit, page))
    if outcome.status == "locked":
        return _locked(request, patient, outcome.visit, forms)
    if outcome.status == "stale":
        fresh = outcome.visit
        forms.with_version(fresh.version)
        page.stale = _stale_report(fresh, note)
        name = fresh.last_saved_by.display_name() if fresh.last_saved_by else "someone else"
        when = timezone.localtime(fresh.updated_at).strftime("%H:%M")
        page.notices.append(("error", f"Not saved: this note was saved by {name} at {when} after you opened it. "
                                      "Your text is kept below; review what they saved and save again."))
        return render(request, "visits/note.html", _context(request, patient, fresh, page), status=409)
    saved = outcome.visit
    if outcome.status == "rows_refused":
        # Saved in part: post/redirect/get, so a reload does not post the old version again (which
        # would be refused as stale). What was typed, the refused rows included, waits in the session
        # for the page the browser is sent to, which checks it again to show each row's reason.
        typed = {k: v for k, v in request.POST.lists() if k not in ("csrfmiddlewaretoken", "sign")}
        typed["version"] = [str(saved.version)]
        count = len(checked.refused_rows) + len(checked.refused_complementary)
        request.session[_typed_key(saved)] = {"data": typed, "notice": (
            f"Saved the note and findings, but NOT the treatment rows or complementary therapies: {count} row"
            f"{'s' if count != 1 else ''} break{'s' if count == 1 else ''} today's safety screen (shown next to "
            "the row). Change or remove the row, or give a reason to override where the restriction allows it "
            "(therapists only), then save again.")}
        return redirect(_note_url(saved))

    response = checked.response
    if response is not None and response.changed_rows:
        # The rows that get signed changed: say how, and let the therapist see them before signing.
        words = "; ".join(_change_words(c) for c in [*response.applied, *response.reverted, *response.put_back])
        messages.warning(request, f"Saved. The last session's response changed the carried-forward rows (each "
                                  f"with its reason below): {words}."
                                  + (" Not signed yet: review the rows, then sign." if "sign" in request.POST else ""))
        if response.prompt:
            messages.warning(request, response.prompt)
        return redirect(_note_url(saved))

    if "sign" in request.POST:
        try:
            services.do_sign_visit(actor, saved, saved.version)
        except services.ZeroMinutesUnconfirmed as refused:  # asked on the sign page, which names the rows
            messages.warning(request, f"Saved, but not signed yet: {refused}")
            return redirect("visits:sign", pk=patient.pk, visit_pk=saved.pk)
        except PermissionDenied as refused:  # NotSignable, or a role that cannot sign
            messages.error(request, f"Saved, but not signed: {refused}")
            return redirect(_note_url(saved))
        messages.success(request, "Saved and signed. The note is now locked; corrections are signed addenda.")
        return redirect(_note_url(saved))
    messages.success(request, "Draft saved.")
    return redirect(_note_url(saved))


def _change_words(change: dict[str, Any]) -> str:
    """One change in a few words (its reason is shown with the row and in the list of changes)."""
    place = where(str(change.get("region")), change.get("side") or None)
    technique = label(str(change.get("technique")), "technique").lower()
    if change.get("put_back"):
        return f"{technique} at the {place} put back as carried forward"
    if change.get("action") == "removed":
        return f"{technique} at the {place} removed"
    return f"{technique} at the {place} {change.get('from_pressure')} to {change.get('to_pressure')}"


def _locked(request: AuthenticatedHttpRequest, patient: Patient, visit: Visit, forms: NoteForms) -> HttpResponse:
    """A save that arrives after the note was signed: refused (403), but what was typed stays on screen."""
    page = NotePage(forms, visit.screen_result or {}, visit.billing or {})
    name = visit.signed_by.display_name() if visit.signed_by else "someone"
    when = timezone.localtime(visit.signed_at).strftime("%H:%M") if visit.signed_at else ""
    page.notices.append(("error", f"Not saved: this note was signed by {name} at {when} and is locked. What you "
                                  "typed is kept below; copy what matters into a signed addendum."))
    context = _context(request, patient, visit, page, locked=True, editable=True)
    return render(request, "visits/note.html", context, status=403)


def _stale_report(fresh: Visit, typed: NoteInput) -> dict[str, Any]:
    """What the other person saved, where it differs from what this person typed."""
    labels = dict(VisitNoteForm.Meta.labels)
    differences = []
    for name in VisitNoteForm.Meta.fields:
        theirs, yours = getattr(fresh, name), getattr(typed, name)
        if (theirs or None) != (yours or None):
            differences.append({"label": labels.get(name, name), "theirs": theirs if theirs not in (None, "") else "—"})
    if (fresh.findings or []) != typed.findings:
        differences.append({"label": "Findings today", "theirs": "; ".join(
            f"{label(f['code'])}{' at ' + where(f['region'], f.get('side')) if f.get('region') else ''}"
            for f in fresh.findings or []) or "—"})
    theirs_rows, _ = services.stored_rows(fresh)
    if [r.stored() | {"response": ""} for r in theirs_rows] != [r.stored() | {"response": ""} for r in typed.treatments]:
        differences.append({"label": "Treatment rows", "theirs": "; ".join(
            f"{label(r.technique)} {r.where} {r.pressure} {r.minutes} min" for r in theirs_rows) or "—"})
    return {"by": fresh.last_saved_by, "at": fresh.updated_at, "differences": differences}


@member_required(CLINICAL_WRITE)
def live(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """htmx: the safety screen, today's suggestions, billing and per-row warnings for the form as typed."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    visit = _visit(patient, visit_pk)
    if request.method == "POST":
        check_editable(visit)
        forms = NoteForms(visit, data=request.POST)
        forms.is_valid()
        page = checked_page(forms, services.check_visit_note(actor, visit, forms.note()))
    else:
        page = stored_page(visit)
    context = _context(request, patient, visit, page, oob=request.method == "POST")
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
    # The row's number in its table (palpate.js counts the rows): each added row's controls get names of their own.
    number = request.GET.get("n", "")
    n = min(int(number), MAX_ROW_NUMBER) if re.fullmatch(r"[0-9]{1,6}", number) else None
    return render(request, f"visits/_row_{kind}.html", {"row": blank_row(kind), "status": {}, "patient": patient, "n": n,
                                                        "visit": visit, "editable": True,
                                                        "can_override": actor.can(SAFETY_OVERRIDE)})


@member_required(CLINICAL_WRITE)
def sign_visit(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    visit = _visit(patient, visit_pk)
    problem, confirm_problem = "", ""
    if request.method == "POST":
        services.check_can_sign(actor)
        check_editable(visit)
        try:
            # A missing version counts as stale: signing must be of the note the signer reviewed.
            services.do_sign_visit(actor, visit, request.POST.get("version", ""),
                                   confirm_zero_minutes=request.POST.get("confirm_zero_minutes") == "1")
        except services.ZeroMinutesUnconfirmed:
            confirm_problem = "Confirm the rows at 0 minutes below (or give their minutes in the note), then sign."
        except services.NotSignable as refused:
            problem = str(refused)
        except StaleEdit:
            visit = _visit(patient, visit.pk)
            problem = ("The note was saved again after you opened this page; review it below and sign again.")
        else:
            messages.success(request, "Signed. The note is now locked; corrections are signed addenda.")
            return redirect(_note_url(visit))
    treatments, complementary = services.stored_rows(visit)
    problems = [] if visit.is_signed else services.unresolved(visit, treatments, complementary)
    if not visit.is_signed and (empty := services.empty_note_fields(visit, actor.clinic)):
        problems.append(services.empty_fields_problem(empty))
    if problem and problem not in problems:
        problems.insert(0, problem)
    # Rows at 0 minutes are not billed: named here, and signing asks for a confirmation.
    zero_minute_rows = [] if visit.is_signed else services.zero_minute_rows(treatments, complementary)
    record_read(actor, "visit.sign_view", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    return render(request, "visits/sign.html", {
        "patient": patient, "visit": visit, "problems": problems, "confirm_problem": confirm_problem,
        "treatments": treatments, "complementary": complementary, "can_sign": actor.can(NOTE_SIGN),
        "zero_minute_rows": zero_minute_rows,
    }, status=409 if problem or confirm_problem else 200)


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
        "chart_rows": [t.stored() for t in treatments],
    }, request)
    record_read(actor, "visit.pdf", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    return pdf_response(pdf, f"visit-note-{patient.record_number}-{visit.visit_date:%Y-%m-%d}")



@member_required(CLINICAL_WRITE)
def void_visit(request: AuthenticatedHttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """Mark a draft note entered in error (the patient door first: another clinic's is a 404)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    visit = voidable_of_patient(Visit, patient, visit_pk)
    record_read(actor, "visit.void_view", patient_id=patient.pk, obj=visit, ip_address=client_ip(request))
    crumbs = [(patient.full_name, reverse("patients:detail", args=[patient.pk]))]
    if not visit.is_voided:
        crumbs.append((f"Visit note {visit.visit_date:%Y-%m-%d}", _note_url(visit)))
    return void_page(request, visit, what=f"the visit note of {visit.visit_date:%Y-%m-%d}", crumbs=crumbs,
                     done_url=reverse("visits:list", args=[patient.pk]),
                     do_void=lambda reason: services.do_void_visit(actor, visit, reason))
