"""The start page: what a therapist needs at the start of the day."""
