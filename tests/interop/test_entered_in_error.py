"""A record voided as entered in error is not served by the FHIR API nor in a bulk export."""

from __future__ import annotations

import json

import pytest

from palpate.clinics.actor import Actor
from palpate.evaluations.services import do_void_evaluation
from palpate.outcomes.services import do_void_measurement
from palpate.visits.services import do_void_visit

pytestmark = pytest.mark.django_db

REASON = "Entered for the wrong patient"


def test_voided_drafts_and_outcome_entries_leave_every_observation_search_and_read(clinical_world, make_token, fhir):
    cw = clinical_world
    api = fhir(make_token(cw.world.alice))
    patient = f"Patient/{cw.world.harbor_patient.pk}"

    def observation_ids() -> list[str]:
        found = json.loads(api.get("Observation", patient=patient).content)
        return sorted(e["resource"]["id"] for e in found.get("entry", []))

    assert len(observation_ids()) == 3
    assert api.get(f"Observation/outcome-{cw.measurement.pk}").status_code == 200
    actor = Actor.of(cw.world.alice.memberships.get())
    do_void_measurement(actor, cw.measurement, REASON)
    assert f"outcome-{cw.measurement.pk}" not in observation_ids()
    assert api.get(f"Observation/outcome-{cw.measurement.pk}").status_code == 404
    assert api.get(f"QuestionnaireResponse/{cw.measurement.pk}").status_code == 404
    do_void_visit(actor, cw.visit, REASON)
    do_void_evaluation(actor, cw.evaluation, REASON)
    assert observation_ids() == []
    assert api.get(f"Encounter/visit-{cw.visit.pk}").status_code == 404


@pytest.fixture
def exports_in_tmp(settings, tmp_path):  # noqa: ANN001, ANN201
    settings.PALPATE_FHIR_EXPORT_DIR = tmp_path / "exports"


def test_a_bulk_export_leaves_voided_records_out(clinical_world, make_token, fhir, exports_in_tmp):
    from tests.interop.test_bulk_export import download, kick_off, run_queued

    cw = clinical_world
    actor = Actor.of(cw.world.alice.memberships.get())
    treatment = cw.visit.treatments.get().pk
    do_void_measurement(actor, cw.measurement, REASON)
    do_void_visit(actor, cw.visit, REASON)
    api = fhir(make_token(cw.world.alice))
    status_path = kick_off(api)
    run_queued()
    files = download(api, json.loads(api.get(status_path).content))
    ids = {resource["id"] for resources in files.values() for resource in resources}
    assert str(cw.world.harbor_patient.pk) in ids  # the export ran and holds the patient
    assert not files.get("QuestionnaireResponse")  # the only one was the voided entry
    gone = {f"outcome-{cw.measurement.pk}", f"visit-{cw.visit.pk}",
            f"visit-{cw.visit.pk}-nprs-before", f"treatment-{treatment}"}
    assert not ids & gone
