"""The audit log page: filters by record number, patient name and free text, changes in words, one
clinic only, owners and auditors only, and a bounded number of queries however long the trail."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palpate.audit.diff import snapshot
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
from palpate.patients import services
from palpate.patients.models import Patient


def actor_of(world, user, clinic=None):  # noqa: ANN001, ANN201
    return Actor.of(Membership.objects.get(user=user, clinic=clinic or world.harbor))


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in body.split("<tr>")[1:]]


def move_episode_to_the_neck(world) -> None:  # noqa: ANN001
    episode = world.harbor_episode
    before = snapshot(episode)
    episode.body_region, episode.condition = "neck", "neck_pain"
    services.do_update_episode(actor_of(world, world.alice), episode, before)


def a_second_harbor_patient(world) -> Patient:  # noqa: ANN001
    return services.do_create_patient(actor_of(world, world.alice), Patient(
        given_name="Omar", family_name="Haddad", date_of_birth="1980-02-03", sex="male"))


def test_it_shows_a_change_as_field_old_to_new_in_words(world, as_user):
    move_episode_to_the_neck(world)
    html = as_user(world.olivia).get("/audit/?q=neck").content.decode()
    assert "Body region: Lower back -&gt; Neck" in html
    assert "Condition: Low back pain -&gt; Neck pain" in html
    assert "Episode: update" in html
    assert html.count('<form class="search"') == 1 and html.count("<tbody>") == 1
    # Never the stored JSON or its codes.
    assert "lower_back" not in html and "{&#x27;" not in html and "neck_pain" not in html


def test_it_filters_by_record_number(world, as_user):
    other = a_second_harbor_patient(world)
    html = as_user(world.olivia).get(f"/audit/?record={world.harbor_patient.record_number}").content.decode()
    shown = rows(html)
    assert shown and all("Garcia, Maria" in row for row in shown)
    assert other.family_name not in html


def test_it_filters_by_patient_name_in_any_order_and_case(world, as_user):
    other = a_second_harbor_patient(world)
    client = as_user(world.aubrey)
    for name in ("garcia", "Maria Garcia", "garcia maria"):
        shown = rows(client.get("/audit/", {"name": name}).content.decode())
        assert shown and all("Garcia, Maria" in row for row in shown), name
    assert all(other.family_name in row for row in rows(client.get("/audit/?name=Haddad").content.decode()))


def test_it_filters_by_free_text_in_what_changed_who_and_what(world, as_user):
    move_episode_to_the_neck(world)
    client = as_user(world.olivia)
    by_value = [row for row in rows(client.get("/audit/?q=neck_pain").content.decode()) if "Audit: view" not in row]
    assert len(by_value) == 1 and "Neck pain" in by_value[0]
    by_who = rows(client.get("/audit/?q=alice").content.decode())
    assert by_who and all("alice" in row.lower() for row in by_who)
    assert all("Audit: view" in row for row in rows(client.get("/audit/?q=nothing-like-this").content.decode()))


def test_filters_combine_and_survive_paging_links(world, as_user):
    html = as_user(world.olivia).get("/audit/?name=garcia&q=episode").content.decode()
    assert rows(html) and all("Garcia, Maria" in r and "Episode" in r for r in rows(html))
    assert 'value="garcia"' in html and 'value="episode"' in html


def test_another_clinics_patient_is_never_found_nor_shown(world, as_user):
    # Summit's first patient has the same record number as Harbor's (numbers are per clinic).
    assert world.summit_patient.record_number == world.harbor_patient.record_number
    client = as_user(world.olivia)
    by_record = client.get(f"/audit/?record={world.summit_patient.record_number}").content.decode()
    assert "Rossi" not in by_record and all("Garcia, Maria" in row for row in rows(by_record))
    assert rows(client.get("/audit/?name=Rossi").content.decode()) == ["No events."]
    # Free text finds only this clinic's events: here, the owner's own searches for the name.
    assert all("Audit: view" in row for row in rows(client.get("/audit/?q=Rossi").content.decode()))
    # An id filter for Summit's patient shows nothing of hers either.
    assert rows(client.get(f"/audit/?patient={world.summit_patient.pk}").content.decode()) == ["No events."]


@pytest.mark.parametrize("persona", ["alice", "bob", "fran"])
def test_only_owners_and_auditors_open_the_log(world, as_user, persona):
    assert as_user(getattr(world, persona)).get("/audit/?name=garcia").status_code == 403


def test_a_filter_too_long_is_cut_not_a_crash(world, as_user):
    assert as_user(world.olivia).get("/audit/", {"q": "x" * 5000, "name": "y" * 5000}).status_code == 200


def _page_reads(client, url: str) -> tuple[int, int, int]:  # noqa: ANN001
    """(all queries, reads of the trail's events, reads of patients) of one view of the log.

    Folding the staged reads into the chain (the worker's job, done by the page for a whole trail)
    takes a number of queries that depends on what was staged, not on the page: so the budget is on
    the page's own reads of events and patients, which must not grow with the rows shown.
    """
    client.get(url)  # warm up: the session, the chain's head
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    return (len(captured), sum('FROM "audit_auditevent"' in sql for sql in selects),
            sum('FROM "patients_patient"' in sql for sql in selects))


def test_the_log_reads_events_and_patients_in_a_fixed_number_of_queries_however_long_the_trail(world, as_user):
    client = as_user(world.olivia)
    actor = actor_of(world, world.alice)
    # A few more patients (each with its registration event): a query per row or per patient would
    # show as more than the fixed reads below.
    for i in range(3):
        services.do_create_patient(actor, Patient(given_name=f"Test{i}", family_name="Garcia",
                                                  date_of_birth="1990-01-01", sex="female"))
    for url in ("/audit/", "/audit/?name=garcia", "/audit/?record=000001&q=patient"):
        total, events, patients = _page_reads(client, url)
        # A count, a page of events and the actions the trail holds (the action filter's choices);
        # the patients matching a filter and the names on the page.
        assert events <= 3 and patients <= 2, url
        assert total <= 25, url


def test_the_action_filter_offers_the_actions_in_words_and_still_takes_the_code(world, as_user):
    move_episode_to_the_neck(world)
    client = as_user(world.olivia)
    html = client.get("/audit/").content.decode()
    select = re.search(r'<select id="action" name="action">(.*?)</select>', html, re.S)
    assert select, "the action filter is a choice list"
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(1)))
    assert options[""] == "Every action"
    assert options["episode.update"] == "Episode: update" and options["episode"] == "Episode: every action"
    assert "patient.create" in options and "." not in options["patient.create"]  # words, not the code
    # The code in the URL filters as before, and the list shows it chosen.
    filtered = client.get("/audit/?action=episode.update").content.decode()
    assert '<option value="episode.update" selected>' in filtered
    assert rows(filtered) and all("Episode: update" in row for row in rows(filtered))
    # A subject takes every action of it.
    subject = rows(client.get("/audit/?action=episode").content.decode())
    assert {"Episode: create", "Episode: update"} <= {a for row in subject for a in ("Episode: create", "Episode: update") if a in row}
