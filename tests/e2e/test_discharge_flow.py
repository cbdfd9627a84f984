"""Discharge in a real browser (issue 12, "Done when"): a therapist discharges an episode from the
chart, signs the summary, and opens the summary PDF from the chart."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The text of each PDF the live server renders, from its HTML (WeasyPrint compresses the
    PDF's text; the live server runs in this process, so the capture sees its requests)."""
    from django.template.loader import render_to_string

    from palpate.discharge import views

    texts: dict[str, str] = {}
    real = views.render_pdf

    def capture(template: str, context: dict[str, Any], request: Any = None) -> bytes:
        texts[template] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", render_to_string(
            template, context, request=request))).split())
        return real(template, context, request)

    monkeypatch.setattr(views, "render_pdf", capture)
    return texts


def test_a_therapist_discharges_an_episode_and_opens_the_summary_pdf(live_db, live_server, page, request, printed):
    from palpate.lib.vocabulary import exercise_library
    from palpate.outcomes.models import OutcomeMeasurement
    from palpate.plans.models import PlanOfCare

    world = request.getfixturevalue("world")
    base, patient, episode = live_server.url, world.harbor_patient, world.harbor_episode
    library = exercise_library()
    today = timezone.localdate()
    PlanOfCare.objects.create(
        clinic=world.harbor, patient=patient, episode=episode, created_by=world.alice, start_date=today - dt.timedelta(
            days=42), status="signed", signed_by=world.alice, signed_at=timezone.now() - dt.timedelta(days=42),
        goals=[{"term": "short", "text": "Sit through a film without pain"}],
        home_program=[{"exercise": "pelvic_tilt", "dose": library["pelvic_tilt"]["dose"],
                       "instructions": library["pelvic_tilt"]["instructions"]}])
    for score, days_ago in ((48, 40), (22, 2)):
        OutcomeMeasurement.objects.create(clinic=world.harbor, patient=patient, episode=episode, instrument="odi",
                                          taken_on=today - dt.timedelta(days=days_ago), answers=[], valid=True,
                                          score=score, entered_by=world.alice)

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("link", name="Discharge…").click()
    expect(page.get_by_role("heading", name=re.compile("^Discharge"))).to_be_visible()
    # A sign without the goal's verdict is refused, and what was typed stays.
    page.get_by_label("Reason for discharge").select_option(label="Goals met")
    page.get_by_label("Home programme notes").fill("Keep walking 30 minutes a day")
    page.get_by_role("button", name="Save, sign and discharge").click()
    expect(page.get_by_text("Say whether each goal was met")).to_be_visible()
    expect(page.get_by_label("Home programme notes")).to_have_value("Keep walking 30 minutes a day")
    page.get_by_label("Sit through a film without pain").select_option(label="Met")
    page.get_by_role("button", name="Save, sign and discharge").click()
    expect(page.get_by_text("Discharge summary signed. The episode is discharged.")).to_be_visible()

    page.goto(f"{base}/patients/{patient.pk}/")
    expect(page.get_by_text(f"Discharged on {today:%Y-%m-%d}")).to_be_visible()
    link = page.get_by_role("link", name="summary PDF")
    response = page.request.get(f"{base}{link.get_attribute('href')}")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    text = printed["discharge/summary_pdf.html"]
    for expected in ("Discharge summary", "Goals met", "Sit through a film without pain", "Met", "ODI", "48 (",
                     "22 (", "Pelvic tilt", "Keep walking 30 minutes a day", "Signed by Alice"):
        assert expected in text, expected
    assert "DRAFT" not in text
