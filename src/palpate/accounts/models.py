"""People who sign in, their sessions and their recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.models import Device, ThrottlingMixin

from palpate.lib.npi import validate_npi

# Django's own salt, so sessions made before the epoch existed (epoch 0) stay valid.
_SESSION_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"


class User(AbstractUser):
    """A person who signs in. Clinic access comes from memberships, never from this row."""

    # Every session carries a hash of the password (Django) and of this number: raising it ends
    # every session of the account at once, on its next request (sign out everywhere, a member
    # deactivated, a second factor reset), whatever the session store, with no query of its own.
    session_epoch = models.PositiveIntegerField(default=0)
    # What a referral letter signs with: "PT, DPT", and the US National Provider Identifier.
    credentials = models.CharField(max_length=100, blank=True, help_text="e.g. PT, DPT, OCS")
    npi = models.CharField("NPI", max_length=10, blank=True, validators=[validate_npi],
                           help_text="Your 10-digit National Provider Identifier, printed on referral letters.")

    def display_name(self) -> str:
        """How a person is named on every page, PDF and audit message: the full name, else the username."""
        return self.get_full_name() or self.get_username()

    def _session_hash(self, secret: str | None = None) -> str:
        value = self.password if not self.session_epoch else f"{self.password}\x00{self.session_epoch}"
        return salted_hmac(_SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()

    def get_session_auth_hash(self) -> str:
        return self._session_hash()

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)


class SignedInSession(models.Model):
    """One sign-in on one browser, for the person's list of their active sessions.

    The session itself lives in Django's session store; this row says when and from where it
    started and when it was last used. A session ends by signing out, by the idle or absolute
    limit, or when the account's ``session_epoch`` moves past the one it started under.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions")
    epoch = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=100, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    remember = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["user", "ended_at"], name="signed_in_session_user")]

    def __str__(self) -> str:
        return f"session of {self.user_id} from {self.started_at:%Y-%m-%d %H:%M}"


# Recovery codes: 16 characters of Crockford's base32 (80 random bits), shown once, kept as SHA-256.
# A random 80-bit code needs no slow hash: nobody can try 2^80 candidates against a digest.
RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_CODE_COUNT = 10
_CROCKFORD_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def recovery_code_digest(code: str) -> str:
    """The stored form of a code as typed: case, spaces and dashes ignored, O/I/L read as 0/1/1."""
    normal = "".join(char for char in code.upper() if char.isalnum()).translate(_CROCKFORD_ALIASES)
    return hashlib.sha256(normal.encode()).hexdigest()


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """A second factor for when the authenticator app is lost: one-time codes, each used once."""

    def get_throttle_factor(self) -> int:
        return 1

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token: object) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed or not isinstance(token, str):
            return False
        # One conditional UPDATE: two requests with the same code cannot both use it.
        used = self.codes.filter(digest=recovery_code_digest(token), used_at__isnull=True).update(used_at=timezone.now())
        if used:
            self.throttle_reset()
            return True
        self.throttle_increment()
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_unique_digest")]

    def __str__(self) -> str:
        return f"recovery code of device {self.device_id}{' (used)' if self.used_at else ''}"
