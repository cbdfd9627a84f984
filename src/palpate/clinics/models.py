from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

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
    payer_unit_rule = models.CharField(max_length=16, choices=UnitRule.choices, default=UnitRule.CMS)
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
