from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

if TYPE_CHECKING:
    from palpate.clinics.actor import Actor

# ICD-10-CM shape: letter, two characters, then an optional dot and up to four more.
# (The shape only; the code set itself changes every October and is the biller's to confirm.)
ICD10CM_VALIDATOR = RegexValidator(
    r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$",
    "Enter an ICD-10-CM code such as M54.50 or S39.012A (letter, two characters, optional dot and up to four more).",
)


# What a search of the patient list looks in (the front desk finds a patient by any of these).
SEARCHED_FIELDS = ("given_name", "family_name", "record_number", "phone", "email")


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class PatientQuerySet(models.QuerySet["Patient"]):
    def for_actor(self, actor: Actor | None) -> PatientQuerySet:
        """The one tenant filter: only the active clinic's patients, or none at all."""
        if actor is None:
            return self.none()
        return self.filter(clinic=actor.clinic)


class Patient(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    record_number = models.CharField(
        "record number", max_length=32, help_text="Unique within the clinic. Leave blank to assign the next number."
    )
    given_name = models.CharField("first name", max_length=100)
    family_name = models.CharField("last name", max_length=100)
    date_of_birth = models.DateField("date of birth")
    sex = models.CharField(max_length=8, choices=Sex.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    # What the patient search looks in (palpate.patients.search), lower-cased, kept on every save.
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "record_number"], name="patient_unique_clinic_record_number")
        ]
        indexes = [
            models.Index(fields=["clinic", "family_name", "given_name"], name="patient_clinic_name"),
            # Today's "recent patients".
            models.Index(fields=["clinic", "updated_at"], name="patient_clinic_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.record_number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.search_text = self.search_text_for(self)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "search_text" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "search_text"]
        super().save(*args, **kwargs)

    @staticmethod
    def search_text_for(patient: Patient) -> str:
        """Names, record number, phone and email, as the search reads them (one space between)."""
        return " ".join(str(getattr(patient, name) or "") for name in SEARCHED_FIELDS).lower()

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: object) -> int:
        import datetime as dt

        assert isinstance(day, dt.date)
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class Payer(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid"
    COMMERCIAL = "commercial", "Commercial insurance"
    WORKERS_COMP = "workers_comp", "Workers' compensation"
    AUTO = "auto", "Auto / personal injury"
    SELF_PAY = "self_pay", "Self-pay"


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    # Paused (the patient is away, waiting for a specialist...): no booking, no new plan, off Today.
    ON_HOLD = "on_hold", "On hold"
    # Only a signed discharge summary (palpate.discharge) sets this.
    DISCHARGED = "discharged", "Discharged"


class Episode(models.Model):
    """An episode of care: one problem, from referral to discharge."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="episodes")
    condition = models.CharField(
        max_length=40, help_text="What brings the patient in (the knowledge base's condition list)."
    )
    body_region = models.CharField("body region", max_length=20)
    side = models.CharField(max_length=8, blank=True, help_text="Left or right for paired regions; blank for midline.")
    diagnosis = models.CharField(max_length=200)
    icd10_code = models.CharField("ICD-10-CM code", max_length=10, validators=[ICD10CM_VALIDATOR])
    onset_date = models.DateField("onset date")
    referral_source = models.CharField("referred by", max_length=200, blank=True)
    payer = models.CharField(max_length=16, choices=Payer.choices)
    payer_name = models.CharField("insurer / plan", max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE)
    opened_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        indexes = [models.Index(fields=["clinic", "patient", "status"], name="episode_clinic_patient")]

    def __str__(self) -> str:
        return f"{self.diagnosis} ({self.icd10_code})"

    def not_active_message(self, before: str) -> str:
        """Why nothing new can happen on this episode: "... is on hold: resume it before booking."."""
        if self.status == EpisodeStatus.ON_HOLD:
            return f"This episode of care is on hold: resume it before {before}."
        return f"This episode of care is discharged: reopen it before {before}."


class EpisodeStatusChange(models.Model):
    """One change of an episode's status, with the reason given (also an audit event)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=EpisodeStatus.choices)
    to_status = models.CharField(max_length=12, choices=EpisodeStatus.choices)
    reason = models.TextField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["clinic", "episode"], name="episode_status_change")]

    def __str__(self) -> str:
        return f"{self.from_status} -> {self.to_status}"
