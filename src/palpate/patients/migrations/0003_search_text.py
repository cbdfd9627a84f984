"""The patient search through a text index (palpate.patients.search).

``search_text`` holds the searched fields lower-cased. On SQLite an FTS5 table with the trigram
tokenizer mirrors it (external content, kept in step by triggers); on PostgreSQL a GIN index with
``pg_trgm`` serves ``LIKE '%word%'`` on it.
"""

from django.db import migrations, models

SEARCHED_FIELDS = ("given_name", "family_name", "record_number", "phone", "email")

SQLITE = [
    "CREATE VIRTUAL TABLE patients_patient_search USING fts5(search_text, content='patients_patient', "
    "content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER patients_patient_search_insert AFTER INSERT ON patients_patient BEGIN
         INSERT INTO patients_patient_search(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    """CREATE TRIGGER patients_patient_search_delete AFTER DELETE ON patients_patient BEGIN
         INSERT INTO patients_patient_search(patients_patient_search, rowid, search_text)
         VALUES ('delete', old.id, old.search_text);
       END""",
    """CREATE TRIGGER patients_patient_search_update AFTER UPDATE OF search_text ON patients_patient BEGIN
         INSERT INTO patients_patient_search(patients_patient_search, rowid, search_text)
         VALUES ('delete', old.id, old.search_text);
         INSERT INTO patients_patient_search(rowid, search_text) VALUES (new.id, new.search_text);
       END""",
    "INSERT INTO patients_patient_search(patients_patient_search) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS patients_patient_search_insert",
    "DROP TRIGGER IF EXISTS patients_patient_search_delete",
    "DROP TRIGGER IF EXISTS patients_patient_search_update",
    "DROP TABLE IF EXISTS patients_patient_search",
]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX patient_search_trgm ON patients_patient USING gin (search_text gin_trgm_ops)",
]
POSTGRESQL_REVERSE = ["DROP INDEX IF EXISTS patient_search_trgm"]


def fill(apps, schema_editor):  # noqa: ANN001, ANN201
    Patient = apps.get_model("patients", "Patient")
    for patient in Patient.objects.all().only("id", *SEARCHED_FIELDS).iterator(chunk_size=2000):
        text = " ".join(str(getattr(patient, name) or "") for name in SEARCHED_FIELDS).lower()
        Patient.objects.filter(pk=patient.pk).update(search_text=text)


def _run(statements):  # noqa: ANN001, ANN202
    def run(apps, schema_editor):  # noqa: ANN001, ANN202
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("patients", "0002_today_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
                             _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})),
    ]
