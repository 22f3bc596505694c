"""The human work queue: review tasks, the decisions that resolve them, and comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import json_field, timestamp_field
from models.types import utcnow

TASK_STATUSES = ("open", "claimed", "resolved", "cancelled")


class ReviewTask(SQLModel, table=True):
    __tablename__ = "review_task"
    __table_args__ = (
        # The review helper finds-or-creates on this key, so a resumed flow never duplicates.
        UniqueConstraint("kind", "claim_id", "claim_version", "step", name="uq_review_task_step"),
        UniqueConstraint("pause_key", name="uq_review_task_pause_key"),
        Index("ix_review_task_queue", "status", "priority", "due_at"),
        Index("ix_review_task_assignee", "assignee_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # eligibility, scrub, rejection, batch_rejection, denial, write_off_approval, remittance, ...
    kind: str = Field(max_length=30)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    claim_version: int | None = None
    # Distinguishes several pauses of one kind on the same claim version.
    step: int = Field(default=1, ge=1)
    payer_id: int | None = Field(default=None, foreign_key="payer.id")
    flow_run_id: str | None = Field(default=None, max_length=36)
    pause_key: str = Field(max_length=100)
    status: str = Field(default="open", max_length=10)
    assignee_id: int | None = Field(default=None, foreign_key="user.id")
    priority: int = Field(default=50, ge=0)
    due_at: datetime | None = timestamp_field(nullable=True)
    # The payer's hard deadline behind due_at (appeal window, timely filing), if any.
    deadline_at: datetime | None = timestamp_field(nullable=True)
    # Set by sweep-review-deadlines: the deadline passed while the task was open;
    # the task was handed to a lead after its SLA.
    overdue_at: datetime | None = timestamp_field(nullable=True)
    escalated_at: datetime | None = timestamp_field(nullable=True)
    # Ids and codes that explain the task (finding ids, CARC codes); never PHI.
    context: dict[str, Any] = json_field()
    decision_schema: dict[str, Any] = json_field()
    decision_id: int | None = Field(default=None, foreign_key="review_decision.id")
    # Optimistic concurrency: every change bumps it; an update names the version it read.
    version: int = Field(default=1, ge=1)
    created_at: datetime = timestamp_field(default_now=True)
    updated_at: datetime = timestamp_field(default_now=True, sa_column_kwargs={"onupdate": utcnow})
    resolved_at: datetime | None = timestamp_field(nullable=True)


class ReviewDecision(SQLModel, table=True):
    """A specialist's decision; the flow run is resumed with its id only."""

    __tablename__ = "review_decision"
    id: int | None = Field(default=None, primary_key=True)
    review_task_id: int = Field(index=True)
    decided_by_id: int = Field(foreign_key="user.id")
    decision: dict[str, Any] = json_field()
    decided_at: datetime = timestamp_field(default_now=True)
    # Set once Prefect accepted the resume; a reconciler retries the others.
    resumed_at: datetime | None = timestamp_field(nullable=True)
    applied_at: datetime | None = timestamp_field(nullable=True)


class Comment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int | None = Field(default=None, foreign_key="claim.id", index=True)
    review_task_id: int | None = Field(default=None, foreign_key="review_task.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    body: str = Field(min_length=1, max_length=4000)
    created_at: datetime = timestamp_field(default_now=True)
