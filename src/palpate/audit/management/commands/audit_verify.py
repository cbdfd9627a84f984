import sys

from django.core.management.base import BaseCommand

from palpate.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chains; report the first broken link."

    def handle(self, *args: object, **options: object) -> None:
        report = verify_chain()
        if report.ok:
            self.stdout.write(f"audit chain intact: {report.events_checked} events in {report.clinics_checked} clinics")
            return
        brk = report.first_break
        assert brk is not None
        self.stderr.write(
            f"audit chain BROKEN at clinic {brk.clinic_id}, event {brk.seq}"
            + (f" (id {brk.event_id})" if brk.event_id else "")
            + f": {brk.problem}"
        )
        sys.exit(1)
