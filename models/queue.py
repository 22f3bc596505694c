"""The work-queue app's own tables: saved queue views."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._fields import json_field, timestamp_field
from models.review import ReviewTask


class SavedView(SQLModel, table=True):
    """A named set of queue filters; a shared view is listed for everyone and linkable by id."""

    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_saved_view_owner_name"),)
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(min_length=1, max_length=60)
    # Queue filter values (kinds, payer ids, status, due window, amounts, sort); no PHI.
    filters: dict[str, Any] = json_field()
    shared: bool = False
    created_at: datetime = timestamp_field(default_now=True)


# Indexes the queue page and "next task" need (both sort by priority, highest first, then
# oldest id; keyset pages continue from the last row's (priority, id)). Declared here, beside
# the queue's other schema, so Alembic's autogenerate sees them on review_task's metadata.
_task = ReviewTask.__table__  # type: ignore[attr-defined]
Index("ix_review_task_page_priority", _task.c.status, _task.c.priority.desc(), _task.c.id)
Index("ix_review_task_page_due", _task.c.status, _task.c.due_at, _task.c.id)
# A kind filter sorted by due date (the usual drill-down from the dashboard).
Index("ix_review_task_page_kind_due", _task.c.kind, _task.c.status, _task.c.due_at, _task.c.id)
Index("ix_review_task_page_kind", _task.c.kind, _task.c.status, _task.c.priority.desc(), _task.c.id)
