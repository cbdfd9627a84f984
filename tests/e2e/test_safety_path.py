"""Safety everywhere in a real browser (issue 11, the web part).

(a) A patient on anticoagulants with an open wound on the right calf, walked through the
    evaluation, the plan of care, a visit and both PDFs: every chart shows the whole-body cap
    dotted (its cap named), the wound cross-hatched and the planned work striped over the cap;
    the wound can be overridden nowhere (no control is offered, the server refuses).
(b) A plan signed with an override of a precaution, and a visit under it signed without retyping.
(c) Soreness 8/10 after the last visit: friction and trigger point leave the carried-forward rows
    with their reason, the rest are one pressure level lower, and the adverse-event check shows.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"
REASON = "Tolerated moderate effleurage for years; INR stable"


def sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def region(page: Any, chart_id: str, name: str, side: str = "") -> Any:
    return page.locator(f'#{chart_id} g[data-region="{name}"][data-side="{side}"]').first


def classes(page: Any, chart_id: str, name: str, side: str = "") -> set[str]:
    return set((region(page, chart_id, name, side).get_attribute("class") or "").split())


def title(page: Any, chart_id: str, name: str, side: str = "") -> str:
    return str(region(page, chart_id, name, side).locator("title").text_content())


def assert_chart(page: Any, chart_id: str, *, planned: bool) -> None:
    """Whole-body cap dotted and named, the wound cross-hatched, the low back's planned stripes visible."""
    assert "forbidden" in classes(page, chart_id, "calf", "right"), chart_id
    assert "open or healing wound" in title(page, chart_id, "calf", "right")
    left = classes(page, chart_id, "calf", "left")
    assert "capped" in left and "forbidden" not in left, (chart_id, left)
    assert "light pressure at most for effleurage" in title(page, chart_id, "calf", "left")
    back = classes(page, chart_id, "lower_back")
    assert "capped" in back and "forbidden" not in back, (chart_id, back)
    if planned:
        assert "planned" in back, (chart_id, back)
        overlay = region(page, chart_id, "lower_back").locator(".planned-overlay")
        expect(overlay).to_have_attribute("fill", "url(#pp-stripes-over)")
        assert "planned:" in title(page, chart_id, "lower_back")


def pdf_patterns(pdf: bytes) -> Counter[str]:
    """The fills the PDF's body chart is drawn with, by their tiles: hatching is a rotated 6-unit
    tile, dots an upright one, stripes an 8-unit one (lib/bodychart.py's patterns)."""
    found: Counter[str] = Counter()
    for size, matrix in re.findall(rb"/PatternType 1/BBox \[0 0 (\d+) \d+\].*?/Matrix \[([^\]]+)\]", pdf):
        tilt = float(matrix.split()[1])
        found["stripes" if size == b"8" else "hatch" if abs(tilt) > 1e-6 else "dots"] += 1
    return found


def get_pdf(page: Any, url: str) -> bytes:
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    body: bytes = response.body()
    assert body.startswith(b"%PDF")
    assert zlib  # (the PDF's streams are compressed; the pattern dictionaries are not)
    return body


def screened_evaluation(world: Any, findings: list[dict[str, Any]]) -> Any:
    from tests.web.test_safety_charts import evaluate

    return evaluate(world, findings)


def test_a_anticoagulants_and_an_open_wound_are_drawn_the_same_way_on_every_page_and_pdf(
        live_db, live_server, page, request, screenshot):
    world = request.getfixturevalue("world")
    base, patient, episode = live_server.url, world.harbor_patient, world.harbor_episode
    sign_in(page, base)

    # --- evaluation -----------------------------------------------------------------------------
    page.goto(f"{base}/patients/{patient.pk}/evaluations/episode/{episode.pk}/new/")
    page.get_by_label("Chief complaint").fill("Low back pain after lifting; on warfarin")
    page.get_by_label("Anticoagulant (blood-thinning) therapy").check()
    page.locator("#id_find-0-code").select_option("open_wound")
    page.locator("#id_find-0-region").select_option("calf")
    page.locator("#id_find-0-side").select_option("right")
    page.get_by_role("button", name="Check safety").click()
    page.wait_for_selector("#screen-result #screen-chart")
    assert_chart(page, "screen-chart", planned=False)
    page.get_by_role("button", name="Save draft").last.click()
    page.wait_for_url(re.compile(r"/evaluations/\d+/$"))
    assert_chart(page, "screen-chart", planned=False)
    screenshot("safety-1-evaluation")

    # --- plan of care: the wound cannot be overridden, the chart is the same drawing --------------
    page.goto(f"{base}/patients/{patient.pk}/plans/episodes/{episode.pk}/new/")
    page.get_by_role("button", name="Start draft plan with these suggestions").click()
    page.wait_for_url(re.compile(r"/plans/\d+/edit/$"))
    assert_chart(page, "plan-chart", planned=True)
    items = page.locator("[data-item-row]")
    before = items.count()
    page.get_by_role("button", name="Add a technique").click()
    expect(items).to_have_count(before + 1)  # htmx swapped the form in with the new row
    last = items.last
    last.locator("select[name$='-technique']").select_option("effleurage")
    last.locator("select[name$='-region']").select_option("calf")
    last.locator("select[name$='-side']").select_option("right")
    last.locator("select[name$='-pressure']").select_option("light")
    last.locator("input[name$='-minutes']").fill("4")
    page.get_by_label("Functional goal").last.fill("Garden for an hour with pain 2/10 or less")
    page.get_by_role("button", name="Save draft").click()
    refused = page.locator("[data-item-row]").last
    expect(refused).to_contain_text("cannot be overridden")
    assert refused.locator("[name$='override_reason']").count() == 0, "no override offered on the wound"
    refused.get_by_role("button", name=re.compile("Remove")).click()
    expect(page.locator("[data-item-row]").filter(has_text="cannot be overridden")).to_have_count(0)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))
    assert_chart(page, "plan-chart", planned=True)
    screenshot("safety-2-plan")
    pdf = get_pdf(page, f"{page.url}plan.pdf")
    kinds = pdf_patterns(pdf)
    assert kinds["hatch"] and kinds["dots"] and kinds["stripes"], kinds

    # --- a visit under the plan -------------------------------------------------------------------
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("button", name="Start visit").first.click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    page.locator("details.chart summary").first.click()
    assert_chart(page, "visit-chart", planned=True)
    # A row on the wound: refused by the live screen, with no override control.
    rows = page.locator("tbody.treatment-row")
    before = rows.count()
    page.get_by_role("button", name="Add a treatment row").click()
    expect(rows).to_have_count(before + 1)
    new_row = rows.last
    new_row.locator("select[name$='-technique']").select_option("effleurage")
    new_row.locator("select[name$='-region']").select_option("calf")
    new_row.locator("select[name$='-side']").select_option("right")
    new_row.locator("select[name$='-pressure']").select_option("light")
    new_row.locator("input[name$='-minutes']").fill("4")
    new_row.locator("input[name$='-minutes']").press("Tab")
    expect(new_row.locator(".row-safety")).to_contain_text("cannot be overridden")
    assert new_row.get_by_text("Override this restriction").count() == 0
    new_row.get_by_label(re.compile("Remove")).check()
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    screenshot("safety-3-visit")
    kinds = pdf_patterns(get_pdf(page, f"{page.url}note.pdf"))
    assert kinds["hatch"] and kinds["dots"] and kinds["stripes"], kinds


def test_b_a_plan_override_is_signed_once_and_the_visit_under_it_signs_without_retyping(
        live_db, live_server, page, request):
    from palpate.visits.models import Visit

    world = request.getfixturevalue("world")
    base, patient, episode = live_server.url, world.harbor_patient, world.harbor_episode
    screened_evaluation(world, [{"code": "anticoagulant_therapy"}])
    sign_in(page, base)
    page.goto(f"{base}/patients/{patient.pk}/plans/episodes/{episode.pk}/new/")
    page.get_by_role("button", name="Start draft plan with these suggestions").click()
    page.wait_for_url(re.compile(r"/plans/\d+/edit/$"))
    first = page.locator("[data-item-row]").first
    first.locator("select[name$='-pressure']").select_option("moderate")
    page.get_by_label("Functional goal").last.fill("Sit through a 2-hour drive with pain 2/10 or less")
    page.get_by_label("Term").last.select_option("long")
    page.get_by_role("button", name="Save and review for signing").click()
    first = page.locator("[data-item-row]").first
    expect(first).to_contain_text("at least 10 characters")
    reason = first.get_by_label(re.compile("Reason for overriding this precaution"))
    assert first.get_by_label(re.compile("reason", re.I)).count() == 1, "one reason box"
    reason.fill(REASON)
    page.get_by_role("button", name="Save and review for signing").click()
    page.wait_for_url(re.compile(r"/plans/\d+/sign/$"))
    page.get_by_role("button", name="Sign plan of care").click()
    page.wait_for_url(re.compile(r"/plans/\d+/$"))

    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("button", name="Start visit").first.click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    expect(page.get_by_text(re.compile(r"Override from the plan of care, signed by Alice on \d{4}-\d\d-\d\d, "
                                       + re.escape(f"reason {REASON}")))).to_have_count(1)
    page.get_by_label("Assessment", exact=True).fill("Tolerated the planned dose.")
    page.get_by_label("Plan", exact=True).fill("Continue the plan of care.")
    table = page.get_by_role("table", name="Complementary therapies delivered")
    for n in range(1, table.get_by_label(re.compile(r"Minutes, complementary therapy row \d+")).count() + 1):
        if table.get_by_label(f"Therapy, complementary therapy row {n}", exact=True).input_value():
            table.get_by_label(f"Minutes, complementary therapy row {n}", exact=True).fill("10")  # else not billed
    page.get_by_role("button", name="Save and sign").click()
    expect(page.get_by_text("Saved and signed.")).to_be_visible()
    visit = Visit.objects.get()
    assert visit.is_signed and visit.overrides[0]["from_plan"] and visit.overrides[0]["reason"] == REASON


def test_c_soreness_of_8_changes_the_carried_forward_rows_with_their_reasons(live_db, live_server, page, request,
                                                                            screenshot):
    import datetime as dt

    from django.utils import timezone

    from tests.web.test_visits import signed_visit

    world = request.getfixturevalue("world")
    base, patient = live_server.url, world.harbor_patient
    signed_visit(world, rows=[("friction", "lower_back", "", "moderate", 6), ("petrissage", "lower_back", "", "moderate", 8),
                              ("trigger_point", "upper_back", "", "moderate", 5)],
                 day=timezone.localdate() - dt.timedelta(days=3))
    sign_in(page, base)
    page.goto(f"{base}/patients/{patient.pk}/")
    page.get_by_role("button", name="Start visit").first.click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    rows = page.locator("tbody.treatment-row")
    expect(rows).to_have_count(3 + 3)  # the three carried rows and three blank ones
    page.get_by_label("Soreness after the last visit (0-10)").fill("8")
    page.get_by_label("Soreness after the last visit (0-10)").press("Tab")
    expect(page.locator("#response-preview")).to_contain_text("On saving, the last session's response changes")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    expect(page.get_by_role("alert").filter(has_text="Adverse-event check")).to_be_visible()
    techniques = [rows.nth(i).locator("select[name$='-technique']").input_value() for i in range(rows.count())]
    assert "friction" not in techniques and "trigger_point" not in techniques
    petrissage = page.locator("tbody.treatment-row", has=page.locator("option[value=petrissage][selected]"))
    assert petrissage.locator("select[name$='-pressure']").input_value() == "light"
    expect(petrissage).to_contain_text("Pressure lowered: pressure one level lower (moderate to light) after "
                                       "soreness 8/10")
    changes = page.locator(".response-change.removed")
    expect(changes).to_have_count(2)
    expect(changes.first).to_contain_text("withheld after severe soreness (8/10)")
    screenshot("safety-4-soreness")
