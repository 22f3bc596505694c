"""Immutable documents (X12 files, letters, attachments) and their links to claims."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import timestamp_field


class Document(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("sha256", name="uq_document_sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    # x12_270, x12_271, x12_837, x12_999, x12_277ca, x12_276, x12_277, x12_835, x12_ta1,
    # appeal_letter, statement, cms1500, attachment
    kind: str = Field(max_length=20, index=True)
    sha256: str = Field(max_length=64)
    size: int = Field(ge=0)
    content_type: str = Field(max_length=100)
    storage_key: str = Field(max_length=200)
    # sent / received / generated / uploaded
    direction: str = Field(default="generated", max_length=10)
    created_at: datetime = timestamp_field(default_now=True)


class DocumentLink(SQLModel, table=True):
    __tablename__ = "document_link"
    __table_args__ = (UniqueConstraint("document_id", "claim_id", name="uq_document_link"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    claim_id: int = Field(foreign_key="claim.id", index=True)
