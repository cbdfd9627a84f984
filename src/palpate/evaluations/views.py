"""Views for evaluations and referrals. Every view reads the patient through palpate.patients.access first.

Then the episode, evaluation or referral is fetched filtered by the patient's clinic and the
patient, so another clinic's record is a 404 however its id was guessed. Opening an evaluation,
a referral letter or its PDF is audited as a read of patient data.

The evaluation page posts to itself for three things: save (the default), "Check safety"
(``check``: run the screen on what is typed, save nothing) and "Add a row" (``add_row``: the
same page with one more blank row). With htmx the last two are fetched as partials instead
(``evaluation_check``, ``evaluation_row``); the page works the same without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from palpate.audit.models import AuditEvent
from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINICAL_VIEW, EVALUATION_WRITE, NOTE_SIGN, REFERRAL_RESOLVE
from palpate.core.billing import assess_evaluation
from palpate.core.errors import InputError
from palpate.core.measures import rom_reference
from palpate.evaluations import services
from palpate.evaluations.forms import (
    COMPLEXITY_FIELDS,
    MIN_ROWS,
    OTTAWA_RULES,
    ROW_FORMS,
    EvaluationEditor,
    assess_typed_complexity,
    blank_row,
    ottawa_label,
)
from palpate.evaluations.models import Evaluation, Referral, ReferralStatus
from palpate.evaluations.referrals import letter_context
from palpate.lib.addenda import addendum_page
from palpate.lib.bodychart import marks_from_pain_map
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.pdf import pdf_response, render_pdf
from palpate.lib.records import SignedAndLocked, StaleEdit, check_editable
from palpate.lib.vocabulary import (
    CLEARED_LABEL,
    findings_by_code,
    paired_regions,
    region_choices,
    region_groups,
)
from palpate.lib.voiding import void_page, voidable_of_patient
from palpate.patients.access import access_episode, access_patient
from palpate.patients.models import Episode, EpisodeStatus, Patient

MAX_ROWS = 60


def _evaluation(patient: Patient, evaluation_pk: int) -> Evaluation:
    try:
        return (Evaluation.objects.select_related("episode", "therapist", "signed_by", "patient", "clinic")
                .get(clinic_id=patient.clinic_id, patient=patient, pk=evaluation_pk))
    except Evaluation.DoesNotExist:
        raise Http404("No such evaluation") from None


def _referral(patient: Patient, referral_pk: int) -> Referral:
    try:
        return (Referral.objects.select_related("episode", "raised_by", "evaluation")
                .get(clinic_id=patient.clinic_id, patient=patient, pk=referral_pk))
    except Referral.DoesNotExist:
        raise Http404("No such referral") from None


def _lower_limb(episode: Episode) -> bool:
    return episode.body_region in region_groups().get("lower_limb", ())


# --- the evaluation page -------------------------------------------------------------------------


def _form_context(request: AuthenticatedHttpRequest, patient: Patient, episode: Episode, editor: EvaluationEditor,
                  evaluation: Evaluation | None, **extra: Any) -> dict[str, Any]:
    main = editor.main
    if main.is_bound:
        screens = {name: main[name].value() for name in ("wells_version", "wells_items")}
        ottawa_answered = {rule: bool(main[f"{rule}_done"].value()) for rule in OTTAWA_RULES}
    else:
        screens = {"wells_version": main.initial.get("wells_version")}
        ottawa_answered = {rule: bool(main.initial.get(f"{rule}_done")) for rule in OTTAWA_RULES}
    has_error = {name for name in main.errors}
    # Wells and Ottawa open by themselves where they matter; otherwise they stay one click away.
    wells_open = _lower_limb(episode) or bool(screens.get("wells_version")) or bool(
        has_error & {"wells_version", "wells_side", "wells_items"})
    ottawa_open = {rule: episode.body_region in ("ankle", "foot") or ottawa_answered[rule]
                   or any(n.startswith(rule) for n in has_error) for rule in OTTAWA_RULES}
    pain_rows = (editor.rows("pain") if main.is_bound and editor.tables["pain"].is_valid()
                 else (evaluation.pain_map if evaluation else []))
    return {
        "patient": patient, "episode": episode, "evaluation": evaluation, "editor": editor, "form": main,
        "tables": editor.tables, "min_rows": MIN_ROWS,
        "ottawa": [(rule, ottawa_label(rule), main[f"{rule}_done"], main[f"{rule}_side"],
                    main.ottawa_bound_fields(rule), ottawa_open[rule]) for rule in OTTAWA_RULES],
        "wells_open": wells_open, "findings_info": findings_by_code(),
        "complexity_fields": [main[name] for name in COMPLEXITY_FIELDS.values()],
        "assessment": editor.assessment or _stored_assessment(evaluation, main),
        "pain_marks": marks_from_pain_map(pain_rows or []),
        "region_codes": [code for code, _ in region_choices()], "paired": sorted(paired_regions()),
        "check_url": reverse("evaluations:check", args=[patient.pk, episode.pk]),
        "rom_reference_name": rom_reference().name, "carried_from": main.carried_from,
        "cleared_label": CLEARED_LABEL,
        **extra,
    }


def _stored_assessment(evaluation: Evaluation | None, main: Any) -> Any:
    if evaluation is None or main.is_bound:
        return None
    return evaluation_assessment(evaluation)


def evaluation_assessment(evaluation: Evaluation) -> Any:
    """The core's complexity assessment of a stored evaluation, once all four components are answered."""
    components = evaluation.complexity or {}
    if set(components) != set(COMPLEXITY_FIELDS):
        return None
    try:
        return assess_evaluation(**components)
    except InputError:
        return None


def _render_form(request: AuthenticatedHttpRequest, patient: Patient, episode: Episode, editor: EvaluationEditor,
                 evaluation: Evaluation | None, status: int = 200, **extra: Any) -> HttpResponse:
    context = _form_context(request, patient, episode, editor, evaluation, **extra)
    return render(request, "evaluations/form.html", context, status=status)


def _with_extra_row(data: QueryDict, kind: str) -> QueryDict:
    data = data.copy()
    key = f"{kind}-TOTAL_FORMS"
    try:
        total = int(data.get(key) or 0)
    except ValueError:
        total = 0
    data[key] = str(min(total + 1, MAX_ROWS))
    return data


def _last_saved_by(evaluation: Evaluation) -> AuditEvent | None:
    return (AuditEvent.objects.filter(clinic_id=evaluation.clinic_id, object_type="evaluations.evaluation",
                                      object_id=str(evaluation.pk)).order_by("-seq").first())


def _differences(fresh: Evaluation, fields: dict[str, Any]) -> list[str]:
    labels = {"performed_on": "date", "pain_map": "pain map", "rom": "range of motion", "pain_nprs": "NPRS",
              "findings": "safety findings", "vitals": "vitals", "screens": "Wells / Ottawa screens",
              "complexity": "complexity", "suggested_code": "suggested code"}
    return [labels.get(name, name.replace("_", " ")) for name, value in fields.items()
            if getattr(fresh, name) != value]


def _submit(request: AuthenticatedHttpRequest, patient: Patient, episode: Episode, evaluation: Evaluation | None) -> HttpResponse:
    actor = request.actor
    data = request.POST
    if evaluation is not None and evaluation.is_signed:
        # Signed while this form was open: refuse, but give back everything typed to copy from.
        return _render_form(request, patient, episode, EvaluationEditor(data, evaluation=evaluation), evaluation,
                            status=403, locked="This evaluation was signed and locked; nothing was saved.")
    add = data.get("add_row", "")
    carried = services.last_signed_evaluation(episode) if evaluation is None else None
    if add in ROW_FORMS:
        editor = EvaluationEditor(_with_extra_row(data, add), evaluation=evaluation, carried=carried)
        return _render_form(request, patient, episode, editor, evaluation, focus_table=add)
    editor = EvaluationEditor(data, evaluation=evaluation, carried=carried)
    if not editor.is_valid():
        return _render_form(request, patient, episode, editor, evaluation)
    checked = services.check_evaluation(actor, patient, episode, editor.typed())
    if checked.error is not None:
        editor.place_error(checked.error)  # on the field the refused fact was typed in
        return _render_form(request, patient, episode, editor, evaluation)
    if "check" in data:
        return _render_form(request, patient, episode, editor, evaluation, screen=checked.screen, checked=True)
    try:
        saved = services.do_save_evaluation(actor, patient, episode, checked, evaluation, data.get("version"))
    except SignedAndLocked as locked:
        return _render_form(request, patient, episode, editor, evaluation, status=403, locked=str(locked))
    except StaleEdit as stale:
        assert evaluation is not None
        fresh = _evaluation(patient, evaluation.pk)
        retry = data.copy()
        retry["version"] = str(stale.current_version)
        editor = EvaluationEditor(retry, evaluation=fresh)
        editor.is_valid()
        return _render_form(request, patient, episode, editor, fresh, status=409, stale={
            "event": _last_saved_by(fresh), "differences": _differences(fresh, checked.fields),
            "signed": fresh.is_signed,
        })
    messages.success(request, _saved_message(saved))
    return redirect("evaluations:detail", pk=patient.pk, evaluation_pk=saved.pk)


def _saved_message(evaluation: Evaluation) -> str:
    session = (evaluation.screen_result or {}).get("session", "")
    referrals = len((evaluation.screen_result or {}).get("referrals") or [])
    text = "Evaluation saved as a draft."
    if session:
        text += f" Safety screen: {session}."
    if referrals:
        text += f" {referrals} referral{'s' if referrals != 1 else ''} raised; see below."
    return text


@member_required(EVALUATION_WRITE)
def evaluation_create(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk)
    episode = access_episode(actor, patient, episode_pk)
    if episode.status != EpisodeStatus.ACTIVE:  # a returning patient: reopen (or resume) the episode first
        messages.error(request, episode.not_active_message("evaluating in it"))
        return redirect("patients:detail", pk=patient.pk)
    if request.method == "POST":
        return _submit(request, patient, episode, None)
    # A re-evaluation starts from the last signed evaluation's findings and vitals (shown as carried
    # forward, to be confirmed, changed or cleared), never blank: a blank screen says "proceed".
    carried = services.last_signed_evaluation(episode)
    editor = EvaluationEditor(initial={"performed_on": timezone.localdate()}, carried=carried)
    if carried is not None:
        record_read(actor, "evaluation.carry_forward", patient_id=patient.pk, obj=carried,
                    ip_address=client_ip(request))
    return _render_form(request, patient, episode, editor, None)


@member_required(EVALUATION_WRITE)
def evaluation_edit(request: AuthenticatedHttpRequest, pk: int, evaluation_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk)
    evaluation = _evaluation(patient, evaluation_pk)
    if request.method == "POST":
        return _submit(request, patient, evaluation.episode, evaluation)
    check_editable(evaluation)
    record_read(actor, "evaluation.edit_view", patient_id=patient.pk, obj=evaluation, ip_address=client_ip(request))
    editor = EvaluationEditor(evaluation=evaluation)
    return _render_form(request, patient, evaluation.episode, editor, evaluation,
                        screen=evaluation.screen_result or None)


@member_required(EVALUATION_WRITE)
def evaluation_check(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """The screen on what is typed now, saved nowhere (htmx partial behind "Check safety")."""
    actor = request.actor
    patient = access_patient(actor, pk)
    episode = access_episode(actor, patient, episode_pk)
    data = request.POST if request.method == "POST" else request.GET
    if request.GET.get("part") == "complexity":  # the typed components only; nothing of the chart
        assessment, problem = assess_typed_complexity(data)
        return render(request, "evaluations/_complexity.html", {"assessment": assessment, "problem": problem})
    # The screen reads the patient's episode and latest evaluation: a read of the chart.
    record_read(actor, "evaluation.check_view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    context: dict[str, Any] = {"patient": patient, "episode": episode, "screen": None, "errors": [],
                               "assessment": None, "checked": True}
    if data:
        editor = EvaluationEditor(data)
        checked = services.check_evaluation(actor, patient, episode, editor.typed()) if editor.is_valid() else None
        context["assessment"] = editor.assessment
        if checked is not None and checked.error is not None:
            editor.place_error(checked.error)
        if checked is None or checked.error is not None:
            context["errors"] = editor.error_links()
        else:
            context["screen"] = checked.screen
    return render(request, "evaluations/_check.html", context)


@member_required(EVALUATION_WRITE)
def evaluation_row(request: AuthenticatedHttpRequest, pk: int, kind: str) -> HttpResponse:
    """One blank row of a table (htmx "Add a row"; the body chart pre-fills region and side)."""
    patient = access_patient(request.actor, pk)
    if kind not in ROW_FORMS:
        raise Http404("No such table")
    try:
        index = int(request.GET.get(f"{kind}-TOTAL_FORMS") or request.GET.get("index") or 0)
    except ValueError:
        index = 0
    index = max(0, min(index, MAX_ROWS - 1))
    initial = {}
    region, side = request.GET.get("region", ""), request.GET.get("side", "")
    if region in dict(region_choices()):
        initial["region"] = region
        if side in ("left", "right") and region in paired_regions():
            initial["side"] = side
    context = {"patient": patient, "kind": kind, "index": index, "total": index + 1}
    if any(key.startswith(f"{kind}-{index}-") for key in request.GET):
        # A row re-checked while typing (range of motion: the core's percent of normal). Until the
        # degrees are in there is nothing to check, and no "missing" message to nag with yet.
        if kind == "rom" and not request.GET.get(f"rom-{index}-degrees", "").strip():
            return HttpResponse(status=204)
        context["row"] = blank_row(kind, index, data=request.GET)
        return render(request, "evaluations/_rows.html#row", context)
    context["row"] = blank_row(kind, index, initial)
    return render(request, "evaluations/_rows.html#new_row", context)


@member_required(CLINICAL_VIEW)
def evaluation_detail(request: AuthenticatedHttpRequest, pk: int, evaluation_pk: int) -> HttpResponse:
    patient = access_patient(request.actor, pk)
    return _evaluation_detail(request, patient, _evaluation(patient, evaluation_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _evaluation_detail(request: AuthenticatedHttpRequest, patient: Patient, evaluation: Evaluation) -> HttpResponse:
    actor = request.actor
    record_read(actor, "evaluation.view", patient_id=patient.pk, obj=evaluation, ip_address=client_ip(request))
    referrals = list(Referral.objects.filter(clinic_id=patient.clinic_id, evaluation=evaluation)
                     .select_related("raised_by").order_by("raised_on", "id"))
    return render(request, "evaluations/detail.html", {
        "patient": patient, "episode": evaluation.episode, "evaluation": evaluation, "referrals": referrals,
        "addenda": list(evaluation.addenda.select_related("signed_by")),
        "addendum_url": reverse("evaluations:addendum", args=[patient.pk, evaluation.pk])
        if evaluation.is_signed and actor.can(NOTE_SIGN) else "",
        "assessment": evaluation_assessment(evaluation), "pain_marks": marks_from_pain_map(evaluation.pain_map or []),
        "findings_info": findings_by_code(), "screen": evaluation.screen_result or None,
    })


@member_required(EVALUATION_WRITE)
def evaluation_sign(request: AuthenticatedHttpRequest, pk: int, evaluation_pk: int) -> HttpResponse:
    """Review, then sign and lock (NOTE_SIGN)."""
    actor = request.actor
    patient = access_patient(actor, pk)
    evaluation = _evaluation(patient, evaluation_pk)
    error = ""
    status = 200
    if request.method == "POST":
        if not actor.can(NOTE_SIGN):
            raise PermissionDenied("Your role in this clinic cannot sign evaluations; ask a therapist to sign it.")
        try:
            services.do_sign_evaluation(actor, evaluation, request.POST.get("version"))
        except StaleEdit:
            error = ("Someone saved this evaluation after you opened this page. Review the current version "
                     "below, then sign again.")
            status = 409
            evaluation = _evaluation(patient, evaluation_pk)
        except ValidationError as problem:
            error, status = " ".join(problem.messages), 400
        except InputError as problem:
            error = f"The safety screen could not run on the saved facts: {problem.message}. Edit the evaluation."
            status = 400
        else:
            messages.success(request, "Evaluation signed and locked.")
            return redirect("evaluations:detail", pk=patient.pk, evaluation_pk=evaluation.pk)
    elif evaluation.is_signed:
        messages.info(request, "This evaluation is already signed.")
        return redirect("evaluations:detail", pk=patient.pk, evaluation_pk=evaluation.pk)
    else:
        record_read(actor, "evaluation.sign_view", patient_id=patient.pk, obj=evaluation,
                    ip_address=client_ip(request))
    return render(request, "evaluations/sign.html", {
        "patient": patient, "episode": evaluation.episode, "evaluation": evaluation, "error": error,
        "assessment": evaluation_assessment(evaluation), "screen": evaluation.screen_result or None,
    }, status=status)


@member_required(CLINICAL_VIEW)
def evaluation_pdf(request: AuthenticatedHttpRequest, pk: int, evaluation_pk: int) -> HttpResponse:
    """The evaluation as a document, with its addenda."""
    patient = access_patient(request.actor, pk)
    return _evaluation_pdf(request, patient, _evaluation(patient, evaluation_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _evaluation_pdf(request: AuthenticatedHttpRequest, patient: Patient, evaluation: Evaluation) -> HttpResponse:
    actor = request.actor
    referrals = list(Referral.objects.filter(clinic_id=patient.clinic_id, evaluation=evaluation)
                     .select_related("raised_by").order_by("raised_on", "id"))
    pdf = render_pdf("evaluations/evaluation_pdf.html", {
        "patient": patient, "episode": evaluation.episode, "evaluation": evaluation, "referrals": referrals,
        "assessment": evaluation_assessment(evaluation), "pain_marks": marks_from_pain_map(evaluation.pain_map or []),
        "findings_info": findings_by_code(), "screen": evaluation.screen_result or None, "clinic": actor.clinic,
        "addenda": list(evaluation.addenda.select_related("signed_by")), "printed_on": timezone.localdate(),
    }, request)
    record_read(actor, "evaluation.pdf", patient_id=patient.pk, obj=evaluation, ip_address=client_ip(request))
    return pdf_response(pdf, f"evaluation {patient.family_name} {patient.given_name} {evaluation.performed_on}")


@member_required(EVALUATION_WRITE)
def evaluation_addendum(request: AuthenticatedHttpRequest, pk: int, evaluation_pk: int) -> HttpResponse:
    """A signed addendum to a signed evaluation (as visit notes have)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    return _evaluation_addendum(request, patient, _evaluation(patient, evaluation_pk))


@require_http_methods(["GET", "HEAD", "POST"])  # after the patient door: another clinic's is a 404 first
def _evaluation_addendum(request: AuthenticatedHttpRequest, patient: Patient, evaluation: Evaluation) -> HttpResponse:
    actor = request.actor
    return addendum_page(
        request, patient, evaluation, label=f"Evaluation of {evaluation.performed_on:%Y-%m-%d}",
        back_url=reverse("evaluations:detail", args=[patient.pk, evaluation.pk]),
        do_add=lambda text: services.do_add_evaluation_addendum(actor, evaluation, text),
        can_sign=actor.can(NOTE_SIGN),
        on_view=lambda: record_read(actor, "evaluation.addendum_view", patient_id=patient.pk, obj=evaluation,
                                    ip_address=client_ip(request)))


# --- referrals -----------------------------------------------------------------------------------


@member_required(CLINICAL_VIEW)
def referral_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _referral_list(request, access_patient(request.actor, pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _referral_list(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    actor = request.actor
    referrals = list(Referral.objects.filter(clinic_id=patient.clinic_id, patient=patient)
                     .select_related("episode", "raised_by"))
    record_read(actor, "referral.list", patient_id=patient.pk, ip_address=client_ip(request))
    return render(request, "evaluations/referrals.html", {"patient": patient, "referrals": referrals})


@member_required(CLINICAL_VIEW)
def referral_letter(request: AuthenticatedHttpRequest, pk: int, referral_pk: int) -> HttpResponse:
    patient = access_patient(request.actor, pk)
    return _referral_letter(request, patient, _referral(patient, referral_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _referral_letter(request: AuthenticatedHttpRequest, patient: Patient, referral: Referral) -> HttpResponse:
    actor = request.actor
    record_read(actor, "referral.letter_view", patient_id=patient.pk, obj=referral, ip_address=client_ip(request))
    return render(request, "evaluations/referral_letter.html", letter_context(patient, referral, actor.clinic))


@member_required(CLINICAL_VIEW)
def referral_pdf(request: AuthenticatedHttpRequest, pk: int, referral_pk: int) -> HttpResponse:
    patient = access_patient(request.actor, pk)
    return _referral_pdf(request, patient, _referral(patient, referral_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _referral_pdf(request: AuthenticatedHttpRequest, patient: Patient, referral: Referral) -> HttpResponse:
    actor = request.actor
    record_read(actor, "referral.letter_pdf", patient_id=patient.pk, obj=referral, ip_address=client_ip(request))
    pdf = render_pdf("evaluations/referral_letter_pdf.html", letter_context(patient, referral, actor.clinic), request)
    return pdf_response(pdf, f"referral {patient.family_name} {referral.reason} {referral.raised_on}")


@member_required(REFERRAL_RESOLVE)
def referral_status(request: AuthenticatedHttpRequest, pk: int, referral_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk)
    referral = _referral(patient, referral_pk)
    error, status, note = "", 200, ""
    chosen = ""
    if request.method == "POST":
        chosen, note = request.POST.get("status", ""), request.POST.get("note", "")
        try:
            services.do_update_referral_status(actor, referral, chosen, note)
        except ValidationError as problem:
            error, status = " ".join(problem.messages), 400
        else:
            messages.success(request, "Referral status saved.")
            back = request.POST.get("next", "")
            if back.startswith(f"/patients/{patient.pk}/") and "//" not in back:
                return redirect(back)
            return redirect("evaluations:referrals", pk=patient.pk)
    if request.method != "POST":
        record_read(actor, "referral.status_view", patient_id=patient.pk, obj=referral, ip_address=client_ip(request))
    labels = dict(ReferralStatus.choices)
    choices = [(str(s), labels[s]) for s in services.SETTABLE_STATUSES]
    return render(request, "evaluations/referral_status.html", {
        "patient": patient, "referral": referral, "choices": choices, "error": error, "chosen": chosen,
        "note": note, "next": request.GET.get("next", request.POST.get("next", "")),
    }, status=status)



@member_required(EVALUATION_WRITE)
def void_evaluation(request: AuthenticatedHttpRequest, pk: int, evaluation_pk: int) -> HttpResponse:
    """Mark Evaluation entered in error (the patient door first: another clinic's is a 404)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    evaluation = voidable_of_patient(Evaluation, patient, evaluation_pk)
    record_read(actor, "evaluation.void_view", patient_id=patient.pk, obj=evaluation, ip_address=client_ip(request))
    crumbs = [(patient.full_name, reverse("patients:detail", args=[patient.pk]))]
    if not evaluation.is_voided:
        crumbs.append((f"Evaluation {evaluation.performed_on:%Y-%m-%d}", reverse("evaluations:detail", args=[patient.pk, evaluation.pk])))
    return void_page(request, evaluation, what=f"the evaluation of {evaluation.performed_on:%Y-%m-%d}", crumbs=crumbs,
                     done_url=reverse("patients:detail", args=[patient.pk]),
                     do_void=lambda reason: services.do_void_evaluation(actor, evaluation, reason))
