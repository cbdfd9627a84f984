"""The one adapter between stored clinical records and the clinical core's planner.

Evaluations, plans of care and visits all ask the same question ("given what we know about this
patient today, what is safe and what is the plan?"), so the request is assembled here once, in
the contract's shape (``palpate.plan/1``), and answered by ``palpate.core.planning``. The apps
never re-implement a rule; they only gather facts.

Every answer carries ``basis``: a digest of exactly what it was computed from (the request, the
clinic's thresholds and the clinical core as installed, its code and knowledge base). A stored
answer whose basis matches the facts as they are now is still the core's answer for them, so
signing does not run the planner again for nothing (``screen_is_current``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import palpate.core
from palpate.core.planning import plan
from palpate.core.policy import Policy, apply_overrides, default_policy, overrides_within_bounds
from palpate.core.request import parse_request


def patient_facts(patient: Any, on: dt.date) -> dict[str, Any]:
    facts: dict[str, Any] = {"age": patient.age_on(on)}
    if patient.sex in ("female", "male", "other", "unknown"):
        facts["sex"] = patient.sex
    return facts


def condition_facts(episode: Any, on: dt.date, *, irritability: str = "", pain_nprs: int | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {"code": episode.condition, "region": episode.body_region,
                                 "onset_days": max(0, (on - episode.onset_date).days)}
    if episode.side:
        condition["side"] = episode.side
    if irritability:
        condition["irritability"] = irritability
    if pain_nprs is not None:
        condition["pain_nprs"] = pain_nprs
    return condition


def last_session_facts(visit: Any | None) -> dict[str, Any] | None:
    """How the patient responded to the previous visit (feeds today's dose)."""
    if visit is None or visit.soreness_since_last is None:
        return None
    last: dict[str, Any] = {"soreness_24h": visit.soreness_since_last}
    if visit.soreness_hours is not None:
        last["soreness_hours"] = visit.soreness_hours
    if visit.relief in ("good", "some", "none"):
        last["relief"] = visit.relief
    elif visit.relief == "complete":
        last["relief"] = "good"
    return last


def merge_findings(*lists: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings from the evaluation and later visits, de-duplicated (the latest wins)."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for findings in lists:
        for finding in findings or []:
            key = (finding.get("code"), finding.get("region"), finding.get("side"))
            merged[key] = {k: v for k, v in finding.items() if v not in (None, "")}
    return list(merged.values())


def aged_findings(findings: Iterable[Mapping[str, Any]], recorded_on: dt.date | None, on: dt.date) -> list[dict[str, Any]]:
    """Findings recorded on ``recorded_on`` as they stand on ``on``: "days ago" keeps counting.

    A fracture recorded as 10 days old at the evaluation is 24 days old two weeks later; without
    this, every later screen would treat it as forever fresh (or, for a healing incision, forever
    unhealed).
    """
    elapsed = max(0, (on - recorded_on).days) if recorded_on else 0
    out = []
    for finding in findings or []:
        finding = dict(finding)
        if elapsed and isinstance(finding.get("days_ago"), (int, float)) and not isinstance(finding["days_ago"], bool):
            finding["days_ago"] = finding["days_ago"] + elapsed
        out.append(finding)
    return out


def surgery_facts(episode: Any, findings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """For a post-operative episode: the incision at its region, as the evaluation recorded it."""
    if episode.condition != "post_operative":
        return {}
    for finding in findings:
        if (finding.get("code") == "surgical_incision" and finding.get("region") == episode.body_region
                and (finding.get("side") or "") == (episode.side or "")):
            facts: dict[str, Any] = {}
            if finding.get("days_ago") is not None:
                facts["surgery_days_ago"] = finding["days_ago"]
            if finding.get("closed") is not None:
                facts["incision_closed"] = finding["closed"]
            return facts
    return {}


def build_request(
    patient: Any,
    episode: Any,
    *,
    on: dt.date,
    evaluation: Any | None = None,
    findings: Iterable[Mapping[str, Any]] = (),
    vitals: Mapping[str, Any] | None = None,
    screens: Mapping[str, Any] | None = None,
    last_visit: Any | None = None,
) -> dict[str, Any]:
    """A ``palpate.plan/1`` request from the stored records (evaluation first, newer facts over it).

    The evaluation's findings are aged to ``on``; its vitals count only on the day they were taken
    (a fever at the evaluation is no fever two weeks later: the visit records today's vitals).
    """
    evaluated_on = getattr(evaluation, "performed_on", None)
    all_findings = merge_findings(aged_findings(getattr(evaluation, "findings", None) or [], evaluated_on, on),
                                  findings)
    condition = condition_facts(
        episode, on,
        irritability=getattr(evaluation, "irritability", "") or "",
        pain_nprs=getattr(evaluation, "pain_nprs", None),
    )
    condition.update(surgery_facts(episode, all_findings))
    request: dict[str, Any] = {
        "patient": patient_facts(patient, on),
        "conditions": [condition],
        "findings": all_findings,
    }
    evaluation_vitals = (getattr(evaluation, "vitals", None) or {}) if evaluated_on == on else {}
    merged_vitals = {**evaluation_vitals, **(vitals or {})}
    merged_vitals = {k: v for k, v in merged_vitals.items() if v not in (None, "")}
    if merged_vitals:
        request["vitals"] = merged_vitals
    merged_screens = {**(getattr(evaluation, "screens", None) or {}), **(screens or {})}
    if merged_screens:
        request["screens"] = merged_screens
    last = last_session_facts(last_visit)
    if last:
        request["last_session"] = last
    return request


@functools.cache
def _rules_digest() -> str:
    """The clinical core as installed (its code and knowledge base): a new release changes the answer."""
    digest = hashlib.sha256()
    root = Path(palpate.core.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml"):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def basis(clinic: Any, request: Mapping[str, Any]) -> str:
    """What an answer is computed from, as a digest: the request, the clinic's thresholds, the core."""
    canonical = json.dumps({"request": request, "policy": clinic.policy_overrides or {}, "rules": _rules_digest()},
                           sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def clinic_policy(clinic: Any) -> Policy:
    """The clinic's thresholds, each within its safe bound.

    A clinic stored a value before the bounds existed (planning policy §1.7)? Until ``palpate
    prepare`` brings it to its bound and audits that (``palpate.ops.policy_bounds``), planning uses
    the bound in its place, as that service will store it: planning never fails for such a clinic,
    and never plans looser than the bound.
    """
    within, _ = overrides_within_bounds(clinic.policy_overrides or {})
    return apply_overrides(default_policy(), within)


def run_plan(clinic: Any, request: Mapping[str, Any]) -> dict[str, Any]:
    """Screen and plan with the clinic's thresholds; raises InputError if the request is invalid."""
    return {**plan(parse_request(dict(request)), clinic_policy(clinic)).to_json(), "basis": basis(clinic, request)}


def screen_is_current(screen: Mapping[str, Any] | None, clinic: Any, request: Mapping[str, Any]) -> bool:
    """Is a stored answer still the core's answer for ``request`` (same facts, thresholds and KB)?"""
    return bool(screen) and not (screen or {}).get("error") and (screen or {}).get("basis") == basis(clinic, request)
