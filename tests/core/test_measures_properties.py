"""Properties that must hold for every instrument and every answer pattern (hypothesis)."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from palpate.core.measures import Better, Direction, Scale, change, instrument, instruments, score

SINGLE_SCALE = [inst.code for inst in instruments() if not inst.is_multiscale]
BCTQ_SCALES = instrument("bctq").scale_codes


@st.composite
def scorable_answers(draw: st.DrawFn, scale: Scale) -> list[int | None]:
    """A full set of answers for ``scale`` with no more unanswered items than its rule allows."""
    count = draw(st.integers(scale.min_items, scale.max_items))
    answers: list[int | None] = [draw(st.integers(item.min_answer, item.max_answer)) for item in scale.items[:count]]
    allowed = scale.missing.max_missing if scale.missing.max_missing is not None else count - 1
    holes = draw(st.sets(st.integers(0, count - 1), max_size=min(allowed, count - 1)))
    for index in holes:
        answers[index] = None
    return answers


@st.composite
def instrument_and_answers(draw: st.DrawFn) -> tuple[str, list[int | None]]:
    code = draw(st.sampled_from(SINGLE_SCALE))
    return code, draw(scorable_answers(instrument(code).scale()))


@given(instrument_and_answers())
def test_it_always_scores_within_the_instrument_range(case: tuple[str, list[int | None]]) -> None:
    code, answers = case
    result = score(code, answers)
    low, high = instrument(code).range
    assert result.valid
    assert result.score is not None
    assert low <= result.score <= high


@given(st.data())
def test_it_always_scores_bctq_scales_within_1_to_5(data: st.DataObject) -> None:
    bctq = instrument("bctq")
    answers = {scale.code: data.draw(scorable_answers(scale)) for scale in bctq.scales}
    result = score("bctq", answers)
    for value in result.scores.values():
        assert value is not None and 1 <= value <= 5


@given(instrument_and_answers(), st.data())
def test_it_moves_the_score_towards_better_when_one_answer_moves_towards_better(
        case: tuple[str, list[int | None]], data: st.DataObject) -> None:
    code, answers = case
    scale = instrument(code).scale()
    answered = [i for i, value in enumerate(answers) if value is not None]
    index = data.draw(st.sampled_from(answered))
    item = scale.items[index]
    # Each item's answer scale runs the same way as its instrument (the loader checks this), so a
    # step towards the item's better end is a lower answer on a lower-is-better instrument.
    step = -1 if scale.better is Better.LOWER else 1
    current = answers[index]
    assert current is not None
    moved = current + step
    if not item.min_answer <= moved <= item.max_answer:
        moved, current = current, current - step  # at the better end already: step from one before it
        answers[index] = current
    before = score(code, answers).score
    answers[index] = moved
    after = score(code, answers).score
    assert before is not None and after is not None
    assert (after - before) * step > 0


@given(st.sampled_from(SINGLE_SCALE), st.data())
def test_it_never_scores_a_questionnaire_with_more_missing_than_its_rule_allows(
        code: str, data: st.DataObject) -> None:
    scale = instrument(code).scale()
    limit = scale.missing.max_missing
    count = scale.max_items
    missing = data.draw(st.integers((limit or 0) + 1 if limit is not None else count, count))
    answers: list[int | None] = [None] * missing + [item.min_answer for item in scale.items[missing:count]]
    result = score(code, answers)
    assert not result.valid
    assert result.score is None
    assert result.reason == "too_many_missing"


@given(instrument_and_answers())
def test_it_gives_the_same_json_for_the_same_answers(case: tuple[str, list[int | None]]) -> None:
    code, answers = case
    first = json.dumps(score(code, answers).as_json())
    assert first == json.dumps(score(code, list(answers)).as_json())


def _scores(scale: Scale) -> st.SearchStrategy[float]:
    low, high = scale.range
    return st.one_of(st.integers(int(low), int(high)),
                     st.floats(low, high, allow_nan=False, allow_infinity=False))


@st.composite
def change_case(draw: st.DrawFn) -> tuple[str, str | None, float, float]:
    code = draw(st.sampled_from([inst.code for inst in instruments()]))
    scale_code = draw(st.sampled_from(BCTQ_SCALES)) if code == "bctq" else None
    scale = instrument(code).scale(scale_code)
    return code, scale_code, draw(_scores(scale)), draw(_scores(scale))


@given(change_case())
def test_it_meets_the_mcid_exactly_when_the_absolute_change_reaches_it(
        case: tuple[str, str | None, float, float]) -> None:
    code, scale_code, baseline, follow_up = case
    result = change(code, baseline, follow_up, scale_code)
    delta = Decimal(repr(follow_up) if isinstance(follow_up, float) else follow_up) \
        - Decimal(repr(baseline) if isinstance(baseline, float) else baseline)
    assert result.meets_mcid == (abs(delta) >= Decimal(repr(result.mcid)))
    assert (result.direction is Direction.NO_IMPORTANT_CHANGE) == (not result.meets_mcid)


@given(change_case())
def test_it_judges_the_reverse_change_as_the_opposite_direction(case: tuple[str, str | None, float, float]) -> None:
    code, scale_code, baseline, follow_up = case
    forward = change(code, baseline, follow_up, scale_code)
    backward = change(code, follow_up, baseline, scale_code)
    assert forward.change == -backward.change
    assert forward.meets_mcid == backward.meets_mcid
    opposite = {Direction.IMPROVED: Direction.WORSE, Direction.WORSE: Direction.IMPROVED,
                Direction.NO_IMPORTANT_CHANGE: Direction.NO_IMPORTANT_CHANGE}
    assert backward.direction is opposite[forward.direction]


@given(change_case())
def test_it_calls_improved_only_a_move_towards_the_better_end(case: tuple[str, str | None, float, float]) -> None:
    code, scale_code, baseline, follow_up = case
    result = change(code, baseline, follow_up, scale_code)
    if result.direction is Direction.IMPROVED:
        better = instrument(code).scale(scale_code).better
        assert (follow_up < baseline) if better is Better.LOWER else (follow_up > baseline)
