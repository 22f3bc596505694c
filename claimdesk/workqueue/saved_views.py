"""Saved queue views: named filter sets kept on the server, private or shared by link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import col, or_, select

from claimdesk.access import permissions
from claimdesk.access.auth import load_active_user
from claimdesk.access.permissions import require
from claimdesk.db import session_scope
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.workqueue.filters import QueueFilters
from models import SavedView, User, append_audit_event


@dataclass(frozen=True)
class ViewSummary:
    id: int
    name: str
    owner: str
    shared: bool
    filters: QueueFilters


def save_view(
    engine: Engine, *, username: str, name: str, filters: QueueFilters, shared: bool
) -> int:
    """Create or overwrite the user's view called ``name``."""
    name = name.strip()
    if not name or len(name) > 60:
        raise ValidationFailed("name: 1 to 60 characters", field="name")
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.view")
        view = session.exec(
            select(SavedView).where(SavedView.owner_id == user.id, SavedView.name == name)
        ).first() or SavedView(owner_id=user.id or 0, name=name)
        view.filters = filters.to_params()
        view.shared = shared
        session.add(view)
        session.flush()
        append_audit_event(
            session,
            actor=user.username,
            action="view.saved",
            entity_type="saved_view",
            entity_id=view.id,
            details={"shared": shared},
        )
        return view.id or 0


def list_views(engine: Engine, *, username: str) -> list[ViewSummary]:
    """The user's own views and everyone's shared ones."""
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        require(user, "task.view")
        rows = session.exec(
            select(SavedView, User.username)
            .join(User, col(User.id) == col(SavedView.owner_id))
            .where(or_(col(SavedView.owner_id) == user.id, col(SavedView.shared).is_(True)))
            .order_by(col(SavedView.name))
        ).all()
        return [
            ViewSummary(v.id or 0, v.name, owner, v.shared, QueueFilters.from_params(v.filters))
            for v, owner in rows
        ]


def read_view(engine: Engine, *, username: str, view_id: int) -> ViewSummary:
    """A view by id (a shared link); someone else's private view is refused."""
    for view in list_views(engine, username=username):
        if view.id == view_id:
            return view
    raise NotFound(f"no saved view {view_id} you may open")


def delete_view(engine: Engine, *, username: str, view_id: int) -> None:
    with session_scope(engine) as session:
        user = load_active_user(session, username)
        view = session.get(SavedView, view_id)
        if view is None:
            raise NotFound(f"no saved view {view_id}")
        if view.owner_id != user.id:
            permissions.deny(user, "view.delete", f"view {view_id} belongs to someone else")
        session.delete(view)
