from django.core.management.base import BaseCommand

from palpate.demo.seed import DEMO_USERNAMES, seed_demo


class Command(BaseCommand):
    help = "Load the demo clinics (Harbor Physical Therapy, Summit Rehab), users and patients. Safe to run twice."

    def handle(self, *args: object, **options: object) -> None:
        created = seed_demo()
        for slug, count in created.items():
            self.stdout.write(f"{slug}: {count} patients created" if count else f"{slug}: already has patients")
        self.stdout.write("Demo users: " + ", ".join(DEMO_USERNAMES))
