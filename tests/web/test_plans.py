"""Plans of care: suggestions from the engine, the draft editor, optimistic locking, signing and
superseding, the chart panel, and query budgets. Safety overrides: test_plans_safety.py; PDFs:
test_plans_pdf.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.plans import certification, services
from palpate.plans.models import PlanOfCare

# ---------------------------------------------------------------------------------------------
# Helpers (also used by test_plans_safety.py and test_plans_pdf.py)


def new_plan_url(world: Any) -> str:
    return f"/patients/{world.harbor_patient.pk}/plans/episodes/{world.harbor_episode.pk}/new/"


def plan_url(plan: PlanOfCare, suffix: str = "") -> str:
    return f"/patients/{plan.patient_id}/plans/{plan.pk}/{suffix}"


def evaluate(world: Any, **fields: Any) -> Any:
    from palpate.evaluations.models import Evaluation

    fields.setdefault("performed_on", timezone.localdate())
    return Evaluation.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                     therapist=world.alice, **fields)


def start_plan(client: Any, world: Any) -> PlanOfCare:
    response = client.post(new_plan_url(world))
    assert response.status_code == 302, response.content.decode()[:2000]
    return PlanOfCare.objects.filter(episode=world.harbor_episode).latest("id")


LONG_GOAL = {"term": "long", "text": "Drive to work without stopping, pain 2/10 or less", "target_date": ""}


def item_rows(plan: PlanOfCare) -> list[dict[str, Any]]:
    return [{"technique": i["technique"], "region": i["region"], "side": i.get("side") or "",
             "pressure": i["pressure"], "minutes": i["minutes"],
             "suggestion": "" if i.get("suggestion") is None else i["suggestion"]} for i in plan.items]


def plan_post(plan: PlanOfCare, *, goals: list[dict[str, Any]] | None = None, items: list[dict[str, Any]] | None = None,
              home: list[dict[str, Any]] | None = None, complementary: list[str] | None = None,
              version: int | None = None, frequency: int = 2, duration: int = 6, start_date: str = "",
              **extra: Any) -> dict[str, Any]:
    """The editor's POST for ``plan``: by default everything as saved plus one long-term goal."""
    data: dict[str, Any] = {
        "version": str(plan.version if version is None else version), "frequency_per_week": str(frequency),
        "duration_weeks": str(duration), "start_date": start_date,
        "complementary": complementary if complementary is not None else [c["therapy"] for c in plan.complementary],
    }
    rows = {
        "goals": goals if goals is not None else (plan.goals or [LONG_GOAL]),
        "items": items if items is not None else item_rows(plan),
        "home": home if home is not None else [{"exercise": h["exercise"], "side": h.get("side") or "",
                                                "dose": h["dose"], "instructions": h["instructions"]}
                                               for h in plan.home_program],
    }
    for prefix, entries in rows.items():
        data[f"{prefix}-TOTAL_FORMS"] = str(len(entries))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
        for index, row in enumerate(entries):
            for key, value in row.items():
                data[f"{prefix}-{index}-{key}"] = "" if value is None else str(value)
    data.update(extra)
    return data


def save(client: Any, plan: PlanOfCare, **kwargs: Any) -> Any:
    return client.post(plan_url(plan, "edit/"), plan_post(plan, **kwargs))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def signed_plan(client: Any, world: Any, **kwargs: Any) -> PlanOfCare:
    plan = start_plan(client, world)
    assert save(client, plan, **kwargs).status_code == 302
    plan.refresh_from_db()
    response = client.post(plan_url(plan, "sign/"), {"version": plan.version})
    assert response.status_code == 302, response.content.decode()[:3000]
    plan.refresh_from_db()
    return plan


# ---------------------------------------------------------------------------------------------
# Suggestions from the engine


def test_a_new_plan_starts_from_the_engines_suggestions_for_the_episodes_condition(world, as_user):
    plan = start_plan(as_user(world.alice), world)
    assert plan.status == "draft" and plan.start_date is None and plan.created_by == world.alice
    assert plan.screen_result["contract"] == "palpate.plan/1"
    assert plan.screen_result["kb_version"] and plan.screen_result["session"] == "proceed"
    assert plan.screen_result["request"]["conditions"][0]["code"] == "low_back_pain"
    assert plan.items, "the engine suggests soft-tissue work for low back pain"
    for index, item in enumerate(plan.items):
        assert item["for"] == "low_back_pain"
        assert item["region"] == "lower_back"
        assert item["rationale"] and item["evidence"], "every suggestion says why"
        assert item["origin"] == "engine" and item["suggestion"] == index
        assert item["cpt"] in ("97124", "97140")
    assert {c["therapy"] for c in plan.complementary} >= {"therapeutic_exercise", "postural_training"}
    assert plan.home_program and all(h["dose"] and h["instructions"] for h in plan.home_program)
    created = events("plan.create")
    assert len(created) == 1 and created[0].patient_id == world.harbor_patient.pk
    assert created[0].new["session"] == "proceed"


def test_the_new_plan_page_shows_the_screen_and_each_suggestion_with_its_rationale(world, as_user):
    client = as_user(world.alice)
    body = client.get(new_plan_url(world)).content.decode()
    assert "Session:" in body and "proceed" in body.lower()
    assert "Start draft plan with these suggestions" in body
    assert "Evidence:" in body and "Effleurage" in body
    assert "No evaluation yet" in body
    assert not PlanOfCare.objects.exists(), "opening the page saves nothing"


def test_a_new_plan_reads_the_latest_evaluation_and_stores_its_restrictions(world, as_user):
    evaluate(world, performed_on=timezone.localdate() - dt.timedelta(days=9), pain_nprs=3)
    latest = evaluate(world, pain_nprs=5, findings=[{"code": "varicose_veins", "region": "calf", "side": "left"}])
    client = as_user(world.alice)
    body = client.get(new_plan_url(world)).content.decode()
    assert "varicose veins" in body.lower() and "Capped:" in body
    assert 'data-region="calf"' in body, "the restrictions are drawn on the body chart"
    plan = start_plan(client, world)
    assert plan.evaluation == latest
    assert {(r["region"], r["side"]) for r in plan.restrictions} == {("calf", "left")}
    assert plan.screen_result["request"]["findings"] == [{"code": "varicose_veins", "region": "calf", "side": "left"}]


def test_a_held_session_is_said_prominently_and_no_soft_tissue_item_is_suggested(world, as_user):
    evaluate(world, vitals={"temperature_c": 38.6})
    client = as_user(world.alice)
    body = client.get(new_plan_url(world)).content.decode()
    assert "Session held: no soft-tissue work." in body
    assert "No soft-tissue items are suggested" in body
    plan = start_plan(client, world)
    assert plan.session == "hold" and plan.items == []
    assert "Session held by the safety screen" in client.get(plan_url(plan, "edit/")).content.decode()


def test_invalid_stored_facts_give_a_message_not_a_server_error(world, as_user):
    evaluate(world, findings=[{"code": "no_such_finding"}])
    client = as_user(world.alice)
    response = client.get(new_plan_url(world))
    assert response.status_code == 200
    assert "could not read this episode" in response.content.decode()
    assert client.post(new_plan_url(world)).status_code == 200
    assert not PlanOfCare.objects.exists()


def test_the_new_plan_page_points_to_an_open_draft(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    body = client.get(new_plan_url(world)).content.decode()
    assert "An unsigned draft plan already exists" in body and plan_url(plan, "edit/") in body


def test_a_discharged_episode_gets_no_new_plan(world, as_user):
    world.harbor_episode.status = "discharged"
    world.harbor_episode.save()
    client = as_user(world.alice)
    assert "This episode is discharged" in client.get(new_plan_url(world)).content.decode()
    client.post(new_plan_url(world))
    assert not PlanOfCare.objects.exists()


# ---------------------------------------------------------------------------------------------
# The draft editor


def test_the_therapist_keeps_edits_removes_and_adds_items_and_each_keeps_its_why(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    suggested = plan.items
    assert len(suggested) >= 3
    rows = item_rows(plan)
    rows[1]["minutes"] = int(rows[1]["minutes"]) + 2  # edited
    del rows[2]  # removed
    rows.append({"technique": "effleurage", "region": "thigh", "side": "left", "pressure": "light", "minutes": 3,
                 "note": "Hamstring guarding"})  # added
    response = save(client, plan, items=rows)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan.refresh_from_db()
    origins = [i["origin"] for i in plan.items]
    assert origins[:2] == ["engine", "edited"] and origins[-1] == "added"
    assert len(plan.items) == len(suggested)  # one removed, one added
    assert plan.items[1]["rationale"] == suggested[1]["rationale"], "an edited suggestion keeps its rationale"
    assert plan.items[-1]["note"] == "Hamstring guarding" and plan.items[-1]["cpt"] == "97124"
    assert plan.items[-1]["rationale"] == "Added by the therapist."
    update = events("plan.update")[-1]
    assert "items" in update.new and "goals" in update.new and update.old["goals"] == []
    assert plan.version == 2


def test_goals_frequency_duration_complementary_and_home_programme_are_saved(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    assert plan.home_program[0]["exercise"] == "pelvic_tilt"
    second = plan.home_program[1]["exercise"]
    goals = [{"term": "short", "text": "Put on socks standing", "target_date": "2027-01-10"}, LONG_GOAL]
    home = [{"exercise": "pelvic_tilt", "side": "", "dose": "", "instructions": ""},
            {"exercise": second, "side": "", "dose": "2 x 20 s", "instructions": "Gently, one leg."},
            {"exercise": "knee_to_chest", "side": "", "dose": "", "instructions": ""}]
    response = save(client, plan, goals=goals, home=home, complementary=["therapeutic_exercise", "heat"],
                    frequency=3, duration=8, start_date="2027-01-04")
    assert response.status_code == 302, response.content.decode()[:3000]
    plan.refresh_from_db()
    assert plan.goals[0] == {"term": "short", "text": "Put on socks standing", "target_date": "2027-01-10"}
    assert (plan.frequency_per_week, plan.duration_weeks, plan.start_date) == (3, 8, dt.date(2027, 1, 4))
    assert [(c["therapy"], c["origin"]) for c in plan.complementary] == [("therapeutic_exercise", "engine"), ("heat", "added")]
    assert plan.complementary[1]["why"], "an added therapy still says why (from the knowledge base)"
    tilt, edited, knee = plan.home_program
    assert tilt["name"] == "Pelvic tilt" and tilt["dose"].startswith("10 slow") and "flatten" in tilt["instructions"]
    assert tilt["origin"] == "engine"
    assert (edited["dose"], edited["instructions"], edited["origin"]) == ("2 x 20 s", "Gently, one leg.", "edited")
    assert (knee["name"], knee["origin"]) == ("Knee to chest", "added") and knee["dose"] and knee["instructions"]


def test_the_edit_page_shows_each_suggestion_with_its_rationale_and_evidence(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    body = client.get(plan_url(plan, "edit/")).content.decode()
    assert body.count("engine suggestion") == len(plan.items)
    assert plan.items[0]["rationale"] in body and plan.items[0]["evidence"][0] in body
    assert 'id="plan-chart"' in body and 'role="button"' in body, "the chart can pick a region"
    assert 'id="exercise-library"' in body


def test_adding_a_row_keeps_everything_typed_and_saves_nothing(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    data = plan_post(plan, goals=[{"term": "short", "text": "Carry the groceries upstairs", "target_date": ""}],
                     add_row="items")
    response = client.post(plan_url(plan, "edit/"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Carry the groceries upstairs" in body
    assert f'name="items-{len(plan.items)}-technique"' in body, "a blank item row was added"
    assert "was not saved" not in body, "adding a row shows no validation errors"
    plan.refresh_from_db()
    assert plan.version == 1 and plan.goals == []


def test_removing_a_row_with_htmx_returns_only_the_form(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    data = plan_post(plan, goals=[LONG_GOAL, {"term": "short", "text": "Walk the dog", "target_date": ""}],
                     remove_row="goals-0")
    response = client.post(plan_url(plan, "edit/"), data, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="plan-form"') and "<html" not in body
    assert "Walk the dog" in body and LONG_GOAL["text"] not in body
    assert 'name="goals-TOTAL_FORMS" value="1"' in body


def test_a_bad_row_is_refused_with_a_clear_message_and_everything_typed_is_kept(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    rows = item_rows(plan) + [{"technique": "petrissage", "region": "thigh", "side": "", "pressure": "light",
                               "minutes": "90"}]
    response = save(client, plan, items=rows, goals=[{"term": "long", "text": "Return to tennis", "target_date": ""}])
    body = response.content.decode()
    assert response.status_code == 200
    assert "The plan was not saved" in body and "nothing you typed has been lost" in body
    assert "is paired: choose left or right." in body
    assert "Ensure this value is less than or equal to 60." in body
    assert "Return to tennis" in body and 'value="90"' in body
    plan.refresh_from_db()
    assert plan.version == 1 and plan.goals == []


def test_a_goal_target_before_the_start_date_is_refused(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    response = save(client, plan, start_date="2027-02-01",
                    goals=[{"term": "long", "text": "Run 5 km", "target_date": "2027-01-01"}])
    assert "The target date is before the plan&#x27;s start date." in response.content.decode()


def test_a_stale_save_is_refused_and_what_both_people_typed_survives(world, as_user, client):
    alice = as_user(world.alice)
    plan = start_plan(alice, world)
    opened_version = plan.version
    assert save(alice, plan, goals=[{"term": "long", "text": "Alice's goal", "target_date": ""}]).status_code == 302

    dana = client
    dana.force_login(world.dana)
    response = dana.post(plan_url(plan, "edit/"), plan_post(
        plan, version=opened_version, goals=[{"term": "long", "text": "Dana's goal", "target_date": ""}]))
    body = response.content.decode()
    assert response.status_code == 409, "a conflict answers 409, as evaluations and visits do"
    assert "Someone else saved this plan after you opened it" in body
    assert "Dana&#x27;s goal" in body, "what Dana typed is still in the form"
    assert "Alice&#x27;s goal" in body, "what Alice saved is shown next to it"
    plan.refresh_from_db()
    assert plan.goals[0]["text"] == "Alice's goal" and plan.version == 2
    assert 'name="version" value="2"' in body, "saving again now works"
    again = dana.post(plan_url(plan, "edit/"), plan_post(
        plan, goals=[{"term": "long", "text": "Dana's goal", "target_date": ""}]))
    assert again.status_code == 302
    plan.refresh_from_db()
    assert plan.goals[0]["text"] == "Dana's goal"


def test_a_save_after_the_plan_was_signed_is_refused_but_shows_what_was_typed(world, as_user):
    client = as_user(world.alice)
    plan = signed_plan(client, world)
    response = client.post(plan_url(plan, "edit/"), plan_post(
        plan, version=1, goals=[{"term": "long", "text": "Typed too late", "target_date": ""}]))
    body = response.content.decode()
    assert response.status_code == 403
    assert "Typed too late" in body and "signed or replaced by a newer plan" in body
    assert "Save draft" not in body
    plan.refresh_from_db()
    assert [g["text"] for g in plan.goals] == [LONG_GOAL["text"]]


# ---------------------------------------------------------------------------------------------
# Signing


def test_signing_locks_the_plan_and_sets_its_dates(world, as_user):
    client = as_user(world.alice)
    plan = signed_plan(client, world)
    today = timezone.localdate()
    assert plan.status == "signed" and plan.signed_by == world.alice and plan.signed_at is not None
    assert plan.start_date == today
    assert plan.recertify_by == today + dt.timedelta(weeks=6)
    assert plan.reevaluate_by == today + dt.timedelta(days=30)
    signed = events("plan.sign")
    assert len(signed) == 1 and signed[0].new["recertify_by"] == (today + dt.timedelta(weeks=6)).isoformat()
    assert client.get(plan_url(plan, "edit/")).status_code == 403
    assert client.post(plan_url(plan, "edit/"), plan_post(plan)).status_code == 403
    assert client.get(plan_url(plan, "sign/")).status_code == 403
    assert client.post(plan_url(plan, "sign/"), {"version": plan.version}).status_code == 403
    body = client.get(plan_url(plan)).content.decode()
    assert "Signed" in body and "Re-certify by" in body and "Edit draft" not in body


def test_signing_keeps_a_chosen_start_date_and_caps_recertification_at_90_days(world, as_user):
    client = as_user(world.alice)
    plan = signed_plan(client, world, start_date="2027-01-04", duration=20)
    assert plan.start_date == dt.date(2027, 1, 4)
    assert plan.recertify_by == dt.date(2027, 1, 4) + dt.timedelta(days=90)
    assert plan.reevaluate_by == dt.date(2027, 2, 3)


def test_the_certification_policy_dates():
    start = dt.date(2027, 3, 1)
    assert certification.recertify_by(start, 4) == dt.date(2027, 3, 29)
    assert certification.recertify_by(start, 12) == dt.date(2027, 5, 24)
    assert certification.recertify_by(start, 13) == dt.date(2027, 5, 30), "13 weeks is 91 days: capped at 90"
    assert certification.recertify_by(start, 52) == start + dt.timedelta(days=certification.RECERTIFY_MAX_DAYS)
    assert certification.reevaluate_by(start, 2) == dt.date(2027, 3, 15), "never after re-certification"
    assert certification.reevaluate_by(start, 8) == dt.date(2027, 3, 31)


def test_the_review_page_shows_the_dates_signing_would_set(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    save(client, plan)
    body = client.get(plan_url(plan, "sign/")).content.decode()
    expected = timezone.localdate() + dt.timedelta(weeks=6)
    assert f"{expected:%Y-%m-%d}" in body and "Sign plan of care" in body


def test_a_plan_without_a_long_term_goal_cannot_be_signed(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    save(client, plan, goals=[{"term": "short", "text": "Tie shoes", "target_date": ""}])
    plan.refresh_from_db()
    body = client.get(plan_url(plan, "sign/")).content.decode()
    assert "Add at least one long-term functional goal." in body and "Sign plan of care" not in body
    response = client.post(plan_url(plan, "sign/"), {"version": plan.version})
    assert response.status_code == 200 and "cannot be signed yet" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == "draft" and not events("plan.sign")


def test_an_assistant_neither_edits_reviews_nor_signs_a_plan(world, as_user):
    plan = start_plan(as_user(world.alice), world)
    bob = as_user(world.bob)
    assert save(bob, plan).status_code == 403
    assert bob.get(plan_url(plan, "sign/")).status_code == 403
    assert bob.post(plan_url(plan, "sign/"), {"version": plan.version}).status_code == 403
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_a_sign_from_a_stale_review_is_refused(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    save(client, plan)
    response = client.post(plan_url(plan, "sign/"), {"version": 1}, follow=True)
    assert "changed by someone else while you were reviewing" in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_a_newer_signed_plan_supersedes_the_older_one(world, as_user):
    client = as_user(world.alice)
    first = signed_plan(client, world)
    assert services.current_plan(world.harbor_episode) == first
    second = start_plan(client, world)
    assert services.current_plan(world.harbor_episode) == first, "a draft does not replace a signed plan"
    save(client, second)
    second.refresh_from_db()
    assert client.post(plan_url(second, "sign/"), {"version": second.version}).status_code == 302
    first.refresh_from_db()
    assert first.superseded_by_id == second.pk
    assert services.current_plan(world.harbor_episode) == second
    assert [e.object_id for e in events("plan.supersede")] == [str(first.pk)]
    assert "Superseded" in client.get(plan_url(first)).content.decode()


def test_current_plan_is_the_latest_draft_when_nothing_is_signed(world, as_user):
    assert services.current_plan(world.harbor_episode) is None
    client = as_user(world.alice)
    start_plan(client, world)
    latest = start_plan(client, world)
    assert services.current_plan(world.harbor_episode) == latest


def test_a_superseded_draft_can_no_longer_be_edited(world, as_user):
    client = as_user(world.alice)
    old_draft = start_plan(client, world)
    signed_plan(client, world)
    old_draft.refresh_from_db()
    assert old_draft.is_superseded
    assert client.get(plan_url(old_draft, "edit/")).status_code == 403


# ---------------------------------------------------------------------------------------------
# The chart panel


def render_panel(world: Any, user: Any, **can: bool) -> str:
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load plans_tags %}{% plan_panel episode %}")
    return template.render(Context({"episode": world.harbor_episode, "patient": world.harbor_patient,
                                     "can": can, "request": request}))


def test_the_panel_shows_status_due_dates_and_links(world, as_user):
    client = as_user(world.alice)
    start = timezone.localdate() - dt.timedelta(days=30)
    plan = signed_plan(client, world, start_date=f"{start:%Y-%m-%d}")
    html = render_panel(world, world.alice, clinical_view=True, clinical_write=True, plan_write=True, note_sign=True)
    assert "Signed" in html and "Re-certify by" in html and "Re-evaluate by" in html
    assert "due in 12 days" in html and "due today" in html, "dates due within 14 days are flagged in words"
    for suffix in ("", "handout.pdf", "plan.pdf"):
        assert plan_url(plan, suffix) in html
    assert plan_url(plan, "edit/") not in html, "a signed plan has no edit link"
    assert new_plan_url(world) in html


def test_the_panel_offers_editing_and_signing_a_draft_only_to_those_who_may(world, as_user):
    plan = start_plan(as_user(world.alice), world)
    therapist = render_panel(world, world.alice, clinical_view=True, clinical_write=True, plan_write=True,
                             note_sign=True)
    assert "Draft" in therapist and plan_url(plan, "edit/") in therapist and plan_url(plan, "sign/") in therapist
    assistant = render_panel(world, world.bob, clinical_view=True, clinical_write=True)
    assert plan_url(plan) in assistant
    assert plan_url(plan, "edit/") not in assistant and plan_url(plan, "sign/") not in assistant
    assert new_plan_url(world) not in assistant
    auditor = render_panel(world, world.aubrey, clinical_view=True)
    assert plan_url(plan) in auditor and plan_url(plan, "edit/") not in auditor and new_plan_url(world) not in auditor
    front_desk = render_panel(world, world.fran)
    assert "shown to clinical staff" in front_desk and plan_url(plan) not in front_desk


def test_an_overdue_date_is_flagged_in_words(world, as_user):
    from palpate.plans.templatetags.plans_tags import due_dates

    plan = PlanOfCare(recertify_by=dt.date(2027, 1, 1), reevaluate_by=dt.date(2027, 3, 1))
    rows = due_dates(plan, today=dt.date(2027, 1, 3))
    assert [(r["state"], r["words"]) for r in rows] == [("overdue", "overdue by 2 days"), ("", "")]


# ---------------------------------------------------------------------------------------------
# Query budgets


def _count_queries(fn: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_panel_costs_one_query_however_many_plans(world, as_user):
    client = as_user(world.alice)
    signed_plan(client, world)
    few = _count_queries(lambda: render_panel(world, world.alice, clinical_view=True, clinical_write=True))
    for _ in range(4):
        signed_plan(client, world)
    start_plan(client, world)
    many = _count_queries(lambda: render_panel(world, world.alice, clinical_view=True, clinical_write=True))
    assert few == many == 1


@pytest.mark.parametrize("suffix", ["", "edit/", "sign/"])
def test_plan_pages_do_not_grow_queries_with_the_number_of_items(world, as_user, suffix):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    save(client, plan)
    plan.refresh_from_db()
    few = _count_queries(lambda: client.get(plan_url(plan, suffix)))
    rows = item_rows(plan) + [{"technique": "effleurage", "region": "thigh", "side": side, "pressure": "light",
                               "minutes": 3} for side in ("left", "right") for _ in range(6)]
    assert save(client, plan, items=rows, goals=[LONG_GOAL] * 6).status_code == 302
    plan.refresh_from_db()
    assert len(plan.items) > 12
    many = _count_queries(lambda: client.get(plan_url(plan, suffix)))
    assert few == many
    assert many <= 15
