"""Per-payer circuit breaker and rate-limit state, shared by every process and host."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models._fields import timestamp_field


class PayerCircuit(SQLModel, table=True):
    __tablename__ = "payer_circuit"
    # The payer's EDI id plus the call (e.g. "SIMMCR:270") or just the payer id.
    key: str = Field(primary_key=True, max_length=100)
    # closed → open (failing, calls refused) → half_open (one probe allowed) → closed
    state: str = Field(default="closed", max_length=10)
    consecutive_failures: int = Field(default=0, ge=0)
    opened_until: datetime | None = timestamp_field(nullable=True)
    # Token bucket for the payer's rate limit.
    tokens: float = Field(default=0.0)
    tokens_at: datetime | None = timestamp_field(nullable=True)
