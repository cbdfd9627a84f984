"""The patient registry and episodes of care, per clinic."""
