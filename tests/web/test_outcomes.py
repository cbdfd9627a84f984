"""Outcome questionnaires in the browser: forms built from the core, scored by the core, audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palpate.audit.models import AuditEvent
from palpate.outcomes.models import OutcomeMeasurement

# shared/clinical/vectors-public.json ODI-2: 16 of 45 possible points with item 8 unanswered.
ODI_2 = [2, 2, 2, 2, 2, 2, 1, None, 2, 1]


def odi_post(answers: list[int | None], **extra: str) -> dict[str, str]:
    data = {"taken_on": "2026-11-10", "visit": ""}
    data |= {f"item_{n}": "na" if value is None else str(value) for n, value in enumerate(answers, start=1)}
    return data | extra


def record_url(world, instrument: str) -> str:  # noqa: ANN001
    return f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/record/{instrument}/"


def episode_url(world) -> str:  # noqa: ANN001
    return f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/"


def measure(world, instrument: str, taken_on: dt.date, score: float | None, **fields: object) -> OutcomeMeasurement:  # noqa: ANN001
    """A stored measurement as the service would store it (for tests about reading, not scoring)."""
    defaults: dict[str, object] = {"answers": [], "valid": score is not None, "score": score}
    return OutcomeMeasurement.objects.create(
        clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, instrument=instrument,
        taken_on=taken_on, entered_by=world.alice, **(defaults | fields),
    )


def checked_values(body: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" value="([^"]+)"[^>]*checked', body)


def episode_panel(world, user) -> str:  # noqa: ANN001
    """The outcomes panel as the patient chart renders it for ``user`` (the tag on its own, so the
    other apps' panels on that page cannot make these tests about outcomes fail)."""
    from django.template import Context, Template
    from django.test import RequestFactory

    from palpate.clinics.actor import Actor
    from palpate.clinics.context_processors import active_clinic
    from palpate.clinics.models import Membership

    request = RequestFactory().get(f"/patients/{world.harbor_patient.pk}/")
    request.user = user
    request.actor = Actor.of(Membership.objects.get(user=user, clinic=world.harbor))
    context = active_clinic(request) | {"patient": world.harbor_patient, "episode": world.harbor_episode}
    return Template("{% load outcomes_tags %}{% outcome_panel episode %}").render(Context(context))


# --- the form -------------------------------------------------------------------------------------


def test_the_odi_form_shows_one_fieldset_per_item_in_published_order_with_its_scale(world, as_user):
    body = as_user(world.alice).get(record_url(world, "odi")).content.decode()
    legends = re.findall(r"<legend><span class=\"item-number\">(\d+)\.</span> ([^<]+)</legend>", body)
    assert [int(n) for n, _ in legends] == list(range(1, 11))
    assert legends[0][1] == "Pain intensity" and legends[2][1] == "Lifting" and legends[9][1] == "Travelling"
    assert body.count('<fieldset class="item"') == 10
    # Each item: values 0-5 with the core's generic labels, and "Not answered" (the ODI tolerates a gap).
    assert len(re.findall(r'name="item_4" value="\d"', body)) == 6
    assert "no limitation" in body and "complete" in body
    assert 'name="item_4" value="na"' in body and "Not answered" in body
    assert "Load your clinic" not in body, "only owners are offered to load wording"


def test_instruments_that_tolerate_no_gap_offer_no_not_answered_choice(world, as_user):
    client = as_user(world.alice)
    lefs = client.get(record_url(world, "lefs")).content.decode()
    assert lefs.count('<fieldset class="item"') == 20 and 'value="na"' not in lefs
    nprs = client.get(record_url(world, "nprs")).content.decode()
    assert re.findall(r'name="item_1" value="(\d+)"', nprs) == [str(v) for v in range(11)]
    assert 'value="na"' not in nprs and "worst pain imaginable" in nprs


def test_the_bctq_form_shows_its_two_scales_under_their_own_headings(world, as_user):
    body = as_user(world.alice).get(record_url(world, "bctq")).content.decode()
    assert "Symptom Severity Scale</h2>" in body and "Functional Status Scale</h2>" in body
    assert body.count('name="symptom_severity_') and 'name="symptom_severity_11"' in body
    assert 'name="functional_status_8"' in body and 'name="functional_status_9"' not in body


def test_an_unknown_questionnaire_is_a_404(world, as_user):
    assert as_user(world.alice).get(record_url(world, "sf36")).status_code == 404


# --- scoring through the core ----------------------------------------------------------------------


def test_it_scores_an_odi_form_with_the_core_and_shows_the_score_and_band(world, as_user):
    client = as_user(world.alice)
    response = client.post(record_url(world, "odi"), odi_post(ODI_2))
    assert response.status_code == 302 and response["Location"].endswith("#measure-odi")
    m = OutcomeMeasurement.objects.get(instrument="odi")
    assert m.valid and m.score == pytest.approx(35.5556, abs=1e-4)  # 16/45, unrounded as the core returns it
    assert m.answers == ODI_2 and m.clinic == world.harbor and m.entered_by == world.alice
    page = client.get(response["Location"]).content.decode()
    # 16/45 = 35.56 %, reported as the ODI reports it: a whole percentage (instruments.yaml ``reported``).
    assert "ODI recorded: 36 (moderate disability)." in page
    assert "<strong>36</strong>" in page and "moderate disability" in page and "35.56" not in page


def test_recording_a_measure_writes_an_audit_event_with_the_score(world, as_user):
    as_user(world.bob).post(record_url(world, "odi"), odi_post(ODI_2))
    m = OutcomeMeasurement.objects.get(instrument="odi")
    event = AuditEvent.objects.get(action="outcomes.record")
    assert event.actor == world.bob and event.patient_id == world.harbor_patient.pk
    assert event.object_id == str(m.pk) and event.new["score"] == pytest.approx(35.5556, abs=1e-4)
    assert event.new["answers"] == ODI_2


def test_a_bctq_form_stores_both_scale_scores(world, as_user):
    data = {"taken_on": "2026-11-10"}
    data |= {f"symptom_severity_{n}": "3" for n in range(1, 12)}
    data |= {f"functional_status_{n}": "2" for n in range(1, 9)}
    response = as_user(world.alice).post(record_url(world, "bctq"), data)
    assert response.status_code == 302 and response["Location"].endswith("#measure-bctq-symptom_severity")
    m = OutcomeMeasurement.objects.get(instrument="bctq")
    assert m.scores == {"symptom_severity": 3.0, "functional_status": 2.0} and m.score is None and m.valid
    assert m.answers == {"symptom_severity": [3] * 11, "functional_status": [2] * 8}


def test_a_psfs_form_stores_the_named_activities_with_their_ratings(world, as_user):
    data = {"taken_on": "2026-11-10", "activity_1": "Lifting my grandchild", "rating_1": "3",
            "activity_2": "", "rating_2": "", "activity_3": "Gardening", "rating_3": "6"}
    response = as_user(world.alice).post(record_url(world, "psfs"), data)
    assert response.status_code == 302
    m = OutcomeMeasurement.objects.get(instrument="psfs")
    assert m.activities == ["Lifting my grandchild", "Gardening"] and m.answers == [3, 6]
    assert m.score == 4.5


def test_a_new_psfs_starts_with_the_activities_of_the_last_one(world, as_user):
    measure(world, "psfs", dt.date(2026, 11, 3), 4.5, answers=[3, 6], activities=["Lifting my grandchild", "Gardening"])
    body = as_user(world.alice).get(record_url(world, "psfs")).content.decode()
    assert 'value="Lifting my grandchild"' in body and 'value="Gardening"' in body


def test_a_psfs_rating_without_an_activity_name_is_marked_and_the_rest_is_kept(world, as_user):
    data = {"taken_on": "2026-11-10", "activity_1": "Gardening", "rating_1": "6", "activity_2": "", "rating_2": "4"}
    response = as_user(world.alice).post(record_url(world, "psfs"), data)
    body = response.content.decode()
    assert response.status_code == 200 and "Name activity 2, or clear its rating." in body
    assert 'value="Gardening"' in body and checked_values(body, "rating_1") == ["6"]
    assert checked_values(body, "rating_2") == ["4"]
    assert not OutcomeMeasurement.objects.filter(instrument="psfs").exists()


# --- errors keep what was typed -------------------------------------------------------------------


def test_an_out_of_range_answer_is_marked_on_its_item_and_every_other_answer_is_kept(world, as_user):
    response = as_user(world.alice).post(record_url(world, "odi"), odi_post([2, 2, 9, 2, 2, 2, 1, None, 2, 1]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Item 3 (lifting) takes 0 to 5: choose one of the answers shown." in body
    assert 'href="#id_item_3_0"' in body, "the error summary links to the item"
    assert 'id="id_item_3-group" aria-describedby="id_item_3-errors"' in body
    assert "Nothing you typed has been lost." in body
    assert checked_values(body, "item_1") == ["2"] and checked_values(body, "item_7") == ["1"]
    assert checked_values(body, "item_8") == ["na"] and 'value="2026-11-10"' in body
    assert not OutcomeMeasurement.objects.filter(instrument="odi").exists()


def test_an_item_left_untouched_is_an_error_not_a_silent_gap(world, as_user):
    data = odi_post(ODI_2)
    del data["item_5"]
    body = as_user(world.alice).post(record_url(world, "odi"), data).content.decode()
    assert "Choose an answer for item 5 (sitting), or “Not answered” if the patient skipped it." in body
    assert checked_values(body, "item_6") == ["2"]
    assert not OutcomeMeasurement.objects.filter(instrument="odi").exists()


def test_too_many_unanswered_items_are_refused_with_the_reason_then_can_be_saved_as_not_scorable(world, as_user):
    client = as_user(world.alice)
    answers = [2, None, 2, 2, None, 2, 1, None, 2, 1]
    body = client.post(record_url(world, "odi"), odi_post(answers)).content.decode()
    assert "This questionnaire cannot be scored: ODI allows at most 1 unanswered item, and 3 are unanswered." in body
    assert "Unanswered: items 2, 5, 8." in body
    assert 'name="accept_not_scorable"' in body, "the deliberate way out is offered only now"
    assert checked_values(body, "item_1") == ["2"] and checked_values(body, "item_2") == ["na"]
    assert not OutcomeMeasurement.objects.filter(instrument="odi").exists()

    response = client.post(record_url(world, "odi"), odi_post(answers, accept_not_scorable="on"))
    assert response.status_code == 302
    m = OutcomeMeasurement.objects.get(instrument="odi")
    assert not m.valid and m.score is None and m.reason == "too_many_missing" and m.answers == answers
    page = client.get(episode_url(world)).content.decode()
    assert "not scorable: too many unanswered items" in page


def test_the_accept_not_scorable_box_is_not_offered_on_a_fresh_form(world, as_user):
    body = as_user(world.alice).get(record_url(world, "odi")).content.decode()
    assert 'name="accept_not_scorable"' not in body


def test_a_future_date_or_one_before_the_onset_is_refused_and_the_answers_are_kept(world, as_user):
    client = as_user(world.alice)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    body = client.post(record_url(world, "odi"), odi_post(ODI_2, taken_on=future)).content.decode()
    assert "The date taken is in the future" in body and checked_values(body, "item_10") == ["1"]
    body = client.post(record_url(world, "odi"), odi_post(ODI_2, taken_on="2025-10-01")).content.decode()
    assert "before this episode&#x27;s onset (2026-10-01)" in body
    body = client.post(record_url(world, "odi"), odi_post(ODI_2, taken_on="2026-13-45")).content.decode()
    assert "Enter the date as YYYY-MM-DD." in body
    assert not OutcomeMeasurement.objects.filter(instrument="odi").exists()


def test_a_measure_can_be_linked_to_a_visit_of_the_episode_only(clinical_world, as_user):
    world, visit = clinical_world.world, clinical_world.visit
    client = as_user(world.alice)
    form = client.get(record_url(world, "odi") + f"?visit={visit.pk}").content.decode()
    assert f'<option value="{visit.pk}" selected>2026-11-02' in form and 'value="2026-11-02"' in form
    body = client.post(record_url(world, "odi"), odi_post(ODI_2, visit="999999")).content.decode()
    assert "Select a valid choice" in body
    assert client.post(record_url(world, "odi"), odi_post(ODI_2, visit=str(visit.pk))).status_code == 302
    assert OutcomeMeasurement.objects.get(instrument="odi").visit == visit


def test_the_front_desk_records_no_outcomes_and_the_auditor_changes_nothing(world, as_user, client):
    assert as_user(world.fran).get(record_url(world, "odi")).status_code == 403
    assert as_user(world.fran).get(episode_url(world)).status_code == 403
    client.logout()
    assert as_user(world.aubrey).post(record_url(world, "odi"), odi_post(ODI_2)).status_code == 403
    assert not OutcomeMeasurement.objects.exists()


def test_another_clinic_cannot_record_on_our_episode(world, as_user):
    assert as_user(world.charlie).post(record_url(world, "odi"), odi_post(ODI_2)).status_code == 404
    assert not OutcomeMeasurement.objects.exists()


# --- the episode page -----------------------------------------------------------------------------


def test_the_outcomes_page_lists_each_measure_with_its_chart_change_and_responder_status(world, as_user):
    measure(world, "odi", dt.date(2026, 10, 20), 48.0)
    measure(world, "odi", dt.date(2026, 11, 20), 30.0)
    body = as_user(world.alice).get(episode_url(world)).content.decode()
    assert 'id="measure-odi"' in body and '<svg id="chart-odi"' in body
    assert "-18 (improved, meets MCID 10)" in body
    assert "ODI 48 -&gt; 30 (change -18, MCID 10): improved by at least its MCID" in body
    assert "main measure" in body and "suggested for this episode&#x27;s condition and region" in body


def test_opening_the_outcomes_page_is_audited_as_a_read(world, as_user):
    as_user(world.bob).get(episode_url(world))
    event = AuditEvent.objects.filter(action="outcomes.view").latest("seq")
    assert event.actor == world.bob and event.patient_id == world.harbor_patient.pk


def test_the_outcomes_page_runs_the_same_number_of_queries_for_2_or_12_measurements(clinical_world, as_user):
    world = clinical_world.world
    client = as_user(world.alice)
    measure(world, "odi", dt.date(2026, 10, 5), 50.0)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(episode_url(world)).status_code == 200
        return len(queries)

    count()  # the first request after signing in also touches the session
    few = count()
    for day in range(10):
        measure(world, "odi" if day % 2 else "lefs", dt.date(2026, 10, 6 + day), 40.0 - day,
                visit=clinical_world.visit if day % 3 == 0 else None)
    assert count() == few
    assert few <= 16, "a fixed budget: session, actor, patient, episode, measurements, visits, choice, audit"


def test_the_patient_chart_panel_shows_latest_scores_responder_status_and_signals(world):
    measure(world, "odi", dt.date(2026, 10, 20), 50.0)
    measure(world, "odi", dt.date(2026, 11, 20), 30.0)
    measure(world, "nprs", dt.date(2026, 11, 20), 2.0, answers=[2])
    body = episode_panel(world, world.alice)
    assert "<strong>ODI</strong> 30 · moderate disability" in body
    assert "<strong>NPRS</strong> 2" in body
    assert "improved</span>" in body
    assert "Ready for active rehab" in body and "NPRS 2 is 3 or less" in body
    assert "Record a measure" in body and episode_url(world) in body


def test_the_panel_hides_clinical_content_from_the_front_desk_and_record_from_the_auditor(world):
    measure(world, "odi", dt.date(2026, 10, 20), 50.0)
    front_desk = episode_panel(world, world.fran)
    assert "Outcome measures are shown to clinical staff." in front_desk and "<strong>ODI</strong>" not in front_desk
    auditor = episode_panel(world, world.aubrey)
    assert "<strong>ODI</strong> 50" in auditor and "Record a measure" not in auditor


def signed(world) -> dict:  # noqa: ANN001
    """A visit note signed by Alice: only signed notes count towards outcomes."""
    from django.utils import timezone

    from palpate.lib.models_common import RecordStatus

    return {"status": RecordStatus.SIGNED, "signed_at": timezone.now(), "signed_by": world.alice}


def test_re_evaluation_is_due_after_six_visits_without_an_important_change(world, as_user):
    from palpate.visits.models import Visit

    for day in range(6):
        Visit.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                             therapist=world.alice, visit_date=dt.date(2026, 10, 10 + day * 3), nprs_before=5,
                             **signed(world))
    measure(world, "odi", dt.date(2026, 10, 10), 40.0)
    measure(world, "odi", dt.date(2026, 11, 10), 36.0)
    body = as_user(world.alice).get(episode_url(world)).content.decode()
    assert "Re-evaluation due" in body
    assert "no important change on ODI after 6 visits: re-evaluate" in body
    assert "5/10 on 2026-10-25 (visit note)" in body
    assert body.count('class="visit-mark"') == 6


def test_six_visits_with_only_a_baseline_ask_to_repeat_the_main_measure(world):
    from palpate.visits.models import Visit

    for day in range(6):
        Visit.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                             therapist=world.alice, visit_date=dt.date(2026, 10, 10 + day), **signed(world))
    measure(world, "odi", dt.date(2026, 10, 10), 40.0)
    body = episode_panel(world, world.alice)
    assert "Repeat ODI to judge progress" in body


def test_one_measurement_shows_each_question_with_the_answer_given(world, as_user):
    client = as_user(world.alice)
    client.post(record_url(world, "odi"), odi_post(ODI_2))
    m = OutcomeMeasurement.objects.get(instrument="odi")
    body = client.get(f"/patients/{world.harbor_patient.pk}/outcomes/{m.pk}/").content.decode()
    assert "<td>1. pain intensity</td><td>2 · moderate</td>" in body
    assert "<td>8. sex life</td><td>Not answered</td>" in body
    assert "<dd>36</dd>" in body and "35.56" not in body


def test_a_measurement_of_another_patient_is_a_404_even_in_the_same_clinic(world, as_user):
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.patients import services
    from palpate.patients.models import Patient

    actor = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    other = services.do_create_patient(actor, Patient(given_name="Ana", family_name="Lopez",
                                                      date_of_birth=dt.date(1980, 1, 1), sex="female"))
    m = measure(world, "odi", dt.date(2026, 10, 20), 50.0)
    assert as_user(world.alice).get(f"/patients/{other.pk}/outcomes/{m.pk}/").status_code == 404


# --- the main measure -----------------------------------------------------------------------------


def test_the_main_measure_can_be_changed_for_the_episode_and_the_change_is_audited(world, as_user):
    client = as_user(world.alice)
    measure(world, "odi", dt.date(2026, 10, 20), 50.0)
    measure(world, "psfs", dt.date(2026, 10, 20), 3.0, answers=[3], activities=["Walking"])
    url = f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/main-measure/"
    assert client.post(url, {"main_measure": "psfs"}).status_code == 302
    body = client.get(episode_url(world)).content.decode()
    assert "PSFS <span class=\"help\">(chosen for this episode)</span>" in body
    event = AuditEvent.objects.get(action="outcomes.main_measure")
    assert event.new == {"main_measure": "psfs"} and event.old is None
    client.post(url, {"main_measure": ""})
    assert "ODI <span class=\"help\">(suggested" in client.get(episode_url(world)).content.decode()


def test_an_unknown_main_measure_is_refused_on_the_form(world, as_user):
    url = f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/main-measure/"
    response = as_user(world.alice).post(url, {"main_measure": "nprs"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("junk", ["-1", "1.5", "abc", "<script>", "5" * 40, "None", " 2"])
def test_junk_in_any_answer_is_a_message_on_that_item_never_a_server_error(world, as_user, junk):
    response = as_user(world.alice).post(record_url(world, "odi"), odi_post(ODI_2, item_6=junk))
    body = response.content.decode()
    assert response.status_code == 200 and "Item 6 (standing) takes 0 to 5" in body
    assert "<script>" not in body.split('id="main"')[1]
    assert checked_values(body, "item_5") == ["2"]


def test_a_visit_note_rating_off_the_scale_is_ignored_rather_than_breaking_the_chart(world):
    from palpate.visits.models import Visit

    Visit.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                         therapist=world.alice, visit_date=dt.date(2026, 11, 1), nprs_before=12, **signed(world))
    body = episode_panel(world, world.alice)
    assert "no current NPRS: the bridge to active rehab needs one" in body


def test_the_service_refuses_a_visit_of_another_episode_and_a_role_without_clinical_write(clinical_world):
    from django.core.exceptions import PermissionDenied

    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.core.errors import InputError
    from palpate.outcomes import services
    from palpate.patients.models import Episode

    world = clinical_world.world
    alice = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    fran = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.fran))
    other = Episode.objects.create(clinic=world.harbor, patient=world.harbor_patient, condition="neck_pain",
                                   body_region="neck", diagnosis="Neck pain", icd10_code="M54.2",
                                   onset_date=dt.date(2026, 10, 1), payer="commercial", opened_on=dt.date(2026, 10, 2))
    with pytest.raises(InputError, match="not part of this episode"):
        services.do_record_measurement(alice, other, instrument="nprs", answers=[3], taken_on=dt.date(2026, 11, 3),
                                       visit=clinical_world.visit)
    with pytest.raises(PermissionDenied):
        services.do_record_measurement(fran, world.harbor_episode, instrument="nprs", answers=[3],
                                       taken_on=dt.date(2026, 11, 3))
    with pytest.raises(services.NotScorable):
        services.do_record_measurement(alice, world.harbor_episode, instrument="nprs", answers=[None],
                                       taken_on=dt.date(2026, 11, 3))
    assert OutcomeMeasurement.objects.filter(instrument="nprs").count() == 1, "only clinical_world's own"
