"""The one interface claimdesk uses to reach payers, and what its calls return."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AppealPacket",
    "AppealReceipt",
    "PayerGateway",
    "RetrievalKind",
    "RetrievedFile",
    "SubmissionReceipt",
]

RetrievalKind = Literal["999", "277CA", "835", "TA1"]


class SubmissionReceipt(BaseModel):
    """The payer took the batch; acknowledgements come later through ``retrieve``."""

    model_config = ConfigDict(frozen=True)

    payer_id: str
    payload_id: str
    received_at: datetime
    core_error_code: str
    document_id: int


class RetrievedFile(BaseModel):
    """One waiting file picked up from the payer, already stored as a document."""

    model_config = ConfigDict(frozen=True)

    kind: str
    payload_id: str
    payload_type: str
    payload: bytes = Field(repr=False)
    document_id: int
    # The same bytes were stored before: a payer delivering a file twice (an 835 offered
    # again). The document is the same one; post from it once.
    repeat: bool = False


class AppealPacket(BaseModel):
    """What an electronic appeal carries: ids, codes and the letter (no free-text PHI here)."""

    model_config = ConfigDict(frozen=True)

    claim_id: int
    claim_version: int = 1
    payer_claim_number: str | None = None
    carc_codes: list[str] = Field(default_factory=list)
    rarc_codes: list[str] = Field(default_factory=list)
    letter: bytes = Field(repr=False)
    letter_content_type: str = "application/pdf"


class AppealReceipt(BaseModel):
    model_config = ConfigDict(frozen=True)

    payer_id: str
    appeal_id: str
    status: str
    letter_document_id: int


class PayerGateway(Protocol):
    """What claimdesk needs from a payer or clearinghouse connection."""

    def eligibility(self, x12_270: bytes, *, claim_ids: Iterable[int] = ()) -> bytes: ...

    def status(self, x12_276: bytes, *, claim_ids: Iterable[int] = ()) -> bytes: ...

    def submit(
        self, x12_837: bytes, *, payload_id: str, claim_ids: Iterable[int] = ()
    ) -> SubmissionReceipt: ...

    def retrieve(self, kind: RetrievalKind) -> list[RetrievedFile]: ...

    def submit_appeal(self, packet: AppealPacket) -> AppealReceipt: ...
