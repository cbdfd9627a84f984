"""``palpate bill``: validate a raw request, count units, gather warnings, shape the response.

See the package docstring for the request and response fields and the decisions behind them.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from palpate.core.billing.catalogue import Catalogue, Payer, Rule, catalogue
from palpate.core.billing.edits import BillingWarning, ncci_warnings, payer_warnings
from palpate.core.billing.evaluation import assess_evaluation, evaluation_codes
from palpate.core.billing.kx import kx_status, kx_threshold, money
from palpate.core.billing.units import Service, check_service, count_units, unknown_code
from palpate.core.billing.visit import choose_rule
from palpate.core.errors import InputError

CONTRACT = "palpate.bill/1"

# Calendar years a date of service may fall in: a sanity bound on input, not a billing rule.
YEARS = range(1900, 2201)


def bill_request(payload: dict[str, Any]) -> dict[str, Any]:
    """Answer one ``palpate.bill/1`` request; raise InputError for anything a person must fix."""
    if not isinstance(payload, dict):
        raise InputError("wrong_type", "the request must be a JSON object")
    cat = catalogue()
    warnings: list[BillingWarning] = []

    payer = _payer(payload, cat)
    rule, rule_basis = _rule(payload, payer)
    if payer is not None and rule_basis == "request" and rule is not payer.rule:
        warnings.append(BillingWarning.cited(
            "rule_differs_from_payer",
            f"The request asks for the {rule.value} rule but {payer.name} is set to {payer.rule.value}; "
            f"units were counted with {rule.value} as asked.", payer.evidence))
    services = _services(payload, cat)
    evaluation = _evaluation(payload, cat)
    year = _year(payload)
    charges = _charges(payload)

    result = count_units(services, rule, cat)

    if payer is not None:
        warnings.extend(payer_warnings(payer, result.units))
    warnings.extend(ncci_warnings(result.billed_codes, cat))

    listed_evaluations = [code for code in result.units if code in evaluation_codes(cat)]
    if len(listed_evaluations) > 1:
        warnings.append(BillingWarning.cited(
            "several_evaluation_levels",
            f"More than one evaluation complexity code on one date of service ({', '.join(listed_evaluations)}): "
            "one evaluation has one complexity level; bill the one its components support.",
            cat.evaluation.evidence, tuple(listed_evaluations)))
    if evaluation is not None:
        supported = str(evaluation["code"])
        order = evaluation_codes(cat)  # low, moderate, high
        for code in listed_evaluations:
            if code != supported:
                direction = "above" if order.index(code) > order.index(supported) else "below"
                warnings.append(BillingWarning.cited(
                    "evaluation_level",
                    f"{code} is {direction} the level the documented components support ({supported}): "
                    f"{evaluation['explanation']} Nothing was changed.",
                    cat.evaluation.evidence, (code, supported)))

    kx: dict[str, Any] | None = None
    if charges is not None:
        if year is None:
            raise InputError("missing_field", "give date_of_service (YYYY-MM-DD) or year to check the KX threshold",
                             "date_of_service")
        year_to_date, additional = charges
        if kx_threshold(year, cat) is None:
            known = ", ".join(str(y) for y in cat.kx.thresholds)
            warnings.append(BillingWarning(
                kind="kx_threshold_unknown",
                message=f"No KX threshold is stored for {year} (known: {known}); the running total was not checked. "
                        "Add the year's value to kb/billing.yaml.", status="unverified"))
            kx = {"year": year, "threshold": None, "state": "unknown"}
        else:
            status = kx_status(year, year_to_date, additional, cat)
            applies = payer is None or payer.kx_applies
            kx = {**status.as_json(), "applies": applies}
            if applies:
                warnings.extend(status.warnings)

    response: dict[str, Any] = {
        "contract": CONTRACT,
        "kb_version": cat.version,
        "rule": rule.value,
        "rule_basis": rule_basis,
        "rule_source": cat.rules[rule].evidence.as_json(),
        "payer": None if payer is None else payer.name,
        "total_timed_minutes": result.total_timed_minutes,
        "total_timed_units": result.total_timed_units,
        "total_untimed_units": result.total_untimed_units,
        "units": result.units,
        "lines": [line.as_json() for line in result.lines],
        "explanation": list(result.explanation),
        "warnings": [w.as_json() for w in warnings],
    }
    if evaluation is not None:
        response["evaluation"] = evaluation
    if kx is not None:
        response["kx"] = kx
    return response


def _payer(payload: dict[str, Any], cat: Catalogue) -> Payer | None:
    name = payload.get("payer")
    if name is None:
        return None
    if not isinstance(name, str):
        raise InputError("wrong_type", f"payer must be one of {', '.join(cat.payers)}", "payer")
    found = cat.payers.get(name)
    if found is None:
        raise InputError("unknown_code", f"unknown payer {name!r}; use {', '.join(cat.payers)}", "payer")
    return found


def _rule(payload: dict[str, Any], payer: Payer | None) -> tuple[Rule, str]:
    """The rule by the one precedence (``visit.choose_rule``): asked for, else the payer's, else CMS."""
    value = payload.get("rule")
    if value is not None and not isinstance(value, str):
        raise InputError("wrong_type", f"rule must be a string: {' or '.join(r.value for r in Rule)}", "rule")
    choice = choose_rule(payer, requested=value)
    return choice.rule, choice.basis


def _services(payload: dict[str, Any], cat: Catalogue) -> list[Service]:
    if payload.get("services") is None:
        raise InputError("missing_field", "services is required: a list of {\"code\", \"minutes\"}", "services")
    raw = payload["services"]
    if not isinstance(raw, list):
        raise InputError("wrong_type", "services must be a list of {\"code\", \"minutes\"}", "services")
    if not raw:
        raise InputError("out_of_range", "services must list at least one service", "services")
    services = []
    for i, item in enumerate(raw):
        path = f"services[{i}]"
        if not isinstance(item, dict):
            raise InputError("wrong_type", "each service must be an object {\"code\", \"minutes\"}", path)
        code = item.get("code")
        if code is None:
            raise InputError("missing_field", "code is required (a CPT/HCPCS code such as \"97140\")", f"{path}.code")
        if not isinstance(code, str):
            raise InputError("wrong_type", "code must be a string such as \"97140\"", f"{path}.code")
        # CPT/HCPCS codes are alphanumeric and case-blind: " g0283 " is G0283.
        code = code.strip().upper()
        known = cat.code(code)
        if known is None:
            raise unknown_code(code, i, cat)
        minutes = item.get("minutes")
        if minutes is None:
            if known.timed:
                raise InputError("missing_field", f"{code} is a timed code: give its minutes", f"{path}.minutes")
            minutes = 0  # an untimed code is billed per date of service; its minutes are optional
        services.append(check_service(code, _whole_minutes(minutes, f"{path}.minutes"), i, cat))
    return services


def _whole_minutes(value: object, path: str) -> int:
    """Minutes as a whole number; 15.0 is accepted as 15, 7.5 is not (round it in the note, not here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError("wrong_type", "minutes must be a whole number", path)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InputError("wrong_type", f"minutes must be a whole number, got {value}", path)
        return int(value)
    return value


def _evaluation(payload: dict[str, Any], cat: Catalogue) -> dict[str, Any] | None:
    raw = payload.get("evaluation")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InputError("wrong_type", "evaluation must be an object with history, examination, presentation, decision",
                         "evaluation")
    for key in ("history", "examination", "presentation", "decision"):
        if raw.get(key) is None:
            raise InputError("missing_field", f"evaluation.{key} is required", f"evaluation.{key}")
    return assess_evaluation(raw["history"], raw["examination"], raw["presentation"], raw["decision"], cat).as_json()


def _year(payload: dict[str, Any]) -> int | None:
    year: int | None = None
    if payload.get("date_of_service") is not None:
        text = payload["date_of_service"]
        if not isinstance(text, str):
            raise InputError("wrong_type", "date_of_service must be a date YYYY-MM-DD", "date_of_service")
        try:
            year = date.fromisoformat(text).year
        except ValueError:
            raise InputError("wrong_type", f"date_of_service must be a date YYYY-MM-DD, got {text!r}",
                             "date_of_service") from None
    if payload.get("year") is not None:
        given = payload["year"]
        if isinstance(given, bool) or not isinstance(given, int):
            raise InputError("wrong_type", "year must be a whole number such as 2025", "year")
        if given not in YEARS:
            raise InputError("out_of_range", f"year {given} is not a plausible calendar year", "year")
        if year is not None and year != given:
            raise InputError("out_of_range", f"year {given} does not match date_of_service ({year})", "year")
        year = given
    if year is not None and year not in YEARS:
        raise InputError("out_of_range", f"year {year} is not a plausible calendar year", "date_of_service")
    return year


def _charges(payload: dict[str, Any]) -> tuple[Any, Any] | None:
    """(year_to_date_charges, charges) when the KX running total was asked for, else None."""
    ytd, visit = payload.get("year_to_date_charges"), payload.get("charges")
    if ytd is None and visit is None:
        return None
    if ytd is None:
        # Assuming zero would hide a crossed threshold; the running total must come from the caller.
        raise InputError("missing_field", "give year_to_date_charges (the patient's allowed charges so far this year)",
                         "year_to_date_charges")
    for name, value in (("year_to_date_charges", ytd), ("charges", visit)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InputError("wrong_type", f"{name} must be a number of dollars", name)
    return money(ytd, "year_to_date_charges"), money(visit if visit is not None else 0, "charges")
