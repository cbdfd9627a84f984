"""Build the demo clinics. Deterministic (a fixed random seed) so screenshots and tests agree.

The first patients of each clinic also get a clinical history (``palpate.demo.history``):
evaluations, plans of care, visit notes and outcome measures, written through the apps' services.

Passwords come from ``PALPATE_DEMO_PASSWORD`` (default ``palpate-demo``) and are printed only by
``make run`` / ``palpate serve`` in demo mode.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass

from django.db import transaction

from palpate.accounts.models import User
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic, Membership
from palpate.clinics.roles import Role
from palpate.demo.history import seed_history
from palpate.demo.portal import seed_portal
from palpate.demo.schedule import EXTRA_USERNAMES, seed_schedule
from palpate.patients import services as patient_services
from palpate.patients.models import Episode, Patient, Payer

# The scheduling demo adds a second therapist and a front desk member to each clinic.
DEMO_USERNAMES = ["harbor-owner", "harbor-pt", "summit-owner", "summit-pt", *EXTRA_USERNAMES]
PATIENTS_PER_CLINIC = 24


def demo_password() -> str:
    return os.environ.get("PALPATE_DEMO_PASSWORD") or "palpate-demo"


@dataclass(frozen=True)
class Presentation:
    condition: str
    region: str
    paired: bool
    diagnosis: str
    icd10: str  # codes from facts.md §G (VERIFIED list where possible)


# One realistic presentation per vocabulary condition, several for the common ones.
PRESENTATIONS = [
    Presentation("low_back_pain", "lower_back", False, "Low back pain, unspecified", "M54.50"),
    Presentation("low_back_pain", "lower_back", False, "Other low back pain", "M54.59"),
    Presentation("muscle_strain", "lower_back", False, "Strain of muscle, fascia and tendon of lower back", "S39.012A"),
    Presentation("neck_pain", "neck", False, "Cervicalgia", "M54.2"),
    Presentation("carpal_tunnel_syndrome", "wrist", True, "Carpal tunnel syndrome", "G56.0"),
    Presentation("myofascial_pain_syndrome", "upper_back", False, "Myalgia / myofascial pain, other site", "M79.18"),
    Presentation("myofascial_pain_syndrome", "neck", False, "Myalgia of auxiliary muscles, head and neck", "M79.12"),
    Presentation("tendinopathy", "elbow", True, "Lateral epicondylitis", "M77.1"),
    Presentation("tendinopathy", "ankle", True, "Achilles tendinitis", "M76.6"),
    Presentation("bursitis", "shoulder", True, "Bursitis of shoulder", "M75.5"),
    Presentation("bursitis", "hip", True, "Trochanteric bursitis", "M70.6"),
    Presentation("ligament_sprain", "ankle", True, "Sprain of ankle ligament", "S93.40"),
    Presentation("muscle_strain", "thigh", True, "Strain of hamstring muscle", "S76.30"),
    Presentation("post_operative", "knee", True, "Aftercare following knee joint replacement", "Z47.1"),
    Presentation("muscle_tightness", "upper_back", False, "Muscle spasm of back", "M62.830"),
    Presentation("joint_stiffness", "shoulder", True, "Stiffness of shoulder joint", "M25.61"),
    Presentation("joint_stiffness", "knee", True, "Stiffness of knee joint", "M25.66"),
]

LATERALITY_SUFFIX = {"G56.0": {"right": "1", "left": "2"}, "M77.1": {"right": "1", "left": "2"},
                     "M76.6": {"right": "1", "left": "2"}, "M75.5": {"right": "1", "left": "2"},
                     "M70.6": {"right": "1", "left": "2"}, "S93.40": {"right": "1A", "left": "2A"},
                     "S76.30": {"right": "1A", "left": "2A"}, "M25.61": {"right": "1", "left": "2"},
                     "M25.66": {"right": "1", "left": "2"}}

GIVEN = ["Maria", "James", "Aisha", "Daniel", "Sofia", "Liam", "Mei", "Carlos", "Grace", "Omar", "Hannah", "Noah",
         "Priya", "Ethan", "Olivia", "Mateo", "Chloe", "Samuel", "Amara", "Lucas", "Emma", "Yusuf", "Nora", "Diego",
         "Ava", "Ravi", "Zoe", "Henry", "Leila", "Isaac"]
FAMILY = ["Garcia", "Nguyen", "Okafor", "Schmidt", "Rossi", "Kowalski", "Chen", "Haddad", "Murphy", "Patel", "Silva",
          "Johansson", "Kim", "Dubois", "Ahmed", "Novak", "Brown", "Tanaka", "Mensah", "Lopez", "Fischer", "Walsh",
          "Ivanova", "Costa", "Singh", "Moreau", "Ali", "Larsen", "Reyes", "Cohen"]
REFERRERS = ["Dr. A. Whitman (orthopaedics)", "Dr. L. Park (family medicine)", "Dr. S. Osei (sports medicine)",
             "Self-referred", "Dr. R. Jansen (neurology)", "Harbor Urgent Care"]
PAYERS = [Payer.MEDICARE, Payer.COMMERCIAL, Payer.COMMERCIAL, Payer.WORKERS_COMP, Payer.SELF_PAY, Payer.AUTO]


def _user(username: str, first: str, last: str) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last})
    if created:
        user.set_password(demo_password())
        user.save()
    return user


def _clinic(name: str, slug: str, owner: User, therapist: User) -> Clinic:
    clinic, _ = Clinic.objects.get_or_create(slug=slug, defaults={"name": name})
    Membership.objects.get_or_create(clinic=clinic, user=owner, defaults={"role": Role.OWNER})
    Membership.objects.get_or_create(clinic=clinic, user=therapist, defaults={"role": Role.THERAPIST})
    return clinic


def _patients(clinic: Clinic, actor: Actor, rng: random.Random, today: dt.date) -> int:
    if Patient.objects.filter(clinic=clinic).exists():
        return 0
    for i in range(PATIENTS_PER_CLINIC):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        age = rng.randint(19, 82)
        dob = today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
        patient = Patient(
            given_name=given, family_name=family, date_of_birth=dob, sex=rng.choice(["female", "male"]),
            phone=f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            email=f"{given.lower()}.{family.lower()}{i}@example.org",
        )
        patient_services.do_create_patient(actor, patient)
        # Cover every presentation across the clinic, then draw at random.
        presentation = PRESENTATIONS[i] if i < len(PRESENTATIONS) else rng.choice(PRESENTATIONS)
        side = rng.choice(["left", "right"]) if presentation.paired else ""
        code = presentation.icd10 + (LATERALITY_SUFFIX.get(presentation.icd10, {}).get(side, "") if side else "")
        onset = today - dt.timedelta(days=rng.choice([3, 10, 18, 35, 60, 120, 200]))
        episode = Episode(
            condition=presentation.condition, body_region=presentation.region, side=side,
            diagnosis=presentation.diagnosis, icd10_code=code, onset_date=onset,
            referral_source=rng.choice(REFERRERS), payer=rng.choice(PAYERS),
            opened_on=min(today, onset + dt.timedelta(days=rng.randint(1, 10))),
        )
        patient_services.do_create_episode(actor, patient, episode)
    return PATIENTS_PER_CLINIC


def seed_demo(today: dt.date | None = None) -> dict[str, int]:
    today = today or dt.date.today()
    rng = random.Random(20261129)
    created = {}
    with transaction.atomic():
        harbor_owner = _user("harbor-owner", "Hannah", "Reid")
        harbor_pt = _user("harbor-pt", "Alex", "Moreno")
        summit_owner = _user("summit-owner", "Samir", "Qureshi")
        summit_pt = _user("summit-pt", "Jordan", "Blake")
        harbor = _clinic("Harbor Physical Therapy", "harbor", harbor_owner, harbor_pt)
        summit = _clinic("Summit Rehab", "summit", summit_owner, summit_pt)
        for clinic, therapist in ((harbor, harbor_pt), (summit, summit_pt)):
            membership = Membership.objects.get(clinic=clinic, user=therapist)
            actor = Actor.of(membership)
            created[clinic.slug] = _patients(clinic, actor, rng, today)
            # The clinical history of the first patients (palpate.demo.history), by the clinic's therapist.
            seed_history(clinic, actor, today)
            # Two weeks of the clinic's calendar around today (palpate.demo.schedule).
            seed_schedule(clinic, actor, today, demo_password())
            # Their patient side: portal sign-ins, check-ins (one warning sign at Harbor), home-programme logs.
            owner = Actor.of(Membership.objects.get(clinic=clinic, role=Role.OWNER))
            seed_portal(clinic, owner, demo_password(), today)
    return created
