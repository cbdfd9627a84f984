"""Loading a clinic's licensed questionnaire wording (Palpate ships none)."""

from __future__ import annotations

import json

import pytest

from palpate.core.errors import InputError
from palpate.core.measures import instrument, load_licensed_wording


def odi_file(count: int = 10) -> dict[str, object]:
    # Placeholder texts stand in for a clinic's licensed copy.
    return {"instrument": "odi", "items": {n: f"licensed section {n}" for n in range(1, count + 1)}}


def test_it_attaches_licensed_wording_from_yaml_text_and_leaves_the_catalogue_unchanged() -> None:
    text = "instrument: odi\nitems:\n" + "".join(f"  {n}: \"licensed section {n}\"\n" for n in range(1, 11))
    worded = load_licensed_wording("odi", text)
    assert worded.has_licensed_wording
    assert [item.wording for item in worded.items][:2] == ["licensed section 1", "licensed section 2"]
    assert [item.topic for item in worded.items] == [item.topic for item in instrument("odi").items]
    assert not instrument("odi").has_licensed_wording


def test_it_reads_json_with_string_item_numbers_and_option_wording() -> None:
    items: dict[str, object] = {str(n): f"q{n}" for n in range(1, 12)}
    items["1"] = {"text": "q1", "options": {str(v): f"option {v}" for v in range(1, 6)}}
    worded = load_licensed_wording("quickdash", json.dumps({"items": items}))
    first = worded.items[0]
    assert first.wording == "q1"
    assert [label for _, label in first.option_wording] == [f"option {v}" for v in range(1, 6)]
    assert worded.items[1].option_wording == ()


def test_it_takes_a_bare_mapping_of_item_numbers() -> None:
    worded = load_licensed_wording("nprs", {1: "licensed pain question"})
    assert worded.items[0].wording == "licensed pain question"


def test_it_words_the_bctq_scale_by_scale() -> None:
    mapping = {"items": {"symptom_severity": {n: f"s{n}" for n in range(1, 12)},
                         "functional_status": {n: f"f{n}" for n in range(1, 9)}}}
    worded = load_licensed_wording("bctq", mapping)
    assert worded.scale("functional_status").items[7].wording == "f8"


@pytest.mark.parametrize(("code", "content", "error", "path"), [
    ("odi", odi_file(9), "wrong_count", "items"),
    ("odi", {"instrument": "odi", "items": {**odi_file()["items"], 11: "extra"}}, "unknown_item", "items.11"),  # type: ignore[dict-item]
    ("odi", {"instrument": "ndi", "items": {}}, "wrong_instrument", "instrument"),
    ("odi", {"instrument": "odi", "items": {**odi_file()["items"], 3: ""}}, "missing_field", "items.3.text"),  # type: ignore[dict-item]
    ("odi", {"instrument": "odi", "items": {**odi_file()["items"], 3: {"text": "t", "options": {0: "a"}}}},  # type: ignore[dict-item]
     "wrong_count", "items.3.options"),
    ("odi", {"instrument": "odi", "items": {**odi_file()["items"], 3: {"text": "t", "options": {9: "a"}}}},  # type: ignore[dict-item]
     "out_of_range", "items.3.options.9"),
    ("odi", "items: [unclosed", "malformed_file", ""),
    ("odi", "just text", "wrong_type", ""),
    ("bctq", {"items": {"symptom_severity": {n: "s" for n in range(1, 12)}}}, "missing_field",
     "items.functional_status"),
    ("psfs", {1: "activity"}, "not_applicable", "items"),
])
def test_it_rejects_an_incomplete_or_malformed_wording_file(code: str, content: object, error: str,
                                                            path: str) -> None:
    with pytest.raises(InputError) as caught:
        load_licensed_wording(code, content)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.path) == (error, path)
