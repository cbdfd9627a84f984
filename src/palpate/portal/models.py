"""The patient side: accounts, one-off links, questionnaires at home, warning-sign flags, settings.

Patients are not staff: a :class:`PortalAccount` is its own row with its own password hash, never
a ``accounts.User`` and never a clinic membership, so the staff sign-in cannot authenticate it and
no staff permission can ever apply to it. One-off links (:class:`AccessLink`) keep only the SHA-256
of their random token; the token itself exists only in the email that carries it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# Planning-policy-free product settings: the check-in goes out 24 to 48 hours after the session
# (the window in which post-treatment soreness is expected, planning-policy.md §4).
CHECK_IN_DELAY_MIN_HOURS, CHECK_IN_DELAY_MAX_HOURS = 24, 48


class PortalSettings(models.Model):
    """What a clinic decides about its patient side; without a row, the defaults below apply."""

    clinic = models.OneToOneField("clinics.Clinic", on_delete=models.PROTECT, primary_key=True, related_name="+")
    phone = models.CharField("clinic phone for patients", max_length=40, blank=True,
                             help_text="Shown on every patient page and in every warning-sign instruction.")
    emergency_number = models.CharField(max_length=20, default=settings.PALPATE_EMERGENCY_NUMBER,
                                        help_text="What patients are told to call for breathlessness or chest pain.")
    check_ins = models.BooleanField("send check-ins after visits", default=True)
    check_in_delay_hours = models.PositiveSmallIntegerField(
        default=CHECK_IN_DELAY_MIN_HOURS,
        validators=[MinValueValidator(CHECK_IN_DELAY_MIN_HOURS), MaxValueValidator(CHECK_IN_DELAY_MAX_HOURS)],
        help_text="Hours after the note is signed (24 to 48).")
    link_valid_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="How long a check-in, questionnaire or invitation link works (1 to 30 days).")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Patient portal settings of clinic {self.clinic_id}"


class PortalAccount(models.Model):
    """A patient's sign-in to the patient side of their clinic."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.OneToOneField("patients.Patient", on_delete=models.PROTECT, related_name="+")
    email = models.EmailField()
    # Django's password hash (argon2); empty until the patient sets one from the invitation.
    password = models.CharField(max_length=128, blank=True)
    is_active = models.BooleanField(default=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    invited_at = models.DateTimeField()
    password_set_at = models.DateTimeField(null=True, blank=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    reminder_enabled = models.BooleanField(default=False)
    reminder_hour = models.PositiveSmallIntegerField(default=18, validators=[MaxValueValidator(23)])
    last_reminded_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "email"], name="portalaccount_unique_clinic_email")]
        indexes = [models.Index(fields=["reminder_enabled", "reminder_hour"], name="portalaccount_reminders")]

    def __str__(self) -> str:
        return f"Portal account of patient {self.patient_id}"

    @property
    def has_password(self) -> bool:
        return bool(self.password)


class SignInThrottle(models.Model):
    """Failed patient sign-ins per clinic and email (hashed), whether or not an account exists, so
    the lockout neither lets passwords be guessed nor tells which emails have accounts."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "key"], name="signinthrottle_unique_clinic_key")]

    def __str__(self) -> str:
        return f"{self.failures} failed sign-ins"


class LinkPurpose(models.TextChoices):
    INVITE = "invite", "Set your password"
    CHECK_IN = "check_in", "Check-in after a visit"
    QUESTIONNAIRE = "questionnaire", "Questionnaire"


class AccessLink(models.Model):
    """A signed, single-purpose, expiring link, usable once; only the token's SHA-256 is stored."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=16, choices=LinkPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # The check-in or questionnaire assignment the link opens (by purpose); none for an invitation.
    target_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "patient", "purpose"], name="accesslink_clinic_patient")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for patient {self.patient_id}"


class QuestionnaireAssignment(models.Model):
    """A questionnaire the therapist asked the patient to fill at home, once or every few days.

    The patient may fill it from ``open_from``; ``due_on`` is the day it is wanted by. After each
    answer a repeating assignment opens again ``repeat_days`` later; a single one is finished.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=16)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField()
    open_from = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    repeat_days = models.PositiveSmallIntegerField(null=True, blank=True)
    last_sent_on = models.DateField(null=True, blank=True)
    last_completed_on = models.DateField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["clinic", "patient", "open_from"], name="assignment_clinic_patient"),
            models.Index(fields=["open_from", "last_sent_on"], name="assignment_open_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} for patient {self.patient_id}"

    @property
    def is_open(self) -> bool:
        return self.stopped_at is None and self.open_from is not None


class WarningFlag(models.Model):
    """A warning sign a patient reported, waiting for the treating therapist to act and acknowledge."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="+")
    check_in = models.ForeignKey("reported.CheckIn", on_delete=models.PROTECT, related_name="+")
    sign = models.CharField(max_length=40)
    side = models.CharField(max_length=8, blank=True)
    urgency = models.CharField(max_length=12)
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    acknowledgement = models.TextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "check_in", "sign"], name="flag_unique_checkin_sign")]
        indexes = [
            # Today's urgent list (open flags of one therapist, or of the clinic) and the chart's.
            models.Index(fields=["clinic", "therapist", "acknowledged_at"], name="flag_clinic_therapist_open"),
            models.Index(fields=["clinic", "patient", "acknowledged_at"], name="flag_clinic_patient_open"),
        ]

    def __str__(self) -> str:
        return f"{self.sign} reported {self.raised_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
