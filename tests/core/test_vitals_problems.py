"""Several problems of one input at once (palpate.core.request.vitals_problems: a list of InputError,
with the parser's own messages and paths); parse_request and the CLI contract still answer the first."""

from __future__ import annotations

import pytest

from palpate.core.errors import InputError
from palpate.core.request import parse_request, vitals_problems


def test_it_names_every_impossible_vital_at_once_with_the_parsers_own_messages_and_paths():
    problems = vitals_problems({"temperature_c": 80, "bp_systolic": 400, "bp_diastolic": 70})
    assert [p.path for p in problems] == ["vitals.temperature_c", "vitals.bp_systolic"]
    assert all(p.code == "out_of_range" for p in problems)
    with pytest.raises(InputError) as first:
        parse_request({"contract": "palpate.plan/1", "conditions": [], "vitals": {"temperature_c": 80}})
    assert problems[0].message == first.value.message


def test_it_checks_the_order_of_two_possible_blood_pressures_even_when_the_temperature_is_wrong():
    problems = vitals_problems({"temperature_c": 80, "bp_systolic": 90, "bp_diastolic": 120})
    assert [p.path for p in problems] == ["vitals.temperature_c", "vitals.bp_diastolic"]
    assert "must be lower than systolic" in problems[1].message


def test_possible_vitals_have_no_problem():
    assert vitals_problems({"temperature_c": 36.8, "bp_systolic": 120, "bp_diastolic": 80}) == []
    assert vitals_problems({}) == []
