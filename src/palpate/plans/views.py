"""Views for plans. Every view reads the patient through palpate.patients.access first."""
