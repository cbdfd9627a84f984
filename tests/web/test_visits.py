"""Treatment visits: start (carry-forward), the SOAP note, the live safety screen and billing,
overrides, two people on one draft, signing, addenda and the PDF."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.lib.models_common import RecordStatus
from palpate.plans.models import PlanOfCare
from palpate.visits.models import Addendum, ComplementaryRow, TreatmentRow, Visit

# -- helpers ---------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would submit from the page's note form (without pressing a button)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.in_form = False
        self.select: str | None = None
        self.select_value: str | None = None
        self.select_first: str | None = None
        self.option_value: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and "visit-note" in a.get("class", ""):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.select_value, self.select_first = a.get("name"), None, None
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in a:
                self.select_value = value
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "select" and self.select:
            self.fields.append((self.select, self.select_value if self.select_value is not None else self.select_first or ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def read_form(html: str) -> dict[str, list[str]]:
    reader = _FormReader()
    reader.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return data


def row_keys(data: dict[str, list[str]], kind: str) -> list[str]:
    """The row keys of one table, in page order (``t``, ``c``, ``f``, ``rom``)."""
    keys = []
    for name in data:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == kind and parts[1] not in keys:
            keys.append(parts[1])
    return keys


def set_row(data: dict[str, list[str]], kind: str, index: int, **values: object) -> str:
    key = row_keys(data, kind)[index]
    for field, value in values.items():
        data[f"{kind}-{key}-{field}"] = [str(value)]
    return key


def note_url(visit: Visit) -> str:
    return f"/patients/{visit.patient_id}/visits/{visit.pk}/"


def start(client, world, *, written: bool = True) -> Visit:  # noqa: ANN001
    """Start a visit; ``written``: with an assessment and a plan typed, as signing asks (issue 12)."""
    response = client.post(f"/patients/{world.harbor_patient.pk}/visits/start/{world.harbor_episode.pk}/")
    assert response.status_code == 302, response.content[:500]
    visit = Visit.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    if written:
        Visit.objects.filter(pk=visit.pk).update(assessment="Tolerated well.", plan_text="Continue the plan.")
        visit.refresh_from_db()
    return visit


def signed_visit(world, *, rows=(), complementary=(), findings=(), day=dt.date(2026, 11, 20)) -> Visit:  # noqa: ANN001
    visit = Visit.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                 therapist=world.alice, visit_date=day, status=RecordStatus.SIGNED,
                                 signed_at=timezone.now(), signed_by=world.alice, findings=list(findings))
    for i, (technique, region, side, pressure, minutes) in enumerate(rows):
        TreatmentRow.objects.create(clinic=world.harbor, visit=visit, position=i, technique=technique, region=region,
                                    side=side, pressure=pressure, minutes=minutes)
    for i, (therapy, minutes) in enumerate(complementary):
        ComplementaryRow.objects.create(clinic=world.harbor, visit=visit, position=i, therapy=therapy, minutes=minutes)
    return visit


def signed_plan(world) -> PlanOfCare:  # noqa: ANN001
    """A therapist's signed plan on the episode: what an assistant documents visits under."""
    return PlanOfCare.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                     created_by=world.alice, start_date=dt.date(2026, 11, 1),
                                     status=RecordStatus.SIGNED, signed_at=timezone.now(), signed_by=world.alice)


# -- starting a visit ------------------------------------------------------------------------------


def test_start_visit_opens_a_draft_dated_today_for_the_therapist_under_the_current_plan(world, as_user):
    plan = PlanOfCare.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                     created_by=world.alice, start_date=dt.date(2026, 11, 1), status=RecordStatus.SIGNED,
                                     signed_at=timezone.now(), signed_by=world.alice)
    visit = start(as_user(world.alice), world)
    assert visit.status == RecordStatus.DRAFT and visit.visit_date == timezone.localdate()
    assert visit.therapist == world.alice and visit.plan == plan
    assert visit.screen_result.get("session") in ("proceed", "modify")
    assert AuditEvent.objects.filter(action="visit.create", patient_id=world.harbor_patient.pk).exists()


def test_start_visit_carries_forward_the_last_signed_visits_rows_and_findings(world, as_user):
    signed_visit(world, day=dt.date(2026, 11, 10), rows=[("effleurage", "lower_back", "", "light", 4)])
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 7), ("friction", "thigh", "left", "deep", 6)],
                 complementary=[("therapeutic_exercise", 23)], findings=[{"code": "varicose_veins", "region": "calf",
                                                                          "side": "right"}])
    visit = start(as_user(world.alice), world)
    rows = [(r.technique, r.region, r.side, r.pressure, r.minutes) for r in visit.treatments.all()]
    assert rows == [("petrissage", "lower_back", "", "moderate", 7), ("friction", "thigh", "left", "deep", 6)]
    # Complementary minutes carry forward like technique minutes (issue 12).
    assert [(c.therapy, c.minutes) for c in visit.complementary.all()] == [("therapeutic_exercise", 23)]
    assert visit.findings == [{"code": "varicose_veins", "region": "calf", "side": "right"}]


def test_start_visit_prefills_from_the_plan_of_care_when_no_visit_is_signed_yet(world, as_user):
    PlanOfCare.objects.create(
        clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, created_by=world.alice,
        start_date=dt.date(2026, 11, 1),
        items=[{"technique": "myofascial_release", "region": "lower_back", "side": None, "pressure": "moderate",
                "minutes": 5, "for": "low_back_pain"},
               {"technique": "not_a_technique", "region": "lower_back", "pressure": "light", "minutes": 3}],
        complementary=[{"therapy": "postural_training", "why": "..."}])
    visit = start(as_user(world.alice), world)
    assert [(r.technique, r.region, r.side, r.pressure, r.minutes) for r in visit.treatments.all()] == [
        ("myofascial_release", "lower_back", "", "moderate", 5)]
    assert [(c.therapy, c.minutes) for c in visit.complementary.all()] == [("postural_training", 0)]


def test_a_second_start_click_reopens_todays_draft_instead_of_making_a_duplicate(world, as_user):
    client = as_user(world.alice)
    first = start(client, world)
    second = start(client, world)
    assert first.pk == second.pk
    assert Visit.objects.filter(episode=world.harbor_episode).count() == 1


def test_the_start_page_says_what_will_be_prefilled(world, as_user):
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 7)])
    body = as_user(world.alice).get(f"/patients/{world.harbor_patient.pk}/visits/start/{world.harbor_episode.pk}/").content.decode()
    assert "last visit (2026-11-20)" in body and "Petrissage" in body


# -- the note --------------------------------------------------------------------------------------


def test_soreness_relief_and_nprs_are_stored_and_the_soreness_feeds_todays_dose(world, as_user):
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 7)])
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data.update({"soreness_since_last": ["6"], "soreness_hours": ["60"], "relief": ["some"], "nprs_before": ["5"],
                 "nprs_after": ["3"], "subjective": ["Sore for two and a half days after the last session."]})
    response = client.post(note_url(visit), data)
    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.soreness_since_last, visit.soreness_hours, visit.relief) == (6, 60, "some")
    assert (visit.nprs_before, visit.nprs_after) == (5, 3)
    # Soreness 6/10 for 60 h: the core lowers today's suggested pressure one level (planning policy §3).
    assert any("soreness" in (item.get("adjusted") or "").lower() or "soreness" in item["rationale"].lower()
               for item in visit.screen_result["plan"])
    event = AuditEvent.objects.filter(action="visit.update", object_id=str(visit.pk)).latest("seq")
    assert event.new["soreness_since_last"] == 6


def test_bad_numbers_and_a_paired_region_without_side_are_form_errors_that_keep_the_text(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data.update({"nprs_before": ["11"], "subjective": ["Felt looser after last time"]})
    set_row(data, "t", 0, technique="friction", region="thigh", side="", pressure="deep", minutes=6)
    response = client.post(note_url(visit), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a number from 0 to 10" in body and "is paired: choose left or right" in body
    assert "Felt looser after last time" in body and 'value="11"' in body
    assert Visit.objects.get(pk=visit.pk).subjective == ""


def test_rows_can_be_removed_and_blank_rows_are_ignored_without_javascript(world, as_user):
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 7), ("effleurage", "lower_back", "", "light", 4)])
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    assert len(row_keys(data, "t")) == 2 + 3  # two carried forward, three blank for a browser without JS
    set_row(data, "t", 1, remove="on")
    set_row(data, "t", 2, technique="myofascial_release", region="upper_back", pressure="moderate", minutes=5)
    assert client.post(note_url(visit), data).status_code == 302
    assert [(r.technique, r.position) for r in visit.treatments.all()] == [("petrissage", 0), ("myofascial_release", 1)]


def test_the_add_row_partial_gives_a_fresh_labelled_row(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world)
    body = client.get(f"{note_url(visit)}row/?kind=t", HTTP_HX_REQUEST="true").content.decode()
    assert body.lstrip().startswith("<tbody") and "<html" not in body
    assert 'name="t-n' in body and "Technique" in body and "<label" in body


# -- live billing ------------------------------------------------------------------------------------


def _billing_rows(client, visit):  # noqa: ANN001, ANN202
    data = read_form(client.get(note_url(visit)).content.decode())
    set_row(data, "t", 0, technique="friction", region="lower_back", pressure="moderate", minutes=8)
    set_row(data, "c", 0, therapy="therapeutic_exercise", minutes=23)
    return data


@pytest.mark.parametrize(("rule", "units"), [("cms", {"97140": 1, "97110": 1}), ("per_code", {"97140": 1, "97110": 2})])
def test_live_billing_counts_97140_and_97110_by_the_clinics_rule(world, as_user, rule, units):
    world.harbor.payer_unit_rule = rule
    world.harbor.save()
    client = as_user(world.alice)
    visit = start(client, world)
    data = _billing_rows(client, visit)
    live = client.post(f"{note_url(visit)}live/", data, HTTP_HX_REQUEST="true")
    body = live.content.decode()
    assert live.status_code == 200 and "<html" not in body
    assert 'id="live-billing" hx-swap-oob="true"' in body
    assert "97140" in body and "97110" in body
    assert client.post(note_url(visit), data).status_code == 302
    visit.refresh_from_db()
    assert {line["code"]: line["units"] for line in visit.billing["lines"]} == units
    assert visit.billing["rule"] == rule and visit.billing["explanation"]


def test_a_medicare_episode_is_always_billed_under_the_cms_rule_and_gets_its_payer_notes(world, as_user):
    world.harbor.payer_unit_rule = "per_code"
    world.harbor.save()
    world.harbor_episode.payer = "medicare"
    world.harbor_episode.save()
    client = as_user(world.alice)
    visit = start(client, world)
    data = _billing_rows(client, visit)
    set_row(data, "c", 1, therapy="electrical_stimulation", minutes=15)
    assert client.post(note_url(visit), data).status_code == 302
    visit.refresh_from_db()
    units = {line["code"]: line["units"] for line in visit.billing["lines"]}
    assert visit.billing["rule"] == "cms" and "Medicare" in visit.billing["rule_basis"]
    assert units["G0283"] == 1  # Medicare's code for unattended e-stim, untimed: one unit


def test_an_undelivered_complementary_therapy_with_0_minutes_is_not_billed(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    set_row(data, "c", 0, therapy="heat", minutes=0)
    assert client.post(note_url(visit), data).status_code == 302
    visit.refresh_from_db()
    assert visit.billing["lines"] == [] and "not billed" in visit.billing["not_billed"][0]


# -- the safety screen at every visit ---------------------------------------------------------------


def _wound_over_the_planned_row(client, world):  # noqa: ANN001, ANN202
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 7), ("effleurage", "thigh", "left", "light", 4)])
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data["subjective"] = ["Scraped her back gardening"]
    set_row(data, "f", 0, code="open_wound", region="lower_back", side="")
    return visit, data


def test_a_new_contraindication_shows_live_next_to_the_row_it_covers(world, as_user):
    client = as_user(world.alice)
    visit, data = _wound_over_the_planned_row(client, world)
    key = row_keys(data, "t")[0]
    other = row_keys(data, "t")[1]
    body = client.post(f"{note_url(visit)}live/", data, HTTP_HX_REQUEST="true").content.decode()
    assert f'id="safety-t-{key}" class="row-safety" hx-swap-oob="true"' in body
    row_part = body.split(f'id="safety-t-{key}"')[1].split("</div>")[0]
    assert "Petrissage at the lower back, moderate pressure: not allowed here" in row_part
    assert "open or healing wound" in row_part
    other_part = body.split(f'id="safety-t-{other}"')[1].split("</div>")[0]
    assert "Breaks" not in other_part
    assert "modify" in body.lower()


def test_saving_a_new_contraindication_keeps_the_finding_but_refuses_the_rows_it_covers(world, as_user):
    client = as_user(world.alice)
    visit, data = _wound_over_the_planned_row(client, world)
    set_row(data, "t", 0, minutes=9)
    response = client.post(note_url(visit), data, follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    assert "NOT the treatment rows" in body and "Petrissage at the lower back, moderate pressure: not allowed" in body
    assert 'value="9"' in body and "Scraped her back gardening" in body  # what was typed is on the page
    visit.refresh_from_db()
    assert visit.findings == [{"code": "open_wound", "region": "lower_back"}]
    assert visit.subjective == "Scraped her back gardening"
    assert visit.screen_result["session"] == "modify"
    assert [(r.technique, r.minutes) for r in visit.treatments.all()] == [("petrissage", 7), ("effleurage", 4)]
    # The billing shown is what was saved: the stored 7 + 4 minutes, not the refused 9.
    assert visit.billing["total_timed_minutes"] == 11
    assert response.context["billing"]["total_timed_minutes"] == 11
    # The re-rendered form carries the new version, so fixing the row and saving again works.
    fixed = read_form(body)
    set_row(fixed, "t", 0, remove="on")
    assert client.post(note_url(visit), fixed).status_code == 302
    assert [r.technique for r in visit.treatments.all()] == ["effleurage"]


def test_a_held_session_blocks_every_treatment_row(world, as_user):
    client = as_user(world.alice)
    signed_visit(world, rows=[("effleurage", "thigh", "left", "light", 4)])
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data["temperature_c"] = ["38.9"]
    body = client.post(note_url(visit), data, follow=True).content.decode()
    assert "NOT the treatment rows" in body and "holds today" in body.lower()
    visit.refresh_from_db()
    assert visit.screen_result["session"] == "hold" and visit.vitals == {"temperature_c": 38.9}


def test_a_therapist_overrides_a_restriction_with_a_reason_and_it_is_audited(world, as_user):
    client = as_user(world.alice)
    visit, data = _wound_over_the_planned_row(client, world)
    set_row(data, "f", 0, code="varicose_veins", region="lower_back")
    set_row(data, "t", 0, technique="petrissage", pressure="moderate", override_reason="Veins are on the flank only")
    assert client.post(note_url(visit), data).status_code == 302
    visit.refresh_from_db()
    assert [r.technique for r in visit.treatments.all()] == ["petrissage", "effleurage"]
    assert visit.overrides[0]["reason"] == "Veins are on the flank only"
    event = AuditEvent.objects.get(action="visit.override_restriction", object_id=str(visit.pk))
    assert event.actor == world.alice and event.new["row"]["technique"] == "petrissage"
    # Saving again keeps the override without a second audit event; the note can be signed.
    again = read_form(client.get(note_url(visit)).content.decode())
    again["sign"] = ["1"]
    assert client.post(note_url(visit), again).status_code == 302
    visit.refresh_from_db()
    assert visit.is_signed
    assert AuditEvent.objects.filter(action="visit.override_restriction").count() == 1


def test_an_assistant_cannot_override_a_restriction(world, as_user):
    signed_plan(world)
    client = as_user(world.bob)
    visit, data = _wound_over_the_planned_row(client, world)
    set_row(data, "t", 0, override_reason="I think it is fine")
    body = client.post(note_url(visit), data, follow=True).content.decode()
    assert "NOT the treatment rows" in body
    visit.refresh_from_db()
    assert visit.overrides == [] and not AuditEvent.objects.filter(action="visit.override_restriction").exists()


def test_a_visit_override_with_a_short_reason_is_refused_like_a_plans(world, as_user):
    """Stricter than before: a visit row overridden with "ok" used to save. The one minimum
    (core.safety.check_override_reason) now applies to visit notes as to plans of care."""
    client = as_user(world.alice)
    visit, data = _wound_over_the_planned_row(client, world)
    set_row(data, "f", 0, code="varicose_veins", region="lower_back")
    set_row(data, "t", 0, technique="petrissage", pressure="moderate", override_reason="ok")
    response = client.post(note_url(visit), data, follow=True)
    body = response.content.decode()
    assert response.status_code == 200 and "NOT the treatment rows" in body
    assert "at least 10 characters" in body
    visit.refresh_from_db()
    assert visit.overrides == [] and not AuditEvent.objects.filter(action="visit.override_restriction").exists()
    assert [r.technique for r in visit.treatments.all()] == ["petrissage", "effleurage"]  # as stored before


def test_an_absolute_contraindication_cannot_be_overridden_and_no_override_is_offered(world, as_user):
    """Stricter than before: the visit note accepted an override of any restriction but a hold."""
    client = as_user(world.alice)
    visit, data = _wound_over_the_planned_row(client, world)  # an open wound: an absolute contraindication
    key = set_row(data, "t", 0, override_reason="Wound is small and dressed, patient asks for it")
    body = client.post(note_url(visit), data, follow=True).content.decode()
    assert "NOT the treatment rows" in body and "cannot be overridden" in body
    row_part = body.split(f'id="safety-t-{key}"')[1].split("</td>")[0]
    assert "Override this restriction" not in row_part
    visit.refresh_from_db()
    assert visit.overrides == [] and not AuditEvent.objects.filter(action="visit.override_restriction").exists()
    # The live screen says the same next to the row, as the therapist types.
    live = client.post(f"{note_url(visit)}live/", data, HTTP_HX_REQUEST="true").content.decode()
    assert "cannot be overridden" in live.split(f'id="safety-t-{key}"')[1].split("</div>")[0]


def test_a_held_session_cannot_be_overridden_row_by_row(world, as_user):
    client = as_user(world.alice)
    signed_visit(world, rows=[("effleurage", "thigh", "left", "light", 4)])
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data["temperature_c"] = ["38.9"]
    set_row(data, "t", 0, override_reason="Fever is from a cold; the patient feels fine")
    body = client.post(note_url(visit), data, follow=True).content.decode()
    assert "NOT the treatment rows" in body and "cannot be overridden" in body
    visit.refresh_from_db()
    assert visit.overrides == []


def test_a_range_of_motion_row_on_a_paired_joint_needs_its_side(world, as_user):
    """Stricter than before: the visit's range-of-motion rows took any side; the evaluation's asked
    for one. Every form that takes a place and a side now asks core.regions.side_problem."""
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    set_row(data, "rom", 0, measure="knee:flexion", side="", degrees="120")
    body = client.post(note_url(visit), data).content.decode()
    assert "Knee is paired: choose left or right." in body
    visit.refresh_from_db()
    assert visit.rom == []


def test_save_and_sign_screens_the_note_once(world, as_user, monkeypatch):
    """Signing right after the save uses the screen the save stored: it stands on the same facts."""
    from palpate.lib import clinical

    client = as_user(world.alice)
    signed_visit(world, rows=[("effleurage", "thigh", "left", "light", 4)])
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data["sign"] = ["1"]
    calls = []
    real = clinical.plan
    monkeypatch.setattr(clinical, "plan", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert client.post(note_url(visit), data).status_code == 302
    visit.refresh_from_db()
    assert visit.is_signed and len(calls) == 1


def test_an_invalid_stored_fact_is_shown_as_an_error_not_a_500(clinical_world, as_user):
    world = clinical_world.world
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data["subjective"] = ["typed before the error"]
    # A stored evaluation finding the knowledge base no longer knows: the core refuses the request.
    clinical_world.evaluation.findings = [{"code": "retired_finding_code"}]
    clinical_world.evaluation.save()
    response = client.post(note_url(visit), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "The safety screen could not run" in body and "retired_finding_code" in body
    assert "typed before the error" in body
    assert Visit.objects.get(pk=visit.pk).subjective == ""
    assert client.post(f"{note_url(visit)}live/", data, HTTP_HX_REQUEST="true").status_code == 200


# -- two people on one draft -------------------------------------------------------------------------


def test_the_second_save_of_a_stale_draft_is_refused_and_keeps_what_was_typed(world, as_user, client):
    from django.test import Client

    alice = as_user(world.alice)
    visit = start(alice, world)
    dana = Client()
    dana.force_login(world.dana)
    alice_form = read_form(alice.get(note_url(visit)).content.decode())
    dana_form = read_form(dana.get(note_url(visit)).content.decode())

    alice_form["subjective"] = ["Alice: patient reports less stiffness"]
    assert alice.post(note_url(visit), alice_form).status_code == 302

    dana_form["subjective"] = ["Dana: patient slept badly"]
    dana_form["nprs_before"] = ["7"]
    response = dana.post(note_url(visit), dana_form)
    body = response.content.decode()
    assert response.status_code == 409
    assert "saved by Alice at" in body and "Your text is kept below" in body
    assert "Dana: patient slept badly" in body and 'value="7"' in body
    assert "Alice: patient reports less stiffness" in body  # what the first person saved, to review
    visit.refresh_from_db()
    assert visit.subjective == "Alice: patient reports less stiffness" and visit.nprs_before is None

    # Saving again from the re-rendered form (now on the current version) goes through.
    assert dana.post(note_url(visit), read_form(body)).status_code == 302
    visit.refresh_from_db()
    assert visit.subjective == "Dana: patient slept badly"


# -- signing and addenda -----------------------------------------------------------------------------


def test_signing_locks_the_note_and_any_later_edit_is_403(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    response = client.post(f"{note_url(visit)}sign/", {"version": data["version"][0]})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.is_signed and visit.signed_by == world.alice and visit.signed_at is not None
    assert AuditEvent.objects.filter(action="visit.sign", object_id=str(visit.pk)).exists()
    data["subjective"] = ["changed after signing"]
    refused = client.post(note_url(visit), data)
    assert refused.status_code == 403
    assert "changed after signing" in refused.content.decode() and "signed addendum" in refused.content.decode()
    assert Visit.objects.get(pk=visit.pk).subjective == ""
    assert client.post(f"{note_url(visit)}live/", data).status_code == 403
    assert client.get(f"{note_url(visit)}row/?kind=t").status_code == 403
    page = client.get(note_url(visit)).content.decode()
    assert 'class="visit-note"' not in page and "Signed by Alice" in page


def test_an_assistant_documents_under_a_signed_plan_but_cannot_sign(world, as_user):
    signed_plan(world)
    client = as_user(world.bob)
    visit = start(client, world)
    assert client.get(f"{note_url(visit)}sign/").status_code == 200
    assert client.post(f"{note_url(visit)}sign/", {"version": visit.version}).status_code == 403
    data = read_form(client.get(note_url(visit)).content.decode())
    data["sign"] = ["1"]
    client.post(note_url(visit), data)
    visit.refresh_from_db()
    assert not visit.is_signed


def test_a_note_whose_rows_break_the_screen_cannot_be_signed(world, as_user):
    client = as_user(world.alice)
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 7)])
    visit = start(client, world)
    visit.findings = [{"code": "open_wound", "region": "lower_back"}]
    visit.screen_result = {**visit.screen_result, "restrictions": [
        {"region": "lower_back", "side": None, "techniques": ["petrissage"], "max_pressure": "none",
         "because": ["open_wound"]}]}
    visit.save()
    response = client.post(f"{note_url(visit)}sign/", {"version": visit.version})
    assert response.status_code == 409
    assert "Petrissage at the lower back, moderate pressure: not allowed" in response.content.decode()
    visit.refresh_from_db()
    assert not visit.is_signed


def test_addenda_are_signed_audited_shown_in_order_and_only_for_signed_notes(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world)
    addendum_url = f"{note_url(visit)}addendum/"
    assert client.post(addendum_url, {"text": "too early"}).status_code == 403  # still a draft
    client.post(f"{note_url(visit)}sign/", {"version": visit.version})
    assert client.post(addendum_url, {"text": "   "}).status_code == 200  # "write the correction"
    client.post(addendum_url, {"text": "First correction: NPRS after was 3, not 4."})
    client.post(addendum_url, {"text": "Second: the friction was on the left."})
    texts = list(Addendum.objects.filter(visit=visit).values_list("text", flat=True))
    assert texts == ["First correction: NPRS after was 3, not 4.", "Second: the friction was on the left."]
    assert all(a.signed_by == world.alice for a in Addendum.objects.filter(visit=visit))
    assert AuditEvent.objects.filter(action="visit.addendum", patient_id=world.harbor_patient.pk).count() == 2
    page = client.get(note_url(visit)).content.decode()
    assert page.index("First correction") < page.index("Second: the friction")
    assert as_user(world.bob).post(addendum_url, {"text": "assistant"}).status_code == 403


def test_the_pdf_of_a_note_is_audited_and_marks_a_draft(world, as_user):
    from django.template.loader import render_to_string

    client = as_user(world.alice)
    visit = start(client, world)
    response = client.get(f"{note_url(visit)}note.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert response["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="visit.pdf", object_id=str(visit.pk), actor=world.alice).exists()
    html = render_to_string("visits/note_pdf.html", {"patient": world.harbor_patient, "visit": visit,
                                                     "episode": world.harbor_episode, "treatments": [],
                                                     "complementary": [], "addenda": [], "billing": {},
                                                     "screen": {}, "clinic": world.harbor})
    assert "DRAFT — not signed" in html


def test_another_clinics_visit_id_under_my_own_patient_is_404(world, as_user):
    summit_episode = world.summit_patient.episodes.create(
        clinic=world.summit, condition="neck_pain", body_region="neck", diagnosis="Neck pain", icd10_code="M54.2",
        onset_date=dt.date(2026, 10, 1), payer="commercial", opened_on=dt.date(2026, 10, 2))
    theirs = Visit.objects.create(clinic=world.summit, patient=world.summit_patient, episode=summit_episode,
                                  therapist=world.charlie, visit_date=dt.date(2026, 11, 2))
    client = as_user(world.alice)
    for suffix in ("", "live/", "sign/", "addendum/", "note.pdf", "row/"):
        assert client.get(f"/patients/{world.harbor_patient.pk}/visits/{theirs.pk}/{suffix}").status_code == 404
    assert client.post(f"/patients/{world.harbor_patient.pk}/visits/start/{summit_episode.pk}/").status_code == 404


def test_the_chart_panel_lists_visits_flags_drafts_and_offers_start_to_writers(clinical_world, as_user):
    world = clinical_world.world
    signed_visit(world, rows=[])
    page = as_user(world.alice).get(f"/patients/{world.harbor_patient.pk}/").content.decode()
    panel = page.split("visits-panel")[1].split("</form>")[0]  # the panel ends with its Start button
    assert "Draft, unsigned" in panel and "Signed" in panel and "6 → –" in panel
    assert "1 unsigned draft" in panel and "Start visit" in panel
    auditor = as_user(world.aubrey).get(f"/patients/{world.harbor_patient.pk}/").content.decode()
    assert "Start visit" not in auditor.split("visits-panel")[1].split("</div>")[0]


def test_signing_screens_again_with_an_evaluation_changed_since_the_last_save(clinical_world, as_user):
    world = clinical_world.world
    client = as_user(world.alice)
    signed_visit(world, rows=[("effleurage", "thigh", "left", "light", 4)])
    visit = start(client, world)
    clinical_world.evaluation.findings = [{"code": "dvt", "region": "calf", "side": "left"}]
    clinical_world.evaluation.save()
    response = client.post(f"{note_url(visit)}sign/", {"version": visit.version})
    assert response.status_code == 409
    visit.refresh_from_db()
    assert not visit.is_signed


def test_range_of_motion_vitals_and_findings_are_stored_and_shown_on_the_signed_note(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    set_row(data, "rom", 0, measure="hip:flexion", side="left", degrees=95)
    set_row(data, "f", 0, code="varicose_veins", region="calf", side="right")
    data.update({"bp_systolic": ["128"], "bp_diastolic": ["82"], "whole_body_findings": ["anticoagulant_therapy"],
                 "sign": ["1"]})
    assert client.post(note_url(visit), data).status_code == 302
    visit.refresh_from_db()
    assert visit.is_signed
    assert visit.rom == [{"joint": "hip", "motion": "flexion", "degrees": 95, "side": "left"}]
    assert visit.vitals == {"bp_systolic": 128, "bp_diastolic": 82}
    assert {"code": "anticoagulant_therapy"} in visit.findings
    assert {"code": "varicose_veins", "region": "calf", "side": "right"} in visit.findings
    page = as_user(world.aubrey).get(note_url(visit)).content.decode()
    assert "95°" in page and "128/82 mmHg" in page and "Varicose veins at right calf" in page
    assert 'class="visit-note"' not in page  # read-only for the auditor


def test_the_visit_list_shows_every_visit_of_the_patient(clinical_world, as_user):
    world = clinical_world.world
    signed_visit(world)
    page = as_user(world.aubrey).get(f"/patients/{world.harbor_patient.pk}/visits/").content.decode()
    assert "2026-11-20" in page and "2026-11-02" in page and "Draft, unsigned" in page
    assert AuditEvent.objects.filter(action="visit.list", actor=world.aubrey).exists()


def test_a_signed_note_keeps_the_diagnosis_it_was_signed_under(world, as_user):
    from django.template.loader import render_to_string

    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    client.post(f"{note_url(visit)}sign/", {"version": data["version"][0]})
    episode = world.harbor_episode
    episode.diagnosis, episode.icd10_code = "Corrected later", "M54.59"
    episode.save()
    visit = Visit.objects.get(pk=visit.pk)
    assert visit.signed_episode["diagnosis"] == "Low back pain, unspecified"
    assert visit.signed_episode["icd10_code"] == "M54.50"
    html = render_to_string("visits/note_pdf.html", {"visit": visit, "episode": episode, "patient": world.harbor_patient,
                                                      "clinic": world.harbor})
    assert "Low back pain, unspecified (M54.50)" in html and "Corrected later" not in html


def test_a_save_racing_another_save_writes_nothing_over_it(world, as_user):
    """The draft is read, then someone saves it, then this save writes: the conditional UPDATE finds
    another version and the outcome is stale; what the other person saved stays."""
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.visits import services
    from palpate.visits.note import NoteInput

    client = as_user(world.alice)
    visit = start(client, world)
    alice = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    dana = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.dana))
    read = Visit.objects.select_related("patient", "episode").get(pk=visit.pk)
    mine = services.check_visit_note(alice, read, NoteInput(subjective="Mine"))
    theirs_visit = Visit.objects.select_related("patient", "episode").get(pk=visit.pk)
    theirs = services.do_save_visit_note(dana, theirs_visit, services.check_visit_note(
        dana, theirs_visit, NoteInput(subjective="Theirs")), theirs_visit.version)
    assert theirs.status == "saved"
    outcome = services.do_save_visit_note(alice, read, mine, read.version)
    assert outcome.status == "stale" and outcome.visit.version == read.version + 1
    visit.refresh_from_db()
    assert visit.subjective == "Theirs" and visit.last_saved_by == world.dana
