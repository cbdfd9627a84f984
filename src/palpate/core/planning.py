"""Today's soft-tissue session: tailored to each condition, then made safe by the screen.

Pipeline for one patient (planning-policy.md version 2, §2-§4):

1. ``screen`` the patient (holds, restrictions, referrals, suspected fractures; see screening.py).
2. Per condition, find the healing phase and irritability: the therapist's irritability wins, except
   that an acute tissue injury is never made less conservative than its time since onset; without
   it, the more irritable of onset and pain; otherwise the moderate default. Lay out the phase's
   template items at the site, its related muscles, its surroundings or proximal to it (a trunk
   site is its own proximal region; the head is never worked for a neck condition).
3. Tailor pressure: the phase ceiling, one level down after high soreness, one level up after
   low soreness with good relief (never past the ceiling), capped by the reported tolerance; after
   severe soreness no friction or trigger point, and a prompt to re-assess.
4. Merge duplicates across conditions; apply each condition's guards (an inflammatory site gets
   light effleurage only, whoever plans there); fit the session length (a clinic setting) without
   cutting any dose below its shortest sourced length.
5. Apply the screen: a condition at a recently fractured region is brought to the fracture's phase;
   forbidden techniques are replaced by a gentler allowed one where the restriction allows it,
   otherwise dropped; pressures are capped. Every change is recorded.
6. Add complementary therapies and a home programme, each item checked against the restrictions
   by the one rule of palpate.core.safety (restrictions bind the whole plan, §1.6).
7. ``session`` is ``hold`` when the screen holds (then nothing is planned at all), ``modify`` when
   there is a referral, a change or a restriction covering a region the plan treats or would have
   treated (§1.8), ``proceed`` only when nothing in the screen applies.

Steps 2-4 never look at findings, so the unrestricted plan is the same with or without them; the
screen then only removes or caps. Adding a finding can only add restrictions, so it never makes any
kind of item appear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from math import ceil
from typing import Any

from palpate.core.dose import judge_response
from palpate.core.kb import KB_VERSION
from palpate.core.kb.clinical import (
    PHASES,
    PRESSURES,
    RANK,
    ClinicalKB,
    ConditionSpec,
    Exercise,
    Guard,
    Technique,
    knowledge_base,
)
from palpate.core.policy import Policy, apply_overrides, default_policy
from palpate.core.regions import Cell, covers, proximal, related, sides_for, surrounding
from palpate.core.request import CONTRACT, ConditionInput, LastSession, PlanRequest, parse_request
from palpate.core.safety import breaks, effective_restrictions
from palpate.core.screening import FRACTURES, ScreenResult, _Screener

# Gentlest first: what replaces a technique a restriction forbids at a region (facts.md §D:
# effleurage is "allowed at light pressure in most precaution states").
SUBSTITUTES = ("effleurage", "myofascial_release", "petrissage")


@dataclass(frozen=True, slots=True)
class ConditionAssessment:
    code: str
    label: str
    region: str
    side: str | None
    phase: str
    irritability: str
    basis: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "region": self.region, "side": self.side, "phase": self.phase,
                "irritability": self.irritability, "basis": self.basis}


@dataclass(frozen=True, slots=True)
class PlanItem:
    technique: str
    region: str
    side: str | None
    pressure: str
    minutes: int
    for_: str
    also_for: tuple[str, ...]
    rationale: str
    evidence: tuple[str, ...]
    phase: str
    cpt: str
    adjusted: str | None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"technique": self.technique, "region": self.region, "side": self.side,
                               "pressure": self.pressure, "minutes": self.minutes, "for": self.for_}
        if self.also_for:
            out["also_for"] = list(self.also_for)
        out.update({"rationale": self.rationale, "evidence": list(self.evidence), "phase": self.phase,
                    "cpt": self.cpt})
        if self.adjusted:
            out["adjusted"] = self.adjusted
        return out


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One change a restriction made to what would otherwise have been done."""

    technique: str
    region: str
    side: str | None
    action: str  # capped | substituted | dropped
    from_pressure: str
    to_pressure: str | None
    to_technique: str | None
    because: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"technique": self.technique, "region": self.region, "side": self.side, "action": self.action,
                "from_pressure": self.from_pressure, "to_pressure": self.to_pressure,
                "to_technique": self.to_technique, "because": list(self.because)}


@dataclass(frozen=True, slots=True)
class ComplementaryItem:
    therapy: str
    label: str
    why: str
    for_: tuple[str, ...]
    cpt: str | None
    evidence: tuple[str, ...]
    at: tuple[Cell, ...] = ()  # the conditions' places it is for (where the restrictions were checked)

    def to_json(self) -> dict[str, Any]:
        return {"therapy": self.therapy, "label": self.label, "why": self.why, "for": list(self.for_),
                "at": [{"region": region, "side": side} for region, side in self.at],
                "cpt": self.cpt, "evidence": list(self.evidence)}


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A home exercise or complementary therapy the screen kept off today's plan, and why."""

    kind: str  # exercise | therapy
    code: str
    region: str
    side: str | None
    for_: str
    because: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "code": self.code, "region": self.region, "side": self.side, "for": self.for_,
                "because": list(self.because)}


@dataclass(frozen=True, slots=True)
class HomeExercise:
    exercise: str
    name: str
    region: str
    side: str | None
    dose: str
    instructions: str
    for_: str

    def to_json(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "name": self.name, "region": self.region, "side": self.side,
                "dose": self.dose, "instructions": self.instructions, "for": self.for_}


@dataclass(frozen=True, slots=True)
class PlanResult:
    session: str  # proceed | modify | hold
    screening: ScreenResult
    plan: tuple[PlanItem, ...]
    adjustments: tuple[Adjustment, ...]
    complementary: tuple[ComplementaryItem, ...]
    home_program: tuple[HomeExercise, ...]
    conditions: tuple[ConditionAssessment, ...]
    warnings: tuple[str, ...]
    advice: str | None
    request_id: str | int | None
    policy_overrides: tuple[tuple[str, float], ...]
    left_out: tuple[LeftOut, ...] = ()
    kb_version: str = KB_VERSION

    @property
    def total_minutes(self) -> int:
        return sum(item.minutes for item in self.plan)

    def to_json(self) -> dict[str, Any]:
        s = self.screening
        out: dict[str, Any] = {"contract": CONTRACT, "kb_version": self.kb_version}
        if self.request_id is not None:
            out["id"] = self.request_id
        out.update({
            "session": self.session,
            "referrals": [r.to_json() for r in s.referrals],
            "screens": s.screens_json(),
            "restrictions": [r.to_json() for r in s.restrictions],
            "plan": [i.to_json() for i in self.plan],
            "total_minutes": self.total_minutes,
            "complementary": [c.to_json() for c in self.complementary],
            "home_program": [h.to_json() for h in self.home_program],
            "advice": self.advice,
            "conditions": [c.to_json() for c in self.conditions],
            "adjustments": [a.to_json() for a in self.adjustments],
            "left_out": [x.to_json() for x in self.left_out],
            "findings": [f.to_json() for f in s.findings],
            "cleared_findings": [f.to_json() for f in s.cleared],
            "positioning": list(s.positioning),
            "warnings": list(self.warnings),
        })
        if self.policy_overrides:
            out["policy_overrides"] = dict(self.policy_overrides)
        return out


@dataclass(frozen=True, slots=True)
class FindingInfo:
    """One finding for the web checklist: whether it needs a region, and what it does."""

    code: str
    label: str
    scope: str  # local | whole_body
    severity: str
    hold: bool
    modification: str
    sources: tuple[str, ...]
    evidence: str
    status: str
    resolves: bool = False  # takes "cleared": true (a checkbox on the form)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "scope": self.scope, "severity": self.severity,
                "hold": self.hold, "modification": self.modification, "sources": list(self.sources),
                "evidence": self.evidence, "status": self.status, "resolves": self.resolves}


# ---------------------------------------------------------------------------------------------
# Public API


def plan_request(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``palpate plan`` command: a JSON request in, the JSON response out (InputError if bad)."""
    return plan(parse_request(payload)).to_json()


def plan(request: PlanRequest, policy: Policy | None = None) -> PlanResult:
    """Screen and plan one patient. ``policy`` is the clinic's; request overrides apply on top."""
    kb = knowledge_base()
    effective = apply_overrides(policy if policy is not None else default_policy(), dict(request.policy_overrides))
    screened = _Screener(kb, effective, request).run()
    return _Planner(kb, effective, request, screened).run()


def finding_catalogue() -> tuple[FindingInfo, ...]:
    """Every finding code the engine knows, whole-body ones first, for the web checklist."""
    kb = knowledge_base()
    rules = sorted(kb.rules.values(), key=lambda r: (r.scope != "whole_body", list(kb.rules).index(r.code)))
    return tuple(FindingInfo(r.code, r.label, r.scope, r.severity, r.hold, r.modification, kb.cite(r.sources),
                             r.evidence, r.status, r.resolves) for r in rules)


def exercise_library() -> tuple[Exercise, ...]:
    """The home-exercise library (region, phase, dose, plain instructions)."""
    return knowledge_base().exercises


def condition_catalogue() -> tuple[ConditionSpec, ...]:
    return tuple(knowledge_base().conditions.values())


# ---------------------------------------------------------------------------------------------
# Planning


class _Draft:
    """A plan item while it is being tailored (mutable until frozen into a PlanItem)."""

    __slots__ = ("technique", "region", "side", "pressure", "minutes", "for_", "also_for", "owners", "why",
                 "phase", "basis", "notes", "adjusted")

    def __init__(self, technique: str, region: str, side: str | None, pressure: str, minutes: int, for_: str,
                 why: str, phase: str, basis: str, notes: list[str]) -> None:
        self.technique = technique
        self.region = region
        self.side = side
        self.pressure = pressure
        self.minutes = minutes
        self.for_ = for_
        self.also_for: list[str] = []
        # Which presenting conditions (by position in the request) this item treats: two conditions
        # may share a code (tendinopathy of both an elbow and a knee), so coverage is per position.
        self.owners: list[int] = []
        self.why = why
        self.phase = phase
        self.basis = basis
        self.notes = notes
        self.adjusted: str | None = None

    @property
    def cell(self) -> Cell:
        return (self.region, self.side)

    def serves(self) -> list[int]:
        return self.owners


class _Planner:
    def __init__(self, kb: ClinicalKB, policy: Policy, request: PlanRequest, screened: ScreenResult) -> None:
        self.kb = kb
        self.index = kb.regions
        self.policy = policy
        self.request = request
        self.screened = screened
        self.warnings: list[str] = list(screened.notes)
        self.by_irritability = {spec.irritability: code for code, spec in kb.phases.items()}
        self.left_out: list[LeftOut] = []

    @cached_property
    def on_exercise(self) -> list[dict[str, Any]]:
        """The restrictions that can concern a home exercise (the rule is still safety.breaks)."""
        return [r for r in self.restriction_data if r.get("exercise")]

    @cached_property
    def on_therapy(self) -> list[dict[str, Any]]:
        """The restrictions that can concern a complementary therapy."""
        return [r for r in self.restriction_data if r.get("therapies")]

    @cached_property
    def restriction_data(self) -> list[dict[str, Any]]:
        """The screen's restrictions in the contract's shape, for the one rule of palpate.core.safety."""
        s = self.screened
        return effective_restrictions({"session": "hold" if s.hold else None,
                                       "restrictions": [r.to_json() for r in s.restrictions],
                                       "referrals": [r.to_json() for r in s.referrals]})

    def run(self) -> PlanResult:
        # Steps up to fit() look at the conditions and the last session only, never at findings, so
        # the unrestricted plan is the same with or without them; findings then only remove or cap.
        tailoring = tuple(self.assess(c) for c in self.request.conditions)
        drafts = self.tailor(tailoring)
        drafts = self.guard(drafts, tailoring)
        self.fit(drafts)
        s = self.screened
        adjustments: list[Adjustment] = []
        conditions = tuple(self.after_fracture(a, c) for a, c in zip(tailoring, self.request.conditions, strict=True))
        would_treat = {d.cell for d in drafts} | {(c.region, c.side) for c in conditions}
        if s.hold:
            drafts = []
            self.warnings.insert(0, "Session held: no soft-tissue work, exercise or therapy today ("
                                 + ", ".join(s.hold_because) + "); see referrals.")
        else:
            drafts = self.clamp(drafts, tailoring, conditions, adjustments)
            drafts = self.restrict(drafts, adjustments)
            served = {c for d in drafts for c in d.serves()}
            for position, assessed in enumerate(conditions):
                if position not in served:
                    # The block may sit on a related region (the forearm for an elbow tendon), so
                    # the warning names the condition, not a place the block may not be.
                    self.warnings.append(f"No soft-tissue work for {assessed.code} "
                                         f"({_where(assessed.region, assessed.side)}) today: every technique "
                                         "planned for it is blocked (see restrictions).")
        items = tuple(self.freeze(d) for d in drafts)
        complementary = () if s.hold else self.complementary(tailoring, conditions)
        home = () if s.hold else self.home_program(tailoring, conditions)
        total = sum(item.minutes for item in items)
        if not s.hold and total < self.policy.session_minutes_min:
            self.warnings.append(f"Manual time today is {total} min, under the clinic's "
                                 f"{self.policy.session_minutes_min}-minute minimum session (expected in an "
                                 "inflammatory phase, or where restrictions leave little to work).")
        # The regions the plan treats or would have treated: its soft-tissue cells (before the
        # screen), the conditions' places (where their therapies are applied) and the regions the home
        # exercises are for. A region an exercise only loads is not treated; a restriction that closes
        # it to exercise has already left the exercise out, which counts as a change.
        places = would_treat | {(h.region, h.side) for h in home}
        session = "hold" if s.hold else "modify" if (
            s.referrals or adjustments or self.left_out or s.positioning
            or self.restriction_covers(places)) else "proceed"
        advice = self.kb.handout_advice if home else None
        return PlanResult(session, s, items, tuple(adjustments), complementary, home, conditions,
                          tuple(dict.fromkeys(self.warnings)), advice, self.request.request_id,
                          self.request.policy_overrides, tuple(self.left_out))

    def restriction_covers(self, places: Iterable[Cell]) -> bool:
        """Planning policy §1.8: does any restriction cover a region the plan treats or would have?"""
        return any(covers(self.index, r.region, r.side, region, side)
                   for r in self.screened.restrictions for region, side in places)

    # -- phase and irritability --------------------------------------------------------------------

    def phase_for_days(self, days: float) -> str:
        policy = self.policy
        return ("inflammatory" if days <= policy.inflammatory_max_days
                else "proliferative" if days <= policy.proliferative_max_days else "remodelling")

    def assess(self, condition: ConditionInput) -> ConditionAssessment:
        policy = self.policy
        spec = self.kb.conditions[condition.code]
        days = surgery_days(condition) if condition.code == "post_operative" else condition.onset_days
        if condition.irritability is not None:
            # The clinician's irritability classification overrides time since injury (facts.md §C.1)
            # except that an acute tissue injury is never made less conservative than its time since
            # onset: healing is biological (planning policy §2).
            phase = self.by_irritability[condition.irritability]
            basis = f"irritability {condition.irritability}, as assessed"
            if condition.code in self.kb.acute_injuries and days is not None:
                by_days = self.phase_for_days(days)
                if PHASES.index(by_days) < PHASES.index(phase):
                    phase = by_days
                    basis = (f"{days:g} days since onset: {by_days} phase; irritability {condition.irritability} "
                             "cannot hurry the healing of an acute injury")
        else:
            readings: list[tuple[str, str]] = []
            if days is not None:
                by_days = self.phase_for_days(days)
                readings.append((by_days, f"{days:g} days since onset: {by_days} phase"))
            if condition.pain_nprs is not None:
                pain = condition.pain_nprs
                level = ("high" if pain >= policy.nprs_high_min
                         else "moderate" if pain >= policy.nprs_moderate_min else "low")
                readings.append((self.by_irritability[level], f"pain {pain:g}/10: {level} irritability"))
            if readings:
                # The more irritable reading wins: tissue healing cannot be hurried by low pain, and a
                # chronic problem can still be highly irritable.
                phase = min(readings, key=lambda r: PHASES.index(r[0]))[0]
                basis = "; ".join(text for _, text in readings)
            else:
                phase = "proliferative"
                basis = "no irritability, onset or pain given: moderate default (policy)"
        return ConditionAssessment(condition.code, spec.label, condition.region, condition.side, phase,
                                   self.kb.phases[phase].irritability, basis)

    def after_fracture(self, assessed: ConditionAssessment, condition: ConditionInput) -> ConditionAssessment:
        """Planning policy §2: a condition at a region with a recent fracture (known or suspected) is
        an acute injury, timed from the younger of its onset and the fracture."""
        fractures = self.screened.found_at(FRACTURES, assessed.region, assessed.side)
        if not fractures:
            return assessed
        days = [d for d in (condition.onset_days, *(f.days_ago for f in fractures)) if d is not None]
        if condition.code == "post_operative" and surgery_days(condition) is not None:
            days.append(surgery_days(condition) or 0)
        if not days:
            return assessed
        youngest = min(days)
        by_days = self.phase_for_days(youngest)
        if PHASES.index(by_days) >= PHASES.index(assessed.phase):
            return assessed
        basis = (f"{assessed.basis}; a recent fracture at this region makes it an acute injury "
                 f"{youngest:g} days old: {by_days} phase")
        return replace(assessed, phase=by_days, irritability=self.kb.phases[by_days].irritability, basis=basis)

    # -- template items and pressure ---------------------------------------------------------------

    def tailor(self, conditions: tuple[ConditionAssessment, ...]) -> list[_Draft]:
        drafts: dict[tuple[str, str, str | None], _Draft] = {}
        lower, progress, tolerance, response_note = self.response(self.request.last_session)
        severe = self.severe_soreness(self.request.last_session)
        for position, (assessed, given) in enumerate(zip(conditions, self.request.conditions, strict=True)):
            spec = self.kb.conditions[assessed.code]
            phase = self.kb.phases[assessed.phase]
            for template in spec.phases[assessed.phase]:
                if template.requires == "healed_scar" and not self.scar_healed(given):
                    continue
                if severe and self.kb.techniques[template.technique].withheld_after_severe_soreness:
                    continue
                ceiling = _lowest(phase.ceiling, template.ceiling or "deep")
                pressure = _lowest(template.pressure, ceiling)
                notes: list[str] = []
                if lower and pressure != "light":
                    pressure = PRESSURES[RANK[pressure] - 2]
                    notes.append(f"one level lower after {response_note}")
                elif progress and RANK[pressure] < RANK[ceiling]:
                    pressure = PRESSURES[RANK[pressure]]
                    notes.append(f"progressed one level after {response_note}")
                if tolerance is not None and RANK[pressure] > RANK[tolerance]:
                    pressure = tolerance
                    notes.append(f"capped at the patient's tolerance ({tolerance})")
                for region in self.targets(template.target, assessed.region):
                    for side in sides_for(self.index, region, assessed.side):
                        key = (template.technique, region, side)
                        existing = drafts.get(key)
                        if existing is None:
                            technique = self.kb.techniques[template.technique]
                            drafts[key] = _Draft(template.technique, region, side, pressure,
                                                 _minutes(technique, pressure), assessed.code, template.why,
                                                 assessed.phase, assessed.basis, list(notes))
                            drafts[key].owners.append(position)
                            continue
                        # The same technique at the same place for two conditions: done once, at the
                        # gentler pressure, for the longer time.
                        if RANK[pressure] < RANK[existing.pressure]:
                            existing.pressure = pressure
                            existing.notes.append(f"gentler pressure for {assessed.code}")
                        existing.minutes = max(existing.minutes,
                                               _minutes(self.kb.techniques[template.technique], pressure))
                        if assessed.code != existing.for_ and assessed.code not in existing.also_for:
                            existing.also_for.append(assessed.code)
                        if position not in existing.owners:
                            existing.owners.append(position)
        if severe:
            withheld = [t.label.lower() for t in self.kb.techniques.values() if t.withheld_after_severe_soreness]
            self.warnings.append(f"Severe soreness after the last session ({severe}): no {' or '.join(withheld)} "
                                 "today; re-assess for an adverse event before treating (Ernst 2003).")
        return list(drafts.values())

    def response(self, last: LastSession | None) -> tuple[bool, bool, str | None, str]:
        """Lower / progress / tolerance from the last session's response (planning policy §3,
        palpate.core.dose: the one judgement, which carried-forward visit rows get too)."""
        judged = judge_response(last, self.policy)
        return judged.lower, judged.progress, judged.tolerance, judged.note

    def severe_soreness(self, last: LastSession | None) -> str:
        """Planning policy §3: soreness of 8/10 or more, or lasting over 72 h (clinic settings);
        the words for the warning, or empty."""
        return judge_response(last, self.policy).severe

    def scar_healed(self, condition: ConditionInput) -> bool:
        days = surgery_days(condition)
        return condition.incision_closed is True and days is not None and days >= self.policy.incision_healed_days

    def targets(self, target: str, region: str) -> tuple[str, ...]:
        if target == "related":
            found = related(self.index, region)
        elif target == "surrounding":
            found = surrounding(self.index, region)
        elif target == "proximal":
            found = proximal(self.index, region)
        else:
            found = (region,)
        # A region planned only for its own conditions (the head) is never worked for a neighbour's.
        return tuple(r for r in found if r == region or not self.index.regions[r].only_own_conditions)

    # -- guards and session length -----------------------------------------------------------------

    def guard(self, drafts: list[_Draft], conditions: tuple[ConditionAssessment, ...]) -> list[_Draft]:
        """Each condition protects its own site from every condition's items (tailoring, not safety)."""
        guards: dict[Cell, dict[str, tuple[str, str]]] = {}

        def add(cell: Cell, rules: Iterable[Guard], reason: str) -> None:
            at = guards.setdefault(cell, {})
            for rule in rules:
                for technique in rule.techniques:
                    if technique not in at or RANK[rule.max_pressure] < RANK[at[technique][0]]:
                        at[technique] = (rule.max_pressure, reason)

        for assessed in conditions:
            spec = self.kb.conditions[assessed.code]
            if assessed.phase == "inflammatory":
                add((assessed.region, assessed.side), self.kb.inflammatory_site_guard,
                    f"{assessed.code} is in its inflammatory phase here")
            for rule in spec.guards:
                place = rule.at or assessed.region
                for side in sides_for(self.index, place, assessed.side):
                    add((place, side), (rule,), f"protects the {assessed.code} site")
        if not guards:
            return drafts

        def cap(technique: str, cell: Cell) -> str:
            return guards.get(cell, {}).get(technique, ("deep", ""))[0]

        def note(draft: _Draft, what: str, technique: str) -> None:
            draft.notes.append(f"{what}: {guards[draft.cell].get(technique, ('', 'tailored'))[1]}")

        return self.replace(drafts, cap, note, [])

    def fit(self, drafts: list[_Draft]) -> None:
        """Fit the manual time into the clinic's session length (policy session_minutes_min/max).

        Over the maximum, items are first shortened to their technique's shortest sourced dose (least
        essential first: technique ``keep`` in techniques.yaml, then the later condition), never below
        it (planning policy §3); if that is not enough, the least essential are left out, each while
        its condition keeps another item, with a warning that names the region. Under the minimum,
        items are lengthened up to their maximum.
        """
        techniques = self.kb.techniques
        low, high = self.policy.session_minutes_min, self.policy.session_minutes_max
        total = sum(d.minutes for d in drafts)
        if total > high:
            expendable = sorted(range(len(drafts)), key=lambda i: (techniques[drafts[i].technique].keep, -i))
            for index in expendable:
                draft = drafts[index]
                if total <= high:
                    break
                cut = min(draft.minutes - _shortest(techniques[draft.technique], draft.pressure), total - high)
                if cut > 0:
                    draft.minutes -= cut
                    total -= cut
            for index in expendable:
                draft = drafts[index]
                if total <= high:
                    break
                others = [d for d in drafts if d is not draft and d.minutes > 0]
                if all(any(c in d.serves() for d in others) for c in draft.serves()):
                    total -= draft.minutes
                    draft.minutes = 0
                    self.warnings.append(f"{techniques[draft.technique].label} at the {_where(draft.region, draft.side)} "
                                         f"left out to keep the session within {high} minutes: no dose is cut below "
                                         "its shortest sourced length.")
            drafts[:] = [d for d in drafts if d.minutes > 0]
            if total > high:
                self.warnings.append(f"Manual time {total} min exceeds the {high}-minute session setting: "
                                     "one item per condition is kept, none below its shortest dose.")
        elif total < low:
            for draft in drafts:
                add = min(_longest(techniques[draft.technique], draft.pressure) - draft.minutes, low - total)
                if add > 0:
                    draft.minutes += add
                    total += add
                if total >= low:
                    break

    # -- the screen: a recent fracture's phase, then restrictions ----------------------------------

    def clamp(self, drafts: list[_Draft], tailoring: tuple[ConditionAssessment, ...],
              conditions: tuple[ConditionAssessment, ...], adjustments: list[Adjustment]) -> list[_Draft]:
        """Bring each condition that a recent fracture made more acute to its earlier phase.

        Filtering the fitted drafts (never re-planning) keeps the rule that adding a finding only
        removes or caps: items the earlier phase does not plan for that condition are no longer its,
        and none is above that phase's ceiling.
        """
        changed = [i for i, (a, b) in enumerate(zip(tailoring, conditions, strict=True)) if a.phase != b.phase]
        if not changed:
            return drafts
        allowed: dict[int, set[tuple[str, str, str | None]]] = {}
        for position in changed:
            assessed = conditions[position]
            spec = self.kb.conditions[assessed.code]
            allowed[position] = {(t.technique, region, side) for t in spec.phases[assessed.phase]
                                 for region in self.targets(t.target, assessed.region)
                                 for side in sides_for(self.index, region, assessed.side)}
        out: list[_Draft] = []
        for draft in drafts:
            key = (draft.technique, draft.region, draft.side)
            owners = [p for p in draft.owners if p not in allowed or key in allowed[p]]
            clamped = [p for p in draft.owners if p in allowed]
            because = tuple(sorted({f.code for p in clamped for f in self.screened.found_at(
                FRACTURES, conditions[p].region, conditions[p].side)}))
            if not owners:
                adjustments.append(Adjustment(draft.technique, draft.region, draft.side, "dropped", draft.pressure,
                                              None, None, because))
                continue
            draft.owners = owners
            codes = list(dict.fromkeys(self.request.conditions[p].code for p in owners))
            draft.for_, draft.also_for = codes[0], codes[1:]
            ceilings = [self.kb.phases[conditions[p].phase].ceiling for p in owners if p in allowed]
            if ceilings:
                ceiling = min(ceilings, key=lambda c: RANK[c])
                first = conditions[owners[0]]
                draft.phase, draft.basis = first.phase, first.basis
                if RANK[draft.pressure] > RANK[ceiling]:
                    adjustments.append(Adjustment(draft.technique, draft.region, draft.side, "capped", draft.pressure,
                                                  ceiling, None, because))
                    draft.adjusted = f"pressure capped from {draft.pressure} to {ceiling} by a recent fracture's phase"
                    draft.pressure = ceiling
            out.append(draft)
        return out

    def restrict(self, drafts: list[_Draft], adjustments: list[Adjustment]) -> list[_Draft]:
        screened = self.screened

        def cap(technique: str, cell: Cell) -> str:
            return screened.cap(technique, cell[0], cell[1])[0]

        def because(draft: _Draft, technique: str | None = None) -> tuple[str, ...]:
            numbers = screened.cap(technique or draft.technique, draft.region, draft.side)[1]
            return tuple(sorted({b for n in numbers for b in screened.restrictions[n].because}))

        def note(draft: _Draft, what: str, technique: str) -> None:
            draft.adjusted = f"{what} by restriction ({', '.join(because(draft, technique))})"

        return self.replace(drafts, cap, note, adjustments, because)

    def replace(self, drafts: list[_Draft], cap: Callable[[str, Cell], str],
                note: Callable[[_Draft, str, str], None], adjustments: list[Adjustment],
                because: Callable[[_Draft], tuple[str, ...]] | None = None) -> list[_Draft]:
        """Cap, substitute or drop drafts against a cap function; record adjustments when asked."""
        allowed_at: dict[Cell, set[str]] = {}
        for draft in drafts:
            if cap(draft.technique, draft.cell) != "none":
                allowed_at.setdefault(draft.cell, set()).add(draft.technique)
        out: list[_Draft] = []
        for draft in drafts:
            limit = cap(draft.technique, draft.cell)
            if limit == "none":
                present = allowed_at.setdefault(draft.cell, set())
                swap = next((t for t in SUBSTITUTES if t != draft.technique and cap(t, draft.cell) != "none"), None)
                reasons = because(draft) if because else ()
                if swap is None or swap in present:
                    if because is not None:
                        adjustments.append(Adjustment(draft.technique, draft.region, draft.side, "dropped",
                                                      draft.pressure, None, None, reasons))
                    # A region still treated by another technique is not lost; otherwise it is.
                    continue
                technique = self.kb.techniques[swap]
                original, original_pressure = draft.technique, draft.pressure
                draft.why = (f"Light {technique.label.lower()} keeps this region in the treatment in place of "
                             f"{self.kb.techniques[original].label.lower()}, which is not allowed here.")
                draft.notes = []
                draft.technique = swap
                draft.pressure = _lowest("light", cap(swap, draft.cell))
                draft.minutes = max(technique.minutes_min, min(draft.minutes, technique.minutes_max))
                present.add(swap)
                note(draft, f"{original} replaced with light {swap}", original)
                if because is not None:
                    adjustments.append(Adjustment(original, draft.region, draft.side, "substituted",
                                                  original_pressure, draft.pressure, swap, reasons))
                out.append(draft)
                continue
            if RANK[limit] < RANK[draft.pressure]:
                before = draft.pressure
                draft.pressure = limit
                note(draft, f"pressure capped from {before} to {limit}", draft.technique)
                if because is not None:
                    adjustments.append(Adjustment(draft.technique, draft.region, draft.side, "capped", before, limit,
                                                  None, because(draft)))
            out.append(draft)
        return out

    # -- output ------------------------------------------------------------------------------------

    def freeze(self, draft: _Draft) -> PlanItem:
        kb = self.kb
        technique = kb.techniques[draft.technique]
        condition = kb.conditions[draft.for_]
        text = f"{kb.phases[draft.phase].label} ({draft.basis}). {draft.why}"
        if technique.seconds_per_point:
            seconds = technique.seconds_per_point[draft.pressure]
            text += f" About {seconds} s per point, up to {technique.points} points."
        if draft.notes:
            text += " Pressure: " + "; ".join(draft.notes) + "."
        if draft.adjusted:
            text += f" Adjusted: {draft.adjusted}."
        evidence = tuple(dict.fromkeys([*kb.cite(technique.sources), *kb.cite(condition.sources)]))
        return PlanItem(draft.technique, draft.region, draft.side, draft.pressure, draft.minutes, draft.for_,
                        tuple(draft.also_for), text, evidence, draft.phase, technique.cpt, draft.adjusted)

    # -- around the massage: decided by the one rule of palpate.core.safety -------------------------

    def breached(self, item: dict[str, Any]) -> tuple[str, ...]:
        """Why an item breaks the restrictions (palpate.core.safety), or () when it breaks none."""
        relevant = self.on_exercise if "exercise" in item else self.on_therapy
        return tuple(sorted({b for r in relevant if breaks(r, item) for b in r.get("because") or ()}))

    def complementary(self, tailoring: tuple[ConditionAssessment, ...],
                      conditions: tuple[ConditionAssessment, ...]) -> tuple[ComplementaryItem, ...]:
        """Therapies chosen for each condition's tailoring phase (never from findings), then kept only
        where the screen's phase allows them and no restriction forbids them at the condition's place."""
        chosen: dict[str, list[str]] = {}
        places: dict[str, list[Cell]] = {}
        for before, assessed, given in zip(tailoring, conditions, self.request.conditions, strict=True):
            for therapy in self.kb.therapies.values():
                if therapy.phases is not None and before.phase not in therapy.phases:
                    continue
                if therapy.conditions is not None and assessed.code not in therapy.conditions:
                    continue
                if therapy.pain_at_least is not None and (
                        given.pain_nprs is None or given.pain_nprs < self.policy.value(therapy.pain_at_least)):
                    continue
                item = {"therapy": therapy.code, "region": assessed.region, "side": assessed.side}
                reasons = self.breached(item)
                if not reasons and therapy.phases is not None and assessed.phase not in therapy.phases:
                    reasons = tuple(sorted({f.code for f in self.screened.found_at(
                        FRACTURES, assessed.region, assessed.side)}))
                if reasons:
                    self.left_out.append(LeftOut("therapy", therapy.code, assessed.region, assessed.side,
                                                 assessed.code, reasons))
                    continue
                served = chosen.setdefault(therapy.code, [])
                if assessed.code not in served:
                    served.append(assessed.code)
                at = places.setdefault(therapy.code, [])
                if (assessed.region, assessed.side) not in at:
                    at.append((assessed.region, assessed.side))
        return tuple(ComplementaryItem(t.code, t.label, t.why, tuple(chosen[t.code]), t.cpt, self.kb.cite(t.sources),
                                       tuple(places[t.code]))
                     for t in self.kb.therapies.values() if t.code in chosen)

    def home_program(self, tailoring: tuple[ConditionAssessment, ...],
                     conditions: tuple[ConditionAssessment, ...]) -> tuple[HomeExercise, ...]:
        """2-4 exercises matched to each condition's region and tailoring phase, then kept only where
        the screen allows: no restriction forbids exercise at a region it moves or loads (palpate.core.
        safety), it suits the patient (``avoid_with``) and the condition's phase after the screen, and an
        acutely inflamed region only gets the gentle exercises written for that phase.

        Choosing first and checking after (never choosing a replacement) keeps the rule that adding a
        finding only ever removes exercises."""
        limit = self.policy.home_exercises_max
        picked: list[tuple[int, HomeExercise]] = []
        spare: list[tuple[int, HomeExercise]] = []
        taken: set[str] = set()
        by_region = _exercises_by_region(self.kb)
        for position, assessed in enumerate(tailoring):
            places = (assessed.region, *related(self.index, assessed.region))
            positions = sorted({i for r in places for i in by_region.get(r, ())})
            # Exercises written for this condition first (eccentric loading for a tendinopathy), then
            # those centred on the site, then on its muscles, each in the library's order.
            ranked = sorted((self.kb.exercises[i] for i in positions),
                            key=lambda e: (0 if e.conditions and assessed.code in e.conditions else 1,  # noqa: B023
                                           places.index(e.regions[0]) if e.regions[0] in places  # noqa: B023
                                           else len(places)))
            per_condition = 0
            for exercise in ranked:
                if (exercise.code in taken or assessed.phase not in exercise.phases
                        or (exercise.conditions is not None and assessed.code not in exercise.conditions)):
                    continue
                match = next(r for r in exercise.regions if r in places)
                side = assessed.side if self.index.regions[match].paired else None
                item = HomeExercise(exercise.code, exercise.name, match, side, exercise.dose, exercise.instructions,
                                    assessed.code)
                taken.add(exercise.code)
                if per_condition < 2 and len(picked) < limit:
                    picked.append((position, item))
                    per_condition += 1
                else:
                    spare.append((position, item))
        while len(picked) < min(2, limit) and spare:
            picked.append(spare.pop(0))
        present = {f.code for f in self.screened.findings}
        kept: list[HomeExercise] = []
        for position, item in picked:
            exercise = self.kb.exercise_index[item.exercise]
            reasons = self.breached({"exercise": item.exercise, "region": item.region, "side": item.side})
            if not reasons:
                reasons = tuple(sorted(present.intersection(exercise.avoid_with)))
            if not reasons and conditions[position].phase not in exercise.phases:
                reasons = tuple(sorted({f.code for f in self.screened.found_at(
                    FRACTURES, conditions[position].region, conditions[position].side)}))
            if not reasons and "inflammatory" not in exercise.phases and any(
                    self.screened.found_at(("acute_inflammation",), r, side)
                    for r in (*exercise.regions, *exercise.loads) for side in sides_for(self.index, r, item.side)):
                reasons = ("acute_inflammation",)
            if reasons:
                self.left_out.append(LeftOut("exercise", item.exercise, item.region, item.side, item.for_, reasons))
                continue
            kept.append(item)
        if self.left_out and any(x.kind == "exercise" for x in self.left_out):
            self.warnings.append("Home exercises that would move or load a restricted region, or do not suit the "
                                 "patient today, are left off the programme (see left_out).")
        return tuple(kept)


# Keyed by the knowledge base's id, holding the knowledge base itself so the id cannot be reused.
_EXERCISE_INDEX: dict[int, tuple[ClinicalKB, dict[str, tuple[int, ...]]]] = {}


def _exercises_by_region(kb: ClinicalKB) -> dict[str, tuple[int, ...]]:
    """Positions of the library's exercises by the regions they move (built once per knowledge base)."""
    cached = _EXERCISE_INDEX.get(id(kb))
    if cached is None:
        index: dict[str, list[int]] = {}
        for position, exercise in enumerate(kb.exercises):
            for region in exercise.regions:
                index.setdefault(region, []).append(position)
        cached = (kb, {region: tuple(positions) for region, positions in index.items()})
        _EXERCISE_INDEX.clear()
        _EXERCISE_INDEX[id(kb)] = cached
    return cached[1]


def surgery_days(condition: ConditionInput) -> float | None:
    """Days since the operation of a post-operative condition: surgery_days_ago, else its onset."""
    return condition.surgery_days_ago if condition.surgery_days_ago is not None else condition.onset_days


def _lowest(a: str, b: str) -> str:
    return a if RANK[a] <= RANK[b] else b


def _minutes(technique: Technique, pressure: str) -> int:
    if technique.points and technique.seconds_per_point:
        # Trigger points: up to N points at 90 s (threshold pressure) or 60 s (higher), Hou 2002.
        return max(technique.minutes_min, min(technique.minutes_max,
                                              ceil(technique.points * technique.seconds_per_point[pressure] / 60)))
    return technique.minutes_default


def _shortest(technique: Technique, pressure: str) -> int:
    """The shortest sourced dose (planning policy §3): a trigger-point item keeps all its points at
    their hold time; every other technique its sourced minimum (myofascial release 3 min)."""
    return _minutes(technique, pressure) if technique.points else technique.minutes_min


def _longest(technique: Technique, pressure: str) -> int:
    """The most minutes an item may grow to: trigger points stay at their point count."""
    return _minutes(technique, pressure) if technique.points else technique.minutes_max


def _where(region: str, side: str | None) -> str:
    place = region.replace("_", " ")
    return f"{side} {place}" if side else place
