"""Sign-in lockout: per account whatever the address, and per address whatever the account.

django-axes counts failed sign-ins and refuses further tries past a limit. It has one limit; Palpate
has two (``settings.AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]`` counts both ways):

- an **account** is locked after ``PALPATE_LOGIN_FAILURE_LIMIT`` failures from any addresses (40
  guesses spread over 10 addresses no longer get through), and
- an **address** is locked after ``PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS`` failures for any
  accounts (one machine trying many usernames), a higher number because a clinic's staff often
  share one address behind its router.

Both cool off after ``PALPATE_LOGIN_COOLOFF_HOURS``. A successful sign-in clears only that
account's failures: clearing the address's too would let someone reset a colleague's count by
signing in as themselves from the same machine. An owner can clear a colleague's lock (staff page);
a password reset by email clears it too.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone


def _total(attempts: Any) -> int:
    return int(attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)


class LockoutHandler(AxesDatabaseHandler):  # type: ignore[misc]
    def failure_counts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> tuple[int, int]:
        """(failures of this account, failures from this address) within the cool-off time."""
        per_account, per_address = self.get_user_attempts(request, credentials)
        return _total(per_account), _total(per_address)

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> float:
        # axes compares this one number with AXES_FAILURE_LIMIT (the account's limit), so the
        # address's failures count in proportion to the address's own, higher limit.
        per_account, per_address = self.failure_counts(request, credentials)
        return max(per_account, per_address * settings.AXES_FAILURE_LIMIT / settings.PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS)

    def locked_by(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
        """``"account"``, ``"address"`` or ``""``: which limit refuses this sign-in now."""
        per_account, per_address = self.failure_counts(request, credentials)
        if per_account >= settings.AXES_FAILURE_LIMIT:
            return "account"
        if per_address >= settings.PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return "address"
        return ""

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        return clear_account(username) if username else 0


def clear_account(username: str) -> int:
    """Forget an account's failed sign-ins (from every address): its lock, if any, is lifted."""
    count, _ = AccessAttempt.objects.filter(username=username).delete()
    return int(count)


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of ``usernames`` are locked now (one query, for the staff page)."""
    attempts = AccessAttempt.objects.filter(username__in=usernames)
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    totals = attempts.values("username").annotate(n=Sum("failures_since_start"))
    return {row["username"] for row in totals if row["n"] >= settings.AXES_FAILURE_LIMIT}
