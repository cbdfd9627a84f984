"""Scoring the outcome questionnaires: published worked examples, boundaries and bad input.

Every worked example here is from shared/clinical/facts.md section E (or the public vectors that
cite it); boundaries cover all-minimum, all-maximum, exactly the allowed number of unanswered
items, and one more.
"""

from __future__ import annotations

import pytest

from palpate.core.errors import InputError
from palpate.core.measures import (
    Better,
    Status,
    instrument,
    instruments,
    score,
    score_request,
)

ODI_16_OF_50 = [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]
ODI_16_OF_45 = [2, 2, 2, 2, 2, 2, 1, None, 2, 1]
BCTQ_EXAMPLE = {"symptom_severity": [4, 3, 3, 3, 2, 4, 2, 4, 3, 3, 2], "functional_status": [2, 2, 1, 2, 3, 2, 2, 2]}


def with_missing(values: list[int | None], count: int) -> list[int | None]:
    return [None] * count + values[count:]


# ---------------------------------------------------------------------------------------------
# Published worked examples


def test_it_scores_the_odi_worked_example_of_16_out_of_50_as_32_percent() -> None:
    result = score("odi", ODI_16_OF_50)
    assert result.valid
    assert result.score == 32.0
    assert result.answered == 10
    assert result.band is not None and result.band.label == "moderate disability"


def test_it_scores_the_odi_with_one_missing_section_over_45_without_truncating() -> None:
    # The form prints "35.5%" (it truncates); the contract wants the unrounded 16/45 x 100.
    result = score("odi", ODI_16_OF_45)
    assert result.valid
    assert result.score == pytest.approx(35.5555555555, abs=1e-9)
    assert result.answered == 9


def test_it_scores_the_ndi_pacio_example_as_40_percent() -> None:
    result = score("ndi", [2, 1, 2, 2, 3, 2, 2, 2, 2, 2])
    assert result.valid
    assert result.score == 40.0
    assert result.band is None  # NDI bands are unverified (facts.md E): none are reported


def test_it_scores_the_ndi_with_one_missing_item_over_45_like_the_odi() -> None:
    result = score("ndi", [2, 2, 2, 2, 2, 2, 1, None, 2, 1])
    assert result.score == pytest.approx(16 / 45 * 100)


def test_it_scores_quickdash_with_the_dash_formula() -> None:
    result = score("quickdash", [2, 3, 2, 1, 1, 4, 2, 3, 3, 2, 2])
    assert result.valid
    assert result.score == pytest.approx(((25 / 11) - 1) * 25)
    assert result.score == pytest.approx(31.82, abs=0.005)


def test_it_refuses_to_score_quickdash_with_two_items_missing() -> None:
    result = score("quickdash", [3, 3, 3, 3, 3, 3, 3, 3, 3, None, None])
    assert not result.valid
    assert result.score is None
    assert result.reason == "too_many_missing"


def test_it_sums_the_lefs() -> None:
    result = score("lefs", [3] * 20)
    assert result.valid
    assert result.score == 60
    assert result.better is Better.HIGHER


def test_it_averages_the_psfs_activities() -> None:
    assert score("psfs", [3, 5, 7]).score == 5.0


def test_it_scores_both_bctq_scales_as_means() -> None:
    result = score("bctq", BCTQ_EXAMPLE)
    assert result.valid
    assert result.scores == {"symptom_severity": 3.0, "functional_status": 2.0}
    assert result.answered == 19


def test_it_scores_the_nprs_as_the_rating_itself() -> None:
    result = score("nprs", [7])
    assert result.score == 7
    assert result.range == (0, 10)


# ---------------------------------------------------------------------------------------------
# Boundaries: all minimum, all maximum, the allowed number of missing items and one more


@pytest.mark.parametrize(("code", "low", "high", "count", "low_score", "high_score"), [
    ("nprs", 0, 10, 1, 0, 10),
    ("odi", 0, 5, 10, 0, 100),
    ("ndi", 0, 5, 10, 0, 100),
    ("quickdash", 1, 5, 11, 0, 100),
    ("lefs", 0, 4, 20, 0, 80),
    ("psfs", 0, 10, 5, 0, 10),
])
def test_it_maps_all_minimum_and_all_maximum_answers_onto_the_range_ends(
        code: str, low: int, high: int, count: int, low_score: float, high_score: float) -> None:
    assert score(code, [low] * count).score == low_score
    assert score(code, [high] * count).score == high_score
    assert instrument(code).range == (low_score, high_score)


def test_it_maps_all_minimum_and_all_maximum_bctq_answers_onto_1_and_5() -> None:
    assert score("bctq", {"symptom_severity": [1] * 11, "functional_status": [1] * 8}).scores == {
        "symptom_severity": 1.0, "functional_status": 1.0}
    assert score("bctq", {"symptom_severity": [5] * 11, "functional_status": [5] * 8}).scores == {
        "symptom_severity": 5.0, "functional_status": 5.0}


@pytest.mark.parametrize(("code", "answers", "allowed"), [
    ("odi", [3] * 10, 1),  # Palpate policy (facts.md: maximum UNVERIFIED)
    ("ndi", [3] * 10, 1),  # Palpate policy, as the ODI
    ("quickdash", [3] * 11, 1),  # Gummesson 2006: at least 10 of 11
    ("lefs", [2] * 20, 0),  # Palpate policy: no verified rule, not scorable
    ("nprs", [4], 0),
])
def test_it_scores_exactly_the_allowed_number_of_missing_items_and_refuses_one_more(
        code: str, answers: list[int | None], allowed: int) -> None:
    ok = score(code, with_missing(answers, allowed))
    assert ok.valid and ok.score is not None
    assert ok.answered == len(answers) - allowed
    refused = score(code, with_missing(answers, allowed + 1))
    assert not refused.valid
    assert refused.score is None
    assert refused.reason == "too_many_missing"


def test_it_refuses_a_bctq_scale_with_one_missing_item_but_still_scores_the_other() -> None:
    answers = {"symptom_severity": [3] * 10 + [None], "functional_status": [2] * 8}
    result = score("bctq", answers)
    assert not result.valid
    assert result.reason == "too_many_missing"
    assert result.scores == {"symptom_severity": None, "functional_status": 2.0}
    doc = result.as_json()
    assert doc["invalid_scales"] == ["symptom_severity"]


def test_it_scores_the_psfs_from_the_activities_rated_and_needs_at_least_one() -> None:
    assert score("psfs", [4, None, 8]).score == 6.0
    assert score("psfs", [None, None, 9]).score == 9.0
    refused = score("psfs", [None, None, None])
    assert not refused.valid and refused.reason == "too_many_missing"


@pytest.mark.parametrize(("answers", "band"), [
    ([0] * 10, "minimal disability"),
    ([1] * 10, "minimal disability"),  # exactly 20: the upper end of minimal
    ([1] * 9 + [2], "moderate disability"),  # 22
    ([2] * 10, "moderate disability"),  # exactly 40
    ([2] * 9 + [3], "severe disability"),  # 42
    ([3] * 10, "severe disability"),  # 60
    ([3] * 9 + [4], "crippled"),  # 62
    ([4] * 10, "crippled"),  # 80
    ([4] * 9 + [5], "bed-bound"),  # 82
    ([5] * 10, "bed-bound"),
])
def test_it_bands_the_odi_at_each_published_boundary(answers: list[int], band: str) -> None:
    result = score("odi", answers)
    assert result.band is not None and result.band.label == band


def test_it_bands_a_boundary_score_reached_with_a_missing_section_exactly() -> None:
    # 9 answered sections summing 9: 9/45 x 100 is exactly 20, not 20.000000000000004.
    result = score("odi", [1] * 9 + [None])
    assert result.score == 20.0
    assert result.band is not None and result.band.code == "minimal"


# ---------------------------------------------------------------------------------------------
# Missing-item policy is visible and adjustable only where it is policy


def test_it_marks_the_unverified_missing_rules_as_visible_policy() -> None:
    for code in ("odi", "ndi", "lefs"):
        assert instrument(code).scale().missing.status is Status.POLICY
    for scale in instrument("bctq").scales:
        assert scale.missing.status is Status.POLICY
        assert scale.missing.max_missing == 0
    assert instrument("lefs").scale().missing.max_missing == 0
    assert instrument("quickdash").scale().missing.status is Status.VERIFIED


def test_it_lets_a_clinic_allow_more_missing_odi_sections_as_a_setting() -> None:
    answers = [2, 2, 2, 2, 2, 2, 2, 2, None, None]
    assert not score("odi", answers).valid
    result = score("odi", answers, max_missing=2)
    assert result.valid
    assert result.score == 40.0


def test_it_refuses_to_adjust_a_published_missing_rule() -> None:
    with pytest.raises(InputError) as caught:
        score("quickdash", [3] * 9 + [None, None], max_missing=2)
    assert caught.value.code == "not_adjustable"


def test_it_refuses_to_adjust_the_lefs_not_scorable_policy() -> None:
    with pytest.raises(InputError) as caught:
        score("lefs", [3] * 19 + [None], max_missing=1)
    assert caught.value.code == "not_adjustable"


def test_it_refuses_a_setting_that_would_leave_nothing_answered() -> None:
    with pytest.raises(InputError) as caught:
        score("odi", [None] * 10, max_missing=10)
    assert caught.value.code == "out_of_range"


# ---------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(("code", "answers", "error", "path"), [
    ("odi", [2, 2, 2, 6, 2, 2, 2, 2, 2, 2], "out_of_range", "answers[3]"),
    ("odi", [2, 2, 2, -1, 2, 2, 2, 2, 2, 2], "out_of_range", "answers[3]"),
    ("quickdash", [0] + [3] * 10, "out_of_range", "answers[0]"),
    ("lefs", [3] * 19 + [5], "out_of_range", "answers[19]"),
    ("nprs", [11], "out_of_range", "answers[0]"),
    ("psfs", [3, 11], "out_of_range", "answers[1]"),
    ("odi", [2] * 9, "wrong_count", "answers"),
    ("odi", [2] * 11, "wrong_count", "answers"),
    ("nprs", [3, 4], "wrong_count", "answers"),
    ("nprs", [], "wrong_count", "answers"),
    ("psfs", [], "wrong_count", "answers"),
    ("psfs", [5] * 6, "wrong_count", "answers"),
    ("nprs", [True], "wrong_type", "answers[0]"),
    ("nprs", ["7"], "wrong_type", "answers[0]"),
    ("nprs", [7.5], "wrong_type", "answers[0]"),
    ("nprs", [float("nan")], "wrong_type", "answers[0]"),
    ("nprs", 7, "wrong_type", "answers"),
    ("odi", "2222222222", "wrong_type", "answers"),
    ("odi", {"total": [2] * 10}, "wrong_type", "answers"),
])
def test_it_rejects_bad_answers_with_a_code_and_a_path(code: str, answers: object, error: str, path: str) -> None:
    with pytest.raises(InputError) as caught:
        score(code, answers)
    assert caught.value.code == error
    assert caught.value.path == path
    assert caught.value.message


def test_it_accepts_whole_valued_floats_as_answers() -> None:
    assert score("odi", [2.0] * 10).score == score("odi", [2] * 10).score


def test_it_rejects_an_unknown_instrument() -> None:
    with pytest.raises(InputError) as caught:
        score("womac", [1])
    assert caught.value.code == "unknown_instrument"
    assert caught.value.path == "instrument"


@pytest.mark.parametrize(("answers", "error", "path"), [
    ([1] * 19, "wrong_type", "answers"),
    ({"symptom_severity": [1] * 11}, "missing_field", "answers.functional_status"),
    ({**BCTQ_EXAMPLE, "symptoms": [1]}, "unknown_scale", "answers.symptoms"),
    ({"symptom_severity": [1] * 10, "functional_status": [1] * 8}, "wrong_count", "answers.symptom_severity"),
    ({"symptom_severity": [1] * 11, "functional_status": [1] * 7 + [6]}, "out_of_range",
     "answers.functional_status[7]"),
    ({"symptom_severity": "1" * 11, "functional_status": [1] * 8}, "wrong_type", "answers.symptom_severity"),
])
def test_it_rejects_bad_bctq_answers_naming_the_scale(answers: object, error: str, path: str) -> None:
    with pytest.raises(InputError) as caught:
        score("bctq", answers)
    assert (caught.value.code, caught.value.path) == (error, path)


# ---------------------------------------------------------------------------------------------
# The contract document


def test_it_answers_a_score_request_in_the_contract_shape() -> None:
    doc = score_request({"instrument": "odi", "answers": ODI_16_OF_45})
    assert doc["contract"] == "palpate.score/1"
    assert doc["instrument"] == "odi"
    assert doc["valid"] is True
    assert doc["score"] == pytest.approx(35.5555, abs=1e-4)
    assert doc["answered"] == 9
    assert doc["range"] == [0, 100]
    assert doc["better"] == "lower"
    assert doc["band"] == "moderate disability"


def test_it_reports_a_not_scorable_questionnaire_with_a_null_score_and_the_reason() -> None:
    doc = score_request({"instrument": "quickdash", "answers": [3] * 9 + [None, None]})
    assert doc["valid"] is False
    assert doc["score"] is None
    assert doc["reason"] == "too_many_missing"
    assert doc["max_missing"] == 1


def test_it_gives_the_bctq_scores_instead_of_a_score() -> None:
    doc = score_request({"instrument": "bctq", "answers": BCTQ_EXAMPLE})
    assert "score" not in doc
    assert doc["scores"] == {"symptom_severity": 3.0, "functional_status": 2.0}
    assert doc["range"] == [1, 5]


@pytest.mark.parametrize(("payload", "error", "path"), [
    ({"answers": [1]}, "missing_field", "instrument"),
    ({"instrument": "odi"}, "missing_field", "answers"),
    ({"instrument": 3, "answers": [1]}, "wrong_type", "instrument"),
    ({"instrument": "ODI", "answers": [1] * 10}, "unknown_instrument", "instrument"),
])
def test_it_rejects_a_malformed_score_request(payload: dict[str, object], error: str, path: str) -> None:
    with pytest.raises(InputError) as caught:
        score_request(payload)
    assert (caught.value.code, caught.value.path) == (error, path)


# ---------------------------------------------------------------------------------------------
# The catalogue the forms render


def test_it_lists_the_seven_contract_instruments() -> None:
    assert [i.code for i in instruments()] == ["nprs", "odi", "ndi", "quickdash", "lefs", "psfs", "bctq"]


def test_it_gives_the_odi_sections_in_published_order_with_our_own_topic_words() -> None:
    topics = [item.topic for item in instrument("odi").items]
    assert topics == ["pain intensity", "personal care", "lifting", "walking", "sitting", "standing",
                      "sleeping", "sex life", "social life", "travelling"]
    assert [item.number for item in instrument("odi").items] == list(range(1, 11))


def test_it_ships_no_licensed_wording_only_short_topics_and_generic_answer_labels() -> None:
    for inst in instruments():
        assert not inst.has_licensed_wording
        for item in inst.items:
            assert item.wording is None
            assert 0 < len(item.topic) <= 40
            assert all(len(label) <= 40 for _, label in item.scale)


def test_it_gives_each_item_its_answer_scale_as_value_label_pairs() -> None:
    first = instrument("quickdash").items[0]
    assert [value for value, _ in first.scale] == [1, 2, 3, 4, 5]
    assert first.scale[0].label == "no difficulty"
    lefs = instrument("lefs").items[0]
    assert (lefs.min_answer, lefs.max_answer) == (0, 4)
    assert lefs.scale[-1].label == "no difficulty"  # LEFS: 4 is the better end (Binkley 1999)
    nprs = instrument("nprs").items[0]
    assert len(nprs.scale) == 11 and nprs.scale[5].label == "5"


def test_it_numbers_the_bctq_items_within_each_scale() -> None:
    bctq = instrument("bctq")
    assert [len(scale.items) for scale in bctq.scales] == [11, 8]
    assert [item.topic for item in bctq.scale("functional_status").items][:2] == ["writing", "buttoning clothes"]
    assert {item.subscale for item in bctq.items} == {"symptom_severity", "functional_status"}


def test_it_keeps_loinc_codes_with_their_verification_status() -> None:
    nprs_loinc = instrument("nprs").loinc
    assert nprs_loinc is not None and nprs_loinc.code == "72514-3" and nprs_loinc.status is Status.VERIFIED
    odi_loinc = instrument("odi").loinc
    assert odi_loinc is not None and odi_loinc.code == "97908-8" and odi_loinc.status is Status.UNVERIFIED
    ndi_loinc = instrument("ndi").loinc
    assert ndi_loinc is not None and ndi_loinc.code == "82237-9" and ndi_loinc.panel == "82226-2"
    assert ndi_loinc.status is Status.UNVERIFIED
    for code in ("quickdash", "lefs", "psfs", "bctq"):
        assert instrument(code).loinc is None


@pytest.mark.parametrize(("code", "scale", "mcid", "mdc"), [
    ("nprs", None, 2, None),
    ("odi", None, 10, 10),
    ("ndi", None, 15, 20.4),  # Young 2009: 7.5 / 10.2 raw points x 2 on Palpate's percentage
    ("quickdash", None, 14, None),
    ("lefs", None, 9, 9),
    ("psfs", None, 2, 2),
    ("bctq", "symptom_severity", 1.05, 0.72),
    ("bctq", "functional_status", 1.13, 0.79),
])
def test_it_stores_mcid_and_mdc_in_the_units_the_score_is_reported_in(
        code: str, scale: str | None, mcid: float, mdc: float | None) -> None:
    chosen = instrument(code).scale(scale)
    assert chosen.mcid.value == mcid
    assert chosen.mcid.units == chosen.units
    assert chosen.mcid.source.title
    assert (chosen.mdc.value if chosen.mdc else None) == mdc


def test_it_documents_the_ndi_mcid_conversion_from_raw_points() -> None:
    mcid = instrument("ndi").scale().mcid
    assert mcid.status is Status.DERIVED
    assert mcid.converted_from is not None
    assert (mcid.converted_from.value, mcid.converted_from.factor) == (7.5, 2)
    assert mcid.converted_from.value * mcid.converted_from.factor == mcid.value


def test_it_keeps_unverified_alternative_thresholds_out_of_use() -> None:
    quickdash = instrument("quickdash").scale()
    unverified = [alt for alt in quickdash.alternatives if alt.status is Status.UNVERIFIED]
    assert {alt.value for alt in unverified} == {8, 11}  # Mintken 2009, UNVERIFIED
    assert quickdash.mcid.value == 14
