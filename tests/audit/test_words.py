"""An audit event in words: "field: old -> new" with the vocabulary's labels, never raw JSON or codes."""

from __future__ import annotations

from palpate.audit.words import action_words, change_lines, value_words


def test_it_writes_each_change_as_field_old_to_new_with_labels():
    lines = change_lines({"body_region": "lower_back", "condition": "low_back_pain"},
                         {"body_region": "neck", "condition": "neck_pain"})
    assert lines == ["Body region: Lower back -> Neck", "Condition: Low back pain -> Neck pain"]


def test_a_created_value_and_a_removed_one_read_plainly():
    assert change_lines(None, {"findings": ["anticoagulant_therapy"], "signed": True}) == [
        "Findings: Anticoagulant (blood-thinning) therapy", "Signed: yes"]
    assert change_lines({"note": "text"}, {}) == ["Note: text -> —"]


def test_nested_values_and_long_text_stay_readable():
    assert value_words({"technique": "effleurage", "minutes": 8}) == "technique Effleurage; minutes 8"
    assert value_words("x" * 500).endswith("…") and len(value_words("x" * 500)) <= 160


def test_an_action_reads_as_words():
    assert action_words("portal.check_ins_view") == "Portal: check ins view"
    assert action_words("audit.view") == "Audit: view"


def test_billing_warnings_have_words():
    from palpate.core.vocabulary import label

    assert label("ncci_pair", "billing_warning").startswith("Codes usually not billed together")
