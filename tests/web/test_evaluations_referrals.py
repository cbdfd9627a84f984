"""Referrals raised by the safety screen: the letter, its PDF, status updates, and the pieces other
pages reuse (the screen-result partial, the open-referrals tag, the chart panel)."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from palpate.audit.models import AuditEvent
from palpate.evaluations.models import Referral
from tests.web.test_evaluations import create, elbow_episode, region_class  # noqa: F401  (elbow_episode: fixture)


@pytest.fixture
def fever_referral(world, as_user, elbow_episode):  # noqa: ANN001, ANN201, F811
    evaluation = create(as_user(world.alice), world, elbow_episode, temperature_c="38.6",
                        chief_complaint="Elbow pain when gripping")
    return Referral.objects.get(evaluation=evaluation, reason="fever_or_infection")


def test_the_referral_letter_is_addressed_to_the_referrer_and_says_what_triggered_it(world, as_user, fever_referral):
    client = as_user(world.alice)
    url = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{fever_referral.pk}/letter/"
    body = client.get(url).content.decode()
    assert "To: <strong>Dr Jane Okafor</strong>" in body
    assert "Maria Garcia" in body and world.harbor_patient.record_number in body
    assert "Reason for referral: Fever or infection" in body
    assert "Urgency: Routine" in body
    assert "temperature 38.6 °C at or above 38 °C" in body  # the core's detail of the triggering finding
    assert "Temperature 38.6 °C" in body
    assert "Session today</th><td>Hold" in body
    assert "Alice" in body  # the therapist who raised it
    event = AuditEvent.objects.get(action="referral.letter_view", object_id=str(fever_referral.pk))
    assert event.patient_id == world.harbor_patient.pk and event.actor_id == world.alice.pk


def test_the_referral_letter_pdf_is_a_pdf_and_its_export_is_audited(world, as_user, fever_referral):
    response = as_user(world.aubrey).get(
        f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{fever_referral.pk}/letter.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="referral.letter_pdf", object_id=str(fever_referral.pk),
                                     actor_id=world.aubrey.pk).count() == 1


def test_a_letter_without_a_referral_source_goes_to_the_patients_physician(world, as_user, clinical_world):
    referral = clinical_world.referral
    body = as_user(world.alice).get(
        f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{referral.pk}/letter/").content.decode()
    assert "To: <strong>The patient&#x27;s physician</strong>" in body
    assert "Spinal red flag" in body


def test_a_therapist_updates_the_referral_status_and_it_is_audited(world, as_user, fever_referral):
    url = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{fever_referral.pk}/status/"
    client = as_user(world.dana)
    assert client.get(url).status_code == 200
    response = client.post(url, {"status": "sent", "note": "Faxed to Dr Okafor"})
    assert response.status_code == 302
    fever_referral.refresh_from_db()
    assert fever_referral.status == "sent" and fever_referral.status_note == "Faxed to Dr Okafor"
    assert fever_referral.closed_on is None
    event = AuditEvent.objects.get(action="referral.update", object_id=str(fever_referral.pk))
    assert event.old["status"] == "open" and event.new["status"] == "sent"

    assert client.post(url, {"status": "cleared"}).status_code == 302
    fever_referral.refresh_from_db()
    assert fever_referral.status == "cleared" and fever_referral.closed_on is not None


def test_an_unknown_or_unchanged_status_is_refused_with_a_message(world, as_user, fever_referral):
    url = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{fever_referral.pk}/status/"
    client = as_user(world.alice)
    response = client.post(url, {"status": "open", "note": "keep this note"})
    assert response.status_code == 400
    assert "Choose sent, cleared or closed" in response.content.decode()
    assert "keep this note" in response.content.decode()
    fever_referral.refresh_from_db()
    assert fever_referral.status == "open"


def test_the_auditor_reads_referrals_but_cannot_change_them(world, as_user, fever_referral):
    client = as_user(world.aubrey)
    base = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/"
    assert client.get(base).status_code == 200
    assert client.post(f"{base}{fever_referral.pk}/status/", {"status": "closed"}).status_code == 403
    fever_referral.refresh_from_db()
    assert fever_referral.status == "open"


def test_the_status_form_returns_only_to_a_page_of_the_same_patient(world, as_user, fever_referral):
    url = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{fever_referral.pk}/status/"
    response = as_user(world.alice).post(url, {"status": "sent", "next": "https://evil.example/"})
    assert response["Location"] == f"/patients/{world.harbor_patient.pk}/evaluations/referrals/"


def test_the_chart_panel_shows_evaluations_screen_badges_open_referrals_and_actions(world, as_user, fever_referral):
    body = as_user(world.alice).get(f"/patients/{world.harbor_patient.pk}/").content.decode()
    assert "Screen: Hold" in body
    assert "Fever or infection" in body
    assert "New evaluation" in body
    auditor_view = as_user(world.aubrey).get(f"/patients/{world.harbor_patient.pk}/").content.decode()
    assert "Screen: Hold" in auditor_view and "New evaluation" not in auditor_view


def _render(source: str, context: dict[str, object]) -> str:
    request = RequestFactory().get("/")
    return Template(source).render(Context({"request": request, **context}))


def test_the_screen_result_partial_draws_restrictions_for_other_pages(world):
    from palpate.lib.clinical import run_plan

    screen = run_plan(world.harbor, {
        "conditions": [{"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 56}],
        "findings": [{"code": "open_wound", "region": "forearm", "side": "right"},
                     {"code": "varicose_veins", "region": "calf", "side": "left"}],
    })
    html = _render('{% include "evaluations/_screen_result.html" with screen=screen chart_id="visit-chart" %}',
                   {"screen": screen})
    svg = re.search(r'<svg id="visit-chart".*?</svg>', html, re.S).group(0)
    assert "forbidden" in region_class(svg, "forearm", "right")
    # Friction is forbidden over varicose veins but light effleurage is not: restricted, not untouchable.
    assert "capped" in region_class(svg, "calf", "left")
    assert "forbidden" not in region_class(svg, "calf", "left")
    assert "capped" not in region_class(svg, "calf", "right")
    assert "Pressure capped (dotted, dashed outline)" in html
    assert "Capped:</strong> light pressure at most" in html
    assert "Varicose veins" in html and "Session:" in html
    assert "has not run yet" in _render('{% include "evaluations/_screen_result.html" %}', {"screen": None})


def test_the_open_referrals_tag_lists_only_open_ones_most_urgent_first(world, as_user, fever_referral):
    Referral.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=fever_referral.episode,
                            reason="suspected_dvt", urgency="same_day", raised_by=world.alice,
                            raised_on=fever_referral.raised_on)
    Referral.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=fever_referral.episode,
                            reason="cauda_equina", urgency="emergency", raised_by=world.alice,
                            raised_on=fever_referral.raised_on, status="closed")
    html = _render("{% load evaluations_tags %}{% open_referrals patient %}",
                   {"patient": world.harbor_patient, "can": {"referral_resolve": True}})
    assert "Suspected deep vein thrombosis" in html and "Fever or infection" in html
    assert "cauda" not in html.lower()
    assert html.index("Suspected deep vein thrombosis") < html.index("Fever or infection")
    assert "update status" in html

