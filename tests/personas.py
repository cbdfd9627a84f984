"""Shared fixtures for the Django tests: the three personas every feature is tested with.

Alice is a therapist at Harbor; Bob is her colleague at Harbor (an assistant); Charlie is a
therapist at Summit, another clinic, and must never see Harbor's patients. Olivia owns Harbor,
Fran works Harbor's front desk and Aubrey audits Harbor (read-only). Dana is a second therapist at
Harbor, for what two therapists do to the same record (an assistant writes no evaluation or plan).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest


@dataclass
class World:
    harbor: object
    summit: object
    alice: object
    bob: object
    charlie: object
    olivia: object
    fran: object
    aubrey: object
    dana: object
    harbor_patient: object
    summit_patient: object
    harbor_episode: object


def make_user(username: str):  # noqa: ANN201
    from palpate.accounts.models import User

    return User.objects.create_user(username=username, password="correct horse battery", first_name=username.title())


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):  # noqa: ANN001
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher.

    tests/web/test_accounts.py checks that real sign-ins store argon2 hashes.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db) -> World:  # noqa: ANN001
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Clinic, Membership
    from palpate.clinics.roles import Role
    from palpate.patients import services
    from palpate.patients.models import Episode, Patient

    harbor = Clinic.objects.create(name="Harbor Physical Therapy", slug="harbor")
    summit = Clinic.objects.create(name="Summit Rehab", slug="summit")
    people = {}
    for name, clinic, role in [
        ("alice", harbor, Role.THERAPIST), ("bob", harbor, Role.ASSISTANT), ("charlie", summit, Role.THERAPIST),
        ("olivia", harbor, Role.OWNER), ("fran", harbor, Role.FRONT_DESK), ("aubrey", harbor, Role.AUDITOR),
        ("dana", harbor, Role.THERAPIST),
    ]:
        user = make_user(name)
        Membership.objects.create(clinic=clinic, user=user, role=role)
        people[name] = user

    def patient_in(clinic: Clinic, therapist: object, given: str, family: str) -> Patient:
        actor = Actor.of(Membership.objects.get(clinic=clinic, user=therapist))
        patient = services.do_create_patient(
            actor, Patient(given_name=given, family_name=family, date_of_birth=dt.date(1970, 5, 17), sex="female")
        )
        return patient

    harbor_patient = patient_in(harbor, people["alice"], "Maria", "Garcia")
    summit_patient = patient_in(summit, people["charlie"], "Sofia", "Rossi")
    actor = Actor.of(Membership.objects.get(clinic=harbor, user=people["alice"]))
    episode = services.do_create_episode(
        actor, harbor_patient,
        Episode(condition="low_back_pain", body_region="lower_back", side="", diagnosis="Low back pain, unspecified",
                icd10_code="M54.50", onset_date=dt.date(2026, 10, 1), payer="commercial"),
    )
    return World(harbor=harbor, summit=summit, harbor_patient=harbor_patient, summit_patient=summit_patient,
                 harbor_episode=episode, **people)


@dataclass
class ClinicalWorld:
    """``world`` plus one record of each clinical kind for Harbor's patient (ids for URL matrices)."""

    world: World
    evaluation: object
    referral: object
    plan: object
    visit: object
    measurement: object
    discharge: object  # a draft discharge summary (signing one would discharge the episode)

    def ids(self) -> dict[str, int]:
        return {"p": self.world.harbor_patient.pk, "e": self.world.harbor_episode.pk, "ev": self.evaluation.pk,
                "r": self.referral.pk, "plan": self.plan.pk, "v": self.visit.pk, "m": self.measurement.pk,
                "dis": self.discharge.pk}


@pytest.fixture
def clinical_world(world) -> ClinicalWorld:  # noqa: ANN001
    from palpate.discharge.models import Discharge
    from palpate.evaluations.models import Evaluation, Referral
    from palpate.outcomes.models import OutcomeMeasurement
    from palpate.plans.models import PlanOfCare
    from palpate.visits.models import TreatmentRow, Visit

    common = {"clinic": world.harbor, "patient": world.harbor_patient, "episode": world.harbor_episode}
    today = dt.date(2026, 11, 2)
    evaluation = Evaluation.objects.create(**common, therapist=world.alice, performed_on=today, pain_nprs=6,
                                           chief_complaint="Low back pain after lifting")
    referral = Referral.objects.create(**common, reason="red_flag_spine", urgency="routine", raised_by=world.alice,
                                       raised_on=today)
    plan = PlanOfCare.objects.create(**common, evaluation=evaluation, created_by=world.alice, start_date=today)
    visit = Visit.objects.create(**common, plan=plan, therapist=world.alice, visit_date=today, nprs_before=6)
    TreatmentRow.objects.create(clinic=world.harbor, visit=visit, technique="effleurage", region="lower_back",
                                pressure="light", minutes=8)
    measurement = OutcomeMeasurement.objects.create(**common, instrument="nprs", taken_on=today, answers=[6], valid=True,
                                                    score=6, entered_by=world.alice)
    discharge = Discharge.objects.create(**common, created_by=world.alice, reason="goals_met")
    return ClinicalWorld(world, evaluation, referral, plan, visit, measurement, discharge)


@pytest.fixture
def as_user(client):  # noqa: ANN001, ANN201
    """``as_user(world.alice)`` signs the test client in as that person and returns it."""

    def sign_in(user: object):  # noqa: ANN202
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def live_db(transactional_db):  # noqa: ANN001, ANN201
    """A committed database for tests that need other threads (the live server) to see the data.

    Its teardown flushes every table with DELETE on SQLite, which the audit trail's append-only
    trigger rightly refuses; lift the guard just for that flush and put it back for the next test.
    """
    from django.db import connection

    from palpate.audit import db_guards

    db_guards.install(connection)
    yield
    if connection.vendor == "sqlite":
        db_guards.remove(connection)
