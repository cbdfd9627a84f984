"""Signed addenda on signed evaluations and plans of care, as visit notes have (issue 12, item 6)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
from palpate.evaluations import services as evaluation_services
from palpate.plans import services as plan_services


def actor(world: Any, user: Any) -> Actor:
    return Actor.of(Membership.objects.get(user=user, clinic=world.harbor))


def signed(record: Any, by: Any) -> Any:
    record.status, record.signed_by, record.signed_at = "signed", by, timezone.now()
    record.save()
    return record


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The text of each plan or evaluation PDF, from the HTML it was rendered from (as
    tests/web/test_plans_pdf.py)."""
    from django.template.loader import render_to_string

    from palpate.evaluations import views as evaluation_views
    from palpate.plans import views as plan_views

    texts: dict[str, str] = {}
    real = plan_views.render_pdf

    def capture(template: str, context: dict[str, Any], request: Any = None) -> bytes:
        markup = render_to_string(template, context, request=request)
        texts[template] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
        return real(template, context, request)

    monkeypatch.setattr(plan_views, "render_pdf", capture)
    monkeypatch.setattr(evaluation_views, "render_pdf", capture)
    return texts


def test_an_evaluation_addendum_is_signed_audited_and_shown(clinical_world, as_user, printed):
    world, evaluation = clinical_world.world, signed(clinical_world.evaluation, clinical_world.world.alice)
    url = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/addendum/"
    client = as_user(world.alice)
    response = client.post(url, {"text": ""})
    assert response.status_code == 400 and "Write the correction" in response.content.decode()
    response = client.post(url, {"text": "Left SLR was 60 degrees, not 40"})
    detail = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/"
    assert response.status_code == 302 and response["Location"] == detail
    page = client.get(detail).content.decode()
    assert "Left SLR was 60 degrees, not 40" in page and "Signed by Alice" in page
    [event] = AuditEvent.objects.filter(action="evaluation.addendum")
    assert event.new["text"] == "Left SLR was 60 degrees, not 40"
    response = client.get(f"{detail}evaluation.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = printed["evaluations/evaluation_pdf.html"]
    assert "Low back pain after lifting" in text
    assert "Addenda Left SLR was 60 degrees, not 40 Signed by Alice" in text
    assert AuditEvent.objects.filter(action="evaluation.pdf", object_id=str(evaluation.pk)).exists()


def test_a_draft_evaluation_takes_no_addendum_and_an_assistant_signs_none(clinical_world):
    world, evaluation = clinical_world.world, clinical_world.evaluation
    with pytest.raises(PermissionDenied, match="draft"):
        evaluation_services.do_add_evaluation_addendum(actor(world, world.alice), evaluation, "x")
    signed(evaluation, world.alice)
    with pytest.raises(PermissionDenied):
        evaluation_services.do_add_evaluation_addendum(actor(world, world.bob), evaluation, "x")
    assert not evaluation.addenda.exists()


def test_a_plan_addendum_is_on_the_page_and_in_the_pdf(clinical_world, as_user, printed):
    world, plan = clinical_world.world, signed(clinical_world.plan, clinical_world.world.alice)
    client = as_user(world.alice)
    url = f"/patients/{world.harbor_patient.pk}/plans/{plan.pk}/addendum/"
    assert client.post(url, {"text": "Frequency lowered to once a week from December"}).status_code == 302
    page = client.get(f"/patients/{world.harbor_patient.pk}/plans/{plan.pk}/").content.decode()
    assert "Frequency lowered to once a week from December" in page
    response = client.get(f"/patients/{world.harbor_patient.pk}/plans/{plan.pk}/plan.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "Addenda Frequency lowered to once a week from December Signed by Alice" in printed["plans/plan_pdf.html"]
    assert AuditEvent.objects.filter(action="plan.addendum", patient_id=world.harbor_patient.pk).count() == 1


def test_a_draft_plan_takes_no_addendum(clinical_world):
    world = clinical_world.world
    with pytest.raises(PermissionDenied, match="draft"):
        plan_services.do_add_plan_addendum(actor(world, world.alice), clinical_world.plan, "x")


def test_another_clinics_therapist_gets_404_on_the_addendum_pages(clinical_world, as_user):
    world = clinical_world.world
    signed(clinical_world.plan, world.alice)
    signed(clinical_world.evaluation, world.alice)
    client = as_user(world.charlie)
    p = world.harbor_patient.pk
    for url in (f"/patients/{p}/plans/{clinical_world.plan.pk}/addendum/",
                f"/patients/{p}/evaluations/{clinical_world.evaluation.pk}/addendum/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"text": "x"}).status_code == 404
    assert not AuditEvent.objects.filter(action__endswith=".addendum").exists()
