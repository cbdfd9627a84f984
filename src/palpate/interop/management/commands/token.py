"""``palpate token create|list|revoke``: API tokens from the server's command line.

``create --user NAME --scope read|write [--days N] [--clinic SLUG] [--label TEXT]`` prints the token
once on standard output. Bad input exits 2 with a JSON error on standard error that says what to fix.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from palpate.clinics.models import Clinic, Membership
from palpate.interop import services
from palpate.interop.models import ApiToken, Scope

EXIT_BAD_INPUT = 2


class BadInput(Exception):
    def __init__(self, code: str, message: str, path: str) -> None:
        super().__init__(message)
        self.code, self.message, self.path = code, message, path


class Command(BaseCommand):
    help = "Make, list and revoke API tokens for other systems (FHIR and JSON API)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a token and print it once")
        create.add_argument("--user", required=True, help="the user name of the member the token acts as")
        create.add_argument("--scope", required=True, help="read or write")
        create.add_argument("--days", type=int, default=None, help="how long it lasts (default 90)")
        create.add_argument("--clinic", help="the clinic's slug, when the user belongs to several")
        create.add_argument("--label", default="", help="what the token is for")
        listing = sub.add_parser("list", help="list tokens with their last use")
        listing.add_argument("--clinic", help="only this clinic's")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix (the characters after pal_)")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except BadInput as exc:
            sys.stderr.write(json.dumps({"error": {"code": exc.code, "message": exc.message, "path": exc.path}}) + "\n")
            sys.exit(EXIT_BAD_INPUT)

    def _create(self, options: dict[str, Any]) -> None:
        memberships = Membership.objects.filter(user__username=options["user"], is_active=True).select_related(
            "clinic", "user")
        if options.get("clinic"):
            memberships = memberships.filter(clinic__slug=options["clinic"])
        found = list(memberships)
        if not found:
            raise BadInput("unknown_user", f"No active member called {options['user']!r}"
                           + (f" in clinic {options['clinic']!r}" if options.get("clinic") else "") + ".", "--user")
        if len(found) > 1:
            slugs = ", ".join(m.clinic.slug for m in found)
            raise BadInput("ambiguous_clinic", f"{options['user']} belongs to several clinics ({slugs}): add --clinic.",
                           "--clinic")
        membership = found[0]
        if options["scope"] not in Scope.values:
            raise BadInput("invalid_value", f"--scope must be read or write, not {options['scope']!r}.", "--scope")
        try:
            new = services.check_create_token(None, membership.clinic, membership, options["scope"], options["days"],
                                              options["label"])
        except services.InputProblem as problem:
            raise BadInput("invalid_value", problem.message, f"--{problem.field}") from None
        token, raw = services.do_create_token(None, new)
        self.stdout.write(raw)
        self.stderr.write(f"Token for {membership.user.get_username()} at {membership.clinic.name}, scope "
                          f"{token.scope}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown only now.\n")

    def _list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("clinic", "membership__user").order_by("clinic__slug", "-created_at")
        if options.get("clinic"):
            if not Clinic.objects.filter(slug=options["clinic"]).exists():
                raise BadInput("unknown_clinic", f"No clinic {options['clinic']!r}.", "--clinic")
            tokens = tokens.filter(clinic__slug=options["clinic"])
        now = timezone.now()
        for token in tokens:
            state = ("revoked" if token.revoked_at else "expired" if token.expires_at <= now else "active")
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(f"pal_{token.prefix}…  {token.clinic.slug:<16} {token.membership.user.get_username():<24} "
                              f"{token.scope:<5} {state:<8} expires {token.expires_at:%Y-%m-%d}  last used {used}  "
                              f"{token.label}")

    def _revoke(self, options: dict[str, Any]) -> None:
        prefix = options["prefix"].removeprefix("pal_").rstrip("…")
        found = list(ApiToken.objects.filter(prefix=prefix))
        if len(found) != 1:
            raise BadInput("unknown_token", f"No single token starts pal_{prefix}; see 'palpate token list'.", "prefix")
        services.do_revoke_token(None, found[0])
        self.stdout.write(f"Revoked pal_{prefix}… ({found[0].label}).")
