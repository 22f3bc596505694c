"""One denial worked to its end: the steps the per-denial ``appeal`` flow run walks.

The run re-runs from the top after every pause, so it never remembers where it
was: ``next_denial_step`` reads it from the database each time.

    denial open ──► denial review ──► corrected | billed | written off  (done)
         ▲                │
         │                ├── write-off above the threshold ──► lead's approval
         │                └── appeal ──► letter ──► appeal_send review ──► sent
         │                                                                 │
         └──────── upheld (next level or write-off) ◄── payer's outcome ◄──┘

An appeal sent electronically gets its outcome from the payer
(``track_appeal_outcomes``, run by status polling); an overturned appeal's money
comes in the payer's next 835. One sent by fax or mail gets its outcome from the
specialist (``record_appeal_outcome``, through the app or the CLI).

A denial's run exists only while it has work of its own or a person it waits on
after the first review: the 835's posting opens the first review, an upheld
appeal's outcome (or the sweep, for one recorded by mail) opens the next round's,
and each round's decision starts the run (``claimdesk.workqueue.resolve``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Literal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.clock import today
from claimdesk.db import session_scope
from claimdesk.denials import appeals, due_date, load_routing_table
from claimdesk.denials import service as denials
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.gateway.errors import PayerError
from claimdesk.gateway.factory import client_for
from claimdesk.gateway.interface import AppealPacket
from claimdesk.review.decisions import AppealSendDecision, kinds_about
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings
from models import (
    Appeal,
    Claim,
    Denial,
    Document,
    Payer,
    ReviewDecision,
    ReviewTask,
    append_audit_event,
)
from models.types import utcnow

ACTOR = "system:appeals"
StepKind = Literal["review", "send", "done"]


@dataclass(frozen=True)
class DenialStep:
    """What the denial's run does next: wait on a task, send an appeal, or stop."""

    kind: StepKind
    task_id: int | None = None
    appeal_id: int | None = None
    outcome: str = ""


def next_denial_step(
    session: Session, denial_id: int, *, store: DocumentStore, today: date
) -> DenialStep:
    denial = session.get(Denial, denial_id)
    if denial is None:
        raise NotFound(f"no denial {denial_id}")
    waiting = _decided_not_applied(session, denial)
    if waiting is not None:
        # A resumed run applies the decision it was woken for before anything else.
        return DenialStep("review", task_id=waiting.id)
    if denial.status == "open":
        task = denials.open_denial_review(session, denial_id, today=today)
        return DenialStep("review", task_id=task.id)
    if denial.status == "write_off_pending":
        approval = _open_approval(session, denial)
        if approval is not None:
            return DenialStep("review", task_id=approval.id)
        return DenialStep("done", outcome="write_off_pending")
    if denial.status == "appealed":
        appeal = _latest_appeal(session, denial_id)
        if appeal is None or appeal.outcome != "pending":
            return DenialStep("done", outcome=appeal.outcome if appeal else "appealed")
        if appeal.submitted_at is not None:
            return DenialStep("done", outcome="appeal_sent")
        if appeal.letter_document_id is None:
            _write_letter(session, appeal, store=store, today=today)
        task = open_appeal_send_review(session, appeal)
        if task.decision_id is not None and _applied(session, task.decision_id):
            if appeal.channel == "electronic":
                return DenialStep("send", appeal_id=appeal.id)
            return DenialStep("done", outcome="appeal_sent")
        return DenialStep("review", task_id=task.id)
    return DenialStep("done", outcome=denial.status)


def _decided_not_applied(session: Session, denial: Denial) -> ReviewTask | None:
    rows = session.exec(
        select(ReviewTask, ReviewDecision)
        .join(ReviewDecision, col(ReviewDecision.id) == col(ReviewTask.decision_id))
        .where(
            ReviewTask.claim_id == denial.claim_id,
            col(ReviewTask.kind).in_(kinds_about("denial_id")),
            col(ReviewDecision.applied_at).is_(None),
        )
    ).all()
    for task, _ in rows:
        if task.context.get("denial_id") == denial.id:
            return task
    return None


def _applied(session: Session, decision_id: int) -> bool:
    decision = session.get(ReviewDecision, decision_id)
    return decision is not None and decision.applied_at is not None


def _open_approval(session: Session, denial: Denial) -> ReviewTask | None:
    tasks = session.exec(
        select(ReviewTask)
        .where(ReviewTask.kind == "write_off_approval", ReviewTask.claim_id == denial.claim_id)
        .order_by(col(ReviewTask.id).desc())
    ).all()
    for task in tasks:
        if task.context.get("denial_id") == denial.id:
            return task
    return None


def _latest_appeal(session: Session, denial_id: int) -> Appeal | None:
    return session.exec(
        select(Appeal).where(Appeal.denial_id == denial_id).order_by(col(Appeal.level).desc())
    ).first()


def _write_letter(session: Session, appeal: Appeal, *, store: DocumentStore, today: date) -> None:
    """The letter from the argument and enclosures of the denial decision that chose to appeal."""
    argument, enclosures = "", []
    for task in session.exec(
        select(ReviewTask)
        .where(ReviewTask.kind == "denial", ReviewTask.claim_id == appeal.claim_id)
        .order_by(col(ReviewTask.id).desc())
    ).all():
        if task.context.get("denial_id") != appeal.denial_id or task.decision_id is None:
            continue
        decision = session.get(ReviewDecision, task.decision_id)
        if decision is not None and decision.decision.get("action") == "appeal":
            argument = str(decision.decision.get("argument") or "")
            enclosures = [int(i) for i in decision.decision.get("document_ids") or []]
            break
    appeals.generate_appeal_letter(
        session,
        appeal_id=appeal.id or 0,
        store=store,
        argument=argument,
        enclosure_ids=enclosures,
        today=today,
    )


def open_appeal_send_review(session: Session, appeal: Appeal) -> ReviewTask:
    """The letter shown for review before it goes; one task per appeal."""
    claim = session.get(Claim, appeal.claim_id)
    assert claim is not None and appeal.id is not None
    payer = session.get(Payer, claim.payer_id)
    assert payer is not None
    buffer = load_routing_table().settings.deadline_buffer_days
    task = ensure_review_task(
        session=session,
        kind="appeal_send",
        claim_id=claim.id,
        claim_version=claim.version,
        step=appeal.id,
        payer_id=payer.id,
        priority=70,
        due_at=datetime.combine(due_date(appeal.deadline, buffer), time(17), tzinfo=UTC),
        context={
            "appeal_id": appeal.id,
            "denial_id": appeal.denial_id,
            "level": appeal.level,
            "letter_document_id": appeal.letter_document_id,
            "deadline": appeal.deadline.isoformat(),
            "electronic": payer.electronic_appeals,
        },
    )
    if task.deadline_at is None:
        task.deadline_at = datetime.combine(appeal.deadline, time(23, 59), tzinfo=UTC)
        if not payer.electronic_appeals:
            denials.drop_action(task, "send_electronic")
        session.add(task)
        session.flush()
    return task


def apply_appeal_send_decision(
    session: Session, task: ReviewTask, decision: AppealSendDecision, *, actor: str
) -> str:
    appeal = session.get(Appeal, task.context.get("appeal_id"))
    if appeal is None:
        raise NotFound(f"task {task.id} names no appeal")
    claim = session.get(Claim, appeal.claim_id)
    payer = session.get(Payer, claim.payer_id) if claim else None
    assert claim is not None and payer is not None
    if decision.action == "send_electronic":
        if not payer.electronic_appeals:
            raise ValidationFailed(
                f"decision.action: payer {payer.id} takes no electronic appeals; send it by "
                "fax or mail and say so.",
                field="action",
            )
        appeal.channel = "electronic"
        outcome = "queued_electronic"
    else:
        appeal.channel = "fax" if decision.action == "sent_fax" else "mail"
        appeal.submitted_at = utcnow()
        outcome = decision.action
    session.add(appeal)
    append_audit_event(
        session,
        actor=actor,
        action="appeal.send_decided",
        entity_type="appeal",
        entity_id=appeal.id,
        claim_id=claim.id,
        details={"channel": appeal.channel, "level": appeal.level},
    )
    return outcome


def send_appeal(engine: Engine, settings: Settings, appeal_id: int, store: DocumentStore) -> str:
    """Send an appeal through the payer's electronic channel, once; returns what happened."""
    with Session(engine) as session:
        appeal = session.get(Appeal, appeal_id)
        if appeal is None:
            raise NotFound(f"no appeal {appeal_id}")
        if appeal.submitted_at is not None:
            return "already_sent"
        claim = session.get(Claim, appeal.claim_id)
        denial = session.get(Denial, appeal.denial_id)
        letter = session.get(Document, appeal.letter_document_id)
        assert claim is not None and denial is not None and letter is not None
        payer = session.get(Payer, claim.payer_id)
        assert payer is not None
        packet = AppealPacket(
            claim_id=claim.id or 0,
            claim_version=claim.version,
            payer_claim_number=claim.payer_claim_number,
            carc_codes=[f"{denial.group_code}-{denial.reason_code}"],
            rarc_codes=list(denial.remark_codes),
            letter=store.get(letter.storage_key, sha256=letter.sha256),
        )
    client = client_for(payer, settings=settings, engine=engine, store=store)
    try:
        receipt = client.submit_appeal(packet)
    finally:
        client.close()
    with session_scope(engine) as session:
        appeal = session.get(Appeal, appeal_id)
        assert appeal is not None
        appeal.payer_appeal_id = receipt.appeal_id[:50]
        appeal.submitted_at = utcnow()
        session.add(appeal)
        append_audit_event(
            session,
            actor=ACTOR,
            action="appeal.sent",
            entity_type="appeal",
            entity_id=appeal_id,
            claim_id=appeal.claim_id,
            details={"channel": "electronic", "payer_appeal_id": appeal.payer_appeal_id},
        )
    return "sent"


def appeals_waiting_to_send(session: Session) -> list[tuple[int, int]]:
    """(denial id, appeal id) of appeals a person cleared to go electronically, not yet sent.

    Their run failed to reach the payer; the sweep starts a new one each day.
    """
    rows = session.exec(
        select(Appeal.denial_id, Appeal.id, ReviewTask.decision_id)
        .join(ReviewTask, col(ReviewTask.step) == col(Appeal.id))
        .where(
            ReviewTask.kind == "appeal_send",
            ReviewTask.claim_id == Appeal.claim_id,
            Appeal.channel == "electronic",
            col(Appeal.submitted_at).is_(None),
            Appeal.outcome == "pending",
            col(ReviewTask.decision_id).is_not(None),
        )
    ).all()
    return [
        (denial_id, appeal_id or 0)
        for denial_id, appeal_id, decision_id in rows
        if decision_id is not None and _applied(session, decision_id)
    ]


def denials_without_a_review(session: Session) -> list[tuple[int, int]]:
    """(denial id, round) of open denials no task waits on: reopened outside a run.

    An appeal upheld by mail, recorded by a specialist, reopens its denial; the sweep
    opens its next review round (``open_denial_review``), whose decision starts the run.
    """
    found = []
    for denial in session.exec(select(Denial).where(Denial.status == "open")).all():
        tasks = _denial_tasks(session, denial)
        if tasks and all(task.status in ("resolved", "cancelled") for task in tasks):
            found.append((denial.id or 0, len(tasks)))
    return found


def _denial_tasks(session: Session, denial: Denial) -> list[ReviewTask]:
    return [
        task
        for task in session.exec(
            select(ReviewTask).where(
                ReviewTask.kind == "denial", ReviewTask.claim_id == denial.claim_id
            )
        ).all()
        if task.context.get("denial_id") == denial.id
    ]


def record_mail_appeal_outcome(
    session: Session, *, appeal_id: int, outcome: str, username: str
) -> Appeal:
    """A specialist records the payer's answer to an appeal sent by fax or mail."""
    from claimdesk.access.auth import load_active_user
    from claimdesk.access.permissions import require

    user = load_active_user(session, username)
    require(user, "task.resolve")
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"no appeal {appeal_id}")
    if appeal.outcome != "pending":
        raise ValidationFailed(
            f"appeal {appeal_id} was already decided ({appeal.outcome}).", field="appeal_id"
        )
    if appeal.channel == "electronic":
        raise ValidationFailed(
            f"appeal {appeal_id} went electronically: its outcome comes from the payer.",
            field="appeal_id",
        )
    return appeals.record_appeal_outcome(
        session, appeal_id=appeal_id, outcome=outcome, actor=user.username
    )


@dataclass
class OutcomeRun:
    asked: int = 0
    overturned: int = 0
    upheld: int = 0
    payer_errors: int = 0
    # (denial id, review round) of appeals upheld: the denial is worked again.
    reopened: list[tuple[int, int]] = field(default_factory=list)


def track_appeal_outcomes(engine: Engine, settings: Settings, payer_id: int) -> OutcomeRun:
    """Ask the payer about its appeals sent electronically and still pending."""
    run = OutcomeRun()
    with Session(engine) as session:
        payer = session.get(Payer, payer_id)
        assert payer is not None
        pending = session.exec(
            select(Appeal.id, Appeal.payer_appeal_id)
            .join(Claim, col(Claim.id) == col(Appeal.claim_id))
            .where(
                Claim.payer_id == payer_id,
                Appeal.outcome == "pending",
                col(Appeal.payer_appeal_id).is_not(None),
            )
        ).all()
    if not pending:
        return run
    client = client_for(payer, settings=settings, engine=engine)
    day = today(settings)
    try:
        for appeal_id, payer_appeal_id in pending:
            run.asked += 1
            try:
                status = client.appeal_status(str(payer_appeal_id))
            except PayerError:
                run.payer_errors += 1
                continue
            if status not in ("overturned", "upheld"):
                continue
            with session_scope(engine) as session:
                appeal = appeals.record_appeal_outcome(
                    session, appeal_id=appeal_id or 0, outcome=status, actor=ACTOR
                )
                if status == "upheld":
                    run.upheld += 1
                    denial = session.get(Denial, appeal.denial_id)
                    assert denial is not None
                    run.reopened.append((denial.id or 0, len(_denial_tasks(session, denial))))
                    # The next round is a person's first: its review opens now, no run.
                    denials.open_denial_review(session, denial.id or 0, today=day)
                else:
                    run.overturned += 1
    finally:
        client.close()
    return run
