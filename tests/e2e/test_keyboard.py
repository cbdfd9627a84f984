"""A keyboard walk through the long forms, on the demo data (issue 12 item 9).

Tab through the visit note at 1366 px and the evaluation at 390 px: the focused control is never
covered by the sticky save bar (their boxes never intersect). After a failed save focus is on the
error summary; the focus ring has at least 3:1 contrast against the page; rows added with htmx get
names of their own.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS, sign_in

pytestmark = pytest.mark.e2e

MAX_TAB_STOPS = 700  # the evaluation form at 390 px has about 300; a bound, not an expectation

FOCUS_AND_BAR = """() => {
  const el = document.activeElement;
  const bar = document.querySelector('.sticky-actions');
  if (!el || el === document.body) return {tag: 'body'};
  const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
  const inBar = bar.contains(el);
  const visible = r.width > 0 && r.height > 0;
  const intersects = visible && r.left < b.right && r.right > b.left && r.top < b.bottom && r.bottom > b.top;
  // A control taller than the room above the bar cannot be wholly clear of it: then its top must be.
  const fits = r.height < b.top;
  const overlaps = intersects && (fits || r.top >= b.top);
  return {tag: el.tagName.toLowerCase(), name: el.name || el.id || el.textContent.trim().slice(0, 40),
          inBar, overlaps, top: Math.round(r.top), bottom: Math.round(r.bottom), barTop: Math.round(b.top)};
}"""


def _walk_to_the_save_bar(page) -> tuple[int, list[str]]:  # noqa: ANN001
    """Tab from the top of the page until focus reaches the save bar; what the bar covered on the way."""
    page.locator("main").focus()
    covered = []
    for stop in range(1, MAX_TAB_STOPS + 1):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_AND_BAR)
        if focus.get("inBar"):
            return stop, covered
        if focus.get("overlaps"):
            covered.append(f"stop {stop}: {focus['tag']} {focus['name']} at {focus['top']}-{focus['bottom']} "
                           f"under the bar at {focus['barTop']}")
    pytest.fail(f"focus never reached the save bar in {MAX_TAB_STOPS} tab stops")


def _contrast(rgb_a: tuple[float, ...], rgb_b: tuple[float, ...]) -> float:
    def luminance(rgb: tuple[float, ...]) -> float:
        channels = [c / 255 for c in rgb[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted([luminance(rgb_a), luminance(rgb_b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rgb(css: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", css)[:3])


@pytest.fixture
def demo_records(demo_world):  # noqa: ANN001, ANN201
    from tests.e2e.staff_pages import demo_ids

    return demo_ids()


def test_tabbing_through_the_visit_note_at_1366_px_never_hides_the_focus_under_the_save_bar(
        live_server, demo_records, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server.url, "harbor-pt")
    page.goto(f"{live_server.url}/patients/{demo_records.draft_visit_patient}/visits/{demo_records.draft_visit}/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "visit-note-1366.png"), full_page=True)
    # The desktop's width is used: today's safety panel stands beside the treatment rows.
    rows = page.locator("fieldset.treatment").bounding_box()
    panel = page.locator("#live-screen").bounding_box()
    assert panel["x"] >= rows["x"] + rows["width"], f"the safety panel {panel} is not beside the rows {rows}"
    assert panel["y"] < rows["y"] + rows["height"] and rows["y"] < panel["y"] + panel["height"]
    stops, covered = _walk_to_the_save_bar(page)
    assert stops > 30, f"only {stops} tab stops before the save bar: the walk did not go through the note"
    assert not covered, f"the sticky save bar covered the focused control at {len(covered)} stops:\n" + "\n".join(covered)

    # The focus ring: at least 3:1 against the page behind it (WCAG 1.4.11).
    field = page.get_by_label("Subjective: what the patient reports")
    field.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    width = page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert width >= 2, f"the focus outline is {width} px wide"
    assert _contrast(_rgb(outline), _rgb(background)) >= 3, f"focus outline {outline} on {background}"

    # Rows added with htmx are numbered in their names, each its own.
    before = page.locator("#treatment-rows > tbody.treatment-row").count()
    add = page.get_by_role("button", name="Add a treatment row")
    add.click()
    expect_row = page.get_by_label(f"Technique, treatment row {before + 1}", exact=True)
    expect_row.wait_for()
    add.click()
    page.get_by_label(f"Technique, treatment row {before + 2}", exact=True).wait_for()
    assert page.get_by_label(f"Technique, treatment row {before + 1}", exact=True).count() == 1
    context.close()


def test_tabbing_through_the_evaluation_at_390_px_never_hides_the_focus_under_the_save_bar(
        live_server, demo_records, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server.url, "harbor-pt")
    page.goto(f"{live_server.url}/patients/{demo_records.patient}/evaluations/episode/{demo_records.episode}/new/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evaluation-390.png"), full_page=True)
    # One column on a phone: each section under the one before.
    subjective = page.locator("#sec-subjective").bounding_box()
    posture = page.locator("#sec-posture").bounding_box()
    assert posture["y"] >= subjective["y"] + subjective["height"], "the sections stand side by side on a phone"
    stops, covered = _walk_to_the_save_bar(page)
    assert stops > 50, f"only {stops} tab stops before the save bar: the walk did not go through the evaluation"
    assert not covered, f"the sticky save bar covered the focused control at {len(covered)} stops:\n" + "\n".join(covered)
    context.close()


def test_after_a_failed_save_focus_is_on_the_error_summary_which_links_to_the_field(live_server, demo_world, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server.url, "harbor-desk")
    page.goto(f"{live_server.url}/patients/new/")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_role("button", name=re.compile("Save|Add")).first.click()
    page.wait_for_selector("[data-error-summary]")
    focused = page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert focused, "focus was left on the page after the failed save"
    page.locator("[data-error-summary] a[href='#id_given_name']").click()
    assert page.evaluate("document.activeElement.id") == "id_given_name"
    assert page.get_by_label("Last name").input_value() == "Okafor", "what was typed was lost"
    context.close()
