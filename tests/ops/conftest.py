from tests.personas import as_user, clinical_world, fast_password_hashing, live_db, world  # noqa: F401  (pytest fixtures)
