"""Safety screening: findings, vitals and screens become restrictions, referrals and holds.

Order of evaluation follows planning-policy.md §1 (version 2): every piece of evidence is first
turned into an *active finding* (vitals above a threshold become ``fever`` or
``uncontrolled_hypertension``, a post-operative condition brings its incision, ``tumour`` implies
``active_cancer``; a finding recorded as cleared is set aside). Then the red-flag combinations and
the Ottawa rules of ``screens.yaml`` add theirs, including *suspected fractures* at the painful or
screened regions (§1.5), which are findings like any other. Then each finding's rule from
``contraindications.yaml`` adds holds, restrictions and referrals, the lower-limb DVT risk window
follows surgery and fractures on a leg (§1.2), and the Wells DVT score and its leg signs add theirs.

Every restriction says what it forbids or caps: techniques (with ``max_pressure``), ``exercise``
(no home exercise moves or loads the region) and ``therapies`` (not applied there), so that one
rule (palpate.core.safety) decides every kind of item against it.

Restrictions are monotone by construction: a finding only ever adds restrictions, and no rule or
red flag is lifted by another finding, so adding a finding never makes a plan less restrictive.
Conflicting reports of the same finding resolve to the safer reading: each report acts on its own,
so an open report of an incision restricts whatever a closed one at the same place says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from palpate.core.kb.clinical import (
    RANK,
    SEVERITIES,
    URGENCIES,
    WHOLE_BODY,
    ClinicalKB,
    Effect,
    RedFlag,
    ReferralSpec,
    knowledge_base,
)
from palpate.core.policy import Policy, apply_overrides, default_policy
from palpate.core.regions import Cell, cells, covers, spread
from palpate.core.request import PlanRequest

NO_CAP = ("deep", ())
SIDE_ORDER = MappingProxyType({None: 0, "left": 1, "right": 2})
FRACTURES = ("recent_fracture", "suspected_fracture")
SUSPECTED_FRACTURE = "suspected_fracture"


@dataclass(frozen=True, slots=True)
class ActiveFinding:
    """A finding in force today, and where it came from (the request, vitals, a condition...)."""

    code: str
    region: str | None
    side: str | None
    origin: str  # finding | vitals | patient | condition | wells | implied | red_flag | ottawa
    detail: str
    days_ago: float | None = None
    closed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "region": self.region, "side": self.side, "origin": self.origin,
                               "detail": self.detail}
        if self.days_ago is not None:
            out["days_ago"] = self.days_ago
        return out


@dataclass(frozen=True, slots=True)
class Restriction:
    """What must not be done (max_pressure ``none``) or not harder than a cap, where, and why.

    ``techniques`` are capped at ``max_pressure``; ``exercise`` forbids any home exercise that moves
    or loads a covered region; ``therapies`` are not applied at a covered region (planning policy
    §1.6). palpate.core.safety is the one rule that checks an item against this.
    """

    region: str  # a region, a group or whole_body
    side: str | None
    techniques: tuple[str, ...]
    max_pressure: str  # none | light | moderate
    severity: str  # absolute | relative | referral
    because: tuple[str, ...]
    sources: tuple[str, ...]
    detail: tuple[str, ...]
    exercise: bool = False
    therapies: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "side": self.side, "techniques": list(self.techniques),
                "max_pressure": self.max_pressure, "exercise": self.exercise, "therapies": list(self.therapies),
                "severity": self.severity, "because": list(self.because), "sources": list(self.sources),
                "detail": list(self.detail)}


@dataclass(frozen=True, slots=True)
class Referral:
    reason: str
    urgency: str  # emergency | same_day | routine
    detail: str
    because: tuple[str, ...]
    sources: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "urgency": self.urgency, "detail": self.detail,
                "because": list(self.because), "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class WellsResult:
    version: str
    side: str | None
    score: int
    category: str
    blocks: bool
    items: tuple[str, ...]
    leg_signs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "score": self.score, "category": self.category, "side": self.side,
                "items": list(self.items), "blocks_lower_limb": self.blocks, "leg_signs": list(self.leg_signs)}


@dataclass(frozen=True, slots=True)
class OttawaResult:
    rule: str
    side: str | None
    positive: bool

    def to_json(self) -> dict[str, Any]:
        return {"positive": self.positive, "side": self.side}


@dataclass(frozen=True, slots=True)
class FlagResult:
    code: str
    label: str
    category: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "category": self.category}


@dataclass(frozen=True, slots=True)
class ScreenResult:
    hold: bool
    hold_because: tuple[str, ...]
    restrictions: tuple[Restriction, ...]
    referrals: tuple[Referral, ...]
    wells: WellsResult | None
    ottawa: tuple[OttawaResult, ...]
    red_flags: tuple[FlagResult, ...]
    findings: tuple[ActiveFinding, ...]
    positioning: tuple[str, ...]
    notes: tuple[str, ...]
    # cell -> technique -> (tightest max_pressure, indices of the restrictions that set it)
    caps: Mapping[Cell, Mapping[str, tuple[str, tuple[int, ...]]]]
    # Findings recorded as cleared (vocabulary.md): shown, never acted on.
    cleared: tuple[ActiveFinding, ...] = ()

    def cap(self, technique: str, region: str, side: str | None) -> tuple[str, tuple[int, ...]]:
        """The tightest pressure allowed for a technique at a cell (``deep`` when unrestricted)."""
        return self.caps.get((region, side), {}).get(technique, NO_CAP)

    def blocked(self, region: str, side: str | None, techniques: Iterable[str]) -> bool:
        """True when every listed technique is forbidden at the cell."""
        at = self.caps.get((region, side), {})
        return all(at.get(t, NO_CAP)[0] == "none" for t in techniques)

    def has(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def found_at(self, codes: Iterable[str], region: str, side: str | None) -> tuple[ActiveFinding, ...]:
        """The active findings of these codes whose place covers a cell (its region, group or body)."""
        wanted = set(codes)
        index = knowledge_base().regions
        return tuple(f for f in self.findings if f.code in wanted and f.region is not None
                     and covers(index, f.region, f.side, region, side))

    def screens_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.wells is not None:
            out["wells"] = self.wells.to_json()
        for result in self.ottawa:
            out[result.rule] = result.to_json()
        out["red_flags"] = {
            "cauda_equina": any(r.reason == "cauda_equina" for r in self.referrals),
            "flags": [f.to_json() for f in self.red_flags],
        }
        return out


def screen(request: PlanRequest, policy: Policy | None = None) -> ScreenResult:
    """Screen one patient: restrictions, referrals and whether today's session must be held."""
    base = policy if policy is not None else default_policy()
    return _Screener(knowledge_base(), apply_overrides(base, dict(request.policy_overrides)), request).run()


RawKey = tuple[str, str | None, tuple[str, ...], str, str, bool, tuple[str, ...]]


class _Screener:
    def __init__(self, kb: ClinicalKB, policy: Policy, request: PlanRequest) -> None:
        self.kb = kb
        self.index = kb.regions
        self.policy = policy
        self.request = request
        self.hold_because: set[str] = set()
        # (region, side, techniques, max_pressure, severity, exercise, therapies) -> (because, sources, detail)
        self.raw: dict[RawKey, tuple[set[str], set[str], set[str]]] = {}
        self.referrals: dict[str, list[tuple[ReferralSpec, str, tuple[str, ...], tuple[str, ...]]]] = {}
        self.positioning: set[str] = set()
        self.notes: list[str] = []

    def run(self) -> ScreenResult:
        base, cleared = self.active_findings()
        flags, suspected = self.red_flags(list(self.ordered(base)))
        ottawa, screened = self.ottawa()
        findings = self.ordered([*base, *_merge_places([*suspected, *screened])])
        for finding in findings:
            self.apply_rule(finding)
        self.dvt_window(findings)
        wells = self.wells()
        self.explain(findings, cleared)
        restrictions = self.restrictions()
        return ScreenResult(
            hold=bool(self.hold_because), hold_because=tuple(sorted(self.hold_because)),
            restrictions=restrictions, referrals=self.merged_referrals(), wells=wells, ottawa=ottawa,
            red_flags=flags, findings=findings, positioning=tuple(sorted(self.positioning)),
            notes=tuple(dict.fromkeys(self.notes)), caps=self.caps(restrictions), cleared=self.ordered(cleared))

    # -- evidence into findings --------------------------------------------------------------------

    def ordered(self, found: Iterable[ActiveFinding]) -> tuple[ActiveFinding, ...]:
        # Every field takes part, so two reports that differ only in age or closure keep one order.
        return tuple(sorted(found, key=lambda f: (f.code, self.index.order.get(f.region or WHOLE_BODY, 0),
                                                  SIDE_ORDER[f.side], f.origin, f.detail, f.days_ago is None,
                                                  f.days_ago or 0, f.closed is None, bool(f.closed))))

    def active_findings(self) -> tuple[list[ActiveFinding], list[ActiveFinding]]:
        """The findings in force, and those recorded as cleared (which restrict nothing)."""
        request, policy = self.request, self.policy
        found: list[ActiveFinding] = []
        cleared: list[ActiveFinding] = []
        for f in request.findings:
            finding = ActiveFinding(f.code, f.region, f.side, "finding", "reported finding", f.days_ago, f.closed)
            (cleared if f.cleared else found).append(finding)
        vitals = request.vitals
        if vitals.temperature_c is not None and vitals.temperature_c >= policy.fever_c:
            found.append(ActiveFinding("fever", None, None, "vitals",
                                       f"temperature {vitals.temperature_c:g} °C at or above {policy.fever_c:g} °C"))
        high_systolic = vitals.bp_systolic is not None and vitals.bp_systolic >= policy.bp_systolic
        high_diastolic = vitals.bp_diastolic is not None and vitals.bp_diastolic >= policy.bp_diastolic
        if high_systolic or high_diastolic:
            found.append(ActiveFinding("uncontrolled_hypertension", None, None, "vitals",
                                       f"blood pressure {_bp(vitals.bp_systolic)}/{_bp(vitals.bp_diastolic)} mmHg at or "
                                       f"above {policy.bp_systolic}/{policy.bp_diastolic} mmHg"))
        patient = request.patient
        if patient.can_give_feedback is False:
            found.append(ActiveFinding("cannot_give_feedback", None, None, "patient", "cannot give feedback"))
        if patient.pregnancy_weeks is not None and patient.pregnancy_weeks > 0:
            found.append(ActiveFinding("pregnancy", None, None, "patient", f"pregnant, {patient.pregnancy_weeks:g} weeks"))
        if patient.high_risk_pregnancy:
            found.append(ActiveFinding("high_risk_pregnancy", None, None, "patient", "high-risk pregnancy"))
        for condition in request.conditions:
            if condition.code == "post_operative":
                days = condition.surgery_days_ago if condition.surgery_days_ago is not None else condition.onset_days
                found.append(ActiveFinding("surgical_incision", condition.region, condition.side, "condition",
                                           "incision of the post-operative condition", days,
                                           condition.incision_closed))
        if request.wells is not None and "active_cancer" in request.wells.items:
            found.append(ActiveFinding("active_cancer", None, None, "wells", "active cancer (Wells item)"))
        present = {f.code for f in found}
        for finding in list(found):
            for implied in self.kb.rules[finding.code].implies:
                if implied not in present:
                    present.add(implied)
                    found.append(ActiveFinding(implied, None, None, "implied", f"implied by {finding.code}"))
        return found, cleared

    def healed(self, finding: ActiveFinding) -> bool:
        """An incision is healed once closed and old enough (policy incision_healed_days); unknown is not."""
        return (finding.closed is True and finding.days_ago is not None
                and finding.days_ago >= self.policy.incision_healed_days)

    # -- rules -------------------------------------------------------------------------------------

    def apply_rule(self, finding: ActiveFinding) -> None:
        rule = self.kb.rules[finding.code]
        if rule.applies_when == "unhealed_incision" and self.healed(finding):
            return
        if rule.hold:
            self.hold_because.add(finding.code)
        detail = rule.modification if finding.origin == "finding" else f"{rule.modification} ({finding.detail})"
        self.add_effects(rule.effects, rule.severity, finding.region or WHOLE_BODY, finding.side, (finding.code,),
                         rule.sources, detail)
        if rule.referral is not None:
            self.refer(rule.referral, (finding.code,), rule.sources)
        if rule.positioning:
            self.positioning.add(rule.positioning)
        if not (rule.hold or rule.effects or rule.referral or rule.positioning):
            # A precaution that changes nothing by itself is still shown (red flags act in combination).
            self.notes.append(f"{rule.label}: {rule.modification}")

    def add_effects(self, effects: Iterable[Effect], severity: str, site: str, side: str | None,
                    because: tuple[str, ...], sources: tuple[str, ...], detail: str) -> None:
        cited = self.kb.cite(sources)
        for effect in effects:
            for target, target_side in spread(self.index, effect.spread, site, side, effect.regions):
                key = (target, target_side, effect.techniques, effect.max_pressure, effect.severity or severity,
                       effect.exercise, effect.therapies)
                slot = self.raw.setdefault(key, (set(), set(), set()))
                slot[0].update(because)
                slot[1].update(cited)
                slot[2].add(detail)

    def refer(self, spec: ReferralSpec, because: tuple[str, ...], sources: tuple[str, ...],
              detail: str | None = None) -> None:
        self.referrals.setdefault(spec.reason, []).append((spec, detail or spec.detail, because, self.kb.cite(sources)))

    def dvt_window(self, findings: tuple[ActiveFinding, ...]) -> None:
        """Planning policy §1.2: within the window after surgery or a fracture on a leg, that leg is
        light only, without friction or trigger points (a DVT risk period). Unknown age counts as
        inside the window; a cleared finding is not among the active ones."""
        window = self.kb.dvt_window
        leg = set(self.index.groups[window.limb].regions)
        for finding in findings:
            if finding.code not in window.after or finding.region is None:
                continue
            if not leg & set(self.index.members(finding.region)):
                continue
            if finding.days_ago is not None and finding.days_ago > window.days:
                continue
            side = finding.side if self.index.is_paired(finding.region) else None
            age = "age not recorded" if finding.days_ago is None else f"{finding.days_ago:g} days ago"
            detail = (f"{self.kb.rules[finding.code].label} at {_where(finding.region, finding.side)} ({age}): "
                      f"within {window.days} days, a DVT risk period for this leg")
            self.add_effects(window.effects, "relative", window.limb, side, (finding.code, "dvt_risk_window"),
                             window.sources, detail)

    def explain(self, findings: tuple[ActiveFinding, ...], cleared: Iterable[ActiveFinding]) -> None:
        """Say what no longer restricts, unless another report of the same finding still does there."""
        def still_active(code: str, region: str | None, side: str | None) -> bool:
            place = region or WHOLE_BODY
            return any(f.code == code and (f.region is None or region is None
                                           or _overlap(self.index, f.region, f.side, place, side))
                       and not (self.kb.rules[code].applies_when == "unhealed_incision" and self.healed(f))
                       for f in findings)

        for finding in findings:
            if (self.kb.rules[finding.code].applies_when == "unhealed_incision" and self.healed(finding)
                    and not still_active(finding.code, finding.region, finding.side)):
                self.notes.append(f"Healed incision at {_where(finding.region, finding.side)}: the incision itself no "
                                  "longer restricts; scar work is allowed.")
        for finding in self.ordered(cleared):
            if not still_active(finding.code, finding.region, finding.side):
                place = f" at {_where(finding.region, finding.side)}" if finding.region else ""
                self.notes.append(f"{self.kb.rules[finding.code].label}{place}: recorded as cleared, it restricts "
                                  "nothing by itself.")

    # -- red flags, Wells, Ottawa ------------------------------------------------------------------

    def red_flags(self, findings: list[ActiveFinding]) -> tuple[tuple[FlagResult, ...], list[ActiveFinding]]:
        fired: list[FlagResult] = []
        suspected: list[ActiveFinding] = []
        for flag in self.kb.red_flags:
            if not self.flag_fires(flag, findings):
                continue
            fired.append(FlagResult(flag.code, flag.label, flag.category))
            atoms = [a for a in (*flag.all_of, *flag.any_of) if self.atom(a, findings)]
            involved_codes = {a.partition("@")[0] for a in atoms if ":" not in a}
            because = tuple(sorted(involved_codes)) or (flag.code,)
            if flag.hold:
                self.hold_because.add(flag.code)
            self.add_effects(flag.effects, "referral", WHOLE_BODY, None, because, flag.sources, flag.label)
            if flag.referral is not None:
                self.refer(flag.referral, because, flag.sources)
            if flag.suspected_fracture_at is not None:
                # Dated by the events that resolve (the trauma): the fracture is as young as the
                # youngest report, and pain counts as after it up to the oldest; one undated report
                # leaves both unknown, the safer reading (adding a report never narrows either).
                dated = [f for f in findings if f.code in involved_codes and self.kb.rules[f.code].resolves]
                ages = [f.days_ago for f in dated]
                known = [a for a in ages if a is not None]
                days = min(known) if known and len(known) == len(ages) else None
                since = max(known) if known and len(known) == len(ages) else None
                for region, side in self.painful(flag.suspected_fracture_at, findings, since):
                    suspected.append(ActiveFinding(SUSPECTED_FRACTURE, region, side, "red_flag", flag.label, days))
        return tuple(fired), suspected

    def painful(self, which: str, findings: list[ActiveFinding], since: float | None) -> list[tuple[str, str | None]]:
        """The painful places a red flag makes suspected fractures (planning policy §1.4-§1.5): the
        new_pain sites and, for ``pain``, each presenting condition's region where that pain is after
        the trauma. Only a condition known to have begun before a dated trauma is left out; when
        either date is missing the region counts (safety first)."""
        places: list[tuple[str, str | None]] = [(f.region, f.side) for f in findings
                                                if f.code == "new_pain" and f.region is not None]
        if which == "pain":
            places += [(c.region, c.side) for c in self.request.conditions
                       if since is None or c.onset_days is None or c.onset_days <= since]
        return list(dict.fromkeys(places))

    def flag_fires(self, flag: RedFlag, findings: list[ActiveFinding]) -> bool:
        return (all(self.atom(a, findings) for a in flag.all_of)
                and (not flag.any_of or any(self.atom(a, findings) for a in flag.any_of))
                and not any(self.atom(a, findings) for a in flag.none_of))

    def atom(self, atom: str, findings: list[ActiveFinding]) -> bool:
        kind, _, value = atom.partition(":")
        if kind == "condition":
            return any(c.code == value for c in self.request.conditions)
        if kind == "condition_at":
            return any(covers(self.index, value, None, c.region, c.side) for c in self.request.conditions)
        if kind == "pain_at":
            return (any(covers(self.index, value, None, c.region, c.side) for c in self.request.conditions)
                    or self.atom(f"new_pain@{value}", findings))
        if kind in ("age_over", "age_under"):
            age = self.request.patient.age
            limit = self.policy.value(value)
            return age is not None and (age > limit if kind == "age_over" else age < limit)
        code, _, place = atom.partition("@")
        for finding in findings:
            if finding.code != code:
                continue
            if not place:
                return True
            here = set(self.index.members(finding.region or WHOLE_BODY))
            if here & set(self.index.members(place)):
                return True
        return False

    def wells(self) -> WellsResult | None:
        wells = self.request.wells
        if wells is None:
            return None
        spec = self.kb.wells
        score = sum(spec.items[item][wells.version] for item in wells.items)
        version = spec.versions[wells.version]
        band = next(b for b in version.bands if b.min is None or score >= b.min)
        signs = tuple(i for i in wells.items if i in spec.sign_items)
        result = WellsResult(wells.version, wells.side, score, band.category, band.blocks, wells.items, signs)
        if wells.side is None:
            self.notes.append("Wells screen without a side: both legs are treated as symptomatic.")
        because = (f"wells_{wells.version}_{band.category}",)
        if band.blocks:
            if spec.block_hold:
                self.hold_because.add(because[0])
            detail = spec.block_referral.detail.format(version=wells.version, score=score, category=band.category)
            self.add_effects(spec.block_effects, "absolute", "lower_limb", wells.side, because, version.sources,
                             detail)
            self.refer(spec.block_referral, because, version.sources, detail)
            return result
        risk = [i for i in wells.items if i in spec.leg_risk_items]
        symptoms = [i for i in wells.items if i in spec.leg_symptom_items]
        if risk and symptoms:
            # facts.md §B.1: leg symptoms after surgery or immobilisation block the leg whatever the score.
            because = ("leg_symptoms_after_immobilisation",)
            self.add_effects(spec.leg_effects, "absolute", "lower_limb", wells.side, because, spec.leg_sources,
                             spec.leg_referral.detail)
            self.refer(spec.leg_referral, because, spec.leg_sources)
        if signs:
            # Planning policy §1.1: a low or unlikely score does not exclude DVT while a leg sign is present.
            labels = ", ".join(spec.labels[i].lower() for i in signs)
            detail = f"Wells {wells.version} {band.category} with a leg sign ({labels}): DVT not excluded"
            self.add_effects(spec.sign_effects, "relative", "lower_limb", wells.side, ("wells_leg_signs",),
                             spec.sign_sources, detail)
            self.refer(spec.sign_referral, ("wells_leg_signs",), spec.sign_sources)
        return result

    def ottawa(self) -> tuple[tuple[OttawaResult, ...], list[ActiveFinding]]:
        results: list[OttawaResult] = []
        suspected: list[ActiveFinding] = []
        for answers in self.request.ottawa:
            spec = self.kb.ottawa[answers.rule]
            positive = answers.answer(spec.zone) and any(answers.answer(c) for c in spec.criteria)
            results.append(OttawaResult(answers.rule, answers.side, positive))
            if not positive:
                continue
            if answers.side is None:
                self.notes.append(f"{spec.label} without a side: both ankles and feet are treated as suspected "
                                  "fractures.")
            self.refer(spec.referral, (answers.rule,), spec.sources)
            # Planning policy §1.5: a positive rule is a suspected fracture, treated like a known one.
            sides = (answers.side,) if answers.side is not None else ("left", "right")
            suspected += [ActiveFinding(SUSPECTED_FRACTURE, region, side, "ottawa", f"{spec.label} positive")
                          for region in spec.suspected_fracture_at for side in sides]
        return tuple(results), suspected

    # -- assembling --------------------------------------------------------------------------------

    def restrictions(self) -> tuple[Restriction, ...]:
        order = self.index.order
        technique_rank = {t: i for i, t in enumerate(self.kb.techniques)}
        therapy_rank = {t: i for i, t in enumerate(self.kb.therapies)}
        out = [Restriction(region, side, tuple(sorted(techs, key=technique_rank.__getitem__)), cap, severity,
                           tuple(sorted(because)), tuple(sorted(sources)), tuple(sorted(detail)), exercise,
                           tuple(sorted(treats, key=therapy_rank.__getitem__)))
               for (region, side, techs, cap, severity, exercise, treats), (because, sources, detail) in self.raw.items()]
        # A restriction that another at the same place already contains, for the same reasons (the
        # segment of a suspected ankle fracture reaching the suspected foot), would only repeat it.
        by_place: dict[tuple[str, str | None], list[Restriction]] = {}
        for restriction in out:
            by_place.setdefault((restriction.region, restriction.side), []).append(restriction)
        out = [r for r in out if not any(other is not r and _contains(other, r) for other in by_place[(r.region, r.side)])]
        return tuple(sorted(out, key=lambda r: (order[r.region], SIDE_ORDER[r.side], RANK[r.max_pressure],
                                                SEVERITIES.index(r.severity),
                                                tuple(technique_rank[t] for t in r.techniques),
                                                not r.exercise, tuple(therapy_rank[t] for t in r.therapies),
                                                r.because)))

    def caps(self, restrictions: tuple[Restriction, ...]) -> Mapping[Cell, Mapping[str, tuple[str, tuple[int, ...]]]]:
        caps: dict[Cell, dict[str, tuple[str, tuple[int, ...]]]] = {}
        covered: dict[tuple[str, str | None], tuple[Cell, ...]] = {}
        for number, restriction in enumerate(restrictions):
            if not restriction.techniques:
                continue
            place = (restriction.region, restriction.side)
            if place not in covered:
                covered[place] = cells(self.index, *place)
            for cell in covered[place]:
                at = caps.setdefault(cell, {})
                for technique in restriction.techniques:
                    current, by = at.get(technique, NO_CAP)
                    if RANK[restriction.max_pressure] < RANK[current]:
                        at[technique] = (restriction.max_pressure, (number,))
                    elif RANK[restriction.max_pressure] == RANK[current]:
                        at[technique] = (current, (*by, number))
        return MappingProxyType({cell: MappingProxyType(at) for cell, at in caps.items()})

    def merged_referrals(self) -> tuple[Referral, ...]:
        out: list[Referral] = []
        for reason, entries in self.referrals.items():
            # One referral per reason, at the most urgent level any rule asked for.
            entries.sort(key=lambda e: (URGENCIES.index(e[0].urgency), e[1]))
            top = entries[0]
            because = sorted({b for e in entries for b in e[2]})
            sources = sorted({s for e in entries for s in e[3]})
            out.append(Referral(reason, top[0].urgency, top[1], tuple(because), tuple(sources)))
        return tuple(sorted(out, key=lambda r: (URGENCIES.index(r.urgency), r.reason)))


def _contains(outer: Restriction, inner: Restriction) -> bool:
    """Does ``outer`` forbid at least everything ``inner`` does, at the same place, for its reasons?"""
    return ((outer.region, outer.side) == (inner.region, inner.side)
            and set(inner.techniques) <= set(outer.techniques) and RANK[outer.max_pressure] <= RANK[inner.max_pressure]
            and outer.exercise >= inner.exercise and set(inner.therapies) <= set(outer.therapies)
            and set(inner.because) <= set(outer.because)
            and (outer.techniques, outer.max_pressure, outer.exercise, outer.therapies)
            != (inner.techniques, inner.max_pressure, inner.exercise, inner.therapies))


def _merge_places(found: list[ActiveFinding]) -> list[ActiveFinding]:
    """One suspected fracture per place, as young as the youngest report (unknown age is youngest)."""
    merged: dict[tuple[str, str | None], ActiveFinding] = {}
    for finding in found:
        if finding.region is None:
            continue
        key = (finding.region, finding.side)
        kept = merged.get(key)
        if kept is None or finding.days_ago is None or (kept.days_ago is not None and finding.days_ago < kept.days_ago):
            merged[key] = finding
    return list(merged.values())


def _overlap(index: Any, target: str, target_side: str | None, other: str, other_side: str | None) -> bool:
    """Do two places share a cell (a region, group or the whole body, each with its side)?"""
    return bool(set(cells(index, target, target_side)) & set(cells(index, other, other_side)))


def _bp(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _where(region: str | None, side: str | None) -> str:
    return f"{side} {region}" if side else str(region)
