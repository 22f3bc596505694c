"""X12 5010 codec: read (this list's first half) and write (the writer's half).

Readers take ``bytes``, ``str`` or a binary file object the caller opened, and
return frozen pydantic models; they raise only ``X12Error`` subclasses.
"""

from claimdesk.x12 import _parse_271, _parse_277, _parse_835, _parse_999  # noqa: F401 (registers)
from claimdesk.x12._envelope import (
    ParsedSet,
    iter_interchanges,
    iter_transactions,
    read_interchanges,
)
from claimdesk.x12._errors import EnvelopeMismatch, X12Error, X12SyntaxError
from claimdesk.x12._parse_835 import check_balance
from claimdesk.x12._tokenize import Delimiters, SegmentReader
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
    ServicePayment,
)
from claimdesk.x12.to_json import to_json

__all__ = [
    # reader
    "Ack999",
    "ClaimPayment",
    "ClaimStatus",
    "ClaimStatus277",
    "Delimiters",
    "Eligibility271",
    "EnvelopeMismatch",
    "FunctionalGroup",
    "Interchange",
    "InterchangeAck",
    "OtherTransaction",
    "ParsedSet",
    "Remittance835",
    "SegmentReader",
    "ServicePayment",
    "X12Error",
    "X12SyntaxError",
    "check_balance",
    "iter_interchanges",
    "iter_transactions",
    "read_interchanges",
    "to_json",
    # writer (added by the writer engineer)
]
