"""The patient's home-programme handout and the plan of care for the record, as PDFs (audited)."""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import render_to_string

from palpate.plans import views
from tests.web.test_plans import evaluate, events, plan_url, save, signed_plan, start_plan


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The HTML each PDF was rendered from (WeasyPrint compresses the PDF's text)."""
    html: dict[str, str] = {}
    real = views.render_pdf

    def capture(template: str, context: dict[str, Any], request: Any = None) -> bytes:
        html[template] = render_to_string(template, context, request=request)
        return real(template, context, request)

    monkeypatch.setattr(views, "render_pdf", capture)
    return html


def assert_pdf(response: Any) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 5000


def test_the_home_programme_handout_has_each_exercise_and_when_to_call(world, as_user, printed):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    save(client, plan, home=[{"exercise": "pelvic_tilt", "side": "", "dose": "8 slow repetitions",
                              "instructions": "Lie on your back and flatten your back gently."}])
    response = client.get(plan_url(plan, "handout.pdf"))
    assert_pdf(response)
    assert "home-programme-garcia-maria.pdf" in response["Content-Disposition"]
    html = printed["plans/handout_pdf.html"]
    assert "Pelvic tilt" in html and "8 slow repetitions" in html and "flatten your back gently" in html
    assert "Mild soreness for 24 to 48 hours" in html
    for sign in ("sharp pain", "swelling", "numbness", "fever", "calf", "breathlessness"):
        assert sign in html
    assert "Harbor Physical Therapy" in html
    [read] = events("plan.handout_pdf")
    assert read.patient_id == world.harbor_patient.pk and read.object_id == str(plan.pk)


def test_a_handout_without_exercises_still_says_what_to_expect(world, as_user, printed):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    save(client, plan, home=[])
    assert_pdf(client.get(plan_url(plan, "handout.pdf")))
    html = printed["plans/handout_pdf.html"]
    assert "not given you home exercises yet" in html and "Call us at once" in html


def test_a_draft_plan_of_care_prints_with_a_draft_mark(world, as_user, printed):
    evaluate(world, findings=[{"code": "varicose_veins", "region": "calf", "side": "left"}])
    client = as_user(world.alice)
    plan = start_plan(client, world)
    reason = "Cleared by the vascular clinic on review"
    save(client, plan, items=[{"technique": "friction", "region": "calf", "side": "left", "pressure": "moderate",
                               "minutes": 5, "override_reason": reason},
                              {**{k: plan.items[0][k] for k in ("technique", "region", "pressure", "minutes")},
                               "side": "", "suggestion": 0}],
         goals=[{"term": "short", "text": "Sleep through the night", "target_date": "2027-01-15"},
                {"term": "long", "text": "Garden for an hour", "target_date": ""}])
    response = client.get(plan_url(plan, "plan.pdf"))
    assert_pdf(response)
    html = printed["plans/plan_pdf.html"]
    assert "DRAFT" in html and "not yet certified" in html
    assert "Maria Garcia" in html and "Low back pain, unspecified" in html and "ICD-10-CM M54.50" in html
    assert "Sleep through the night" in html and "Garden for an hour" in html
    assert "2 visits a week for 6 weeks" in html
    assert plan.items[0]["rationale"] in html and plan.items[0]["evidence"][0] in html
    assert "Safety overrides" in html and reason in html
    assert "<svg" in html and 'data-region="calf"' in html, "the restrictions body chart is included"
    assert "Therapeutic exercise" in html and "Pelvic tilt" in html
    [read] = events("plan.pdf")
    assert read.object_id == str(plan.pk) and read.actor_id == world.alice.pk


def test_a_signed_plan_of_care_prints_the_signature_block(world, as_user, printed):
    client = as_user(world.alice)
    plan = signed_plan(client, world)
    assert_pdf(client.get(plan_url(plan, "plan.pdf")))
    html = printed["plans/plan_pdf.html"]
    assert f"Signed by Alice on {plan.signed_at:%Y-%m-%d}" in html
    assert "DRAFT" not in html
    assert f"re-certify by {plan.recertify_by:%Y-%m-%d}" in html
    assert "Physician certification" in html


def test_the_auditor_can_print_but_the_front_desk_cannot(world, as_user, client):
    plan = start_plan(as_user(world.alice), world)
    client.logout()
    auditor = as_user(world.aubrey)
    assert_pdf(auditor.get(plan_url(plan, "plan.pdf")))
    assert_pdf(auditor.get(plan_url(plan, "handout.pdf")))
    client.logout()
    front_desk = as_user(world.fran)
    assert front_desk.get(plan_url(plan, "plan.pdf")).status_code == 403
    assert front_desk.get(plan_url(plan, "handout.pdf")).status_code == 403
