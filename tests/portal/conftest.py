"""Fixtures for the patient side: a signed visit, its check-in, a patient with a portal sign-in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from tests.personas import as_user, clinical_world, fast_password_hashing, live_db, world  # noqa: F401

PATIENT_PASSWORD = "maria's long walk home"


@pytest.fixture(autouse=True)
def mail_in_memory(settings):  # noqa: ANN001, ANN201
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PALPATE_BASE_URL = "http://testserver"


@dataclass
class Portal:
    world: object
    actor: object
    visit: object
    plan: object
    account: object
    check_in: object

    @property
    def patient(self):  # noqa: ANN201
        return self.world.harbor_patient


def actor_for(user, clinic):  # noqa: ANN001, ANN201
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership

    return Actor.of(Membership.objects.get(clinic=clinic, user=user))


def signed_visit(world, day: dt.date, rows=(("petrissage", "lower_back", "", "moderate", 8),)):  # noqa: ANN001, ANN201, F811
    """A visit signed through the services (the signing hook runs), with treatment rows."""
    from palpate.visits import services
    from palpate.visits.note import NoteInput, Treatment

    actor = actor_for(world.alice, world.harbor)
    visit, _ = services.do_start_visit(actor, world.harbor_patient, world.harbor_episode, today=day)
    note = NoteInput(subjective="Felt fine.", nprs_before=5, treatments=[Treatment(*r) for r in rows],
                     assessment="Tolerated well.", plan_text="Continue the plan.")
    checked = services.check_visit_note(actor, visit, note)
    outcome = services.do_save_visit_note(actor, visit, checked, visit.version)
    assert outcome.status == "saved", (outcome.status, checked.screen_problem)
    return services.do_sign_visit(actor, outcome.visit, outcome.visit.version)


def signed_plan(world, exercises=("pelvic_tilt", "cat_camel")):  # noqa: ANN001, ANN201, F811
    from palpate.lib.vocabulary import exercise_library
    from palpate.plans.models import PlanOfCare

    library = exercise_library()
    return PlanOfCare.objects.create(
        clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, created_by=world.alice,
        start_date=timezone.localdate() - dt.timedelta(days=10), status="signed", signed_by=world.alice,
        signed_at=timezone.now() - dt.timedelta(days=10),
        home_program=[{"exercise": code, "dose": library[code]["dose"], "instructions": library[code]["instructions"]}
                      for code in exercises])


def make_account(patient, email="maria@example.org", password=PATIENT_PASSWORD):  # noqa: ANN001, ANN201
    from palpate.portal.models import PortalAccount

    return PortalAccount.objects.create(clinic=patient.clinic, patient=patient, email=email,
                                        password=make_password(password) if password else "",
                                        invited_at=timezone.now(), password_set_at=timezone.now())


@pytest.fixture
def portal(world) -> Portal:  # noqa: ANN001, F811
    from palpate.portal.checkins import do_create_check_in

    world.harbor_patient.email = "maria@example.org"
    world.harbor_patient.save()
    plan = signed_plan(world)
    visit = signed_visit(world, timezone.localdate() - dt.timedelta(days=1))
    check_in = do_create_check_in(visit)
    account = make_account(world.harbor_patient)
    return Portal(world, actor_for(world.alice, world.harbor), visit, plan, account, check_in)


@pytest.fixture
def patient_client(client, portal):  # noqa: ANN001, ANN201
    """The test client signed in to the patient side as Maria (Harbor)."""
    response = client.post("/portal/harbor/sign-in/", {"email": "maria@example.org", "password": PATIENT_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def sent_link(check_in, now=None):  # noqa: ANN001, ANN201
    """Send the check-in now (as the worker does when it is due); the link from the email."""
    import re

    from django.core import mail

    from palpate.portal.checkins import send_due

    assert send_due(check_in.pk, now or check_in.due_at + dt.timedelta(minutes=1))
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/portal/c/\S+/)", body).group(1)
