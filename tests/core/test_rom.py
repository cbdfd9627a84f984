"""Goniometric range of motion against a configurable normal reference set (facts.md E)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from palpate.core.errors import InputError
from palpate.core.measures import Status, percent_of_normal, rom_norm, rom_reference, rom_references

VA_TABLE = {  # facts.md E, VA Schedule for Rating Disabilities (38 CFR §4.71), attribution PARTIAL
    ("shoulder", "flexion"): 180, ("shoulder", "abduction"): 180, ("shoulder", "external_rotation"): 90,
    ("shoulder", "internal_rotation"): 90, ("elbow", "flexion"): 145, ("forearm", "supination"): 85,
    ("forearm", "pronation"): 80, ("wrist", "extension"): 70, ("wrist", "flexion"): 80,
    ("wrist", "radial_deviation"): 20, ("wrist", "ulnar_deviation"): 45, ("hip", "flexion"): 125,
    ("hip", "extension"): 30, ("hip", "abduction"): 45, ("hip", "adduction"): 25,
    ("hip", "external_rotation"): 60, ("hip", "internal_rotation"): 40, ("knee", "flexion"): 140,
    ("knee", "extension"): 0, ("ankle", "dorsiflexion"): 20, ("ankle", "plantarflexion"): 45,
}


def test_it_holds_the_whole_va_table_as_the_default_reference_set() -> None:
    va = rom_reference()
    assert va.code == "va"
    assert {(n.joint, n.motion): n.end for n in va.norms} == VA_TABLE
    assert all(n.start == 0 for n in va.norms)


def test_it_marks_the_va_attribution_as_partial_and_the_aaos_values_as_unverified() -> None:
    assert rom_reference("va").status is Status.PARTIAL
    assert rom_reference("aaos").status is Status.UNVERIFIED
    assert not rom_norm("shoulder", "flexion").verified
    assert [ref.code for ref in rom_references()] == ["va", "aaos"]


def test_it_gives_a_percent_of_normal_against_the_chosen_reference_set() -> None:
    assert percent_of_normal("shoulder", "flexion", 90) == 50.0
    assert percent_of_normal("knee", "flexion", 70, reference="va") == 50.0
    assert percent_of_normal("knee", "flexion", 135, reference="aaos") == 100.0
    assert percent_of_normal("shoulder", "internal_rotation", 35, reference="aaos") == 50.0


def test_it_allows_more_than_100_percent_for_a_hypermobile_joint() -> None:
    assert percent_of_normal("elbow", "flexion", 152.25) == pytest.approx(105.0)


def test_it_refuses_a_percentage_of_a_motion_whose_normal_is_zero_degrees() -> None:
    assert rom_norm("knee", "extension").arc == 0
    with pytest.raises(InputError) as caught:
        percent_of_normal("knee", "extension", 0)
    assert caught.value.code == "not_applicable"


def test_it_never_falls_back_to_another_set_for_a_missing_motion() -> None:
    with pytest.raises(InputError) as caught:
        rom_norm("wrist", "flexion", reference="aaos")
    assert caught.value.code == "unknown_joint"
    with pytest.raises(InputError) as caught:
        rom_norm("shoulder", "abduction", reference="aaos")
    assert caught.value.code == "unknown_motion"


@pytest.mark.parametrize(("args", "error", "path"), [
    (("neck", "flexion", 30), "unknown_joint", "joint"),
    (("shoulder", "circumduction", 30), "unknown_motion", "motion"),
    (("shoulder", "flexion", 30, "norkin"), "unknown_reference", "reference"),
    (("shoulder", "flexion", -5), "out_of_range", "degrees"),
    (("shoulder", "flexion", 400), "out_of_range", "degrees"),
    (("shoulder", "flexion", "90"), "wrong_type", "degrees"),
    (("shoulder", "flexion", True), "wrong_type", "degrees"),
])
def test_it_rejects_bad_rom_input(args: tuple[object, ...], error: str, path: str) -> None:
    with pytest.raises(InputError) as caught:
        percent_of_normal(*args)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.path) == (error, path)


@given(st.sampled_from([key for key, end in VA_TABLE.items() if end > 0]), st.floats(0, 200), st.floats(0, 200))
def test_it_grows_the_percentage_with_the_measured_degrees(key: tuple[str, str], a: float, b: float) -> None:
    joint, motion = key
    low, high = sorted((a, b))
    assert percent_of_normal(joint, motion, low) <= percent_of_normal(joint, motion, high)
    assert percent_of_normal(joint, motion, VA_TABLE[key]) == 100.0


def test_a_measurement_beyond_the_physiological_limit_is_refused_naming_the_limit() -> None:
    from palpate.core.measures import check_rom, rom_limit

    with pytest.raises(InputError) as caught:
        check_rom("shoulder", "flexion", 350)
    assert (caught.value.code, caught.value.path) == ("out_of_range", "degrees")
    assert "200" in caught.value.message and "UNVERIFIED" in caught.value.message
    assert check_rom("shoulder", "flexion", 185) == 185  # hypermobile, not impossible
    assert rom_limit("shoulder", "flexion").status is Status.UNVERIFIED


def test_every_normal_motion_has_a_limit_that_never_refuses_a_normal_value() -> None:
    from palpate.core.measures import check_rom

    for reference in rom_references():
        for norm in reference.norms:
            assert check_rom(norm.joint, norm.motion, norm.end) == norm.end


@pytest.mark.parametrize(("args", "error", "path"), [
    (("neck", "flexion", 30), "unknown_joint", "joint"),
    (("shoulder", "circumduction", 30), "unknown_motion", "motion"),
    (("shoulder", "flexion", -5), "out_of_range", "degrees"),
    (("shoulder", "flexion", "90"), "wrong_type", "degrees"),
])
def test_check_rom_refuses_bad_input_with_a_path(args: tuple[object, ...], error: str, path: str) -> None:
    from palpate.core.measures import check_rom

    with pytest.raises(InputError) as caught:
        check_rom(*args)  # type: ignore[arg-type]
    assert (caught.value.code, caught.value.path) == (error, path)


def test_a_limit_below_a_normal_end_is_a_knowledge_base_error() -> None:
    import copy

    from palpate.core.errors import KnowledgeBaseError
    from palpate.core.kb.loader import load_yaml
    from palpate.core.measures.catalogue import build_rom_catalogue

    data = copy.deepcopy(load_yaml("rom_norms.yaml"))
    data["physiological_limits"]["joints"]["elbow"]["flexion"] = 140
    with pytest.raises(KnowledgeBaseError) as caught:
        build_rom_catalogue(data, "rom_norms.yaml")
    assert "elbow.flexion" in caught.value.key and "145" in caught.value.problem
