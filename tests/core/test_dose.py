"""The last session's response applied to carried-forward rows (palpate.core.dose, planning policy §3)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from palpate.core.dose import carry_forward, judge_response, one_level_lower
from palpate.core.kb.clinical import PRESSURES, RANK
from palpate.core.planning import plan_request
from palpate.core.policy import default_policy
from palpate.core.request import LastSession

ROWS = [
    {"technique": "petrissage", "region": "lower_back", "side": "", "pressure": "moderate", "minutes": 8},
    {"technique": "effleurage", "region": "lower_back", "side": "", "pressure": "light", "minutes": 5},
    {"technique": "friction", "region": "calf", "side": "left", "pressure": "deep", "minutes": 6},
]


def test_it_lowers_each_row_one_level_after_soreness_at_the_clinics_threshold():
    policy = default_policy()
    carried = carry_forward(ROWS, LastSession(soreness_24h=policy.soreness_lower_min, relief="some"), policy)
    assert [r["pressure"] for r in carried.rows] == ["light", "light", "moderate"]
    assert [r["minutes"] for r in carried.rows] == [8, 5, 6]
    assert any("petrissage at the lower back: moderate to light" in c for c in carried.changes)
    assert all("planning policy §3" in c for c in carried.changes)
    assert carried.withheld == ()


def test_it_lowers_after_soreness_that_lasted_longer_than_the_clinics_hours():
    policy = default_policy()
    carried = carry_forward(ROWS, LastSession(soreness_24h=1, soreness_hours=policy.soreness_hours_max + 1), policy)
    assert carried.rows[0]["pressure"] == "light"


def test_it_leaves_rows_as_they_were_after_mild_soreness_and_never_progresses_them():
    policy = default_policy()
    carried = carry_forward(ROWS, LastSession(soreness_24h=0, soreness_hours=2, relief="good"), policy)
    assert list(carried.rows) == ROWS and carried.changes == ()
    assert carried.response.progress is True  # the planner may progress; carried rows are not raised


def test_severe_soreness_withholds_friction_and_trigger_points_and_says_why():
    policy = default_policy()
    carried = carry_forward(ROWS, LastSession(soreness_24h=policy.soreness_severe_min), policy)
    assert [r["technique"] for r in carried.rows] == ["petrissage", "effleurage"]
    assert [r["technique"] for r in carried.withheld] == ["friction"]
    assert any("not carried forward after severe soreness" in c and "left calf" in c for c in carried.changes)


def test_clinic_thresholds_decide_not_numbers_in_the_code():
    policy = replace(default_policy(), soreness_lower_min=7, soreness_severe_min=9)
    assert carry_forward(ROWS, LastSession(soreness_24h=6), policy).changes == ()


def test_the_planner_and_the_carried_rows_share_one_judgement():
    policy = default_policy()
    last = LastSession(soreness_24h=6, soreness_hours=30, relief="some")
    judged = judge_response(last, policy)
    assert judged.lower and judged.note == "last session's soreness 6/10 at 24 h, lasting 30 h"
    answer = plan_request({"patient": {"age": 40}, "conditions": [
        {"code": "low_back_pain", "region": "lower_back", "onset_days": 60}],
        "last_session": {"soreness_24h": 6, "soreness_hours": 30, "relief": "some"}})
    assert judged.note in str(answer["plan"])


@given(st.sampled_from(PRESSURES))
def test_one_level_lower_never_raises_and_never_goes_below_light(pressure):
    lowered = one_level_lower(pressure)
    assert RANK[lowered] <= RANK[pressure] and lowered in PRESSURES
