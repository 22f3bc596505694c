"""Payer connectivity: the CAQH CORE envelope, the payer client, the outbox.

Import the pieces from their modules (``claimdesk.gateway.client``,
``claimdesk.gateway.core_envelope`` …); this package re-exports the interface.
``core_envelope``, ``core_multipart``, ``x12_check`` and ``paths`` import nothing
from the database, so the payer simulator can use them without the gateway's
dependencies.
"""

from claimdesk.gateway.errors import (
    CircuitOpen,
    PayerError,
    PayerProtocolError,
    PayerRejected,
    PayerUnavailable,
)
from claimdesk.gateway.interface import (
    AppealPacket,
    AppealReceipt,
    PayerGateway,
    RetrievalKind,
    RetrievedFile,
    SubmissionReceipt,
)

__all__ = [
    "AppealPacket",
    "AppealReceipt",
    "CircuitOpen",
    "PayerError",
    "PayerGateway",
    "PayerProtocolError",
    "PayerRejected",
    "PayerUnavailable",
    "RetrievalKind",
    "RetrievedFile",
    "SubmissionReceipt",
]
