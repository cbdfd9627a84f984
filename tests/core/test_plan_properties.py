"""Invariants of `palpate plan`, checked on random patients built from the vocabulary.

The checks here re-implement the contract's meaning of a restriction (shared/contract/README.md)
independently of the engine, so a bug in the engine's own coverage logic cannot hide itself: a
restriction covers its region, its group's regions or the whole body, on its side; it binds
soft-tissue items (techniques and pressure), home exercises at every region they move or load
(``exercise``) and complementary therapies at the condition's place (``therapies``), planning
policy §1.6.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palpate.core.errors import InputError
from palpate.core.kb.clinical import knowledge_base
from palpate.core.planning import plan_request
from palpate.core.policy import check_overrides

KB = knowledge_base()
PRESSURE = {"light": 1, "moderate": 2, "deep": 3}
CAP = {"none": 0, "light": 1, "moderate": 2}
GROUPS = {code: set(group.regions) for code, group in KB.regions.groups.items()}
PAIRED = {code for code, region in KB.regions.regions.items() if region.paired}
REGIONS = sorted(KB.regions.regions)
TARGETS = [*REGIONS, *sorted(GROUPS), "whole_body"]
LOCAL = sorted(code for code, rule in KB.rules.items() if rule.scope == "local")
WHOLE = sorted(code for code, rule in KB.rules.items() if rule.scope == "whole_body")
RESOLVING = {code for code, rule in KB.rules.items() if rule.resolves}
SESSION_RANK = {"proceed": 0, "modify": 1, "hold": 2}
PROFILE = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def covers(restriction: dict[str, Any], item: dict[str, Any]) -> bool:
    """The contract: a restriction covers its region, its group's regions or the whole body, on its side."""
    where = restriction["region"]
    if where != "whole_body":
        members = GROUPS.get(where, {where})
        if item["region"] not in members:
            return False
        if restriction["side"] is not None and restriction["side"] != item["side"]:
            return False
    return item["technique"] in restriction["techniques"]


def violations(out: dict[str, Any]) -> list[str]:
    bad = []
    for item in out["plan"]:
        for restriction in out["restrictions"]:
            if covers(restriction, item) and PRESSURE[item["pressure"]] > CAP[restriction["max_pressure"]]:
                bad.append(f"{item['technique']} {item['pressure']} at {item['side']} {item['region']} "
                           f"breaks {restriction}")
    return bad


def covers_place(restriction: dict[str, Any], region: str, side: str | None) -> bool:
    where = restriction["region"]
    if where == "whole_body":
        return True
    return region in GROUPS.get(where, {where}) and restriction["side"] in (None, side)


def exercise_places(home: dict[str, Any]) -> list[tuple[str, str | None]]:
    """Every place a home exercise moves or loads: its regions and loads, on its side (both sides
    for a paired region of an exercise given for a midline region)."""
    exercise = next(e for e in KB.exercises if e.code == home["exercise"])
    out: list[tuple[str, str | None]] = []
    for region in {home["region"], *exercise.regions, *exercise.loads}:
        if region in PAIRED:
            out += [(region, side) for side in ([home["side"]] if home["side"] else ["left", "right"])]
        else:
            out.append((region, None))
    return out


def home_and_complementary_violations(out: dict[str, Any]) -> list[str]:
    bad = []
    for home in out["home_program"]:
        for region, side in exercise_places(home):
            for restriction in out["restrictions"]:
                if restriction["exercise"] and covers_place(restriction, region, side):
                    bad.append(f"{home['exercise']} moves {side} {region}, which {restriction} closes to exercise")
    for entry in out["complementary"]:
        assert entry["at"], entry
        for place in entry["at"]:
            for restriction in out["restrictions"]:
                if entry["therapy"] in restriction["therapies"] and covers_place(restriction, place["region"],
                                                                                  place["side"]):
                    bad.append(f"{entry['therapy']} at {place} breaks {restriction}")
    return bad


# -- strategies ------------------------------------------------------------------------------------

sides = st.sampled_from(["left", "right"])


@st.composite
def placed(draw: st.DrawFn, targets: list[str]) -> dict[str, Any]:
    region = draw(st.sampled_from(targets))
    out: dict[str, Any] = {"region": region}
    if region in PAIRED or region in ("upper_limb", "lower_limb"):
        out["side"] = draw(sides)
    return out


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    code = draw(st.sampled_from(sorted(KB.conditions)))
    out: dict[str, Any] = {"code": code, **draw(placed(list(KB.conditions[code].regions)))}
    if draw(st.booleans()):
        out["onset_days"] = draw(st.integers(0, 400))
    if draw(st.booleans()):
        out["irritability"] = draw(st.sampled_from(["low", "moderate", "high"]))
    if draw(st.booleans()):
        out["pain_nprs"] = draw(st.integers(0, 10))
    if out["code"] == "post_operative" and draw(st.booleans()):
        out["surgery_days_ago"] = draw(st.integers(0, 120))
        out["incision_closed"] = draw(st.booleans())
    return out


@st.composite
def local_findings(draw: st.DrawFn, codes: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"code": draw(st.sampled_from(codes or LOCAL)), **draw(placed(TARGETS))}
    if out["code"] in ("surgical_incision", "recent_fracture", "dvt", "suspected_fracture") and draw(st.booleans()):
        out["days_ago"] = draw(st.integers(0, 60))
        out["closed"] = draw(st.booleans())
    if out["code"] in RESOLVING and draw(st.integers(0, 3)) == 0:
        out["cleared"] = True
    return out


@st.composite
def whole_body_findings(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"code": draw(st.sampled_from(WHOLE))}
    if out["code"] in RESOLVING:
        if draw(st.booleans()):
            out["days_ago"] = draw(st.integers(0, 60))
        if draw(st.integers(0, 3)) == 0:
            out["cleared"] = True
    return out


findings = st.one_of(local_findings(), whole_body_findings())


@st.composite
def screens(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        version = draw(st.sampled_from(["1997", "2003"]))
        items = [i for i, points in KB.wells.items.items() if version in points]
        out["wells"] = {"version": version, "side": draw(sides),
                        "items": draw(st.lists(st.sampled_from(items), unique=True, max_size=4))}
    for rule in ("ottawa_ankle", "ottawa_foot"):
        if draw(st.booleans()):
            spec = KB.ottawa[rule]
            out[rule] = {"side": draw(sides), **{f: draw(st.booleans()) for f in (spec.zone, *spec.criteria)}}
    return out


last_sessions = st.one_of(st.none(), st.fixed_dictionaries({}, optional={
    "soreness_24h": st.integers(0, 10),
    "soreness_hours": st.integers(0, 96),
    "pressure_tolerance": st.sampled_from(["light", "moderate", "deep"]),
    "relief": st.sampled_from(["good", "some", "none"]),
}))


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {
        "patient": {"age": draw(st.integers(18, 95)), "can_give_feedback": draw(st.booleans()),
                    "pregnancy_weeks": draw(st.one_of(st.none(), st.integers(0, 40))),
                    "high_risk_pregnancy": draw(st.booleans())},
        "conditions": draw(st.lists(conditions(), min_size=1, max_size=3)),
        "findings": draw(st.lists(findings, max_size=4)),
        "screens": draw(screens()),
    }
    if draw(st.booleans()):
        out["vitals"] = {"temperature_c": draw(st.floats(35.5, 40.0).map(lambda t: round(t, 1))),
                         "bp_systolic": draw(st.integers(95, 200)), "bp_diastolic": draw(st.integers(55, 90))}
    last = draw(last_sessions)
    if last is not None:
        out["last_session"] = last
    return out


@st.composite
def safe_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Patients with nothing to screen out: no findings, screens, flags or abnormal vitals."""
    listed = draw(st.lists(conditions(), min_size=1, max_size=3))
    for condition in listed:
        if condition["code"] == "post_operative":
            # A healed incision past the 4-week leg window: an unhealed one is itself a
            # contraindication at its site, and a recent leg operation a DVT risk period.
            condition.update(surgery_days_ago=draw(st.integers(29, 120)), incision_closed=True)
    out: dict[str, Any] = {"patient": {"age": draw(st.integers(18, 95))},
                           "vitals": {"temperature_c": 36.8, "bp_systolic": 124, "bp_diastolic": 78},
                           "conditions": listed}
    last = draw(last_sessions)
    if last is not None:
        out["last_session"] = last
    return out


def items_of_every_kind(out: dict[str, Any]) -> set[tuple[Any, ...]]:
    """What a plan puts in front of a patient besides massage: each exercise and therapy with its place."""
    home = {("exercise", h["exercise"], h["region"], h["side"], h["for"]) for h in out["home_program"]}
    therapies = {("therapy", c["therapy"], place["region"], place["side"]) for c in out["complementary"]
                 for place in c["at"]}
    return home | therapies


def pressure_by_cell(out: dict[str, Any]) -> dict[tuple[str, str | None], int]:
    cells: dict[tuple[str, str | None], int] = {}
    for item in out["plan"]:
        cell = (item["region"], item["side"])
        cells[cell] = max(cells.get(cell, 0), PRESSURE[item["pressure"]])
    return cells


def caps_by_cell(out: dict[str, Any]) -> dict[tuple[str, str | None, str], int]:
    """The tightest cap the restrictions put on every technique at every cell."""
    caps: dict[tuple[str, str | None, str], int] = {}
    for region in REGIONS:
        for side in (["left", "right"] if region in PAIRED else [None]):
            for technique in KB.techniques:
                probe = {"region": region, "side": side, "technique": technique}
                for restriction in out["restrictions"]:
                    if covers(restriction, probe):
                        key = (region, side, technique)
                        caps[key] = min(caps.get(key, 3), CAP[restriction["max_pressure"]])
    return caps


# -- properties ------------------------------------------------------------------------------------


@PROFILE
@given(requests())
def test_no_plan_item_ever_breaks_a_restriction_that_covers_it(payload: dict[str, Any]) -> None:
    out = plan_request(payload)
    assert violations(out) == []


@PROFILE
@given(requests())
def test_no_home_exercise_or_complementary_therapy_ever_sits_where_a_restriction_forbids_it(
        payload: dict[str, Any]) -> None:
    out = plan_request(payload)
    assert home_and_complementary_violations(out) == []


@PROFILE
@given(requests())
def test_hold_means_nothing_at_all_explained_by_a_referral(payload: dict[str, Any]) -> None:
    out = plan_request(payload)
    if out["session"] == "hold":
        assert out["plan"] == [] and out["total_minutes"] == 0
        assert out["complementary"] == [] and out["home_program"] == [] and out["advice"] is None
        assert out["referrals"], "a held session must say why and where to"
    else:
        assert out["session"] in ("proceed", "modify")


@PROFILE
@given(requests())
def test_proceed_means_nothing_in_the_screen_applies_and_modify_says_what_did(payload: dict[str, Any]) -> None:
    out = plan_request(payload)
    treated = {(i["region"], i["side"]) for i in out["plan"]} | {(c["region"], c["side"]) for c in out["conditions"]}
    treated |= {(h["region"], h["side"]) for h in out["home_program"]}
    covered = any(covers_place(r, region, side) for r in out["restrictions"] for region, side in treated)
    if out["session"] == "modify":
        assert out["adjustments"] or out["left_out"] or out["positioning"] or out["referrals"] or covered
    if out["session"] == "proceed":
        assert out["adjustments"] == [] and out["left_out"] == [] and out["referrals"] == []
        assert not covered
        assert not any("adjusted" in item for item in out["plan"])


@PROFILE
@given(requests())
def test_an_unsafe_case_is_never_answered_with_a_silent_empty_plan(payload: dict[str, Any]) -> None:
    out = plan_request(payload)
    if not out["plan"] and out["session"] != "hold":
        assert out["restrictions"]
        assert any("No soft-tissue work" in w for w in out["warnings"])


@PROFILE
@given(requests())
def test_every_restriction_referral_and_item_says_why_with_a_source(payload: dict[str, Any]) -> None:
    out = plan_request(payload)
    for restriction in out["restrictions"]:
        assert restriction["because"] and restriction["sources"]
    for referral in out["referrals"]:
        assert referral["urgency"] in ("emergency", "same_day", "routine") and referral["sources"]
    for item in out["plan"]:
        assert item["rationale"] and item["evidence"] and item["minutes"] > 0


@PROFILE
@given(safe_requests(), st.data())
def test_a_restriction_on_one_side_never_touches_the_other(payload: dict[str, Any], data: st.DataObject) -> None:
    # tumour implies active cancer (whole body) and dvt holds the session, so both reach past one side
    # by design; a suspected fracture brings a referral that modifies the session; every other local
    # finding stays on its side.
    codes = [c for c in LOCAL if c not in ("tumour", "dvt")]
    region = data.draw(st.sampled_from(sorted(PAIRED)))
    finding = {"code": data.draw(st.sampled_from(codes)), "region": region, "side": "left"}
    before = plan_request(payload)
    after = plan_request({**payload, "findings": [finding]})
    assert all(r["side"] != "right" for r in after["restrictions"])
    right = [i for i in before["plan"] if i["side"] == "right"]
    assert [i for i in after["plan"] if i["side"] == "right"] == right


@PROFILE
@given(safe_requests())
def test_a_patient_with_no_findings_gets_a_plan_for_every_condition(payload: dict[str, Any]) -> None:
    out = plan_request(payload)
    assert out["session"] == "proceed"
    served = {code for item in out["plan"] for code in (item["for"], *item.get("also_for", []))}
    assert {c["code"] for c in payload["conditions"]} <= served
    assert out["restrictions"] == []
    assert out["total_minutes"] <= 30 or len(out["plan"]) <= len(payload["conditions"])


@st.composite
def requests_and_a_finding(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A patient and one more finding: anywhere, or (half the time) at one of the conditions' places,
    where it interacts most with the plan (a fracture there changes the condition's phase)."""
    payload = draw(requests())
    if draw(st.booleans()):
        return payload, draw(findings)
    condition = draw(st.sampled_from(payload["conditions"]))
    extra: dict[str, Any] = {"code": draw(st.sampled_from(LOCAL)), "region": condition["region"]}
    if condition.get("side"):
        extra["side"] = condition["side"]
    if draw(st.booleans()):
        extra["days_ago"] = draw(st.integers(0, 60))
    return payload, extra


@PROFILE
@given(requests_and_a_finding())
def test_adding_a_finding_never_makes_any_kind_of_item_appear_or_a_plan_less_restrictive(
        case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    payload, extra = case
    before = plan_request(payload)
    after = plan_request({**payload, "findings": [*payload["findings"], extra]})
    assert SESSION_RANK[after["session"]] >= SESSION_RANK[before["session"]]
    cells_before, cells_after = pressure_by_cell(before), pressure_by_cell(after)
    for cell, pressure in cells_after.items():
        assert cell in cells_before, f"{cell} is treated only after adding {extra}"
        assert pressure <= cells_before[cell]
    appeared = items_of_every_kind(after) - items_of_every_kind(before)
    assert not appeared, f"{appeared} appear only after adding {extra}"
    caps_before, caps_after = caps_by_cell(before), caps_by_cell(after)
    for key, cap in caps_before.items():
        assert caps_after.get(key, 3) <= cap, f"{key} was capped at {cap} before adding {extra}"
    assert {r["reason"] for r in before["referrals"]} <= {r["reason"] for r in after["referrals"]}


@PROFILE
@given(requests(), st.randoms(use_true_random=False))
def test_output_is_deterministic_and_independent_of_finding_order(payload: dict[str, Any],
                                                                  rng: random.Random) -> None:
    first = json.dumps(plan_request(payload), sort_keys=False)
    assert json.dumps(plan_request(payload), sort_keys=False) == first
    shuffled = list(payload["findings"])
    rng.shuffle(shuffled)
    assert json.dumps(plan_request({**payload, "findings": shuffled}), sort_keys=False) == first


@PROFILE
@given(st.sampled_from(sorted(KB.policy_settings)), st.floats(-50, 400, allow_nan=False).map(lambda v: round(v, 1)))
def test_a_setting_outside_its_safe_bound_is_always_refused_and_one_inside_accepted(key: str, value: float) -> None:
    spec = KB.policy_settings[key]
    if spec.type == "int":
        value = float(round(value))
    inside = spec.min <= value <= spec.max
    try:
        check_overrides({key: value})
    except InputError as error:
        assert not inside, f"{key} {value} is inside {spec.min}-{spec.max} but refused: {error}"
        assert error.path == f"policy.{key}" and f"{spec.min:g}" in error.message and f"{spec.max:g}" in error.message
    else:
        assert inside, f"{key} {value} is outside {spec.min}-{spec.max} but accepted"
