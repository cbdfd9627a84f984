"""The US National Provider Identifier: ten digits, the last a Luhn check digit.

CMS, "Requirements for Check Digit Algorithm for NPI" (NPPES): the check digit is the Luhn check
digit of the first nine digits prefixed with 80840 (the ISO card-issuer prefix for US health
applications). Prefixing 80840 adds a constant 24 to the Luhn sum, so it can be computed on the
nine digits alone.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


def npi_check_digit(first_nine: str) -> int:
    total = 24  # the doubled-and-summed digits of the prefix 80840
    # Double every other digit starting with the rightmost of the nine (it sits next to the check digit).
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(value: str) -> bool:
    return len(value) == 10 and value.isascii() and value.isdigit() and npi_check_digit(value[:9]) == int(value[9])


def validate_npi(value: str) -> None:
    if not (len(value) == 10 and value.isascii() and value.isdigit()):
        raise ValidationError("An NPI is 10 digits (found on your NPPES record).", code="npi_format")
    if not is_valid_npi(value):
        raise ValidationError("That is not a valid NPI: its last digit does not match the check digit. "
                              "Check for a typing error.", code="npi_check_digit")
