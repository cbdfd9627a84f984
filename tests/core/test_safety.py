"""The one rule for items against restrictions (palpate.core.safety)."""

from __future__ import annotations

import pytest

from palpate.core.errors import InputError
from palpate.core.planning import plan_request
from palpate.core.safety import (
    OVERRIDE_REASON_MIN_CHARS,
    breaches,
    breaks,
    check_override_reason,
    describe_restriction,
    effective_restrictions,
    item_key,
    may_override,
    restriction_key,
)

OPEN_WOUND_LEFT_CALF = {"region": "calf", "side": "left", "techniques": ["effleurage", "petrissage", "friction"],
                        "max_pressure": "none", "severity": "absolute", "because": ["open_wound"]}
LIGHT_ONLY_LOWER_LIMB = {"region": "lower_limb", "side": "left", "techniques": ["petrissage"],
                         "max_pressure": "light", "severity": "relative", "because": ["varicose_veins"]}


def test_a_technique_over_its_cap_at_a_covered_place_breaks_the_restriction() -> None:
    assert breaks(LIGHT_ONLY_LOWER_LIMB, {"technique": "petrissage", "region": "thigh", "side": "left",
                                          "pressure": "moderate"})
    assert not breaks(LIGHT_ONLY_LOWER_LIMB, {"technique": "petrissage", "region": "thigh", "side": "left",
                                              "pressure": "light"})


def test_a_restriction_on_one_side_never_covers_the_other() -> None:
    assert not breaks(OPEN_WOUND_LEFT_CALF, {"technique": "effleurage", "region": "calf", "side": "right",
                                             "pressure": "light"})
    assert breaks(OPEN_WOUND_LEFT_CALF, {"technique": "effleurage", "region": "calf", "side": "left",
                                         "pressure": "light"})


def test_a_technique_the_restriction_does_not_name_is_not_affected() -> None:
    assert not breaks(OPEN_WOUND_LEFT_CALF, {"technique": "trigger_point", "region": "calf", "side": "left",
                                             "pressure": "deep"})


def test_an_exercise_breaks_a_restriction_on_exercise_at_any_region_it_moves() -> None:
    blocked_knee = {"region": "knee", "side": "left", "techniques": [], "max_pressure": "none",
                    "severity": "absolute", "because": ["recent_fracture"], "exercise": True}
    # Whatever region the exercise is listed under, the library knows what else it moves.
    from palpate.core.kb.clinical import knowledge_base

    moving_knee = next(e for e in knowledge_base().exercises if "knee" in e.regions and e.regions[0] != "knee")
    item = {"exercise": moving_knee.code, "region": moving_knee.regions[0], "side": "left"}
    assert breaks(blocked_knee, item)
    assert not breaks({**blocked_knee, "exercise": False}, item)
    assert not breaks(blocked_knee, {**item, "side": "right"})


def test_a_therapy_breaks_a_restriction_that_lists_it_at_its_place() -> None:
    restriction = {"region": "forearm", "side": "right", "techniques": [], "max_pressure": "none",
                   "severity": "absolute", "because": ["open_wound"], "therapies": ["heat", "electrical_stimulation"]}
    assert breaks(restriction, {"therapy": "heat", "region": "forearm", "side": "right"})
    assert not breaks(restriction, {"therapy": "therapeutic_exercise", "region": "forearm", "side": "right"})


def test_a_held_session_stands_in_as_a_whole_body_restriction_on_every_kind_of_item() -> None:
    screen = {"session": "hold", "restrictions": [], "referrals": [{"because": ["fever"]}]}
    restrictions = effective_restrictions(screen)
    hold = restrictions[-1]
    assert hold["hold"] and hold["region"] == "whole_body" and hold["because"] == ["fever"]
    for item in ({"technique": "effleurage", "region": "head", "side": None, "pressure": "light"},
                 {"therapy": "cold", "region": "neck", "side": None},
                 {"exercise": "chin_tuck", "region": "neck", "side": None}):
        assert breaks(hold, item)
    assert not may_override(hold)


def test_only_a_relative_restriction_may_be_overridden() -> None:
    assert may_override(LIGHT_ONLY_LOWER_LIMB)
    assert not may_override(OPEN_WOUND_LEFT_CALF)
    assert not may_override({**LIGHT_ONLY_LOWER_LIMB, "severity": "referral"})


def test_an_override_reason_needs_the_one_minimum_length() -> None:
    with pytest.raises(InputError) as short:
        check_override_reason("ok")
    assert str(OVERRIDE_REASON_MIN_CHARS) in short.value.message
    assert check_override_reason("  tolerates light work well  ") == "tolerates light work well"


def test_breaches_name_what_to_change_in_words_and_whether_it_may_be_overridden() -> None:
    found = breaches({"technique": "petrissage", "region": "calf", "side": "left", "pressure": "deep"},
                     [OPEN_WOUND_LEFT_CALF, LIGHT_ONLY_LOWER_LIMB])
    assert [b.overridable for b in found] == [False, True]
    assert "wound" in found[0].message.lower() and "_" not in found[0].message
    assert "light" in found[1].message.lower()
    assert "_" not in describe_restriction(OPEN_WOUND_LEFT_CALF)


def test_keys_survive_a_json_round_trip_and_ignore_minutes() -> None:
    import json

    item = {"technique": "petrissage", "region": "calf", "side": "left", "pressure": "deep", "minutes": 5}
    assert item_key(item) == item_key({**item, "minutes": 9})
    assert tuple(json.loads(json.dumps(restriction_key(OPEN_WOUND_LEFT_CALF)))) == restriction_key(OPEN_WOUND_LEFT_CALF)


def test_no_planned_item_breaks_the_restrictions_the_engine_gave_with_it() -> None:
    answer = plan_request({"conditions": [{"code": "muscle_strain", "region": "calf", "side": "left", "onset_days": 40}],
                           "findings": [{"code": "open_wound", "region": "calf", "side": "left"},
                                        {"code": "anticoagulant_therapy"}]})
    restrictions = effective_restrictions(answer)
    for item in answer["plan"]:
        assert not any(breaks(r, item) for r in restrictions), item


def test_an_exercise_breaks_a_restriction_at_a_region_it_only_loads() -> None:
    from palpate.core.kb.clinical import knowledge_base

    heel_raise = knowledge_base().exercise_index["heel_raise"]
    assert "hip" in heel_raise.loads and "hip" not in heel_raise.regions
    hip = {"region": "hip", "side": "right", "techniques": [], "max_pressure": "none", "severity": "absolute",
           "because": ["suspected_fracture"], "exercise": True}
    assert breaks(hip, {"exercise": "heel_raise", "region": "calf", "side": "right"})
    assert not breaks(hip, {"exercise": "heel_raise", "region": "calf", "side": "left"})


def test_an_exercise_for_a_midline_region_loads_paired_regions_on_both_sides() -> None:
    wrist = {"region": "wrist", "side": "left", "techniques": [], "max_pressure": "none", "severity": "absolute",
             "because": ["recent_fracture"], "exercise": True}
    assert breaks(wrist, {"exercise": "bird_dog", "region": "lower_back", "side": None})
    assert not breaks(wrist, {"exercise": "pelvic_tilt", "region": "lower_back", "side": None})


def test_the_planner_decides_home_exercises_and_therapies_by_the_same_rule() -> None:
    answer = plan_request({"conditions": [{"code": "ligament_sprain", "region": "ankle", "side": "left", "onset_days": 12},
                                          {"code": "neck_pain", "onset_days": 40}],
                           "findings": [{"code": "recent_fracture", "region": "ankle", "side": "left", "days_ago": 12}]})
    restrictions = effective_restrictions(answer)
    assert answer["home_program"] and answer["complementary"]
    for home in answer["home_program"]:
        assert not any(breaks(r, home) for r in restrictions), home
    for entry in answer["complementary"]:
        for place in entry["at"]:
            assert not any(breaks(r, {"therapy": entry["therapy"], **place}) for r in restrictions), entry
    assert {x["kind"] for x in answer["left_out"]} == {"exercise", "therapy"}


# The coverage table the plan editor used to keep beside its own copy of the rule (now the core's).


def _restriction(region: str, side: str | None = None, techniques: tuple[str, ...] = ("friction",),
                 max_pressure: str = "none") -> dict[str, object]:
    return {"region": region, "side": side, "techniques": list(techniques), "max_pressure": max_pressure,
            "severity": "relative", "because": ["varicose_veins"], "sources": []}


def _item(technique: str, region: str, side: str | None = None, pressure: str = "light") -> dict[str, object]:
    return {"technique": technique, "region": region, "side": side, "pressure": pressure}


@pytest.mark.parametrize(("rule", "item", "broken"), [
    (_restriction("calf", "left"), _item("friction", "calf", "left"), True),
    (_restriction("calf", "left"), _item("friction", "calf", "right"), False),  # the other side is free
    (_restriction("calf", "left"), _item("effleurage", "calf", "left"), False),  # another technique
    (_restriction("calf", "left"), _item("friction", "thigh", "left"), False),  # another region
    (_restriction("lower_limb", "left"), _item("friction", "thigh", "left"), True),  # the region's group
    (_restriction("lower_limb", "left"), _item("friction", "thigh", "right"), False),
    (_restriction("spine"), _item("friction", "lower_back"), True),
    (_restriction("whole_body"), _item("friction", "hand", "right"), True),
    (_restriction("calf", None), _item("friction", "calf", "right"), True),  # no side: both sides
    (_restriction("calf", "left", ("petrissage",), "light"), _item("petrissage", "calf", "left", "light"), False),
    (_restriction("calf", "left", ("petrissage",), "light"), _item("petrissage", "calf", "left", "moderate"), True),
    (_restriction("calf", "left", ("petrissage",), "moderate"), _item("petrissage", "calf", "left", "moderate"),
     False),
    (_restriction("calf", "left", ("petrissage",), "moderate"), _item("petrissage", "calf", "left", "deep"), True),
    (_restriction("calf", "left", ("petrissage",), "none"), _item("petrissage", "calf", "left", "light"), True),
])
def test_a_restriction_covers_its_region_group_or_whole_body_and_caps_pressure(rule, item, broken) -> None:  # noqa: ANN001
    assert breaks(rule, item) is broken


def test_restrictions_read_as_plain_sentences() -> None:
    assert describe_restriction(_restriction("calf", "left", ("friction", "trigger_point"))) == (
        "No deep transverse friction or trigger-point (ischaemic) compression at the left calf (whole lower leg) "
        "(varicose veins).")
    assert describe_restriction(_restriction("whole_body", None, ("petrissage",), "light")) == (
        "Light pressure at most for petrissage at the whole body (varicose veins).")
