from __future__ import annotations

import os
import stat
import subprocess
import sys

from django.db import connection

from palpate.clinics.models import Clinic, Membership
from palpate.demo.seed import DEMO_USERNAMES, seed_demo
from palpate.lib.vocabulary import choices
from palpate.patients.models import Episode, Patient


def test_a_secret_key_is_generated_once_into_the_data_dir_with_private_permissions(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"PALPATE_DATA_DIR": str(tmp_path)}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    run = lambda: subprocess.run(  # noqa: E731
        [sys.executable, "-c", f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='palpate.web.settings'; {code}"],
        env=env, capture_output=True, text=True, check=True).stdout.strip()
    first, second = run(), run()
    key_file = tmp_path / "secret_key"
    assert first == second and len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_debug_is_off_unless_asked_for(settings):
    assert os.environ.get("DEBUG") or settings.DEBUG is False


def test_sqlite_runs_in_wal_mode(db):
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The in-memory test database cannot use WAL; a file database must.
    assert mode == "wal" or connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:"))


def test_demo_data_has_two_clinics_four_users_and_twenty_patients_each(db):
    seed_demo()
    assert set(Clinic.objects.values_list("name", flat=True)) == {"Harbor Physical Therapy", "Summit Rehab"}
    assert set(Membership.objects.values_list("user__username", flat=True)) == set(DEMO_USERNAMES)
    for clinic in Clinic.objects.all():
        assert Patient.objects.filter(clinic=clinic).count() >= 20
        assert set(Episode.objects.filter(clinic=clinic).values_list("condition", flat=True)) == {code for code, _ in choices("condition")}
    assert seed_demo() == {"harbor": 0, "summit": 0}, "a second run adds nothing"
