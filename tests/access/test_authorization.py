"""Authorization in one place: kinds by role, separation of duties, service identities,
minimum necessary, and every refusal audited."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.access.permissions import service_identity
from claimdesk.billing.deposits import match_deposits
from claimdesk.billing.roles import STATEMENTS_SERVICE
from claimdesk.billing.statements import run_statement_cycle
from claimdesk.db import session_scope
from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import PermissionDenied
from claimdesk.review.tasks import ensure_review_task
from claimdesk.workqueue import resolve, task_view
from models import Refund, ReviewDecision, ReviewTask, User
from tests.access.conftest import audit_actions
from tests.factories import make_claim

_steps = itertools.count(1)
APPROVE = {"action": "approve"}


def _user(session: Session, name: str) -> User:
    return session.exec(select(User).where(User.username == name)).one()


def _write_off_approval(engine: Engine, *, decided_by: str) -> int:
    """A denial task decided "write off" by ``decided_by``, and the approval it opened."""
    with session_scope(engine) as session:
        claim = make_claim(session)
        denial_task = ensure_review_task(
            session=session, kind="denial", claim_id=claim.id, claim_version=1, step=next(_steps)
        )
        denial_task.status = "resolved"
        decision = ReviewDecision(
            review_task_id=denial_task.id or 0,
            decided_by_id=_user(session, decided_by).id or 0,
            decision={"action": "write_off", "reason": "not worth appealing"},
        )
        session.add_all([denial_task, decision])
        session.flush()
        approval = ensure_review_task(
            session=session,
            kind="write_off_approval",
            claim_id=claim.id,
            claim_version=1,
            step=denial_task.step,
            context={"denial_id": 1, "denial_task_id": denial_task.id},
        )
        return approval.id or 0


def _resolve(engine: Engine, task_id: int, who: str) -> resolve.ResolveOutcome:
    def no_resume(run: str, ref: int) -> None:
        raise AssertionError("no flow run waits")

    return resolve.resolve_review(
        engine, task_id=task_id, username=who, decision=APPROVE, resumer=no_resume
    )


def test_a_specialist_cannot_resolve_a_write_off_approval(engine: Engine) -> None:
    task_id = _write_off_approval(engine, decided_by="ann")
    with pytest.raises(PermissionDenied, match="resolved by lead"):
        _resolve(engine, task_id, "sam")
    [refusal] = audit_actions(engine, "access.refused")
    assert refusal.actor == "sam"
    assert refusal.details["action"] == "task.resolve"
    assert refusal.details["kind"] == "write_off_approval"


def test_a_lead_cannot_approve_their_own_write_off(engine: Engine) -> None:
    task_id = _write_off_approval(engine, decided_by="lou")
    with pytest.raises(PermissionDenied, match="separation of duties"):
        _resolve(engine, task_id, "lou")
    [refusal] = audit_actions(engine, "access.refused")
    assert (refusal.actor, refusal.details["action"]) == ("lou", "write_off_approval.approve")
    with session_scope(engine) as session:
        task = session.get(ReviewTask, task_id)
        assert task is not None and task.status == "open"  # nothing was recorded
    # Another lead approves it.
    assert _resolve(engine, task_id, "lin").decision_id > 0


def test_whoever_identified_a_refund_does_not_approve_it(engine: Engine) -> None:
    with session_scope(engine) as session:
        claim = make_claim(session)
        task = ensure_review_task(
            session=session, kind="refund", claim_id=claim.id, claim_version=1, step=1
        )
        session.add(
            Refund(
                claim_id=claim.id or 0,
                payee="patient",
                patient_id=claim.patient_id,
                amount="10.00",  # type: ignore[arg-type]
                reason="credit balance",
                identified_on=date(2026, 11, 1),
                review_task_id=task.id,
                created_by="lou",
            )
        )
        task_id = task.id or 0
        user = _user(session, "lou")
        with pytest.raises(PermissionDenied, match="separation of duties"):
            resolve.record_decision(
                session=session,
                task_id=task_id,
                user=user,
                decision={"action": "approve", "method": "check", "reference": "1001"},
            )


def test_a_service_identity_cannot_resolve_review_tasks(engine: Engine) -> None:
    statements = service_identity("statements")
    with session_scope(engine) as session:
        claim = make_claim(session)
        task = ensure_review_task(
            session=session, kind="scrub", claim_id=claim.id, claim_version=1, step=1
        )
        with pytest.raises(PermissionDenied, match=r"may not task\.resolve"):
            resolve.record_decision(
                session=session,
                task_id=task.id or 0,
                user=statements,  # type: ignore[arg-type]
                decision={"action": "override", "reason": "payer confirmed"},
            )
    [refusal] = audit_actions(engine, "access.refused")
    assert refusal.actor == "system:statements" and refusal.details["role"] == "service"


def test_the_scheduled_path_runs_as_a_named_service_and_people_are_still_checked(
    engine: Engine, tmp_path: object
) -> None:
    store = LocalDocumentStore(tmp_path / "documents")  # type: ignore[operator]
    with session_scope(engine) as session:
        assert run_statement_cycle(session, as_of=date(2026, 12, 1), store=store) == []
        assert (
            run_statement_cycle(
                session, as_of=date(2026, 12, 1), store=store, user=STATEMENTS_SERVICE
            )
            == []
        )
        match_deposits(session, as_of=date(2026, 12, 1), user=_user(session, "sam"))
    for who in ("mo", "aud", "ada"):  # no None-skip: a person is checked for every call
        with session_scope(engine) as session, pytest.raises(PermissionDenied):
            run_statement_cycle(
                session, as_of=date(2026, 12, 1), store=store, user=_user(session, who)
            )
        with session_scope(engine) as session, pytest.raises(PermissionDenied):
            match_deposits(session, as_of=date(2026, 12, 1), user=_user(session, who))
    assert len(audit_actions(engine, "access.refused")) == 6


def test_a_specialist_opens_tasks_of_their_kinds_and_others_only_with_a_reason(
    engine: Engine,
) -> None:
    own = _task(engine, "scrub")
    other = _write_off_approval(engine, decided_by="lou")
    assert task_view.read_task_view(engine, username="sam", task_id=own).task.id == own
    with pytest.raises(PermissionDenied, match="give a reason"):
        task_view.read_task_view(engine, username="sam", task_id=other)
    [refusal] = audit_actions(engine, "access.refused")
    assert refusal.details["action"] == "task.search"
    view = task_view.read_task_view(
        engine, username="sam", task_id=other, reason="patient called about the write-off"
    )
    assert view.task.id == other
    [search] = audit_actions(engine, "phi.searched")
    assert search.actor == "sam" and search.details["reason"].startswith("patient called")
    # A lead works every kind: no reason needed.
    assert task_view.read_task_view(engine, username="lou", task_id=other).task.id == other


def _task(engine: Engine, kind: str) -> int:
    with session_scope(engine) as session:
        claim = make_claim(session)
        task = ensure_review_task(
            session=session, kind=kind, claim_id=claim.id, claim_version=1, step=next(_steps)
        )
        return task.id or 0


def test_a_refusal_inside_a_caller_s_transaction_is_audited_after_its_rollback(
    engine: Engine,
) -> None:
    """The refused work is rolled back; the ``access.refused`` event is kept."""
    task_id = _task(engine, "scrub")
    with pytest.raises(PermissionDenied), session_scope(engine) as session:
        claim = make_claim(session)  # work the refusal must roll back
        resolve.record_decision(
            session=session,
            task_id=task_id,
            user=_user(session, "aud"),
            decision={"action": "override", "reason": "payer confirmed"},
        )
    assert claim.id is not None
    with session_scope(engine) as session:
        from models import Claim

        assert session.get(Claim, claim.id) is None
    [refusal] = audit_actions(engine, "access.refused")
    assert (refusal.actor, refusal.details["action"]) == ("aud", "task.resolve")
