"""Leaving a form with unsaved text asks first: typed into the visit note, a link in the app and a
reload both ask; answering "stay" keeps the text; saving clears the question."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import sign_in
from tests.personas import clinical_world  # noqa: F401  (a fixture)

pytestmark = pytest.mark.e2e


def test_typing_in_the_visit_note_then_leaving_asks_first(live_server, live_db, clinical_world, page):  # noqa: F811
    cw = clinical_world
    base = live_server.url
    sign_in(page, base, "alice", "correct horse battery")
    note = f"{base}/patients/{cw.world.harbor_patient.pk}/visits/{cw.visit.pk}/"
    page.goto(note)
    dialogs: list[str] = []

    def stay(dialog) -> None:  # noqa: ANN001
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_label("Subjective: what the patient reports").fill("Slept through the night for the first time.")
    crumb = page.get_by_role("link", name=cw.world.harbor_patient.full_name).first
    crumb.click()
    assert dialogs == ["confirm"]
    assert page.url == note  # "stay": still on the note, the text still there
    assert page.get_by_label("Subjective: what the patient reports").input_value() == (
        "Slept through the night for the first time.")

    # A reload asks too (beforeunload); dismissing it keeps the same document, text and all.
    page.evaluate("() => { window.stillHere = true; }")
    with page.expect_event("dialog") as before_unload:
        page.evaluate("() => { setTimeout(() => location.reload(), 0); }")
    assert before_unload.value.type == "beforeunload"
    assert page.evaluate("() => window.stillHere") is True
    assert page.get_by_label("Subjective: what the patient reports").input_value() == (
        "Slept through the night for the first time.")

    # Saving clears the question: the next link leaves at once.
    page.remove_listener("dialog", stay)
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    page.on("dialog", lambda dialog: pytest.fail(f"asked after saving: {dialog.type}"))
    page.get_by_role("link", name=cw.world.harbor_patient.full_name).first.click()
    page.wait_for_url(re.compile(rf"/patients/{cw.world.harbor_patient.pk}/$"))
