from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from palpate.clinics.roles import Role


class UnitRule(models.TextChoices):
    CMS = "cms", "CMS 8-minute rule (total timed minutes)"
    PER_CODE = "per_code", "Per code (each timed code on its own)"


class Clinic(models.Model):
    """The tenant. Every patient-data row points at one clinic."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        default=settings.PALPATE_DEFAULT_IDLE_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text="Sign users out after this many minutes without activity.",
    )
    require_two_factor = models.BooleanField(
        default=False, help_text="Every member must use an authenticator app (TOTP) to sign in."
    )
    session_max_hours = models.PositiveSmallIntegerField(
        default=settings.PALPATE_DEFAULT_SESSION_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(settings.PALPATE_MAX_SESSION_HOURS)],
        help_text="Sign users out this many hours after they signed in, however active (at most "
                  f"{settings.PALPATE_MAX_SESSION_HOURS}).",
    )
    # Printed on referral letters and other documents that leave the clinic.
    address = models.TextField(blank=True, help_text="Street, city, state and ZIP, as printed on letters.")
    phone = models.CharField(max_length=40, blank=True)
    payer_unit_rule = models.CharField(max_length=16, choices=UnitRule.choices, default=UnitRule.CMS)
    # A signed note without an assessment or a plan documents no clinical reasoning: signing asks
    # for them unless the clinic decided otherwise (issue 12, item 6).
    sign_requires_assessment_and_plan = models.BooleanField(
        default=True, help_text="Signing a visit note asks for its assessment and plan when either is empty.")
    # Clinic overrides of the knowledge base's policy thresholds (fever, blood pressure, session
    # length), keyed as palpate.core's policy keys; empty means the shipped defaults.
    policy_overrides = models.JSONField(default=dict, blank=True)
    # Next automatic medical record number; bumped under a row lock.
    record_counter = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "user"], name="membership_unique_clinic_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.clinic} ({self.role})"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An owner's invitation to join the clinic in a role, sent by email as a link.

    The link carries a random token; only its SHA-256 is stored, so the database (or a backup of
    it) cannot be used to accept an invitation. It works once, until ``expires_at``, unless the
    owner withdraws it or sends it again (which makes a new token).
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    token_digest = models.CharField(max_length=64)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["clinic", "email"], name="invitation_clinic_email")]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.clinic_id} as {self.role}"

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "withdrawn"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
