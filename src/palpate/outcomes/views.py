"""Views for outcomes. Every view reads the patient through palpate.patients.access first.

Then the episode or measurement is fetched filtered by the patient's clinic and the patient, so
another clinic's record is a 404 however its id was guessed. Reads of outcome data (the episode's
page, one measurement, the PDF) are audited like opening the chart.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_safe

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINIC_MANAGE, CLINICAL_VIEW, CLINICAL_WRITE
from palpate.core import measures
from palpate.core.errors import InputError
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.pdf import pdf_response, render_pdf
from palpate.lib.voiding import void_page, voidable_of_patient
from palpate.outcomes import main_measure, services
from palpate.outcomes.charts import format_score
from palpate.outcomes.forms import MainMeasureForm, MeasurementForm, WordingForm
from palpate.outcomes.models import LicensedWording, OutcomeMeasurement
from palpate.outcomes.progress import episode_progress
from palpate.outcomes.wording import can_take_wording, clinic_instrument
from palpate.patients.access import access_episode, access_patient
from palpate.patients.models import Episode, Patient


def _episode_url(patient: Patient, episode: Episode, anchor: str = "") -> str:
    url = reverse("outcomes:episode", args=[patient.pk, episode.pk])
    return f"{url}#{anchor}" if anchor else url


def _visits(episode: Episode) -> list[Any]:
    from palpate.visits.models import Visit

    return list(Visit.objects.filter(clinic_id=episode.clinic_id, episode=episode)
                .only("id", "visit_date", "status", "clinic_id", "episode_id").order_by("-visit_date", "-id"))


@member_required(CLINICAL_VIEW)
def episode_outcomes(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """Every measure of one episode: progress signals, then a chart and table per instrument."""
    patient = access_patient(request.actor, pk)
    return _episode_outcomes(request, patient, access_episode(request.actor, patient, episode_pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _episode_outcomes(request: AuthenticatedHttpRequest, patient: Patient, episode: Episode) -> HttpResponse:
    actor = request.actor
    progress = episode_progress(episode)
    record_read(actor, "outcomes.view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    suggestion = main_measure.scale_label(*main_measure.suggested(episode.condition, episode.body_region))
    chosen = progress.main.key if progress.main.why == main_measure.WHY_CHOSEN else ""
    main_form = MainMeasureForm(initial={"main_measure": chosen}, suggestion=suggestion)
    return render(request, "outcomes/episode.html", {
        "patient": patient, "episode": episode, "progress": progress, "main_form": main_form,
    })


@member_required(CLINICAL_WRITE)
def choose_instrument(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    episode = access_episode(actor, patient, episode_pk, write=True)
    suggested_code, _ = main_measure.suggested(episode.condition, episode.body_region)
    loaded = set(LicensedWording.objects.filter(clinic_id=actor.clinic.pk).values_list("instrument", flat=True))
    # The suggested questionnaire first, then the NPRS (asked at every visit), then the rest.
    order = {suggested_code: 0, "nprs": 1}
    instruments = sorted(measures.instruments(), key=lambda i: order.get(i.code, 2))
    visit = request.GET.get("visit", "")
    return render(request, "outcomes/choose.html", {
        "patient": patient, "episode": episode, "suggested_code": suggested_code,
        "rows": [(inst, inst.code in loaded, len(inst.items)) for inst in instruments],
        "visit_query": f"?visit={visit}" if visit.isdigit() else "",
    })


@member_required(CLINICAL_WRITE)
def record_measure(request: AuthenticatedHttpRequest, pk: int, episode_pk: int, instrument: str) -> HttpResponse:
    """The questionnaire form; on save the core scores it and the episode's page shows the result."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    episode = access_episode(actor, patient, episode_pk, write=True)
    try:
        shown = clinic_instrument(actor.clinic.pk, instrument)
    except InputError:
        raise Http404("No such questionnaire") from None
    visits = _visits(episode)
    initial: dict[str, Any] = {"taken_on": timezone.localdate()}
    preselected = next((v for v in visits if str(v.pk) == request.GET.get("visit")), None)
    if preselected is not None:
        initial = {"taken_on": preselected.visit_date, "visit": str(preselected.pk)}
    previous = None
    if not can_take_wording(shown.instrument):
        # Patient-named activities (PSFS) are rated again at follow-up: start from the last ones.
        previous = (OutcomeMeasurement.objects.filter(clinic_id=episode.clinic_id, episode=episode, instrument=instrument)
                    .order_by("-taken_on", "-id").values_list("activities", flat=True).first())
        if previous and request.method != "POST":  # the patient's own words from an earlier measure
            record_read(actor, "outcomes.previous_activities_view", patient_id=patient.pk, obj=episode,
                        ip_address=client_ip(request), detail={"instrument": instrument})
    form = MeasurementForm(request.POST or None, instrument=shown.instrument, episode=episode, visits=visits,
                           previous_activities=list(previous or []), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            measurement = services.do_record_measurement(
                actor, episode, instrument=instrument, answers=form.answers, taken_on=form.cleaned_data["taken_on"],
                visit=form.cleaned_data["visit"], activities=form.activities,
                accept_not_scorable=bool(form.cleaned_data.get("accept_not_scorable")),
            )
        except (services.NotScorable, InputError) as refused:
            # Only reachable if the rules changed between the form's check and the save.
            form.add_error(None, getattr(refused, "message", str(refused)))
        else:
            messages.success(request, _saved_message(shown.instrument, measurement))
            first_scale = shown.instrument.scales[0].code
            anchor = f"measure-{instrument}-{first_scale}" if shown.instrument.is_multiscale else f"measure-{instrument}"
            return redirect(_episode_url(patient, episode, anchor))
    return render(request, "outcomes/record.html", {
        "patient": patient, "episode": episode, "form": form, "instrument": shown.instrument,
        "wording_loaded": shown.wording_loaded, "wording_problem": shown.problem,
        "can_take_wording": can_take_wording(shown.instrument),
    })


def _saved_message(inst: measures.Instrument, m: OutcomeMeasurement) -> str:
    if not m.valid:
        return f"{inst.abbreviation} saved as not scorable: too many unanswered items. No score is charted."
    if inst.is_multiscale:
        scores = ", ".join(f"{inst.scale(code).name.lower()} {format_score(value, inst.scale(code))}"
                           for code, value in (m.scores or {}).items())
        return f"{inst.abbreviation} recorded: {scores}."
    band = inst.scale().band_for(m.score) if m.score is not None else None
    return f"{inst.abbreviation} recorded: {format_score(m.score, inst.scale())}" + (f" ({band.label})." if band else ".")


@member_required(CLINICAL_VIEW)
def measurement_detail(request: AuthenticatedHttpRequest, pk: int, measurement_pk: int) -> HttpResponse:
    """One questionnaire as answered, item by item."""
    actor = request.actor
    patient = access_patient(actor, pk)
    try:
        measurement = (OutcomeMeasurement.objects.select_related("episode", "visit", "entered_by")
                       .get(clinic_id=patient.clinic_id, patient=patient, pk=measurement_pk))
    except OutcomeMeasurement.DoesNotExist:
        raise Http404("No such measurement") from None
    return _measurement_detail(request, patient, measurement)


@require_safe
def _measurement_detail(request: AuthenticatedHttpRequest, patient: Patient,
                        measurement: OutcomeMeasurement) -> HttpResponse:
    actor = request.actor
    try:
        inst = clinic_instrument(actor.clinic.pk, measurement.instrument).instrument
    except InputError:
        inst = None
    record_read(actor, "outcomes.view", patient_id=patient.pk, obj=measurement, ip_address=client_ip(request))
    return render(request, "outcomes/measurement.html", {
        "patient": patient, "episode": measurement.episode, "m": measurement, "instrument": inst,
        "groups": _answer_rows(inst, measurement) if inst else [],
    })


def _answer_rows(inst: measures.Instrument, m: OutcomeMeasurement) -> list[tuple[str, list[tuple[str, str]]]]:
    """(group title, [(question, answer)]) for the measurement page."""
    def answer_text(item: measures.Item, value: object) -> str:
        if value is None:
            return "Not answered"
        labels = {o.value: o.label for o in (item.option_wording or item.scale)}
        label = labels.get(value, "")  # type: ignore[call-overload]
        return f"{value} · {label}" if label and label != str(value) else str(value)

    if m.activities:
        item = inst.items[0]
        return [("", [(name, answer_text(item, value)) for name, value in zip(m.activities, m.answers, strict=False)])]
    if inst.is_multiscale:
        answers = m.answers if isinstance(m.answers, dict) else {}
        return [(scale.name, [(f"{item.number}. {item.wording or item.topic}", answer_text(item, value))
                              for item, value in zip(scale.items, answers.get(scale.code, []), strict=False)])
                for scale in inst.scales]
    return [("", [(f"{item.number}. {item.wording or item.topic}", answer_text(item, value))
                  for item, value in zip(inst.items, m.answers or [], strict=False)])]


@member_required(CLINICAL_WRITE)
def set_main_measure(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    episode = access_episode(actor, patient, episode_pk, write=True)
    suggestion = main_measure.scale_label(*main_measure.suggested(episode.condition, episode.body_region))
    form = MainMeasureForm(request.POST or None, suggestion=suggestion)
    if request.method == "POST" and form.is_valid():
        services.do_set_main_measure(actor, episode, form.cleaned_data["main_measure"])
        messages.success(request, "Main measure saved.")
        return redirect(_episode_url(patient, episode, "progress"))
    return render(request, "outcomes/main_measure.html", {"patient": patient, "episode": episode, "form": form})


@member_required(CLINICAL_VIEW)
def progress_report(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """The episode's progress report as a PDF: the same charts and signals as the page."""
    patient = access_patient(request.actor, pk)
    return _progress_report(request, patient, access_episode(request.actor, patient, episode_pk))


@require_safe
def _progress_report(request: AuthenticatedHttpRequest, patient: Patient, episode: Episode) -> HttpResponse:
    actor = request.actor
    progress = episode_progress(episode)
    pdf = render_pdf("outcomes/report_pdf.html", {
        "patient": patient, "episode": episode, "progress": progress, "printed_on": timezone.localdate(),
    }, request)
    record_read(actor, "outcomes.pdf", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    return pdf_response(pdf, f"progress report {patient.family_name} {patient.given_name} {episode.opened_on}")


@member_required(CLINICAL_VIEW)
def licensed_wording(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Which questionnaires the clinic holds licensed wording for; owners load or remove it here."""
    actor = request.actor
    patient = access_patient(actor, pk)
    back = request.GET.get("next") or request.POST.get("next") or ""
    if not (back.startswith(f"/patients/{patient.pk}/") and url_has_allowed_host_and_scheme(back, None)):
        back = reverse("patients:detail", args=[patient.pk])
    eligible = [inst for inst in measures.instruments() if can_take_wording(inst)]
    form = None
    if request.method == "POST":
        if not actor.can(CLINIC_MANAGE):
            raise PermissionDenied("Only a clinic owner can load licensed questionnaire wording.")
        if request.POST.get("action") == "remove":
            code = request.POST.get("instrument", "")
            if services.do_remove_licensed_wording(actor, code):
                name = measures.instrument(code).abbreviation
                messages.success(request, f"The licensed wording for {name} was removed; its form shows topic labels.")
            return redirect(f"{request.path}?{urlencode({'next': back})}")
        form = WordingForm(request.POST, request.FILES, instruments=eligible)
        if form.is_valid():
            code = form.cleaned_data["instrument"]
            try:
                services.do_load_licensed_wording(actor, code, form.cleaned_data["wording_text"],
                                                  form.cleaned_data["licence_note"])
            except InputError as exc:
                form.add_error(None, exc.message)
            else:
                name = measures.instrument(code).abbreviation
                messages.success(request, f"The licensed wording for {name} was loaded; its form now shows it.")
                return redirect(f"{request.path}?{urlencode({'next': back})}")
    elif actor.can(CLINIC_MANAGE):
        form = WordingForm(instruments=eligible, initial={"instrument": request.GET.get("instrument", "")})
    loaded = {w.instrument: w for w in LicensedWording.objects.filter(clinic_id=actor.clinic.pk).select_related("loaded_by")}
    return render(request, "outcomes/wording.html", {
        "patient": patient, "form": form, "back": back,
        "rows": [(inst, loaded.get(inst.code)) for inst in eligible],
    })



@member_required(CLINICAL_WRITE)
def void_measurement(request: AuthenticatedHttpRequest, pk: int, measurement_pk: int) -> HttpResponse:
    """Mark OutcomeMeasurement entered in error (the patient door first: another clinic's is a 404)."""
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    measurement = voidable_of_patient(OutcomeMeasurement, patient, measurement_pk)
    record_read(actor, "outcomes.void_view", patient_id=patient.pk, obj=measurement, ip_address=client_ip(request))
    crumbs = [(patient.full_name, reverse("patients:detail", args=[patient.pk]))]
    if not measurement.is_voided:
        crumbs.append((f"{_abbreviation(measurement)} {measurement.taken_on:%Y-%m-%d}", reverse("outcomes:measurement", args=[patient.pk, measurement.pk])))
    return void_page(request, measurement, what=f"the {_abbreviation(measurement)} of {measurement.taken_on:%Y-%m-%d}", crumbs=crumbs,
                     done_url=reverse("outcomes:episode", args=[patient.pk, measurement.episode_id]),
                     do_void=lambda reason: services.do_void_measurement(actor, measurement, reason))


def _abbreviation(measurement: OutcomeMeasurement) -> str:
    """The instrument's abbreviation as the forms print it (ODI, PSFS), never its code."""
    try:
        return measures.instrument(measurement.instrument).abbreviation
    except (InputError, KeyError):
        return "outcome measure"
