"""Every staff page, from the URL resolver, with its path parameters filled from the demo data.

``STAFF_PAGES`` names each URL pattern a person opens in a browser (HTML answered to a GET) and
how to fill it; ``NOT_PAGES`` names every other pattern and why the crawl leaves it. A test in
test_accessibility.py fails when the resolver has a pattern in neither, so a new page cannot
escape the accessibility crawl.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# A patient name of 100 characters (50 + 50), the length that once widened Today to 2,241 px.
LONG_GIVEN = "Maximiliana-Konstantina Aurelia-Bartholomea Evange"
LONG_FAMILY = "Featherstonehaugh-Vandermeulen Montgomery-Dubrovsk"
assert len(LONG_GIVEN) + len(LONG_FAMILY) == 100

# Not pages: answered with something other than a page to a GET, or only on the way to one.
NOT_PAGES = {
    "healthz": "JSON probe", "readyz": "JSON probe",
    "ops:backup_now": "POST only", "accounts:logout": "POST only", "clinics:switch": "POST only",
    "clinics:invitation_resend": "POST only", "clinics:invitation_withdraw": "POST only",
    "accounts:recovery_sign_in": "only between password and second factor (tests/e2e/test_staff_flow.py)",
    "accounts:password_reset_confirm": "needs an emailed token (tests/e2e/test_staff_flow.py)",
    "clinics:join": "needs an emailed invitation token (tests/e2e/test_staff_flow.py)",
    "evaluations:check": "htmx partial (the live screen) inside the evaluation form",
    "evaluations:row": "htmx partial (an added row) inside the evaluation form",
    "evaluations:sign": "POST only", "evaluations:referral_pdf": "PDF", "evaluations:referral_status": "POST only",
    "plans:sign": "POST only", "plans:handout": "PDF", "plans:pdf": "PDF",
    "visits:start": "POST only", "visits:live": "htmx partial inside the visit note",
    "visits:row": "htmx partial (an added row) inside the visit note", "visits:sign": "POST only",
    "visits:addendum": "POST only", "visits:pdf": "PDF",
    "outcomes:main_measure": "POST only", "outcomes:report": "PDF",
    "scheduling:check_in": "POST only", "scheduling:start": "POST only", "scheduling:no_show": "POST only",
    "scheduling:feed_ics": "iCalendar file", "scheduling:find": "htmx partial inside the booking form",
    "audit:export": "CSV/JSON download", "audit:checkpoint": "POST only", "interop:revoke": "POST only",
    "evaluations:pdf": "PDF", "discharge:pdf": "PDF",
    "discharge:addendum": "needs a signed discharge summary, which the demo has none of; the same page "
                          "(lib/addendum.html) is crawled as evaluations:addendum and plans:addendum",
    "portal_staff:access": "POST only", "portal_staff:flags": "POST only",
}
# The patient side has its own axe-core tests at 360 and 390 px (tests/e2e/test_portal.py).
NOT_PAGE_NAMESPACES = {"portal": "the patient side (tests/e2e/test_portal.py)", "api": "JSON API",
                       "fhir": "FHIR JSON API"}


def resolver_names() -> set[str]:
    def walk(resolver: URLResolver, namespace: str = "") -> set[str]:
        names = set()
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                names |= walk(entry, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(f"{namespace}:{entry.name}" if namespace else entry.name)
        return names

    return walk(get_resolver())


@dataclass(frozen=True)
class DemoIds:
    """The demo records a page is opened on: Harbor's, chosen by what they hold, not by number."""

    patient: int
    episode: int
    evaluation: int
    draft_evaluation_patient: int
    draft_evaluation: int
    referral_patient: int
    referral: int
    plan_patient: int
    plan: int
    draft_plan: int
    draft_visit_patient: int
    draft_visit: int
    measurement_patient: int
    measurement: int
    appointment: int
    member: int
    day: str


def demo_ids() -> DemoIds:
    """Harbor's records; the patient with the fullest history is renamed to 100 characters."""
    from palpate.clinics.models import Clinic, Membership
    from palpate.evaluations.models import Evaluation, Referral
    from palpate.lib.models_common import RecordStatus
    from palpate.outcomes.models import OutcomeMeasurement
    from palpate.patients.models import Patient
    from palpate.plans.models import PlanOfCare
    from palpate.scheduling.models import Appointment
    from palpate.visits.models import Visit

    harbor = Clinic.objects.get(slug="harbor")
    draft_visit = Visit.objects.filter(clinic=harbor, status=RecordStatus.DRAFT).order_by("pk").first()
    assert draft_visit is not None, "the demo has no draft visit note"
    # The draft note's patient carries the long name, so Today, the calendar and the note show it.
    Patient.objects.filter(pk=draft_visit.patient_id).update(given_name=LONG_GIVEN, family_name=LONG_FAMILY)
    evaluation = Evaluation.objects.filter(clinic=harbor, status=RecordStatus.SIGNED,
                                           patient_id=draft_visit.patient_id).order_by("pk").first()
    evaluation = evaluation or Evaluation.objects.filter(clinic=harbor, status=RecordStatus.SIGNED).order_by("pk").first()
    assert evaluation is not None, "the demo has no signed evaluation"
    # The demo signs every evaluation and plan; their edit forms need a draft.
    draft_evaluation = Evaluation.objects.create(
        clinic=harbor, patient_id=evaluation.patient_id, episode_id=evaluation.episode_id,
        therapist=evaluation.therapist, performed_on=dt.date.today(), pain_nprs=5,
        chief_complaint="Re-evaluation after two weeks")
    referral = Referral.objects.filter(clinic=harbor).order_by("pk").first()
    plan = PlanOfCare.objects.filter(clinic=harbor, status=RecordStatus.SIGNED).order_by("pk").first()
    assert plan is not None, "the demo has no signed plan of care"
    draft_plan = PlanOfCare.objects.create(clinic=harbor, patient_id=plan.patient_id, episode_id=plan.episode_id,
                                           evaluation=plan.evaluation, created_by=plan.created_by,
                                           start_date=dt.date.today())
    measurement = OutcomeMeasurement.objects.filter(clinic=harbor).order_by("pk").first()
    appointment = Appointment.objects.filter(clinic=harbor).order_by("-starts_at").first()
    assert evaluation and referral and plan and measurement and appointment, "the demo history is missing records"
    member = Membership.objects.get(clinic=harbor, user__username="harbor-pt")
    return DemoIds(
        patient=evaluation.patient_id, episode=evaluation.episode_id, evaluation=evaluation.pk,
        draft_evaluation_patient=draft_evaluation.patient_id, draft_evaluation=draft_evaluation.pk,
        referral_patient=referral.patient_id, referral=referral.pk, plan_patient=plan.patient_id, plan=plan.pk, draft_plan=draft_plan.pk,
        draft_visit_patient=draft_visit.patient_id, draft_visit=draft_visit.pk,
        measurement_patient=measurement.patient_id, measurement=measurement.pk, appointment=appointment.pk,
        member=member.pk, day=dt.date.today().isoformat(),
    )


# name -> the path of one page of that pattern.
STAFF_PAGES: dict[str, Callable[[DemoIds], str]] = {
    "today": lambda i: "/",
    "ops:health": lambda i: "/ops/health/",
    "accounts:account": lambda i: "/accounts/",
    "accounts:sessions": lambda i: "/accounts/sessions/",
    "accounts:password_change": lambda i: "/accounts/password/",
    "accounts:two_factor": lambda i: "/accounts/two-factor/",
    "accounts:renew_recovery_codes": lambda i: "/accounts/recovery-codes/",
    "portal_settings": lambda i: "/clinics/portal/",
    "clinics:settings": lambda i: "/clinics/settings/",
    "clinics:staff": lambda i: "/clinics/staff/",
    "clinics:invite": lambda i: "/clinics/staff/",  # the invitation form is on the staff page
    "clinics:member": lambda i: f"/clinics/staff/{i.member}/",
    "patients:list": lambda i: "/patients/",
    "patients:create": lambda i: "/patients/new/",
    "patients:detail": lambda i: f"/patients/{i.draft_visit_patient}/",
    "patients:edit": lambda i: f"/patients/{i.draft_visit_patient}/edit/",
    "patients:episode_create": lambda i: f"/patients/{i.patient}/episodes/new/",
    "patients:episode_edit": lambda i: f"/patients/{i.patient}/episodes/{i.episode}/edit/",
    "evaluations:create": lambda i: f"/patients/{i.patient}/evaluations/episode/{i.episode}/new/",
    "evaluations:detail": lambda i: f"/patients/{i.patient}/evaluations/{i.evaluation}/",
    "evaluations:edit": lambda i: f"/patients/{i.draft_evaluation_patient}/evaluations/{i.draft_evaluation}/edit/",
    "evaluations:referrals": lambda i: f"/patients/{i.referral_patient}/evaluations/referrals/",
    "evaluations:referral_letter":
        lambda i: f"/patients/{i.referral_patient}/evaluations/referrals/{i.referral}/letter/",
    "plans:create": lambda i: f"/patients/{i.patient}/plans/episodes/{i.episode}/new/",
    "plans:detail": lambda i: f"/patients/{i.plan_patient}/plans/{i.plan}/",
    "plans:edit": lambda i: f"/patients/{i.plan_patient}/plans/{i.draft_plan}/edit/",
    "visits:list": lambda i: f"/patients/{i.draft_visit_patient}/visits/",
    "visits:note": lambda i: f"/patients/{i.draft_visit_patient}/visits/{i.draft_visit}/",
    "outcomes:episode": lambda i: f"/patients/{i.patient}/outcomes/episodes/{i.episode}/",
    "outcomes:choose": lambda i: f"/patients/{i.patient}/outcomes/episodes/{i.episode}/record/",
    "outcomes:record": lambda i: f"/patients/{i.patient}/outcomes/episodes/{i.episode}/record/odi/",
    "outcomes:measurement": lambda i: f"/patients/{i.measurement_patient}/outcomes/{i.measurement}/",
    "outcomes:wording": lambda i: f"/patients/{i.patient}/outcomes/wording/",
    "patient_schedule:list": lambda i: f"/patients/{i.draft_visit_patient}/schedule/",
    "patient_schedule:book_series": lambda i: f"/patients/{i.plan_patient}/schedule/plans/{i.plan}/book/",
    "patient_schedule:authorization":
        lambda i: f"/patients/{i.patient}/schedule/episodes/{i.episode}/authorizations/new/",
    "scheduling:home": lambda i: "/schedule/",
    "scheduling:day": lambda i: f"/schedule/day/{i.day}/",
    "scheduling:week": lambda i: f"/schedule/week/{i.day}/",
    "scheduling:book": lambda i: "/schedule/book/",
    "scheduling:appointment": lambda i: f"/schedule/appointments/{i.appointment}/",
    "scheduling:move": lambda i: f"/schedule/appointments/{i.appointment}/move/",
    "scheduling:cancel": lambda i: f"/schedule/appointments/{i.appointment}/cancel/",
    "scheduling:settings": lambda i: "/schedule/settings/",
    "scheduling:feed": lambda i: "/schedule/feed/",
    "portal_staff:check_ins": lambda i: f"/patients/{i.draft_visit_patient}/portal/check-ins/",
    "portal_staff:questionnaires": lambda i: f"/patients/{i.patient}/portal/questionnaires/",
    # "Entered in error": the reason form of each kind of record that can be voided.
    "evaluations:void": lambda i: f"/patients/{i.draft_evaluation_patient}/evaluations/{i.draft_evaluation}/void/",
    "plans:void": lambda i: f"/patients/{i.plan_patient}/plans/{i.draft_plan}/void/",
    "visits:void": lambda i: f"/patients/{i.draft_visit_patient}/visits/{i.draft_visit}/void/",
    "outcomes:void": lambda i: f"/patients/{i.measurement_patient}/outcomes/{i.measurement}/void/",
    "scheduling:void": lambda i: f"/schedule/appointments/{i.appointment}/void/",
    "evaluations:addendum": lambda i: f"/patients/{i.patient}/evaluations/{i.evaluation}/addendum/",
    "plans:addendum": lambda i: f"/patients/{i.plan_patient}/plans/{i.plan}/addendum/",
    "patients:episode_status": lambda i: f"/patients/{i.patient}/episodes/{i.episode}/status/",
    "discharge:episode": lambda i: f"/patients/{i.patient}/discharge/episode/{i.episode}/",
    "audit:log": lambda i: "/audit/",
    "interop:tokens": lambda i: "/interop/tokens/",
}
# Pages for someone not signed in.
SIGNED_OUT_PAGES = {
    "accounts:login": "/accounts/login/",
    "accounts:password_reset": "/accounts/password-reset/",
    "accounts:password_reset_sent": "/accounts/password-reset/sent/",
}
