"""Screening: findings, vitals and screens become holds, restrictions and referrals (facts.md §A-B,
planning-policy.md §1)."""

from __future__ import annotations

from typing import Any

import pytest

from palpate.core.planning import plan_request
from palpate.core.policy import apply_overrides, default_policy
from palpate.core.request import parse_request
from palpate.core.screening import ScreenResult, screen

TENDON = {"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 56, "irritability": "low"}
TIGHT_BACK = {"code": "muscle_tightness", "region": "upper_back", "onset_days": 90}
ALL = ["effleurage", "petrissage", "friction", "myofascial_release", "trigger_point"]


def screened(**payload: Any) -> ScreenResult:
    payload.setdefault("conditions", [TIGHT_BACK])
    return screen(parse_request(payload))


def restrictions(result: ScreenResult) -> list[tuple[str, str | None, tuple[str, ...], str]]:
    return [(r.region, r.side, r.techniques, r.max_pressure) for r in result.restrictions]


def referral(result: ScreenResult, reason: str) -> str:
    found = [r.urgency for r in result.referrals if r.reason == reason]
    assert found, f"no {reason} referral in {result.referrals}"
    return found[0]


# -- Wells ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "items", "score", "category", "blocks"), [
    ("1997", [], 0, "low", False),
    ("1997", ["entire_leg_swollen"], 1, "intermediate", True),
    ("1997", ["entire_leg_swollen", "pitting_oedema"], 2, "intermediate", True),
    ("1997", ["entire_leg_swollen", "pitting_oedema", "active_cancer"], 3, "high", True),
    ("1997", ["alternative_diagnosis_as_likely"], -2, "low", False),
    ("1997", ["calf_swelling_3cm", "alternative_diagnosis_as_likely"], -1, "low", False),
    ("2003", ["previous_dvt"], 1, "unlikely", False),
    ("2003", ["previous_dvt", "entire_leg_swollen"], 2, "likely", True),
    ("2003", ["calf_swelling_3cm"], 1, "unlikely", False),  # 1 point, not 2 (facts.md §B.1)
    ("2003", ["alternative_diagnosis_as_likely", "pitting_oedema", "collateral_superficial_veins"], 0,
     "unlikely", False),
])
def test_wells_scores_and_categorises_each_version(version: str, items: list[str], score: int, category: str,
                                                   blocks: bool) -> None:
    result = screened(screens={"wells": {"version": version, "side": "right", "items": items}})
    assert result.wells is not None
    assert (result.wells.score, result.wells.category, result.wells.blocks) == (score, category, blocks)
    assert result.hold is blocks


def test_a_suspected_dvt_holds_the_session_blocks_that_leg_and_refers_today() -> None:
    result = screened(screens={"wells": {"version": "2003", "side": "right",
                                         "items": ["entire_leg_swollen", "previous_dvt"]}})
    assert result.hold and "wells_2003_likely" in result.hold_because
    assert restrictions(result) == [("lower_limb", "right", tuple(ALL), "none")]
    assert referral(result, "suspected_dvt") == "same_day"
    assert "Wells 2003 score 2" in result.referrals[0].detail


def test_leg_symptoms_after_surgery_block_that_leg_even_when_wells_says_unlikely() -> None:
    result = screened(screens={"wells": {"version": "2003", "side": "left", "items": [
        "bedridden_or_major_surgery", "calf_swelling_3cm", "alternative_diagnosis_as_likely"]}})
    assert result.wells is not None and result.wells.category == "unlikely"
    assert not result.hold
    assert ("lower_limb", "left", tuple(ALL), "none") in restrictions(result)
    assert referral(result, "suspected_dvt") == "same_day"


def test_a_known_dvt_holds_the_session_and_blocks_its_whole_limb() -> None:
    result = screened(findings=[{"code": "dvt", "region": "calf", "side": "left"}])
    assert result.hold and result.hold_because == ("dvt",)
    assert restrictions(result) == [("lower_limb", "left", tuple(ALL), "none")]
    assert referral(result, "suspected_dvt") == "same_day"


# -- holds ----------------------------------------------------------------------------------------

def test_fever_from_vitals_holds_at_the_policy_threshold_and_not_below() -> None:
    assert screened(vitals={"temperature_c": 38.0}).hold
    assert not screened(vitals={"temperature_c": 37.9}).hold
    hot = screened(vitals={"temperature_c": 38.6})
    assert hot.hold_because == ("fever",) and referral(hot, "fever_or_infection") == "routine"


def test_a_clinic_can_lower_the_fever_threshold_without_editing_code() -> None:
    payload = {"conditions": [TIGHT_BACK], "vitals": {"temperature_c": 37.8}, "policy": {"fever_c": 37.8}}
    assert screen(parse_request(payload)).hold
    clinic = apply_overrides(default_policy(), {"fever_c": 37.5})
    assert screen(parse_request({"conditions": [], "vitals": {"temperature_c": 37.6}}), clinic).hold


def test_fever_with_spinal_pain_is_a_same_day_red_flag() -> None:
    result = screened(conditions=[{"code": "neck_pain", "onset_days": 3}], vitals={"temperature_c": 38.6})
    assert result.hold and referral(result, "red_flag_spine") == "same_day"


def test_cellulitis_with_fever_escalates_the_infection_referral_to_today() -> None:
    result = screened(findings=[{"code": "local_infection", "region": "calf", "side": "left"}, {"code": "fever"}])
    assert referral(result, "fever_or_infection") == "same_day"


@pytest.mark.parametrize("vitals", [{"bp_systolic": 180, "bp_diastolic": 95}, {"bp_systolic": 150, "bp_diastolic": 110}])
def test_blood_pressure_at_the_policy_threshold_holds_and_refers_today(vitals: dict[str, int]) -> None:
    result = screened(vitals=vitals)
    assert result.hold_because == ("uncontrolled_hypertension",)
    assert referral(result, "uncontrolled_hypertension") == "same_day"


def test_controlled_blood_pressure_does_not_hold() -> None:
    assert not screened(vitals={"bp_systolic": 178, "bp_diastolic": 100}).hold


@pytest.mark.parametrize("finding", ["saddle_anaesthesia", "bladder_dysfunction"])
def test_cauda_equina_signs_hold_and_refer_as_an_emergency(finding: str) -> None:
    result = screened(findings=[{"code": finding}])
    assert result.hold and referral(result, "cauda_equina") == "emergency"
    assert result.screens_json()["red_flags"]["cauda_equina"] is True


def test_a_progressive_deficit_with_back_pain_is_cauda_equina_and_without_it_a_same_day_referral() -> None:
    back = screened(conditions=[{"code": "low_back_pain"}], findings=[{"code": "progressive_neurological_deficit"}])
    assert back.hold and referral(back, "cauda_equina") == "emergency"
    neck = screened(conditions=[{"code": "neck_pain"}], findings=[{"code": "progressive_neurological_deficit"}])
    assert neck.hold and referral(neck, "neurological_deficit") == "same_day"
    assert not any(r.reason == "cauda_equina" for r in neck.referrals)
    # Planning policy v2 §1.1: with leg pain too.
    leg = screened(conditions=[{"code": "muscle_tightness", "region": "calf", "side": "left"}],
                   findings=[{"code": "progressive_neurological_deficit"}])
    assert leg.hold and referral(leg, "cauda_equina") == "emergency"


def test_a_systemic_infection_holds() -> None:
    assert screened(findings=[{"code": "systemic_infection"}]).hold


# -- local blocks and caps --------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["open_wound", "local_infection", "burn", "skin_lesion", "tumour"])
def test_a_local_block_forbids_everything_at_the_site_on_that_side_only(code: str) -> None:
    result = screened(findings=[{"code": code, "region": "forearm", "side": "right"}])
    assert ("forearm", "right", tuple(ALL), "none") in restrictions(result)
    assert all(r.side != "left" for r in result.restrictions)
    assert not result.hold


def test_a_fracture_blocks_the_site_and_caps_the_rest_of_the_segment() -> None:
    result = screened(findings=[{"code": "recent_fracture", "region": "forearm", "side": "left", "days_ago": 20}])
    assert restrictions(result) == [("elbow", "left", tuple(ALL), "moderate"), ("forearm", "left", tuple(ALL), "none"),
                                    ("wrist", "left", tuple(ALL), "moderate")]


def test_an_unhealed_incision_blocks_and_a_healed_one_does_not() -> None:
    for unhealed in ({"closed": False, "days_ago": 30}, {"closed": True, "days_ago": 9}, {}):
        result = screened(findings=[{"code": "surgical_incision", "region": "knee", "side": "right", **unhealed}])
        assert ("knee", "right", tuple(ALL), "none") in restrictions(result), unhealed
    healed = screened(findings=[{"code": "surgical_incision", "region": "knee", "side": "right", "days_ago": 14,
                                 "closed": True}])
    assert not [r for r in healed.restrictions if r.region == "knee"]
    assert any("Healed incision" in note for note in healed.notes)
    # Planning policy v2 §1.2: still within 4 weeks of leg surgery, that leg is light only.
    assert {(r.region, r.side, r.max_pressure) for r in healed.restrictions} == {
        ("lower_limb", "right", "none"), ("lower_limb", "right", "light")}
    old = screened(findings=[{"code": "surgical_incision", "region": "knee", "side": "right", "days_ago": 40,
                              "closed": True}])
    assert old.restrictions == ()


def test_a_post_operative_condition_brings_its_own_incision() -> None:
    fresh = screened(conditions=[{"code": "post_operative", "region": "knee", "side": "left", "surgery_days_ago": 4}])
    assert ("knee", "left", tuple(ALL), "none") in restrictions(fresh)
    assert any(f.code == "surgical_incision" and f.origin == "condition" for f in fresh.findings)


def test_acute_inflammation_leaves_the_site_untouched_and_allows_only_light_effleurage_proximal_to_it() -> None:
    # Planning policy v2 §1.2: nothing over the inflamed tissue itself.
    result = screened(findings=[{"code": "acute_inflammation", "region": "knee", "side": "left"}])
    assert restrictions(result) == [
        ("thigh", "left", ("petrissage", "friction", "myofascial_release", "trigger_point"), "none"),
        ("thigh", "left", ("effleurage",), "light"),
        ("knee", "left", tuple(ALL), "none")]
    site = next(r for r in result.restrictions if r.region == "knee")
    assert not site.exercise and set(site.therapies) >= {"heat", "cold", "electrical_stimulation"}


@pytest.mark.parametrize("code", ["varicose_veins", "sensory_loss"])
def test_varicose_veins_and_sensory_loss_forbid_friction_and_trigger_points_and_cap_the_rest(code: str) -> None:
    result = screened(findings=[{"code": code, "region": "calf", "side": "left"}])
    assert restrictions(result) == [("calf", "left", ("friction", "trigger_point"), "none"),
                                    ("calf", "left", ("effleurage", "petrissage", "myofascial_release"), "light")]


def test_lymphoedema_allows_only_light_effleurage_on_the_whole_limb_on_its_side() -> None:
    result = screened(findings=[{"code": "lymphoedema", "region": "forearm", "side": "left"}])
    assert restrictions(result) == [
        ("upper_limb", "left", ("petrissage", "friction", "myofascial_release", "trigger_point"), "none"),
        ("upper_limb", "left", ("effleurage",), "light")]


def test_a_finding_may_name_a_group_with_a_side_or_the_whole_body() -> None:
    limb = screened(findings=[{"code": "sensory_loss", "region": "lower_limb", "side": "right"}])
    assert {(r.region, r.side) for r in limb.restrictions} == {("lower_limb", "right")}
    body = screened(findings=[{"code": "skin_lesion", "region": "whole_body"}])
    assert restrictions(body) == [("whole_body", None, tuple(ALL), "none")]


# -- whole-body caps ------------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["anticoagulant_therapy", "bleeding_disorder", "thrombocytopenia",
                                  "cannot_give_feedback"])
def test_bleeding_risks_and_absent_feedback_cap_everything_light_without_friction_or_trigger_points(code: str) -> None:
    result = screened(findings=[{"code": code}])
    assert restrictions(result) == [("whole_body", None, ("friction", "trigger_point"), "none"),
                                    ("whole_body", None, ("effleurage", "petrissage", "myofascial_release"), "light")]
    assert not result.hold


def test_a_patient_who_cannot_give_feedback_is_flagged_from_the_patient_record_too() -> None:
    result = screened(patient={"can_give_feedback": False})
    assert any(f.code == "cannot_give_feedback" and f.origin == "patient" for f in result.findings)


def test_severe_osteoporosis_caps_spine_chest_hips_and_gluteal_light_and_deep_pressure_everywhere() -> None:
    result = screened(findings=[{"code": "severe_osteoporosis"}])
    assert {(r.region, r.side, r.max_pressure) for r in result.restrictions} == {
        (region, side, cap) for region, side in (("spine", None), ("chest", None), ("hip", "left"), ("hip", "right"),
                                                 ("gluteal", "left"), ("gluteal", "right"))
        for cap in ("none", "light")} | {("whole_body", None, "moderate")}
    assert not result.referrals


def test_active_cancer_caps_light_everywhere_and_asks_for_oncology_clearance() -> None:
    result = screened(findings=[{"code": "active_cancer"}])
    assert restrictions(result) == [("whole_body", None, tuple(ALL), "light")]
    assert referral(result, "oncology_clearance") == "routine"


def test_a_tumour_site_is_blocked_and_implies_active_cancer() -> None:
    result = screened(findings=[{"code": "tumour", "region": "thigh", "side": "left"}])
    assert ("thigh", "left", tuple(ALL), "none") in restrictions(result)
    assert ("whole_body", None, tuple(ALL), "light") in restrictions(result)


def test_pregnancy_caps_abdomen_and_legs_on_both_sides_and_notes_positioning() -> None:
    result = screened(patient={"pregnancy_weeks": 24})
    assert {(r.region, r.side) for r in result.restrictions if r.techniques} == {
        ("abdomen", None), ("thigh", "left"), ("thigh", "right"), ("calf", "left"), ("calf", "right")}
    assert [(r.region, r.therapies) for r in result.restrictions if not r.techniques] == [
        ("whole_body", ("electrical_stimulation",))]
    assert any("Side-lying" in p for p in result.positioning)
    assert not result.referrals


def test_a_high_risk_pregnancy_needs_obstetric_clearance() -> None:
    result = screened(patient={"high_risk_pregnancy": True})
    assert referral(result, "obstetric_clearance") == "routine"
    assert any(f.code == "pregnancy" for f in result.findings)


# -- Ottawa and spinal red flags --------------------------------------------------------------------

def test_a_positive_ottawa_ankle_rule_blocks_that_ankle_and_foot_and_asks_for_an_x_ray_today() -> None:
    result = screened(screens={"ottawa_ankle": {"side": "right", "malleolar_zone_pain": True,
                                                "lateral_malleolus_tenderness": True}})
    assert result.ottawa[0].positive
    # Planning policy v2 §1.5: a suspected fracture at the ankle and foot, treated like a known one
    # (the limb segment, and the 4-week leg window).
    blocked = {(r.region, r.side) for r in result.restrictions if r.max_pressure == "none" and len(r.techniques) == 5}
    assert blocked == {("ankle", "right"), ("foot", "right")}
    assert ("calf", "right", tuple(ALL), "moderate") in restrictions(result)
    assert ("lower_limb", "right", ("effleurage", "petrissage", "myofascial_release"), "light") in restrictions(result)
    assert all(r.side == "right" for r in result.restrictions)
    assert referral(result, "suspected_fracture") == "same_day"
    assert [(f.code, f.region) for f in result.findings] == [("suspected_fracture", "ankle"),
                                                             ("suspected_fracture", "foot")]


@pytest.mark.parametrize("answers", [
    {"malleolar_zone_pain": True},
    {"lateral_malleolus_tenderness": True, "unable_to_bear_weight": True},
    {"malleolar_zone_pain": False, "medial_malleolus_tenderness": True},
])
def test_the_ottawa_ankle_rule_needs_zone_pain_and_a_criterion(answers: dict[str, bool]) -> None:
    result = screened(screens={"ottawa_ankle": {"side": "left", **answers}})
    assert not result.ottawa[0].positive and result.restrictions == ()


def test_the_ottawa_foot_rule_is_positive_with_midfoot_pain_and_navicular_tenderness() -> None:
    result = screened(screens={"ottawa_foot": {"side": "left", "midfoot_zone_pain": True,
                                               "navicular_tenderness": True}})
    assert result.ottawa[0].positive and referral(result, "suspected_fracture") == "same_day"


def test_age_over_fifty_alone_blocks_nothing() -> None:
    result = screened(patient={"age": 78})
    assert result.restrictions == () and result.referrals == () and not result.hold


@pytest.mark.parametrize("extra", [{"code": "night_pain"}, {"code": "unexplained_weight_loss"}])
def test_a_history_of_cancer_with_night_pain_or_weight_loss_caps_the_spine_and_refers(extra: dict[str, str]) -> None:
    result = screened(findings=[{"code": "history_of_cancer"}, extra])
    assert restrictions(result) == [("spine", None, tuple(ALL), "light")]
    assert referral(result, "red_flag_spine") == "same_day"


def test_a_history_of_cancer_without_spinal_pain_blocks_nothing() -> None:
    elbow = {"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 30}
    result = screened(conditions=[elbow], findings=[{"code": "history_of_cancer"}])
    assert result.restrictions == () and result.referrals == ()


def test_a_history_of_cancer_with_spinal_pain_caps_the_spine_and_refers_routinely() -> None:
    result = screened(findings=[{"code": "history_of_cancer"}])
    assert restrictions(result) == [("spine", None, tuple(ALL), "light")]
    assert referral(result, "red_flag_spine") == "routine"


def test_minor_trauma_is_a_red_flag_only_in_an_older_or_osteoporotic_patient() -> None:
    assert screened(patient={"age": 35}, findings=[{"code": "recent_minor_trauma"}]).referrals == ()
    older = screened(patient={"age": 67}, findings=[{"code": "recent_minor_trauma"}])
    assert referral(older, "suspected_fracture") == "same_day"
    fragile = screened(patient={"age": 35}, findings=[{"code": "recent_minor_trauma"},
                                                       {"code": "severe_osteoporosis"}])
    assert referral(fragile, "suspected_fracture") == "same_day"


def test_major_trauma_is_a_red_flag_at_any_age() -> None:
    result = screened(patient={"age": 25}, findings=[{"code": "recent_major_trauma"}])
    assert ("spine", None, tuple(ALL), "light") in restrictions(result)
    # Planning policy v2 §1.5: the painful region (the upper back here) is a suspected fracture.
    assert ("upper_back", None, tuple(ALL), "none") in restrictions(result)
    assert referral(result, "suspected_fracture") == "same_day"
    cleared = screened(patient={"age": 25}, findings=[{"code": "recent_major_trauma", "cleared": True}])
    assert cleared.restrictions == () and cleared.referrals == ()


def test_new_thoracic_pain_in_severe_osteoporosis_is_a_suspected_fracture_and_caps_the_spine() -> None:
    # Planning policy v2 §1.4: nothing deeper than light at the spine, referral; §1.5: the painful
    # site itself is a suspected fracture, treated like a known one.
    result = screened(findings=[{"code": "severe_osteoporosis"}, {"code": "new_pain", "region": "upper_back"}])
    assert referral(result, "red_flag_spine") == "same_day"
    assert referral(result, "suspected_fracture") == "same_day"
    assert ("spine", None, tuple(ALL), "light") in restrictions(result)
    assert ("upper_back", None, tuple(ALL), "none") in restrictions(result)


def test_new_limb_pain_in_severe_osteoporosis_is_treated_as_a_possible_fracture() -> None:
    result = screened(findings=[{"code": "severe_osteoporosis"}, {"code": "new_pain", "region": "hip", "side": "left"}])
    assert referral(result, "suspected_fracture") == "same_day"
    assert ("hip", "left", tuple(ALL), "none") in restrictions(result)
    assert not [r for r in restrictions(result) if r[0] == "hip" and r[1] == "right" and r[3] == "none"
                and r[2] == tuple(ALL)]


def test_new_pain_alone_is_capped_light_and_referred_routinely() -> None:
    result = screened(findings=[{"code": "new_pain", "region": "knee", "side": "left"}])
    assert ("knee", "left", ("effleurage", "petrissage", "myofascial_release"), "light") in restrictions(result)
    assert referral(result, "unexplained_pain") == "routine"


def test_restrictions_and_referrals_carry_sources_and_the_contract_shape() -> None:
    out = plan_request({"conditions": [TENDON], "findings": [{"code": "open_wound", "region": "forearm",
                                                               "side": "right"}]})
    restriction = out["restrictions"][0]
    assert restriction == {**restriction, "region": "forearm", "side": "right", "techniques": ALL,
                           "max_pressure": "none", "severity": "absolute", "because": ["open_wound"]}
    assert "Mayo Clinic massage cautions [C]" in restriction["sources"]


def test_screening_does_not_depend_on_the_order_of_findings() -> None:
    findings = [{"code": "anticoagulant_therapy"}, {"code": "open_wound", "region": "calf", "side": "left"},
                {"code": "severe_osteoporosis"}, {"code": "new_pain", "region": "chest"}]
    first = screened(findings=findings)
    second = screened(findings=list(reversed(findings)))
    assert first.restrictions == second.restrictions and first.referrals == second.referrals
