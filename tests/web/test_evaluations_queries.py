"""Evaluation pages run a fixed number of queries, however many evaluations and referrals exist."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from palpate.evaluations.models import Evaluation, Referral


def _add(world, count: int, evaluation: Evaluation | None = None) -> Evaluation:  # noqa: ANN001
    common = {"clinic": world.harbor, "patient": world.harbor_patient, "episode": world.harbor_episode}
    last = evaluation
    for i in range(count):
        last = Evaluation.objects.create(**common, therapist=world.alice, performed_on=dt.date(2026, 10, 1 + i),
                                         screen_result={"session": "hold", "referrals": [], "restrictions": []})
        Referral.objects.create(**common, evaluation=evaluation or last, reason=f"reason_{i}", urgency="routine",
                                raised_by=world.alice, raised_on=dt.date(2026, 10, 1 + i))
    assert last is not None
    return last


def _count(client, url: str) -> int:  # noqa: ANN001
    client.get(url)  # warm up: the first request also loads the session and starts the audit chain
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_evaluation_page_does_not_grow_with_its_referrals(world, as_user):
    client = as_user(world.alice)
    evaluation = _add(world, 1)
    url = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/"
    few = _count(client, url)
    _add(world, 6, evaluation=evaluation)
    assert Referral.objects.filter(evaluation=evaluation).count() == 7
    assert _count(client, url) == few


def test_the_edit_page_and_the_referral_list_do_not_grow(world, as_user):
    client = as_user(world.alice)
    evaluation = _add(world, 1)
    edit = f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/edit/"
    referrals = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/"
    few = (_count(client, edit), _count(client, referrals))
    _add(world, 8)
    assert (_count(client, edit), _count(client, referrals)) == few


def test_the_chart_panel_and_open_referrals_tag_use_a_fixed_number_of_queries(world):
    template = Template("{% load evaluations_tags %}{% evaluation_panel episode %}{% open_referrals patient %}")
    context = {"episode": world.harbor_episode, "patient": world.harbor_patient, "request": RequestFactory().get("/"),
               "can": {"clinical_view": True, "clinical_write": True}}

    def render() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            html = template.render(Context(context))
        return len(queries), html

    _add(world, 1)
    few, _ = render()
    _add(world, 9)
    many, html = render()
    assert many == few <= 3
    assert html.count("Screen: Hold") == 10
