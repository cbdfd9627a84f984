"""Change against the MCID, responder status over an episode, and the progression signals."""

from __future__ import annotations

import pytest

from palpate.core.errors import InputError
from palpate.core.measures import (
    Direction,
    Responder,
    change,
    change_request,
    progression_signals,
    responder_status,
)

# ---------------------------------------------------------------------------------------------
# change


def test_it_counts_a_two_point_nprs_drop_as_meeting_the_ostelo_mic() -> None:
    result = change("nprs", 7, 5)
    assert result.change == -2
    assert result.meets_mcid
    assert result.direction is Direction.IMPROVED
    assert "Ostelo" in result.source


def test_it_counts_a_12_point_odi_drop_as_an_improvement_of_30_percent() -> None:
    result = change("odi", 40, 28)
    assert result.change == -12
    assert result.percent_change == -30.0
    assert result.mcid == 10
    assert result.meets_mcid
    assert result.direction is Direction.IMPROVED
    assert result.meets_relative_mcid is True  # Ostelo 2008: or 30% improvement


def test_it_judges_a_change_of_exactly_the_mcid_as_meeting_it() -> None:
    assert change("odi", 40, 30).meets_mcid
    assert not change("odi", 40, 31).meets_mcid
    assert change("quickdash", 50, 36).meets_mcid
    assert not change("quickdash", 50, 36.5).meets_mcid


def test_it_compares_decimal_changes_with_the_mcid_without_float_error() -> None:
    # In binary floating point 1.95 - 3.0 is -1.0499999999999998, which would miss an MCID of 1.05.
    result = change("bctq", 3.0, 1.95, scale="symptom_severity")
    assert result.change == -1.05
    assert result.meets_mcid
    assert result.direction is Direction.IMPROVED
    assert not change("bctq", 3.0, 1.96, scale="symptom_severity").meets_mcid


def test_it_uses_each_bctq_scale_own_mcid() -> None:
    assert change("bctq", 3.0, 1.9, scale="symptom_severity").meets_mcid  # 1.1 >= 1.05
    assert not change("bctq", 3.0, 1.9, scale="functional_status").meets_mcid  # 1.1 < 1.13


def test_it_judges_direction_by_the_instrument_better_direction() -> None:
    # LEFS: higher is better, MCID 9 (Binkley 1999)
    assert change("lefs", 40, 49).direction is Direction.IMPROVED
    assert change("lefs", 49, 40).direction is Direction.WORSE
    assert change("lefs", 40, 48).direction is Direction.NO_IMPORTANT_CHANGE
    # ODI: lower is better
    assert change("odi", 28, 40).direction is Direction.WORSE
    # PSFS: higher is better, 2-point threshold (MDC90 of the average score, Stratford 1995)
    assert change("psfs", 3, 5).direction is Direction.IMPROVED
    assert change("psfs", 3, 4.5).direction is Direction.NO_IMPORTANT_CHANGE


def test_it_converts_the_ndi_mcid_to_percentage_points() -> None:
    # Young 2009: 7.5 raw points (0-50) = 15 points on Palpate's 0-100 NDI.
    assert not change("ndi", 40, 30).meets_mcid  # 10 points: would wrongly pass against 7.5
    result = change("ndi", 40, 25)
    assert result.meets_mcid and result.mcid == 15
    assert "7.5" in result.source
    assert result.meets_mdc is False  # 15 < 20.4: the MCID lies below the MDC


def test_it_gives_no_percent_change_from_a_baseline_of_zero() -> None:
    result = change("nprs", 0, 3)
    assert result.percent_change is None
    assert result.direction is Direction.WORSE
    assert result.meets_relative_mcid is None


def test_it_reports_a_relative_mcid_only_where_the_source_gives_one() -> None:
    assert change("nprs", 5, 4).meets_relative_mcid is False  # 20% < 30%
    assert change("nprs", 3, 2).meets_relative_mcid is True  # 33% >= 30% though only 1 point
    assert change("nprs", 3, 2).meets_mcid is False
    assert change("lefs", 40, 60).relative_mcid_percent is None


def test_it_answers_a_change_request_in_the_contract_shape() -> None:
    doc = change_request({"instrument": "odi", "baseline": 40, "follow_up": 28})
    assert doc["contract"] == "palpate.change/1"
    assert doc["change"] == -12 and isinstance(doc["change"], int)
    assert doc["percent_change"] == -30.0
    assert doc["mcid"] == 10
    assert doc["meets_mcid"] is True
    assert doc["direction"] == "improved"
    assert doc["source"]


def test_it_needs_the_scale_for_a_bctq_change() -> None:
    doc = change_request({"instrument": "bctq", "baseline": 3.2, "follow_up": 2.0, "scale": "functional_status"})
    assert doc["scale"] == "functional_status"
    assert doc["mcid"] == 1.13
    with pytest.raises(InputError) as caught:
        change_request({"instrument": "bctq", "baseline": 3.2, "follow_up": 2.0})
    assert (caught.value.code, caught.value.path) == ("missing_field", "scale")


@pytest.mark.parametrize(("payload", "error", "path"), [
    ({"instrument": "odi", "baseline": 40, "follow_up": 101}, "out_of_range", "follow_up"),
    ({"instrument": "odi", "baseline": -1, "follow_up": 20}, "out_of_range", "baseline"),
    ({"instrument": "nprs", "baseline": 11, "follow_up": 2}, "out_of_range", "baseline"),
    ({"instrument": "lefs", "baseline": 40, "follow_up": 81}, "out_of_range", "follow_up"),
    ({"instrument": "bctq", "baseline": 0.5, "follow_up": 2, "scale": "symptom_severity"}, "out_of_range",
     "baseline"),
    ({"instrument": "odi", "baseline": "40", "follow_up": 28}, "wrong_type", "baseline"),
    ({"instrument": "odi", "baseline": True, "follow_up": 28}, "wrong_type", "baseline"),
    ({"instrument": "odi", "baseline": None, "follow_up": 28}, "wrong_type", "baseline"),
    ({"instrument": "odi", "baseline": 40}, "missing_field", "follow_up"),
    ({"instrument": "odi", "follow_up": 28}, "missing_field", "baseline"),
    ({"instrument": "dash", "baseline": 40, "follow_up": 28}, "unknown_instrument", "instrument"),
    ({"instrument": "bctq", "baseline": 3, "follow_up": 2, "scale": "pain"}, "unknown_scale", "scale"),
    ({"instrument": "odi", "baseline": 40, "follow_up": 28, "scale": "symptom_severity"}, "unknown_scale",
     "scale"),
])
def test_it_rejects_a_bad_change_request(payload: dict[str, object], error: str, path: str) -> None:
    with pytest.raises(InputError) as caught:
        change_request(payload)
    assert (caught.value.code, caught.value.path) == (error, path)


def test_it_accepts_the_range_ends_as_scores() -> None:
    assert change("odi", 0, 100).direction is Direction.WORSE
    assert change("bctq", 5, 1, scale="functional_status").direction is Direction.IMPROVED


# ---------------------------------------------------------------------------------------------
# responder status


def test_it_calls_a_patient_improved_when_the_latest_score_beats_the_first_by_the_mcid() -> None:
    status = responder_status("odi", [44, 38, 30])
    assert status.status is Responder.IMPROVED
    assert status.baseline == 44 and status.latest == 30
    assert status.change is not None and status.change.change == -14


def test_it_calls_no_important_change_when_the_episode_moved_less_than_the_mcid() -> None:
    # An improvement on the way that was lost again is judged on where the patient is now.
    status = responder_status("odi", [44, 30, 38])
    assert status.status is Responder.NO_IMPORTANT_CHANGE


def test_it_calls_a_patient_worse_by_the_instrument_better_direction() -> None:
    assert responder_status("lefs", [50, 45, 40]).status is Responder.WORSE
    assert responder_status("nprs", [3, 6]).status is Responder.WORSE


def test_it_needs_two_scores_for_a_responder_status() -> None:
    assert responder_status("odi", [44]).status is Responder.INSUFFICIENT_DATA
    empty = responder_status("odi", [])
    assert empty.status is Responder.INSUFFICIENT_DATA and empty.baseline is None


def test_it_rejects_a_series_score_out_of_range_naming_its_position() -> None:
    with pytest.raises(InputError) as caught:
        responder_status("nprs", [7, 12])
    assert (caught.value.code, caught.value.path) == ("out_of_range", "series[1]")


# ---------------------------------------------------------------------------------------------
# progression signals (planning-policy.md §4)


def test_it_is_ready_for_active_rehab_with_nprs_3_and_the_main_measure_improved_by_its_mcid() -> None:
    signals = progression_signals(3, "odi", [40, 28], visits_count=4)
    assert signals.ready_for_active_rehab
    assert not signals.re_evaluation_due
    assert any("active exercise" in reason for reason in signals.reasons)


def test_it_is_not_ready_with_nprs_above_3_even_when_function_improved() -> None:
    signals = progression_signals(4, "odi", [40, 28], visits_count=4)
    assert not signals.ready_for_active_rehab
    assert any("above 3" in reason for reason in signals.reasons)


def test_it_is_not_ready_when_pain_is_low_but_the_main_measure_has_not_improved_by_its_mcid() -> None:
    assert not progression_signals(1, "lefs", [40, 46], visits_count=4).ready_for_active_rehab


def test_it_is_not_ready_without_a_current_nprs() -> None:
    signals = progression_signals(None, "odi", [40, 20], visits_count=4)
    assert not signals.ready_for_active_rehab
    assert any("no current NPRS" in reason for reason in signals.reasons)


def test_it_prompts_a_re_evaluation_after_6_visits_with_no_important_change() -> None:
    assert not progression_signals(5, "odi", [40, 36], visits_count=5).re_evaluation_due
    signals = progression_signals(5, "odi", [40, 36], visits_count=6)
    assert signals.re_evaluation_due
    assert any("after 6 visits" in reason for reason in signals.reasons)


def test_it_prompts_a_re_evaluation_after_6_visits_when_the_main_measure_is_worse() -> None:
    assert progression_signals(5, "odi", [30, 44], visits_count=7).re_evaluation_due


def test_it_does_not_prompt_a_re_evaluation_when_the_main_measure_improved() -> None:
    assert not progression_signals(5, "odi", [40, 20], visits_count=12).re_evaluation_due


def test_it_asks_to_repeat_the_main_measure_when_6_visits_passed_with_one_score() -> None:
    signals = progression_signals(5, "odi", [40], visits_count=6)
    assert signals.remeasure_due and not signals.re_evaluation_due


def test_it_reads_a_bctq_main_measure_on_the_named_scale() -> None:
    signals = progression_signals(2, "bctq", [3.4, 2.2], visits_count=3, main_scale="functional_status")
    assert signals.ready_for_active_rehab
    assert signals.responder.scale == "functional_status"


@pytest.mark.parametrize(("nprs", "visits", "error", "path"), [
    (11, 3, "out_of_range", "nprs_latest"),
    ("3", 3, "wrong_type", "nprs_latest"),
    (3, -1, "out_of_range", "visits_count"),
    (3, 2.5, "wrong_type", "visits_count"),
])
def test_it_rejects_bad_progression_inputs(nprs: object, visits: object, error: str, path: str) -> None:
    with pytest.raises(InputError) as caught:
        progression_signals(nprs, "odi", [40, 28], visits_count=visits)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.path) == (error, path)
