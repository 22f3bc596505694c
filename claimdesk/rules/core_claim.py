"""Core rules on the claim as a whole: required fields, NPIs, dates, coverage, money, units.

Messages name fields, codes and counts of days, never the dates themselves
(dates of service are PHI) nor names or member ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from claimdesk.rules.code_tables import PLACE_OF_SERVICE_CODES, is_evaluation_and_management
from claimdesk.rules.engine import Hit, Rule, hit
from claimdesk.rules.snapshot import ClaimSnapshot
from claimdesk.x12.npi import is_valid_npi

# Days before the payer's timely filing limit at which a claim is flagged as close to it.
TIMELY_FILING_WARNING_DAYS = 14
# More units than this on one line is almost always a keying error (minutes typed as units).
MAX_REASONABLE_UNITS = Decimal(24)


def _no_lines(s: ClaimSnapshot) -> Iterator[Hit]:
    if not s.lines:
        yield hit()


def _no_diagnoses(s: ClaimSnapshot) -> Iterator[Hit]:
    if not s.diagnoses:
        yield hit()


def _no_coverage(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.coverage is None:
        yield hit()


def _no_member_id(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.coverage is not None and not s.coverage.has_member_id:
        yield hit()


def _no_patient_control_number(s: ClaimSnapshot) -> Iterator[Hit]:
    if not s.has_patient_control_number:
        yield hit()


def _institutional_without_bill_type(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.kind == "I" and not s.facility_type_code:
        yield hit()


def _institutional_line_without_revenue_code(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.kind == "I":
        for line in s.lines:
            if not line.revenue_code:
                yield hit(f"lines[{line.number}].revenue_code", line=line.number)


def _correction_without_original(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.frequency_code in ("7", "8") and not s.has_original_payer_claim_number:
        yield hit(frequency=s.frequency_code)


def _no_billing_provider(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.billing_provider is None or not s.billing_provider.npi:
        yield hit()


def _billing_npi_invalid(s: ClaimSnapshot) -> Iterator[Hit]:
    npi = s.billing_provider.npi if s.billing_provider else None
    if npi and not is_valid_npi(npi):
        yield hit()


def _rendering_npi_invalid(s: ClaimSnapshot) -> Iterator[Hit]:
    npi = s.rendering_provider.npi if s.rendering_provider else None
    if s.rendering_provider is not None and not (npi and is_valid_npi(npi)):
        yield hit()


def _coverage_payer_differs(s: ClaimSnapshot) -> Iterator[Hit]:
    if (
        s.coverage is not None
        and s.coverage.payer_row_id is not None
        and s.payer.row_id is not None
        and s.coverage.payer_row_id != s.payer.row_id
    ):
        yield hit(payer_id=s.payer.payer_id)


def _through_before_from(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.service_to < s.service_from:
        yield hit("claim.service_to")
    for line in s.lines:
        if line.service_date_to is not None and line.service_date_to < line.service_date:
            yield hit(f"lines[{line.number}].service_date_to")


def _in_the_future(s: ClaimSnapshot) -> Iterator[Hit]:
    future_lines = [line for line in s.lines if line.last_date > s.today]
    for line in future_lines:
        yield hit(f"lines[{line.number}].service_date", days=(line.last_date - s.today).days)
    if not future_lines and s.service_to > s.today:
        yield hit("claim.service_to", days=(s.service_to - s.today).days)


def _line_outside_claim_dates(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        if line.service_date < s.service_from or line.last_date > s.service_to:
            yield hit(f"lines[{line.number}].service_date", line=line.number)


def _outside_coverage(s: ClaimSnapshot) -> Iterator[Hit]:
    coverage = s.coverage
    if coverage is None:
        return
    for line in s.lines:
        if line.service_date < coverage.effective_from:
            days = (coverage.effective_from - line.service_date).days
            yield hit(
                f"lines[{line.number}].service_date",
                line=line.number,
                when=f"{days} days before coverage began",
            )
        elif coverage.effective_to is not None and line.last_date > coverage.effective_to:
            days = (line.last_date - coverage.effective_to).days
            yield hit(
                f"lines[{line.number}].service_date",
                line=line.number,
                when=f"{days} days after coverage ended",
            )


def _days_filed_late(s: ClaimSnapshot) -> Iterator[tuple[str, int]]:
    """(field, days left before the payer's limit) per clock: lines' From (P), claim Through (I)."""
    limit = s.payer.timely_filing_days
    if s.kind == "I":
        yield "claim.service_to", limit - (s.today - s.service_to).days
        return
    for line in s.lines:
        yield f"lines[{line.number}].service_date", limit - (s.today - line.service_date).days


def _timely_filing_passed(s: ClaimSnapshot) -> Iterator[Hit]:
    for field, left in _days_filed_late(s):
        if left < 0:
            yield hit(field, late=-left, limit=s.payer.timely_filing_days)


def _timely_filing_near(s: ClaimSnapshot) -> Iterator[Hit]:
    for field, left in _days_filed_late(s):
        if 0 <= left <= TIMELY_FILING_WARNING_DAYS:
            yield hit(field, left=left, limit=s.payer.timely_filing_days)


def _place_of_service_invalid(s: ClaimSnapshot) -> Iterator[Hit]:
    if s.kind == "P" and s.place_of_service not in PLACE_OF_SERVICE_CODES:
        yield hit(code=s.place_of_service or "")


def _units_not_positive(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        if line.units <= 0:
            yield hit(f"lines[{line.number}].units", line=line.number, units=line.units)


def _units_unreasonable(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        code = line.procedure_code
        if line.units > MAX_REASONABLE_UNITS or (
            is_evaluation_and_management(code) and line.units > 1
        ):
            yield hit(f"lines[{line.number}].units", line=line.number, units=line.units, code=code)


def _charge_not_positive(s: ClaimSnapshot) -> Iterator[Hit]:
    for line in s.lines:
        if line.charge <= 0:
            yield hit(f"lines[{line.number}].charge", line=line.number)


def _total_differs(s: ClaimSnapshot) -> Iterator[Hit]:
    total = sum((line.charge for line in s.lines), Decimal(0))
    if s.lines and total != s.total_charge:
        yield hit(total=s.total_charge, lines_sum=total)


REQUIRED_FIELD_RULES: tuple[Rule, ...] = (
    Rule("CD-REQ-001", "error", "lines", "the claim has no service lines", _no_lines),
    Rule("CD-REQ-002", "error", "diagnoses", "the claim has no diagnosis", _no_diagnoses),
    Rule("CD-REQ-003", "error", "coverage", "the claim names no coverage", _no_coverage),
    Rule(
        "CD-REQ-004", "error", "coverage.member_id", "the coverage has no member id", _no_member_id
    ),
    Rule(
        "CD-REQ-005",
        "error",
        "claim.patient_control_number",
        "the claim has no patient control number (CLM01)",
        _no_patient_control_number,
    ),
    Rule(
        "CD-REQ-006",
        "error",
        "claim.facility_type_code",
        "an institutional claim needs a type of bill facility code (CLM05-1)",
        _institutional_without_bill_type,
    ),
    Rule(
        "CD-REQ-007",
        "error",
        "lines[*].revenue_code",
        "line {line}: an institutional line needs a revenue code",
        _institutional_line_without_revenue_code,
    ),
    Rule(
        "CD-REQ-008",
        "error",
        "claim.original_payer_claim_number",
        "a frequency {frequency} claim needs the payer's original claim number (REF*F8)",
        _correction_without_original,
    ),
    Rule(
        "CD-REQ-009",
        "error",
        "billing_provider.npi",
        "the claim has no billing provider NPI",
        _no_billing_provider,
    ),
)

NPI_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-NPI-001",
        "error",
        "billing_provider.npi",
        "the billing provider NPI fails the NPI check digit (10 digits, Luhn over 80840)",
        _billing_npi_invalid,
    ),
    Rule(
        "CD-NPI-002",
        "error",
        "rendering_provider.npi",
        "the rendering provider NPI is missing or fails the NPI check digit",
        _rendering_npi_invalid,
    ),
)

DATE_AND_COVERAGE_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-DATE-001",
        "error",
        "claim.service_to",
        "the Through date is before the From date",
        _through_before_from,
    ),
    Rule(
        "CD-DATE-002",
        "error",
        "claim.service_to",
        "the date of service is {days} days in the future",
        _in_the_future,
    ),
    Rule(
        "CD-DATE-003",
        "error",
        "lines[*].service_date",
        "line {line}: the date of service is outside the claim's From-Through dates",
        _line_outside_claim_dates,
    ),
    Rule(
        "CD-COV-001",
        "error",
        "lines[*].service_date",
        "line {line}: the date of service is {when}",
        _outside_coverage,
    ),
    Rule(
        "CD-COV-002",
        "error",
        "coverage.payer",
        "the coverage belongs to another payer than the one billed ({payer_id})",
        _coverage_payer_differs,
    ),
    Rule(
        "CD-TF-001",
        "error",
        "lines[*].service_date",
        "timely filing passed {late} days ago (payer limit {limit} days)",
        _timely_filing_passed,
    ),
    Rule(
        "CD-TF-002",
        "warning",
        "lines[*].service_date",
        "timely filing limit ({limit} days) is {left} days away",
        _timely_filing_near,
    ),
)

AMOUNT_RULES: tuple[Rule, ...] = (
    Rule(
        "CD-POS-001",
        "error",
        "claim.place_of_service",
        "place of service {code!r} is not a CMS place of service code",
        _place_of_service_invalid,
    ),
    Rule(
        "CD-UNIT-001",
        "error",
        "lines[*].units",
        "line {line}: units {units} must be above 0",
        _units_not_positive,
    ),
    Rule(
        "CD-UNIT-002",
        "warning",
        "lines[*].units",
        "line {line}: {units} units of {code} is unusually many",
        _units_unreasonable,
    ),
    Rule(
        "CD-CHG-001",
        "error",
        "lines[*].charge",
        "line {line}: the charge must be above 0",
        _charge_not_positive,
    ),
    Rule(
        "CD-CHG-002",
        "error",
        "claim.total_charge",
        "the total charge {total} does not equal the lines' sum {lines_sum}",
        _total_differs,
    ),
)
