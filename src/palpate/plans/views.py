"""Views for plans. Every view reads the patient through palpate.patients.access first.

Then the plan (or episode) is fetched filtered by the patient's clinic and the patient, so another
clinic's plan is a 404 however its id was guessed. Opening a plan and printing it are audited
reads; every change goes through ``palpate.plans.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINICAL_VIEW, NOTE_SIGN, PLAN_WRITE
from palpate.core.errors import InputError
from palpate.lib.addenda import addendum_page
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.pdf import pdf_response, render_pdf
from palpate.lib.records import SignedAndLocked, StaleEdit
from palpate.lib.voiding import void_page, voidable_of_patient
from palpate.patients.access import access_episode, access_patient
from palpate.patients.models import EpisodeStatus, Patient
from palpate.plans import documents, services
from palpate.plans.forms import PlanEditor, row_operation
from palpate.plans.models import PlanOfCare


def _plan(patient: Patient, plan_pk: int) -> PlanOfCare:
    try:
        return (PlanOfCare.objects.select_related("episode", "evaluation", "signed_by", "created_by", "superseded_by")
                .get(clinic_id=patient.clinic_id, patient=patient, pk=plan_pk))
    except PlanOfCare.DoesNotExist:
        raise Http404("No such plan of care") from None


@member_required(PLAN_WRITE)
def plan_create(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """The engine's suggestions for the episode; starting the plan saves them as a draft to edit."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    episode = access_episode(actor, patient, episode_pk, write=True)
    draft = services.open_draft(episode)
    error = ""
    suggestions = None
    try:
        suggestions = services.suggest(actor, patient, episode, timezone.localdate())
    except InputError as exc:
        error = exc.message
    discharged = episode.status != EpisodeStatus.ACTIVE
    if request.method == "POST" and suggestions is not None and not discharged:
        plan = services.do_create_plan(actor, patient, episode, suggestions)
        messages.success(request, "Draft plan of care started from the engine's suggestions. Accept, edit or "
                                  "remove each one, add goals, then save.")
        return redirect("plans:edit", pk=patient.pk, plan_pk=plan.pk)
    output = suggestions.screen_result if suggestions else {}
    # The page shows the evaluation's findings and the screen of them: a read of the chart.
    record_read(actor, "plan.create_view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    return render(request, "plans/create.html", {
        "patient": patient, "episode": episode, "draft": draft, "error": error, "discharged": discharged,
        "screen": output, "evaluation": suggestions.evaluation if suggestions else None,
        **documents.screen_context(output),
    })


@member_required(CLINICAL_VIEW)
def plan_detail(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    patient = access_patient(request.actor, pk)
    return _plan_detail(request, patient, _plan(patient, plan_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _plan_detail(request: AuthenticatedHttpRequest, patient: Patient, plan: PlanOfCare) -> HttpResponse:
    actor = request.actor
    record_read(actor, "plan.view", patient_id=patient.pk, obj=plan, ip_address=client_ip(request))
    return render(request, "plans/detail.html", {
        "patient": patient, "plan": plan, "episode": plan.episode, **documents.plan_context(plan),
        "addenda": list(plan.addenda.select_related("signed_by")),
        "addendum_url": reverse("plans:addendum", args=[patient.pk, plan.pk])
        if plan.is_signed and actor.can(NOTE_SIGN) else "",
    })


@member_required(PLAN_WRITE)
def plan_edit(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The draft editor. Row buttons re-render what was typed; Save validates, checks safety, saves."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    plan = _plan(patient, plan_pk)
    operation = row_operation(request.POST) if request.method == "POST" else None
    if not plan.is_editable:
        if request.method != "POST" or operation is not None:
            services.check_editable_plan(plan)  # 403
        return _refuse_locked(request, patient, plan, PlanEditor(plan, actor, data=request.POST))
    stale: dict[str, Any] | None = None
    if request.method != "POST":
        record_read(actor, "plan.edit_view", patient_id=patient.pk, obj=plan, ip_address=client_ip(request))
        editor = PlanEditor(plan, actor)
    elif operation is not None:
        editor = PlanEditor(plan, actor, data=request.POST).rebuilt(operation)
    else:
        editor = PlanEditor(plan, actor, data=request.POST)
        if editor.is_valid():
            try:
                services.do_save_plan(actor, plan, editor.changes(), editor.version)
            except StaleEdit as exc:
                saved = _plan(patient, plan_pk)
                editor = editor.with_version(request.POST, exc.current_version)
                stale = {"saved": saved, "locked": False, **documents.plan_context(saved)}
            except SignedAndLocked:
                return _refuse_locked(request, patient, _plan(patient, plan_pk), editor)
            except services.SafetyRefused as exc:  # only if the rules changed between check and save
                editor.form.add_error(None, str(exc))
            else:
                if request.POST.get("then") == "sign":
                    return redirect("plans:sign", pk=patient.pk, plan_pk=plan.pk)
                messages.success(request, "Plan of care saved (draft).")
                return redirect("plans:detail", pk=patient.pk, plan_pk=plan.pk)
    context = {"patient": patient, "plan": plan, "episode": plan.episode, "editor": editor, "stale": stale,
               **documents.edit_context(plan, actor)}
    if request.htmx and operation is not None:
        return render(request, "plans/edit.html#plan-form", context)
    # Someone saved first: 409 Conflict, as evaluations and visit notes answer (what was typed is kept).
    return render(request, "plans/edit.html", context, status=409 if stale else 200)


def _refuse_locked(request: AuthenticatedHttpRequest, patient: Patient, plan: PlanOfCare, editor: PlanEditor) -> HttpResponse:
    """A save that reached a plan signed or superseded after the form was opened: refused (403),
    with everything that was typed shown again so nothing is lost."""
    stale = {"saved": plan, "locked": True, **documents.plan_context(plan)}
    return render(request, "plans/edit.html", {
        "patient": patient, "plan": plan, "episode": plan.episode, "editor": editor, "stale": stale,
        **documents.edit_context(plan, editor.actor)}, status=403)


@member_required(PLAN_WRITE)
def plan_sign(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    """Review and sign: the therapists who plan (PLAN_WRITE) review; signing needs NOTE_SIGN."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    plan = _plan(patient, plan_pk)
    services.check_editable_plan(plan)
    problems = services.sign_problems(plan)
    if request.method == "POST":
        services.check_can_sign(actor)
        try:
            signed = services.do_sign_plan(actor, plan, request.POST.get("version"))
        except StaleEdit:
            messages.error(request, "The plan was changed by someone else while you were reviewing it. "
                                    "Review the saved plan below, then sign again.")
            return redirect("plans:sign", pk=patient.pk, plan_pk=plan.pk)
        except services.NotReadyToSign as exc:
            problems = exc.problems
        else:
            messages.success(request, f"Plan of care signed. Re-certify by {signed.recertify_by:%Y-%m-%d}; "
                                      f"re-evaluate by {signed.reevaluate_by:%Y-%m-%d}.")
            return redirect("plans:detail", pk=patient.pk, plan_pk=plan.pk)
    else:
        record_read(actor, "plan.sign_view", patient_id=patient.pk, obj=plan, ip_address=client_ip(request))
    return render(request, "plans/sign.html", {
        "patient": patient, "plan": plan, "episode": plan.episode, "problems": problems,
        **documents.plan_context(plan), **documents.sign_preview(plan, timezone.localdate()),
    })


@member_required(CLINICAL_VIEW)
def handout_pdf(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The patient's home-programme handout: exercises, what to expect, when to call."""
    patient = access_patient(request.actor, pk)
    return _handout_pdf(request, patient, _plan(patient, plan_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _handout_pdf(request: AuthenticatedHttpRequest, patient: Patient, plan: PlanOfCare) -> HttpResponse:
    actor = request.actor
    pdf = render_pdf("plans/handout_pdf.html", {
        "patient": patient, "plan": plan, "printed_on": timezone.localdate(), **documents.handout_context(plan),
    }, request)
    record_read(actor, "plan.handout_pdf", patient_id=patient.pk, obj=plan, ip_address=client_ip(request))
    return pdf_response(pdf, f"home programme {patient.family_name} {patient.given_name}")


@member_required(CLINICAL_VIEW)
def plan_pdf(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    """The plan of care for the record or the referring physician."""
    patient = access_patient(request.actor, pk)
    return _plan_pdf(request, patient, _plan(patient, plan_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _plan_pdf(request: AuthenticatedHttpRequest, patient: Patient, plan: PlanOfCare) -> HttpResponse:
    actor = request.actor
    pdf = render_pdf("plans/plan_pdf.html", {
        "patient": patient, "plan": plan, "episode": plan.episode, "printed_on": timezone.localdate(),
        **documents.plan_context(plan), "addenda": list(plan.addenda.select_related("signed_by")),
    }, request)
    record_read(actor, "plan.pdf", patient_id=patient.pk, obj=plan, ip_address=client_ip(request))
    return pdf_response(pdf, f"plan of care {patient.family_name} {patient.given_name} {plan.start_date or 'draft'}")



@member_required(PLAN_WRITE)
def void_plan(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    """Mark PlanOfCare entered in error (the patient door first: another clinic's is a 404)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    plan = voidable_of_patient(PlanOfCare, patient, plan_pk)
    record_read(actor, "plan.void_view", patient_id=patient.pk, obj=plan, ip_address=client_ip(request))
    crumbs = [(patient.full_name, reverse("patients:detail", args=[patient.pk]))]
    if not plan.is_voided:
        crumbs.append(("Plan of care (draft)", reverse("plans:detail", args=[patient.pk, plan.pk])))
    return void_page(request, plan, what="the draft plan of care", crumbs=crumbs,
                     done_url=reverse("patients:detail", args=[patient.pk]),
                     do_void=lambda reason: services.do_void_plan(actor, plan, reason))


@member_required(PLAN_WRITE)
def plan_addendum(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    """A signed addendum to a signed plan of care (as visit notes have)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    return _plan_addendum(request, patient, _plan(patient, plan_pk))


@require_http_methods(["GET", "HEAD", "POST"])  # after the patient door: another clinic's is a 404 first
def _plan_addendum(request: AuthenticatedHttpRequest, patient: Patient, plan: PlanOfCare) -> HttpResponse:
    actor = request.actor
    return addendum_page(
        request, patient, plan, label="Plan of care", back_url=reverse("plans:detail", args=[patient.pk, plan.pk]),
        do_add=lambda text: services.do_add_plan_addendum(actor, plan, text), can_sign=actor.can(NOTE_SIGN),
        on_view=lambda: record_read(actor, "plan.addendum_view", patient_id=patient.pk, obj=plan,
                                    ip_address=client_ip(request)))
