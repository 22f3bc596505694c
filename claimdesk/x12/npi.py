"""National Provider Identifier check digit (CMS: Luhn over the prefix 80840)."""

from __future__ import annotations

# CMS adds the constant 24 for the card-issuer prefix 80840 instead of prefixing it;
# the two are equivalent and this one needs no string concatenation.
_PREFIX_80840_SUM = 24


def is_valid_npi(npi: str) -> bool:
    """Whether ``npi`` is ten digits ending in the Luhn check digit over 80840 + the first nine."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])


def npi_check_digit(first_nine: str) -> int:
    """The check digit that completes the nine-digit NPI prefix ``first_nine``."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError(f"an NPI prefix is nine digits, got {first_nine!r}")
    total = _PREFIX_80840_SUM
    # Double every other digit starting with the rightmost of the nine.
    for position, char in enumerate(reversed(first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10
