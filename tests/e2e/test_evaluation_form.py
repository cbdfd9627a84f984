"""The evaluation page in a real browser: the pain body chart fills rows by click and by keyboard,
"Add a row" and "Check safety" work through htmx under the site's CSP, and saving shows the screen."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.web.test_evaluations import elbow_episode  # noqa: F401  (pytest fixture)

pytestmark = pytest.mark.e2e


def test_the_pain_chart_fills_rows_and_check_safety_draws_the_restriction(live_db, live_server, page, request):  # noqa: F811
    world = request.getfixturevalue("world")
    episode = request.getfixturevalue("elbow_episode")
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/patients/{world.harbor_patient.pk}/evaluations/episode/{episode.pk}/new/")
    page.get_by_label("Chief complaint").fill("Pain at the outer elbow when gripping")

    # A click on the chart fills the first blank pain row and puts the cursor on its intensity.
    page.locator('#pain-chart g[data-region="elbow"][data-side="left"]').first.click()
    assert page.locator("#id_pain-0-region").input_value() == "elbow"
    assert page.locator("#id_pain-0-side").input_value() == "left"
    page.keyboard.type("6")
    assert page.locator("#id_pain-0-intensity").input_value() == "6"

    # The keyboard does the same: Tab to a region, press Enter.
    page.locator('#pain-chart g[data-region="forearm"][data-side="left"]').first.focus()
    page.keyboard.press("Enter")
    assert page.locator("#id_pain-1-region").input_value() == "forearm"
    page.keyboard.type("4")
    # Selecting a region that already has a row goes back to it instead of adding another.
    page.locator('#pain-chart g[data-region="elbow"][data-side="left"]').first.click()
    assert page.evaluate("document.activeElement.id") == "id_pain-0-intensity"

    # When the blank rows run out, a new row comes from the server, pre-filled.
    page.locator('#pain-chart g[data-region="wrist"][data-side="left"]').first.click()
    page.keyboard.type("3")
    page.locator('#pain-chart g[data-region="upper_arm"][data-side="left"]').first.click()
    page.wait_for_selector("#id_pain-3-region")
    assert page.locator("#id_pain-3-region").input_value() == "upper_arm"
    assert page.locator("#id_pain-TOTAL_FORMS").input_value() == "4"
    page.keyboard.type("2")

    # A local finding, then "Check safety" on the unsaved form.
    page.locator("#id_find-0-code").select_option("open_wound")
    page.locator("#id_find-0-region").select_option("forearm")
    page.locator("#id_find-0-side").select_option("right")
    page.get_by_role("button", name="Check safety").click()
    page.wait_for_selector("#screen-result #screen-chart")
    assert "Right forearm" in page.locator("#screen-result").inner_text()
    cls = page.locator('#screen-chart g[data-region="forearm"][data-side="right"]').first.get_attribute("class")
    assert "forbidden" in cls
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "evaluation-form.png"), full_page=True)
    page.set_viewport_size({"width": 768, "height": 1024})  # tablet portrait
    page.screenshot(path=str(ARTIFACTS / "evaluation-form-portrait.png"), full_page=True)
    page.set_viewport_size({"width": 1024, "height": 768})

    # Range of motion: the core's percentage appears as the row is completed.
    page.locator("#id_rom-0-movement").select_option("elbow:flexion")
    page.locator("#id_rom-0-side").select_option("left")
    page.locator("#id_rom-0-degrees").fill("116")
    page.locator("#id_rom-0-degrees").press("Tab")
    page.wait_for_selector("#rom-row-0 >> text=80% of normal")

    # Add a row (htmx) focuses the new row's first field.
    page.get_by_role("button", name="Add a palpation row").click()
    page.wait_for_selector("#id_palp-2-region")
    assert page.evaluate("document.activeElement.id") == "id_palp-2-region"

    page.get_by_role("button", name="Save draft").last.click()
    page.wait_for_url(re.compile(r"/evaluations/\d+/$"))
    assert page.get_by_text("Evaluation saved as a draft").is_visible()
    page.set_viewport_size({"width": 768, "height": 1024})  # tablet portrait
    page.screenshot(path=str(ARTIFACTS / "evaluation-detail.png"), full_page=True)
    assert not [e for e in page.console_errors if "Content Security Policy" in e]  # type: ignore[attr-defined]

    from palpate.evaluations.models import Evaluation

    saved = Evaluation.objects.get()
    assert [(p["region"], p["side"], p["intensity"]) for p in saved.pain_map] == [
        ("elbow", "left", 6), ("forearm", "left", 4), ("wrist", "left", 3), ("upper_arm", "left", 2)]
    assert saved.rom[0]["percent_of_normal"] == 80.0
