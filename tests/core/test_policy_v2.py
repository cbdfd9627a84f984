"""Clinical policy version 2 (shared/clinical/planning-policy.md), one test per reported finding.

Every case here was reproduced with `palpate plan` on the engine before version 2 and failed; the
section of the policy each one checks is named in the test. Geometry helpers re-read the contract
(a restriction covers its region, its group's regions or the whole body, on its side) rather than
asking the engine, so the engine cannot vouch for itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from palpate.core.errors import InputError
from palpate.core.kb.clinical import knowledge_base
from palpate.core.planning import plan_request

KB = knowledge_base()
GROUPS = {code: set(group.regions) for code, group in KB.regions.groups.items()}
RANK = {"light": 1, "moderate": 2, "deep": 3}
DEEP_WORK = {"petrissage", "friction", "myofascial_release", "trigger_point"}
LEG = GROUPS["lower_limb"]


def planned(*conditions: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return plan_request({"conditions": list(conditions), **rest})


def at(out: dict[str, Any], regions: set[str] | str, side: str | None = None, key: str = "plan") -> list[dict[str, Any]]:
    wanted = {regions} if isinstance(regions, str) else regions
    return [i for i in out[key] if i["region"] in wanted and (side is None or i["side"] == side)]


def moved_by(exercise_code: str) -> set[str]:
    """Every region a home exercise moves or loads, from the library itself."""
    exercise = next(e for e in KB.exercises if e.code == exercise_code)
    return {*exercise.regions, *getattr(exercise, "loads", ())}


def home_touching(out: dict[str, Any], regions: set[str], side: str | None = None) -> list[str]:
    return [h["exercise"] for h in out["home_program"]
            if moved_by(h["exercise"]) & regions and (side is None or h["side"] in (side, None))]


def therapies_for(out: dict[str, Any], condition: str) -> set[str]:
    return {c["therapy"] for c in out["complementary"] if condition in c["for"]}


def refused(payload: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as caught:
        plan_request(payload)
    return caught.value


# -- §2: irritability never makes an acute injury's phase less conservative -----------------------

def test_a_low_irritability_day_one_ankle_sprain_stays_in_its_inflammatory_phase() -> None:
    out = planned({"code": "ligament_sprain", "region": "ankle", "side": "right", "onset_days": 1,
                   "irritability": "low"})
    assert out["conditions"][0]["phase"] == "inflammatory"
    assert at(out, "ankle") == []
    assert all(i["technique"] == "effleurage" and i["pressure"] == "light" for i in out["plan"])
    assert out["plan"]


def test_a_low_irritability_day_three_knee_operation_gets_no_kneading_of_the_thigh() -> None:
    out = planned({"code": "post_operative", "region": "knee", "side": "left", "surgery_days_ago": 3,
                   "irritability": "low"})
    assert out["conditions"][0]["phase"] == "inflammatory"
    assert not [i for i in out["plan"] if i["technique"] in DEEP_WORK or i["pressure"] != "light"]


def test_high_irritability_still_makes_an_old_sprain_more_conservative() -> None:
    out = planned({"code": "ligament_sprain", "region": "ankle", "side": "right", "onset_days": 60,
                   "irritability": "high"})
    assert out["conditions"][0]["phase"] == "inflammatory"


def test_for_other_conditions_the_therapists_irritability_stands() -> None:
    out = planned({"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 3, "irritability": "low"})
    assert out["conditions"][0]["phase"] == "remodelling"


def test_a_condition_at_a_fractured_region_is_treated_as_an_acute_injury() -> None:
    out = planned({"code": "joint_stiffness", "region": "knee", "side": "left", "onset_days": 60,
                   "irritability": "low"},
                  findings=[{"code": "recent_fracture", "region": "knee", "side": "left", "days_ago": 4}])
    assert out["conditions"][0]["phase"] == "inflammatory"
    assert not [i for i in out["plan"] if i["technique"] in DEEP_WORK or i["pressure"] != "light"]


# -- §1.6: restrictions bind the home programme and complementary therapies -----------------------

def test_neck_pain_after_major_trauma_is_a_suspected_fracture_with_no_neck_exercise() -> None:
    out = planned({"code": "neck_pain", "onset_days": 2}, patient={"age": 35},
                  findings=[{"code": "recent_major_trauma", "days_ago": 2}])
    assert any(r["reason"] == "suspected_fracture" and r["urgency"] == "same_day" for r in out["referrals"])
    assert at(out, "neck") == []
    assert home_touching(out, {"neck"}) == []
    assert therapies_for(out, "neck_pain") == set()
    assert out["session"] == "modify"


def test_a_recorded_clearance_lifts_the_trauma_red_flag() -> None:
    out = planned({"code": "neck_pain", "onset_days": 20}, patient={"age": 35},
                  findings=[{"code": "recent_major_trauma", "days_ago": 20, "cleared": True}])
    assert out["referrals"] == [] and at(out, "neck") and home_touching(out, {"neck"})


def test_minor_trauma_at_88_makes_the_painful_low_back_a_suspected_fracture() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 4}, patient={"age": 88},
                  findings=[{"code": "recent_minor_trauma", "days_ago": 4}])
    assert any(r["reason"] == "suspected_fracture" for r in out["referrals"])
    assert "knee_to_chest" not in [h["exercise"] for h in out["home_program"]]
    assert home_touching(out, {"lower_back"}) == []
    assert at(out, "lower_back") == []
    assert therapies_for(out, "low_back_pain") == set()


def test_a_leg_with_a_wells_leg_sign_gets_no_exercise_or_therapy_anywhere_on_it() -> None:
    out = planned({"code": "muscle_tightness", "region": "calf", "side": "right", "onset_days": 100},
                  screens={"wells": {"version": "2003", "side": "right",
                                     "items": ["calf_swelling_3cm", "alternative_diagnosis_as_likely"]}})
    assert out["screens"]["wells"]["category"] == "unlikely"
    assert therapies_for(out, "muscle_tightness") == set()
    assert home_touching(out, LEG, "right") == []


def test_an_ottawa_positive_ankle_gets_no_exercise_or_therapy_for_the_sprain() -> None:
    out = planned({"code": "ligament_sprain", "region": "ankle", "side": "left", "onset_days": 10},
                  screens={"ottawa_ankle": {"side": "left", "malleolar_zone_pain": True,
                                            "lateral_malleolus_tenderness": True}})
    assert home_touching(out, {"ankle", "foot"}, "left") == []
    assert therapies_for(out, "ligament_sprain") == set()
    assert any(r["reason"] == "suspected_fracture" for r in out["referrals"])


def test_a_skin_only_block_keeps_exercise_that_moves_the_region_but_nothing_applied_there() -> None:
    out = planned({"code": "ligament_sprain", "region": "ankle", "side": "left", "onset_days": 3},
                  findings=[{"code": "open_wound", "region": "ankle", "side": "left"}])
    assert home_touching(out, {"ankle"}, "left")
    assert "cold" not in therapies_for(out, "ligament_sprain")


def test_a_home_exercise_for_another_region_stays() -> None:
    out = planned({"code": "myofascial_pain_syndrome", "region": "upper_back", "onset_days": 90},
                  {"code": "neck_pain", "onset_days": 30},
                  findings=[{"code": "tumour", "region": "upper_back"}])
    assert home_touching(out, {"upper_back"}) == []
    assert [h for h in out["home_program"] if h["region"] == "neck"]
    assert "therapeutic_exercise" not in therapies_for(out, "myofascial_pain_syndrome")
    assert "therapeutic_exercise" in therapies_for(out, "neck_pain")


def test_restrictions_say_what_they_forbid_for_exercise_and_therapies() -> None:
    out = planned({"code": "muscle_tightness", "region": "thigh", "side": "left", "onset_days": 90},
                  findings=[{"code": "recent_fracture", "region": "knee", "side": "left", "days_ago": 40},
                            {"code": "burn", "region": "forearm", "side": "right"}])
    fracture = next(r for r in out["restrictions"] if r["region"] == "knee" and r["max_pressure"] == "none")
    assert fracture["exercise"] is True and set(fracture["therapies"]) == set(KB.therapies)
    burn = next(r for r in out["restrictions"] if r["region"] == "forearm")
    assert burn["exercise"] is False and {"heat", "cold", "electrical_stimulation"} <= set(burn["therapies"])


# -- §1.7: clinic or request settings can never switch safety off ---------------------------------

@pytest.mark.parametrize(("setting", "value", "bound"), [
    ("fever_c", 40.0, "38.5"), ("fever_c", 37.0, "37.5"), ("bp_systolic", 220, "180"), ("bp_diastolic", 130, "110"),
    ("proliferative_max_days", 7, "21"), ("incision_healed_days", 0, "14"),
])
def test_a_setting_outside_its_safe_bound_is_refused_naming_the_bound(setting: str, value: float, bound: str) -> None:
    error = refused({"conditions": [{"code": "low_back_pain", "onset_days": 30}], "policy": {setting: value}})
    assert (error.code, error.path) == ("out_of_range", f"policy.{setting}")
    assert bound in error.message


def test_a_setting_within_its_bound_makes_the_policy_stricter() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 30}, vitals={"temperature_c": 37.6},
                  policy={"fever_c": 37.5})
    assert out["session"] == "hold"


# -- §1.4: red flags for back pain ------------------------------------------------------------------

@pytest.mark.parametrize("extra", [
    [{"code": "unexplained_weight_loss"}, {"code": "night_pain"}],
    [{"code": "unexplained_weight_loss"}],
    [{"code": "night_pain"}],
])
def test_back_pain_at_sixty_with_weight_loss_or_night_pain_is_referred_and_capped(extra: list[dict[str, str]]) -> None:
    out = planned({"code": "low_back_pain", "onset_days": 30}, patient={"age": 60}, findings=extra)
    assert out["session"] == "modify"
    assert any(r["urgency"] in ("routine", "same_day", "emergency") for r in out["referrals"])
    assert at(out, "lower_back") and not [i for i in at(out, GROUPS["spine"]) if i["pressure"] != "light"]
    assert not [i for i in out["plan"] if i["technique"] == "trigger_point" and i["region"] in GROUPS["spine"]
                and RANK[i["pressure"]] > 1]


def test_back_pain_under_twenty_with_night_pain_is_a_red_flag_too() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 30}, patient={"age": 17}, findings=[{"code": "night_pain"}])
    assert out["referrals"] and not [i for i in out["plan"] if i["pressure"] != "light"]


def test_a_history_of_cancer_with_new_back_pain_is_referred_and_capped() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 30}, patient={"age": 45},
                  findings=[{"code": "history_of_cancer"}])
    assert out["session"] == "modify" and out["referrals"]
    assert not [i for i in at(out, GROUPS["spine"]) if i["pressure"] != "light"]


def test_night_pain_at_sixty_without_back_pain_is_not_a_spinal_red_flag() -> None:
    out = planned({"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 60},
                  patient={"age": 60}, findings=[{"code": "night_pain"}])
    assert out["referrals"] == []


# -- §1.1: Wells low or unlikely with a leg sign -----------------------------------------------------

def test_wells_1997_low_with_calf_swelling_and_pitting_oedema_allows_only_light_effleurage_on_that_leg() -> None:
    out = planned({"code": "muscle_tightness", "region": "calf", "side": "left", "onset_days": 100},
                  screens={"wells": {"version": "1997", "side": "left", "items": [
                      "calf_swelling_3cm", "pitting_oedema", "alternative_diagnosis_as_likely"]}})
    assert out["screens"]["wells"]["category"] == "low"
    leg = at(out, LEG, "left")
    assert leg and all(i["technique"] == "effleurage" and i["pressure"] == "light" for i in leg)
    assert any(r["region"] in ("lower_limb", "calf") and r["side"] == "left" for r in out["restrictions"])
    assert out["session"] == "modify"


def test_a_leg_sign_on_one_leg_leaves_the_other_leg_alone() -> None:
    out = planned({"code": "muscle_tightness", "region": "calf", "side": "right", "onset_days": 100},
                  screens={"wells": {"version": "1997", "side": "left", "items": [
                      "pitting_oedema", "alternative_diagnosis_as_likely"]}})
    assert [i for i in at(out, "calf", "right") if i["technique"] == "petrissage"]


# -- §1.3 and §1.5: severe osteoporosis, new hip pain ------------------------------------------------

def test_severe_osteoporosis_with_new_hip_pain_treats_the_hip_as_a_suspected_fracture() -> None:
    out = planned({"code": "muscle_tightness", "region": "thigh", "side": "right", "onset_days": 100},
                  patient={"age": 77},
                  findings=[{"code": "severe_osteoporosis"}, {"code": "new_pain", "region": "hip", "side": "right"}])
    assert at(out, "hip", "right") == []
    assert not [i for i in at(out, LEG, "right") if i["pressure"] != "light"]
    assert not [i for i in out["plan"] if i["technique"] in ("friction", "trigger_point")]
    assert "hamstring_stretch" not in [h["exercise"] for h in out["home_program"]]
    assert home_touching(out, {"hip"}, "right") == []
    assert any(r["reason"] == "suspected_fracture" for r in out["referrals"])


def test_severe_osteoporosis_caps_hips_and_gluteal_light_and_deep_work_everywhere() -> None:
    out = planned({"code": "muscle_tightness", "region": "gluteal", "side": "left", "onset_days": 100},
                  {"code": "muscle_tightness", "region": "calf", "side": "left", "onset_days": 100},
                  findings=[{"code": "severe_osteoporosis"}])
    assert not [i for i in at(out, "gluteal") if i["pressure"] != "light"]
    assert not [i for i in out["plan"] if i["pressure"] == "deep"]
    assert at(out, "calf", "left")


# -- §2: post-operative proliferative phase ----------------------------------------------------------

def test_the_post_operative_proliferative_phase_is_effleurage_only() -> None:
    out = planned({"code": "post_operative", "region": "shoulder", "side": "left", "surgery_days_ago": 12,
                   "incision_closed": True})
    assert out["conditions"][0]["phase"] == "proliferative"
    assert out["plan"] and not [i for i in out["plan"] if i["technique"] == "petrissage"]


# -- §2: "proximal" on the trunk ------------------------------------------------------------------------

def test_an_acute_neck_strain_is_treated_at_the_neck_and_never_at_the_head() -> None:
    out = planned({"code": "muscle_strain", "region": "neck", "onset_days": 2})
    assert at(out, "head") == []
    assert [i for i in at(out, "neck") if i["technique"] == "effleurage" and i["pressure"] == "light"]


def test_an_acute_low_back_strain_is_treated_at_the_low_back_only() -> None:
    out = planned({"code": "muscle_strain", "region": "lower_back", "onset_days": 2})
    assert {i["region"] for i in out["plan"]} == {"lower_back"}


def test_no_condition_at_the_neck_is_planned_at_the_head() -> None:
    out = planned({"code": "post_operative", "region": "neck", "surgery_days_ago": 60, "incision_closed": True})
    assert at(out, "head") == [] and out["plan"]


# -- §1.2: local blocks --------------------------------------------------------------------------------

def test_acute_inflammation_leaves_the_inflamed_wrist_untouched_and_only_light_effleurage_above_it() -> None:
    out = planned({"code": "tendinopathy", "region": "wrist", "side": "left", "onset_days": 60},
                  findings=[{"code": "acute_inflammation", "region": "wrist", "side": "left"}])
    assert at(out, "wrist", "left") == []
    forearm = at(out, "forearm", "left")
    assert forearm and all(i["technique"] == "effleurage" and i["pressure"] == "light" for i in forearm)
    assert not {"heat", "cold", "electrical_stimulation"} & therapies_for(out, "tendinopathy")


def test_lymphoedema_allows_only_light_effleurage_on_that_limb() -> None:
    out = planned({"code": "muscle_tightness", "region": "forearm", "side": "right", "onset_days": 90},
                  findings=[{"code": "lymphoedema", "region": "upper_limb", "side": "right"}])
    limb = at(out, GROUPS["upper_limb"], "right")
    assert limb and all(i["technique"] == "effleurage" and i["pressure"] == "light" for i in limb)


def test_local_infection_blocks_everything_between_it_and_the_trunk_on_that_limb() -> None:
    out = planned({"code": "muscle_tightness", "region": "upper_arm", "side": "left", "onset_days": 90},
                  {"code": "myofascial_pain_syndrome", "region": "hand", "side": "left", "onset_days": 90},
                  findings=[{"code": "local_infection", "region": "forearm", "side": "left"}])
    assert at(out, {"forearm", "elbow", "upper_arm", "shoulder"}, "left") == []
    assert at(out, "hand", "left")
    assert home_touching(out, {"forearm", "elbow", "upper_arm", "shoulder"}, "left") == []


@pytest.mark.parametrize("finding", [
    {"code": "recent_fracture", "region": "foot", "side": "right", "days_ago": 10},
    {"code": "surgical_incision", "region": "knee", "side": "right", "days_ago": 20, "closed": True},
])
def test_within_four_weeks_of_leg_surgery_or_fracture_the_rest_of_that_leg_is_light_only(finding: dict[str, Any]) -> None:
    out = planned({"code": "muscle_tightness", "region": "thigh", "side": "right", "onset_days": 90},
                  {"code": "muscle_tightness", "region": "thigh", "side": "left", "onset_days": 90},
                  findings=[finding])
    right = at(out, LEG, "right")
    assert right and all(i["pressure"] == "light" and i["technique"] not in ("friction", "trigger_point")
                         for i in right)
    assert [i for i in at(out, "thigh", "left") if i["pressure"] != "light"]


def test_after_four_weeks_the_leg_window_closes() -> None:
    out = planned({"code": "muscle_tightness", "region": "thigh", "side": "right", "onset_days": 90},
                  findings=[{"code": "recent_fracture", "region": "foot", "side": "right", "days_ago": 40}])
    assert [i for i in at(out, "thigh", "right") if i["pressure"] != "light"]


# -- §1.8: session ----------------------------------------------------------------------------------------

def test_a_same_day_referral_never_leaves_the_session_at_proceed() -> None:
    out = planned({"code": "muscle_tightness", "region": "upper_back", "onset_days": 90},
                  screens={"wells": {"version": "2003", "side": "right", "items": [
                      "bedridden_or_major_surgery", "calf_swelling_3cm", "alternative_diagnosis_as_likely"]}})
    assert any(r["urgency"] == "same_day" for r in out["referrals"]) and out["restrictions"]
    assert out["session"] == "modify"


def test_proceed_means_nothing_in_the_screen_applies() -> None:
    out = planned({"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 56},
                  findings=[{"code": "open_wound", "region": "forearm", "side": "right"}])
    assert out["session"] == "proceed"


# -- §3: dose ---------------------------------------------------------------------------------------------

FIVE = [{"code": "myofascial_pain_syndrome", "region": "neck", "onset_days": 90},
        {"code": "low_back_pain", "onset_days": 90},
        {"code": "muscle_tightness", "region": "thigh", "side": "left", "onset_days": 90},
        {"code": "tendinopathy", "region": "elbow", "side": "right", "onset_days": 90},
        {"code": "joint_stiffness", "region": "knee", "side": "right", "onset_days": 90}]


def test_five_conditions_never_cut_a_dose_below_its_shortest_sourced_length() -> None:
    out = planned(*FIVE)
    assert all(i["minutes"] >= 3 for i in out["plan"] if i["technique"] == "myofascial_release")
    assert all(i["minutes"] >= 3 for i in out["plan"] if i["technique"] == "trigger_point")
    assert out["total_minutes"] <= 30
    assert any("left out" in w for w in out["warnings"])


def test_severe_soreness_removes_friction_and_trigger_points_and_prompts_a_reassessment() -> None:
    for last in ({"soreness_24h": 8}, {"soreness_24h": 3, "soreness_hours": 80}):
        out = planned({"code": "myofascial_pain_syndrome", "region": "neck", "onset_days": 90},
                      {"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 90},
                      last_session=last)
        assert out["plan"] and not [i for i in out["plan"] if i["technique"] in ("friction", "trigger_point")]
        assert any("adverse event" in w for w in out["warnings"]), last


def test_a_session_under_the_clinic_minimum_says_so() -> None:
    out = planned({"code": "muscle_strain", "region": "calf", "side": "left", "onset_days": 2})
    assert out["total_minutes"] < 15
    assert any("minimum" in w for w in out["warnings"])


# -- §2: condition-region pairs ---------------------------------------------------------------------------

@pytest.mark.parametrize(("condition", "allowed"), [
    ({"code": "tendinopathy", "region": "abdomen"}, "elbow"),
    ({"code": "carpal_tunnel_syndrome", "region": "neck"}, "wrist"),
    ({"code": "bursitis", "region": "forearm", "side": "left"}, "shoulder"),
    ({"code": "low_back_pain", "region": "knee", "side": "left"}, "lower_back"),
])
def test_a_condition_at_a_region_where_it_cannot_occur_is_refused_listing_the_allowed_regions(
        condition: dict[str, Any], allowed: str) -> None:
    error = refused({"conditions": [condition]})
    assert (error.code, error.path) == ("invalid_value", "conditions[0].region")
    assert allowed in error.message


# -- conflicting facts and resolving findings ------------------------------------------------------------

def test_a_conflicting_report_of_the_same_incision_resolves_to_the_unhealed_reading() -> None:
    out = planned({"code": "post_operative", "region": "knee", "side": "right", "surgery_days_ago": 40,
                   "incision_closed": True},
                  findings=[{"code": "surgical_incision", "region": "knee", "side": "right", "days_ago": 40,
                             "closed": False}])
    assert not any("scar work is allowed" in w for w in out["warnings"])
    assert at(out, "knee", "right") == []
    assert any(r["region"] == "knee" and r["max_pressure"] == "none" for r in out["restrictions"])


def test_age_never_clears_a_fracture_or_a_dvt_and_a_recorded_clearance_does() -> None:
    tight = {"code": "muscle_tightness", "region": "thigh", "side": "left", "onset_days": 90}
    old_fracture = planned(tight, findings=[{"code": "recent_fracture", "region": "thigh", "side": "left",
                                             "days_ago": 400}])
    assert at(old_fracture, "thigh", "left") == []
    consolidated = planned(tight, findings=[{"code": "recent_fracture", "region": "thigh", "side": "left",
                                             "days_ago": 400, "cleared": True}])
    assert consolidated["restrictions"] == [] and at(consolidated, "thigh", "left")
    old_dvt = planned(tight, findings=[{"code": "dvt", "region": "calf", "side": "left", "days_ago": 400}])
    assert old_dvt["session"] == "hold"
    cleared_dvt = planned(tight, findings=[{"code": "dvt", "region": "calf", "side": "left", "days_ago": 400,
                                            "cleared": True}])
    assert cleared_dvt["session"] == "proceed" and cleared_dvt["restrictions"] == []


def test_only_findings_that_resolve_take_a_clearance() -> None:
    error = refused({"conditions": [], "findings": [{"code": "open_wound", "region": "calf", "side": "left",
                                                     "cleared": True}]})
    assert error.path == "findings[0].cleared" and "recent_fracture" in error.message


# -- §1.7: the core functions the settings form and a data migration use ----------------------------

def test_the_settings_form_can_check_a_value_and_show_its_bound() -> None:
    from palpate.core.policy import check_setting, setting_bound

    bound = setting_bound("fever_c")
    assert (bound.min, bound.max, bound.unit) == (37.5, 38.5, "°C") and "38.5" in bound.bound_text()
    assert check_setting("fever_c", 37.8) == 37.8
    with pytest.raises(InputError) as caught:
        check_setting("incision_healed_days", 7)
    assert caught.value.path == "incision_healed_days" and "14" in caught.value.message
    with pytest.raises(InputError):
        check_setting("incision_healed_days", 14.5)


def test_a_migration_brings_stored_values_to_their_bound_and_says_what_it_changed() -> None:
    from palpate.core.policy import apply_overrides, bring_to_bound, default_policy, overrides_within_bounds

    assert bring_to_bound("fever_c", 40) == 38.5 and bring_to_bound("bp_systolic", 150) == 160
    assert bring_to_bound("proliferative_max_days", 30) == 30
    stored = {"fever_c": 39.0, "proliferative_max_days": 7, "incision_healed_days": 0, "session_minutes_max": 25,
              "retired_setting": 3}
    kept, changes = overrides_within_bounds(stored)
    assert kept == {"fever_c": 38.5, "proliferative_max_days": 21, "incision_healed_days": 14,
                    "session_minutes_max": 25}
    assert {c.key for c in changes} == {"fever_c", "proliferative_max_days", "incision_healed_days", "retired_setting"}
    assert next(c for c in changes if c.key == "retired_setting").now is None
    apply_overrides(default_policy(), kept)  # valid again


def test_an_inconsistent_pair_left_after_bounding_falls_back_to_the_defaults() -> None:
    from palpate.core.policy import overrides_within_bounds

    kept, changes = overrides_within_bounds({"session_minutes_min": 40, "session_minutes_max": 20})
    assert kept == {} and {c.key for c in changes} == {"session_minutes_min", "session_minutes_max"}


# -- §1.1: cauda equina, bowel dysfunction too ----------------------------------------------------------

def test_new_bowel_dysfunction_holds_and_refers_as_an_emergency() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 10}, findings=[{"code": "bowel_dysfunction"}])
    assert out["session"] == "hold"
    assert any(r["reason"] == "cauda_equina" and r["urgency"] == "emergency" for r in out["referrals"])


def test_only_pain_after_the_trauma_makes_a_region_a_suspected_fracture() -> None:
    out = planned({"code": "neck_pain", "onset_days": 3},
                  {"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 60},
                  patient={"age": 40}, findings=[{"code": "recent_major_trauma", "days_ago": 3}])
    assert at(out, "neck") == [] and home_touching(out, {"neck"}) == []
    assert at(out, "elbow", "left") or at(out, "forearm", "left")
    assert not any(r["region"] == "elbow" and r["max_pressure"] == "none" for r in out["restrictions"])
    undated = planned({"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 60},
                      patient={"age": 40}, findings=[{"code": "recent_major_trauma"}])
    assert any(r["region"] == "elbow" and r["max_pressure"] == "none" for r in undated["restrictions"])
