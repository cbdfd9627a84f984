"""The instruments and ROM knowledge-base files are validated at load, naming file, key and problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb.loader import load_yaml
from palpate.core.measures.catalogue import build_catalogue, build_rom_catalogue

FILE = "instruments.yaml"


def broken(change: Callable[[dict[str, Any]], None]) -> KnowledgeBaseError:
    data = copy.deepcopy(load_yaml(FILE))
    change(data)
    with pytest.raises(KnowledgeBaseError) as caught:
        build_catalogue(data, FILE)
    assert caught.value.file == FILE
    return caught.value


def odi(data: dict[str, Any]) -> dict[str, Any]:
    scale: dict[str, Any] = data["instruments"]["odi"]["scales"]["total"]
    return scale


def test_it_loads_the_shipped_instruments_file() -> None:
    catalogue = build_catalogue(copy.deepcopy(load_yaml(FILE)), FILE)
    assert len(catalogue.instruments) == 7
    assert catalogue.progression.bridge_nprs_max == 3
    assert catalogue.progression.reevaluation_after_visits == 6


def test_it_rejects_an_mcid_in_other_units_than_the_score() -> None:
    error = broken(lambda d: odi(d)["mcid"].update(units="raw points (0-50)"))
    assert error.key == "instruments.odi.scales.total.mcid.units"


def test_it_rejects_a_converted_threshold_that_does_not_match_its_conversion() -> None:
    error = broken(lambda d: d["instruments"]["ndi"]["scales"]["total"]["mcid"].update(value=7.5))
    assert error.key == "instruments.ndi.scales.total.mcid.value"


def test_it_rejects_a_range_the_formula_cannot_produce() -> None:
    error = broken(lambda d: d["instruments"]["lefs"]["scales"]["total"].update(range=[0, 100]))
    assert error.key == "instruments.lefs.scales.total.range"
    assert "formula gives" in error.problem


def test_it_rejects_items_out_of_published_order() -> None:
    error = broken(lambda d: odi(d)["items"][2].update(number=4))
    assert error.key == "instruments.odi.scales.total.items[2].number"


def test_it_rejects_an_answer_scale_running_against_the_instrument() -> None:
    error = broken(lambda d: odi(d)["items"][0].update(answers="function_0_4"))
    assert error.key == "instruments.odi.scales.total.items[0].answers"


def test_it_rejects_an_unknown_source() -> None:
    error = broken(lambda d: odi(d)["mcid"].update(source="somewhere"))
    assert error.key == "instruments.odi.scales.total.mcid.source"


def test_it_rejects_bands_that_do_not_reach_the_range_end() -> None:
    error = broken(lambda d: odi(d)["bands"]["list"].pop())
    assert error.key == "instruments.odi.scales.total.bands.list"


def test_it_rejects_a_verified_missing_rule_marked_as_a_clinic_setting() -> None:
    error = broken(lambda d: d["instruments"]["quickdash"]["scales"]["total"]["missing"].update(adjustable=True))
    assert error.key == "instruments.quickdash.scales.total.missing.adjustable"


def test_it_rejects_a_missing_mcid() -> None:
    error = broken(lambda d: odi(d).pop("mcid"))
    assert error.key == "instruments.odi.scales.total.mcid"
    assert error.problem == "required key is missing"


def test_it_rejects_an_unknown_scoring_method() -> None:
    error = broken(lambda d: odi(d)["scoring"].update(method="median"))
    assert error.key == "instruments.odi.scales.total.scoring.method"


def test_it_rejects_a_rom_set_whose_default_does_not_exist() -> None:
    data = copy.deepcopy(load_yaml("rom_norms.yaml"))
    data["default"] = "norkin"
    with pytest.raises(KnowledgeBaseError) as caught:
        build_rom_catalogue(data, "rom_norms.yaml")
    assert caught.value.key == "default"


def test_it_rejects_a_rom_arc_that_ends_before_it_starts() -> None:
    data = copy.deepcopy(load_yaml("rom_norms.yaml"))
    data["references"]["va"]["joints"]["elbow"]["flexion"] = {"start": 10, "end": 0}
    with pytest.raises(KnowledgeBaseError) as caught:
        build_rom_catalogue(data, "rom_norms.yaml")
    assert caught.value.key == "references.va.joints.elbow.flexion"
