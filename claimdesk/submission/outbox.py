"""Exactly once on the wire: build and commit a submission, then send the stored bytes.

``build_submission`` allocates the control numbers (ISA13, GS06, ST02), has the
caller's writer produce the 837 with them, stores the bytes in the document
store and, in one transaction, the ``Document``, the ``Submission`` (a fresh
CORE PayloadID, status ``built``), its ``SubmissionClaim`` rows (unique on
claim id + version) and the document links; then commits. Nothing is sent yet.

``send_submission`` reads that row back and POSTs the *stored* bytes under the
*stored* PayloadID; a retry after a crash or a failure resends exactly the same
bytes and id, never a rebuilt file, and the payer recognises the repeat by its
PayloadID. On success the row moves to ``sent`` with a conditional UPDATE.

The boundary: the gateway stores and sends bytes; the submission service builds
them (it passes ``write_837``, which calls the codec's ``write_837``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.gateway.circuit import utc_now
from claimdesk.gateway.interface import PayerGateway, SubmissionReceipt
from claimdesk.gateway.recording import X12_CONTENT_TYPE
from claimdesk.submission.status import SUBMISSION
from models import Document, DocumentLink, Submission, SubmissionClaim
from models.sequences import allocate_control_numbers

__all__ = ["ControlNumbers", "build_submission", "send_submission"]


@dataclass(frozen=True, slots=True)
class ControlNumbers:
    """The interchange, group and transaction set control numbers of one 837."""

    isa13: str  # nine digits, zero-padded
    gs06: str
    st02: str  # four digits at least


def build_submission(
    engine: Engine,
    store: DocumentStore,
    *,
    payer_id: int,
    claims: Sequence[tuple[int, int]],
    write_837: Callable[[ControlNumbers], bytes],
) -> int:
    """Build, store and commit one 837 submission for ``claims`` (claim id, version); its id.

    Building the same claim versions again returns the existing submission (no new
    file, no new numbers); a claim version already in a *different* submission is
    refused with ``ValidationFailed``.
    """
    if not claims:
        raise ValidationFailed("claims: a submission needs at least one claim.", field="claims")
    existing = _existing_submission(engine, claims)
    if existing is not None:
        return existing
    try:
        with Session(engine, expire_on_commit=False) as session:
            numbers = ControlNumbers(
                isa13=f"{allocate_control_numbers(session, 'isa13')[0]:09d}",
                gs06=str(allocate_control_numbers(session, "gs06")[0]),
                st02=f"{allocate_control_numbers(session, 'st02')[0]:04d}",
            )
            x12 = write_837(numbers)
            stored = store.put(x12, content_type=X12_CONTENT_TYPE)
            document = session.exec(
                select(Document).where(Document.sha256 == stored.sha256)
            ).first()
            if document is None:
                document = Document(
                    kind="x12_837",
                    sha256=stored.sha256,
                    size=stored.size,
                    content_type=X12_CONTENT_TYPE,
                    storage_key=stored.key,
                    direction="sent",
                )
                session.add(document)
                session.flush()
            assert document.id is not None
            submission = Submission(
                payer_id=payer_id,
                interchange_control_number=numbers.isa13,
                group_control_number=numbers.gs06,
                set_control_number=numbers.st02,
                payload_id=str(uuid.uuid4()),
                document_id=document.id,
                status="built",
            )
            session.add(submission)
            session.flush()
            assert submission.id is not None
            for claim_id, version in claims:
                session.add(
                    SubmissionClaim(
                        submission_id=submission.id, claim_id=claim_id, claim_version=version
                    )
                )
                session.add(DocumentLink(document_id=document.id, claim_id=claim_id))
            session.commit()
            return submission.id
    except IntegrityError:
        # Another process built these claims at the same moment; its build wins.
        existing = _existing_submission(engine, claims)
        if existing is not None:
            return existing
        raise


def _existing_submission(engine: Engine, claims: Sequence[tuple[int, int]]) -> int | None:
    wanted = set(claims)
    with Session(engine) as session:
        rows = session.exec(
            select(SubmissionClaim).where(
                SubmissionClaim.claim_id.in_([c for c, _ in wanted])  # type: ignore[attr-defined]
            )
        ).all()
    found = {(r.claim_id, r.claim_version): r.submission_id for r in rows}
    taken = {key: sid for key, sid in found.items() if key in wanted}
    if not taken:
        return None
    submission_ids = set(taken.values())
    if len(taken) == len(wanted) and len(submission_ids) == 1:
        return submission_ids.pop()
    ids = ", ".join(f"{c} v{v}" for c, v in sorted(taken))
    raise ValidationFailed(
        f"claims: claim versions {ids} are already in submission(s) "
        f"{sorted(submission_ids)}; submit a new claim version or leave them out.",
        field="claims",
    )


def send_submission(
    engine: Engine, store: DocumentStore, gateway: PayerGateway, submission_id: int
) -> SubmissionReceipt | None:
    """Send a built submission's stored bytes; ``None`` if it was already sent.

    Raises the gateway's ``PayerError`` when the payer cannot take it; the row
    stays ``built`` and the next call resends the same bytes and PayloadID.
    """
    with Session(engine) as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            raise NotFound(f"submission {submission_id!r} does not exist.")
        if submission.status != "built":
            return None
        document = session.get(Document, submission.document_id)
        if document is None:
            raise NotFound(f"submission {submission_id!r} has no stored 837 document.")
        claim_ids = session.exec(
            select(SubmissionClaim.claim_id).where(SubmissionClaim.submission_id == submission_id)
        ).all()
        payload_id = submission.payload_id
        key, sha256 = document.storage_key, document.sha256
    x12 = store.get(key, sha256=sha256)
    receipt = gateway.submit(x12, payload_id=payload_id, claim_ids=claim_ids)
    with Session(engine) as session:
        session.execute(
            update(Submission)
            .where(
                Submission.id == submission_id,  # type: ignore[arg-type]
                Submission.status.in_(SUBMISSION.sources("sent")),  # type: ignore[attr-defined]
            )
            .values(status=SUBMISSION.check("built", "sent"), sent_at=utc_now())
        )
        session.commit()
    return receipt
