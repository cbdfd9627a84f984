import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from palpate.audit.anchor import anchor_now
from palpate.audit.checkpoint import CheckpointError, check_checkpoint
from palpate.audit.services import verify_chain


class Command(BaseCommand):
    help = ("Verify the audit trail against the audit key and the last anchor; report the first broken link. "
            "Incremental from each clinic's last anchor unless --full.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="re-read every chain from its first event")
        parser.add_argument("--checkpoint", metavar="FILE", help="also check a signed checkpoint exported earlier")
        parser.add_argument("--no-anchor", action="store_true", help="do not append an anchor after a clean check")

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoint = None
        if options["checkpoint"]:
            try:
                checkpoint = json.loads(Path(options["checkpoint"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                self.stderr.write(f"cannot read the checkpoint {options['checkpoint']}: {exc}")
                sys.exit(2)
        report = verify_chain(full=options["full"])
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        if not report.ok:
            brk = report.first_break
            assert brk is not None
            where = f"clinic {brk.clinic_id}, event {brk.seq}" if brk.clinic_id else "the anchor file"
            self.stderr.write(f"audit chain BROKEN at {where}" + (f" (id {brk.event_id})" if brk.event_id else "")
                              + f": {brk.problem}")
            sys.exit(1)
        if checkpoint is not None:
            try:
                problems = check_checkpoint(checkpoint)
            except CheckpointError as exc:
                self.stderr.write(str(exc))
                sys.exit(2)
            if problems:
                for problem in problems:
                    self.stderr.write(f"audit checkpoint NOT MATCHED: {problem}")
                sys.exit(1)
            self.stdout.write("checkpoint matched: the trail still holds every event it saw")
        mode = "full" if report.full else "incremental from the last anchor"
        self.stdout.write(f"audit chain intact ({mode}): {report.events_checked} events in {report.clinics_checked} "
                          f"clinics, {report.reads_checked} staged reads")
        if not options["no_anchor"]:
            written = anchor_now()
            if written:
                self.stdout.write(f"anchored {len(written)} chain head(s)")
