"""Timed-code units for one date of service: the CMS 8-minute rule and the per-code rule.

Sources (facts.md F.2): CMS Medicare Claims Processing Manual, Pub. 100-04, ch.5 §20.2, and the
FCSO unit table. Every result explains itself: each billed unit names the minutes that earned it,
and each unbilled remainder says why it earned nothing, so a biller can defend the claim in an audit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from palpate.core.billing.catalogue import Catalogue, Rule, catalogue
from palpate.core.errors import InputError


@dataclass(frozen=True)
class Service:
    """One service as documented: a code and its direct one-on-one minutes."""

    code: str
    minutes: int


@dataclass(frozen=True)
class BilledLine:
    """The units of one code on this date of service, and why."""

    code: str
    descriptor: str
    timed: bool
    minutes: int  # the sum over every entry of this code
    entries: tuple[int, ...]  # minutes per entry, in the order given
    units: int
    full_units: int  # whole 15-minute blocks (timed codes)
    leftover_minutes: int  # minutes beyond the full blocks (timed codes)
    extra_unit: bool  # a unit earned by the leftover minutes
    leftover_rank: int | None  # CMS: place of this code's leftover among all leftovers, 1 = largest
    basis: tuple[str, ...]  # one sentence per billed unit: which minutes earned it
    why: str  # the whole line in one sentence

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "descriptor": self.descriptor,
            "timed": self.timed,
            "minutes": self.minutes,
            "units": self.units,
            "full_units": self.full_units,
            "leftover_minutes": self.leftover_minutes,
            "extra_unit": self.extra_unit,
            "leftover_rank": self.leftover_rank,
            "basis": list(self.basis),
            "why": self.why,
        }


@dataclass(frozen=True)
class BillResult:
    rule: Rule
    total_timed_minutes: int
    total_timed_units: int
    total_untimed_units: int
    lines: tuple[BilledLine, ...]
    explanation: tuple[str, ...]

    @property
    def units(self) -> dict[str, int]:
        """Units per code, in the order the codes were first given."""
        return {line.code: line.units for line in self.lines}

    @property
    def billed_codes(self) -> tuple[str, ...]:
        return tuple(line.code for line in self.lines if line.units > 0)


def units_for_minutes(minutes: int, cat: Catalogue | None = None) -> int:
    """The CMS/FCSO unit table as arithmetic: 0 under 8 minutes, else (minutes + 7) // 15.

    Source: Pub. 100-04 ch.5 §20.2 and FCSO's table (1 unit = 8-22 min, 2 = 23-37, ... "the pattern
    remains the same" past 2 hours); the loader checks this formula against the stored table.
    """
    cat = cat or catalogue()
    if minutes < cat.min_minutes:
        return 0
    return (minutes + cat.unit_minutes - cat.min_minutes) // cat.unit_minutes


def minutes_band(units: int, cat: Catalogue | None = None) -> str:
    """The minutes that give ``units`` by the table, for explanations ("38-52 minutes")."""
    cat = cat or catalogue()
    if units <= 0:
        return f"under {cat.min_minutes} minutes"
    low = (units - 1) * cat.unit_minutes + cat.min_minutes
    return f"{low}-{low + cat.unit_minutes - 1} minutes"


def check_service(code: object, minutes: object, index: int, cat: Catalogue | None = None) -> Service:
    """Validate one service's values (already of the right Python types) against the catalogue."""
    cat = cat or catalogue()
    if not isinstance(code, str) or cat.code(code) is None:
        raise unknown_code(code, index, cat)
    if not isinstance(minutes, int) or isinstance(minutes, bool):
        raise InputError("wrong_type", "minutes must be a whole number", f"services[{index}].minutes")
    if minutes < 0:
        raise InputError("out_of_range", f"minutes must not be negative, got {minutes}", f"services[{index}].minutes")
    if minutes > cat.max_minutes:
        raise InputError("out_of_range",
                         f"{minutes} minutes is more than {cat.max_minutes} ({cat.max_minutes // 60} hours) on one date of service",
                         f"services[{index}].minutes")
    return Service(code=code, minutes=minutes)


def unknown_code(code: object, index: int, cat: Catalogue) -> InputError:
    return InputError("unknown_code", f"unknown billing code {code!r}; Palpate knows {', '.join(cat.codes)}",
                      f"services[{index}].code")


def count_units(services: Iterable[Service], rule: Rule | str = Rule.CMS, cat: Catalogue | None = None) -> BillResult:
    """Units per code for one patient's date of service under ``rule``.

    The same code given more than once is one line with its minutes summed: CMS wants one line per
    timed code per date of service (FCSO, from 19 April 2021), and the minutes of a code are what the
    8-minute rule counts. Untimed codes bill one unit when listed, whatever their minutes, and their
    minutes never count toward timed units (AOTA; facts.md F.2 rule 7).

    Ties (equal leftover minutes) go to the code given first, so the result is deterministic.
    """
    cat = cat or catalogue()
    try:
        rule = Rule(rule)
    except ValueError:
        raise InputError("unknown_rule", f"unknown rule {rule!r}; use {' or '.join(r.value for r in Rule)}", "rule") from None
    given = [check_service(s.code, s.minutes, i, cat) for i, s in enumerate(services)]
    if not given:
        raise InputError("out_of_range", "list at least one service", "services")

    entries: dict[str, list[int]] = {}
    for service in given:
        entries.setdefault(service.code, []).append(service.minutes)
    minutes = {code: sum(values) for code, values in entries.items()}
    timed = [code for code in entries if cat.codes[code].timed]
    total_timed = sum(minutes[code] for code in timed)
    if total_timed > cat.max_minutes:
        # Timed codes are direct one-on-one time (rule 6), so their minutes cannot overlap.
        raise InputError("out_of_range",
                         f"the timed services add up to {total_timed} minutes, more than {cat.max_minutes} on one date of service",
                         "services")

    if rule is Rule.CMS:
        timed_lines, explanation = _cms(timed, minutes, entries, cat)
    else:
        timed_lines, explanation = _per_code(timed, minutes, entries, cat)

    lines = []
    untimed = [code for code in entries if not cat.codes[code].timed]
    for code in entries:
        lines.append(timed_lines[code] if code in timed_lines else _untimed_line(code, entries[code], cat))
    if untimed:
        explanation.append(f"Untimed codes ({', '.join(untimed)}) bill one unit each per date of service; "
                           "their minutes do not count toward timed units (AOTA; Pub. 100-04 ch.5 §20.2).")
    return BillResult(rule=rule, total_timed_minutes=total_timed,
                      total_timed_units=sum(timed_lines[c].units for c in timed),
                      total_untimed_units=len(untimed), lines=tuple(lines), explanation=tuple(explanation))


def _cms(timed: list[str], minutes: Mapping[str, int], entries: Mapping[str, list[int]],
         cat: Catalogue) -> tuple[dict[str, BilledLine], list[str]]:
    """Pub. 100-04 ch.5 §20.2: total timed minutes decide total units, then allocate.

    Each code first gets its full 15-minute units (rule 3: 15 minutes or more is at least one unit, 30
    at least two; rule 4: the day's minutes are not piled onto one code). The units the total still
    allows go one at a time to the largest leftover minutes (facts.md F.2 derived notes; CMS Ex3:
    7 minutes of 97140 beat the 3 leftover minutes of 97110). A service under 8 minutes alone bills
    nothing (rule 1); several short ones that together reach 8 bill one unit of the longest (rule 5).

    The allocation never runs out of leftovers: with k codes holding a leftover, their sum is at most
    14k, so the table gives at most floor((14k + 7) / 15) <= k units beyond the full ones, and no code
    needs a second leftover unit.
    """
    unit = cat.unit_minutes
    total = sum(minutes[c] for c in timed)
    total_units = units_for_minutes(total, cat)
    full = {c: minutes[c] // unit for c in timed}
    left = {c: minutes[c] % unit for c in timed}
    remaining = total_units - sum(full.values())
    # Largest leftover first; ties keep the order the codes were given (a stable, documented choice).
    ranked = sorted((c for c in timed if left[c] > 0), key=lambda c: -left[c])
    rank = {c: i + 1 for i, c in enumerate(ranked)}
    extra = set(ranked[:remaining])
    assert 0 <= remaining <= len(ranked), "the 8-minute arithmetic guarantees enough leftovers"

    explanation = [
        "Rule: CMS 8-minute rule (Medicare Claims Processing Manual, Pub. 100-04, ch.5 §20.2): "
        "the total timed minutes of the day decide the total units.",
    ]
    if timed:
        parts = " + ".join(f"{c} {minutes[c]}" for c in timed)
        explanation.append(f"Total timed minutes {total} ({parts}) give {_units(total_units)} "
                           f"({minutes_band(total_units, cat)} = {_units(total_units)}; CMS/FCSO unit table).")
        leftovers = " (" + ", ".join(f"{c} {left[c]}" for c in ranked) + ")" if ranked else ""
        if remaining:
            verb = "goes" if remaining == 1 else "go one at a time"
            share = f"the {_units(remaining, 'remaining')} {verb} to the largest leftover minutes{leftovers}."
        else:
            share = f"no unit remains for leftover minutes{leftovers}."
        explanation.append(f"Full {unit}-minute units: " + ", ".join(f"{c} {full[c]}" for c in timed)
                           + f" = {sum(full.values())}; {share}")

    lines = {}
    for c in timed:
        basis = [f"unit {k + 1}: minutes {k * unit + 1}-{(k + 1) * unit} of {c}, a full {unit} minutes"
                 for k in range(full[c])]
        if c in extra:
            start = full[c] * unit + 1
            basis.append(f"unit {full[c] + 1}: the {left[c]} leftover minutes of {c} (minutes {start}-{minutes[c]}), "
                         f"leftover no. {rank[c]} of {len(ranked)} by size, within the {_units(remaining)} the "
                         f"{total}-minute total allows beyond the full ones")
        units = full[c] + (1 if c in extra else 0)
        if left[c] == 0:
            rest = "no leftover minutes"
        elif c in extra:
            rest = f"its {left[c]} leftover minutes earned a unit (leftover rank {rank[c]} of {len(ranked)})"
        elif remaining == 0:
            rest = (f"its {left[c]} leftover minutes earned nothing: the {total}-minute total allows no unit "
                    "beyond the full ones")
        else:
            tie = any(left[other] == left[c] for other in extra)
            rest = (f"its {left[c]} leftover minutes earned nothing: the {_units(remaining, 'remaining')} went to "
                    + ("an equal leftover of a code given earlier" if tie else "larger leftovers")
                    + f" (rank {rank[c]} of {len(ranked)})")
        why = f"{c}: {_minutes_text(entries[c])} = {_units(full[c], 'full')}; {rest}; {_units(units)} in all."
        lines[c] = _timed_line(c, entries[c], units, full[c], left[c], c in extra, rank.get(c), basis, why, cat)
    return lines, explanation


def _per_code(timed: list[str], minutes: Mapping[str, int], entries: Mapping[str, list[int]],
              cat: Catalogue) -> tuple[dict[str, BilledLine], list[str]]:
    """The per-code ('substantial portion') method some non-Medicare payers use (facts.md F.2).

    Each timed code on its own: 8 minutes or more earns a unit, then one more per further 15. The exact
    payer wording was not retrieved (UNVERIFIED), which is why the rule is a payer setting.
    """
    unit, least = cat.unit_minutes, cat.min_minutes
    explanation = [
        "Rule: per-code method (some non-Medicare payers): each timed code on its own; "
        f"{least} minutes or more earns a unit, then one more per further {unit}. Payer wording UNVERIFIED; "
        "confirm with the payer.",
    ]
    lines = {}
    for c in timed:
        m = minutes[c]
        units = units_for_minutes(m, cat)
        full, left = m // unit, m % unit
        extra = left >= least
        basis = [f"unit {k + 1}: minutes {k * unit + 1}-{(k + 1) * unit} of {c}, a full {unit} minutes"
                 for k in range(full)]
        if extra:
            basis.append(f"unit {full + 1}: the {left} leftover minutes of {c} (minutes {full * unit + 1}-{m}), "
                         f"at least {least}")
        if left == 0:
            rest = "no leftover minutes"
        elif extra:
            rest = f"its {left} leftover minutes reach {least} and earn a unit"
        else:
            rest = f"its {left} leftover minutes are under {least} and earn nothing"
        why = f"{c}: {_minutes_text(entries[c])} = {_units(full, 'full')}; {rest}; {_units(units)} in all."
        lines[c] = _timed_line(c, entries[c], units, full, left, extra, None, basis, why, cat)
    if timed:
        explanation.append(f"Total timed minutes {sum(minutes[c] for c in timed)}; "
                           f"{_units(sum(line.units for line in lines.values()))} in all (the sum of each code's own units).")
    return lines, explanation


def _units(count: int, adjective: str = "") -> str:
    word = "unit" if count == 1 else "units"
    return f"{count} {adjective} {word}" if adjective else f"{count} {word}"


def _minutes_text(entries: list[int]) -> str:
    if len(entries) == 1:
        return f"{entries[0]} min"
    return f"{sum(entries)} min (entries {' + '.join(str(m) for m in entries)}, summed per code)"


def _timed_line(code: str, entries: list[int], units: int, full: int, left: int, extra: bool,
                rank: int | None, basis: list[str], why: str, cat: Catalogue) -> BilledLine:
    return BilledLine(code=code, descriptor=cat.codes[code].descriptor, timed=True, minutes=sum(entries),
                      entries=tuple(entries), units=units, full_units=full, leftover_minutes=left,
                      extra_unit=extra, leftover_rank=rank, basis=tuple(basis), why=why)


def _untimed_line(code: str, entries: list[int], cat: Catalogue) -> BilledLine:
    listed = "listed once" if len(entries) == 1 else f"listed {len(entries)} times"
    return BilledLine(code=code, descriptor=cat.codes[code].descriptor, timed=False, minutes=sum(entries),
                      entries=tuple(entries), units=1, full_units=0, leftover_minutes=0, extra_unit=False,
                      leftover_rank=None,
                      basis=(f"unit 1: {code} is untimed and was performed ({listed})",),
                      why=f"{code}: untimed, one unit per date of service when performed ({listed}); "
                          "its minutes do not count toward timed units.")
