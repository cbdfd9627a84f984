"""Referral letters carry the clinic's address and phone and the therapist's credentials and NPI,
from clinic settings and the therapist's own profile; an NPI must pass its check digit."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from palpate.audit.models import AuditEvent
from palpate.lib.npi import is_valid_npi, npi_check_digit

PROFILE = {"first_name": "Alice", "last_name": "Moreau", "email": "alice@example.org", "credentials": "PT, DPT"}


@pytest.mark.parametrize(("npi", "valid"), [
    ("1234567893", True),   # CMS's worked example: 80840 123456789 -> check digit 3
    ("1234567890", False), ("123456789", False), ("12345678934", False), ("12345678x3", False),
    ("１２３４５６７８９３", False),  # full-width digits are not an NPI
])
def test_the_npi_check_digit_is_the_luhn_digit_with_the_80840_prefix(npi, valid):
    assert is_valid_npi(npi) is valid


def test_the_shortcut_for_the_prefix_agrees_with_luhn_over_the_full_number():
    def luhn_digit(number: str) -> int:
        total = 0
        for position, char in enumerate(reversed(number)):
            digit = int(char) * (2 if position % 2 == 0 else 1)
            total += digit - 9 if digit > 9 else digit
        return (10 - total % 10) % 10

    for first_nine in ("123456789", "100000000", "999999999", "193847560", "000000001"):
        assert npi_check_digit(first_nine) == luhn_digit("80840" + first_nine)


def test_a_therapist_sets_credentials_and_npi_and_a_wrong_check_digit_is_refused(world, as_user):
    client = as_user(world.alice)
    refused = client.post("/accounts/", {**PROFILE, "npi": "1234567890"})
    body = refused.content.decode()
    assert refused.status_code == 200 and "check digit" in body and 'value="PT, DPT"' in body
    world.alice.refresh_from_db()
    assert world.alice.npi == "" and world.alice.credentials == ""
    assert client.post("/accounts/", {**PROFILE, "npi": "1234 567 893"}).status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.npi == "1234567893" and world.alice.credentials == "PT, DPT"
    [event] = AuditEvent.objects.filter(action="account.profile_updated")
    assert event.new["new"]["npi"] == "1234567893" and event.new["old"]["npi"] == ""


def test_two_accounts_cannot_share_an_email_address(world, as_user):
    world.bob.email = "shared@example.org"
    world.bob.save()
    body = as_user(world.alice).post("/accounts/", {**PROFILE, "email": "Shared@example.org"}).content.decode()
    assert "Another account already uses this email address" in body


def test_the_referral_letter_carries_the_clinics_address_and_the_therapists_credentials(clinical_world, as_user):
    world, referral = clinical_world.world, clinical_world.referral
    world.harbor.address = "12 Quay Street\nPortland, ME 04101"
    world.harbor.phone = "(207) 555-0142"
    world.harbor.save()
    world.alice.credentials, world.alice.npi = "PT, DPT", "1234567893"
    world.alice.save()
    body = as_user(world.alice).get(
        f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{referral.pk}/letter/").content.decode()
    assert "12 Quay Street<br>Portland, ME 04101" in body and "Phone (207) 555-0142" in body
    assert "Alice, PT, DPT" in body and "NPI 1234567893" in body

    from palpate.evaluations.referrals import letter_context

    referral.refresh_from_db()
    pdf_html = render_to_string("evaluations/referral_letter_pdf.html",
                                letter_context(world.harbor_patient, referral, world.harbor))
    assert "NPI 1234567893" in pdf_html and "12 Quay Street" in pdf_html


def test_a_letter_without_those_details_reads_as_before(clinical_world, as_user):
    world, referral = clinical_world.world, clinical_world.referral
    body = as_user(world.alice).get(
        f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{referral.pk}/letter/").content.decode()
    assert "NPI" not in body and "Phone" not in body
