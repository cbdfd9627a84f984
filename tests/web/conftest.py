from tests.personas import as_user, clinical_world, fast_password_hashing, world  # noqa: F401  (pytest fixtures)
