"""The whole clinical path in a real browser, on the demo data, walked as a new user would.

A therapist (harbor-pt) finds a demo patient who has no clinical record yet, evaluates them with a
local contraindication next to the treated region, sees that region restricted on the body chart
and in words, writes and signs the plan of care (an item on the restricted region is refused),
downloads the home-programme handout, documents two visits (the second carried forward from the
first, with a row on the restricted region blocked), signs them, adds an addendum, records the
episode's main questionnaire and the NPRS, and sees the progress chart. Wrong input comes first
at every form, and what was typed must survive it. A second test opens one draft note in two
tabs. Screenshots of the main screens go to test-artifacts/ (whole-path-*.png).

The demo patient is chosen, not hard-coded: the demo seed gives some patients a clinical history,
so the walk takes the first Harbor episode on a paired limb region with no record at all
(tendinopathy of the elbow first), and the first neighbouring region where an open wound blocks
work while the engine still plans treatment at the episode's own region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e

# A region next to each treated one, where a wound changes what may be done but not the diagnosis.
NEIGHBOURS = {
    "elbow": ("forearm", "upper_arm"), "wrist": ("forearm", "hand"), "hand": ("forearm",),
    "shoulder": ("upper_arm",), "upper_arm": ("forearm", "shoulder"), "forearm": ("upper_arm", "hand"),
    "knee": ("calf", "thigh"), "ankle": ("calf", "foot"), "foot": ("calf",), "calf": ("thigh", "foot"),
    "thigh": ("calf", "knee"), "hip": ("thigh",), "gluteal": ("thigh",),
}
CHIEF_COMPLAINT = "Pain when loading it, worse at the end of the working day"
TEMPERATURE = 36.8


@dataclass(frozen=True)
class Walk:
    """Who and what the walk is about, chosen from the demo data."""

    patient: Any
    episode: Any
    wound_region: str  # the neighbouring region with the open wound (same side as the episode)
    screen: dict[str, Any]  # what the engine answers for the evaluation the walk types

    @property
    def side(self) -> str:
        return str(self.episode.side)


def _expected_screen(patient: Any, episode: Any, wound_region: str) -> dict[str, Any]:
    """What the engine will answer for the evaluation the walk types (nothing is saved here)."""
    from django.utils import timezone

    from palpate.evaluations.models import Evaluation
    from palpate.lib.clinical import build_request, run_plan

    typed = Evaluation(performed_on=timezone.localdate(), chief_complaint=CHIEF_COMPLAINT,
                       findings=[{"code": "open_wound", "region": wound_region, "side": episode.side}],
                       vitals={"temperature_c": TEMPERATURE})
    return run_plan(episode.clinic, build_request(patient, episode, on=timezone.localdate(), evaluation=typed))


def choose_walk() -> Walk:
    from palpate.patients.models import Episode, EpisodeStatus

    fresh = list(Episode.objects.filter(
        clinic__slug="harbor", status=EpisodeStatus.ACTIVE, side__in=["left", "right"],
        body_region__in=list(NEIGHBOURS), evaluations=None, plans=None, visits=None, outcomes=None,
    ).select_related("patient", "clinic").order_by("id"))
    fresh.sort(key=lambda e: (e.condition, e.body_region) != ("tendinopathy", "elbow"))
    for episode in fresh:
        if episode.patient.episodes.count() != 1:
            continue  # one episode on the chart: its panels are the only ones there
        for region in NEIGHBOURS[episode.body_region]:
            screen = _expected_screen(episode.patient, episode, region)
            blocked = any(r["region"] == region and r.get("side") == episode.side and r["max_pressure"] == "none"
                          for r in screen["restrictions"])
            treated_here = any(i["region"] == episode.body_region for i in screen["plan"])
            if blocked and treated_here and screen["session"] != "hold":
                return Walk(episode.patient, episode, region, screen)
    pytest.fail("No demo patient without clinical records has a limb episode the walk can use.")


def region_words(region: str, side: str) -> str:
    from palpate.core.regions import regions

    label = {r.code: r.label for r in regions()}[region]
    return f"{side.capitalize()} {label.split(' (')[0].lower()}"


def open_patient(page, base: str, walk: Walk) -> None:  # noqa: ANN001
    """From anywhere: Patients, search by name, open the row with the record number."""
    patient = walk.patient
    page.get_by_role("link", name="Patients", exact=True).click()
    page.get_by_role("searchbox", name="Search patients").fill(f"{patient.given_name} {patient.family_name}")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("row").filter(has_text=patient.record_number).get_by_role(
        "link", name=f"{patient.family_name}, {patient.given_name}").click()
    page.wait_for_url(f"{base}/patients/{patient.pk}/")
    expect(page.get_by_role("heading", name=patient.full_name, level=1)).to_be_visible()


def episode_card(page, walk: Walk):  # noqa: ANN001, ANN201
    return page.get_by_role("article", name=re.compile(re.escape(walk.episode.diagnosis)))


def alert(page, containing: str) -> str:  # noqa: ANN001
    """The text of the alert that says ``containing``, once the page shows it."""
    found = page.get_by_role("alert").filter(has_text=containing).first
    expect(found).to_be_visible()
    return str(found.inner_text())


def chart_class(page, chart_id: str, region: str, side: str) -> str:  # noqa: ANN001
    shape = page.locator(f'#{chart_id} g[data-region="{region}"][data-side="{side}"]').first
    return shape.get_attribute("class") or ""


def treatment_table(page):  # noqa: ANN001, ANN201
    return page.get_by_role("table", name=re.compile(r"^Technique, region, side, pressure, minutes"))


def treatment_row(page, n: int) -> tuple[str, ...]:  # noqa: ANN001
    table = treatment_table(page)
    return tuple(table.get_by_label(f"{name}, treatment row {n}", exact=True).input_value()
                 for name in ("Technique", "Region", "Side", "Pressure", "Minutes"))


def complementary_minutes(page, n: int):  # noqa: ANN001, ANN201
    table = page.get_by_role("table", name="Complementary therapies delivered")
    return table.get_by_label(f"Minutes, complementary therapy row {n}", exact=True)


def answer_questionnaire(page, skip_last: bool = False) -> int:  # noqa: ANN001
    """Answer every item with its second answer (optionally leaving the last one out); the item count."""
    items = page.get_by_role("group", name=re.compile(r"^\d+\. "))
    count = items.count()
    for index in range(count - 1 if skip_last else count):
        items.nth(index).get_by_role("radio").nth(1).check()
    return count


def test_a_new_user_walks_the_whole_clinical_path_on_a_demo_patient(live_server, demo_world, page, screenshot):
    from palpate.outcomes import main_measure
    from palpate.plans.models import PlanOfCare
    from palpate.visits.models import Visit

    walk = choose_walk()
    base, side, wound = live_server.url, walk.side, walk.wound_region
    treated, wound_words = walk.episode.body_region, region_words(wound, walk.side)
    sign_in(page, base, "harbor-pt")
    open_patient(page, base, walk)
    expect(episode_card(page, walk).get_by_text("No evaluation yet.")).to_be_visible()

    # --- evaluation: wrong input first, then a local contraindication -----------------------------
    episode_card(page, walk).get_by_role("link", name="New evaluation").click()
    page.wait_for_url(re.compile(r"/evaluations/episode/\d+/new/$"))
    page.get_by_label("Chief complaint").fill(CHIEF_COMPLAINT)
    page.get_by_label("Patient's goals").fill("Carry the shopping and work a full day")
    page.locator(f'#pain-chart g[data-region="{treated}"][data-side="{side}"]').first.click()
    page.keyboard.type("5")
    page.get_by_label("Temperature (°C)").fill("80")
    page.get_by_label("Finding, local finding row 1").select_option("open_wound")
    page.get_by_label("Region or group, local finding row 1").select_option(wound)  # no side: a mistake
    page.get_by_role("button", name="Save draft").last.click()
    summary = alert(page, "Nothing was saved")
    assert "choose left or right" in summary.lower() or "give side" in summary, summary
    assert page.get_by_label("Chief complaint").input_value() == CHIEF_COMPLAINT
    assert page.get_by_label("Temperature (°C)").input_value() == "80"
    assert page.get_by_label("Region or group, local finding row 1").input_value() == wound
    assert page.get_by_label("Intensity (0-10), pain row 1").input_value() == "5"

    page.get_by_label("Side, local finding row 1").select_option(side)
    page.get_by_role("button", name="Save draft").last.click()
    assert "Temperature (°C)" in alert(page, "30 to 45")
    assert page.get_by_label("Side, local finding row 1").input_value() == side

    page.get_by_label("Temperature (°C)").fill(str(TEMPERATURE))
    page.get_by_role("button", name="Check safety").click()
    page.wait_for_selector("#screen-result #screen-chart")
    assert "forbidden" in chart_class(page, "screen-chart", wound, side)
    screenshot("whole-path-1-evaluation-form")
    page.get_by_role("button", name="Save draft").last.click()
    page.wait_for_url(re.compile(r"/evaluations/\d+/$"))
    expect(page.get_by_text("Evaluation saved as a draft.")).to_be_visible()
    restrictions, referrals = len(walk.screen["restrictions"]), len(walk.screen["referrals"])
    expect(page.get_by_text(re.compile(rf"· {restrictions} restrictions? · {referrals} referrals?"))).to_be_visible()

    # The screen result: the wound's region is restricted on the chart and in words.
    assert "forbidden" in chart_class(page, "screen-chart", wound, side)
    assert "forbidden" not in chart_class(page, "screen-chart", treated, side)
    restriction = page.get_by_role("row", name=re.compile(rf"^{re.escape(wound_words)}"))
    assert "Not to be treated" in restriction.inner_text() and "Open or healing wound" in restriction.inner_text()
    screenshot("whole-path-2-screen-result")
    page.get_by_role("link", name="Review and sign").click()
    page.get_by_role("button", name="Sign and lock").click()
    expect(page.get_by_text("Evaluation signed and locked.")).to_be_visible()

    # --- plan of care: a suggestion on the treated region; an item on the wound is refused ---------
    page.get_by_role("link", name=walk.patient.full_name).first.click()
    episode_card(page, walk).get_by_role("link", name="New plan").click()
    expect(page.get_by_role("row", name=re.compile(rf"^{re.escape(wound_words)}"))).to_be_visible()
    page.get_by_role("button", name="Start draft plan with these suggestions").click()
    page.wait_for_url(re.compile(r"/plans/\d+/edit/$"))
    plan = PlanOfCare.objects.get(episode=walk.episode)
    suggested = page.get_by_role("group", name="Item 1 · engine suggestion")
    assert suggested.get_by_label("Region").input_value() == treated

    page.get_by_role("group", name="Goal 1").get_by_label("Functional goal").fill("Grip a full kettle without pain")
    page.get_by_role("group", name="Goal 2").get_by_label("Functional goal").fill(
        "Full work duties with pain 2/10 or less")
    items = len(plan.items)
    page.get_by_role("button", name="Add a technique").click()
    added = page.get_by_role("group", name=f"Item {items + 1} · added by you")
    added.get_by_label("Technique").select_option("effleurage")
    added.get_by_label("Region").select_option(wound)
    added.get_by_label("Side").select_option(side)
    added.get_by_label("Pressure").select_option("light")
    added.get_by_label("Minutes").fill("5")
    page.get_by_role("button", name="Save and review for signing").click()
    alert(page, "The plan was not saved")
    added = page.get_by_role("group", name=f"Item {items + 1} · added by you")
    assert "breaks a safety restriction" in added.inner_text()
    assert added.get_by_label("Minutes").input_value() == "5"
    assert page.get_by_role("group", name="Goal 1").get_by_label("Functional goal").input_value() == (
        "Grip a full kettle without pain")
    page.get_by_role("button", name=f"Remove item {items + 1}").click()
    expect(page.get_by_role("group", name=re.compile(r"^Item \d+"))).to_have_count(items)
    page.get_by_role("button", name="Save and review for signing").click()
    page.wait_for_url(re.compile(r"/plans/\d+/sign/$"))
    page.get_by_role("button", name="Sign plan of care").click()
    expect(page.get_by_text("Plan of care signed.")).to_be_visible()
    assert "forbidden" in chart_class(page, "plan-chart", wound, side)
    assert "planned" in chart_class(page, "plan-chart", treated, side)
    screenshot("whole-path-3-plan-of-care")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Home programme handout (PDF)").click()
    handout = download_info.value
    pdf = ARTIFACTS / "whole-path-handout.pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    handout.save_as(pdf)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF") and len(content) > 1024, len(content)

    # --- visit 1: rows prefilled from the plan; wrong input; save and sign -------------------------
    plan.refresh_from_db()
    planned = [(i["technique"], i["region"], i.get("side") or "", i["pressure"], str(i["minutes"]))
               for i in plan.items]
    page.get_by_role("link", name=walk.patient.full_name).first.click()
    episode_card(page, walk).get_by_role("button", name="Start visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    assert [treatment_row(page, n + 1) for n in range(len(planned))] == planned
    page.get_by_label("Pain before treatment, NPRS (0-10)").fill("6")
    page.get_by_label("Pain after treatment, NPRS (0-10)").fill("14")
    page.get_by_label("Subjective: what the patient reports").fill("Sore when lifting the kettle.")
    page.get_by_label("Assessment", exact=True).fill("Tolerated the first session.")
    page.get_by_label("Plan", exact=True).fill("Continue the plan of care.")
    for n in range(1, len(plan.complementary) + 1):  # each given today (a row at 0 minutes is asked about)
        complementary_minutes(page, n).fill("10")
    page.get_by_role("button", name="Save and sign").click()
    alert(page, "Nothing you typed has been lost")
    expect(page.get_by_text("Enter a number from 0 to 10.", exact=True)).to_be_visible()  # at the field
    expect(page.locator("[data-error-summary]").get_by_role("link", name=re.compile("Enter a number from 0 to 10"))).to_be_visible()
    assert page.get_by_label("Subjective: what the patient reports").input_value() == "Sore when lifting the kettle."
    page.get_by_label("Pain after treatment, NPRS (0-10)").fill("4")
    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_text("Saved and signed.")).to_be_visible()
    first = Visit.objects.get(episode=walk.episode)
    assert first.is_signed and first.nprs_after == 4
    carried = [(r.technique, r.region, r.side, r.pressure, str(r.minutes)) for r in first.treatments.all()]
    assert carried == planned

    # --- visit 2: carried forward from visit 1; a row on the wound is blocked ------------------------
    page.get_by_role("link", name=walk.patient.full_name).first.click()
    episode_card(page, walk).get_by_role("button", name="Start visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    assert page.url != f"{base}/patients/{walk.patient.pk}/visits/{first.pk}/"
    assert [treatment_row(page, n + 1) for n in range(len(carried))] == carried
    if plan.complementary:
        assert complementary_minutes(page, 1).input_value() == "10"  # carried forward like technique minutes
        complementary_minutes(page, 1).fill("12")
    page.get_by_label("Soreness after the last visit (0-10)").fill("2")
    page.get_by_label("How long the soreness lasted (hours)").fill("24")
    page.get_by_label("Assessment", exact=True).fill("Less sore than last time.")
    page.get_by_label("Plan", exact=True).fill("Continue the plan of care.")
    page.get_by_role("radio", name="Good relief").check()
    page.get_by_label("Pain before treatment, NPRS (0-10)").fill("4")
    page.get_by_label("Pain after treatment, NPRS (0-10)").fill("2")
    extra = len(carried) + 1
    table = treatment_table(page)
    table.get_by_label(f"Technique, treatment row {extra}", exact=True).select_option("effleurage")
    table.get_by_label(f"Region, treatment row {extra}", exact=True).select_option(wound)
    table.get_by_label(f"Side, treatment row {extra}", exact=True).select_option(side)
    table.get_by_label(f"Pressure, treatment row {extra}", exact=True).select_option("light")
    table.get_by_label(f"Minutes, treatment row {extra}", exact=True).fill("5")
    table.get_by_label(f"Minutes, treatment row {extra}", exact=True).press("Tab")
    blocked = table.locator("tbody").filter(has=page.get_by_label(f"Technique, treatment row {extra}", exact=True))
    blocked.get_by_text("Breaks today's screen").wait_for()  # the live re-screen, before any save
    page.get_by_role("button", name="Save and sign").click()
    alert(page, "NOT the treatment rows")
    assert treatment_row(page, extra) == ("effleurage", wound, side, "light", "5")
    screenshot("whole-path-4-visit-note")
    blocked = table.locator("tbody").filter(has=page.get_by_label(f"Technique, treatment row {extra}", exact=True))
    blocked.get_by_role("checkbox", name="Remove").check()
    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_text("Saved and signed.")).to_be_visible()
    second = Visit.objects.filter(episode=walk.episode).order_by("-id").first()
    assert second.pk != first.pk and second.is_signed and second.relief == "good"
    assert [(r.technique, r.region, r.side, r.pressure, str(r.minutes)) for r in second.treatments.all()] == carried

    # --- addendum: empty is refused by the form, then signed -----------------------------------------
    page.get_by_role("link", name="Add addendum").click()
    page.get_by_role("button", name="Sign and add").click()
    assert page.get_by_label("Correction or addition").evaluate("e => e.validationMessage")
    page.get_by_label("Correction or addition").fill("Patient phoned the next day: soreness settled within hours.")
    page.get_by_role("button", name="Sign and add").click()
    expect(page.get_by_text("Addendum signed and added to the note.")).to_be_visible()
    addenda = page.get_by_role("region", name="Addenda")
    expect(addenda.get_by_text("soreness settled within hours")).to_be_visible()
    screenshot("whole-path-5-signed-note-with-addendum")

    # --- outcomes: the episode's main questionnaire and the NPRS, then the progress chart ------------
    code, _ = main_measure.suggested(walk.episode.condition, walk.episode.body_region)
    from palpate.core.measures import instrument

    main = instrument(code)
    page.get_by_role("link", name=walk.patient.full_name).first.click()
    episode_card(page, walk).get_by_role("link", name="Record a measure").click()
    page.get_by_role("link", name=main.abbreviation, exact=True).click()
    total = answer_questionnaire(page, skip_last=True)
    page.get_by_role("button", name="Save and score").click()
    alert(page, f"Choose an answer for item {total}")
    items = page.get_by_role("group", name=re.compile(r"^\d+\. "))
    assert items.nth(0).get_by_role("radio").nth(1).is_checked()  # the answers given are kept
    items.nth(total - 1).get_by_role("radio").nth(1).check()
    page.get_by_role("button", name="Save and score").click()
    page.wait_for_url(re.compile(r"/outcomes/episodes/\d+/"))
    expect(page.get_by_text(f"{main.abbreviation} recorded")).to_be_visible()
    page.get_by_role("link", name="Record a measure").click()
    page.get_by_role("link", name="NPRS", exact=True).click()
    page.get_by_role("group", name=re.compile(r"^1\. ")).get_by_role("radio").nth(3).check()
    page.get_by_role("button", name="Save and score").click()
    expect(page.get_by_text("NPRS recorded: 3")).to_be_visible()
    for chart in (f"chart-{code}", "chart-nprs"):
        expect(page.locator(f"svg#{chart}")).to_be_visible()
    expect(page.get_by_text("Latest pain (NPRS)")).to_be_visible()
    screenshot("whole-path-6-outcomes-chart")

    # --- the chart and the Today page show it all ------------------------------------------------------
    page.get_by_role("link", name=walk.patient.full_name).first.click()
    card = episode_card(page, walk)
    assert card.get_by_text("Signed", exact=True).count() >= 2  # the two visits
    expect(card.get_by_text(main.abbreviation).first).to_be_visible()
    expect(card.get_by_text("No evaluation yet.")).to_have_count(0)
    screenshot("whole-path-7-patient-chart")
    page.get_by_role("link", name="Today", exact=True).click()
    todays = page.get_by_role("region", name="Today's visits")
    expect(todays.get_by_role("link", name=f"{walk.patient.family_name}, {walk.patient.given_name}").first).to_be_visible()
    screenshot("whole-path-8-today")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]  # type: ignore[attr-defined]


def test_two_tabs_on_one_draft_note_neither_loses_what_was_typed(live_server, demo_world, page):
    from palpate.patients.models import Episode, EpisodeStatus
    from palpate.visits.models import Visit

    episode = (Episode.objects.filter(clinic__slug="harbor", status=EpisodeStatus.ACTIVE, visits=None)
               .select_related("patient").order_by("id").first())
    assert episode is not None
    base = live_server.url
    sign_in(page, base, "harbor-pt")
    page.goto(f"{base}/patients/{episode.patient_id}/")
    page.get_by_role("article", name=re.compile(re.escape(episode.diagnosis))).get_by_role(
        "button", name="Start visit").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    note_url = page.url

    other = page.context.new_page()  # a second tab of the same signed-in therapist
    other.set_default_timeout(10_000)
    other.goto(note_url)
    expect(other.get_by_role("heading", name=re.compile("^Visit note"))).to_be_visible()

    page.get_by_label("Subjective: what the patient reports").fill("First tab: grip easier this week.")
    other.get_by_label("Subjective: what the patient reports").fill("Second tab: woke at night with pain.")
    other.get_by_label("Assessment", exact=True).fill("Night pain is new; re-check at the next visit.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()

    with other.expect_response(lambda r: r.request.method == "POST" and r.url == note_url) as refused:
        other.get_by_role("button", name="Save draft").click()
    assert refused.value.status == 409
    alert(other, "Not saved: this note was saved by Alex Moreno")
    assert other.get_by_label("Subjective: what the patient reports").input_value() == (
        "Second tab: woke at night with pain.")
    assert other.get_by_label("Assessment", exact=True).input_value() == "Night pain is new; re-check at the next visit."
    theirs = other.get_by_role("region", name=re.compile("^What Alex Moreno saved"))
    expect(theirs.get_by_text("First tab: grip easier this week.")).to_be_visible()
    other.screenshot(path=str(ARTIFACTS / "whole-path-two-tabs-refused.png"), full_page=True)

    # The second tab merges and saves on the current version; then it signs.
    other.get_by_label("Subjective: what the patient reports").fill(
        "First tab: grip easier this week. Second tab: woke at night with pain.")
    other.get_by_label("Plan", exact=True).fill("Re-check the night pain next visit.")  # signing asks for it
    table = other.get_by_role("table", name="Complementary therapies delivered")
    for n in range(1, table.get_by_label(re.compile(r"Minutes, complementary therapy row \d+")).count() + 1):
        if table.get_by_label(f"Therapy, complementary therapy row {n}", exact=True).input_value():
            table.get_by_label(f"Minutes, complementary therapy row {n}", exact=True).fill("10")  # else not billed
    other.get_by_role("button", name="Save and sign").click()
    expect(other.get_by_text("Saved and signed.")).to_be_visible()

    # The first tab, still open on the old version, types on: refused as signed, text kept.
    page.get_by_label("Plan", exact=True).fill("Continue twice a week.")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == note_url) as locked:
        page.get_by_role("button", name="Save draft").click()
    assert locked.value.status == 403
    assert "is locked" in alert(page, "this note was signed by Alex Moreno")
    assert page.get_by_label("Plan", exact=True).input_value() == "Continue twice a week."
    expect(page.get_by_role("link", name="Add a signed addendum")).to_be_visible()

    visit = Visit.objects.get(episode=episode)
    assert visit.is_signed and visit.assessment == "Night pain is new; re-check at the next visit."
    assert visit.subjective.startswith("First tab") and "Second tab" in visit.subjective
    assert visit.plan_text == "Re-check the night pain next visit."
