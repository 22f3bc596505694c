"""Scrub ready claims, send clean ones in 837 batches per payer, exactly once per version.

A claim version goes out in one interchange only: the outbox commits the
interchange (and the unique claim+version rows) before anything is sent, and a
retry resends the stored bytes. Claims with scrub errors are held for review, and so
is a claim that cannot be built or fails the TR3 check (``claimdesk.submission.build``):
the rest of its batch goes out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.claims.snapshot import build_claim_snapshot
from claimdesk.db import session_scope
from claimdesk.documents import make_document_store
from claimdesk.gateway.errors import PayerError
from claimdesk.gateway.factory import client_for
from claimdesk.review.tasks import ensure_review_task
from claimdesk.rules import run_rules
from claimdesk.settings import Settings
from claimdesk.submission.build import build_batch
from claimdesk.submission.learned import scrub_pack
from claimdesk.submission.outbox import send_submission
from claimdesk.submission.paper import paper_payer_ids
from models import Claim, Payer, Submission, SubmissionClaim, append_audit_event

ACTOR = "system:submission"
# Claims per 837 interchange: large enough to amortise the envelope, small enough that a
# rejected transaction set (999 IK5*R) sends few claims back.
DEFAULT_BATCH_SIZE = 500


@dataclass
class ScrubRun:
    clean: int = 0
    held: int = 0
    review_task_ids: list[int] = field(default_factory=list)


@dataclass
class BuildRun:
    submissions: list[int] = field(default_factory=list)
    held: int = 0  # claims that could not be built or failed the TR3 check: scrub review
    review_task_ids: list[int] = field(default_factory=list)


@dataclass
class SendRun:
    submissions: list[int] = field(default_factory=list)
    claims_sent: int = 0
    payer_errors: int = 0


def scrub_ready_claims(
    engine: Engine, *, today: date, limit: int = 5000, only: Collection[int] | None = None
) -> ScrubRun:
    """Run the rule pack over every ready claim (or those of ``only``): clean → queued,
    errors → scrub review."""
    run = ScrubRun()
    with Session(engine) as session:
        query = select(col(Claim.id)).where(Claim.status == "ready")
        if only is not None:  # the 837 export scrubs just the claims it was asked for
            query = query.where(col(Claim.id).in_(list(only)))
        claim_ids = list(session.exec(query.order_by(col(Claim.id)).limit(limit)).all())
        # The core pack plus the learned rules a lead approved, read once per run.
        pack = scrub_pack(session)
    for claim_id in claim_ids:
        if claim_id is None:
            continue
        # Read, judge, then write, each short: the rules (and the ICD-10-CM code set they
        # load on first use) never run inside a transaction that holds SQLite's write lock.
        with Session(engine) as session:
            snapshot = build_claim_snapshot(session=session, claim_id=claim_id, today=today)
        result = run_rules(snapshot, pack)
        with session_scope(engine) as session:
            claim = session.get(Claim, claim_id)
            if claim is None or claim.status != "ready" or claim.version != snapshot.version:
                continue  # someone moved or corrected it meanwhile: the next run scrubs again
            details = {
                "pack": f"{result.pack_name}@{result.pack_version}",
                # The CMS edit data each edit kind read (or that none was loaded).
                "data": result.data_versions,
                "errors": [f.rule_id for f in result.errors],
                "warnings": [f.rule_id for f in result.warnings],
            }
            append_audit_event(
                session,
                actor=ACTOR,
                action="claim.scrubbed",
                entity_type="claim",
                entity_id=claim_id,
                claim_id=claim_id,
                details=details,
            )
            if not result.has_errors:
                set_claim_status(
                    session=session, claim=claim, status="queued", actor=ACTOR, reason="scrub_clean"
                )
                run.clean += 1
                continue
            set_claim_status(
                session=session,
                claim=claim,
                status="scrub_hold",
                actor=ACTOR,
                reason="scrub_errors",
            )
            task = ensure_review_task(
                session=session,
                kind="scrub",
                claim_id=claim_id,
                claim_version=claim.version,
                payer_id=claim.payer_id,
                priority=55,
                context={
                    **details,
                    "findings": [
                        {"rule_id": f.rule_id, "field": f.field, "message": f.message}
                        for f in result.findings
                    ],
                },
            )
            run.held += 1
            if task.status == "open" and task.flow_run_id is None and task.id is not None:
                run.review_task_ids.append(task.id)
    return run


def queued_batches(
    session: Session, *, payer_id: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> list[tuple[int, list[tuple[int, int]]]]:
    """Queued claim versions not yet in any submission, grouped per payer and kind."""
    query = (
        select(col(Claim.id), col(Claim.version), col(Claim.payer_id), col(Claim.kind))
        .outerjoin(
            SubmissionClaim,
            (col(SubmissionClaim.claim_id) == col(Claim.id))
            & (col(SubmissionClaim.claim_version) == col(Claim.version)),
        )
        .where(Claim.status == "queued", col(SubmissionClaim.id).is_(None))
        .order_by(col(Claim.id))
    )
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    paper = paper_payer_ids(session)  # billed on a CMS-1500 instead (paper_claim_service)
    if paper:
        query = query.where(col(Claim.payer_id).not_in(paper))
    groups: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for claim_id, version, claim_payer, kind in session.exec(query).all():
        groups[(claim_payer, kind)].append((claim_id or 0, version))
    return [
        (group_payer, claims[start : start + batch_size])
        for (group_payer, _kind), claims in sorted(groups.items())
        for start in range(0, len(claims), batch_size)
    ]


def build_batches(
    engine: Engine,
    settings: Settings,
    *,
    payer_id: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[int]:
    """Build and commit an interchange for each batch of queued claims; their submission ids."""
    return build_batch_run(engine, settings, payer_id=payer_id, batch_size=batch_size).submissions


def build_batch_run(
    engine: Engine,
    settings: Settings,
    *,
    payer_id: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> BuildRun:
    """``build_batches``, claim by claim: a claim that cannot go is held, the rest goes."""
    store = make_document_store(settings)
    with Session(engine) as session:
        batches = queued_batches(session, payer_id=payer_id, batch_size=batch_size)
    run = BuildRun()
    for batch_payer, claims in batches:
        built = build_batch(engine, settings, store, payer_id=batch_payer, claims=claims)
        run.submissions.extend(built.submission_ids)
        run.held += len(built.held)
        run.review_task_ids.extend(built.review_task_ids)
    return run


def unsent_submissions(session: Session) -> list[int]:
    return [
        s
        for s in session.exec(
            select(col(Submission.id))
            .where(Submission.status == "built")
            .order_by(col(Submission.id))
        ).all()
        if s is not None
    ]


def send_built_submission(engine: Engine, settings: Settings, submission_id: int) -> bool:
    """Send (or resend: same bytes, same PayloadID) one built interchange; True when sent."""
    with Session(engine) as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None
        if submission.status != "built":
            return False
        payer = session.get(Payer, submission.payer_id)
        assert payer is not None
    client = client_for(payer, settings=settings, engine=engine)
    try:
        send_submission(engine, make_document_store(settings), client, submission_id)
    except PayerError:
        return False  # stays "built": the next run resends the same interchange
    finally:
        client.close()
    mark_sent_claims(engine, submission_id=submission_id)
    return True


def mark_sent_claims(engine: Engine, *, submission_id: int | None = None) -> int:
    """Claims still queued though their interchange went out → sent.

    After a send, only that interchange's claims: sends to several payers run at once,
    and two transactions locking each other's claims (then the audit lock) deadlock.
    Without ``submission_id``, the sweep for a crash between the send and this step.
    """
    moved = 0
    with session_scope(engine) as session:
        query = (
            select(Claim, SubmissionClaim.submission_id)
            .join(
                SubmissionClaim,
                (col(SubmissionClaim.claim_id) == col(Claim.id))
                & (col(SubmissionClaim.claim_version) == col(Claim.version)),
            )
            .join(Submission, col(Submission.id) == col(SubmissionClaim.submission_id))
            .where(Claim.status == "queued", Submission.status != "built")
            .order_by(col(Claim.id))
        )
        if submission_id is not None:
            query = query.where(SubmissionClaim.submission_id == submission_id)
        rows = session.exec(query).all()
        for claim, submission_id in rows:
            set_claim_status(
                session=session,
                claim=claim,
                status="sent",
                actor=ACTOR,
                reason=f"submission:{submission_id}",
            )
            moved += 1
    return moved
