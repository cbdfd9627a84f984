"""Licensed questionnaire wording: loaded by owners, validated by the core, audited, shown on forms."""

from __future__ import annotations

import datetime as dt
import json

from django.core.files.uploadedfile import SimpleUploadedFile

from palpate.audit.models import AuditEvent
from palpate.outcomes.models import LicensedWording

ODI_WORDING = "instrument: odi\nitems:\n" + "".join(f'  {n}: "Licensed question {n}"\n' for n in range(2, 11)) + (
    '  1:\n    text: "How bad is your pain right now?"\n'
    '    options: {0: "I have no pain", 1: "Very mild", 2: "Moderate", 3: "Fairly severe", 4: "Very severe", '
    '5: "Worst imaginable"}\n'
)


def wording_url(world) -> str:  # noqa: ANN001
    return f"/patients/{world.harbor_patient.pk}/outcomes/wording/"


def odi_form_url(world) -> str:  # noqa: ANN001
    return f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/record/odi/"


def test_an_owner_loads_licensed_wording_and_every_odi_form_of_the_clinic_then_shows_it(world, as_user, client):
    response = as_user(world.olivia).post(wording_url(world), {"instrument": "odi", "text": ODI_WORDING,
                                                              "licence_note": "Licence 2026-114"})
    assert response.status_code == 302
    stored = LicensedWording.objects.get(clinic=world.harbor, instrument="odi")
    assert stored.licence_note == "Licence 2026-114" and stored.loaded_by == world.olivia
    assert stored.wording["items"]["2"] == "Licensed question 2"
    assert stored.wording["items"]["1"]["options"]["5"] == "Worst imaginable"
    client.logout()
    body = as_user(world.alice).get(odi_form_url(world)).content.decode()
    assert '<span class="item-number">1.</span> How bad is your pain right now?</legend>' in body
    assert "Topic: pain intensity" in body and "I have no pain" in body and "Worst imaginable" in body
    assert "<span class=\"item-number\">2.</span> Licensed question 2</legend>" in body
    assert "Shown with your clinic's licensed wording." in body


def test_loading_wording_is_audited_with_a_fingerprint_not_the_licensed_text(world, as_user):
    as_user(world.olivia).post(wording_url(world), {"instrument": "odi", "text": ODI_WORDING})
    event = AuditEvent.objects.get(action="outcomes.wording.load")
    assert event.actor == world.olivia and event.patient_id is None and event.old is None
    assert event.new["instrument"] == "odi" and len(event.new["digest"]) == 64
    assert "Licensed question" not in json.dumps(event.new)


def test_a_wording_file_missing_an_item_is_refused_with_the_core_message_and_the_pasted_text_is_kept(world, as_user):
    incomplete = ODI_WORDING.replace('  10: "Licensed question 10"\n', "")
    response = as_user(world.olivia).post(wording_url(world), {"instrument": "odi", "text": incomplete,
                                                               "licence_note": "L-1"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "the wording must cover all 10 items; missing: 10 (at items)" in body
    assert "Licensed question 9" in body and 'value="L-1"' in body, "what was pasted is still there"
    assert not LicensedWording.objects.exists() and not AuditEvent.objects.filter(action="outcomes.wording.load").exists()


def test_an_uploaded_json_file_is_checked_and_loaded(world, as_user):
    items = {str(n): f"JSON question {n}" for n in range(1, 11)}
    upload = SimpleUploadedFile("ndi.json", json.dumps({"instrument": "ndi", "items": items}).encode(),
                                content_type="application/json")
    response = as_user(world.olivia).post(wording_url(world), {"instrument": "ndi", "file": upload})
    assert response.status_code == 302
    assert LicensedWording.objects.get(instrument="ndi").wording["items"]["10"] == "JSON question 10"


def test_a_file_for_another_questionnaire_or_one_that_is_not_yaml_is_refused(world, as_user):
    client = as_user(world.olivia)
    body = client.post(wording_url(world), {"instrument": "ndi", "text": ODI_WORDING}).content.decode()
    assert "the file is for &#x27;odi&#x27;, not &#x27;ndi&#x27;" in body
    body = client.post(wording_url(world), {"instrument": "odi", "text": "items: [unclosed"}).content.decode()
    assert "the wording file is not valid YAML or JSON" in body
    binary = SimpleUploadedFile("odi.pdf", b"%PDF-1.7 \xff\xfe\x00", content_type="application/pdf")
    body = client.post(wording_url(world), {"instrument": "odi", "file": binary}).content.decode()
    assert "That file is not UTF-8 text" in body
    assert not LicensedWording.objects.exists()


def test_the_bctq_takes_its_wording_nested_by_scale(world, as_user):
    text = json.dumps({"instrument": "bctq", "items": {
        "symptom_severity": {str(n): f"Symptom question {n}" for n in range(1, 12)},
        "functional_status": {str(n): f"Function question {n}" for n in range(1, 9)},
    }})
    assert as_user(world.olivia).post(wording_url(world), {"instrument": "bctq", "text": text}).status_code == 302
    body = as_user(world.olivia).get(
        f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/record/bctq/").content.decode()
    assert "Symptom question 11</legend>" in body and "Function question 8</legend>" in body


def test_only_owners_load_wording_while_clinical_staff_can_see_what_is_loaded(world, as_user, client):
    for person in (world.alice, world.bob, world.aubrey):
        client.logout()
        assert as_user(person).post(wording_url(world), {"instrument": "odi", "text": ODI_WORDING}).status_code == 403
    client.logout()
    body = as_user(world.bob).get(wording_url(world)).content.decode()
    assert "Only a clinic owner can load or remove licensed wording." in body and "Topic labels" in body
    assert not LicensedWording.objects.exists()
    client.logout()
    assert as_user(world.fran).get(wording_url(world)).status_code == 403


def test_the_psfs_is_not_offered_because_its_activities_are_named_by_the_patient(world, as_user):
    body = as_user(world.olivia).get(wording_url(world)).content.decode()
    assert '<option value="odi"' in body and '<option value="psfs"' not in body
    response = as_user(world.olivia).post(wording_url(world), {"instrument": "psfs", "text": "items: {}"})
    assert "Select a valid choice" in response.content.decode()


def test_removing_wording_brings_back_the_topic_labels_and_is_audited(world, as_user):
    client = as_user(world.olivia)
    client.post(wording_url(world), {"instrument": "odi", "text": ODI_WORDING})
    response = client.post(wording_url(world), {"action": "remove", "instrument": "odi"})
    assert response.status_code == 302 and not LicensedWording.objects.exists()
    assert AuditEvent.objects.get(action="outcomes.wording.remove").old["instrument"] == "odi"
    body = client.get(odi_form_url(world)).content.decode()
    assert '<span class="item-number">1.</span> Pain intensity</legend>' in body
    assert "Load your clinic's licensed wording" in body, "owners are offered to load it"


def test_wording_belongs_to_one_clinic(world, as_user, client):
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.patients import services
    from palpate.patients.models import Episode

    as_user(world.olivia).post(wording_url(world), {"instrument": "odi", "text": ODI_WORDING})
    actor = Actor.of(Membership.objects.get(clinic=world.summit, user=world.charlie))
    episode = services.do_create_episode(actor, world.summit_patient, Episode(
        condition="low_back_pain", body_region="lower_back", diagnosis="Low back pain", icd10_code="M54.50",
        onset_date=dt.date(2026, 10, 1), payer="commercial"))
    client.logout()
    body = as_user(world.charlie).get(
        f"/patients/{world.summit_patient.pk}/outcomes/episodes/{episode.pk}/record/odi/").content.decode()
    assert "Licensed question" not in body and "Pain intensity</legend>" in body


def test_stored_wording_that_no_longer_fits_falls_back_to_topic_labels_and_says_so(world, as_user):
    LicensedWording.objects.create(clinic=world.harbor, instrument="odi", loaded_by=world.olivia,
                                   wording={"instrument": "odi", "items": {"1": "Only one item"}})
    body = as_user(world.alice).get(odi_form_url(world)).content.decode()
    assert "no longer matches this questionnaire" in body and "Pain intensity</legend>" in body
