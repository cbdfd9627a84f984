"""Scored outcome measures per episode, and clinic-licensed questionnaire wording."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from palpate.lib.voiding import Voidable


class Source(models.TextChoices):
    CLINIC = "clinic", "Entered in the clinic"
    PATIENT = "patient", "Reported by the patient at home"


class OutcomeMeasurement(Voidable):
    """One completed questionnaire (or NPRS rating), scored by ``palpate.core.measures``.

    ``source`` says who filled it: the clinic (``entered_by`` typed it in) or the patient at home
    through the patient portal (``entered_by`` is then the therapist who assigned it).
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="outcomes")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="outcomes")
    visit = models.ForeignKey("visits.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes")
    instrument = models.CharField(max_length=16)
    taken_on = models.DateField()
    answers = models.JSONField()
    valid = models.BooleanField()
    score = models.FloatField(null=True, blank=True)
    # BCTQ has two scales: {"symptom_severity": x, "functional_status": y}.
    scores = models.JSONField(null=True, blank=True)
    # Why the core could not score it (``too_many_missing``); blank when valid.
    reason = models.CharField(max_length=32, blank=True, default="")
    # PSFS only: the activities the patient named, in the same order as ``answers``.
    activities = models.JSONField(default=list, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.CLINIC)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["taken_on", "id"]
        indexes = [models.Index(fields=["clinic", "episode", "instrument", "taken_on"], name="outcome_clinic_episode")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.taken_on}: {self.score}"

    @property
    def patient_reported(self) -> bool:
        return self.source == Source.PATIENT


class LicensedWording(models.Model):
    """Full item wording a clinic holds a licence for; the forms show it instead of topic labels."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=16)
    wording = models.JSONField()
    licence_note = models.CharField(max_length=200, blank=True)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "instrument"], name="wording_unique_clinic_instrument")]

    def __str__(self) -> str:
        return f"{self.instrument} wording"


class MainMeasureChoice(models.Model):
    """A therapist's choice of an episode's main measure, overriding the suggested default.

    Without a row here the main measure follows ``palpate.outcomes.main_measure.suggested``.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.CASCADE, related_name="+")
    instrument = models.CharField(max_length=16)
    # Only for a multi-scale instrument (BCTQ): which of its scales judges progress.
    scale = models.CharField(max_length=32, blank=True, default="")
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    chosen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "episode"], name="main_measure_unique_clinic_episode")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.scale}".strip()
