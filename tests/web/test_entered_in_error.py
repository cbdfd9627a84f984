"""Entered in error: an unsigned draft or an outcome entry is voided with a reason; it stays in the
database and the audit trail and leaves every list, chart and count. A signed record never is."""

from __future__ import annotations

import pytest

from palpate.audit.models import AuditEvent
from palpate.evaluations.models import Evaluation
from palpate.lib.models_common import RecordStatus
from palpate.outcomes.models import OutcomeMeasurement
from palpate.plans.models import PlanOfCare
from palpate.visits.models import Visit

pytestmark = pytest.mark.django_db

REASON = "Entered for the wrong patient"


def _paths(cw) -> dict[str, tuple[str, str, type]]:  # noqa: ANN001
    """kind -> (void URL, the record's own page, model)."""
    p = cw.world.harbor_patient.pk
    return {
        "visit": (f"/patients/{p}/visits/{cw.visit.pk}/void/", f"/patients/{p}/visits/{cw.visit.pk}/", Visit),
        "evaluation": (f"/patients/{p}/evaluations/{cw.evaluation.pk}/void/",
                       f"/patients/{p}/evaluations/{cw.evaluation.pk}/", Evaluation),
        "plan": (f"/patients/{p}/plans/{cw.plan.pk}/void/", f"/patients/{p}/plans/{cw.plan.pk}/", PlanOfCare),
        "outcome": (f"/patients/{p}/outcomes/{cw.measurement.pk}/void/",
                    f"/patients/{p}/outcomes/{cw.measurement.pk}/", OutcomeMeasurement),
    }


@pytest.mark.parametrize("kind", ["visit", "evaluation", "plan", "outcome"])
def test_a_reason_that_is_too_short_is_refused_and_kept_on_the_form(clinical_world, as_user, kind):
    void_url, page, model = _paths(clinical_world)[kind]
    response = as_user(clinical_world.world.alice).post(void_url, {"reason": "oops"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "at least 10 characters" in body and ">oops</textarea>" in body
    assert model.objects.count() == 1


@pytest.mark.parametrize("kind", ["visit", "evaluation", "plan", "outcome"])
def test_a_voided_record_stays_in_the_database_and_the_trail_and_leaves_its_pages(clinical_world, as_user, kind):
    void_url, page, model = _paths(clinical_world)[kind]
    client = as_user(clinical_world.world.alice)
    assert client.get(void_url).status_code == 200
    response = client.post(void_url, {"reason": f"  {REASON}  "})
    assert response.status_code == 302  # post/redirect/get
    assert model.objects.count() == 0
    kept = model.all_with_voided.get()
    assert kept.void_reason == REASON and kept.voided_by == clinical_world.world.alice and kept.voided_at
    event = AuditEvent.objects.get(action__endswith=".void")
    assert event.new["reason"] == REASON and event.object_id == str(kept.pk)
    assert event.patient_id == clinical_world.world.harbor_patient.pk
    assert client.get(page).status_code == 404
    again = client.get(void_url).content.decode()
    assert "was marked entered in error" in again and REASON in again
    # Posting again changes nothing and writes no second event.
    client.post(void_url, {"reason": "A second reason for it"})
    assert AuditEvent.objects.filter(action__endswith=".void").count() == 1


def test_voided_rows_leave_the_lists_the_chart_and_the_outcome_charts(clinical_world, as_user):
    cw = clinical_world
    client = as_user(cw.world.alice)
    p, e = cw.world.harbor_patient.pk, cw.world.harbor_episode.pk
    assert f"/visits/{cw.visit.pk}/" in client.get(f"/patients/{p}/visits/").content.decode()
    assert f"/outcomes/{cw.measurement.pk}/" in client.get(f"/patients/{p}/outcomes/episodes/{e}/").content.decode()
    for kind in ("visit", "outcome", "plan", "evaluation"):
        assert client.post(_paths(cw)[kind][0], {"reason": REASON}).status_code == 302
    assert f"/visits/{cw.visit.pk}/" not in client.get(f"/patients/{p}/visits/").content.decode()
    outcomes = client.get(f"/patients/{p}/outcomes/episodes/{e}/").content.decode()
    assert f"/outcomes/{cw.measurement.pk}/" not in outcomes
    chart = client.get(f"/patients/{p}/").content.decode()
    for gone in (f"/visits/{cw.visit.pk}/", f"/evaluations/{cw.evaluation.pk}/", f"/plans/{cw.plan.pk}/",
                 f"/outcomes/{cw.measurement.pk}/"):
        assert gone not in chart
    today = client.get("/").content.decode()
    assert f"/visits/{cw.visit.pk}/" not in today
    assert cw.world.harbor_patient.visits.count() == 0 and cw.world.harbor_episode.outcomes.count() == 0


def test_a_signed_record_is_never_voided_and_the_page_says_to_add_an_addendum(clinical_world, as_user):
    cw = clinical_world
    Visit.objects.filter(pk=cw.visit.pk).update(status=RecordStatus.SIGNED)
    void_url = _paths(cw)["visit"][0]
    client = as_user(cw.world.alice)
    assert "add a signed addendum" in client.get(void_url).content.decode()
    refused = client.post(void_url, {"reason": REASON})
    assert refused.status_code == 409 and "signed addendum" in refused.content.decode()
    assert Visit.objects.filter(pk=cw.visit.pk).exists()
    assert not AuditEvent.objects.filter(action="visit.void").exists()


def test_the_auditor_cannot_void_and_another_clinic_gets_a_404(clinical_world, as_user):
    cw = clinical_world
    for void_url, _page, model in _paths(cw).values():
        assert as_user(cw.world.aubrey).post(void_url, {"reason": REASON}).status_code == 403
        assert as_user(cw.world.charlie).post(void_url, {"reason": REASON}).status_code == 404
        assert model.objects.count() == 1


def test_the_json_api_leaves_voided_outcome_entries_and_appointments_out(clinical_world, as_user):
    import datetime as dt

    from django.utils import timezone

    from palpate.scheduling.models import Appointment

    cw = clinical_world
    w = cw.world
    start = timezone.now() + dt.timedelta(days=3)
    appointment = Appointment.objects.create(clinic=w.harbor, patient=w.harbor_patient, episode=w.harbor_episode,
                                             therapist=w.alice, booked_by=w.fran, starts_at=start,
                                             ends_at=start + dt.timedelta(minutes=45))
    client = as_user(w.alice)
    p = w.harbor_patient.pk

    def api_ids(path: str) -> list[int]:
        body = client.get(path).json()
        rows = body["items"] if isinstance(body, dict) and "items" in body else body
        return [row["id"] for row in rows]

    assert api_ids(f"/api/patients/{p}/outcomes") == [cw.measurement.pk]
    assert api_ids(f"/api/patients/{p}/appointments") == [appointment.pk]
    assert client.post(f"/patients/{p}/outcomes/{cw.measurement.pk}/void/", {"reason": REASON}).status_code == 302
    assert client.post(f"/schedule/appointments/{appointment.pk}/void/", {"reason": REASON}).status_code == 302
    assert api_ids(f"/api/patients/{p}/outcomes") == []
    assert api_ids(f"/api/patients/{p}/appointments") == []


def test_the_patient_portal_shows_neither_a_voided_appointment_nor_a_voided_score(clinical_world, as_user):
    import datetime as dt

    from django.utils import timezone

    from palpate.portal.appointments import upcoming
    from palpate.portal.progress import lines_for
    from palpate.scheduling.models import Appointment

    cw = clinical_world
    w = cw.world
    start = timezone.now() + dt.timedelta(days=3)
    appointment = Appointment.objects.create(clinic=w.harbor, patient=w.harbor_patient, episode=w.harbor_episode,
                                             therapist=w.alice, booked_by=w.fran, starts_at=start,
                                             ends_at=start + dt.timedelta(minutes=45))
    assert len(upcoming(w.harbor_patient, timezone.localdate())) == 1
    assert lines_for(w.harbor_episode) != []
    client = as_user(w.alice)
    client.post(f"/schedule/appointments/{appointment.pk}/void/", {"reason": REASON})
    client.post(f"/patients/{w.harbor_patient.pk}/outcomes/{cw.measurement.pk}/void/", {"reason": REASON})
    assert upcoming(w.harbor_patient, timezone.localdate()) == []
    assert lines_for(w.harbor_episode) == []


def test_voiding_an_evaluation_draft_closes_the_open_referrals_only_it_raised(clinical_world, as_user):
    from palpate.evaluations.models import Referral, ReferralStatus

    cw = clinical_world
    Referral.objects.filter(pk=cw.referral.pk).update(evaluation=cw.evaluation)
    assert as_user(cw.world.alice).post(_paths(cw)["evaluation"][0], {"reason": REASON}).status_code == 302
    referral = Referral.objects.get(pk=cw.referral.pk)
    assert referral.status == ReferralStatus.CLOSED and "entered in error" in referral.status_note
    assert AuditEvent.objects.filter(action="referral.update", object_id=str(referral.pk)).exists()
