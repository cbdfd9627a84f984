"""The discharge summary of an episode of care.

Edited as a draft, then signed by a therapist and locked; corrections after that are signed
addenda. Signing it discharges the episode (``patients.EpisodeStatus.DISCHARGED``) in the same
transaction.

- ``goals``: the signed plan of care's goals with the therapist's verdict:
  ``[{"term", "text", "target_date"?, "outcome": "met"|"partly_met"|"not_met"|""}]``
- ``home_program``: the exercises to continue, in the plan's shape (``plans.models``)
- ``outcomes``: filled on signing, so the signed summary prints the same later:
  ``[{"label", "instrument", "scale", "first", "first_on", "last", "last_on", "change", "mcid",
  "meets_mcid", "direction", "source"}]`` (``change`` and ``mcid`` are None with one score only)
- ``signer``: the signing therapist's name and credentials as they stood when signed
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from palpate.lib.models_common import SignedAddendum, SignedRecord


class Discharge(SignedRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="discharges")
    # The signed plan of care whose goals are judged (None: the episode never had one signed).
    plan = models.ForeignKey("plans.PlanOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=24, blank=True)  # vocabulary: discharge_reason
    reason_detail = models.TextField(blank=True)
    goals = models.JSONField(default=list, blank=True)
    home_program = models.JSONField(default=list, blank=True)
    home_program_notes = models.TextField(blank=True)
    outcomes = models.JSONField(default=list, blank=True)
    signer = models.JSONField(default=dict, blank=True)
    discharged_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["clinic", "episode", "status"], name="discharge_clinic_episode")]

    def __str__(self) -> str:
        return f"Discharge summary of {self.discharged_on}" if self.discharged_on else "Draft discharge summary"


class DischargeAddendum(SignedAddendum):
    discharge = models.ForeignKey(Discharge, on_delete=models.PROTECT, related_name="addenda")

    class Meta(SignedAddendum.Meta):
        indexes = [models.Index(fields=["clinic", "discharge"], name="discharge_addendum_clinic")]
