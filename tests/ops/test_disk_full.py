"""A full disk during a write: a clear error page, and no partial record.

On SQLite the disk is really full as far as the database engine knows: ``PRAGMA max_page_count``
caps the database file at its current size, so the next write that needs a new page fails with
SQLITE_FULL ("database or disk is full"), the same error a full file system gives. On PostgreSQL a
full disk cannot be made without the server's superuser, so the error PostgreSQL raises then
(``53100 disk_full``) is injected into the INSERT of the audit event, after the patient row was
written in the same transaction: the honest test of "no partial record".
"""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection

from palpate.audit.services import verify_chain
from palpate.ops.middleware import is_disk_full
from palpate.patients.models import Patient

VALID = {"given_name": "Lena", "family_name": "Okafor", "date_of_birth": "1984-03-02", "sex": "female",
         "record_number": "", "phone": "", "email": "", "address": ""}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="max_page_count is SQLite's")
def test_a_full_sqlite_database_refuses_the_whole_registration_with_a_clear_page(world, as_user, live_db):
    client = as_user(world.alice)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_count")
        (pages,) = cursor.fetchone()
        cursor.execute("CREATE TABLE filler (x BLOB)")
        # Fill the file to the cap, so that any write needing room has none.
        cursor.execute(f"PRAGMA max_page_count = {pages + 20}")
        # Free pages left by earlier tests' flushes are filled first: the bound is generous (a full
        # file stops the loop long before it), so the test does not depend on what ran before it.
        with pytest.raises(OperationalError, match="full"):
            for _ in range(100_000):
                cursor.execute("INSERT INTO filler VALUES (zeroblob(3000))")
    try:
        saved = []
        refused = None
        for n in range(200):  # each registration that still fits uses room; one soon does not
            response = client.post("/patients/new/", {**VALID, "family_name": f"Okafor{n}"})
            if response.status_code == 302:
                saved.append(f"Okafor{n}")
                continue
            refused = (n, response)
            break
        assert refused is not None, "the database never filled up"
        n, response = refused
        assert response.status_code == 507
        body = response.content.decode()
        assert "Nothing from this action was saved" in body and "disk is full" in body
        assert not Patient.objects.filter(family_name=f"Okafor{n}").exists()
        assert sorted(Patient.objects.filter(family_name__startswith="Okafor").values_list("family_name", flat=True)) == \
            sorted(saved)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 1073741823")
            cursor.execute("DROP TABLE filler")
    assert verify_chain(full=True).ok


def test_a_disk_full_error_in_the_middle_of_a_write_rolls_back_everything(world, as_user):
    import psycopg.errors

    client = as_user(world.alice)
    before = Patient.objects.count()

    def disk_full_on_audit_insert(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        if sql.lstrip().upper().startswith("INSERT") and "audit_auditevent" in sql:
            assert Patient.objects.filter(family_name="Okafor").exists()  # the patient row is already written
            raise OperationalError("could not extend file: No space left on device") from psycopg.errors.DiskFull()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(disk_full_on_audit_insert):
        response = client.post("/patients/new/", VALID)
    assert response.status_code == 507 and "Nothing from this action was saved" in response.content.decode()
    assert Patient.objects.count() == before
    assert verify_chain(full=True).ok


def test_only_disk_full_errors_are_taken_for_a_full_disk():
    import errno

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(OperationalError("database or disk is full"))
    assert not is_disk_full(OperationalError("database is locked"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
