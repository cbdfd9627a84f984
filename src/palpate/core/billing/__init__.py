"""Billing: CPT catalogue, the CMS 8-minute rule, the per-code rule, NCCI pairs and the KX threshold.

Pure core (no Django, no I/O beyond the packaged ``kb/billing.yaml``). Rules and their sources are in
shared/clinical/facts.md section F; every value in the knowledge base carries its source, evidence
grade and verification status, and every result explains itself so a biller can defend it.

``palpate bill`` request (``palpate.bill/1``)::

    {"rule": "cms", "services": [{"code": "97112", "minutes": 24}, {"code": "97110", "minutes": 23}]}

Required: ``services``, a non-empty list of ``{"code", "minutes"}``.
Optional:
- ``rule``: ``cms`` or ``per_code``. When absent: the payer's setting if ``payer`` is given, else
  ``cms`` (the Medicare rule; ``rule_basis`` in the response says which). Anything else exits 2
  (``unknown_rule``).
- ``payer``: ``medicare`` or ``commercial`` (``kb/billing.yaml``). Medicare warns that 97014 must be
  reported as G0283 and that 97010 is bundled (UNVERIFIED); nothing is changed silently.
- ``evaluation``: ``{"history": <personal factors/comorbidities>, "examination": <elements>,
  "presentation": "stable"|"evolving"|"unstable", "decision": "low"|"moderate"|"high"}`` gives the
  supported complexity code (97161-97163) and warns when a listed evaluation code differs.
- ``date_of_service`` (``YYYY-MM-DD``) or ``year``, with ``year_to_date_charges`` (the patient's
  allowed charges so far this calendar year, before this visit) and ``charges`` (this visit): the KX
  running total, warning as it approaches, crosses or is over the year's threshold.
Unknown fields are ignored.

Decisions where the contract is silent:
- Codes: strings, trimmed and upper-cased (CPT/HCPCS are case-blind); an unknown code exits 2 with
  ``services[i].code``.
- Minutes: a whole number 0-480 (8 hours; a policy bound). ``15.0`` counts as 15; ``7.5``, booleans,
  strings, negatives and over 480 exit 2. The timed minutes of one date of service may not add up to
  more than 480 either (timed codes are one-on-one time and cannot overlap). Minutes may be left out
  for an untimed code; they are required for a timed one.
- The same code listed twice is one line with its minutes summed (CMS wants one line per timed code
  per date of service; the 8-minute rule counts a code's minutes).
- An untimed code bills one unit when listed (listing it means it was performed), whatever its
  minutes, however often listed; its minutes never count toward timed units.
- Ties (equal leftover minutes under CMS) go to the code given first; ``units`` keeps the order in
  which codes were first given. Same input, same bytes.
- NCCI pairs warn only when both codes bill at least one unit; pairs stored as doubtful
  (97110 + 97140) do not warn.
- An unknown KX year is a warning (the knowledge base lacks the value), not bad input.

Response: ``contract``, ``kb_version``, ``rule``, ``rule_basis`` (request / payer / default),
``rule_source``, ``payer``, ``total_timed_minutes``, ``total_timed_units``, ``total_untimed_units``,
``units`` (every input code), ``lines`` (per code: descriptor, minutes, full units, leftover minutes,
``basis`` naming the minutes that earned each unit, ``why``), ``explanation``, ``warnings`` (objects
with ``kind``, ``message``, ``codes``, ``suggested_modifier``, ``modifiers``, ``source``, ``grade``,
``status``), and ``evaluation`` / ``kx`` when asked for.
"""

from __future__ import annotations

from palpate.core.billing.catalogue import (
    Catalogue,
    CodeMapping,
    CptCode,
    Evidence,
    Level,
    NcciPair,
    Payer,
    Rule,
    catalogue,
    codes_for_technique,
)
from palpate.core.billing.edits import BillingWarning, ncci_warnings, payer_warnings
from palpate.core.billing.evaluation import EvaluationAssessment, assess_evaluation, evaluation_complexity
from palpate.core.billing.kx import KxCharge, KxState, KxStatus, kx_running_totals, kx_status, kx_threshold
from palpate.core.billing.request import CONTRACT, bill_request
from palpate.core.billing.units import BilledLine, BillResult, Service, count_units, units_for_minutes
from palpate.core.billing.visit import (
    RuleChoice,
    VisitService,
    bill_visit,
    billing_code,
    billing_payer,
    choose_rule,
)

__all__ = [
    "CONTRACT",
    "BilledLine",
    "BillResult",
    "BillingWarning",
    "Catalogue",
    "CodeMapping",
    "CptCode",
    "EvaluationAssessment",
    "Evidence",
    "KxCharge",
    "KxState",
    "KxStatus",
    "Level",
    "NcciPair",
    "Payer",
    "Rule",
    "RuleChoice",
    "Service",
    "VisitService",
    "assess_evaluation",
    "bill_request",
    "bill_visit",
    "billing_code",
    "billing_payer",
    "choose_rule",
    "catalogue",
    "codes_for_technique",
    "count_units",
    "evaluation_complexity",
    "kx_running_totals",
    "kx_status",
    "kx_threshold",
    "ncci_warnings",
    "payer_warnings",
    "units_for_minutes",
]
