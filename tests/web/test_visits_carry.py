"""The last session's response applied to carried-forward rows (palpate.visits.carry), without a database."""

from __future__ import annotations

from palpate.core.policy import default_policy
from palpate.visits import carry
from palpate.visits.note import Treatment

CARRIED = [
    {"technique": "friction", "region": "lower_back", "side": "", "pressure": "moderate", "minutes": 6, "response": ""},
    {"technique": "petrissage", "region": "lower_back", "side": "", "pressure": "moderate", "minutes": 8,
     "response": "discomfort"},
]
TYPED = [Treatment("friction", "lower_back", "", "moderate", 6), Treatment("petrissage", "lower_back", "", "moderate", 8)]


def rows(response: carry.Response) -> list[tuple[str, str]]:
    return [(t.technique, t.pressure) for t in response.treatments]


def record(**changes: object) -> dict:
    return {**carry.carried_record("last visit", CARRIED, 1), **changes}


def test_severe_soreness_removes_friction_lowers_petrissage_and_says_where_each_typed_row_went():
    response = carry.respond(record(), TYPED, 8, None, default_policy())
    assert rows(response) == [("petrissage", "light")]
    assert response.positions == [None, 0]
    assert [c["action"] for c in response.applied] == ["removed", "lowered"]
    assert "adverse event" in response.prompt


def test_the_same_soreness_saved_again_changes_nothing_more():
    first = carry.respond(record(), TYPED, 8, None, default_policy())
    again = carry.respond(first.stored(record()), first.treatments, 8, None, default_policy())
    assert rows(again) == rows(first) and not again.changed_rows


def test_a_corrected_soreness_puts_the_rows_back_as_carried():
    first = carry.respond(record(), TYPED, 8, None, default_policy())
    corrected = carry.respond(first.stored(record()), first.treatments, 2, None, default_policy())
    assert sorted(rows(corrected)) == [("friction", "moderate"), ("petrissage", "moderate")]
    assert len(corrected.reverted) == 2 and corrected.changes == []


def test_a_row_the_therapist_changed_otherwise_is_left_as_they_typed_it():
    typed = [Treatment("myofascial_release", "lower_back", "", "light", 5), TYPED[1]]
    response = carry.respond(record(), typed, 6, None, default_policy())
    assert rows(response) == [("myofascial_release", "light"), ("petrissage", "light")]


def test_a_put_back_restores_the_row_and_records_who_and_why():
    first = carry.respond(record(), TYPED, 8, None, default_policy())
    back = carry.respond(first.stored(record()), first.treatments, 8, None, default_policy(),
                         put_back={0: "Soreness came from gardening"}, by=(7, "Alice"))
    assert ("friction", "moderate") in rows(back)
    [change] = back.put_back
    assert change["put_back"]["reason"] == "Soreness came from gardening" and change["put_back"]["by_name"] == "Alice"
    notes = carry.row_notes(back.stored(record()), back.treatments)
    assert any("Put back as carried forward by Alice" in n for row in notes for n in row)
    assert any("response at the last visit: discomfort" in n for row in notes for n in row)
