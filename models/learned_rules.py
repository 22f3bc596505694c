"""Scrub rules learned from the office's own denials (``claimdesk.learning``).

A row starts ``suggested`` (found in the history) or is written by hand; a lead
approves it (``claimdesk.learning.approval``) and from then on the scrubber runs it.
``pack_version`` is the learned pack's version the approval (or retirement) made:
the scrub label ``claimdesk-core@<version>+learned.<n>`` names it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models._fields import json_field, timestamp_field


class LearnedRule(SQLModel, table=True):
    __tablename__ = "learned_rule"

    id: int | None = Field(default=None, primary_key=True)
    # The payer's EDI id (the scrub snapshot's ``payer.payer_id``).
    payer_code: str = Field(max_length=80, index=True)
    # required_modifier | bundled_pair (claimdesk.rules.learned.LearnedRuleSpec)
    kind: str = Field(max_length=20)
    procedure_code: str = Field(max_length=5)
    modifier: str | None = Field(default=None, max_length=2)
    other_code: str | None = Field(default=None, max_length=5)
    words: str = Field(max_length=400)
    fix: str = Field(max_length=200)
    # The figures it was suggested on (support, split, dollars, backtest): codes and counts.
    evidence: dict[str, Any] = json_field(default_factory=dict)
    status: str = Field(default="suggested", max_length=12, index=True)
    created_by: str = Field(max_length=80)
    created_at: datetime = timestamp_field(default_now=True)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = timestamp_field(nullable=True)
    decision_reason: str | None = Field(default=None, max_length=400)
    pack_version: int | None = None
