import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from palpate.audit.checkpoint import make_checkpoint
from palpate.audit.models import AuditChainHead


class Command(BaseCommand):
    help = "Print (or write) a signed checkpoint of the audit trail's heads, to keep elsewhere."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clinic", metavar="SLUG", help="only this clinic")
        parser.add_argument("--out", metavar="FILE", help="write to FILE (mode 0600) instead of standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = None
        if options["clinic"]:
            # Clinics are found through their chains (the trail sits below the clinics app).
            head = AuditChainHead.objects.filter(clinic__slug=options["clinic"]).first()
            if head is None:
                self.stderr.write(f"no clinic with an audit trail has the slug {options['clinic']!r}")
                raise SystemExit(2)
            ids = [head.clinic_id]
        text = json.dumps(make_checkpoint(ids), indent=2) + "\n"
        if options["out"]:
            try:
                fd = os.open(options["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            except OSError as exc:
                self.stderr.write(f"cannot write {options['out']}: {exc.strerror}")
                raise SystemExit(2) from exc
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            self.stdout.write(f"checkpoint written to {options['out']}")
        else:
            self.stdout.write(text, ending="")
