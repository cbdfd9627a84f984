"""Planning: tailoring by phase, irritability, soreness and condition, restrictions respected with
a reason for every change, and the plan of care around the massage (planning-policy.md §2-§4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from palpate.core.kb.clinical import knowledge_base
from palpate.core.planning import PlanResult, plan, plan_request
from palpate.core.policy import apply_overrides, default_policy
from palpate.core.request import parse_request

RANK = {"light": 1, "moderate": 2, "deep": 3}


def planned(*conditions: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return plan_request({"conditions": list(conditions), **rest})


def items(out: dict[str, Any], **where: Any) -> list[dict[str, Any]]:
    return [i for i in out["plan"] if all(i.get(k) == v for k, v in where.items())]


def places(out: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    return {(i["technique"], i["region"], i["side"]) for i in out["plan"]}


def tendon(**extra: Any) -> dict[str, Any]:
    return {"code": "tendinopathy", "region": "elbow", "side": "left", **extra}


# -- phases and irritability ----------------------------------------------------------------------

@pytest.mark.parametrize(("days", "phase"), [(0, "inflammatory"), (5, "inflammatory"), (6, "proliferative"),
                                             (21, "proliferative"), (22, "remodelling"), (400, "remodelling")])
def test_the_phase_follows_onset_days_at_the_policy_boundaries(days: int, phase: str) -> None:
    assert planned(tendon(onset_days=days))["conditions"][0]["phase"] == phase


def test_explicit_irritability_overrides_time_since_onset() -> None:
    out = planned(tendon(onset_days=3, irritability="low"))
    assert out["conditions"][0]["phase"] == "remodelling"
    assert planned(tendon(onset_days=90, irritability="high"))["conditions"][0]["phase"] == "inflammatory"


@pytest.mark.parametrize(("pain", "phase"), [(8, "inflammatory"), (7, "inflammatory"), (5, "proliferative"),
                                             (3, "remodelling"), (0, "remodelling")])
def test_without_onset_irritability_comes_from_pain(pain: int, phase: str) -> None:
    assert planned(tendon(pain_nprs=pain))["conditions"][0]["phase"] == phase


def test_the_more_irritable_of_onset_and_pain_wins() -> None:
    chronic_but_irritable = planned(tendon(onset_days=90, pain_nprs=8))["conditions"][0]
    assert chronic_but_irritable["phase"] == "inflammatory" and "pain 8/10" in chronic_but_irritable["basis"]
    assert planned(tendon(onset_days=3, pain_nprs=1))["conditions"][0]["phase"] == "inflammatory"


def test_with_nothing_to_go_on_the_moderate_policy_default_applies() -> None:
    condition = planned(tendon())["conditions"][0]
    assert condition["phase"] == "proliferative" and "policy" in condition["basis"]


def test_a_post_operative_phase_counts_from_the_surgery() -> None:
    out = planned({"code": "post_operative", "region": "knee", "side": "left", "surgery_days_ago": 3})
    assert out["conditions"][0]["phase"] == "inflammatory"


# -- tailoring by condition ---------------------------------------------------------------------------

def test_a_remodelling_tendinopathy_gets_deep_friction_at_the_tendon_and_kneading_of_its_muscle() -> None:
    out = planned(tendon(onset_days=56, irritability="low"))
    assert items(out, technique="friction", region="elbow", side="left", pressure="deep")
    assert items(out, technique="petrissage", region="forearm", side="left")
    assert out["session"] == "proceed" and out["restrictions"] == []


def test_an_inflammatory_phase_is_light_effleurage_only() -> None:
    for code, region, side in [("muscle_strain", "calf", "right"), ("tendinopathy", "knee", "left"),
                               ("low_back_pain", "lower_back", None), ("bursitis", "shoulder", "right")]:
        condition = {"code": code, "region": region, "onset_days": 2, **({"side": side} if side else {})}
        out = planned(condition)
        assert out["plan"], code
        assert {(i["technique"], i["pressure"]) for i in out["plan"]} == {("effleurage", "light")}, code


def test_an_acute_strain_gets_effleurage_proximal_to_the_site() -> None:
    out = planned({"code": "muscle_strain", "region": "calf", "side": "right", "onset_days": 2})
    assert items(out, region="thigh", side="right", technique="effleurage")
    assert all(i["pressure"] == "light" for i in out["plan"])
    # planning-policy §2: proximal to the site, nothing over the fresh injury itself.
    assert not items(out, region="calf", side="right")


def test_an_acute_sprain_is_not_worked_over_the_ligament() -> None:
    out = planned({"code": "ligament_sprain", "region": "ankle", "side": "left", "onset_days": 1})
    assert items(out, region="calf", side="left") and not items(out, region="ankle", side="left")


@pytest.mark.parametrize(("region", "muscles"), [("elbow", {"forearm"}), ("shoulder", {"upper_back", "upper_arm"}),
                                                 ("knee", {"thigh"}), ("ankle", {"calf"}), ("wrist", {"forearm"})])
def test_tendinopathy_works_the_related_muscles_of_each_tendon(region: str, muscles: set[str]) -> None:
    out = planned({"code": "tendinopathy", "region": region, "side": "right", "onset_days": 30})
    assert {i["region"] for i in items(out, technique="petrissage")} == muscles
    assert items(out, technique="friction", region=region)


def test_bursitis_is_never_treated_over_the_bursa() -> None:
    for days in (2, 10, 60):
        out = planned({"code": "bursitis", "region": "shoulder", "side": "left", "onset_days": days})
        assert out["plan"] and not items(out, region="shoulder")
        assert not items(out, technique="friction")


def test_carpal_tunnel_never_gets_deep_pressure_over_the_wrist() -> None:
    out = planned({"code": "carpal_tunnel_syndrome", "region": "wrist", "side": "right", "onset_days": 90},
                  last_session={"soreness_24h": 0, "relief": "good"})
    assert all(i["pressure"] == "light" for i in items(out, region="wrist"))
    assert items(out, region="forearm", technique="myofascial_release")


def test_post_operative_scar_work_waits_for_a_closed_incision_at_two_weeks() -> None:
    closed = planned({"code": "post_operative", "region": "knee", "side": "left", "surgery_days_ago": 30,
                      "incision_closed": True})
    assert items(closed, technique="myofascial_release", region="knee")
    assert items(closed, technique="friction", region="knee")
    assert closed["restrictions"] == []
    open_scar = planned({"code": "post_operative", "region": "knee", "side": "left", "surgery_days_ago": 30,
                         "incision_closed": False})
    assert not items(open_scar, region="knee") and open_scar["plan"]
    # Planning policy v2 §1.8: the open incision's restriction covers the knee the plan would have
    # treated, so the session is modified, not "nothing found".
    assert open_scar["session"] == "modify"


def test_every_condition_gets_a_plan_in_every_phase_when_nothing_restricts() -> None:
    kb = knowledge_base()
    for code in kb.conditions:
        for irritability in ("high", "moderate", "low"):
            spec = kb.conditions[code]
            region = spec.default_region or ("knee" if "knee" in spec.regions else spec.regions[0])
            condition: dict[str, Any] = {"code": code, "region": region, "irritability": irritability}
            if kb.regions.regions[region].paired:
                condition["side"] = "left"
            if code == "post_operative":
                # A healed incision outside the 4-week leg window: nothing left to screen.
                condition.update(surgery_days_ago=60, incision_closed=True)
            out = planned(condition)
            assert out["plan"] and out["session"] == "proceed", (code, irritability)


def test_two_conditions_sharing_a_technique_and_region_get_it_once_at_the_gentler_pressure() -> None:
    out = planned({"code": "muscle_tightness", "region": "forearm", "side": "left", "onset_days": 90},
                  {"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 10})
    kneading = items(out, technique="petrissage", region="forearm")
    assert len(kneading) == 1 and kneading[0]["pressure"] == "moderate"
    assert kneading[0]["also_for"] == ["tendinopathy"]


def test_an_inflammatory_site_gets_only_light_effleurage_whoever_plans_there() -> None:
    out = planned({"code": "muscle_strain", "region": "calf", "side": "left", "onset_days": 1},
                  {"code": "muscle_tightness", "region": "calf", "side": "left", "onset_days": 200})
    assert {(i["technique"], i["pressure"]) for i in items(out, region="calf")} == {("effleurage", "light")}
    assert out["session"] == "proceed"


# -- response to the last session ---------------------------------------------------------------------

def test_high_soreness_lowers_the_pressure_one_level() -> None:
    base = planned(tendon(onset_days=56))
    sore = planned(tendon(onset_days=56), last_session={"soreness_24h": 6, "soreness_hours": 24})
    before = {(i["technique"], i["region"]): RANK[i["pressure"]] for i in base["plan"]}
    after = {(i["technique"], i["region"]): RANK[i["pressure"]] for i in sore["plan"]}
    assert max(after.values()) <= max(before.values())
    assert all(after[k] == max(1, v - 1) for k, v in before.items())
    assert "one level lower" in items(sore, technique="friction")[0]["rationale"]


def test_soreness_lasting_over_48_hours_also_lowers_the_pressure() -> None:
    sore = planned(tendon(onset_days=56), last_session={"soreness_24h": 3, "soreness_hours": 72})
    assert items(sore, technique="friction")[0]["pressure"] == "moderate"


def test_low_soreness_with_good_relief_progresses_one_level_but_never_past_the_phase() -> None:
    progressed = planned({"code": "muscle_tightness", "region": "thigh", "side": "left", "onset_days": 10},
                         last_session={"soreness_24h": 1, "relief": "good"})
    assert {i["pressure"] for i in progressed["plan"]} == {"moderate"}  # proliferative ceiling
    acute = planned({"code": "muscle_strain", "region": "thigh", "side": "left", "onset_days": 2},
                    last_session={"soreness_24h": 0, "relief": "good"})
    assert {i["pressure"] for i in acute["plan"]} == {"light"}


def test_low_soreness_without_good_relief_does_not_progress() -> None:
    base = planned(tendon(onset_days=10))
    same = planned(tendon(onset_days=10), last_session={"soreness_24h": 1, "relief": "some"})
    assert places(base) == places(same)
    assert [i["pressure"] for i in base["plan"]] == [i["pressure"] for i in same["plan"]]


def test_pressure_tolerance_caps_every_item() -> None:
    out = planned(tendon(onset_days=56), last_session={"pressure_tolerance": "light"})
    assert {i["pressure"] for i in out["plan"]} == {"light"}
    assert out["session"] == "proceed"


# -- restrictions in the plan -----------------------------------------------------------------------

def test_a_restriction_far_from_the_plan_changes_nothing() -> None:
    out = planned(tendon(onset_days=56, irritability="low"),
                  findings=[{"code": "open_wound", "region": "forearm", "side": "right"}])
    assert out["session"] == "proceed" and not items(out, side="right")
    assert items(out, technique="friction", region="elbow", side="left")


def test_a_forbidden_technique_is_replaced_by_light_effleurage_when_the_restriction_allows() -> None:
    out = planned(tendon(onset_days=56), findings=[{"code": "anticoagulant_therapy"}])
    assert out["session"] == "modify"
    at_elbow = items(out, region="elbow")
    assert [(i["technique"], i["pressure"]) for i in at_elbow] == [("effleurage", "light")]
    assert "friction replaced with light effleurage" in at_elbow[0]["adjusted"]
    assert any(a["action"] == "substituted" and a["technique"] == "friction" and a["to_technique"] == "effleurage"
               and a["because"] == ["anticoagulant_therapy"] for a in out["adjustments"])
    assert {i["pressure"] for i in out["plan"]} == {"light"}


def test_a_region_where_everything_is_forbidden_is_dropped_and_said_so() -> None:
    out = planned(tendon(onset_days=56), findings=[{"code": "open_wound", "region": "forearm", "side": "left"}])
    assert out["session"] == "modify"
    assert not items(out, region="forearm")
    assert {a["action"] for a in out["adjustments"] if a["region"] == "forearm"} == {"dropped"}
    assert items(out, technique="friction", region="elbow")


def test_a_fracture_caps_deep_work_on_the_rest_of_its_segment() -> None:
    out = planned(tendon(onset_days=56), findings=[{"code": "recent_fracture", "region": "forearm", "side": "left"}])
    assert items(out, technique="friction", region="elbow")[0]["pressure"] == "moderate"


def test_when_every_item_of_a_condition_is_blocked_the_plan_says_so() -> None:
    out = planned({"code": "neck_pain", "onset_days": 60}, findings=[{"code": "tumour", "region": "neck"}])
    assert out["plan"] == [] and out["session"] == "modify"
    assert any("No soft-tissue work for neck_pain" in w for w in out["warnings"])


def test_a_hold_empties_the_plan_but_keeps_restrictions_and_referrals() -> None:
    out = planned({"code": "muscle_strain", "region": "calf", "side": "right", "onset_days": 10},
                  screens={"wells": {"version": "2003", "side": "right", "items": [
                      "localised_deep_vein_tenderness", "calf_swelling_3cm", "pitting_oedema",
                      "bedridden_or_major_surgery"]}})
    assert out["session"] == "hold" and out["plan"] == [] and out["home_program"] == []
    assert out["restrictions"] and out["referrals"][0]["reason"] == "suspected_dvt"
    assert out["warnings"][0].startswith("Session held")


def test_fever_holds_the_session() -> None:
    out = planned({"code": "neck_pain", "region": "neck", "onset_days": 3}, vitals={"temperature_c": 38.6})
    assert out["session"] == "hold" and out["plan"] == []


# -- session length, output shape ---------------------------------------------------------------------

def test_the_manual_time_fits_the_session_length_and_a_clinic_can_change_it() -> None:
    many = [{"code": "neck_pain", "onset_days": 100},
            {"code": "muscle_tightness", "region": "shoulder", "side": "right", "onset_days": 100},
            {"code": "tendinopathy", "region": "ankle", "side": "left", "onset_days": 100}]
    out = planned(*many)
    assert out["total_minutes"] <= 30
    assert {c["code"] for c in many} <= {code for i in out["plan"] for code in (i["for"], *i.get("also_for", []))}
    assert items(out, technique="friction", region="ankle"), "the key technique survives, openers go first"
    longer = planned(*many, policy={"session_minutes_max": 60})
    assert 30 < longer["total_minutes"] <= 60
    assert longer["policy_overrides"] == {"session_minutes_max": 60}


def test_a_short_plan_is_lengthened_toward_the_session_minimum() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 2})
    assert out["total_minutes"] == knowledge_base().techniques["effleurage"].minutes_max


def test_trigger_points_are_dosed_by_point_time() -> None:
    out = planned({"code": "myofascial_pain_syndrome", "region": "upper_back", "onset_days": 60})
    point = items(out, technique="trigger_point")[0]
    assert point["minutes"] == 3 and "60 s per point" in point["rationale"]


def test_plan_items_carry_rationale_evidence_and_billing_code() -> None:
    out = planned(tendon(onset_days=56))
    friction = items(out, technique="friction")[0]
    assert friction["for"] == "tendinopathy" and friction["cpt"] == "97140"
    assert any("Cochrane" in e for e in friction["evidence"]) and "policy" in friction["evidence"]
    assert "Remodelling" in friction["rationale"]
    assert out["contract"] == "palpate.plan/1" and out["kb_version"] == "2026.2"


def test_the_typed_api_returns_a_frozen_result_with_a_json_form() -> None:
    result = plan(parse_request({"conditions": [tendon(onset_days=56)], "id": "patient-7"}))
    assert isinstance(result, PlanResult)
    with pytest.raises(AttributeError):
        result.session = "hold"  # type: ignore[misc]
    assert result.to_json()["id"] == "patient-7"
    assert result.total_minutes == sum(i.minutes for i in result.plan)


def test_a_clinic_policy_passed_to_the_api_is_used() -> None:
    clinic = apply_overrides(default_policy(), {"inflammatory_max_days": 8})
    result = plan(parse_request({"conditions": [tendon(onset_days=7)]}), clinic)
    assert result.conditions[0].phase == "inflammatory"


def test_the_same_request_gives_byte_identical_output() -> None:
    payload = {"conditions": [tendon(onset_days=56)], "findings": [{"code": "anticoagulant_therapy"}]}
    assert json.dumps(plan_request(payload)) == json.dumps(plan_request(payload))


# -- complementary therapies and home programme --------------------------------------------------------

def therapies(out: dict[str, Any]) -> set[str]:
    return {c["therapy"] for c in out["complementary"]}


def test_cold_in_the_inflammatory_phase_and_exercise_after_it() -> None:
    acute = planned({"code": "muscle_strain", "region": "calf", "side": "left", "onset_days": 2})
    assert "cold" in therapies(acute) and "therapeutic_exercise" not in therapies(acute)
    later = planned({"code": "muscle_strain", "region": "calf", "side": "left", "onset_days": 30})
    assert "therapeutic_exercise" in therapies(later) and "cold" not in therapies(later)


def test_condition_specific_complements_follow_the_policy() -> None:
    assert {"heat", "postural_training"} <= therapies(planned({"code": "muscle_tightness", "region": "neck",
                                                               "onset_days": 90}))
    assert "joint_mobilisation" in therapies(planned({"code": "joint_stiffness", "region": "knee", "side": "left",
                                                      "onset_days": 40}))
    assert "neuromuscular_reeducation" in therapies(planned({"code": "ligament_sprain", "region": "ankle",
                                                             "side": "left", "onset_days": 20}))
    assert "postural_training" in therapies(planned({"code": "low_back_pain", "onset_days": 2}))


def test_electrical_stimulation_is_offered_for_pain_but_never_over_a_contraindicated_site() -> None:
    painful = {"code": "low_back_pain", "pain_nprs": 6}
    assert "electrical_stimulation" in therapies(planned(painful))
    assert "electrical_stimulation" not in therapies(planned(painful, findings=[
        {"code": "skin_lesion", "region": "lower_back"}]))
    assert "electrical_stimulation" not in therapies(planned(painful, patient={"pregnancy_weeks": 20}))


def test_joint_mobilisation_is_not_offered_over_an_osteoporotic_spine() -> None:
    spine = planned({"code": "joint_stiffness", "region": "neck", "onset_days": 40},
                    findings=[{"code": "severe_osteoporosis"}])
    assert "joint_mobilisation" not in therapies(spine)


def test_the_home_programme_has_two_to_four_matched_exercises_with_dose_and_instructions() -> None:
    out = planned(tendon(onset_days=56))
    programme = out["home_program"]
    assert 2 <= len(programme) <= 4
    assert programme[0]["exercise"] == "eccentric_wrist_extension"
    for exercise in programme:
        assert exercise["dose"] and exercise["instructions"] and exercise["side"] == "left"
    assert out["advice"] and "calf pain" in out["advice"]


def test_the_home_programme_avoids_blocked_regions() -> None:
    out = planned({"code": "ligament_sprain", "region": "ankle", "side": "right", "onset_days": 2},
                  screens={"ottawa_ankle": {"side": "right", "malleolar_zone_pain": True,
                                            "unable_to_bear_weight": True}})
    moved = {r for e in out["home_program"] for r in knowledge_base().exercises[
        [x.code for x in knowledge_base().exercises].index(e["exercise"])].regions}
    assert not moved & {"ankle", "foot"}


def test_the_home_programme_skips_exercises_unsafe_for_the_patient() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 3}, findings=[{"code": "severe_osteoporosis"}])
    assert not {"knee_to_chest", "cat_camel"} & {e["exercise"] for e in out["home_program"]}


def test_pregnancy_modifies_the_session_with_side_lying_and_keeps_the_back_plan() -> None:
    out = planned({"code": "low_back_pain", "onset_days": 30}, patient={"pregnancy_weeks": 24})
    assert out["session"] == "modify" and out["adjustments"] == []
    assert out["positioning"] and "Side-lying" in out["positioning"][0]
    assert items(out, region="lower_back")


def test_pregnancy_keeps_the_inner_legs_and_abdomen_light() -> None:
    out = planned({"code": "muscle_tightness", "region": "thigh", "side": "right", "onset_days": 90},
                  findings=[{"code": "pregnancy"}])
    assert items(out, region="thigh") and {i["pressure"] for i in items(out, region="thigh")} == {"light"}


def test_a_post_operative_onset_counts_as_days_since_surgery_for_the_scar() -> None:
    out = planned({"code": "post_operative", "region": "knee", "side": "right", "onset_days": 40,
                   "incision_closed": True})
    assert out["restrictions"] == [] and items(out, technique="myofascial_release", region="knee")


def test_an_acutely_inflamed_joint_gets_no_joint_mobilisation_and_only_gentle_exercises() -> None:
    out = planned({"code": "joint_stiffness", "region": "knee", "side": "left", "onset_days": 60},
                  findings=[{"code": "acute_inflammation", "region": "knee", "side": "left"}])
    assert "joint_mobilisation" not in therapies(out)
    library = {e.code: e for e in knowledge_base().exercises}
    for exercise in out["home_program"]:
        moved = library[exercise["exercise"]]
        assert "knee" not in moved.regions or "inflammatory" in moved.phases


THREE_CONDITIONS = [
    {"code": "tendinopathy", "region": "shoulder", "side": "left", "onset_days": 60},
    {"code": "low_back_pain", "region": "lower_back", "onset_days": 60},
    {"code": "muscle_strain", "region": "thigh", "side": "right", "onset_days": 60},
]


def test_a_long_session_is_shortened_before_any_region_is_left_out() -> None:
    out = plan_request({"conditions": THREE_CONDITIONS})
    cells = {(i["region"], i.get("side")) for i in out["plan"]}
    # Tendinopathy at the shoulder: the tendon and its muscles (upper back, upper arm) all keep work.
    assert {("shoulder", "left"), ("upper_back", None), ("upper_arm", "left")} <= cells
    assert out["total_minutes"] <= 30


def test_a_blocked_tendon_site_still_leaves_its_muscles_treated_in_a_long_session() -> None:
    out = plan_request({"conditions": THREE_CONDITIONS,
                        "findings": [{"code": "open_wound", "region": "shoulder", "side": "left"}]})
    cells = {(i["region"], i.get("side")) for i in out["plan"]}
    assert ("shoulder", "left") not in cells
    assert ("upper_arm", "left") in cells and ("upper_back", None) in cells


def test_two_conditions_with_one_code_are_each_accounted_for() -> None:
    out = plan_request({"conditions": [
        {"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 60},
        {"code": "tendinopathy", "region": "knee", "side": "right", "onset_days": 60},
    ], "findings": [{"code": "open_wound", "region": "upper_limb", "side": "left"}]})
    assert not [i for i in out["plan"] if i.get("side") == "left"]
    assert any("tendinopathy (left elbow)" in w for w in out["warnings"]), out["warnings"]
