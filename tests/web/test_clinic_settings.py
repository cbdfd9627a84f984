from __future__ import annotations

from palpate.audit.models import AuditEvent

BASE = {"name": "Harbor Physical Therapy", "idle_timeout_minutes": "20", "session_max_hours": "12",
        "payer_unit_rule": "per_code"}


def test_only_the_owner_can_open_clinic_settings(world, as_user, client):
    assert as_user(world.alice).get("/clinics/settings/").status_code == 403
    client.logout()
    assert as_user(world.olivia).get("/clinics/settings/").status_code == 200


def test_settings_show_each_thresholds_default_source_and_unverified_label(world, as_user):
    body = as_user(world.olivia).get("/clinics/settings/").content.decode()
    assert "Fever threshold" in body and "Default 38" in body and "UNVERIFIED" in body


def test_an_owner_overrides_the_fever_threshold_and_the_unit_rule_and_it_is_audited(world, as_user):
    response = as_user(world.olivia).post("/clinics/settings/", {**BASE, "policy_fever_c": "37.8"})
    assert response.status_code == 302
    world.harbor.refresh_from_db()
    assert world.harbor.policy_overrides == {"fever_c": 37.8}
    assert world.harbor.payer_unit_rule == "per_code" and world.harbor.idle_timeout_minutes == 20
    event = AuditEvent.objects.filter(action="clinic.settings").latest("seq")
    assert event.new["policy_overrides"] == {"fever_c": 37.8}


def test_an_impossible_threshold_is_refused_and_the_form_keeps_what_was_typed(world, as_user):
    response = as_user(world.olivia).post(
        "/clinics/settings/", {**BASE, "policy_session_minutes_min": "50", "policy_session_minutes_max": "20"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "must be at most" in body and "Longest manual-therapy time per session" in body
    assert "session_minutes_min must" not in body  # the words of the page, never the setting's key
    assert 'value="50"' in body and 'value="20"' in body
    world.harbor.refresh_from_db()
    assert world.harbor.policy_overrides == {}


def test_every_problem_of_the_settings_form_is_reported_in_one_round(world, as_user):
    """A value outside its bound does not hide two settings out of order, nor the other way round."""
    response = as_user(world.olivia).post("/clinics/settings/", {
        **BASE, "policy_fever_c": "45",  # outside its safe bound
        "policy_session_minutes_min": "50", "policy_session_minutes_max": "20",  # out of order
        "policy_soreness_hours_max": "48", "policy_soreness_severe_hours": "24",  # out of order too
    })
    body = response.content.decode()
    assert response.status_code == 200
    assert "outside the safe bound" in body
    # Each at its field and, as a link to it, in the error summary at the top.
    assert body.count("must be at most") == 4
    summary = body[body.index('class="error-summary"'):]
    summary = summary[:summary.index("</ul>")]
    assert summary.count('href="#id_policy_') == 3  # fever, and one of each pair out of order
    assert "Soreness lasting longer than this withholds friction" in body
    world.harbor.refresh_from_db()
    assert world.harbor.policy_overrides == {}
