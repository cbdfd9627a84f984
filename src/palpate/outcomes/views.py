"""Views for outcomes. Every view reads the patient through palpate.patients.access first."""
