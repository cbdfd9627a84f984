"""No double booking, enforced by the database.

A therapist, and a room, never holds two overlapping appointments that hold time (booked, arrived,
in session, completed); cancelled, late-cancelled and missed ones free their time. Times are
half-open, so back-to-back appointments (10:00-10:45, 10:45-11:30) do not overlap.

- PostgreSQL: exclusion constraints on the time range with btree_gist, which makes the second of
  two racing inserts fail however the application checked.
- SQLite: triggers refuse an overlapping insert or update. Every write transaction is IMMEDIATE
  (settings), so a check and its write are never interleaved with another writer's.
"""

from django.db import migrations

HOLDING = "('booked', 'arrived', 'in_session', 'completed')"

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_therapist_overlap
        EXCLUDE USING gist (clinic_id WITH =, therapist_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (status IN {HOLDING})""",
    f"""ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_room_overlap
        EXCLUDE USING gist (clinic_id WITH =, room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
        WHERE (room_id IS NOT NULL AND status IN {HOLDING})""",
]
POSTGRESQL_REVERSE = [
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_therapist_overlap",
    "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_room_overlap",
]


def _sqlite_trigger(name: str, event: str, same_row: str) -> str:
    # Django stores SQLite datetimes as ISO text in UTC, which compares in time order.
    return f"""CREATE TRIGGER {name} BEFORE {event} ON scheduling_appointment
        WHEN NEW.status IN {HOLDING}
        BEGIN
          SELECT RAISE(ABORT, 'appointment_no_therapist_overlap: the therapist already has an appointment then')
          WHERE EXISTS (SELECT 1 FROM scheduling_appointment a
                        WHERE a.clinic_id = NEW.clinic_id AND a.therapist_id = NEW.therapist_id {same_row}
                          AND a.status IN {HOLDING} AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at);
          SELECT RAISE(ABORT, 'appointment_no_room_overlap: the room is already taken then')
          WHERE NEW.room_id IS NOT NULL AND EXISTS (
                        SELECT 1 FROM scheduling_appointment a
                        WHERE a.clinic_id = NEW.clinic_id AND a.room_id = NEW.room_id {same_row}
                          AND a.status IN {HOLDING} AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at);
        END"""


SQLITE = [
    _sqlite_trigger("appointment_no_overlap_insert", "INSERT", ""),
    _sqlite_trigger("appointment_no_overlap_update",
                    "UPDATE OF starts_at, ends_at, therapist_id, room_id, status", "AND a.id != NEW.id"),
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS appointment_no_overlap_insert",
    "DROP TRIGGER IF EXISTS appointment_no_overlap_update",
]


def _run(statements):  # noqa: ANN001, ANN202
    def run(apps, schema_editor):  # noqa: ANN001, ANN202
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run({"sqlite": SQLITE, "postgresql": POSTGRESQL}),
                             _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})),
    ]
