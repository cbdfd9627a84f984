"""Choices for patient and episode forms, with plain labels for the contract vocabulary codes."""

from __future__ import annotations

# shared/contract/vocabulary.md: conditions that bring a patient in.
CONDITIONS = {
    "muscle_strain": "Muscle strain",
    "ligament_sprain": "Ligament sprain",
    "post_operative": "Post-operative recovery",
    "low_back_pain": "Low back pain",
    "neck_pain": "Neck pain",
    "tendinopathy": "Tendinopathy / tendinitis",
    "bursitis": "Bursitis",
    "carpal_tunnel_syndrome": "Carpal tunnel syndrome",
    "myofascial_pain_syndrome": "Myofascial pain / trigger points",
    "muscle_tightness": "Chronic muscle tightness",
    "joint_stiffness": "Joint stiffness",
}

# Body regions, midline first, then the paired limbs from proximal to distal.
MIDLINE_REGIONS = ["head", "neck", "upper_back", "lower_back", "pelvis", "chest", "abdomen"]
PAIRED_REGIONS = [
    "shoulder", "upper_arm", "elbow", "forearm", "wrist", "hand",
    "hip", "gluteal", "thigh", "knee", "calf", "ankle", "foot",
]


def label(code: str) -> str:
    return CONDITIONS.get(code) or code.replace("_", " ").capitalize()


def condition_choices() -> list[tuple[str, str]]:
    return list(CONDITIONS.items())


def region_choices() -> list[tuple[str, str]]:
    return [(code, label(code)) for code in MIDLINE_REGIONS + PAIRED_REGIONS]
