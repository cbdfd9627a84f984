"""``palpate manage reset_two_factor USERNAME``: for an owner who lost both phone and recovery codes.

Owners reset a colleague's second factor on the staff page; nobody can reset their own there. This
is the way back for the last owner, for whoever runs the server. It is audited like the staff page's
reset (in every clinic of the account) and ends the account's sessions.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from palpate.accounts import sessions
from palpate.accounts.events import record_account_event
from palpate.accounts.models import User
from palpate.accounts.services import remove_second_factor


class Command(BaseCommand):
    help = "Remove an account's authenticator and recovery codes (it sets them up again at its next sign-in)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No account is called {options['username']!r}.", returncode=2)
        with transaction.atomic():
            removed = remove_second_factor(user)
            record_account_event(user, "account.two_factor_reset", detail={"by": "the command line",
                                                                           "devices_removed": removed})
            sessions.end_every_session(user, "two-factor sign-in reset from the command line")
        self.stdout.write(f"Two-factor sign-in of {user.get_username()} was reset ({removed} device(s) removed); "
                          "its sessions ended.")
