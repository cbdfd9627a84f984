"""Booking the series from a signed plan of care: frequency x weeks on chosen weekdays and times."""

from __future__ import annotations

import datetime as dt

import pytest

from palpate.scheduling import services
from palpate.scheduling.models import Appointment, Authorization, Closure
from palpate.visits.models import Visit
from tests.scheduling.conftest import NOW, at, signed_plan

MON, THU = 0, 3


def request(plan, therapist, first_day, slots=((MON, "09:00"), (THU, "17:00")), minutes=45):  # noqa: ANN001, ANN201
    return services.SeriesRequest(plan=plan, therapist_id=therapist.pk, first_day=first_day, minutes=minutes,
                                  slots=[(w, dt.time.fromisoformat(t)) for w, t in slots])


def test_it_books_two_a_week_for_four_weeks_on_the_chosen_days(sched):
    plan = signed_plan(sched.world, dt.date(2027, 3, 1), per_week=2, weeks=4)  # re-evaluate by 2027-03-29
    outcome = services.do_book_series(sched.fran, request(plan, sched.world.alice, dt.date(2027, 3, 1)), now=NOW)
    assert len(outcome.appointments) == 8 and outcome.unplaced == []
    days = [a.starts_at.astimezone(at("2027-03-01", "00:00").tzinfo) for a in outcome.appointments]
    assert {d.weekday() for d in days} == {MON, THU}
    assert all(a.plan_id == plan.pk and a.series_id == outcome.series.pk for a in outcome.appointments)
    counts = services.plan_counts(plan)
    assert (counts.planned, counts.booked, counts.attended, counts.remaining) == (8, 8, 0, 0)
    # Booking again places nothing: the plan's visits are all booked.
    again = services.check_series(sched.fran, request(plan, sched.world.alice, dt.date(2027, 3, 1)), now=NOW)
    assert again.placed == []


def test_a_series_keeps_its_local_time_across_the_daylight_saving_change(sched):
    # New York moves its clocks forward on Sunday 14 March 2027.
    plan = signed_plan(sched.world, dt.date(2027, 3, 1), per_week=1, weeks=4)
    outcome = services.do_book_series(sched.fran, request(plan, sched.world.alice, dt.date(2027, 3, 1),
                                                          slots=((MON, "09:00"),)), now=NOW)
    local = [a.starts_at.astimezone(at("2027-03-01", "00:00").tzinfo) for a in outcome.appointments]
    assert [d.strftime("%Y-%m-%d %H:%M") for d in local] == [
        "2027-03-01 09:00", "2027-03-08 09:00", "2027-03-15 09:00", "2027-03-22 09:00"]
    utc_hours = [a.starts_at.astimezone(dt.UTC).hour for a in outcome.appointments]
    assert utc_hours == [14, 14, 13, 13]


def another_episode(sched):  # noqa: ANN001, ANN201
    from palpate.patients.models import Episode, Patient
    from palpate.patients.services import do_create_episode, do_create_patient

    patient = do_create_patient(sched.alice, Patient(given_name="Ines", family_name="Moreau",
                                                     date_of_birth=dt.date(1980, 1, 2), sex="female"))
    return do_create_episode(sched.alice, patient, Episode(
        condition="neck_pain", body_region="neck", diagnosis="Cervicalgia", icd10_code="M54.2",
        onset_date=dt.date(2027, 1, 5), payer="self_pay"))


def test_it_skips_closures_and_conflicts_and_says_why(sched):
    plan = signed_plan(sched.world, dt.date(2027, 3, 1), per_week=2, weeks=4)
    Closure.objects.create(clinic=sched.world.harbor, starts_on=dt.date(2027, 3, 8), ends_on=dt.date(2027, 3, 8),
                           reason="Floor repairs")
    other = another_episode(sched)  # another patient holds Alice's Thursday 17:00 that week
    taken = services.do_book(sched.fran, services.Booking(episode=other, therapist_id=sched.world.alice.pk,
                                                          starts_at=at("2027-03-11", "17:00"), minutes=45), now=NOW)
    outcome = services.do_book_series(sched.fran, request(plan, sched.world.alice, dt.date(2027, 3, 1)), now=NOW)
    reasons = {u.day: u.reason for u in outcome.unplaced}
    assert "Floor repairs" in reasons[dt.date(2027, 3, 8)]
    assert "already has an appointment" in reasons[dt.date(2027, 3, 11)]
    conflict = next(u for u in outcome.unplaced if u.day == dt.date(2027, 3, 11))
    assert conflict.alternative is not None
    assert conflict.alternative[0].date() == taken.starts_at.date()
    assert not (conflict.alternative[0] < taken.ends_at and taken.starts_at < conflict.alternative[1])
    assert len(outcome.appointments) == 6
    assert outcome.series.unplaced[0]["reason"] == reasons[dt.date(2027, 3, 8)]


def test_it_never_books_past_the_plans_reevaluation_date(sched):
    plan = signed_plan(sched.world, dt.date(2027, 2, 15), per_week=2, weeks=6)  # re-evaluate by 2027-03-17
    outcome = services.do_book_series(sched.fran, request(plan, sched.world.alice, dt.date(2027, 3, 1)), now=NOW)
    assert max(a.starts_at for a in outcome.appointments).date() <= plan.reevaluate_by
    assert len(outcome.appointments) == 5  # Mar 1, 4, 8, 11, 15
    assert all("re-evaluation date (2027-03-17)" in u.reason for u in outcome.unplaced)
    assert len(outcome.unplaced) == 7


def test_it_never_books_past_the_payers_authorised_visits(sched):
    plan = signed_plan(sched.world, dt.date(2027, 3, 1), per_week=2, weeks=4)
    Authorization.objects.create(clinic=sched.world.harbor, patient=sched.world.harbor_patient, episode=sched.episode,
                                 reference="WC-1234", visits=6, starts_on=dt.date(2027, 2, 1),
                                 ends_on=dt.date(2027, 6, 30), created_by=sched.world.olivia)
    Visit.objects.create(clinic=sched.world.harbor, patient=sched.world.harbor_patient, episode=sched.episode,
                         therapist=sched.world.alice, visit_date=dt.date(2027, 2, 20), status="signed")
    outcome = services.do_book_series(sched.fran, request(plan, sched.world.alice, dt.date(2027, 3, 1)), now=NOW)
    assert len(outcome.appointments) == 5  # 6 authorised, 1 used
    assert len(outcome.unplaced) == 3
    assert all("WC-1234 allows 6 visits (1 used" in u.reason for u in outcome.unplaced)


def test_only_a_signed_plan_in_force_can_be_booked(sched):
    plan = signed_plan(sched.world, dt.date(2027, 3, 1))
    plan.status = "draft"
    plan.save()
    with pytest.raises(services.InvalidRequest):
        services.check_series(sched.fran, request(plan, sched.world.alice, dt.date(2027, 3, 1)), now=NOW)
    assert Appointment.objects.count() == 0


def test_another_clinic_cannot_book_the_plan(sched):
    plan = signed_plan(sched.world, dt.date(2027, 3, 1))
    with pytest.raises(services.InvalidRequest):
        services.check_series(sched.charlie, request(plan, sched.world.charlie, dt.date(2027, 3, 1)), now=NOW)
