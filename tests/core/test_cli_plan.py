"""`palpate plan` on the command line: the contract's JSON in and out, exit 2 for bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from palpate.cli import main


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str,
        *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def error_of(err: str) -> dict[str, str]:
    document = json.loads(err)
    assert set(document) == {"error"} and document["error"]["code"] and document["error"]["message"]
    error: dict[str, str] = document["error"]
    return error


# The public vectors of shared/clinical/vectors-public.json, inputs as published.
SAFE_2 = {"patient": {"age": 41}, "conditions": [{"code": "tendinopathy", "region": "elbow", "side": "left",
                                                   "onset_days": 56, "irritability": "low"}],
          "findings": [{"code": "open_wound", "region": "forearm", "side": "right"}]}
SAFE_1 = {"patient": {"age": 54}, "conditions": [{"code": "muscle_strain", "region": "calf", "side": "right",
                                                   "onset_days": 10}],
          "findings": [{"code": "surgical_incision", "region": "knee", "side": "right", "days_ago": 14, "closed": True}],
          "screens": {"wells": {"version": "2003", "side": "right", "items": [
              "localised_deep_vein_tenderness", "calf_swelling_3cm", "pitting_oedema", "bedridden_or_major_surgery"]}}}
SAFE_4 = {"patient": {"age": 33}, "vitals": {"temperature_c": 38.6},
          "conditions": [{"code": "neck_pain", "region": "neck", "onset_days": 3}]}


def test_it_answers_the_contract_for_a_safe_elbow_with_a_wound_on_the_other_arm(capsys: Any, monkeypatch: Any) -> None:
    code, out, err = run(capsys, monkeypatch, json.dumps(SAFE_2))
    assert (code, err) == (0, "")
    answer = json.loads(out)
    assert answer["contract"] == "palpate.plan/1" and answer["kb_version"] == "2026.2"
    assert answer["session"] in ("proceed", "modify")
    assert not [i for i in answer["plan"] if (i["region"], i["side"]) == ("forearm", "right")]
    assert [i for i in answer["plan"] if (i["technique"], i["region"], i["side"]) == ("friction", "elbow", "left")]
    assert not [r for r in answer["restrictions"] if (r["region"], r["side"]) == ("elbow", "left")]


def test_it_holds_a_suspected_dvt_and_plans_nothing_on_that_leg(capsys: Any, monkeypatch: Any) -> None:
    code, out, _ = run(capsys, monkeypatch, json.dumps(SAFE_1))
    answer = json.loads(out)
    assert code == 0 and answer["session"] == "hold" and answer["plan"] == []
    assert answer["referrals"][0]["urgency"] in ("same_day", "emergency")
    assert answer["screens"]["wells"] == {**answer["screens"]["wells"], "version": "2003", "score": 4,
                                          "category": "likely"}


def test_it_holds_a_febrile_patient(capsys: Any, monkeypatch: Any) -> None:
    code, out, _ = run(capsys, monkeypatch, json.dumps(SAFE_4))
    answer = json.loads(out)
    assert code == 0 and answer["session"] == "hold" and answer["plan"] == []


@pytest.mark.parametrize(("version", "items", "score", "category", "session"), [
    ("1997", ["bedridden_or_major_surgery", "calf_swelling_3cm", "localised_deep_vein_tenderness",
              "paralysis_paresis_or_plaster", "pitting_oedema"], 5, "high", "hold"),
    ("2003", ["bedridden_or_major_surgery", "calf_swelling_3cm", "localised_deep_vein_tenderness",
              "paralysis_paresis_or_plaster", "pitting_oedema"], 5, "likely", "hold"),
    ("1997", ["alternative_diagnosis_as_likely"], -2, "low", "proceed"),
    ("2003", ["alternative_diagnosis_as_likely"], -2, "unlikely", "proceed"),
    ("1997", ["entire_leg_swollen"], 1, "intermediate", "hold"),
    ("2003", ["entire_leg_swollen", "previous_dvt"], 2, "likely", "hold"),
])
def test_the_public_wells_vectors(capsys: Any, monkeypatch: Any, version: str, items: list[str], score: int,
                                  category: str, session: str) -> None:
    payload = {"patient": {"age": 60}, "conditions": [{"code": "muscle_tightness", "region": "upper_back",
                                                        "onset_days": 90}],
               "screens": {"wells": {"version": version, "side": "right", "items": items}}}
    code, out, _ = run(capsys, monkeypatch, json.dumps(payload))
    answer = json.loads(out)
    assert code == 0
    assert (answer["screens"]["wells"]["score"], answer["screens"]["wells"]["category"]) == (score, category)
    assert answer["session"] == session
    if session == "hold":
        assert answer["plan"] == [] and answer["referrals"][0]["urgency"] == "same_day"
    else:
        assert [i for i in answer["plan"] if i["region"] == "upper_back"]


def test_high_soreness_brings_the_pressure_down_as_the_plan_pair_check_expects(capsys: Any, monkeypatch: Any) -> None:
    base = {"conditions": [{"code": "muscle_tightness", "region": "thigh", "side": "left", "onset_days": 60}]}
    _, out_a, _ = run(capsys, monkeypatch, json.dumps(base))
    _, out_b, _ = run(capsys, monkeypatch, json.dumps({**base, "last_session": {"soreness_24h": 7, "soreness_hours": 72}}))
    rank = {"light": 1, "moderate": 2, "deep": 3}
    a = {(i["technique"], i["region"], i["side"]): rank[i["pressure"]] for i in json.loads(out_a)["plan"]}
    b = {(i["technique"], i["region"], i["side"]): rank[i["pressure"]] for i in json.loads(out_b)["plan"]}
    assert a and b and max(b.values()) <= max(a.values())
    assert any(b.get(k, 0) < v for k, v in a.items())


@pytest.mark.parametrize(("payload", "code", "path"), [
    ({"conditions": [{"code": "tendinopathy", "region": "elbow"}]}, "missing_field", "conditions[0].side"),
    ({"conditions": [], "vitals": {"temperature_c": 80}}, "out_of_range", "vitals.temperature_c"),
    ({"conditions": [{"code": "neck_pain", "onset_days": -3}]}, "out_of_range", "conditions[0].onset_days"),
    ({"conditions": [{"code": "whiplash", "region": "neck"}]}, "unknown_code", "conditions[0].code"),
    ({"conditions": [], "findings": [{"code": "bruise", "region": "calf", "side": "left"}]}, "unknown_code",
     "findings[0].code"),
    ({"conditions": [], "findings": [{"code": "open_wound", "region": "shin", "side": "left"}]}, "unknown_code",
     "findings[0].region"),
    ({"conditions": [], "findings": [{"code": "open_wound"}]}, "missing_field", "findings[0].region"),
    ({"conditions": [], "findings": [{"code": "open_wound", "region": "lower_limb"}]}, "missing_field",
     "findings[0].side"),
    ({"conditions": [], "findings": [{"code": "open_wound", "region": "neck", "side": "left"}]}, "invalid_value",
     "findings[0].side"),
    ({"conditions": [], "findings": [{"code": "recent_fracture", "region": "calf", "side": "left", "days_ago": -1}]},
     "out_of_range", "findings[0].days_ago"),
    ({"conditions": [], "patient": {"age": 130}}, "out_of_range", "patient.age"),
    ({"conditions": [], "patient": {"age": "54"}}, "wrong_type", "patient.age"),
    ({"conditions": [], "patient": {"pregnancy_weeks": 50}}, "out_of_range", "patient.pregnancy_weeks"),
    ({"conditions": [], "vitals": {"bp_systolic": 120, "bp_diastolic": 125}}, "out_of_range", "vitals.bp_diastolic"),
    ({"conditions": [], "vitals": {"bp_systolic": True}}, "wrong_type", "vitals.bp_systolic"),
    ({"conditions": [], "last_session": {"soreness_24h": 11}}, "out_of_range", "last_session.soreness_24h"),
    ({"conditions": [], "last_session": {"pressure_tolerance": "firm"}}, "invalid_value",
     "last_session.pressure_tolerance"),
    ({"conditions": [{"code": "neck_pain", "pain_nprs": 12}]}, "out_of_range", "conditions[0].pain_nprs"),
    ({"conditions": [{"code": "neck_pain", "irritability": "severe"}]}, "invalid_value", "conditions[0].irritability"),
    ({"conditions": [], "screens": {"wells": {"version": "1997", "items": ["previous_dvt"]}}}, "invalid_value",
     "screens.wells.items[0]"),
    ({"conditions": [], "screens": {"wells": {"version": "2010", "items": []}}}, "invalid_value",
     "screens.wells.version"),
    ({"conditions": [], "screens": {"ottawa_ankle": {"side": "left", "malleolar_zone_pain": "yes"}}}, "wrong_type",
     "screens.ottawa_ankle.malleolar_zone_pain"),
    ({"conditions": [], "finding": [{"code": "dvt"}]}, "unknown_field", "finding"),
    ({"conditions": [], "policy": {"fever_c": 45}}, "out_of_range", "policy.fever_c"),
    ({"conditions": [], "policy": {"wifi": 1}}, "unknown_field", "policy.wifi"),
    ({"patient": {"age": 40}}, "missing_field", "conditions"),
    ({"conditions": "neck_pain"}, "wrong_type", "conditions"),
])
def test_bad_input_exits_2_with_a_json_error_and_nothing_on_stdout(capsys: Any, monkeypatch: Any,
                                                                   payload: dict[str, Any], code: str,
                                                                   path: str) -> None:
    status, out, err = run(capsys, monkeypatch, json.dumps(payload))
    assert (status, out) == (2, "")
    error = error_of(err)
    assert (error["code"], error["path"]) == (code, path)
    assert "Traceback" not in err


def test_malformed_json_exits_2(capsys: Any, monkeypatch: Any) -> None:
    status, out, err = run(capsys, monkeypatch, '{"conditions": [')
    assert (status, out) == (2, "") and error_of(err)["code"] == "malformed_json"


def test_output_is_byte_identical_for_the_same_input(capsys: Any, monkeypatch: Any) -> None:
    first = run(capsys, monkeypatch, json.dumps(SAFE_2))[1]
    assert run(capsys, monkeypatch, json.dumps(SAFE_2))[1] == first


def test_batch_mode_answers_every_line_and_exits_2_if_any_was_bad(capsys: Any, monkeypatch: Any) -> None:
    lines = "\n".join([json.dumps(SAFE_2), json.dumps({"conditions": [{"code": "nope"}]}), json.dumps(SAFE_4)])
    status, out, _ = run(capsys, monkeypatch, lines, "--jsonl")
    answers = [json.loads(line) for line in out.splitlines()]
    assert status == 2 and len(answers) == 3
    assert answers[0]["session"] in ("proceed", "modify")
    assert answers[1]["error"]["path"] == "line 2: conditions[0].code"
    assert answers[2]["session"] == "hold"


def test_a_request_file_can_be_given_with_input(capsys: Any, monkeypatch: Any, tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(SAFE_4), encoding="utf-8")
    status, out, _ = run(capsys, monkeypatch, "", "--input", str(request))
    assert status == 0 and json.loads(out)["session"] == "hold"


def test_a_clinic_policy_in_the_request_changes_the_thresholds(capsys: Any, monkeypatch: Any) -> None:
    payload = {"conditions": [{"code": "neck_pain"}], "vitals": {"temperature_c": 37.9}}
    assert json.loads(run(capsys, monkeypatch, json.dumps(payload))[1])["session"] == "proceed"
    strict = {**payload, "policy": {"fever_c": 37.8}}
    assert json.loads(run(capsys, monkeypatch, json.dumps(strict))[1])["session"] == "hold"


@pytest.mark.parametrize(("setting", "value", "bound"), [("fever_c", 39.0, "38.5"), ("bp_systolic", 220, "180"),
                                                         ("proliferative_max_days", 7, "21"),
                                                         ("incision_healed_days", 0, "14")])
def test_a_setting_outside_its_safe_bound_exits_2_naming_the_bound(capsys: Any, monkeypatch: Any, setting: str,
                                                                    value: float, bound: str) -> None:
    payload = {"conditions": [{"code": "low_back_pain", "onset_days": 30}], "policy": {setting: value}}
    status, out, err = run(capsys, monkeypatch, json.dumps(payload))
    assert (status, out) == (2, "")
    error = error_of(err)
    assert (error["code"], error["path"]) == ("out_of_range", f"policy.{setting}") and bound in error["message"]


def test_a_condition_at_a_region_where_it_cannot_occur_exits_2_listing_the_allowed_regions(
        capsys: Any, monkeypatch: Any) -> None:
    payload = {"conditions": [{"code": "bursitis", "region": "forearm", "side": "left", "onset_days": 30}]}
    status, out, err = run(capsys, monkeypatch, json.dumps(payload))
    assert (status, out) == (2, "")
    error = error_of(err)
    assert error["path"] == "conditions[0].region" and "shoulder" in error["message"] and "knee" in error["message"]
