"""Goniometric range of motion against a configurable "normal" reference set (kb/rom_norms.yaml).

Sources disagree on normal ROM (facts.md E), so every look-up names its reference set; the default
is the knowledge base's (``va``: the VA Schedule values, attribution PARTIAL). A set that lacks a
motion is an error, never a silent fall-back to another set's number.
"""

from __future__ import annotations

from palpate.core.errors import InputError
from palpate.core.measures import values
from palpate.core.measures.catalogue import rom_catalogue
from palpate.core.measures.model import RomLimit, RomNorm, RomReference

# A measured arc beyond a full turn is a typing error, not a hypermobile joint.
MAX_DEGREES = 360


def rom_references() -> tuple[RomReference, ...]:
    return tuple(rom_catalogue().references.values())


def rom_reference(reference: str | None = None) -> RomReference:
    """The named reference set, or the knowledge base's default with ``None``."""
    cat = rom_catalogue()
    code = cat.default if reference is None else reference
    found = cat.references.get(code) if isinstance(code, str) else None
    if found is None:
        raise InputError("unknown_reference", f"unknown ROM reference set {code!r}; known: "
                         + ", ".join(cat.references), "reference")
    return found


def rom_norm(joint: str, motion: str, reference: str | None = None) -> RomNorm:
    """The normal arc of ``joint`` ``motion`` (e.g. ``shoulder``, ``flexion``) in a reference set."""
    ref = rom_reference(reference)
    joints = ref.joints
    if joint not in joints:
        raise InputError("unknown_joint", f"the {ref.code} reference set has no joint {joint!r}; it has "
                         + ", ".join(joints), "joint")
    motions = [norm for norm in ref.norms if norm.joint == joint]
    for norm in motions:
        if norm.motion == motion:
            return norm
    raise InputError("unknown_motion", f"the {ref.code} reference set has no {joint} motion {motion!r}; it has "
                     + ", ".join(norm.motion for norm in motions), "motion")


def percent_of_normal(joint: str, motion: str, degrees: float, reference: str | None = None) -> float:
    """Measured degrees as a percentage of the reference set's normal arc (may exceed 100).

    A motion whose normal arc is 0 (knee extension: full extension is 0 degrees) has no percentage;
    asking for one is an ``InputError`` and the shortfall should be recorded in degrees.
    """
    norm = rom_norm(joint, motion, reference)
    measured = values.number(degrees, "degrees", "degrees (a number)")
    values.in_range(measured, 0, MAX_DEGREES, "degrees", "a measured arc")
    if norm.arc == 0:
        raise InputError("not_applicable", f"{joint} {motion} is normal at {norm.end:g} degrees; there is no arc to "
                         "take a percentage of, record the shortfall in degrees", "degrees")
    return (measured - norm.start) / norm.arc * 100


def rom_limit(joint: str, motion: str) -> RomLimit:
    """The physiological limit of a motion (kb/rom_norms.yaml; UNVERIFIED policy, see there)."""
    found = rom_catalogue().limits.get((joint, motion)) if isinstance(joint, str) and isinstance(motion, str) else None
    if found is None:
        known = sorted({j for j, _ in rom_catalogue().limits})
        if joint not in known:
            raise InputError("unknown_joint", f"no range of motion is known for joint {joint!r}; known: "
                             + ", ".join(known), "joint")
        motions = [m for j, m in rom_catalogue().limits if j == joint]
        raise InputError("unknown_motion", f"no {joint} motion {motion!r} is known; known: " + ", ".join(motions),
                         "motion")
    return found


def check_rom(joint: str, motion: str, degrees: float) -> float:
    """A measured range in degrees, refused (``out_of_range`` at ``degrees``) beyond the motion's
    physiological limit, with the limit named: shoulder flexion 350 is a typing error, not a joint."""
    limit = rom_limit(joint, motion)
    measured = values.number(degrees, "degrees", "degrees (a number)")
    values.in_range(measured, 0, MAX_DEGREES, "degrees", "a measured arc")
    if measured > limit.degrees:
        status = " (UNVERIFIED)" if limit.status.value == "unverified" else ""
        raise InputError("out_of_range", f"{joint} {motion.replace('_', ' ')} {measured:g} degrees is beyond its "
                         f"physiological limit of {limit.degrees:g} degrees{status}: check the measurement",
                         "degrees")
    return measured
