"""A Harbor clinic with a schedule: New York time, US holidays, open Monday to Saturday morning.

``now`` is a fixed instant (Monday 1 March 2027, 08:00 in New York) that every service call is
given, so the tests never depend on the day they run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from tests.personas import as_user, clinical_world, fast_password_hashing, live_db, world  # noqa: F401

NEW_YORK = ZoneInfo("America/New_York")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=NEW_YORK)


def at(day: str, time: str) -> dt.datetime:
    """A New York wall-clock time as an aware datetime."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=NEW_YORK)


@dataclass
class Sched:
    world: object
    alice: object  # Actor: therapist
    fran: object  # Actor: front desk
    olivia: object  # Actor: owner
    charlie: object  # Actor: Summit's therapist
    episode: object
    settings: object

    def booking(self, start: dt.datetime, minutes: int = 45, **kwargs: object):  # noqa: ANN201
        from palpate.scheduling.services import Booking

        return Booking(episode=self.episode, therapist_id=self.world.alice.pk, starts_at=start, minutes=minutes,
                       **kwargs)


def open_clinic(clinic: object) -> object:
    from palpate.scheduling.models import OpeningHours
    from palpate.scheduling.services import schedule_settings

    settings = schedule_settings(clinic)
    settings.time_zone, settings.country, settings.subdivision = "America/New_York", "US", ""
    settings.save()
    for weekday in range(5):
        OpeningHours.objects.create(clinic=clinic, weekday=weekday, opens=dt.time(8), closes=dt.time(18))
    OpeningHours.objects.create(clinic=clinic, weekday=5, opens=dt.time(9), closes=dt.time(13))
    return settings


@pytest.fixture
def sched(world) -> Sched:  # noqa: ANN001, F811
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership

    settings = open_clinic(world.harbor)
    open_clinic(world.summit)

    def actor(user: object, clinic: object) -> Actor:
        return Actor.of(Membership.objects.get(user=user, clinic=clinic))

    return Sched(world, actor(world.alice, world.harbor), actor(world.fran, world.harbor),
                 actor(world.olivia, world.harbor), actor(world.charlie, world.summit), world.harbor_episode, settings)


def signed_plan(world: object, start: dt.date, per_week: int = 2, weeks: int = 6) -> object:  # noqa: F811
    from django.utils import timezone

    from palpate.lib.models_common import RecordStatus
    from palpate.plans.certification import recertify_by, reevaluate_by
    from palpate.plans.models import PlanOfCare

    return PlanOfCare.objects.create(
        clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, created_by=world.alice,
        start_date=start, frequency_per_week=per_week, duration_weeks=weeks, status=RecordStatus.SIGNED,
        signed_at=timezone.now(), signed_by=world.alice, recertify_by=recertify_by(start, weeks),
        reevaluate_by=reevaluate_by(start, weeks))
