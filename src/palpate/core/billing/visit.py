"""Billing one visit: which unit rule applies, and the lines for what was documented.

``choose_rule`` is the one precedence for the timed-code unit rule, used by ``palpate bill`` and
by the visit note: a rule asked for explicitly (a ``palpate bill`` request) > the payer's own rule
where the payer mandates it (Medicare: its manual sets the 8-minute rule) > the clinic's setting
> the payer's usual rule > the CMS rule (the most common).

``bill_visit`` turns the documented services (a technique or complementary therapy and its
minutes) into billing lines: the code each is reported under for the payer (with the payer's code
swaps), units by the chosen rule, NCCI pair and payer warnings, and a plain list of what was not
billed and why (no code in the catalogue, or no minutes documented). The web app maps its rows to
:class:`VisitService` and shows the result; it decides nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from palpate.core.billing.catalogue import Catalogue, Payer, Rule, catalogue, codes_for_technique
from palpate.core.billing.edits import ncci_warnings, payer_warnings
from palpate.core.billing.units import Service, count_units
from palpate.core.errors import InputError

# Payers the catalogue has no entry of its own for (Medicaid, workers' compensation, auto, self-pay)
# are billed like commercial insurers: their notes are the commercial ones (a policy: the catalogue
# names only Medicare and commercial).
DEFAULT_PAYER = "commercial"

RULE_WORDS = {Rule.CMS: "CMS 8-minute rule", Rule.PER_CODE: "per-code rule"}


@dataclass(frozen=True)
class RuleChoice:
    rule: Rule
    basis: str  # request | payer | clinic | default
    explanation: str


def billing_payer(name: str | None, cat: Catalogue | None = None) -> Payer:
    """The catalogue's payer for an episode's payer (``medicare``, else the commercial notes)."""
    cat = cat or catalogue()
    return cat.payers.get(name or "") or cat.payers[DEFAULT_PAYER]


def _rule(value: Rule | str | None, path: str) -> Rule | None:
    if value is None or value == "":
        return None
    if isinstance(value, Rule):
        return value
    try:
        return Rule(value)
    except ValueError:
        names = " or ".join(r.value for r in Rule)
        raise InputError("unknown_rule", f"unknown rule {value!r}; use {names}", path) from None


def choose_rule(payer: Payer | None, *, requested: Rule | str | None = None,
                clinic_default: Rule | str | None = None) -> RuleChoice:
    """The unit rule for one date of service, and why (see the module docstring for the order)."""
    asked = _rule(requested, "rule")
    if asked is not None:
        return RuleChoice(asked, "request", f"The {RULE_WORDS[asked]}, as asked.")
    if payer is not None and payer.rule_fixed:
        return RuleChoice(payer.rule, "payer", f"{payer.name.capitalize()} sets the {RULE_WORDS[payer.rule]} for its "
                                               "claims, whatever the clinic's default.")
    clinic = _rule(clinic_default, "clinic_default")
    if clinic is not None:
        return RuleChoice(clinic, "clinic", f"The clinic's timed-code unit rule ({RULE_WORDS[clinic]}).")
    if payer is not None:
        return RuleChoice(payer.rule, "payer", f"The payer's usual rule ({RULE_WORDS[payer.rule]}).")
    return RuleChoice(Rule.CMS, "default", f"The {RULE_WORDS[Rule.CMS]} (no payer or clinic rule given).")


@dataclass(frozen=True)
class VisitService:
    """One documented service: a technique or therapy code, its minutes, and how to name it."""

    name: str  # a technique or complementary-therapy code
    minutes: int | None
    label: str  # "Effleurage, left calf" for the explanation


def billing_code(name: str, payer: str | Payer | None = None, cat: Catalogue | None = None) -> str | None:
    """The code a technique or complementary therapy is reported under for the payer (with the payer's
    code swaps), or None when the catalogue names none. The one lookup: plans of care show it next to
    an item, the visit bills by it."""
    cat = cat or catalogue()
    payer_name = payer.name if isinstance(payer, Payer) else payer
    try:
        codes = codes_for_technique(name, payer_name, cat)
    except InputError:
        return None
    return codes[0] if codes else None


def bill_visit(services: Iterable[VisitService], *, payer: str | None,
               clinic_rule: Rule | str | None = None) -> dict[str, Any]:
    """Billing lines for one visit, as the visit note and its PDF show them."""
    cat = catalogue()
    billed_as = billing_payer(payer, cat)
    choice = choose_rule(billed_as, clinic_default=clinic_rule)
    counted: list[Service] = []
    sources: dict[str, list[str]] = {}
    not_billed: list[str] = []
    for service in services:
        if not service.minutes or service.minutes <= 0:
            not_billed.append(f"{service.label}: no minutes documented, so not billed (fill in the minutes if it "
                              "was delivered).")
            continue
        code = billing_code(service.name, billed_as, cat)
        if code is None:
            not_billed.append(f"{service.label}: the billing catalogue names no code; choose it on the claim.")
            continue
        counted.append(Service(code, service.minutes))
        sources.setdefault(code, []).append(f"{service.label} {service.minutes} min")
    out: dict[str, Any] = {"rule": choice.rule.value, "rule_basis": choice.explanation, "payer": billed_as.name,
                           "lines": [], "explanation": [], "warnings": [], "not_billed": not_billed,
                           "total_timed_minutes": 0, "total_timed_units": 0, "total_untimed_units": 0}
    if not counted:
        return out
    try:
        result = count_units(counted, choice.rule, cat)
    except InputError as error:
        out["error"] = error.message
        return out
    warnings = ncci_warnings(result.billed_codes, cat) + payer_warnings(billed_as, result.billed_codes)
    out.update({
        "lines": [{"code": line.code, "descriptor": line.descriptor, "timed": line.timed, "minutes": line.minutes,
                   "units": line.units, "why": line.why, "from": sources.get(line.code, [])} for line in result.lines],
        "explanation": list(result.explanation),
        "warnings": [w.as_json() for w in warnings],
        "total_timed_minutes": result.total_timed_minutes,
        "total_timed_units": result.total_timed_units,
        "total_untimed_units": result.total_untimed_units,
    })
    return out
