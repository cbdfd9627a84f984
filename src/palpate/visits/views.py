"""Views for visits. Every view reads the patient through palpate.patients.access first."""
