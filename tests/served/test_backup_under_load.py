"""A backup taken while clients write holds every write the server acknowledged before the backup began.

The served app (gunicorn workers and the background worker, as ``make run`` starts it) takes
writes from six clients; once they flow, ``palpate backup`` runs beside them. The archive is then
restored into a new data directory (and, on PostgreSQL, a new database), and every registration,
episode and note save acknowledged before the backup started must be there. A save still in
flight when the backup began may or may not be in it, so for each note the restored text must be
the last one acknowledged before the backup, or one sent before the backup ended.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.ops.installs import Install, database, postgres_url
from tests.served import driver

pytestmark = pytest.mark.served

SECONDS = float(os.environ.get("PALPATE_BACKUP_LOAD_SECONDS", "16"))


def _wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_backup_under_concurrent_writes_holds_every_write_acknowledged_before_it_began(tmp_path):
    with driver.served(workers=2, database_url=postgres_url()) as app:
        tally = driver.Tally()
        clients = threading.Thread(target=driver.drive, args=(app.base,),
                                   kwargs={"clients": 6, "seconds": SECONDS, "tally": tally}, daemon=True)
        clients.start()
        _wait_for(lambda: len(tally.save_log) >= 12 and len(tally.patients) >= 6, 120, "writes to flow")
        began = time.monotonic()
        with tally.lock:
            patients = [dict(p) for p in tally.patients if p["at"] < began]
            acknowledged = list(tally.save_log)
        backup = app.palpate("backup", str(tmp_path / "backups"))
        ended = time.monotonic()
        clients.join(SECONDS + 200)
        assert backup.returncode == 0, backup.stdout + backup.stderr
        assert tally.errors == [], tally.errors[:10]
        during = [s for s in tally.save_log if began <= s[1] <= ended]
        after = [s for s in tally.save_log if s[1] > ended]
        print(f"backup took {ended - began:.2f} s; {len(during)} saves acknowledged during it, {len(after)} after; "
              + driver.summary(tally, SECONDS))
        assert after, "the clients kept writing after the backup"

        expected: dict[int, set[str]] = {}
        for _sent, acked, visit, said in sorted(acknowledged, key=lambda s: s[1]):
            if acked < began:
                expected[visit] = {said}
        for sent, acked, visit, said in tally.save_log:
            if visit in expected and acked >= began and sent <= ended:
                expected[visit].add(said)
        assert expected and patients

        archive = next((tmp_path / "backups").iterdir())
        with database(postgres_url()) as url:
            restored = Install(tmp_path / "restored", url, {"PALPATE_DEMO": "0"})
            done = restored.palpate("restore", str(archive))
            assert done.returncode == 0, done.stdout + done.stderr
            assert "audit chain intact (full)" in done.stdout

            before = driver.Tally(patients=[{**p, "episode": p.get("episode_at", ended + 1) < began} for p in patients])
            assert driver.missing_writes(restored, before) == []  # type: ignore[arg-type]
            stored = restored.query("import json; from palpate.visits.models import Visit; print(json.dumps("
                                    f"{{str(v.pk): v.subjective for v in Visit.objects.filter(pk__in={list(expected)})}}))")
            lost = {visit: (stored.get(str(visit)), sorted(ok)) for visit, ok in expected.items()
                    if stored.get(str(visit)) not in ok}
            assert lost == {}, f"notes whose acknowledged text is not in the backup: {lost}"
