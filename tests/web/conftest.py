from tests.personas import as_user, fast_password_hashing, world  # noqa: F401  (pytest fixtures)
