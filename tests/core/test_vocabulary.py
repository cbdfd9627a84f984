"""One vocabulary from the knowledge base (palpate.core.vocabulary) and the one side rule."""

from __future__ import annotations

import pytest

from palpate.core import vocabulary
from palpate.core.kb.clinical import knowledge_base
from palpate.core.regions import side_problem


@pytest.mark.parametrize("kind", ["region", "group", "site", "technique", "therapy", "condition", "phase", "finding",
                                  "finding_whole_body", "finding_local", "exercise", "red_flag", "screen", "wells_item",
                                  "side", "pressure", "response", "relief", "irritability", "session", "severity",
                                  "urgency", "referral_reason", "vital", "reason"])
def test_every_kind_lists_codes_with_words_and_no_code_is_its_own_label(kind: str) -> None:
    listed = vocabulary.choices(kind)
    assert listed
    for code, text in listed:
        assert text and text != code and "_" not in text, (kind, code, text)


def test_every_code_a_screen_can_give_as_a_reason_has_words() -> None:
    kb = knowledge_base()
    codes = [*kb.rules, *(f.code for f in kb.red_flags), *kb.ottawa, "session_hold",
             "leg_symptoms_after_immobilisation", "wells_leg_signs", "dvt_risk_window"]
    codes += [f"wells_{v}_{band.category}" for v, spec in kb.wells.versions.items() for band in spec.bands]
    referral_reasons = {r.referral.reason for r in kb.rules.values() if r.referral} | {
        f.referral.reason for f in kb.red_flags if f.referral} | {o.referral.reason for o in kb.ottawa.values()} | {
        kb.wells.block_referral.reason, kb.wells.leg_referral.reason, kb.wells.sign_referral.reason}
    for code in codes:
        assert vocabulary.knows(code), code
    for reason in referral_reasons:
        assert vocabulary.knows(reason, "referral_reason"), reason


def test_ambiguous_codes_are_read_by_their_kind() -> None:
    assert vocabulary.label("none", "relief") == "No relief"
    assert vocabulary.label("none", "pressure") == "None at all"
    assert vocabulary.label("relief", "response") == "Relief"


def test_an_unknown_code_is_shown_as_words_never_raw() -> None:
    assert vocabulary.label("some_new_code") == "Some new code"
    assert vocabulary.label("") == ""


def test_places_read_as_running_text() -> None:
    assert vocabulary.where("lower_back") == "lower back"
    assert vocabulary.where("upper_limb", "left") == "left upper limb"
    assert vocabulary.join_or(["a", "b", "c"]) == "a, b or c"


def test_the_side_rule_needs_a_side_for_paired_places_and_none_for_midline() -> None:
    index = knowledge_base().regions
    assert side_problem(index, "elbow", "left") is None
    assert side_problem(index, "neck", None) is None
    assert side_problem(index, "whole_body", None) is None
    assert side_problem(index, "upper_limb", None).code == "missing_field"
    assert side_problem(index, "elbow", None).message == "Elbow is paired: choose left or right."
    assert side_problem(index, "lower_back", "left").code == "invalid_value"
    assert side_problem(index, "whole_body", "left").code == "invalid_value"
    assert side_problem(index, "elbow", "up").code == "invalid_value"
