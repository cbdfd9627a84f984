"""Finding a patient by name, record number, phone or email, through a text index.

Every word typed must appear (case-insensitively) somewhere in the patient's names, record number,
phone or email: "mar gar" finds Maria Garcia. The words are looked up in ``Patient.search_text``
(those fields, lower-cased, kept on every save) through a trigram index, so a search does not read
every patient of a large clinic:

- SQLite: an FTS5 table with the trigram tokenizer (``patients_patient_search``), kept in step by
  triggers; a word of three characters or more is a phrase query on it;
- PostgreSQL: a ``pg_trgm`` GIN index on ``search_text``, which serves ``LIKE '%word%'``.

Words of one or two characters are too short for a trigram index and are matched by reading the
clinic's patients, on both databases. The two databases give the same results: the same words
must be substrings of the same lower-cased text.
"""

from __future__ import annotations

from django.db import connection
from django.db.models.expressions import RawSQL

from palpate.patients.models import PatientQuerySet

TRIGRAM = 3
FTS_TABLE = "patients_patient_search"
# The longest search the patient list runs: a full name is at most 201 characters (two names of 100
# and a space). Even as percent-encoded four-byte characters a search this long keeps the URL well
# under gunicorn's 4094-byte request line, past which the server answers a bare 414.
SEARCH_MAX_LENGTH = 201


def words(query: str) -> list[str]:
    # A NUL ends an FTS5 string early and PostgreSQL refuses it in a literal (both a 500): no name,
    # number, phone or email holds one, so it separates words like a space.
    return [word.lower() for word in query.replace("\x00", " ").split()]


def search(patients: PatientQuerySet, query: str) -> PatientQuerySet:
    """``patients`` narrowed to those matching every word of ``query`` (all of them when empty)."""
    indexed = []
    for word in words(query):
        if len(word) >= TRIGRAM and connection.vendor == "sqlite":
            indexed.append('"' + word.replace('"', '""') + '"')  # a phrase: the word as typed
        else:
            patients = patients.filter(search_text__contains=word)
    if indexed:
        # One query of the index for all the words: it intersects them itself.
        patients = patients.filter(pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
                                                 [" AND ".join(indexed)]))
    return patients
