"""Demo data: two clinics with owners, therapists and realistic patients (``palpate demo``)."""
