"""X12 5010 codec: read (this list's first half) and write (the writer's half).

Readers take ``bytes``, ``str`` or a binary file object the caller opened, and
return frozen pydantic models; they raise only ``X12Error`` subclasses.
"""

from claimdesk.x12 import _parse_271, _parse_277, _parse_835, _parse_999  # noqa: F401 (registers)
from claimdesk.x12._balance_835 import check_balance
from claimdesk.x12._envelope import (
    ParsedSet,
    iter_interchanges,
    iter_transactions,
    read_interchanges,
    stream_transactions,
)
from claimdesk.x12._errors import EnvelopeMismatch, X12Error, X12SyntaxError
from claimdesk.x12._parse_835 import remittance_from_stream
from claimdesk.x12._parse_837 import ClaimSubmission837, parse_837
from claimdesk.x12._tokenize import Delimiters, SegmentReader
from claimdesk.x12._write_270 import write_270
from claimdesk.x12._write_276 import write_276
from claimdesk.x12._write_837 import write_837, write_837i, write_837p
from claimdesk.x12.models import (
    Ack999,
    ClaimPayment,
    ClaimStatus,
    ClaimStatus277,
    Eligibility271,
    FunctionalGroup,
    Interchange,
    InterchangeAck,
    OtherTransaction,
    Remittance835,
    RemittanceEnd,
    RemittanceStart,
    ServicePayment,
)
from claimdesk.x12.npi import is_valid_npi
from claimdesk.x12.to_json import to_json
from claimdesk.x12.validate import ValidationIssue, validate, validate_with_pyx12

__all__ = [
    # reader
    "Ack999",
    "ClaimPayment",
    "ClaimStatus",
    "ClaimStatus277",
    "ClaimSubmission837",
    "Delimiters",
    "Eligibility271",
    "EnvelopeMismatch",
    "FunctionalGroup",
    "Interchange",
    "InterchangeAck",
    "OtherTransaction",
    "ParsedSet",
    "Remittance835",
    "RemittanceEnd",
    "RemittanceStart",
    "SegmentReader",
    "ServicePayment",
    "X12Error",
    "X12SyntaxError",
    "check_balance",
    "iter_interchanges",
    "iter_transactions",
    "parse_837",
    "read_interchanges",
    "remittance_from_stream",
    "stream_transactions",
    "to_json",
    # writer (added by the writer engineer)
]
__all__ += [
    "ValidationIssue",
    "is_valid_npi",
    "validate",
    "validate_with_pyx12",
    "write_270",
    "write_276",
    "write_837",
    "write_837i",
    "write_837p",
]
