"""Regions, groups and sides: where a finding's rule reaches, and what a restriction covers."""

from __future__ import annotations

from palpate.core.kb.clinical import knowledge_base
from palpate.core.regions import cells, covers, proximal, regions, related, spread, surrounding

INDEX = knowledge_base().regions


def test_the_region_list_offers_regions_groups_and_whole_body_with_laterality() -> None:
    listed = {r.code: r for r in regions()}
    assert listed["elbow"].kind == "region" and listed["elbow"].paired
    assert listed["neck"].kind == "region" and not listed["neck"].paired
    assert listed["spine"].members == ("neck", "upper_back", "lower_back", "pelvis")
    assert listed["trunk"].members == ("chest", "abdomen", "upper_back", "lower_back")
    assert listed["whole_body"].kind == "whole_body" and len(listed["whole_body"].members) == 20
    assert listed["lower_limb"].snomed == "61685007"
    assert listed["knee"].to_json()["snomed"] == "72696002"


def test_a_paired_target_covers_only_its_own_side() -> None:
    assert cells(INDEX, "forearm", "right") == (("forearm", "right"),)
    assert set(cells(INDEX, "upper_limb", "left")) == {(r, "left") for r in INDEX.groups["upper_limb"].regions}


def test_a_midline_group_has_no_side_and_whole_body_covers_both_sides() -> None:
    assert cells(INDEX, "spine", None) == (("neck", None), ("upper_back", None), ("lower_back", None),
                                           ("pelvis", None))
    everything = cells(INDEX, "whole_body", None)
    assert ("calf", "left") in everything and ("calf", "right") in everything and ("head", None) in everything
    assert len(everything) == 13 * 2 + 7


def test_covers_follows_the_contract_for_regions_groups_and_whole_body() -> None:
    assert covers(INDEX, "forearm", "right", "forearm", "right")
    assert not covers(INDEX, "forearm", "right", "forearm", "left")
    assert covers(INDEX, "lower_limb", "left", "calf", "left")
    assert not covers(INDEX, "lower_limb", "left", "calf", "right")
    assert covers(INDEX, "trunk", None, "upper_back", None)
    assert not covers(INDEX, "trunk", None, "neck", None)
    assert covers(INDEX, "whole_body", None, "hand", "left")


def test_a_segment_is_the_neighbours_of_the_site_on_the_same_side() -> None:
    assert spread(INDEX, "segment", "knee", "right") == (("thigh", "right"), ("calf", "right"))
    assert spread(INDEX, "segment", "forearm", "left") == (("elbow", "left"), ("wrist", "left"))
    assert spread(INDEX, "segment", "lower_back", None) == (("upper_back", None), ("pelvis", None))


def test_a_limb_spread_covers_the_whole_limb_of_that_side_only() -> None:
    assert spread(INDEX, "limb", "calf", "left") == (("lower_limb", "left"),)
    assert spread(INDEX, "limb", "lower_limb", None) == (("lower_limb", "left"), ("lower_limb", "right"))
    # A midline site has no limb: the site and its neighbours.
    assert spread(INDEX, "limb", "pelvis", None) == (("pelvis", None), ("lower_back", None), ("abdomen", None))


def test_listed_regions_take_the_trigger_side_or_both_sides() -> None:
    assert spread(INDEX, "regions", "whole_body", "right", ("ankle", "foot")) == (("ankle", "right"),
                                                                                  ("foot", "right"))
    both = spread(INDEX, "regions", "whole_body", None, ("abdomen", "thigh"))
    assert both == (("abdomen", None), ("thigh", "left"), ("thigh", "right"))


def test_tendons_relate_to_their_muscles_and_surroundings_avoid_the_site() -> None:
    assert related(INDEX, "elbow") == ("forearm",)
    assert related(INDEX, "calf") == ("calf",)
    assert surrounding(INDEX, "shoulder") == ("upper_back", "upper_arm")
    assert surrounding(INDEX, "thigh") == ("hip", "gluteal", "knee")
    assert proximal(INDEX, "ankle") == ("calf",)
    # Planning policy v2 §2: a trunk or spine site is its own proximal region.
    assert proximal(INDEX, "lower_back") == ("lower_back",)
    assert proximal(INDEX, "neck") == ("neck",)
    assert proximal(INDEX, "hip") == ("pelvis",)
