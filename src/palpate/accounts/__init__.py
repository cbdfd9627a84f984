"""User accounts, sign-in (argon2, lockout, optional TOTP) and the idle-session timeout."""
