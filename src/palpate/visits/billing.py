"""The visit's billing lines: the documented minutes, mapped to CPT codes and counted by the core.

Every rule lives in ``palpate.core.billing``: which code a technique or therapy is reported under
(``codes_for_technique``, with the payer's code swaps), the unit count (``count_units`` under the
CMS 8-minute rule or the per-code rule), NCCI pairs and payer notes. This module only gathers the
minutes and says which rule applied and why.

Decisions where the spec was silent:
- Medicare episodes are always counted under the CMS rule (it is Medicare's own manual); the
  clinic's ``payer_unit_rule`` applies to every other payer. The explanation says which.
- Payers other than Medicare use the knowledge base's ``commercial`` payer notes.
- A complementary row with 0 minutes is "planned, not delivered today" and is not billed: listing
  an untimed code bills one unit, so a prefilled row must not bill until the therapist fills it.
- A therapy the billing catalogue names no code for (postural training: facts.md names none) is
  listed as "not billed: choose the code"; the catalogue is the one source of codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from palpate.core.billing import (
    Service,
    catalogue,
    codes_for_technique,
    count_units,
    ncci_warnings,
    payer_warnings,
)
from palpate.core.errors import InputError
from palpate.visits import vocab

MEDICARE = "medicare"


def billing_payer(episode_payer: str) -> str:
    return MEDICARE if episode_payer == MEDICARE else "commercial"


def unit_rule(clinic_rule: str, episode_payer: str) -> tuple[str, str]:
    """(rule, why this rule) for one episode."""
    if episode_payer == MEDICARE:
        return "cms", "Medicare episode: the CMS 8-minute rule applies whatever the clinic's setting."
    return clinic_rule, f"The clinic's timed-code unit rule ({'CMS 8-minute rule' if clinic_rule == 'cms' else 'per code'})."


def _code(name: str, payer: str) -> str | None:
    try:
        codes = codes_for_technique(name, payer)
    except InputError:
        return None
    return codes[0] if codes else None


def compute_billing(treatments: Iterable[Mapping[str, Any]], complementary: Iterable[Mapping[str, Any]],
                    clinic_rule: str, episode_payer: str) -> dict[str, Any]:
    """Billing lines for the rows as typed or stored (``technique``/``therapy`` and ``minutes``)."""
    payer = billing_payer(episode_payer)
    rule, rule_basis = unit_rule(clinic_rule, episode_payer)
    services: list[Service] = []
    what: dict[str, list[str]] = {}
    not_billed: list[str] = []
    for row in treatments:
        minutes = row.get("minutes")
        if not row.get("technique") or not isinstance(minutes, int) or minutes <= 0:
            continue
        code = _code(str(row["technique"]), payer)
        name = f"{vocab.label(row['technique'])} {vocab.where(str(row.get('region') or ''), row.get('side'))}".strip()
        if code is None:
            not_billed.append(f"{name}: the billing catalogue names no code; choose it on the claim.")
            continue
        services.append(Service(code, minutes))
        what.setdefault(code, []).append(f"{name} {minutes} min")
    for row in complementary:
        minutes = row.get("minutes")
        therapy = str(row.get("therapy") or "")
        if not therapy:
            continue
        if not isinstance(minutes, int) or minutes <= 0:
            not_billed.append(f"{vocab.label(therapy)}: 0 minutes, so not billed (fill in the minutes if it was delivered).")
            continue
        code = _code(therapy, payer)
        if code is None:
            not_billed.append(f"{vocab.label(therapy)}: the billing catalogue names no code; choose it on the claim.")
            continue
        services.append(Service(code, minutes))
        what.setdefault(code, []).append(f"{vocab.label(therapy)} {minutes} min")
    out: dict[str, Any] = {"rule": rule, "rule_basis": rule_basis, "payer": payer, "lines": [], "explanation": [],
                           "warnings": [], "not_billed": not_billed, "total_timed_minutes": 0,
                           "total_timed_units": 0, "total_untimed_units": 0}
    if not services:
        return out
    try:
        result = count_units(services, rule)
    except InputError as error:
        out["error"] = error.message
        return out
    cat = catalogue()
    warnings = ncci_warnings(result.billed_codes, cat) + payer_warnings(cat.payers[payer], result.billed_codes)
    out.update({
        "lines": [{"code": line.code, "descriptor": line.descriptor, "timed": line.timed, "minutes": line.minutes,
                   "units": line.units, "why": line.why, "from": what.get(line.code, [])} for line in result.lines],
        "explanation": list(result.explanation),
        "warnings": [w.as_json() for w in warnings],
        "total_timed_minutes": result.total_timed_minutes,
        "total_timed_units": result.total_timed_units,
        "total_untimed_units": result.total_untimed_units,
    })
    return out
