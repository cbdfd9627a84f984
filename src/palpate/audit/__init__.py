"""The append-only, hash-chained audit trail of every write and every read of patient data."""
