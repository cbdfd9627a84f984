"""Billing one visit and the one precedence of unit rules (palpate.core.billing.visit)."""

from __future__ import annotations

import pytest

from palpate.core.billing import Rule, VisitService, bill_request, bill_visit, billing_payer, choose_rule
from palpate.core.errors import InputError


def test_an_explicit_request_wins_over_everything() -> None:
    assert choose_rule(billing_payer("medicare"), requested="per_code", clinic_default="cms").rule is Rule.PER_CODE


def test_medicare_keeps_its_own_rule_whatever_the_clinic_default() -> None:
    choice = choose_rule(billing_payer("medicare"), clinic_default="per_code")
    assert (choice.rule, choice.basis) == (Rule.CMS, "payer")


def test_the_clinic_default_applies_to_other_payers() -> None:
    choice = choose_rule(billing_payer("workers_comp"), clinic_default="per_code")
    assert (choice.rule, choice.basis) == (Rule.PER_CODE, "clinic")


def test_without_a_clinic_default_the_payer_then_cms_decides() -> None:
    assert choose_rule(billing_payer("commercial")).basis == "payer"
    assert choose_rule(None).basis == "default"


def test_an_unknown_rule_is_bad_input() -> None:
    with pytest.raises(InputError):
        choose_rule(None, requested="eight_minutes")


def test_the_cli_and_the_visit_count_the_same_units_for_the_same_minutes() -> None:
    # 97140 (friction) 10 min and 97124 (effleurage) 10 min: 20 timed minutes.
    visit = bill_visit([VisitService("friction", 10, "Friction"), VisitService("effleurage", 10, "Effleurage")],
                       payer="medicare", clinic_rule="per_code")
    cli = bill_request({"payer": "medicare", "services": [{"code": "97140", "minutes": 10},
                                                          {"code": "97124", "minutes": 10}]})
    assert visit["rule"] == cli["rule"] == "cms"
    assert visit["total_timed_units"] == cli["total_timed_units"] == 1


def test_services_without_minutes_or_code_are_listed_as_not_billed() -> None:
    bill = bill_visit([VisitService("heat", 0, "Heat"), VisitService("postural_training", 10, "Postural training")],
                      payer="self_pay", clinic_rule="cms")
    assert bill["lines"] == []
    assert any(line.startswith("Heat: no minutes") for line in bill["not_billed"])
    assert any(line.startswith("Postural training: the billing catalogue names no code") for line in bill["not_billed"])
    assert bill["payer"] == "commercial"


def test_medicare_swaps_unattended_stimulation_for_its_own_code() -> None:
    bill = bill_visit([VisitService("electrical_stimulation", 15, "Electrical stimulation")], payer="medicare")
    assert [line["code"] for line in bill["lines"]] == ["G0283"]


def test_one_lookup_names_the_code_of_a_technique_or_therapy_for_the_payer() -> None:
    from palpate.core.billing import billing_code

    assert billing_code("effleurage") == "97124"
    assert billing_code("cold") == "97010"
    # Medicare's own code for unattended electrical stimulation (the payer's code swap).
    assert billing_code("electrical_stimulation", "medicare") == "G0283"
    # The catalogue names no code for postural training: the claim chooses it.
    assert billing_code("postural_training") is None
