from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from palpate.plans.models import PlanOfCare
from palpate.visits.models import Visit


def test_today_lists_unsigned_notes_holds_referrals_and_due_dates(clinical_world, as_user):
    cw = clinical_world
    today = dt.date.today()
    Visit.objects.filter(pk=cw.visit.pk).update(visit_date=today, screen_result={"session": "hold"})
    PlanOfCare.objects.filter(pk=cw.plan.pk).update(status="signed", reevaluate_by=today + dt.timedelta(days=3),
                                                    recertify_by=today + dt.timedelta(days=10))
    body = as_user(cw.world.alice).get("/").content.decode()
    for heading in ("Today's visits", "Your recent visits", "Unsigned notes", "Holds this week", "Open referrals", "Re-evaluations due",
                    "Plans of care to re-certify"):
        assert heading in body
    assert body.count("Garcia, Maria") >= 5
    assert "Spinal red flag" in body


def test_another_clinics_start_page_shows_none_of_it(clinical_world, as_user):
    body = as_user(clinical_world.world.charlie).get("/").content.decode()
    assert "Garcia" not in body


def test_the_start_page_query_count_does_not_grow_with_visits(clinical_world, as_user):
    cw = clinical_world
    client = as_user(cw.world.alice)
    client.get("/")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(30):
        Visit.objects.create(clinic=cw.world.harbor, patient=cw.world.harbor_patient, episode=cw.world.harbor_episode,
                             therapist=cw.world.alice, visit_date=dt.date.today() - dt.timedelta(days=i))
    assert count() == before


def test_front_desk_sees_recent_patients_but_no_clinical_lists(clinical_world, as_user):
    cw = clinical_world
    Visit.objects.filter(pk=cw.visit.pk).update(visit_date=dt.date.today(), screen_result={"session": "hold"})
    body = as_user(cw.world.fran).get("/").content.decode()
    assert "Recent patients" in body and "Garcia" in body
    for clinical in ("Unsigned notes", "Holds this week", "Open referrals", "Spinal red flag"):
        assert clinical not in body
