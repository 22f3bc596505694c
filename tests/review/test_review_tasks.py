"""Human review in the service layer: claim, resolve, conflicts, deferred resumes."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.db import make_engine, session_scope
from claimdesk.errors import PermissionDenied, ReviewConflict, ValidationFailed
from claimdesk.migrate import upgrade_database
from claimdesk.review.tasks import (
    claim_task,
    ensure_review_task,
    mark_decision_applied,
    pause_key,
    read_recorded_decision,
)
from claimdesk.settings import Settings
from claimdesk.workqueue.resolve import reconcile_resumes, resolve_review
from models import AuditEvent, ReviewDecision, ReviewTask, User
from tests.factories import make_claim

VALID_SCRUB = {"action": "override", "reason": "payer confirmed modifier not needed"}


def _user(session: Session, name: str, role: str) -> User:
    user = User(username=name, role=role, password_hash="x")
    session.add(user)
    session.flush()
    return user


@pytest.fixture
def world(fresh_settings: Settings) -> Iterator[tuple[Engine, int]]:
    engine = make_engine(
        fresh_settings,
        **({} if "sqlite" in fresh_settings.effective_database_url else {"pool_size": 12}),
    )
    upgrade_database(engine)
    with session_scope(engine) as session:
        claim = make_claim(session)
        for name, role in [
            ("ann", "specialist"),
            ("bo", "specialist"),
            ("lee", "lead"),
            ("aud", "auditor"),
        ]:
            _user(session, name, role)
        task = ensure_review_task(
            session=session, kind="scrub", claim_id=claim.id, claim_version=1, flow_run_id="run-1"
        )
        task_id = task.id
    assert task_id is not None
    yield engine, task_id
    engine.dispose()


def test_pause_key_uses_only_lowercase_digits_and_dashes() -> None:
    assert pause_key("scrub", 101, 2, 3) == "scrub-101-v2-3"
    assert pause_key("batch_rejection", None, None, 1, step=7) == "batch-rejection-s7-1"


def test_ensure_review_task_is_idempotent(world: tuple[Engine, int]) -> None:
    engine, task_id = world
    with session_scope(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None
        again = ensure_review_task(
            session=session, kind="scrub", claim_id=task.claim_id, claim_version=1
        )
        assert again.id == task_id
        assert len(session.exec(select(ReviewTask)).all()) == 1


def test_claim_task_has_exactly_one_winner_under_concurrency(world: tuple[Engine, int]) -> None:
    engine, task_id = world

    def attempt(name: str) -> str:
        try:
            with session_scope(engine) as session:
                user = session.exec(select(User).where(User.username == name)).one()
                claim_task(session=session, task_id=task_id, user=user)
            return "won"
        except ReviewConflict:
            return "lost"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(attempt, ["ann", "bo", "lee", "ann", "bo", "lee", "ann", "bo"]))
    assert results.count("won") == 1


def test_resolve_review_records_decision_then_resumes_with_reference_only(
    world: tuple[Engine, int],
) -> None:
    engine, task_id = world
    resumed: list[tuple[str, int]] = []
    outcome = resolve_review(
        engine,
        task_id=task_id,
        username="ann",
        decision=VALID_SCRUB,
        resumer=lambda run, ref: resumed.append((run, ref)),
    )
    assert outcome.resumed
    assert resumed == [("run-1", outcome.decision_id)]
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "resolved"
        decision = session.get(ReviewDecision, outcome.decision_id)
        assert decision is not None and decision.resumed_at is not None
        assert decision.decision["reason"] == VALID_SCRUB["reason"]
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "task.resolved")).one()


def test_resolve_review_twice_is_a_conflict_and_changes_nothing(world: tuple[Engine, int]) -> None:
    engine, task_id = world
    resolve_review(
        engine, task_id=task_id, username="ann", decision=VALID_SCRUB, resumer=lambda run, ref: None
    )
    with pytest.raises(ReviewConflict, match="already resolved"):
        resolve_review(
            engine,
            task_id=task_id,
            username="bo",
            decision=VALID_SCRUB,
            resumer=lambda run, ref: None,
        )
    with Session(engine) as session:
        assert len(session.exec(select(ReviewDecision)).all()) == 1


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        ({"action": "override"}, "decision"),
        ({"action": "approve", "reason": "x"}, "action"),
        ({"action": "cancel", "reason": "x", "extra": 1}, "extra"),
        (
            {
                "action": "corrected_fields",
                "corrections": {"lines": [{"line_number": 1, "charge": "-3"}]},
            },
            "corrections.lines.0.charge",
        ),
    ],
)
def test_resolve_review_invalid_decision_is_refused_naming_field(
    world: tuple[Engine, int], decision: dict, field: str
) -> None:
    engine, task_id = world
    with pytest.raises(ValidationFailed) as info:
        resolve_review(
            engine,
            task_id=task_id,
            username="ann",
            decision=decision,
            resumer=lambda run, ref: None,
        )
    assert info.value.field.startswith(field) or field == "decision"
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "open"
        assert session.exec(select(ReviewDecision)).all() == []


def test_resolve_review_by_auditor_is_refused(world: tuple[Engine, int]) -> None:
    engine, task_id = world
    with pytest.raises(PermissionDenied, match="auditor"):
        resolve_review(
            engine,
            task_id=task_id,
            username="aud",
            decision=VALID_SCRUB,
            resumer=lambda run, ref: None,
        )


def test_specialist_cannot_resolve_task_claimed_by_someone_else(world: tuple[Engine, int]) -> None:
    engine, task_id = world
    with session_scope(engine) as session:
        ann = session.exec(select(User).where(User.username == "ann")).one()
        claim_task(session=session, task_id=task_id, user=ann)
    with pytest.raises(ReviewConflict, match="claimed by someone else"):
        resolve_review(
            engine,
            task_id=task_id,
            username="bo",
            decision=VALID_SCRUB,
            resumer=lambda run, ref: None,
        )


def test_resolve_while_prefect_is_down_keeps_decision_and_reconciler_resumes_once(
    world: tuple[Engine, int],
) -> None:
    engine, task_id = world

    def down(run: str, ref: int) -> None:
        raise ConnectionError("prefect unreachable")

    outcome = resolve_review(
        engine, task_id=task_id, username="ann", decision=VALID_SCRUB, resumer=down
    )
    assert not outcome.resumed and "deferred" in outcome.message
    calls: list[int] = []
    first = reconcile_resumes(engine, lambda run, ref: calls.append(ref))
    second = reconcile_resumes(engine, lambda run, ref: calls.append(ref))
    assert [o.resumed for o in first] == [True]
    assert second == []
    assert calls == [outcome.decision_id]


def test_recorded_decision_refuses_unknown_reference_and_applies_once(
    world: tuple[Engine, int],
) -> None:
    engine, task_id = world
    outcome = resolve_review(
        engine, task_id=task_id, username="ann", decision=VALID_SCRUB, resumer=lambda run, ref: None
    )
    with session_scope(engine) as session:
        assert read_recorded_decision(session=session, task_id=task_id, decision_id=999) is None
        assert (
            read_recorded_decision(
                session=session, task_id=task_id, decision_id=outcome.decision_id
            )
            is not None
        )
        assert mark_decision_applied(session=session, decision_id=outcome.decision_id)
        assert not mark_decision_applied(session=session, decision_id=outcome.decision_id)


def test_ensure_review_task_opens_a_new_step_after_the_last_closed(
    world: tuple[Engine, int],
) -> None:
    engine, task_id = world
    resolve_review(
        engine, task_id=task_id, username="ann", decision=VALID_SCRUB, resumer=lambda run, ref: None
    )
    with session_scope(engine) as session:
        first = session.get(ReviewTask, task_id)
        assert first is not None
        again = ensure_review_task(
            session=session, kind="scrub", claim_id=first.claim_id, claim_version=1
        )
        assert again.id != task_id and again.step == 2 and again.status == "open"
        assert again.pause_key.endswith("-s2-1")
        same = ensure_review_task(
            session=session, kind="scrub", claim_id=first.claim_id, claim_version=1
        )
        assert same.id == again.id


def test_resolve_review_refuses_a_correction_of_a_line_the_claim_does_not_have(
    world: tuple[Engine, int],
) -> None:
    engine, task_id = world
    decision = {
        "action": "corrected_fields",
        "corrections": {"lines": [{"line_number": 7, "modifiers": ["25"]}]},
    }
    with pytest.raises(ValidationFailed, match="no line 7") as info:
        resolve_review(
            engine,
            task_id=task_id,
            username="ann",
            decision=decision,
            resumer=lambda run, ref: None,
        )
    assert info.value.field == "corrections.lines"
    with Session(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "open"
        assert session.exec(select(ReviewDecision)).all() == []
