"""Documentation speed: a routine follow-up in 15 actions or fewer, and page query counts that do
not grow with the number of visits."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from palpate.lib.models_common import RecordStatus
from palpate.visits.models import ComplementaryRow, TreatmentRow, Visit
from tests.web.test_visits import note_url, read_form, row_keys, set_row, signed_visit, start

ACTION_BUDGET = 15


def _history(world, count: int) -> None:  # noqa: ANN001
    """``count`` signed visits with two treatment rows and one therapy each, oldest first."""
    first = dt.date(2026, 1, 5)
    visits = Visit.objects.bulk_create([
        Visit(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, therapist=world.alice,
              visit_date=first + dt.timedelta(days=2 * i), status=RecordStatus.SIGNED, signed_at=timezone.now(),
              signed_by=world.alice, nprs_before=6, nprs_after=4, screen_result={"session": "proceed"})
        for i in range(count)
    ])
    TreatmentRow.objects.bulk_create([
        TreatmentRow(clinic=world.harbor, visit=v, position=p, technique=t, region="lower_back", pressure="moderate",
                     minutes=m)
        for v in visits for p, (t, m) in enumerate([("petrissage", 8), ("myofascial_release", 6)])
    ])
    ComplementaryRow.objects.bulk_create([
        ComplementaryRow(clinic=world.harbor, visit=v, therapy="therapeutic_exercise", minutes=15) for v in visits
    ])


def _queries(client, method: str, url: str, data=None) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
    assert response.status_code in (200, 302), response.status_code
    return len(captured)


def _counts(client, visit: Visit) -> dict[str, int]:  # noqa: ANN001
    page = client.get(note_url(visit)).content.decode()
    data = read_form(page)
    return {
        "note": _queries(client, "get", note_url(visit)),
        "live": _queries(client, "post", f"{note_url(visit)}live/", data),
        "save": _queries(client, "post", note_url(visit), data),
        "list": _queries(client, "get", f"/patients/{visit.patient_id}/visits/"),
        "pdf": _queries(client, "get", f"{note_url(visit)}note.pdf"),
    }


def test_note_pages_take_the_same_number_of_queries_with_1_or_100_past_visits(world, as_user):
    client = as_user(world.alice)
    _history(world, 1)
    few = _counts(client, start(client, world))
    Visit.objects.filter(status=RecordStatus.DRAFT).delete()
    _history(world, 99)
    many = _counts(client, start(client, world))
    assert many == few, (few, many)
    assert few["note"] <= 20 and few["save"] <= 40


def test_the_chart_panel_takes_two_queries_whatever_the_number_of_visits(world):
    template = Template("{% load visits_tags %}{% visit_panel episode %}")

    def render() -> tuple[int, str]:
        context = Context({"patient": world.harbor_patient, "can": {"clinical_view": True, "clinical_write": True},
                           "csrf_token": "t"})
        context["episode"] = world.harbor_episode
        with CaptureQueriesContext(connection) as captured:
            html = template.render(context)
        return len(captured), html

    _history(world, 2)
    few, _ = render()
    _history(world, 98)
    many, html = render()
    assert few == many == 2
    assert "All visits" in html and html.count("Signed</span>") == 8


def test_a_routine_follow_up_takes_15_actions_or_fewer_with_carry_forward(world, as_user):
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 8), ("myofascial_release", "lower_back", "",
                                                                                 "moderate", 6)],
                 complementary=[("therapeutic_exercise", 15)])
    client = as_user(world.alice)
    actions = 0

    visit = start(client, world)  # click "Start visit" on the chart
    actions += 1
    form = read_form(client.get(note_url(visit)).content.decode())
    assert len(row_keys(form, "t")) >= 2  # both rows already there: nothing to retype

    filled = {"soreness_since_last": "2", "soreness_hours": "24", "relief": "good", "nprs_before": "5",
              "nprs_after": "3"}
    for name, value in filled.items():
        form[name] = [value]
    set_row(form, "c", 0, minutes=15)  # minutes of the exercise delivered today
    actions += len(filled) + 1

    form["sign"] = ["1"]  # click "Save and sign"
    actions += 1
    response = client.post(note_url(visit), form)
    assert response.status_code == 302

    visit.refresh_from_db()
    assert visit.is_signed and visit.nprs_after == 3 and visit.soreness_since_last == 2
    assert [(r.technique, r.minutes) for r in visit.treatments.all()] == [("petrissage", 8), ("myofascial_release", 6)]
    assert {line["code"]: line["units"] for line in visit.billing["lines"]} == {"97124": 1, "97140": 0, "97110": 1}
    assert actions <= ACTION_BUDGET, actions
