"""Clinics (tenants), memberships and roles, and the active-clinic context for every request."""
