"""The main measure of an episode: the questionnaire whose change judges progress.

The progression signals (planning-policy.md §4: ready for active rehab, re-evaluation due) need
one instrument to judge. It is chosen, in this order:

1. the therapist's explicit choice for the episode (``MainMeasureChoice``), when there is one;
2. the instrument the episode's condition, then its body region, suggests (``SUGGESTED_BY_*``
   below), when it has been measured in this episode;
3. otherwise the non-NPRS instrument measured most often in this episode (ties: the one measured
   first), so a therapist who uses another questionnaire is judged on what they actually record;
4. otherwise the suggestion itself, so "repeat the main measure" prompts name something sensible.

NPRS is never the main measure: it is the other half of the bridge rule (NPRS <= 3 *and* the main
measure improved), so it cannot also be the measure that must improve.

The suggestions follow the usual region-specific choices (facts.md, outcome measures): ODI for
the low back, NDI for the neck, QuickDASH for the upper limb, LEFS for the lower limb, the BCTQ
symptom scale for carpal tunnel syndrome, and the patient-specific PSFS where no region-specific
questionnaire fits (chest, abdomen, upper back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from palpate.core import measures
from palpate.core.errors import InputError

# A condition names the instrument outright where one was built for it.
SUGGESTED_BY_CONDITION: dict[str, tuple[str, str | None]] = {
    "low_back_pain": ("odi", None),
    "neck_pain": ("ndi", None),
    "carpal_tunnel_syndrome": ("bctq", "symptom_severity"),
}

UPPER_LIMB = ("shoulder", "upper_arm", "elbow", "forearm", "wrist", "hand")
LOWER_LIMB = ("hip", "gluteal", "thigh", "knee", "calf", "ankle", "foot")

SUGGESTED_BY_REGION: dict[str, tuple[str, str | None]] = {
    "lower_back": ("odi", None),
    # Pelvic and sacroiliac pain is usually followed with the ODI.
    "pelvis": ("odi", None),
    "neck": ("ndi", None),
    # Cervicogenic headache: the NDI has a headache item.
    "head": ("ndi", None),
    **{region: ("quickdash", None) for region in UPPER_LIMB},
    **{region: ("lefs", None) for region in LOWER_LIMB},
}

FALLBACK: tuple[str, str | None] = ("psfs", None)

# Why each kind of choice was made, for the screen (the therapist must see why).
WHY_CHOSEN = "chosen for this episode"
WHY_SUGGESTED = "suggested for this episode's condition and region"
WHY_MOST_MEASURED = "the questionnaire measured most often in this episode"


@dataclass(frozen=True)
class MainMeasure:
    instrument: str
    scale: str | None
    why: str

    @property
    def key(self) -> str:
        """``odi`` or ``bctq:symptom_severity``: the value the chooser form posts."""
        return f"{self.instrument}:{self.scale}" if self.scale else self.instrument

    @property
    def label(self) -> str:
        return scale_label(self.instrument, self.scale)


def suggested(condition: str, body_region: str) -> tuple[str, str | None]:
    """The default main measure for an episode's condition and body region."""
    return SUGGESTED_BY_CONDITION.get(condition) or SUGGESTED_BY_REGION.get(body_region) or FALLBACK


def choose(condition: str, body_region: str, measured: Iterable[str],
           chosen: tuple[str, str] | None = None) -> MainMeasure:
    """Resolve the main measure. ``measured``: instrument codes of the episode's valid measurements,
    oldest first (repeats count); ``chosen``: the stored (instrument, scale) choice, if any."""
    if chosen is not None:
        code, scale = chosen
        return MainMeasure(code, scale or None, WHY_CHOSEN)
    default_code, default_scale = suggested(condition, body_region)
    counts = Counter(code for code in measured if code != "nprs")
    if counts and default_code not in counts:
        most = max(counts.values())
        code = next(code for code in counts if counts[code] == most)  # Counter keeps first-seen order
        return MainMeasure(code, default_scale_of(code), WHY_MOST_MEASURED)
    return MainMeasure(default_code, default_scale, WHY_SUGGESTED)


def default_scale_of(code: str) -> str | None:
    """A multi-scale instrument is judged on its first scale (BCTQ: symptom severity)."""
    inst = measures.instrument(code)
    return inst.scales[0].code if inst.is_multiscale else None


def choices() -> list[tuple[str, str]]:
    """Every instrument (and BCTQ scale) that can be an episode's main measure, for a select."""
    options = []
    for inst in measures.instruments():
        if inst.code == "nprs":
            continue
        if inst.is_multiscale:
            options += [(f"{inst.code}:{scale.code}", f"{inst.abbreviation} {scale.name.lower()}")
                        for scale in inst.scales]
        else:
            options.append((inst.code, f"{inst.abbreviation} ({inst.name})"))
    return options


def parse_key(key: str) -> tuple[str, str | None]:
    """``bctq:functional_status`` -> (``bctq``, ``functional_status``); checked against the core."""
    code, _, scale = key.partition(":")
    if key not in dict(choices()):
        raise InputError("unknown_instrument", f"{key!r} cannot be a main measure", "main_measure")
    return code, scale or None


def scale_label(code: str, scale: str | None) -> str:
    inst = measures.instrument(code)
    if not inst.is_multiscale:
        return inst.abbreviation
    return f"{inst.abbreviation} {inst.scale(scale or inst.scales[0].code).name.lower()}"
