"""Scores print as their instrument reports them (ODI 44, not 44.4444); the stored score stays exact.

Each scale of instruments.yaml says how many decimals it reports (``reported``), with its source and
status; ``Scale.report`` rounds half up on the exact value.
"""

from __future__ import annotations

import copy
from fractions import Fraction

import pytest

from palpate.core import measures
from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb.loader import load_yaml
from palpate.core.measures.catalogue import build_catalogue
from palpate.core.measures.model import Status

FILE = "instruments.yaml"


@pytest.mark.parametrize("instrument, scale, exact, shown", [
    ("odi", None, Fraction(400, 9), "44"),  # 20/45: a whole percentage (Fairbank & Pynsent 2000)
    ("odi", None, Fraction(16, 45) * 100, "36"),  # 35.56 %
    ("odi", None, 44.5, "45"),  # half up, not to even
    ("ndi", None, Fraction(71, 2), "36"),
    ("nprs", None, 7, "7"),
    ("lefs", None, 52, "52"),
    ("quickdash", None, Fraction(1025, 36), "28.5"),  # 28.47
    ("psfs", None, Fraction(20, 3), "6.7"),
    ("psfs", None, 6.0, "6"),  # no trailing ".0"
    ("bctq", "symptom_severity", Fraction(26, 11), "2.36"),
    ("bctq", "functional_status", Fraction(17, 8), "2.13"),  # 2.125, half up
])
def test_it_reports_each_instruments_score_with_its_own_decimals(instrument, scale, exact, shown):
    assert measures.instrument(instrument).scale(scale).report(exact) == shown


def test_no_score_is_a_dash():
    assert measures.instrument("odi").scale().report(None) == "—"


def test_every_scale_says_how_it_reports_with_a_source():
    for inst in measures.instruments():
        for scale in inst.scales:
            assert scale.reporting is not None, inst.code
            assert scale.reporting.source.title, inst.code
            # A choice no source fixed is labelled policy, never passed off as published.
            if scale.reporting.status is Status.POLICY:
                assert "policy" in scale.reporting.note.lower(), inst.code


def test_a_scale_without_its_reporting_is_refused_naming_the_key():
    data = copy.deepcopy(load_yaml(FILE))
    del data["instruments"]["odi"]["scales"]["total"]["reported"]
    with pytest.raises(KnowledgeBaseError) as caught:
        build_catalogue(data, FILE)
    assert "reported" in str(caught.value)


def test_more_decimals_than_two_are_refused():
    data = copy.deepcopy(load_yaml(FILE))
    data["instruments"]["odi"]["scales"]["total"]["reported"]["decimals"] = 4
    with pytest.raises(KnowledgeBaseError) as caught:
        build_catalogue(data, FILE)
    assert "decimals" in str(caught.value)
