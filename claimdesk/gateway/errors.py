"""The gateway's errors: what went wrong talking to a payer.

    ClaimdeskError
    └── PayerError                 a payer call failed (payer_id, call, status, CORE code)
        ├── PayerUnavailable       timeout, connection error, 5xx, retry-type CORE code: try later
        │   └── CircuitOpen        the payer's breaker is open; no call was made
        ├── PayerRejected          4xx, a CORE error code, an X12 rejection: do not resend as is
        └── PayerProtocolError     the answer is garbage: malformed envelope or payload

Messages name the payer, the call and what happened (HTTP status, CORE code,
exception type). They never carry PHI (no X12 content, no ``ErrorMessage``
text from the payer, which may echo member data) and never credentials; the
payer's ``ErrorMessage`` goes in ``detail``, shown only to the person at the
terminal or page.
"""

from __future__ import annotations

from typing import ClassVar, Self

from claimdesk.errors import ClaimdeskError

__all__ = [
    "CircuitOpen",
    "PayerError",
    "PayerProtocolError",
    "PayerRejected",
    "PayerUnavailable",
]


class PayerError(ClaimdeskError):
    """A call to a payer failed; ``retryable`` says whether trying later can help."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        payer_id: str,
        call: str,
        status_code: int | None = None,
        core_error_code: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.payer_id = payer_id
        self.call = call
        self.status_code = status_code
        self.core_error_code = core_error_code

    @classmethod
    def for_call(
        cls,
        what: str,
        *,
        payer_id: str,
        call: str,
        status_code: int | None = None,
        core_error_code: str | None = None,
        detail: str | None = None,
    ) -> Self:
        """An error whose message reads ``payer 'X' <call>: <what>``."""
        return cls(
            f"payer {payer_id!r} {call}: {what}",
            payer_id=payer_id,
            call=call,
            status_code=status_code,
            core_error_code=core_error_code,
            detail=detail,
        )


class PayerUnavailable(PayerError):
    """Timeout, connection failure, 5xx or a retry-type CORE code: try again later."""

    retryable = True


class CircuitOpen(PayerUnavailable):
    """The payer's circuit breaker is open; the call was not made."""


class PayerRejected(PayerError):
    """The payer refused the request (4xx, CORE error code, X12 rejection)."""


class PayerProtocolError(PayerError):
    """The payer answered something claimdesk cannot read."""
