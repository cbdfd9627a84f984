"""The adapter from stored records to the planner (palpate.lib.clinical): facts age correctly
between visits, and a stored answer knows what it stands on."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from palpate.lib.clinical import basis, build_request, run_plan, screen_is_current

EVALUATED = dt.date(2026, 11, 1)


def _records(condition: str = "muscle_strain", region: str = "calf", side: str = "left", **evaluation: object):
    patient = SimpleNamespace(sex="female", age_on=lambda day: 52)
    episode = SimpleNamespace(condition=condition, body_region=region, side=side, onset_date=dt.date(2026, 10, 20))
    fields = {"performed_on": EVALUATED, "irritability": "", "pain_nprs": None, "findings": [], "vitals": {},
              "screens": {}, **evaluation}
    return patient, episode, SimpleNamespace(**fields)


def test_a_findings_days_ago_keeps_counting_after_the_evaluation():
    patient, episode, evaluation = _records(findings=[{"code": "recent_fracture", "region": "foot", "side": "left",
                                                        "days_ago": 10}])
    later = build_request(patient, episode, on=EVALUATED + dt.timedelta(days=14), evaluation=evaluation)
    assert later["findings"] == [{"code": "recent_fracture", "region": "foot", "side": "left", "days_ago": 24}]
    same_day = build_request(patient, episode, on=EVALUATED, evaluation=evaluation)
    assert same_day["findings"][0]["days_ago"] == 10


def test_the_evaluations_vitals_count_only_on_the_day_they_were_taken():
    patient, episode, evaluation = _records(vitals={"temperature_c": 38.4})
    assert build_request(patient, episode, on=EVALUATED, evaluation=evaluation)["vitals"] == {"temperature_c": 38.4}
    later = build_request(patient, episode, on=EVALUATED + dt.timedelta(days=7), evaluation=evaluation)
    assert "vitals" not in later
    today = build_request(patient, episode, on=EVALUATED + dt.timedelta(days=7), evaluation=evaluation,
                          vitals={"temperature_c": 36.9})
    assert today["vitals"] == {"temperature_c": 36.9}


def test_a_post_operative_episode_takes_its_incision_from_the_evaluation_aged_to_today():
    patient, episode, evaluation = _records(
        condition="post_operative", region="knee",
        findings=[{"code": "surgical_incision", "region": "knee", "side": "left", "days_ago": 12, "closed": True}])
    request = build_request(patient, episode, on=EVALUATED + dt.timedelta(days=5), evaluation=evaluation)
    assert request["conditions"][0]["surgery_days_ago"] == 17
    assert request["conditions"][0]["incision_closed"] is True


def test_a_stored_answer_is_current_only_for_the_same_facts_and_thresholds():
    clinic = SimpleNamespace(policy_overrides={})
    request = {"conditions": [{"code": "neck_pain", "region": "neck", "onset_days": 30}]}
    answer = run_plan(clinic, request)
    assert answer["basis"] == basis(clinic, request) and screen_is_current(answer, clinic, request)
    changed_facts = {**request, "vitals": {"temperature_c": 38.6}}
    assert not screen_is_current(answer, clinic, changed_facts)
    stricter = SimpleNamespace(policy_overrides={"fever_c": 37.8})
    assert not screen_is_current(answer, stricter, request)
    assert not screen_is_current({k: v for k, v in answer.items() if k != "basis"}, clinic, request)
