"""Warning signs after a session as knowledge-base data (kb/warning_signs.yaml)."""

from __future__ import annotations

import copy

import pytest

from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb.loader import load_yaml
from palpate.core.warning_signs import build, patient_actions, sign, signs_to_ask, warning_signs


def test_the_handouts_signs_are_all_there_each_with_sources_and_advice():
    signs = warning_signs().signs
    assert set(signs) == {"calf_pain_swelling", "breathless_chest_pain", "fever", "new_numbness_weakness",
                          "bruising_anticoagulated"}
    for item in signs.values():
        assert item.sources and item.advice and item.cited()


def test_calf_pain_with_swelling_advises_a_dvt_screen_before_more_work_on_that_leg():
    calf = sign("calf_pain_swelling")
    assert "screen for DVT" in calf.advice and "before any further work on that leg" in calf.advice
    assert calf.sides and calf.action == "call_clinic"
    assert {"wells2003", "ernst2003"} <= set(calf.sources)


def test_breathlessness_sends_the_patient_to_the_emergency_number_first():
    actions = patient_actions(["calf_pain_swelling", "breathless_chest_pain"])
    assert [a.code for a in actions] == ["emergency", "call_clinic"]
    headline, _ = actions[0].filled("555-0100", "112")
    assert headline == "Call 112 now."


def test_bruising_is_asked_only_of_patients_on_blood_thinners_or_with_a_bleeding_tendency():
    assert "bruising_anticoagulated" not in [s.code for s in signs_to_ask(["varicose_veins"])]
    assert "bruising_anticoagulated" in [s.code for s in signs_to_ask(["anticoagulant_therapy"])]


def _data():
    return copy.deepcopy(load_yaml("warning_signs.yaml"))


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d["signs"]["fever"].update(sources=[]), "needs a source"),
    (lambda d: d["signs"]["fever"].update(sources=["nowhere"]), "unknown code"),
    (lambda d: d["signs"]["fever"].update(urgency="routine"), "never routine"),
    (lambda d: d["signs"]["fever"].update(asked_when=["no_such_finding"]), "unknown code"),
    (lambda d: d["signs"]["fever"].update(advise="typo"), "unknown key"),
    (lambda d: d["actions"]["emergency"].update(headline="Call {emergency} now"), "unknown placeholder"),
])
def test_a_malformed_file_is_refused_naming_the_key(change, problem):
    data = _data()
    change(data)
    with pytest.raises(KnowledgeBaseError) as refused:
        build(data)
    assert problem in str(refused.value)


def test_an_unknown_sign_is_an_input_error_not_a_crash():
    from palpate.core.errors import InputError

    with pytest.raises(InputError):
        patient_actions(["itchy_nose"])
