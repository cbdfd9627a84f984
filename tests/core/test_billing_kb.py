"""The billing knowledge base and the typed core API: catalogue, technique mapping, NCCI pairs,
evaluation complexity and the KX threshold by year."""

from __future__ import annotations

import ast
import copy
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from palpate.core.billing import (
    KxCharge,
    KxState,
    assess_evaluation,
    catalogue,
    codes_for_technique,
    evaluation_complexity,
    kx_running_totals,
    kx_status,
    kx_threshold,
    ncci_warnings,
)
from palpate.core.billing.catalogue import parse_catalogue
from palpate.core.errors import InputError, KnowledgeBaseError
from palpate.core.kb.loader import load_yaml

BILLING_SRC = Path(__file__).resolve().parents[2] / "src" / "palpate" / "core" / "billing"


# -- catalogue -------------------------------------------------------------------------------------------

def test_it_knows_exactly_the_issues_fourteen_codes() -> None:
    assert set(catalogue().codes) == {"97140", "97124", "97110", "97112", "97116", "97530", "97035", "97010",
                                      "97014", "G0283", "97161", "97162", "97163", "97164"}


def test_it_knows_which_codes_are_timed() -> None:
    timed = {code for code, entry in catalogue().codes.items() if entry.timed}
    assert timed == {"97140", "97124", "97110", "97112", "97116", "97530", "97035"}


def test_every_entry_carries_a_source_a_grade_and_a_status() -> None:
    cat = catalogue()
    evidences = [c.evidence for c in cat.codes.values()] + [p.evidence for p in cat.ncci_pairs] \
        + [m.evidence for m in cat.mapping.values()] + [t.evidence for t in cat.kx.thresholds.values()] \
        + [n.evidence for p in cat.payers.values() for n in p.code_notes]
    for evidence in evidences:
        assert evidence.source.title
        assert evidence.grade in {"A", "B", "C", "policy"}
        assert evidence.status in {"verified", "partial", "derived", "unverified", "doubtful", "policy"}


def test_it_gives_typical_evaluation_times_but_none_for_the_unverified_re_evaluation() -> None:
    codes = catalogue().codes
    assert [codes[c].typical_minutes for c in ("97161", "97162", "97163", "97164")] == [20, 30, 45, None]


# -- technique and therapy mapping --------------------------------------------------------------------------

@pytest.mark.parametrize(("technique", "codes"), [
    ("effleurage", ("97124",)),
    ("petrissage", ("97124",)),
    ("friction", ("97140",)),
    ("myofascial_release", ("97140",)),
    ("trigger_point", ("97140",)),
    ("therapeutic_exercise", ("97110",)),
    ("neuromuscular_reeducation", ("97112",)),
    ("joint_mobilisation", ("97140",)),
    ("electrical_stimulation", ("97014",)),
    ("heat", ("97010",)),
    ("cold", ("97010",)),
    ("postural_training", ()),
])
def test_it_maps_each_technique_and_therapy_to_its_code(technique: str, codes: tuple[str, ...]) -> None:
    assert codes_for_technique(technique) == codes


def test_it_maps_electrical_stimulation_to_g0283_for_medicare() -> None:
    assert codes_for_technique("electrical_stimulation", payer="medicare") == ("G0283",)
    assert codes_for_technique("friction", payer="medicare") == ("97140",)


def test_it_rejects_an_unknown_technique() -> None:
    with pytest.raises(InputError) as caught:
        codes_for_technique("cupping")
    assert caught.value.code == "unknown_code"


# -- NCCI --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("evaluation", ["97161", "97162", "97163"])
def test_it_warns_for_manual_therapy_with_each_evaluation_and_requires_a_modifier(evaluation: str) -> None:
    (warning,) = ncci_warnings(["97140", evaluation])
    assert warning.codes == (evaluation, "97140")
    assert warning.suggested_modifier == "59"
    assert warning.status == "verified"
    assert "paid only with modifier" in warning.message


def test_it_warns_for_therapeutic_activities_with_a_re_evaluation() -> None:
    (warning,) = ncci_warnings(["97164", "97530"])
    assert warning.codes == ("97164", "97530")


def test_it_warns_for_the_unverified_massage_and_manual_therapy_pair_and_says_so() -> None:
    (warning,) = ncci_warnings(["97124", "97140"])
    assert warning.status == "unverified"
    assert "UNVERIFIED" in warning.message


def test_it_keeps_the_doubtful_exercise_and_manual_therapy_pair_as_data_without_warning() -> None:
    pairs = {(p.column1, p.column2): p for p in catalogue().ncci_pairs}
    assert pairs[("97140", "97110")].evidence.status == "doubtful"
    assert ncci_warnings(["97110", "97140"]) == []


def test_it_warns_for_each_pair_present_in_knowledge_base_order() -> None:
    got = [w.codes for w in ncci_warnings(["97140", "97530", "97161"])]
    assert got == [("97161", "97140"), ("97530", "97140")]


# -- evaluation complexity -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("history", "examination", "presentation", "decision", "code"), [
    (0, 1, "stable", "low", "97161"),
    (0, 4, "unstable", "high", "97161"),  # history holds it at low
    (2, 3, "evolving", "moderate", "97162"),
    (1, 4, "unstable", "high", "97162"),
    (3, 4, "unstable", "high", "97163"),
    (5, 9, "unstable", "moderate", "97162"),
    (3, 2, "unstable", "high", "97161"),  # 1-2 elements examined is low
])
def test_it_bills_the_level_every_component_meets(history: int, examination: int, presentation: str,
                                                  decision: str, code: str) -> None:
    assert evaluation_complexity(history, examination, presentation, decision) == code


def test_it_names_the_components_that_held_the_level_down() -> None:
    result = assess_evaluation(3, 3, "unstable", "moderate")
    assert result.code == "97162"
    assert result.limited_by == ("examination", "decision")
    assert "lowest" in result.explanation


def test_it_rejects_an_evaluation_that_examined_nothing() -> None:
    with pytest.raises(InputError) as caught:
        evaluation_complexity(1, 0, "stable", "low")
    assert caught.value.path == "evaluation.examination"


# -- KX threshold ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("year", "amount", "status"), [
    (2021, 2110, "verified"), (2022, 2150, "verified"), (2023, 2230, "verified"),
    (2024, 2330, "verified"), (2025, 2410, "verified"), (2026, 2480, "unverified"),
])
def test_it_stores_the_kx_threshold_by_year(year: int, amount: int, status: str) -> None:
    found = kx_threshold(year)
    assert found is not None
    assert found.amount == Decimal(amount)
    assert found.evidence.status == status


def test_it_has_no_kx_threshold_for_a_year_the_sources_did_not_give() -> None:
    assert kx_threshold(2020) is None
    with pytest.raises(InputError):
        kx_status(2027, 0, 10)


@pytest.mark.parametrize(("ytd", "visit", "state", "required"), [
    (0, 100, KxState.BELOW, False),
    (2000, 96.99, KxState.BELOW, False),  # 2096.99 is just under 90 % of 2330
    (2000, 97, KxState.APPROACHING, False),
    (2300, 30, KxState.APPROACHING, False),  # exactly at the threshold is not above it
    (2300, 30.01, KxState.CROSSES, True),
    (2400, 50, KxState.ABOVE, True),
])
def test_it_follows_the_running_total_against_the_2024_threshold(ytd: float, visit: float, state: KxState,
                                                                 required: bool) -> None:
    status = kx_status(2024, ytd, visit)
    assert status.state is state
    assert status.kx_required is required
    assert status.total == Decimal(str(ytd)) + Decimal(str(visit))


def test_it_warns_when_the_total_passes_the_medical_review_threshold() -> None:
    status = kx_status(2025, 2950, 100)
    assert status.review_threshold == Decimal(3000)
    assert [w.kind for w in status.warnings] == ["kx_required", "kx_medical_review"]


def test_it_keeps_a_running_total_per_patient_and_per_calendar_year() -> None:
    visits = [
        KxCharge("ann", date(2024, 12, 20), Decimal("2300")),
        KxCharge("bob", date(2024, 12, 21), Decimal("100")),
        KxCharge("ann", date(2025, 1, 3), Decimal("100")),
        KxCharge("ann", date(2024, 12, 27), Decimal("100")),  # given late, counted in date order
    ]
    ann_2024, bob, ann_2025, ann_late = kx_running_totals(visits)
    assert ann_2024.total == Decimal("2300")
    assert ann_late.year_to_date == Decimal("2300")
    assert ann_late.state is KxState.CROSSES
    assert bob.total == Decimal("100")
    assert ann_2025.year_to_date == Decimal("0")
    assert ann_2025.threshold == Decimal("2410")


# -- knowledge-base validation --------------------------------------------------------------------------------

def raw() -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(load_yaml("billing.yaml"))
    return document


def test_the_shipped_knowledge_base_parses() -> None:
    assert parse_catalogue(raw()).version == catalogue().version


def test_it_rejects_an_unquoted_code() -> None:
    doc = raw()
    doc["codes"][97999] = doc["codes"]["97140"]
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_catalogue(doc)
    assert caught.value.file == "billing.yaml"
    assert caught.value.key == "codes.97999"


def test_it_rejects_a_unit_table_that_disagrees_with_the_arithmetic() -> None:
    doc = raw()
    doc["unit_table"]["rows"][2]["through"] = 53
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_catalogue(doc)
    assert caught.value.key == "unit_table.rows[2]"


def test_it_rejects_a_pair_that_names_a_code_outside_the_catalogue() -> None:
    doc = raw()
    doc["ncci"]["pairs"][0]["column1"] = "97150"
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_catalogue(doc)
    assert caught.value.key == "ncci.pairs[0].column1"


def test_it_rejects_an_entry_without_a_known_source() -> None:
    doc = raw()
    doc["kx"]["thresholds"][0]["source"] = "somebody_said"
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_catalogue(doc)
    assert caught.value.key == "kx.thresholds[0].source"


def test_it_rejects_a_year_listed_twice() -> None:
    doc = raw()
    doc["kx"]["thresholds"].append(dict(doc["kx"]["thresholds"][0]))
    with pytest.raises(KnowledgeBaseError, match="listed twice"):
        parse_catalogue(doc)


def test_it_rejects_a_technique_without_a_mapping() -> None:
    doc = raw()
    del doc["mapping"]["friction"]
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_catalogue(doc)
    assert caught.value.key == "mapping.friction"


def test_billing_never_imports_django() -> None:
    for module in BILLING_SRC.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n == "django" or n.startswith("django.") for n in names), module.name
