"""The last session's response for rows (planning policy §3): one rule for the planner and the
rows a visit carries forward, with the clinic's thresholds."""

from __future__ import annotations

from dataclasses import replace

from palpate.core.planning import plan_request
from palpate.core.policy import default_policy
from palpate.core.request import LastSession
from palpate.core.response import one_level_lower, respond_to_rows, session_response

ROWS = [
    {"technique": "friction", "region": "lower_back", "side": None, "pressure": "moderate"},
    {"technique": "petrissage", "region": "lower_back", "side": None, "pressure": "deep"},
    {"technique": "effleurage", "region": "lower_back", "side": None, "pressure": "light"},
    {"technique": "trigger_point", "region": "upper_back", "side": None, "pressure": "moderate"},
]


def actions(changes: tuple) -> list[tuple[str, str | None] | None]:  # noqa: ANN001
    return [None if c is None else (c.action, c.to_pressure) for c in changes]


def test_it_changes_nothing_without_a_response_or_with_mild_soreness():
    assert actions(respond_to_rows(ROWS, None)) == [None] * 4
    assert actions(respond_to_rows(ROWS, LastSession(soreness_24h=4, soreness_hours=48))) == [None] * 4


def test_it_lowers_each_row_one_level_at_5_or_over_48_hours_and_light_stays_light():
    for last in (LastSession(soreness_24h=5), LastSession(soreness_24h=2, soreness_hours=49),
                 LastSession(soreness_24h=7, soreness_hours=72)):
        assert actions(respond_to_rows(ROWS, last)) == [("lowered", "light"), ("lowered", "moderate"), None,
                                                        ("lowered", "light")], last


def test_severe_soreness_removes_friction_and_trigger_point_and_lowers_the_rest():
    for last in (LastSession(soreness_24h=8), LastSession(soreness_24h=3, soreness_hours=73)):
        changes = respond_to_rows(ROWS, last)
        assert actions(changes) == [("removed", None), ("lowered", "moderate"), None, ("removed", None)], last
        assert "re-assess for an adverse event (Ernst 2003)" in changes[0].reason
    assert session_response(LastSession(soreness_24h=8)).adverse_event_prompt().startswith(
        "Severe soreness after the last session (8/10)")


def test_it_uses_the_clinics_thresholds_not_numbers_of_its_own():
    stricter = replace(default_policy(), soreness_lower_min=3, soreness_severe_min=6, soreness_progress_max=1)
    last = LastSession(soreness_24h=6)
    assert actions(respond_to_rows(ROWS, last, stricter))[0] == ("removed", None)
    assert actions(respond_to_rows(ROWS, last))[0] == ("lowered", "light")
    assert actions(respond_to_rows(ROWS, LastSession(soreness_24h=3), stricter))[1] == ("lowered", "moderate")


def test_the_planner_applies_the_same_rule_to_its_suggestions():
    request = {"conditions": [{"code": "low_back_pain", "region": "lower_back", "onset_days": 120}]}
    plain = plan_request(request)
    severe = plan_request({**request, "last_session": {"soreness_24h": 8}})
    assert any(i["technique"] == "trigger_point" for i in plain["plan"])
    assert not any(i["technique"] in ("friction", "trigger_point") for i in severe["plan"])
    assert session_response(LastSession(soreness_24h=8)).adverse_event_prompt() in severe["warnings"]


def test_one_level_lower():
    assert [one_level_lower(p) for p in ("deep", "moderate", "light")] == ["moderate", "light", "light"]
