"""The main measure of an episode and the readings the progression signals are fed."""

from __future__ import annotations

import datetime as dt

import pytest

from palpate.core import measures
from palpate.outcomes import main_measure
from palpate.outcomes.progress import episode_progress, latest_nprs
from tests.web.test_outcomes import measure


@pytest.mark.parametrize(("condition", "region", "expected"), [
    ("low_back_pain", "lower_back", ("odi", None)),
    ("neck_pain", "neck", ("ndi", None)),
    ("carpal_tunnel_syndrome", "wrist", ("bctq", "symptom_severity")),
    ("tendinopathy", "elbow", ("quickdash", None)),
    ("muscle_strain", "thigh", ("lefs", None)),
    ("ligament_sprain", "ankle", ("lefs", None)),
    ("muscle_tightness", "upper_back", ("psfs", None)),
])
def test_the_suggested_main_measure_follows_the_condition_then_the_region(condition, region, expected):
    assert main_measure.suggested(condition, region) == expected


def test_every_suggestion_names_an_instrument_and_scale_the_core_knows():
    for code, scale in [*main_measure.SUGGESTED_BY_CONDITION.values(), *main_measure.SUGGESTED_BY_REGION.values(),
                        main_measure.FALLBACK]:
        inst = measures.instrument(code)
        assert code != "nprs"
        assert (scale is None) == (not inst.is_multiscale) and (scale is None or inst.scale(scale))


def test_a_questionnaire_actually_measured_beats_an_unmeasured_suggestion():
    chosen = main_measure.choose("low_back_pain", "lower_back", ["psfs", "lefs", "psfs", "nprs", "nprs", "nprs"])
    assert (chosen.instrument, chosen.why) == ("psfs", main_measure.WHY_MOST_MEASURED)


def test_the_suggestion_wins_once_it_has_been_measured_and_nprs_never_is_the_main_measure():
    assert main_measure.choose("low_back_pain", "lower_back", ["psfs", "psfs", "odi"]).instrument == "odi"
    assert main_measure.choose("low_back_pain", "lower_back", ["nprs", "nprs"]).instrument == "odi"
    assert main_measure.choose("low_back_pain", "lower_back", []).why == main_measure.WHY_SUGGESTED


def test_the_therapists_choice_wins_over_everything():
    chosen = main_measure.choose("low_back_pain", "lower_back", ["odi"] * 3, ("bctq", "functional_status"))
    assert (chosen.instrument, chosen.scale, chosen.key) == ("bctq", "functional_status", "bctq:functional_status")
    assert chosen.label == "BCTQ functional status scale"


def test_latest_pain_is_the_newest_of_questionnaires_and_visit_notes_preferring_the_questionnaire_on_a_tie(world):
    nprs = measure(world, "nprs", dt.date(2026, 11, 5), 4.0, answers=[4])
    visits = [(dt.date(2026, 11, 1), 6), (dt.date(2026, 11, 5), 5), (dt.date(2026, 11, 3), None)]
    reading = latest_nprs([nprs], visits)
    assert (reading.value, reading.source) == (4.0, "questionnaire")
    later = latest_nprs([nprs], [*visits, (dt.date(2026, 11, 9), 2)])
    assert (later.value, later.taken_on, later.source) == (2.0, dt.date(2026, 11, 9), "visit note")
    assert latest_nprs([], []) is None


def test_the_bctq_gives_one_series_per_scale_and_responder_status_per_scale(world):
    measure(world, "bctq", dt.date(2026, 10, 10), None, valid=True,
            scores={"symptom_severity": 3.0, "functional_status": 2.5})
    measure(world, "bctq", dt.date(2026, 11, 10), None, valid=True,
            scores={"symptom_severity": 1.95, "functional_status": 2.0})
    progress = episode_progress(world.harbor_episode)
    by_key = {sp.key: sp for sp in progress.scales}
    assert set(by_key) == {"bctq-symptom_severity", "bctq-functional_status"}
    # 3.0 -> 1.95 is a change of exactly the MCID (1.05): the core counts it as improved.
    assert by_key["bctq-symptom_severity"].responder.status == measures.Responder.IMPROVED
    assert by_key["bctq-functional_status"].responder.status == measures.Responder.NO_IMPORTANT_CHANGE


def test_not_scorable_measurements_are_listed_but_never_judged(world):
    measure(world, "odi", dt.date(2026, 10, 10), 40.0)
    measure(world, "odi", dt.date(2026, 10, 20), None, reason="too_many_missing")
    progress = episode_progress(world.harbor_episode)
    odi = progress.scales[0]
    assert [p.score for p in odi.points] == [40.0] and len(odi.not_scorable) == 1
    assert odi.responder.status == measures.Responder.INSUFFICIENT_DATA


def test_the_latest_of_two_visit_ratings_on_one_day_is_the_later_note():
    visits = [(dt.date(2026, 11, 9), 6), (dt.date(2026, 11, 9), 4)]  # oldest first, as the page passes them
    reading = latest_nprs([], visits)
    assert reading is not None and reading.value == 4.0
