"""The evaluation page: recording, the safety screen on the body chart, validation by the core,
optimistic locking and signing."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from palpate.audit.models import AuditEvent
from palpate.evaluations.models import Evaluation, Referral

ROW_PREFIXES = ("rom", "pain", "palp", "find")


def form_data(version: int | None = None, **fields: object) -> dict[str, object]:
    """A POST for the evaluation page: the main fields plus the four tables' management forms.

    Row fields are given as ``find_0_code="open_wound"`` (prefix, index, field)."""
    data: dict[str, object] = {"performed_on": "2026-11-02", "chief_complaint": "Elbow pain when gripping"}
    rows: dict[str, int] = dict.fromkeys(ROW_PREFIXES, 0)
    for key, value in fields.items():
        match = re.fullmatch(r"(rom|pain|palp|find)_(\d+)_(\w+)", key)
        if match:
            prefix, index, name = match.groups()
            data[f"{prefix}-{index}-{name}"] = value
            rows[prefix] = max(rows[prefix], int(index) + 1)
        else:
            data[key] = value
    for prefix, count in rows.items():
        data.setdefault(f"{prefix}-TOTAL_FORMS", max(count, 1))
        data.setdefault(f"{prefix}-INITIAL_FORMS", 0)
    if version is not None:
        data["version"] = version
    return data


@pytest.fixture
def elbow_episode(world):  # noqa: ANN001, ANN201
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.patients import services
    from palpate.patients.models import Episode

    actor = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    return services.do_create_episode(actor, world.harbor_patient, Episode(
        condition="tendinopathy", body_region="elbow", side="left", diagnosis="Lateral epicondylitis, left elbow",
        icd10_code="M77.12", onset_date=dt.date(2026, 9, 7), payer="commercial", referral_source="Dr Jane Okafor"))


def new_url(world, episode) -> str:  # noqa: ANN001
    return f"/patients/{world.harbor_patient.pk}/evaluations/episode/{episode.pk}/new/"


def screen_chart_svg(body: str) -> str:
    """The screen result's body chart (not the pain chart) from a page."""
    match = re.search(r'<svg id="screen-chart".*?</svg>', body, re.S)
    assert match, "the page has no screen-result body chart"
    return match.group(0)


def region_class(svg: str, region: str, side: str) -> str:
    match = re.search(rf'<g class="([^"]*)" data-region="{region}" data-side="{side}"', svg)
    assert match, f"no {side} {region} on the chart"
    return match.group(1)


def create(client, world, episode, **fields) -> Evaluation:  # noqa: ANN001
    response = client.post(new_url(world, episode), form_data(**fields))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Evaluation.objects.latest("id")


# --- recording and the screen --------------------------------------------------------------------


def test_a_local_contraindication_restricts_only_that_side_on_the_chart(world, as_user, elbow_episode):
    client = as_user(world.alice)
    evaluation = create(client, world, elbow_episode, find_0_code="open_wound", find_0_region="forearm",
                        find_0_side="right", pain_nprs=5, pain_0_region="elbow", pain_0_side="left",
                        pain_0_intensity=6, pain_0_quality="aching")

    assert evaluation.findings == [{"code": "open_wound", "region": "forearm", "side": "right"}]
    screen = evaluation.screen_result
    assert screen["session"] in ("proceed", "modify")
    assert [(r["region"], r["side"], r["max_pressure"]) for r in screen["restrictions"]] == [
        ("forearm", "right", "none")]
    # The wound on the right never blocks the left forearm, where this tendinopathy's muscle work goes.
    assert any(item["region"] == "forearm" and item["side"] == "left" for item in screen["plan"])

    body = client.get(f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/").content.decode()
    svg = screen_chart_svg(body)
    assert "forbidden" in region_class(svg, "forearm", "right")
    assert "forbidden" not in region_class(svg, "forearm", "left")
    assert "capped" not in region_class(svg, "forearm", "left")
    # In words as well as on the chart, with a legend: never colour alone.
    assert "Right forearm" in body and "Not to be treated" in body and "Open or healing wound" in body
    assert "Not to be treated (cross-hatched, solid outline)" in body
    assert "Session: " in body


def test_fever_holds_the_session_and_raises_an_audited_referral(world, as_user):
    client = as_user(world.alice)
    evaluation = create(client, world, world.harbor_episode, temperature_c="38.6")

    assert evaluation.vitals == {"temperature_c": 38.6}
    assert evaluation.screen_result["session"] == "hold"
    referrals = Referral.objects.filter(evaluation=evaluation)
    reasons = {r.reason: r for r in referrals}
    assert "fever_or_infection" in reasons
    fever = reasons["fever_or_infection"]
    assert fever.status == "open" and fever.raised_by == world.alice and fever.because == ["fever"]
    assert fever.episode == world.harbor_episode and fever.clinic == world.harbor
    events = AuditEvent.objects.filter(action="referral.create", object_id=str(fever.pk))
    assert events.count() == 1 and events.get().patient_id == world.harbor_patient.pk

    body = client.get(f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/").content.decode()
    assert "Session: Hold" in body
    assert "Fever or infection" in body


def test_re_saving_does_not_duplicate_an_open_referral(world, as_user):
    client = as_user(world.alice)
    evaluation = create(client, world, world.harbor_episode, temperature_c="38.6")
    count = Referral.objects.filter(episode=world.harbor_episode).count()
    url = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/edit/"
    response = client.post(url, form_data(version=evaluation.version, temperature_c="38.9"))
    assert response.status_code == 302
    assert Referral.objects.filter(episode=world.harbor_episode).count() == count
    # A second evaluation of the same episode does not duplicate an open referral either.
    create(client, world, world.harbor_episode, temperature_c="38.2")
    assert Referral.objects.filter(episode=world.harbor_episode, reason="fever_or_infection").count() == 1


def test_a_cleared_referral_is_not_raised_again_by_re_saving_the_same_evaluation(world, as_user):
    client = as_user(world.alice)
    evaluation = create(client, world, world.harbor_episode, temperature_c="38.6")
    Referral.objects.filter(evaluation=evaluation).update(status="cleared")
    url = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/edit/"
    assert client.post(url, form_data(version=evaluation.version, temperature_c="38.6",
                                      history="Seen by GP")).status_code == 302
    assert not Referral.objects.filter(evaluation=evaluation, status="open").exists()


def test_a_positive_ottawa_ankle_rule_blocks_that_ankle_and_foot_and_refers(world, as_user):
    evaluation = create(as_user(world.alice), world, world.harbor_episode, ottawa_ankle_done="on",
                        ottawa_ankle_side="left", ottawa_ankle_malleolar_zone_pain="on",
                        ottawa_ankle_lateral_malleolus_tenderness="on")
    assert evaluation.screens["ottawa_ankle"] == {
        "side": "left", "malleolar_zone_pain": True, "lateral_malleolus_tenderness": True,
        "medial_malleolus_tenderness": False, "unable_to_bear_weight": False}
    blocked = {(r["region"], r["side"]) for r in evaluation.screen_result["restrictions"] if r["max_pressure"] == "none"}
    assert {("ankle", "left"), ("foot", "left")} <= blocked
    assert ("ankle", "right") not in blocked
    assert Referral.objects.filter(evaluation=evaluation, reason="suspected_fracture", urgency="same_day").exists()


def test_the_whole_record_is_stored_in_the_contracts_shapes(world, as_user, elbow_episode):
    evaluation = create(
        as_user(world.alice), world, elbow_episode, history="Six weeks of pain", patient_goals="Carry shopping",
        posture_findings=["forward_head", "rounded_shoulders"], posture_notes="Slumped sitting",
        rom_0_movement="shoulder:flexion", rom_0_side="left", rom_0_degrees="90",
        rom_1_movement="knee:extension", rom_1_side="right", rom_1_degrees="0",
        palp_0_region="forearm", palp_0_side="left", palp_0_tone="increased", palp_0_tender="on",
        palp_0_trigger_points="2", irritability="moderate", whole_body_findings=["anticoagulant_therapy"],
        find_0_code="surgical_incision", find_0_region="knee", find_0_side="right", find_0_days_ago="9",
        find_0_closed="no", bp_systolic="128", bp_diastolic="82", wells_version="2003", wells_side="right",
        wells_items=["pitting_oedema"],
    )
    assert evaluation.posture_findings == ["forward_head", "rounded_shoulders"]
    assert evaluation.rom == [
        {"joint": "shoulder", "motion": "flexion", "side": "left", "degrees": 90, "percent_of_normal": 50.0,
         "reference": "va"},
        {"joint": "knee", "motion": "extension", "side": "right", "degrees": 0, "percent_of_normal": None,
         "reference": "va"},
    ]
    assert evaluation.palpation == [{"region": "forearm", "side": "left", "tone": "increased", "tender": True,
                                     "trigger_points": 2}]
    assert evaluation.findings == [
        {"code": "anticoagulant_therapy"},
        {"code": "surgical_incision", "region": "knee", "side": "right", "days_ago": 9, "closed": False},
    ]
    assert evaluation.vitals == {"bp_systolic": 128, "bp_diastolic": 82}
    assert evaluation.screens == {"wells": {"version": "2003", "side": "right", "items": ["pitting_oedema"]}}
    assert evaluation.irritability == "moderate"
    assert evaluation.screen_result["conditions"][0]["irritability"] == "moderate"


def test_the_edit_page_shows_what_was_stored(world, as_user, elbow_episode):
    client = as_user(world.alice)
    evaluation = create(client, world, elbow_episode, find_0_code="open_wound", find_0_region="forearm",
                        find_0_side="right", rom_0_movement="shoulder:flexion", rom_0_side="left", rom_0_degrees="90",
                        pain_0_region="elbow", pain_0_side="left", pain_0_intensity="6", temperature_c="36.9")
    body = client.get(f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/edit/").content.decode()
    assert re.search(r'<option value="open_wound" selected>', body)
    assert re.search(r'<option value="shoulder:flexion" selected>', body)
    assert "50% of normal" in body
    assert 'value="36.9"' in body
    assert f'name="version" value="{evaluation.version}"' in body
    assert 'data-region="elbow" data-side="left"' in body  # the pain chart marks the stored pain


# --- bad input ---------------------------------------------------------------------------------


def test_an_impossible_temperature_is_refused_at_its_field_and_nothing_is_saved(world, as_user):
    client = as_user(world.alice)
    response = client.post(new_url(world, world.harbor_episode),
                           form_data(temperature_c="80", history="Typed history", posture_notes="Typed posture"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "body temperature 80 °C is not possible: enter a value from 30 to 45 °C" in body
    assert 'href="#id_temperature_c"' in body  # the error summary links to the field
    assert 'name="temperature_c" value="80"' in body
    assert "Typed history" in body and "Typed posture" in body
    assert not Evaluation.objects.exists()
    assert not Referral.objects.exclude(pk__in=[]).exists()


def test_a_local_finding_on_a_paired_region_without_a_side_is_refused_at_its_row(world, as_user):
    response = as_user(world.alice).post(new_url(world, world.harbor_episode), form_data(
        find_0_code="open_wound", find_0_region="forearm", bp_systolic="130", bp_diastolic="85"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Forearm is paired: choose left or right." in body
    # The error's id is the one Django's aria-describedby on the select points at.
    assert 'id="id_find-0-side_error"' in body and 'aria-describedby="id_find-0-side_error"' in body
    assert re.search(r'<option value="open_wound" selected>', body)
    assert re.search(r'<option value="forearm" selected>', body)
    assert 'value="130"' in body
    assert not Evaluation.objects.exists()


def test_a_pain_row_on_a_paired_region_needs_its_side(world, as_user):
    response = as_user(world.alice).post(new_url(world, world.harbor_episode), form_data(
        pain_0_region="knee", pain_0_intensity="4"))
    assert response.status_code == 200
    assert "Knee is paired: choose left or right." in response.content.decode()
    assert not Evaluation.objects.exists()


def test_wells_1997_refuses_an_item_that_only_the_2003_version_has(world, as_user):
    response = as_user(world.alice).post(new_url(world, world.harbor_episode), form_data(
        wells_version="1997", wells_side="left", wells_items=["previous_dvt"]))
    body = response.content.decode()
    assert "previous_dvt is not an item of Wells 1997" in body
    assert 'id="id_wells_items-errors"' in body
    assert not Evaluation.objects.exists()


def test_days_ago_is_only_for_a_fracture_or_an_incision(world, as_user):
    response = as_user(world.alice).post(new_url(world, world.harbor_episode), form_data(
        find_0_code="burn", find_0_region="hand", find_0_side="left", find_0_days_ago="3"))
    assert "Days ago applies only to a recent fracture or a surgical incision" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_a_blank_row_is_no_row_and_remove_drops_a_row(world, as_user):
    evaluation = create(as_user(world.alice), world, world.harbor_episode,
                        pain_0_region="lower_back", pain_0_intensity="5",
                        pain_1_region="neck", pain_1_intensity="3", pain_1_DELETE="on",
                        pain_2_region="", pain_2_intensity="")
    assert evaluation.pain_map == [{"region": "lower_back", "intensity": 5}]


# --- htmx helpers and the no-JavaScript fallbacks -------------------------------------------------


def test_check_safety_screens_unsaved_input_and_saves_nothing(world, as_user):
    client = as_user(world.alice)
    url = f"/patients/{world.harbor_patient.pk}/evaluations/episode/{world.harbor_episode.pk}/check/"
    response = client.post(url, form_data(temperature_c="38.6"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Session: Hold" in body and "Fever or infection" in body
    assert 'id="complexity-result" hx-swap-oob="true"' in body
    assert not Evaluation.objects.exists() and not Referral.objects.exists()

    response = client.post(url, form_data(temperature_c="80"), HTTP_HX_REQUEST="true")
    assert "body temperature 80 °C is not possible" in response.content.decode()


def test_check_safety_without_javascript_re_renders_the_page_with_the_screen(world, as_user):
    response = as_user(world.alice).post(new_url(world, world.harbor_episode),
                                         form_data(temperature_c="38.6", check="1", history="Keep me"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Session: Hold" in body and "Keep me" in body and "Nothing is saved until" in body
    assert not Evaluation.objects.exists()


def test_add_a_row_without_javascript_keeps_input_and_adds_a_blank_row(world, as_user):
    response = as_user(world.alice).post(new_url(world, world.harbor_episode), form_data(
        add_row="pain", pain_0_region="lower_back", pain_0_intensity="5", history="Keep me"))
    body = response.content.decode()
    assert 'name="pain-TOTAL_FORMS" value="2"' in body
    assert 'id="id_pain-1-region"' in body
    assert "Keep me" in body
    assert not Evaluation.objects.exists()


def test_the_row_partial_adds_a_numbered_row_prefilled_from_the_body_chart(world, as_user):
    url = f"/patients/{world.harbor_patient.pk}/evaluations/rows/pain/"
    body = as_user(world.alice).get(url, {"pain-TOTAL_FORMS": "3", "region": "forearm", "side": "right"}).content.decode()
    assert 'name="pain-3-region"' in body
    assert re.search(r'<option value="forearm" selected>', body)
    assert re.search(r'<option value="right" selected>', body)
    assert 'id="id_pain-TOTAL_FORMS" hx-swap-oob="true"' in body and 'value="4"' in body


def test_a_range_of_motion_row_rechecked_while_typing_shows_the_cores_percentage(world, as_user):
    url = f"/patients/{world.harbor_patient.pk}/evaluations/rows/rom/"
    client = as_user(world.alice)
    body = client.get(url, {"index": "1", "rom-1-movement": "elbow:flexion", "rom-1-side": "left",
                            "rom-1-degrees": "116"}).content.decode()
    assert "80% of normal" in body
    assert "hx-swap-oob" not in body
    body = client.get(url, {"index": "0", "rom-0-movement": "elbow:flexion", "rom-0-degrees": "400"}).content.decode()
    assert "Elbow is paired: choose left or right." in body
    assert "degrees" in body and "360" in body
    # Choosing the movement before typing the degrees is not an error yet.
    assert client.get(url, {"index": "0", "rom-0-movement": "elbow:flexion"}).status_code == 204


def test_the_live_complexity_suggestion_explains_itself(world, as_user):
    url = f"/patients/{world.harbor_patient.pk}/evaluations/episode/{world.harbor_episode.pk}/check/?part=complexity"
    body = as_user(world.alice).post(url, {
        "complexity_history": "1", "complexity_examination": "4", "complexity_presentation": "evolving",
        "complexity_decision": "high"}).content.decode()
    assert "Suggested code: 97162" in body
    assert "decides the level" in body and "Theraplatform" in body


def test_the_complexity_suggestion_is_stored_and_shown_with_why(world, as_user):
    client = as_user(world.alice)
    evaluation = create(client, world, world.harbor_episode, complexity_history="3", complexity_examination="4",
                        complexity_presentation="unstable", complexity_decision="moderate")
    assert evaluation.complexity == {"history": 3, "examination": 4, "presentation": "unstable",
                                     "decision": "moderate"}
    assert evaluation.suggested_code == "97162"
    body = client.get(f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/").content.decode()
    assert "Suggested code: 97162" in body
    assert "the lowest (moderate, from decision) decides: 97162" in body


def test_a_partly_answered_complexity_suggests_nothing_yet(world, as_user):
    evaluation = create(as_user(world.alice), world, world.harbor_episode, complexity_history="1")
    assert evaluation.complexity == {"history": 1}
    assert evaluation.suggested_code == ""


# --- locking, signing and audit ------------------------------------------------------------------


def test_a_stale_save_is_refused_with_a_message_and_keeps_what_was_typed(world, as_user, client):
    alice = as_user(world.alice)
    evaluation = create(alice, world, world.harbor_episode, history="First draft")
    url = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/edit/"
    opened_at = evaluation.version

    from django.test import Client

    dana = Client()
    dana.force_login(world.dana)
    assert dana.post(url, form_data(version=opened_at, history="Dana's addition")).status_code == 302

    response = alice.post(url, form_data(version=opened_at, history="Alice's careful history"))
    assert response.status_code == 409
    body = response.content.decode()
    assert "dana saved this evaluation" in body
    assert "Alice&#x27;s careful history" in body
    assert "Their saved version differs from yours in: history." in body
    evaluation.refresh_from_db()
    assert evaluation.history == "Dana's addition"
    assert f'name="version" value="{evaluation.version}"' in body

    # Having seen the message, saving again keeps Alice's version (Dana's stays in the audit trail).
    assert alice.post(url, form_data(version=evaluation.version, history="Alice's careful history")).status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.history == "Alice's careful history"
    update = AuditEvent.objects.filter(action="evaluation.update", object_id=str(evaluation.pk)).order_by("seq").last()
    assert update.old["history"] == "Dana's addition" and update.new["history"] == "Alice's careful history"


def test_signing_locks_the_evaluation_and_editing_it_is_403(world, as_user):
    client = as_user(world.alice)
    evaluation = create(client, world, world.harbor_episode, temperature_c="36.8")
    base = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}"
    assert client.get(f"{base}/sign/").status_code == 200
    response = client.post(f"{base}/sign/", {"version": evaluation.version})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.is_signed and evaluation.signed_by == world.alice and evaluation.signed_at
    assert AuditEvent.objects.filter(action="evaluation.sign", object_id=str(evaluation.pk)).exists()

    assert client.get(f"{base}/edit/").status_code == 403
    response = client.post(f"{base}/edit/", form_data(version=evaluation.version, history="Too late"))
    assert response.status_code == 403
    assert "Too late" in response.content.decode()  # given back to copy, not saved
    evaluation.refresh_from_db()
    assert evaluation.history == ""
    assert client.post(f"{base}/sign/", {"version": evaluation.version}).status_code == 403


def test_an_assistant_neither_reviews_for_signing_nor_signs(world, as_user):
    evaluation = create(as_user(world.alice), world, world.harbor_episode)
    base = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}"
    bob = as_user(world.bob)
    assert bob.get(f"{base}/sign/").status_code == 403
    assert bob.post(f"{base}/sign/", {"version": evaluation.version}).status_code == 403
    evaluation.refresh_from_db()
    assert not evaluation.is_signed


def test_signing_needs_a_chief_complaint_and_a_current_version(world, as_user):
    client = as_user(world.alice)
    evaluation = create(client, world, world.harbor_episode, chief_complaint="")
    base = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}"
    response = client.post(f"{base}/sign/", {"version": evaluation.version})
    assert response.status_code == 400 and "Add the chief complaint before signing" in response.content.decode()
    Evaluation.objects.filter(pk=evaluation.pk).update(chief_complaint="Back pain")
    response = client.post(f"{base}/sign/", {"version": evaluation.version - 1})
    assert response.status_code == 409
    evaluation.refresh_from_db()
    assert not evaluation.is_signed


def test_creating_editing_and_viewing_are_audited(world, as_user):
    client = as_user(world.alice)
    evaluation = create(client, world, world.harbor_episode, history="First")
    created = AuditEvent.objects.get(action="evaluation.create", object_id=str(evaluation.pk))
    assert created.new["history"] == "First" and created.patient_id == world.harbor_patient.pk
    url = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/"
    client.post(f"{url}edit/", form_data(version=evaluation.version, history="Second"))
    updated = AuditEvent.objects.get(action="evaluation.update", object_id=str(evaluation.pk))
    assert updated.old == {"history": "First"} or updated.old["history"] == "First"
    assert updated.new["history"] == "Second"
    client.get(url)
    assert AuditEvent.objects.filter(action="evaluation.view", object_id=str(evaluation.pk)).count() == 1


def test_another_clinics_evaluation_is_a_404_even_with_the_right_patient_id(world, as_user):
    evaluation = create(as_user(world.alice), world, world.harbor_episode)
    client = as_user(world.charlie)
    summit = world.summit_patient.pk
    assert client.get(f"/patients/{summit}/evaluations/{evaluation.pk}/").status_code == 404
    assert client.get(f"/patients/{summit}/evaluations/{evaluation.pk}/edit/").status_code == 404


def test_front_desk_cannot_open_an_evaluation(world, as_user):
    evaluation = create(as_user(world.alice), world, world.harbor_episode)
    client = as_user(world.fran)
    assert client.get(f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/").status_code == 403
    assert client.get(new_url(world, world.harbor_episode)).status_code == 403


def test_the_screen_runs_in_the_service_once_and_a_refused_fact_saves_nothing(world):
    """check_evaluation completes and screens the typed evaluation; do_save_evaluation writes it."""
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.evaluations import services

    actor = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    patient, episode = world.harbor_patient, world.harbor_episode
    refused = services.check_evaluation(actor, patient, episode, services.EvaluationInput(
        performed_on=dt.date(2026, 11, 2), vitals={"temperature_c": 80}))
    assert refused.screen is None and refused.error is not None and refused.error.path.startswith("vitals")
    with pytest.raises(ValueError):
        services.do_save_evaluation(actor, patient, episode, refused)
    assert not Evaluation.objects.exists()

    checked = services.check_evaluation(actor, patient, episode, services.EvaluationInput(
        performed_on=dt.date(2026, 11, 2), chief_complaint="Low back pain",
        rom=[{"joint": "knee", "motion": "flexion", "side": "left", "degrees": 120}],
        complexity={"history": 0, "examination": 1, "presentation": "stable", "decision": "low"}))
    assert checked.ok and checked.screen["session"] in ("proceed", "modify")
    assert checked.fields["rom"][0]["percent_of_normal"] is not None and checked.fields["suggested_code"] == "97161"
    saved = services.do_save_evaluation(actor, patient, episode, checked)
    assert saved.screen_result == checked.screen and saved.suggested_code == "97161"
