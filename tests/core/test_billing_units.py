"""Timed-code units: the CMS 8-minute rule and the per-code rule (facts.md F.2).

Every published CMS and contractor example, the whole FCSO unit table, and hypothesis properties of
the allocation.
"""

from __future__ import annotations

import json
import random
from math import ceil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palpate.core.billing import Rule, Service, bill_request, catalogue, count_units, units_for_minutes

TIMED = ("97140", "97124", "97110", "97112", "97116", "97530", "97035")

# FCSO / CMS unit table as printed in facts.md F.2 (kept here, independent of the knowledge base).
UNIT_TABLE = [(1, 8, 22), (2, 23, 37), (3, 38, 52), (4, 53, 67), (5, 68, 82), (6, 83, 97), (7, 98, 112), (8, 113, 127)]


def units(rule: str, *services: tuple[str, int]) -> dict[str, int]:
    return count_units([Service(code, minutes) for code, minutes in services], rule).units


def table_units(minutes: int) -> int:
    """The table value, read from UNIT_TABLE and extended by 'the pattern remains the same'."""
    if minutes < 8:
        return 0
    for count, low, high in UNIT_TABLE:
        if low <= minutes <= high:
            return count
    return 8 + (minutes - 128) // 15 + 1


# -- the unit table ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("count", "low", "high"), UNIT_TABLE)
def test_it_reproduces_every_row_of_the_unit_table_at_both_ends(count: int, low: int, high: int) -> None:
    assert units_for_minutes(low - 1) == count - 1
    assert units_for_minutes(low) == count
    assert units_for_minutes(high) == count
    assert units_for_minutes(high + 1) == count + 1


@pytest.mark.parametrize("minutes", range(0, 481))
def test_it_bills_one_timed_service_by_the_table_for_every_minute_up_to_eight_hours(minutes: int) -> None:
    result = count_units([Service("97140", minutes)], "cms")
    assert result.total_timed_units == table_units(minutes)
    assert result.units == {"97140": table_units(minutes)}


def test_it_keeps_the_pattern_past_two_hours() -> None:
    # FCSO: "the pattern remains the same"; 128-142 minutes are 9 units.
    assert units_for_minutes(127) == 8
    assert units_for_minutes(128) == 9
    assert units_for_minutes(142) == 9
    assert units_for_minutes(143) == 10


def test_it_bills_nothing_for_a_single_service_under_eight_minutes() -> None:
    # CMS rule 1.
    assert units("cms", ("97140", 7)) == {"97140": 0}
    assert units("cms", ("97140", 8)) == {"97140": 1}


# -- published examples -------------------------------------------------------------------------------

def test_it_follows_cms_example_1() -> None:
    result = count_units([Service("97112", 24), Service("97110", 23)], "cms")
    assert (result.total_timed_minutes, result.total_timed_units) == (47, 3)
    assert result.units == {"97112": 2, "97110": 1}


def test_it_never_bills_three_of_one_code_in_cms_example_2() -> None:
    got = units("cms", ("97112", 20), ("97110", 20))
    assert sorted(got.values()) == [1, 2]
    assert got == {"97112": 2, "97110": 1}  # the tie goes to the code given first


def test_it_gives_the_short_service_the_last_unit_in_cms_example_3() -> None:
    # 7 minutes of 97140 beat the 3 leftover minutes of 97110.
    assert units("cms", ("97110", 33), ("97140", 7)) == {"97110": 2, "97140": 1}


def test_it_follows_cms_example_4() -> None:
    result = count_units([Service("97110", 18), Service("97140", 13), Service("97116", 10), Service("97035", 8)], "cms")
    assert (result.total_timed_minutes, result.total_timed_units) == (49, 3)
    assert result.units == {"97110": 1, "97140": 1, "97116": 1, "97035": 0}


def test_it_bills_one_unit_of_one_code_for_three_seven_minute_services_in_cms_example_5() -> None:
    got = units("cms", ("97112", 7), ("97110", 7), ("97140", 7))
    assert sum(got.values()) == 1
    assert got == {"97112": 1, "97110": 0, "97140": 0}


def test_it_bills_the_longer_of_two_short_services_by_rule_5() -> None:
    assert units("cms", ("97112", 3), ("97110", 6)) == {"97112": 0, "97110": 1}


def test_it_follows_mac_a52758_example_1() -> None:
    got = units("cms", ("97140", 20), ("97110", 20))
    assert sorted(got.values()) == [1, 2]


def test_it_follows_mac_a52758_example_2() -> None:
    assert units("cms", ("97140", 35), ("97035", 7)) == {"97140": 2, "97035": 1}


def test_it_follows_the_uthealth_example() -> None:
    assert units("cms", ("97110", 18), ("97140", 10)) == {"97110": 1, "97140": 1}


def test_it_gives_fewer_units_under_the_per_code_rule_for_cms_example_3() -> None:
    # facts.md F.2: the per-code method gives 97110 x2, 97140 x0 = 2 units versus 3 under CMS.
    result = count_units([Service("97110", 33), Service("97140", 7)], "per_code")
    assert result.units == {"97110": 2, "97140": 0}
    assert result.total_timed_units == 2


def test_it_does_not_pile_the_days_minutes_onto_one_code_when_another_passed_fifteen_minutes() -> None:
    # CMS rule 4: 97140 had 16 minutes, so it keeps its unit even though 97110 had far more time.
    assert units("cms", ("97110", 40), ("97140", 16)) == {"97110": 3, "97140": 1}


def test_it_bills_at_least_two_units_for_thirty_minutes() -> None:
    # CMS rule 3: 30 minutes or more is at least 2 units, whatever the other services.
    got = units("cms", ("97110", 30), ("97140", 14), ("97112", 14))
    assert got["97110"] >= 2
    assert sum(got.values()) == units_for_minutes(58)


# -- listing rules ---------------------------------------------------------------------------------------

def test_it_sums_the_minutes_of_a_code_listed_twice() -> None:
    # 20 minutes of 97110 (1 full unit, 5 left) and 7 of 97140: 27 minutes are 2 units, and the
    # 7 leftover minutes of 97140 beat the 5 of 97110. Counted per entry, 97110 would have lost its unit.
    result = count_units([Service("97110", 10), Service("97140", 7), Service("97110", 10)], "cms")
    assert result.units == {"97110": 1, "97140": 1}
    assert result.lines[0].minutes == 20
    assert result.lines[0].entries == (10, 10)
    assert "summed per code" in result.lines[0].why


def test_it_bills_one_unit_for_an_untimed_code_and_never_counts_its_minutes() -> None:
    # AOTA / CMS rule 7: untimed minutes do not count toward timed units.
    result = count_units([Service("97010", 30), Service("97140", 7)], "cms")
    assert result.total_timed_minutes == 7
    assert result.total_timed_units == 0
    assert result.units == {"97010": 1, "97140": 0}
    assert result.total_untimed_units == 1


def test_it_bills_an_untimed_code_listed_twice_only_once() -> None:
    assert units("cms", ("97014", 0), ("97014", 15)) == {"97014": 1}


def test_it_bills_the_evaluation_codes_as_one_unit_each() -> None:
    assert units("per_code", ("97161", 20), ("97140", 8)) == {"97161": 1, "97140": 1}


def test_it_breaks_ties_by_the_order_given() -> None:
    assert units("cms", ("97110", 20), ("97112", 20)) == {"97110": 2, "97112": 1}
    assert units("cms", ("97112", 20), ("97110", 20)) == {"97112": 2, "97110": 1}


# -- explanations ----------------------------------------------------------------------------------------

def test_it_explains_which_minutes_earned_each_unit() -> None:
    result = count_units([Service("97110", 33), Service("97140", 7)], "cms")
    exercise, manual = result.lines
    assert len(exercise.basis) == 2
    assert exercise.basis[0].startswith("unit 1: minutes 1-15 of 97110")
    assert exercise.basis[1].startswith("unit 2: minutes 16-30 of 97110")
    assert manual.basis == ("unit 1: the 7 leftover minutes of 97140 (minutes 1-7), leftover no. 1 of 2 by size, "
                            "within the 1 unit the 40-minute total allows beyond the full ones",)
    assert "3 leftover minutes earned nothing" in exercise.why
    assert any("40 (97110 33 + 97140 7) give 3 units" in line for line in result.explanation)


def test_it_explains_a_unit_per_billed_unit_for_every_line() -> None:
    result = count_units([Service("97110", 18), Service("97140", 13), Service("97116", 10), Service("97035", 8)], "cms")
    for line in result.lines:
        assert len(line.basis) == line.units
    assert "earned nothing" in result.lines[3].why


def test_it_names_its_source_in_the_explanation() -> None:
    cms = count_units([Service("97110", 20)], "cms")
    per_code = count_units([Service("97110", 20)], Rule.PER_CODE)
    assert "Pub. 100-04, ch.5 §20.2" in cms.explanation[0]
    assert "UNVERIFIED" in per_code.explanation[0]


# -- properties ------------------------------------------------------------------------------------------

sessions = st.lists(st.tuples(st.sampled_from(TIMED), st.integers(min_value=0, max_value=70)),
                    min_size=1, max_size=6, unique_by=lambda s: s[0])


@given(sessions)
@settings(max_examples=400)
def test_its_total_units_equal_the_table_value_for_the_total_timed_minutes(session: list[tuple[str, int]]) -> None:
    result = count_units([Service(c, m) for c, m in session], "cms")
    total = sum(m for _, m in session)
    assert result.total_timed_minutes == total
    assert result.total_timed_units == table_units(total)
    assert sum(result.units.values()) == result.total_timed_units


@given(sessions)
@settings(max_examples=400)
def test_a_service_of_fifteen_minutes_or_more_always_has_its_full_units(session: list[tuple[str, int]]) -> None:
    got = count_units([Service(c, m) for c, m in session], "cms").units
    for code, minutes in session:
        if minutes >= 15:
            assert got[code] >= 1
        assert got[code] >= minutes // 15


@given(sessions)
@settings(max_examples=400)
def test_no_unit_goes_to_a_smaller_leftover_while_a_larger_one_went_without(session: list[tuple[str, int]]) -> None:
    lines = count_units([Service(c, m) for c, m in session], "cms").lines
    for winner in (line for line in lines if line.extra_unit):
        for loser in (line for line in lines if not line.extra_unit):
            assert winner.leftover_minutes >= loser.leftover_minutes


@given(sessions)
@settings(max_examples=400)
def test_no_code_gets_more_units_than_its_minutes_could_fill(session: list[tuple[str, int]]) -> None:
    got = count_units([Service(c, m) for c, m in session], "cms").units
    for code, minutes in session:
        assert got[code] <= ceil(minutes / 15)


@given(sessions)
def test_the_per_code_rule_counts_each_code_on_its_own(session: list[tuple[str, int]]) -> None:
    result = count_units([Service(c, m) for c, m in session], "per_code")
    assert result.units == {c: table_units(m) for c, m in session}


@given(sessions, st.randoms(use_true_random=False))
def test_the_order_given_only_decides_ties(session: list[tuple[str, int]], rnd: random.Random) -> None:
    shuffled = list(session)
    rnd.shuffle(shuffled)
    a = count_units([Service(c, m) for c, m in session], "cms")
    b = count_units([Service(c, m) for c, m in shuffled], "cms")
    assert a.total_timed_units == b.total_timed_units
    leftovers = [m % 15 for _, m in session if m % 15]
    if len(leftovers) == len(set(leftovers)):
        assert a.units == b.units


@given(sessions, st.sampled_from(["cms", "per_code"]))
def test_the_same_request_gives_the_same_bytes(session: list[tuple[str, int]], rule: str) -> None:
    payload = {"rule": rule, "services": [{"code": c, "minutes": m} for c, m in session]}
    first = json.dumps(bill_request(payload), ensure_ascii=False)
    assert json.dumps(bill_request(json.loads(json.dumps(payload))), ensure_ascii=False) == first
    assert set(json.loads(first)["units"]) == {c for c, _ in session}


def test_the_catalogue_is_loaded_once() -> None:
    assert catalogue() is catalogue()
