from typing import Any

from django.core.management.base import BaseCommand

from palpate.audit.services import fold_reads, verify_and_anchor


class Command(BaseCommand):
    help = "Fold staged reads into the chain, verify what is new since the last anchor, and anchor each head."

    def handle(self, *args: Any, **options: Any) -> None:
        folded = fold_reads()
        report = verify_and_anchor(full=False)
        if not report.ok:
            assert report.first_break is not None
            self.stderr.write(f"not anchored: audit chain BROKEN: {report.first_break.problem}")
            raise SystemExit(1)
        self.stdout.write(f"folded {folded} reads; " + ("; ".join(report.notes) or "every head already anchored"))
