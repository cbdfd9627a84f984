"""The patient's own progress in plain words, judged by the clinical core's MCID (never here).

"Your disability score went from 44 to 24: a real improvement." The judgement is
``palpate.core.measures.change`` (the scale's minimal clinically important difference and its
better direction); this module only chooses the words a patient reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from palpate.core import measures
from palpate.core.measures import Direction
from palpate.outcomes.charts import format_score
from palpate.outcomes.progress import ScaleProgress, episode_progress

# What each scale is called for a patient ("your ... score"); the core's names are clinical.
PATIENT_NAMES = {
    "nprs": "pain score",
    "odi": "back disability score",
    "ndi": "neck disability score",
    "quickdash": "arm, shoulder and hand score",
    "lefs": "leg function score",
    "psfs": "activity score",
    "bctq:symptom_severity": "hand symptom score",
    "bctq:functional_status": "hand function score",
}

VERDICTS = {
    Direction.IMPROVED: "a real improvement",
    Direction.WORSE: "worse by more than a small change; please tell your therapist",
    Direction.NO_IMPORTANT_CHANGE: "about the same (a change this small can come and go from day to day)",
}


@dataclass(frozen=True)
class ProgressLine:
    name: str
    sentence: str
    better: str
    points: tuple[tuple[str, str], ...]  # (date, score) oldest first
    patient_reported_latest: bool


def patient_name(sp: ScaleProgress) -> str:
    key = f"{sp.code}:{sp.scale.code}" if sp.instrument.is_multiscale else sp.code
    return PATIENT_NAMES.get(key, f"{sp.instrument.abbreviation} score")


def lines_for(episode: Any) -> list[ProgressLine]:
    out = []
    for sp in episode_progress(episode).scales:
        if not sp.points:
            continue
        name = patient_name(sp)
        first, latest = sp.points[0], sp.points[-1]
        better = "lower is better" if sp.scale.better.value == "lower" else "higher is better"
        if len(sp.points) == 1:
            sentence = (f"Your {name} was {format_score(first.score, sp.scale)} on {first.taken_on:%d %B %Y}. "
                        "We can tell you how it changes after the next one.")
        else:
            judged = measures.change(sp.code, first.score, latest.score,
                                     sp.scale.code if sp.instrument.is_multiscale else None)
            sentence = (f"Your {name} went from {format_score(first.score, sp.scale)} to {format_score(latest.score, sp.scale)}: "
                        f"{VERDICTS[judged.direction]}.")
        out.append(ProgressLine(name[:1].upper() + name[1:], sentence, better,
                                tuple((f"{p.taken_on:%d %b %Y}", format_score(p.score, sp.scale)) for p in sp.points),
                                latest.patient_reported))
    return out
