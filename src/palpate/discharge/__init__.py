"""Discharge: the end of an episode of care, as a signed discharge summary (reason, goals met,
outcome measures first and last against their MCID, the home programme to continue)."""
