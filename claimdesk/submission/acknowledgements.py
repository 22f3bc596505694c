"""Pick up TA1, 999 and 277CA files and match them back to submissions and claims.

Processing is idempotent (a file offered twice changes nothing the second
time): every change is guarded by the state it moves from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.claims.moves import set_claim_status
from claimdesk.db import session_scope
from claimdesk.documents import make_document_store
from claimdesk.gateway.errors import PayerError
from claimdesk.gateway.factory import client_for, payer_mailboxes
from claimdesk.review.tasks import ensure_review_task
from claimdesk.settings import Settings
from claimdesk.submission.status import SUBMISSION
from claimdesk.x12 import Ack999, ClaimStatus277, SegmentReader, X12Error, iter_interchanges
from models import Claim, Document, Payer, Submission, SubmissionClaim

ACTOR = "system:acknowledgements"
_REJECTED_999 = {"R", "M", "W", "X"}


@dataclass
class AckRun:
    files: int = 0
    unreadable: int = 0
    accepted: int = 0
    rejected: int = 0
    payer_errors: int = 0
    review_task_ids: list[int] = field(default_factory=list)


def retrieve_acknowledgements(engine: Engine, settings: Settings) -> AckRun:
    """Retrieve waiting TA1/999/277CA files from every payer endpoint and process them."""
    run = AckRun()
    with Session(engine) as session:
        payers = session.exec(select(Payer).order_by(col(Payer.id))).all()
    for payer in payer_mailboxes(payers, settings):
        client = client_for(payer, settings=settings, engine=engine)
        try:
            for kind in ("TA1", "999", "277CA"):
                try:
                    files = client.retrieve(kind)
                except PayerError:
                    run.payer_errors += 1
                    continue
                for retrieved in files:
                    run.files += 1
                    process_acknowledgement(engine, settings, retrieved.payload, run)
        finally:
            client.close()
    return run


def process_acknowledgement(engine: Engine, settings: Settings, data: bytes, run: AckRun) -> None:
    try:
        interchanges = list(iter_interchanges(data))
    except X12Error:
        run.unreadable += 1  # kept as a document by the gateway; nothing to match
        return
    with session_scope(engine) as session:
        for interchange in interchanges:
            for ta1 in interchange.acknowledgments:
                _apply_ta1(session, ta1.control_number, ta1.ack_code, run)
            for group in interchange.groups:
                for transaction in group.transactions:
                    if isinstance(transaction, Ack999):
                        _apply_999(session, settings, transaction, run)
                    elif isinstance(transaction, ClaimStatus277):
                        _apply_277ca(session, transaction, run)


def _submission_claims(session: Session, submission_id: int) -> list[Claim]:
    ids = session.exec(
        select(SubmissionClaim.claim_id).where(SubmissionClaim.submission_id == submission_id)
    ).all()
    return list(
        session.exec(select(Claim).where(col(Claim.id).in_(ids)).order_by(col(Claim.id))).all()
    )


def _reject_submission(
    session: Session, submission: Submission, run: AckRun, context: dict[str, object]
) -> None:
    if submission.status == "rejected":
        return
    SUBMISSION.move(submission, "rejected")
    session.add(submission)
    for claim in _submission_claims(session, submission.id or 0):
        if claim.status in ("sent", "accepted"):
            set_claim_status(
                session=session,
                claim=claim,
                status="rejected",
                actor=ACTOR,
                reason=f"submission_rejected:{submission.id}",
            )
            run.rejected += 1
    task = ensure_review_task(
        session=session,
        kind="batch_rejection",
        claim_id=None,
        claim_version=None,
        step=submission.id or 1,
        payer_id=submission.payer_id,
        priority=80,
        context={"submission_id": submission.id, **context},
    )
    if task.id is not None and task.flow_run_id is None:
        run.review_task_ids.append(task.id)


def _apply_ta1(session: Session, control_number: str, ack_code: str, run: AckRun) -> None:
    submission = session.exec(
        select(Submission).where(Submission.interchange_control_number == control_number.zfill(9))
    ).first()
    if submission is None:
        return
    submission.ta1_status = ack_code
    session.add(submission)
    if ack_code == "R":
        _reject_submission(session, submission, run, {"ta1": ack_code})


def _apply_999(session: Session, settings: Settings, ack: Ack999, run: AckRun) -> None:
    submission = session.exec(
        select(Submission).where(Submission.group_control_number == ack.group_control_number)
    ).first()
    if submission is None:
        return
    for set_ack in ack.acks:
        if set_ack.control_number.lstrip("0") != submission.set_control_number.lstrip("0"):
            continue
        submission.ack_999_status = set_ack.status
        if submission.status == "sent":
            SUBMISSION.move(submission, "acknowledged")
        session.add(submission)
        if set_ack.status in _REJECTED_999:
            positions = [e.position for e in set_ack.segment_errors if e.position is not None]
            hit = claims_at_positions(session, settings, submission, positions)
            _reject_submission(
                session,
                submission,
                run,
                {
                    "ik5": set_ack.status,
                    "segment_errors": [
                        {
                            "segment": e.segment_id,
                            "position": e.position,
                            "code": e.code,
                            "claim_id": hit.get(e.position or -1),
                        }
                        for e in set_ack.segment_errors
                    ],
                },
            )


def claims_at_positions(
    session: Session, settings: Settings, submission: Submission, positions: Iterable[int]
) -> dict[int, int]:
    """Map IK3 segment positions (counted from ST) to the claim whose loop holds them."""
    wanted = sorted(set(positions))
    if not wanted or submission.document_id is None:
        return {}
    document = session.get(Document, submission.document_id)
    assert document is not None
    data = make_document_store(settings).get(document.storage_key, sha256=document.sha256)
    claim_starts: list[tuple[int, int]] = []  # (position in set, claim id)
    st_position = 0
    for position, elements in SegmentReader(data):
        if elements[0] == "ST":
            st_position = position
        elif elements[0] == "REF" and len(elements) > 2 and elements[1] == "D9":
            claim_id = int(elements[2].rsplit("-v", 1)[0])
            claim_starts.append((position - st_position + 1, claim_id))
    result: dict[int, int] = {}
    for wanted_position in wanted:
        before = [claim for start, claim in claim_starts if start <= wanted_position]
        if before:
            result[wanted_position] = before[-1]
        elif claim_starts:
            result[wanted_position] = claim_starts[0][1]
    return result


def _apply_277ca(session: Session, ack: ClaimStatus277, run: AckRun) -> None:
    for status in ack.claims:
        claim_id, version = _parse_d9(status.clearinghouse_trace)
        if claim_id is None:
            continue
        row = session.exec(
            select(SubmissionClaim).where(
                SubmissionClaim.claim_id == claim_id, SubmissionClaim.claim_version == version
            )
        ).first()
        claim = session.get(Claim, claim_id)
        if row is None or claim is None or claim.version != version:
            continue
        codes = [
            f"{c.category}:{c.status}:{c.entity}".rstrip(":")
            for s in status.statuses
            for c in s.codes
        ]
        if status.accepted:
            if row.outcome != "rejected":
                row.outcome = "accepted"
                row.stc_codes = codes
            if status.payer_claim_control_number:
                claim.payer_claim_number = status.payer_claim_control_number
            if claim.status == "sent":
                set_claim_status(
                    session=session, claim=claim, status="accepted", actor=ACTOR, reason="277CA"
                )
                run.accepted += 1
            session.add(row)
            session.add(claim)
            continue
        row.outcome = "rejected"
        row.stc_codes = codes
        session.add(row)
        if claim.status in ("sent", "accepted"):
            set_claim_status(
                session=session, claim=claim, status="rejected", actor=ACTOR, reason="277CA"
            )
            run.rejected += 1
            task = ensure_review_task(
                session=session,
                kind="rejection",
                claim_id=claim_id,
                claim_version=version,
                payer_id=claim.payer_id,
                priority=70,
                context={"stc": codes},
            )
            if task.id is not None and task.flow_run_id is None:
                run.review_task_ids.append(task.id)


def _parse_d9(reference: str) -> tuple[int | None, int]:
    claim_part, _, version_part = reference.rpartition("-v")
    if not claim_part.isdigit() or not version_part.isdigit():
        return None, 0
    return int(claim_part), int(version_part)
