"""Views for evaluations. Every view reads the patient through palpate.patients.access first."""
