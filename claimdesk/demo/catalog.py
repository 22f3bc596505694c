"""The demo practice's fixed catalogue: payers, procedures, diagnoses, names.

Charges are a typical office's chargemaster (above what payers allow, as in real
life); ``allowed`` is the demo fee schedule the simulator's CO-45 follows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# Medicare's appeal levels: redetermination, reconsideration (QIC), ALJ, Council, judicial review.
_MEDICARE_APPEALS: list[dict[str, Any]] = [
    {"level": 1, "name": "redetermination", "window_days": 120, "clock_starts": "notice+5"},
    {"level": 2, "name": "reconsideration", "window_days": 180, "clock_starts": "decision+5"},
    {"level": 3, "name": "alj_hearing", "window_days": 60, "clock_starts": "decision+5"},
    {"level": 4, "name": "council_review", "window_days": 60, "clock_starts": "decision+5"},
    {"level": 5, "name": "judicial_review", "window_days": 60, "clock_starts": "decision+5"},
]
_COMMERCIAL_APPEALS: list[dict[str, Any]] = [
    {"level": 1, "name": "first_level", "window_days": 180, "clock_starts": "notice"},
    {"level": 2, "name": "second_level", "window_days": 60, "clock_starts": "decision"},
]

PAYERS: list[dict[str, Any]] = [
    {
        "name": "Medicare Part B (simulated)",
        "payer_id": "SIMMCR",
        "kind": "medicare",
        "claim_filing_indicator": "MB",
        "timely_filing_days": 365,
        "appeal_levels": _MEDICARE_APPEALS,
        "accepts_replacement_claims": False,  # Medicare B takes reopenings, not freq-7 claims
        "electronic_appeals": True,
        "status_poll_interval_hours": 24,
        "prior_auth_codes": [],
    },
    {
        "name": "State Medicaid (simulated)",
        "payer_id": "SIMMCD",
        "kind": "medicaid",
        "claim_filing_indicator": "MC",
        "timely_filing_days": 180,
        "appeal_levels": _COMMERCIAL_APPEALS,
        "accepts_replacement_claims": True,
        "electronic_appeals": False,
        "status_poll_interval_hours": 48,
        "prior_auth_codes": ["97110"],
    },
    {
        "name": "Acme Health Plan (simulated)",
        "payer_id": "SIMACM",
        "kind": "commercial",
        "claim_filing_indicator": "CI",
        "timely_filing_days": 90,
        "appeal_levels": _COMMERCIAL_APPEALS,
        "accepts_replacement_claims": True,
        "electronic_appeals": True,
        "status_poll_interval_hours": 24,
        "prior_auth_codes": ["71046"],
    },
    {
        "name": "Bluebird PPO (simulated)",
        "payer_id": "SIMBLU",
        "kind": "commercial",
        "claim_filing_indicator": "CI",
        "timely_filing_days": 180,
        "appeal_levels": _COMMERCIAL_APPEALS,
        "accepts_replacement_claims": True,
        "electronic_appeals": False,
        "status_poll_interval_hours": 72,
        "prior_auth_codes": [],
    },
]

# CPT/HCPCS code → (charge, expected allowed, typical diagnoses).
PROCEDURES: dict[str, tuple[Decimal, Decimal]] = {
    "99203": (Decimal("180.00"), Decimal("112.50")),
    "99213": (Decimal("135.00"), Decimal("92.00")),
    "99214": (Decimal("195.00"), Decimal("130.50")),
    "99396": (Decimal("240.00"), Decimal("150.00")),
    "G0439": (Decimal("190.00"), Decimal("128.00")),
    "36415": (Decimal("20.00"), Decimal("3.00")),
    "80053": (Decimal("55.00"), Decimal("10.56")),
    "85025": (Decimal("38.00"), Decimal("7.77")),
    "93000": (Decimal("70.00"), Decimal("16.50")),
    "90471": (Decimal("30.00"), Decimal("17.00")),
    "90686": (Decimal("42.00"), Decimal("19.50")),
    "71046": (Decimal("140.00"), Decimal("31.00")),
    "97110": (Decimal("65.00"), Decimal("29.00")),
}

# A visit: an E/M code plus optional ancillaries, and the diagnoses that justify it.
VISITS: list[tuple[list[str], list[str]]] = [
    (["99213"], ["E119", "I10"]),
    (["99214", "80053", "36415"], ["E119", "E785"]),
    (["99213", "85025", "36415"], ["R5383", "D649"]),
    (["99203"], ["J069"]),
    (["99214", "93000"], ["I10", "R0789"]),
    (["99396"], ["Z0000"]),
    (["G0439"], ["Z0000", "I10"]),
    (["99213", "90471", "90686"], ["Z23", "J45909"]),
    (["99213", "71046"], ["R059", "J069"]),
    (["97110"], ["M5450"]),
    (["99213"], ["K219"]),
    (["99214"], ["F411", "G4700"]),
    (["99213"], ["N390"]),
    (["99213"], ["M25561"]),
]

FIRST_NAMES = [
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Barbara",
    "William",
    "Elizabeth",
    "David",
    "Jennifer",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Donald",
    "Ashley",
    "Steven",
    "Dorothy",
    "Paul",
    "Kimberly",
    "Andrew",
]
LAST_NAMES = [
    "Alvarez",
    "Brennan",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fitzgerald",
    "Garrison",
    "Hollister",
    "Ibarra",
    "Jablonski",
    "Kowalczyk",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Okonkwo",
    "Pemberton",
    "Quintero",
    "Rasmussen",
    "Szymanski",
    "Thibodeaux",
    "Underwood",
    "Villanueva",
    "Whitfield",
    "Xiong",
    "Yamamoto",
    "Zielinski",
]
STREETS = ["Oak St", "Maple Ave", "Cedar Ln", "Pine Rd", "Elm Dr", "Birch Way", "Willow Ct"]
CITIES = [
    ("Springfield", "IL", "627011234"),
    ("Riverton", "IL", "625611020"),
    ("Chatham", "IL", "626292201"),
    ("Rochester", "IL", "626631111"),
]
