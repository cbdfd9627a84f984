"""Today's soft-tissue session: tailored to each condition, then made safe by the screen.

Pipeline for one patient (planning-policy.md §2-§4):

1. ``screen`` the patient (holds, restrictions, referrals; see screening.py).
2. Per condition, find the healing phase and irritability (explicit irritability wins; otherwise
   the more irritable of onset and pain; otherwise the moderate default) and lay out the phase's
   template items at the site, its related muscles, its surroundings or proximal to it.
3. Tailor pressure: the phase ceiling, one level down after high soreness, one level up after
   low soreness with good relief (never past the ceiling), capped by the reported tolerance.
4. Merge duplicates across conditions; apply each condition's guards (an inflammatory site gets
   light effleurage only, whoever plans there); fit the session length (a clinic setting).
5. Apply the restrictions: forbidden techniques are replaced by a gentler allowed one where the
   restriction allows it, otherwise dropped; pressures are capped. Every change is recorded, and
   ``session`` is ``modify`` exactly when a restriction changed something, ``hold`` when the screen
   holds (then the plan is empty), ``proceed`` otherwise.
6. Add complementary therapies and a home programme that avoid every blocked site.

Steps 2-4 never look at findings, so the unrestricted plan is the same with or without them and
adding a finding can only add restrictions: a plan never becomes less restrictive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import ceil
from typing import Any

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
from palpate.core.regions import Cell, proximal, related, sides_for, surrounding
from palpate.core.request import CONTRACT, ConditionInput, LastSession, PlanRequest, parse_request
from palpate.core.screening import ScreenResult, _Screener

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

    def to_json(self) -> dict[str, Any]:
        return {"therapy": self.therapy, "label": self.label, "why": self.why, "for": list(self.for_),
                "cpt": self.cpt, "evidence": list(self.evidence)}


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
            "findings": [f.to_json() for f in s.findings],
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

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "scope": self.scope, "severity": self.severity,
                "hold": self.hold, "modification": self.modification, "sources": list(self.sources),
                "evidence": self.evidence, "status": self.status}


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
                             r.evidence, r.status) for r in rules)


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

    def run(self) -> PlanResult:
        conditions = tuple(self.assess(c) for c in self.request.conditions)
        drafts = self.tailor(conditions)
        drafts = self.guard(drafts, conditions)
        self.fit(drafts)
        s = self.screened
        adjustments: list[Adjustment] = []
        if s.hold:
            drafts = []
            self.warnings.insert(0, "Session held: no soft-tissue work today ("
                                 + ", ".join(s.hold_because) + "); see referrals.")
        else:
            drafts = self.restrict(drafts, adjustments)
            served = {c for d in drafts for c in d.serves()}
            for position, assessed in enumerate(conditions):
                if position not in served:
                    # The block may sit on a related region (the forearm for an elbow tendon), so
                    # the warning names the condition, not a place the block may not be.
                    self.warnings.append(f"No soft-tissue work for {assessed.code} "
                                         f"({_where(assessed.region, assessed.side)}) today: every technique "
                                         "planned for it is blocked (see restrictions).")
        # A positioning change (side-lying in pregnancy) also changes what would otherwise be done.
        session = "hold" if s.hold else "modify" if adjustments or s.positioning else "proceed"
        items = tuple(self.freeze(d) for d in drafts)
        complementary = () if s.hold else self.complementary(conditions)
        home = () if s.hold else self.home_program(conditions)
        advice = self.kb.handout_advice if home else None
        return PlanResult(session, s, items, tuple(adjustments), complementary, home, conditions,
                          tuple(dict.fromkeys(self.warnings)), advice, self.request.request_id,
                          self.request.policy_overrides)

    # -- phase and irritability --------------------------------------------------------------------

    def assess(self, condition: ConditionInput) -> ConditionAssessment:
        policy = self.policy
        spec = self.kb.conditions[condition.code]
        if condition.irritability is not None:
            # The clinician's irritability classification overrides time since injury (facts.md §C.1).
            phase = self.by_irritability[condition.irritability]
            basis = f"irritability {condition.irritability}, as assessed"
        else:
            readings: list[tuple[str, str]] = []
            days = condition.onset_days
            if condition.code == "post_operative" and condition.surgery_days_ago is not None:
                days = condition.surgery_days_ago
            if days is not None:
                by_days = ("inflammatory" if days <= policy.inflammatory_max_days
                           else "proliferative" if days <= policy.proliferative_max_days else "remodelling")
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

    # -- template items and pressure ---------------------------------------------------------------

    def tailor(self, conditions: tuple[ConditionAssessment, ...]) -> list[_Draft]:
        drafts: dict[tuple[str, str, str | None], _Draft] = {}
        lower, progress, tolerance, response_note = self.response(self.request.last_session)
        for position, (assessed, given) in enumerate(zip(conditions, self.request.conditions, strict=True)):
            spec = self.kb.conditions[assessed.code]
            phase = self.kb.phases[assessed.phase]
            for template in spec.phases[assessed.phase]:
                if template.requires == "healed_scar" and not self.scar_healed(given):
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
        return list(drafts.values())

    def response(self, last: LastSession | None) -> tuple[bool, bool, str | None, str]:
        """Lower / progress / tolerance from the last session's response (planning policy §3)."""
        if last is None:
            return False, False, None, ""
        policy = self.policy
        soreness, hours = last.soreness_24h, last.soreness_hours
        lower = ((soreness is not None and soreness >= policy.soreness_lower_min)
                 or (hours is not None and hours > policy.soreness_hours_max))
        progress = (not lower and soreness is not None and soreness <= policy.soreness_progress_max
                    and last.relief == "good")
        parts = []
        if soreness is not None:
            parts.append(f"soreness {soreness:g}/10 at 24 h")
        if hours is not None:
            parts.append(f"lasting {hours:g} h")
        if progress:
            parts.append("with good relief")
        return lower, progress, last.pressure_tolerance, "last session's " + ", ".join(parts)

    def scar_healed(self, condition: ConditionInput) -> bool:
        days = surgery_days(condition)
        return condition.incision_closed is True and days is not None and days >= self.policy.incision_healed_days

    def targets(self, target: str, region: str) -> tuple[str, ...]:
        if target == "related":
            return related(self.index, region)
        if target == "surrounding":
            return surrounding(self.index, region)
        if target == "proximal":
            return proximal(self.index, region)
        return (region,)

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

        Over the maximum, items are first shortened to their technique's minimum (least essential
        first: technique ``keep`` in techniques.yaml, then the later condition); only if that is not
        enough are the least essential left out, each while its condition keeps another item. Under
        the minimum, items are lengthened up to their maximum.
        """
        techniques = self.kb.techniques
        low, high = self.policy.session_minutes_min, self.policy.session_minutes_max
        total = sum(d.minutes for d in drafts)
        if total > high:
            expendable = sorted(range(len(drafts)), key=lambda i: (techniques[drafts[i].technique].keep, -i))
            # Shorten before leaving anything out: every region keeps its work at the technique's
            # shortest sourced dose (policy §3) before a region or technique is dropped.
            for index in expendable:
                draft = drafts[index]
                if total <= high:
                    break
                cut = min(draft.minutes - techniques[draft.technique].minutes_min, total - high)
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
                    self.warnings.append(f"{draft.technique} at {_where(draft.region, draft.side)} left out to "
                                         f"keep the session within {high} minutes.")
            drafts[:] = [d for d in drafts if d.minutes > 0]
            if total > high:
                self.warnings.append(f"Manual time {total} min exceeds the {high}-minute session setting: "
                                     "one item per condition is kept.")
        elif total < low:
            for draft in drafts:
                add = min(_longest(techniques[draft.technique], draft.pressure) - draft.minutes, low - total)
                if add > 0:
                    draft.minutes += add
                    total += add
                if total >= low:
                    break

    # -- restrictions ------------------------------------------------------------------------------

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

    def site_blocked(self, region: str, side: str | None) -> bool:
        return all(self.screened.blocked(region, s, self.kb.techniques) for s in sides_for(self.index, region, side))

    def load_blocked(self, region: str, side: str | None, main: bool) -> bool:
        """May a home exercise move this region? Not where all work is forbidden, except that a
        skin-only block (wound, burn, incision) only keeps away exercises centred on it."""
        for s in sides_for(self.index, region, side):
            if not self.screened.blocked(region, s, self.kb.techniques):
                continue
            if main:
                return True
            numbers = {n for t in self.kb.techniques for n in self.screened.cap(t, region, s)[1]}
            codes = {b for n in numbers for b in self.screened.restrictions[n].because}
            if any(code not in self.kb.rules or not self.kb.rules[code].skin_only for code in codes):
                return True
        return False

    def finding_at(self, codes: Iterable[str], region: str, side: str | None) -> bool:
        wanted = set(codes)
        for finding in self.screened.findings:
            if finding.code not in wanted or finding.region is None:
                continue
            if region in self.index.members(finding.region) and (finding.side is None or side is None
                                                                 or finding.side == side):
                return True
        return False

    def complementary(self, conditions: tuple[ConditionAssessment, ...]) -> tuple[ComplementaryItem, ...]:
        chosen: dict[str, list[str]] = {}
        for assessed, given in zip(conditions, self.request.conditions, strict=True):
            for therapy in self.kb.therapies.values():
                if therapy.phases is not None and assessed.phase not in therapy.phases:
                    continue
                if therapy.conditions is not None and assessed.code not in therapy.conditions:
                    continue
                if therapy.pain_at_least is not None and (
                        given.pain_nprs is None or given.pain_nprs < self.policy.value(therapy.pain_at_least)):
                    continue
                if any(self.screened.has(code) for code in therapy.avoid_findings):
                    continue
                if self.finding_at(therapy.avoid_site_findings, assessed.region, assessed.side):
                    continue
                if therapy.avoid_blocked_site and self.site_blocked(assessed.region, assessed.side):
                    continue
                if any(self.screened.has(code) and assessed.region in {m for t in places for m in self.index.members(t)}
                       for code, places in therapy.avoid_regions_with.items()):
                    continue
                served = chosen.setdefault(therapy.code, [])
                if assessed.code not in served:
                    served.append(assessed.code)
        return tuple(ComplementaryItem(t.code, t.label, t.why, tuple(chosen[t.code]), t.cpt, self.kb.cite(t.sources))
                     for t in self.kb.therapies.values() if t.code in chosen)

    def home_program(self, conditions: tuple[ConditionAssessment, ...]) -> tuple[HomeExercise, ...]:
        limit = self.policy.home_exercises_max
        picked: list[HomeExercise] = []
        spare: list[HomeExercise] = []
        taken: set[str] = set()
        present = {f.code for f in self.screened.findings}
        by_region = _exercises_by_region(self.kb)
        blocked: dict[tuple[str, str | None, bool], bool] = {}
        for assessed in conditions:
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
                        or (exercise.conditions is not None and assessed.code not in exercise.conditions)
                        or not present.isdisjoint(exercise.avoid_with)):
                    continue
                unsafe = False
                for region in exercise.regions:
                    key = (region, assessed.side, region == exercise.regions[0])
                    if key not in blocked:
                        blocked[key] = self.load_blocked(*key)
                    if blocked[key]:
                        unsafe = True  # never load a region where soft-tissue work is forbidden
                        break
                # An acutely inflamed region only gets the gentle exercises written for that phase.
                if unsafe or ("inflammatory" not in exercise.phases and any(
                        self.finding_at(("acute_inflammation",), r, assessed.side) for r in exercise.regions)):
                    continue
                match = next(r for r in exercise.regions if r in places)
                side = assessed.side if self.index.regions[match].paired else None
                item = HomeExercise(exercise.code, exercise.name, match, side, exercise.dose, exercise.instructions,
                                    assessed.code)
                taken.add(exercise.code)
                if per_condition < 2 and len(picked) < limit:
                    picked.append(item)
                    per_condition += 1
                else:
                    spare.append(item)
        while len(picked) < min(2, limit) and spare:
            picked.append(spare.pop(0))
        return tuple(picked)


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


def _longest(technique: Technique, pressure: str) -> int:
    """The most minutes an item may grow to: trigger points stay at their point count."""
    return _minutes(technique, pressure) if technique.points else technique.minutes_max


def _where(region: str, side: str | None) -> str:
    return f"{side} {region}" if side else region
