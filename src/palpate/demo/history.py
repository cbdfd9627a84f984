"""Demo clinical history: evaluations, plans of care, visit notes and outcome measures.

For the first patients of each demo clinic this writes what a therapist would have documented over
the last few weeks: a signed initial evaluation, a signed plan of care started from the engine's
suggestions, signed visit notes twice a week and outcome measures at baseline and at the latest
visit. The rest of the clinic's patients keep only their episode, so the whole workflow can still be
walked from the start on them.

Every record goes through the same forms or service functions as the web pages: the evaluation
and plan forms check what a person would have typed, and visit notes are given to the visit
services as a ``NoteInput`` (the one shape the note form produces too); the services screen with
the clinical core, compute the billing, audit and sign. Nothing is written to a model directly,
so the demo can never hold a record the app itself would refuse. A refusal raises
``DemoHistoryError`` naming the patient and the message: fix the demo data, never the validation.

Decisions:
- The history sits in the recent past (the last visit one to four days ago), not at the episode's
  opening date: an episode opened months ago stands for a patient who waited for a course of care
  after the referral. Dates never precede the onset or the episode's opening, never fall on a
  Sunday and never reach today, except the one draft note harbor-pt is writing today.
- Who gets which course (ready for active rehab, re-evaluation due, a local contraindication, an
  open referral...) is fixed per clinic in ``COURSES``; patients are taken in creation order, and a
  patient whose episode is too recent for the course is skipped (it keeps a clean chart).
- A clinic that already has any evaluation gets no history: the demo never mixes with what people
  typed, and a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic
from palpate.core import measures
from palpate.core.measures import Instrument, Scale
from palpate.evaluations import services as evaluation_services
from palpate.evaluations.forms import EvaluationEditor
from palpate.evaluations.models import Evaluation
from palpate.lib.vocabulary import label, paired_regions
from palpate.outcomes import main_measure
from palpate.outcomes.forms import MeasurementForm
from palpate.outcomes.services import do_record_measurement
from palpate.patients.models import Episode, Patient
from palpate.plans import services as plan_services
from palpate.plans.forms import PlanEditor
from palpate.plans.models import PlanOfCare
from palpate.visits import services as visit_services
from palpate.visits.models import Visit
from palpate.visits.note import Complementary, NoteInput, Treatment

SEED = "palpate-demo-history-1"
PLAN_VISITS_PER_WEEK = 2
PLAN_WEEKS = 6
SUNDAY = 6


class DemoHistoryError(RuntimeError):
    """A form or service refused the demo data: the data is wrong, not the validation."""


# --- the courses of care --------------------------------------------------------------------------


@dataclass(frozen=True)
class Course:
    """How one patient's care went: visits, pain and function from evaluation to the latest visit.

    ``disability`` is the share of the main questionnaire's worst score (0 = no limitation, 1 = the
    worst), at the evaluation and at the latest visit; answers are spread over the items from it
    and the core scores them. A drop of 0.30 clears every instrument's MCID; 0.06 clears none.
    """

    kind: str  # ready | reevaluate | improving | referral | contraindication | draft | early
    visits: int
    last_visit_days_ago: int
    nprs: tuple[int, int]
    disability: tuple[float, float]
    finding: OtherFinding | None = None
    draft_today: bool = False


@dataclass(frozen=True)
class OtherFinding:
    """A local finding at another region than the episode's, found at the evaluation."""

    code: str
    region: str
    side: str  # "same": the episode's side; "left"/"right"; "" for a midline region
    history: str  # what the evaluation's history says ({side} filled in)
    note: str  # how a visit note names it


COURSES: dict[str, list[Course]] = {
    "harbor": [
        Course("ready", 6, 2, (6, 2), (0.44, 0.12)),
        Course("reevaluate", 6, 1, (5, 4), (0.36, 0.32)),
        Course("improving", 4, 3, (7, 4), (0.52, 0.20)),
        Course("referral", 2, 2, (6, 5), (0.40, 0.36), finding=OtherFinding(
            "new_pain", "upper_back", "",
            "Also reports new pain between the shoulder blades over the last two weeks, with no obvious cause.",
            "the new pain between the shoulder blades")),
        Course("draft", 3, 3, (6, 4), (0.56, 0.40), draft_today=True),
        Course("improving", 5, 4, (6, 4), (0.48, 0.16)),
        Course("contraindication", 4, 1, (5, 4), (0.40, 0.26), finding=OtherFinding(
            "open_wound", "forearm", "same",
            "Skin tear on the {side} forearm from knocking it on a cupboard last week, dressed by the practice nurse.",
            "the skin tear on the {side} forearm")),
        Course("early", 2, 1, (5, 4), (0.38, 0.33)),
    ],
    "summit": [
        Course("reevaluate", 6, 2, (6, 5), (0.40, 0.36)),
        Course("ready", 6, 1, (6, 2), (0.42, 0.10)),
        Course("improving", 5, 3, (7, 4), (0.50, 0.18)),
        Course("improving", 4, 2, (5, 4), (0.50, 0.18)),
        Course("contraindication", 4, 4, (5, 4), (0.46, 0.26), finding=OtherFinding(
            "varicose_veins", "calf", "left", "Long-standing varicose veins on the left calf.",
            "the varicose veins on the left calf")),
        Course("referral", 2, 1, (6, 5), (0.42, 0.38), finding=OtherFinding(
            "new_pain", "shoulder", "same",
            "Also reports new {side} shoulder pain over the last two weeks, with no injury or obvious cause.",
            "the new {side} shoulder pain")),
        Course("early", 3, 2, (5, 4), (0.40, 0.34)),
        Course("improving", 4, 1, (6, 4), (0.46, 0.20)),
    ],
}


# Minutes of each complementary therapy delivered at a visit (the others in the plan are options
# the therapist did not use that day, so their rows are removed from the note).
DELIVERED_MINUTES = {"therapeutic_exercise": 10, "neuromuscular_reeducation": 10, "joint_mobilisation": 8,
                     "cold": 10, "heat": 10}


# --- what each presentation sounds like ------------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """The words and examination findings of one presentation ({side}, {where}, {weeks} filled in)."""

    complaint: str
    history: str
    goals: str
    activity: str  # what the patient finds hard, in running text
    short_goal: str
    long_goal: str
    quality: str  # pain map quality
    palpation: tuple[str, str, int]  # region ("" = the episode's), tone, trigger points
    palpation_notes: str
    psfs: tuple[str, str, str]
    posture: tuple[str, ...] = ()
    posture_notes: str = ""
    # (joint, motion, degrees at the evaluation, degrees at the latest visit), on the episode's side
    rom: tuple[tuple[str, str, int, int], ...] = ()


RED_FLAGS_CLEAR = "No bladder or bowel change, no saddle numbness, no night pain or weight loss."

STORIES: dict[tuple[str, str], Story] = {
    ("low_back_pain", ""): Story(
        complaint="Low back pain, worse with sitting and bending forward.",
        history=("Gradual onset about {weeks} weeks ago, no injury recalled. Central and right-sided lumbar ache, "
                 "no pain below the knee, no pins and needles. Worse after 30 minutes of sitting and with bending; "
                 "eased by walking and a hot shower. " + RED_FLAGS_CLEAR + " Desk job; walks the dog daily."),
        goals="Sit through a working day; get back to gardening.",
        activity="sitting at work",
        short_goal="Sit for 60 minutes at work with pain 3/10 or less.",
        long_goal="Return to gardening and lifting 10 kg from the floor without increased pain (ODI below 20%).",
        quality="aching",
        palpation=("", "increased", 1),
        palpation_notes="Lumbar paraspinals guarded and tender L3-L5, right more than left; right quadratus lumborum tight.",
        psfs=("Sitting at work for an hour", "Gardening", "Putting on socks"),
        posture=("increased_lordosis", "anterior_pelvic_tilt"),
        posture_notes="Stands in an increased lumbar lordosis; moves stiffly into flexion.",
    ),
    ("muscle_strain", "lower_back"): Story(
        complaint="Low back pain since lifting a heavy box.",
        history=("Felt a sharp pull across the lower back lifting a box about {weeks} weeks ago and could not "
                 "straighten for a day. Now an ache with catches on bending and rising from a chair. No leg "
                 "symptoms. " + RED_FLAGS_CLEAR + " Trained at the gym three times a week before the injury."),
        goals="Back to the gym and lifting without fear of another strain.",
        activity="bending and lifting",
        short_goal="Rise from a chair and bend to the sink with pain 3/10 or less.",
        long_goal="Return to the gym, lifting a light bar with good form and no increase in pain.",
        quality="sharp",
        palpation=("", "spasm", 0),
        palpation_notes="Protective spasm of the lumbar erector spinae; focal tenderness at the left L4 level.",
        psfs=("Bending to the sink", "Lifting a laundry basket", "Training at the gym"),
        posture=("flattened_lordosis",),
        posture_notes="Guarded posture with a flattened lumbar lordosis.",
    ),
    ("muscle_strain", ""): Story(
        complaint="Pain at the back of the {where} since sprinting.",
        history=("Felt a sudden pull in the back of the {where} sprinting for a bus about {weeks} weeks ago. "
                 "Bruising settled; still painful striding out and bending forward with straight legs. No "
                 "back pain, no pins and needles."),
        goals="Run again, and play football with friends.",
        activity="striding out and bending forward",
        short_goal="Walk briskly for 20 minutes with pain 2/10 or less.",
        long_goal="Return to running and five-a-side football without pain (LEFS above 70).",
        quality="aching",
        palpation=("", "increased", 0),
        palpation_notes="Tender thickening in the mid-belly of the hamstrings; tone increased.",
        psfs=("Running for a bus", "Bending to tie shoelaces", "Playing football"),
        rom=(("hip", "flexion", 95, 115),),
    ),
    ("neck_pain", ""): Story(
        complaint="Neck pain and stiffness, worse at the computer, with headaches late in the day.",
        history=("Neck pain for about {weeks} weeks, built up during long days at the computer. Stiff turning to "
                 "reverse the car; headaches at the base of the skull most afternoons. No arm pain, numbness or "
                 "weakness; no dizziness or visual change."),
        goals="Work a full day at the computer without a headache; check blind spots comfortably when driving.",
        activity="computer work",
        short_goal="Sit at the computer for 2 hours with pain 3/10 or less.",
        long_goal="Full working days and driving without neck pain limiting them (NDI below 20%).",
        quality="stiff",
        palpation=("", "increased", 2),
        palpation_notes="Upper trapezius and suboccipitals tight and tender; levator scapulae trigger points reproduce the headache.",
        psfs=("Working at the computer", "Reversing the car", "Reading in bed"),
        posture=("forward_head", "rounded_shoulders"),
        posture_notes="Forward head posture at rest; protracted shoulders.",
    ),
    ("carpal_tunnel_syndrome", ""): Story(
        complaint="Numbness and tingling in the thumb, index and middle fingers of the {side} hand, waking at night.",
        history=("Tingling in the {side} hand for about {weeks} weeks, worse at night and when typing or holding a "
                 "phone; shakes the hand out to relieve it. Drops small objects now and then. No neck pain; no "
                 "weakness of the arm."),
        goals="Sleep through the night; write and hold a book without numbness.",
        activity="sleeping through the night and writing",
        short_goal="Sleep through the night with no more than one waking from tingling.",
        long_goal="Write, type and handle small objects without numbness (BCTQ symptom severity below 2).",
        quality="tingling",
        palpation=("forearm", "increased", 0),
        palpation_notes="Forearm flexors tight; tender over the carpal tunnel; Tinel's and Phalen's tests positive.",
        psfs=("Writing a letter", "Holding a phone", "Sleeping through the night"),
        rom=(("wrist", "extension", 60, 68), ("wrist", "flexion", 64, 74)),
    ),
    ("myofascial_pain_syndrome", "neck"): Story(
        complaint="Tight, aching upper shoulders and neck with tension headaches.",
        history=("Aching across the upper trapezius for about {weeks} weeks, with tension headaches two or three "
                 "times a week; worse with stress and long phone calls. No arm symptoms, no dizziness, no visual "
                 "disturbance."),
        goals="Fewer headaches; carry the shopping without the shoulders aching.",
        activity="long phone calls and carrying bags",
        short_goal="Reduce tension headaches to one a week or fewer.",
        long_goal="Work and sleep without neck and shoulder pain limiting them (NDI below 20%).",
        quality="aching",
        palpation=("", "increased", 3),
        palpation_notes="Taut bands with active trigger points in both upper trapezius and levator scapulae; pressure reproduces the headache.",
        psfs=("Working at the computer", "Carrying shopping bags", "Sleeping through the night"),
        posture=("forward_head", "elevated_shoulder"),
        posture_notes="Forward head; shoulders held elevated.",
    ),
    ("myofascial_pain_syndrome", ""): Story(
        complaint="Aching between the shoulder blades, worse by the end of the working day.",
        history=("Ache between the shoulder blades for about {weeks} weeks, building through long days at a laptop. "
                 "Points to tender knots; pressure there reproduces the pain. No chest pain, breathlessness or night "
                 "pain; no trauma."),
        goals="Get through a working day without the ache; sleep on either side.",
        activity="long days at the laptop",
        short_goal="Work at the laptop for 2 hours with pain 3/10 or less.",
        long_goal="Full working days and sleeping on either side without the ache (PSFS average 7 or more).",
        quality="aching",
        palpation=("", "increased", 3),
        palpation_notes="Active trigger points in the rhomboids and middle trapezius reproduce the familiar pain.",
        psfs=("Working at the laptop all morning", "Carrying a shoulder bag", "Sleeping on my side"),
        posture=("rounded_shoulders", "increased_kyphosis"),
        posture_notes="Slumped sitting posture with rounded shoulders.",
    ),
    ("tendinopathy", "elbow"): Story(
        complaint="Pain at the outside of the {side} elbow when gripping and lifting.",
        history=("Pain at the lateral {side} elbow for about {weeks} weeks, started after a weekend of DIY. Hurts to "
                 "grip a kettle, shake hands and lift a full bag. No neck pain, no numbness or tingling in the hand. "
                 "Tried a strap with little change."),
        goals="Lift a kettle and carry shopping without elbow pain; get back to DIY.",
        activity="gripping and lifting",
        short_goal="Grip and lift a full kettle with pain 3/10 or less.",
        long_goal="Return to DIY and carrying shopping without elbow pain (QuickDASH below 20).",
        quality="aching",
        palpation=("forearm", "increased", 1),
        palpation_notes="Tender at the common extensor origin; wrist extensors tight, trigger point in extensor carpi radialis brevis.",
        psfs=("Lifting a full kettle", "Carrying shopping", "Using a screwdriver"),
        rom=(("wrist", "extension", 56, 66), ("wrist", "flexion", 70, 78)),
    ),
    ("tendinopathy", "ankle"): Story(
        complaint="Pain in the {side} Achilles tendon first thing in the morning and when running.",
        history=("Achilles pain for about {weeks} weeks after increasing running mileage for a half marathon. Stiff "
                 "for the first steps in the morning, eases after a few minutes, returns after runs. No calf swelling "
                 "or redness; no recent immobilisation or long flights."),
        goals="Run 5 km without Achilles pain; walk first thing in the morning without stiffness.",
        activity="running and the first steps in the morning",
        short_goal="Walk the first steps of the morning with pain 2/10 or less.",
        long_goal="Run 5 km three times a week without pain (LEFS above 70).",
        quality="stiff",
        palpation=("calf", "increased", 1),
        palpation_notes="Tender thickening 3-4 cm above the insertion; gastrocnemius and soleus tight.",
        psfs=("Running 5 km", "Walking downstairs", "Standing on tiptoe"),
        rom=(("ankle", "dorsiflexion", 10, 16), ("ankle", "plantarflexion", 40, 44)),
    ),
    ("tendinopathy", ""): Story(
        complaint="Tendon pain at the {where} with loading.",
        history="Load-related pain at the {where} for about {weeks} weeks after a rise in activity. No swelling, no trauma.",
        goals="Return to usual activity without pain.",
        activity="loading the tendon",
        short_goal="Daily activities with pain 3/10 or less.",
        long_goal="Return to full activity without tendon pain.",
        quality="aching",
        palpation=("", "increased", 1),
        palpation_notes="Tender over the tendon; the muscle belly tight.",
        psfs=("Climbing stairs", "Carrying shopping", "Exercising"),
    ),
    ("bursitis", "shoulder"): Story(
        complaint="Pain at the side of the {side} shoulder lifting the arm overhead; cannot lie on that side.",
        history=("Pain at the lateral {side} shoulder for about {weeks} weeks after repainting a ceiling. Painful arc "
                 "lifting the arm; cannot lie on that side at night. No neck pain, no pins and needles, no trauma "
                 "or dislocation."),
        goals="Reach overhead and sleep on that side again; back to swimming.",
        activity="reaching overhead",
        short_goal="Sleep on the {side} side for half the night.",
        long_goal="Reach overhead and return to swimming without pain (QuickDASH below 15).",
        quality="aching",
        palpation=("", "increased", 1),
        palpation_notes="Tender over the subacromial area; upper trapezius and posterior cuff tight.",
        psfs=("Reaching to a high shelf", "Sleeping on that side", "Washing my hair"),
        rom=(("shoulder", "flexion", 145, 170), ("shoulder", "abduction", 110, 160)),
    ),
    ("bursitis", ""): Story(
        complaint="Pain at the outside of the {side} hip lying on that side and climbing stairs.",
        history=("Pain over the lateral {side} hip for about {weeks} weeks; worse lying on that side, climbing stairs "
                 "and after long walks. No groin pain, no back pain, no pins and needles."),
        goals="Sleep on either side; walk for 30 minutes.",
        activity="stairs and lying on that side",
        short_goal="Climb a flight of stairs with pain 3/10 or less.",
        long_goal="Walk for 30 minutes and sleep on either side without pain (LEFS above 65).",
        quality="aching",
        palpation=("", "increased", 1),
        palpation_notes="Tender over the greater trochanter; tensor fasciae latae and gluteus medius tight.",
        psfs=("Climbing stairs", "Lying on that side", "Walking 30 minutes"),
        rom=(("hip", "abduction", 32, 42),),
    ),
    ("ligament_sprain", ""): Story(
        complaint="Pain and swelling of the {side} ankle after rolling it.",
        history=("Rolled the {side} ankle stepping off a kerb about {weeks} weeks ago. Walked on it from the start; "
                 "the physician's examination and Ottawa rules were negative. Swelling settling; still stiff and "
                 "unsteady on uneven ground."),
        goals="Walk on uneven ground with confidence; back to hiking.",
        activity="walking on uneven ground",
        short_goal="Walk 20 minutes on level ground with pain 2/10 or less.",
        long_goal="Hike on uneven trails without pain or giving way (LEFS above 70).",
        quality="aching",
        palpation=("", "increased", 0),
        palpation_notes="Tender over the anterior talofibular ligament; mild residual swelling laterally.",
        psfs=("Walking on uneven ground", "Going downstairs", "Hiking"),
        rom=(("ankle", "dorsiflexion", 8, 15), ("ankle", "plantarflexion", 35, 42)),
    ),
    ("post_operative", ""): Story(
        complaint="Stiffness and swelling after a {side} total knee replacement.",
        history=("{side} total knee replacement {weeks} weeks ago; incision healed, sutures out. Stiff after sitting, "
                 "swollen by the evening; walks with one stick outdoors. No calf pain, no fever."),
        goals="Walk without a stick; manage stairs step over step.",
        activity="stairs and getting up from a chair",
        short_goal="Knee flexion to 110 degrees; walk indoors without a stick.",
        long_goal="Stairs step over step and a 30-minute walk without a stick (LEFS above 60).",
        quality="stiff",
        palpation=("thigh", "increased", 0),
        palpation_notes="Quadriceps guarded; scar mobile, no warmth.",
        psfs=("Climbing stairs", "Getting up from a low chair", "Walking to the shops"),
        rom=(("knee", "flexion", 95, 115),),
    ),
    ("muscle_tightness", ""): Story(
        complaint="Tight, aching upper back and shoulders from desk work.",
        history="Upper back tightness for about {weeks} weeks with long hours at a desk. No trauma, no arm symptoms, no night pain.",
        goals="Work at the desk without the back tightening up.",
        activity="desk work",
        short_goal="Work at the desk for 2 hours with pain 3/10 or less.",
        long_goal="Full working days without upper back tightness (PSFS average 7 or more).",
        quality="stiff",
        palpation=("", "increased", 1),
        palpation_notes="Rhomboids and thoracic paraspinals tight; tender without referral.",
        psfs=("Working at the desk", "Carrying a backpack", "Turning in bed"),
        posture=("rounded_shoulders",),
        posture_notes="Rounded shoulders in sitting.",
    ),
    ("joint_stiffness", "shoulder"): Story(
        complaint="Stiff {side} shoulder; difficulty reaching behind the back and overhead.",
        history="Gradually stiffer {side} shoulder over about {weeks} weeks. Aches at the end of range; no trauma, no pins and needles.",
        goals="Reach behind the back to dress; reach the top shelf.",
        activity="reaching behind the back",
        short_goal="Fasten a bra or tuck in a shirt with pain 3/10 or less.",
        long_goal="Reach overhead and behind the back freely (QuickDASH below 20).",
        quality="stiff",
        palpation=("", "increased", 0),
        palpation_notes="Posterior cuff and pectoralis minor tight; capsular end-feel.",
        psfs=("Reaching behind my back", "Reaching the top shelf", "Putting on a coat"),
        rom=(("shoulder", "external_rotation", 45, 65), ("shoulder", "flexion", 140, 160)),
    ),
    ("joint_stiffness", ""): Story(
        complaint="Stiff {side} knee; difficulty with stairs and kneeling.",
        history="Stiffness of the {side} knee for about {weeks} weeks; worse after sitting. No locking, no giving way, no swelling.",
        goals="Climb stairs and kneel in the garden.",
        activity="stairs and kneeling",
        short_goal="Climb a flight of stairs step over step with pain 3/10 or less.",
        long_goal="Kneel and garden for an hour without stiffness (LEFS above 65).",
        quality="stiff",
        palpation=("", "increased", 0),
        palpation_notes="Quadriceps and hamstrings tight around the knee; no effusion.",
        psfs=("Climbing stairs", "Kneeling in the garden", "Getting out of the car"),
        rom=(("knee", "flexion", 110, 128),),
    ),
}


# A second presentation of the commonest complaint, so two patients with it do not read alike.
ALTERNATIVE_STORIES: dict[tuple[str, str], Story] = {
    ("low_back_pain", ""): Story(
        complaint="Recurring low back pain with stiffness first thing in the morning.",
        history=("Third episode of low back pain in two years; this one began about {weeks} weeks ago after a long "
                 "drive. Stiff on rising for about 20 minutes and aching by the end of a day on the feet; no pain "
                 "below the knee, no pins and needles. " + RED_FLAGS_CLEAR + " Works in retail; used to swim weekly."),
        goals="Get through a shift on the shop floor; swim again.",
        activity="standing through a shift",
        short_goal="Stand through a 4-hour shift with pain 3/10 or less.",
        long_goal="Work full shifts and swim 20 lengths without increased back pain (ODI below 20%).",
        quality="stiff",
        palpation=("", "increased", 1),
        palpation_notes="Lumbar paraspinals tight on both sides; tender over L4-S1 without referral.",
        psfs=("Standing through a shift", "Swimming", "Getting out of bed"),
        posture=("flattened_lordosis",),
        posture_notes="Flattened lumbar lordosis; stiff into extension.",
    ),
}


def story_for(episode: Episode) -> Story:
    key = next((k for k in ((episode.condition, episode.body_region), (episode.condition, "")) if k in STORIES),
               ("low_back_pain", ""))
    if key in ALTERNATIVE_STORIES and episode.patient_id % 2 == 0:
        return ALTERNATIVE_STORIES[key]
    return STORIES[key]


# --- the questionnaires ------------------------------------------------------------------------------

# Which items weigh most for a typical patient (relative weights, one per item in published order).
ITEM_WEIGHTS: dict[tuple[str, str], tuple[float, ...]] = {
    ("odi", "total"): (3, 1, 3, 1, 3, 2, 2, 1, 2, 2),
    ("ndi", "total"): (3, 1, 2, 2, 2, 1, 2, 2, 2, 2),
    ("quickdash", "total"): (2, 2, 2, 3, 1, 3, 2, 2, 3, 1, 2),
    ("lefs", "total"): (2, 3, 1, 1, 1, 3, 3, 1, 3, 1, 1, 2, 2, 2, 1, 3, 3, 3, 3, 1),
    ("bctq", "symptom_severity"): (2, 2, 3, 2, 2, 3, 1, 3, 3, 2, 2),
    ("bctq", "functional_status"): (1, 2, 1, 1, 3, 2, 2, 1),
    ("psfs", "total"): (1.1, 0.9, 1.0),
}


def spread(limitation: float, weights: Sequence[float], low: int, high: int) -> list[int]:
    """Item answers (``low``..``high``, higher = more limited) averaging ``limitation`` of the range.

    Heavier items get the higher answers; the total is the rounded target, so the score lands
    where the course says.
    """
    span = high - low
    mean = sum(weights) / len(weights)
    ideal = [min(span, max(0.0, limitation * span * w / mean)) for w in weights]
    target = round(limitation * span * len(weights))
    answers = [int(x) for x in ideal]
    order = sorted(range(len(weights)), key=lambda i: (-(ideal[i] - answers[i]), -weights[i], i))
    while sum(answers) < target and any(a < span for a in answers):
        for i in order:
            if sum(answers) >= target:
                break
            if answers[i] < span:
                answers[i] += 1
    while sum(answers) > target and any(a > 0 for a in answers):
        for i in reversed(order):
            if sum(answers) <= target:
                break
            if answers[i] > 0:
                answers[i] -= 1
    return [low + a for a in answers]


def scale_answers(scale: Scale, limitation: float, weights: Sequence[float]) -> list[int]:
    low, high = scale.items[0].min_answer, scale.items[0].max_answer
    limited = spread(limitation, weights, low, high)
    if scale.better.value == "higher":  # LEFS, PSFS: a high answer is a good one
        return [high + low - a for a in limited]
    return limited


def questionnaire_data(instrument: Instrument, limitation: float, story: Story) -> dict[str, Any]:
    """The outcome form's fields for one questionnaire, as a therapist would tick them."""
    data: dict[str, Any] = {}
    if instrument.code == "psfs":
        scale = instrument.scales[0]
        for index, (name, rating) in enumerate(
                zip(story.psfs, scale_answers(scale, limitation, ITEM_WEIGHTS[("psfs", "total")]), strict=True),
                start=1):
            data[f"activity_{index}"] = name
            data[f"rating_{index}"] = rating
        return data
    for scale in instrument.scales:
        answers = scale_answers(scale, limitation, ITEM_WEIGHTS[(instrument.code, scale.code)])
        for item, answer in zip(scale.items, answers, strict=True):
            name = f"{scale.code}_{item.number}" if instrument.is_multiscale else f"item_{item.number}"
            data[name] = answer
    return data


# --- form data ---------------------------------------------------------------------------------------


def form_data(fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` as a form reads typed values (lists for checklists, "on" for a ticked box)."""
    data: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None or value is False:
            continue
        if isinstance(value, (list, tuple)):
            data[name] = [str(v) for v in value]
        elif value is True:
            data[name] = "on"
        elif isinstance(value, dt.date):
            data[name] = value.isoformat()
        else:
            data[name] = str(value)
    return data


def formset_fields(prefix: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": 0}
    for index, row in enumerate(rows):
        out.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return out


def refuse(patient: Patient, what: str, problems: Iterable[Any]) -> DemoHistoryError:
    text = "; ".join(str(p) for p in problems) or "refused"
    return DemoHistoryError(f"Demo history for {patient} ({what}): {text}")


# --- one patient's care ----------------------------------------------------------------------------


@dataclass
class Chart:
    """One patient's demo course, with the dates it happens on."""

    actor: Actor
    patient: Patient
    episode: Episode
    course: Course
    today: dt.date
    rng: random.Random
    evaluated_on: dt.date
    visit_dates: list[dt.date]
    story: Story = field(init=False)

    def __post_init__(self) -> None:
        self.story = story_for(self.episode)

    # -- words --------------------------------------------------------------------------------------

    @property
    def side(self) -> str:
        return self.episode.side

    @property
    def where(self) -> str:
        # Prose, not a label: "upper back", without the vocabulary's explanation in brackets.
        region = label(self.episode.body_region).split(" (")[0].lower()
        return f"{self.side} {region}" if self.side else region

    def words(self, text: str) -> str:
        weeks = max(1, round((self.evaluated_on - self.episode.onset_date).days / 7))
        filled = text.format(side=self.side or "", where=self.where, weeks=weeks)
        return filled[:1].upper() + filled[1:]

    def finding_side(self) -> str:
        finding = self.course.finding
        if finding is None:
            return ""
        return (self.side or "right") if finding.side == "same" else finding.side

    def finding_row(self) -> dict[str, Any] | None:
        finding = self.course.finding
        if finding is None:
            return None
        return {"code": finding.code, "region": finding.region, "side": self.finding_side()}

    def finding_text(self, text: str) -> str:
        return text.format(side=self.finding_side())

    # -- evaluation ---------------------------------------------------------------------------------

    def irritability(self) -> str:
        """From the time since onset, as the core's phases read it (0-5 days, 6-21, later)."""
        days = (self.evaluated_on - self.episode.onset_date).days
        return "high" if days <= 5 else "moderate" if days <= 21 else "low"

    def evaluation_fields(self) -> dict[str, Any]:
        story, side, nprs = self.story, self.side, self.course.nprs[0]
        palpation_region = story.palpation[0] or self.episode.body_region
        local = [row for row in [self.finding_row()] if row]
        if self.episode.condition == "post_operative":
            days = (self.evaluated_on - self.episode.onset_date).days
            local.append({"code": "surgical_incision", "region": self.episode.body_region, "side": side,
                          "days_ago": days, "closed": "yes"})
        age = self.patient.age_on(self.evaluated_on)
        comorbid = age >= 60 or self.course.finding is not None
        history = story.history
        if self.course.finding is not None:
            history += " " + self.finding_text(self.course.finding.history)
        fields: dict[str, Any] = {
            "performed_on": self.evaluated_on,
            "chief_complaint": self.words(story.complaint),
            "history": self.words(history),
            "patient_goals": self.words(story.goals),
            "posture_findings": list(story.posture),
            "posture_notes": story.posture_notes,
            "pain_nprs": nprs,
            "palpation_notes": story.palpation_notes,
            "irritability": self.irritability(),
            "temperature_c": self.rng.choice(["36.5", "36.6", "36.7", "36.8"]),
            "bp_systolic": self.rng.randint(112, 136),
            "bp_diastolic": self.rng.randint(70, 84),
            "complexity_history": "1" if comorbid else "0",
            "complexity_examination": "3",
            "complexity_presentation": "evolving" if self.course.kind == "referral" else "stable",
            "complexity_decision": "moderate" if comorbid else "low",
        }
        fields.update(formset_fields("rom", [
            {"movement": f"{joint}:{motion}", "side": side, "degrees": start}
            for joint, motion, start, _ in story.rom]))
        fields.update(formset_fields("pain", [
            {"region": self.episode.body_region, "side": side, "intensity": nprs, "quality": story.quality}]))
        palpation_side = side if palpation_region in paired_regions() else ""
        fields.update(formset_fields("palp", [
            {"region": palpation_region, "side": palpation_side, "tone": story.palpation[1], "tender": True,
             "trigger_points": story.palpation[2]}]))
        fields.update(formset_fields("find", local))
        return fields

    def evaluate(self) -> Evaluation:
        editor = EvaluationEditor(form_data(self.evaluation_fields()))
        if not editor.is_valid():
            raise refuse(self.patient, "evaluation", [m for _, m in editor.error_links()])
        checked = evaluation_services.check_evaluation(self.actor, self.patient, self.episode, editor.typed())
        if checked.error is not None:
            raise refuse(self.patient, "evaluation screen", [checked.error.message])
        evaluation = evaluation_services.do_save_evaluation(self.actor, self.patient, self.episode, checked)
        return evaluation_services.do_sign_evaluation(self.actor, evaluation, evaluation.version)

    # -- plan of care -------------------------------------------------------------------------------

    def plan_of_care(self) -> PlanOfCare:
        suggestions = plan_services.suggest(self.actor, self.patient, self.episode, self.evaluated_on)
        plan = plan_services.do_create_plan(self.actor, self.patient, self.episode, suggestions)
        start = self.evaluated_on
        goals = [
            {"term": "short", "text": self.words(self.story.short_goal), "target_date": start + dt.timedelta(weeks=3)},
            {"term": "short", "text": "Independent with the home exercise programme.",
             "target_date": start + dt.timedelta(weeks=2)},
            {"term": "long", "text": self.words(self.story.long_goal),
             "target_date": start + dt.timedelta(weeks=PLAN_WEEKS)},
        ]
        items = [{"technique": i["technique"], "region": i["region"], "side": i.get("side") or "",
                  "pressure": i["pressure"], "minutes": i["minutes"], "suggestion": i["suggestion"]}
                 for i in plan.items]
        home = [{"exercise": h["exercise"], "side": h.get("side") or "", "dose": h["dose"],
                 "instructions": h["instructions"]} for h in plan.home_program]
        data = form_data({
            "version": plan.version, "start_date": start, "frequency_per_week": PLAN_VISITS_PER_WEEK,
            "duration_weeks": PLAN_WEEKS, "complementary": [c["therapy"] for c in plan.complementary],
            **formset_fields("goals", goals), **formset_fields("items", items), **formset_fields("home", home),
        })
        editor = PlanEditor(plan, self.actor, data=data)
        if not editor.is_valid():
            problems = [editor.form.errors, editor.goals.errors, editor.items.errors, editor.home.errors]
            raise refuse(self.patient, "plan of care", problems)
        saved = plan_services.do_save_plan(self.actor, plan, editor.changes(), editor.version)
        return plan_services.do_sign_plan(self.actor, saved, saved.version, today=start)

    # -- visits -------------------------------------------------------------------------------------

    def nprs_at(self, number: int) -> int:
        """Pain before treatment at visit ``number`` (1-based), easing from evaluation to latest."""
        first, last = self.course.nprs
        return round(first + (last - first) * number / self.course.visits)

    def note_input(self, visit: Visit, number: int, *, sign: bool) -> NoteInput:
        """The note the therapist writes at visit ``number`` (1-based), as the note form would read it."""
        course, story, rng = self.course, self.story, self.rng
        count = course.visits
        latest = number == count
        flat = course.kind in ("reevaluate", "early", "referral")
        before = self.nprs_at(number) if number <= count else course.nprs[1]
        after = max(0, before - (1 if flat or number > 2 else 2))
        activity = story.activity
        if number == 1:
            subjective = f"Mild soreness for a day after the evaluation. {activity.capitalize()} still provokes the pain."
            soreness, hours, relief = 2, 24, "some"
        elif flat:
            subjective = (f"Some relief for a day or two after each session, then back to much the same; "
                          f"{activity} still limited.")
            soreness, hours, relief = 3, 24, "some"
        elif number < count - 1:
            subjective = f"Better since last time; {activity} easier. Doing the home exercises most days."
            soreness, hours, relief = 2, 12, "good"
        else:
            subjective = f"Best week so far; {activity} only mildly uncomfortable now."
            soreness, hours, relief = 1, 6, "good"
        finding = self.finding_text(course.finding.note) if course.finding else ""
        if course.kind == "referral":
            subjective += f" Still waiting for the physician to review {finding}."
        if number > count:
            subjective = f"Came in for the session; {activity} a little easier this week."
        if flat:
            objective = f"Tenderness at the {self.where} and tone of the surrounding muscles much as at the evaluation."
        elif number < count:
            objective = f"Less tender at the {self.where}; tone of the surrounding muscles reduced."
        else:
            objective = f"Only mildly tender at the {self.where}; tone of the surrounding muscles near normal."
        if course.kind == "contraindication":
            objective += f" No work over {finding}."
        elif course.kind == "referral":
            objective += f" Nothing deeper than light pressure near {finding} until it has been reviewed."
        assessment = (f"Pain {before}/10 before and {after}/10 after treatment; "
                      + ("slow progress." if flat else "responding to soft-tissue work and exercise."))
        plan_text = "Continue the plan of care; progress the home exercises."
        main = self.main_label()
        if latest and course.kind == "ready":
            assessment = (f"Pain down to {before}/10 and {main} improved beyond its minimal clinically important "
                          "difference: ready to shift the emphasis to active rehabilitation.")
            plan_text = "Progress to a loaded exercise programme; taper the soft-tissue work."
        elif latest and course.kind == "reevaluate":
            assessment = f"No important change on {main} after {count} visits despite good attendance."
            plan_text = "Re-evaluate at the next visit and review the plan of care with the patient."
        treatments, complementary = visit_services.stored_rows(visit)
        responses = ["relief", "release", "warmth"] if not flat else ["relief", "discomfort", "release"]
        rows = [Treatment(t.technique, t.region, t.side, t.pressure, t.minutes,
                          responses[(number + index) % len(responses)] if sign else "")
                for index, t in enumerate(treatments)]
        delivered = [Complementary(c.therapy, DELIVERED_MINUTES[c.therapy] + rng.choice([0, 0, 3]) if sign else 0)
                     for c in complementary if c.therapy in DELIVERED_MINUTES]
        rom = ([{"joint": joint, "motion": motion, **({"side": self.side} if self.side else {}), "degrees": end}
                for joint, motion, _, end in story.rom] if latest and sign else [])
        return NoteInput(
            subjective=subjective, soreness_since_last=soreness, soreness_hours=hours, relief=relief,
            nprs_before=before, **({"objective": objective, "nprs_after": after, "assessment": assessment,
                                    "plan_text": plan_text} if sign else {}),
            # Findings carried from the last visit stay, as the therapist leaves them in the note.
            findings=list(visit.findings or []), vitals=dict(visit.vitals or {}), rom=rom,
            treatments=rows, complementary=delivered)

    def main_label(self) -> str:
        code, scale = main_measure.suggested(self.episode.condition, self.episode.body_region)
        return main_measure.scale_label(code, scale)

    def write_note(self, visit_date: dt.date, number: int, *, sign: bool) -> Visit:
        """Start the visit as the "Start visit" button does, then save (and sign) the note as typed."""
        actor, patient, episode = self.actor, self.patient, self.episode
        visit, _ = visit_services.do_start_visit(actor, patient, episode, today=visit_date)
        # The same services as the note page's save: check (screen, rows, billing) once, then save.
        checked = visit_services.check_visit_note(actor, visit, self.note_input(visit, number, sign=sign))
        outcome = visit_services.do_save_visit_note(actor, visit, checked, visit.version)
        if outcome.status != "saved":
            problems = [checked.screen_problem] if checked.screen_problem else [
                b.message for verdict in checked.rows for b in verdict.blocking] or [outcome.status]
            raise refuse(patient, f"visit note {visit_date}", problems)
        saved = outcome.visit
        if sign:
            saved = visit_services.do_sign_visit(actor, saved, saved.version)
        return saved

    # -- outcome measures ---------------------------------------------------------------------------

    def measure(self, code: str, taken_on: dt.date, visit: Visit | None, fields: dict[str, Any]) -> None:
        instrument = measures.instrument(code)
        visits = list(Visit.objects.filter(clinic_id=self.episode.clinic_id, episode=self.episode)
                      .order_by("-visit_date", "-id"))
        data = form_data({"taken_on": taken_on, "visit": visit.pk if visit else "", **fields})
        form = MeasurementForm(data, instrument=instrument, episode=self.episode, visits=visits)
        if not form.is_valid():
            raise refuse(self.patient, f"{code} on {taken_on}", [m for _, m in form.error_links])
        do_record_measurement(self.actor, self.episode, instrument=code, answers=form.answers,
                              taken_on=form.cleaned_data["taken_on"], visit=form.cleaned_data["visit"],
                              activities=form.activities)

    def measure_both(self, taken_on: dt.date, visit: Visit | None, nprs: int, limitation: float) -> None:
        code, _ = main_measure.suggested(self.episode.condition, self.episode.body_region)
        self.measure("nprs", taken_on, visit, {"item_1": nprs})
        self.measure(code, taken_on, visit, questionnaire_data(measures.instrument(code), limitation, self.story))

    # -- the whole course ---------------------------------------------------------------------------

    def write(self) -> int:
        self.evaluate()
        self.measure_both(self.evaluated_on, None, self.course.nprs[0], self.course.disability[0])
        self.plan_of_care()
        latest = None
        for number, visit_date in enumerate(self.visit_dates, start=1):
            latest = self.write_note(visit_date, number, sign=True)
        assert latest is not None
        self.measure_both(latest.visit_date, latest, latest.nprs_before or 0, self.course.disability[1])
        if self.course.draft_today:
            self.write_note(self.today, len(self.visit_dates) + 1, sign=False)
        return 1


# --- dates -------------------------------------------------------------------------------------------


def clinic_day(day: dt.date) -> dt.date:
    """The clinic is closed on Sundays: a Sunday appointment moves to the Saturday before."""
    return day - dt.timedelta(days=1) if day.weekday() == SUNDAY else day


def schedule(course: Course, today: dt.date) -> tuple[dt.date, list[dt.date]]:
    """(evaluation date, visit dates): twice a week, counted back from the latest visit."""
    last = clinic_day(today - dt.timedelta(days=course.last_visit_days_ago))
    dates = [last]
    for index in range(course.visits - 1):
        dates.append(clinic_day(dates[-1] - dt.timedelta(days=3 if index % 2 == 0 else 4)))
    dates.reverse()
    evaluated_on = clinic_day(dates[0] - dt.timedelta(days=3))
    return evaluated_on, dates


# --- entry point -------------------------------------------------------------------------------------


def seed_history(clinic: Clinic, actor: Actor, today: dt.date) -> int:
    """Write the demo history of ``clinic`` as ``actor`` (its therapist); the number of patients given one."""
    if Evaluation.objects.filter(clinic=clinic).exists():
        return 0
    courses = list(COURSES.get(clinic.slug, COURSES["harbor"]))
    rng = random.Random(f"{SEED}-{clinic.slug}")
    written = 0
    episodes = (Episode.objects.filter(clinic=clinic).select_related("patient", "clinic")
                .order_by("patient_id", "id"))
    seen_patients: set[int] = set()
    for episode in episodes:
        if not courses:
            break
        if episode.patient_id in seen_patients:
            continue
        course = courses[0]
        evaluated_on, visit_dates = schedule(course, today)
        if evaluated_on < max(episode.onset_date, episode.opened_on) or visit_dates[-1] >= today:
            continue  # too recent an episode for this course: it keeps a clean chart
        courses.pop(0)
        seen_patients.add(episode.patient_id)
        chart = Chart(actor=actor, patient=episode.patient, episode=episode, course=course, today=today, rng=rng,
                      evaluated_on=evaluated_on, visit_dates=visit_dates)
        written += chart.write()
    return written
