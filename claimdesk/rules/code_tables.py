"""Small code tables and formats the core rules check against."""

from __future__ import annotations

import re

# CMS Place of Service code set (professional claims), as published by CMS in 2025;
# 59, 63, 64, 67-70, 73-80 and 82-98 are unassigned.
PLACE_OF_SERVICE_CODES: frozenset[str] = frozenset(
    [f"{n:02d}" for n in range(1, 28)]  # 01 pharmacy … 26 military facility, 27 outreach
    + ["31", "32", "33", "34", "41", "42", "49"]
    + [f"{n}" for n in range(50, 59)]  # 50 FQHC … 58 opioid treatment facility
    + ["60", "61", "62", "65", "66", "71", "72", "81", "99"]
)

# CPT Category I: five digits; Category II/III and PLA codes: four digits + F, T or U.
_CPT = re.compile(r"\d{5}|\d{4}[FTU]")
# HCPCS Level II: a letter + four digits; D (dental, CDT) and unused letters excluded.
_HCPCS_II = re.compile(r"[ABCEGHJKLMPQRSTUV]\d{4}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")

# Most modifiers one service line carries on an 837 (SV101-3 … SV101-6).
MAX_MODIFIERS = 4

# Modifier pairs that contradict each other on one line.
CONFLICTING_MODIFIERS: tuple[tuple[str, str, str], ...] = (
    ("26", "TC", "professional and technical component: bill the global code"),
    ("LT", "RT", "left and right side: bill modifier 50 or two lines"),
    ("50", "LT", "bilateral and left side"),
    ("50", "RT", "bilateral and right side"),
    ("52", "53", "reduced and discontinued service"),
    ("GA", "GZ", "ABN on file and no ABN on file"),
    ("GA", "GY", "ABN on file and statutorily excluded"),
)

# E/M visit codes (99202-99499): more than one unit of one of these on a line is a keying error.
_EVALUATION_AND_MANAGEMENT = re.compile(r"99[2-4]\d\d")


def is_procedure_code(code: str) -> bool:
    """Whether ``code`` has the shape of a CPT or HCPCS Level II code."""
    return bool(_CPT.fullmatch(code) or _HCPCS_II.fullmatch(code))


def is_modifier(code: str) -> bool:
    return bool(_MODIFIER.fullmatch(code))


def is_evaluation_and_management(code: str) -> bool:
    return bool(_EVALUATION_AND_MANAGEMENT.fullmatch(code))
