"""Physical therapy evaluation complexity: 97161 low, 97162 moderate, 97163 high.

Source (facts.md F.1, [C] Theraplatform on CPT 97162): four components, each at a level; **all
components must meet a level to bill that level**, so the billed level is the lowest component's.
- history: personal factors and/or comorbidities, 0 low / 1-2 moderate / 3+ high
- examination: elements examined, 1-2 low / 3 moderate / 4+ high
- clinical presentation: stable low / evolving moderate / unstable high
- clinical decision-making: low / moderate / high
The thresholds live in ``kb/billing.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from palpate.core.billing.catalogue import Catalogue, Level, catalogue
from palpate.core.errors import InputError


@dataclass(frozen=True)
class EvaluationAssessment:
    code: str
    level: Level
    components: tuple[tuple[str, Level], ...]  # (component, level), in the order above
    limited_by: tuple[str, ...]  # the components at the billed level, which hold it down
    explanation: str
    source: str

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "level": self.level.value,
            "components": {name: level.value for name, level in self.components},
            "limited_by": list(self.limited_by),
            "explanation": self.explanation,
            "source": self.source,
        }


def _count_level(count: int, at_least: Mapping[Level, int], name: str, path: str) -> Level:
    reached = [lv for lv in Level if count >= at_least[lv]]
    if not reached:
        raise InputError("out_of_range", f"{name} must be at least {at_least[Level.LOW]}, got {count}", path)
    return max(reached, key=lambda lv: lv.rank)


def assess_evaluation(history: int, examination: int, presentation: str, decision: str,
                      cat: Catalogue | None = None, path: str = "evaluation") -> EvaluationAssessment:
    """Level and code for an evaluation from its four components, with which component decided it."""
    cat = cat or catalogue()
    rules = cat.evaluation
    for name, value in (("history", history), ("examination", examination)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError("wrong_type", f"{name} must be a whole number (a count)", f"{path}.{name}")
        if value < 0:
            raise InputError("out_of_range", f"{name} must not be negative, got {value}", f"{path}.{name}")
    levels: list[tuple[str, Level]] = [
        ("history", _count_level(history, rules.history_at_least, "history (personal factors and comorbidities)",
                                 f"{path}.history")),
        ("examination", _count_level(examination, rules.examination_at_least, "examination (elements examined)",
                                     f"{path}.examination")),
    ]
    for name, answer, table in (("presentation", presentation, rules.presentation), ("decision", decision, rules.decision)):
        if not isinstance(answer, str):
            raise InputError("wrong_type", f"{name} must be one of {', '.join(table)}", f"{path}.{name}")
        if answer not in table:
            raise InputError("unknown_code", f"unknown {name} {answer!r}; use {', '.join(table)}", f"{path}.{name}")
        levels.append((name, table[answer]))
    level = min((lv for _, lv in levels), key=lambda lv: lv.rank)
    limited_by = tuple(name for name, lv in levels if lv is level)
    code = rules.codes[level]
    parts = ", ".join(f"{name} {lv.value}" for name, lv in levels)
    explanation = (f"{parts}: all four components must meet a level to bill it, so the lowest ({level.value}, "
                   f"from {', '.join(limited_by)}) decides: {code}.")
    return EvaluationAssessment(code=code, level=level, components=tuple(levels), limited_by=limited_by,
                                explanation=explanation, source=rules.evidence.source.citation)


def evaluation_complexity(history: int, examination: int, presentation: str, decision: str) -> str:
    """The evaluation code (97161/97162/97163) the four components support."""
    return assess_evaluation(history, examination, presentation, decision).code


def evaluation_codes(cat: Catalogue | None = None) -> tuple[str, ...]:
    cat = cat or catalogue()
    return tuple(cat.evaluation.codes[lv] for lv in Level)
