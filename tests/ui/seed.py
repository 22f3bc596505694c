"""A real, migrated app database with people and open review tasks, for the app's tests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from claimdesk.db import make_engine
from claimdesk.migrate import upgrade_database
from claimdesk.passwords import hash_password
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings
from models import User
from models.types import utcnow
from tests.factories import make_claim, make_payer, make_practice

PASSWORD = "correct-horse-1"
USERS = {
    "spec1": "specialist",
    "spec2": "specialist",
    "lead1": "lead",
    "mgr1": "manager",
    "aud1": "auditor",
    "admin1": "admin",
}


def seed_app_database(settings: Settings, *, tasks: int = 6) -> dict[str, Any]:
    """Migrate and fill the database; returns the ids the tests refer to."""
    engine = make_engine(settings)
    upgrade_database(engine)
    password_hash = hash_password(PASSWORD)  # one slow hash, shared by every test user
    with Session(engine, expire_on_commit=False) as session:
        users = {}
        for name, role in USERS.items():
            user = User(
                username=name, role=role, display_name=name.title(), password_hash=password_hash
            )
            session.add(user)
            users[name] = user
        session.flush()
        practice = make_practice(session)
        payers = [make_payer(session, name="Acme Health"), make_payer(session, name="Blue Plan")]
        task_ids = []
        now = utcnow()
        for n in range(tasks):
            payer = payers[n % 2]
            claim = make_claim(session, practice=practice, payer=payer, status="scrub_hold")
            task = ensure_review_task(
                session=session,
                kind="scrub",
                claim_id=claim.id,
                claim_version=1,
                payer_id=payer.id,
                priority=50 + n,
                due_at=now + timedelta(days=n - 1),
                context={"finding_ids": ["CORE-POS-01"]},
            )
            task_ids.append(task.id)
        session.commit()
    engine.dispose()
    return {"task_ids": task_ids, "user_ids": {k: v.id for k, v in users.items()}}


def signed_in(username: str) -> dict[str, Any]:
    """The session-state value the sign-in component stores for ``username``."""
    return {"id": 0, "username": username, "display_name": username, "role": USERS[username]}


UI_DIR = Path(__file__).resolve().parents[2] / "ui"
