"""An episode's condition fits its region and its ICD-10-CM code fits the condition (palpate.core.episodes)."""

from __future__ import annotations

import pytest

from palpate.core.episodes import (
    allowed_regions,
    check_condition_region,
    check_episode,
    condition_region_problem,
    icd10_fit,
    normalise_icd10,
)
from palpate.core.errors import InputError
from palpate.core.kb.clinical import knowledge_base


def test_every_condition_lists_where_it_can_occur_as_knowledge_base_data() -> None:
    kb = knowledge_base()
    for code, spec in kb.conditions.items():
        assert spec.regions, code
        assert spec.default_region is None or spec.default_region in spec.regions
    assert allowed_regions("carpal_tunnel_syndrome") == ("wrist",)
    assert allowed_regions("low_back_pain") == ("lower_back",)
    assert allowed_regions("neck_pain") == ("neck",)
    assert "abdomen" not in allowed_regions("tendinopathy") and "elbow" in allowed_regions("tendinopathy")
    assert "forearm" not in allowed_regions("bursitis")
    assert set(allowed_regions("post_operative")) == set(kb.regions.regions)


def test_a_condition_at_a_region_where_it_cannot_occur_is_refused_with_the_allowed_list() -> None:
    assert condition_region_problem("tendinopathy", "elbow") is None
    problem = condition_region_problem("carpal_tunnel_syndrome", "neck")
    assert problem is not None and "wrist" in problem and "neck" in problem
    with pytest.raises(InputError) as caught:
        check_condition_region("tendinopathy", "abdomen", "conditions[0].region")
    assert (caught.value.code, caught.value.path) == ("invalid_value", "conditions[0].region")
    assert all(region in caught.value.message for region in allowed_regions("tendinopathy"))


@pytest.mark.parametrize(("condition", "code"), [
    ("low_back_pain", "M54.50"), ("low_back_pain", "m54.59"), ("low_back_pain", "M5450"),
    ("neck_pain", "M54.2"), ("carpal_tunnel_syndrome", "G56.01"), ("muscle_strain", "S39.012A"),
    ("muscle_strain", "S46.011A"), ("ligament_sprain", "S93.401A"), ("myofascial_pain_syndrome", "M79.18"),
    ("tendinopathy", "M77.11"),
])
def test_a_code_of_the_conditions_family_fits(condition: str, code: str) -> None:
    fit = icd10_fit(condition, code)
    assert fit.fits and fit.checked


@pytest.mark.parametrize(("condition", "code", "named"), [
    ("carpal_tunnel_syndrome", "M54.50", "G56.0"),
    ("low_back_pain", "G56.01", "M54.5"),
    ("ligament_sprain", "S46.011A", "S93"),
    ("muscle_strain", "S93.401A", "S46"),
])
def test_a_code_of_another_family_is_refused_saying_what_fits(condition: str, code: str, named: str) -> None:
    fit = icd10_fit(condition, code)
    assert not fit.fits and fit.checked and named in fit.message
    with pytest.raises(InputError) as caught:
        check_episode(condition, allowed_regions(condition)[0], code)
    assert caught.value.path == "icd10" and named in caught.value.message


def test_an_unverified_family_says_so() -> None:
    assert "UNVERIFIED" in icd10_fit("tendinopathy", "M54.50").message


def test_a_condition_without_a_family_in_the_knowledge_base_is_not_checked() -> None:
    fit = icd10_fit("joint_stiffness", "M25.611")
    assert fit.fits and not fit.checked and "not checked" in fit.message


@pytest.mark.parametrize("code", ["", "54.50", "M5", "back pain", "M54.50000"])
def test_something_that_is_not_an_icd10_code_is_refused(code: str) -> None:
    with pytest.raises(InputError) as caught:
        normalise_icd10(code)
    assert caught.value.code == "invalid_value"


def test_an_episode_checks_the_condition_then_its_region_then_its_code() -> None:
    check_episode("carpal_tunnel_syndrome", "wrist", "G56.02")
    check_episode("carpal_tunnel_syndrome", "wrist")
    with pytest.raises(InputError) as unknown:
        check_episode("tennis_elbow", "elbow")
    assert unknown.value.path == "condition"
    with pytest.raises(InputError) as wrong_region:
        check_episode("carpal_tunnel_syndrome", "neck", "G56.02")
    assert wrong_region.value.path == "region"
