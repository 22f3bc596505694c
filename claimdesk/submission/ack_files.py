"""The 999, 277CA and TA1 files a clearinghouse portal hands back, imported by a person.

They go through the same processing as picked-up acknowledgements
(``acknowledgements.process_acknowledgement``: each change guarded by the state it moves
from, so a file imported twice changes nothing the second time). Before anything is kept
the file is read whole: one that is not X12 is refused with the position the reader
names, one holding other transaction sets (an 835, a 277 status response) is refused by
set, and one that answers nothing claimdesk sent (no submission by ISA13 or GS06, no
claim by REF*D9) is refused too. Otherwise it is stored as a received document, processed,
and the import is audited as the person, with the claims it named and their status now.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.gateway.recording import X12_CONTENT_TYPE
from claimdesk.settings import Settings
from claimdesk.stored_documents import find_or_create_document
from claimdesk.submission.acknowledgements import AckRun, process_acknowledgement
from claimdesk.submission.export import require_portal_user
from claimdesk.x12 import Ack999, ClaimStatus277, Interchange, iter_interchanges
from models import Claim, Submission, SubmissionClaim, append_audit_event

ACTION = "acknowledgement.file_imported"
_DOCUMENT_KINDS = {"TA1": "x12_ta1", "999": "x12_999", "277CA": "x12_277ca"}


@dataclass(frozen=True)
class AckFileImport:
    """What one file did (ids and codes only)."""

    document_id: int
    new_file: bool  # False: these bytes were imported (or picked up) before
    kinds: tuple[str, ...]  # TA1, 999, 277CA: what the file holds
    submission_ids: tuple[int, ...]
    claim_statuses: dict[int, str]  # every claim the file answers for → its status now
    accepted: int  # claims this import moved to accepted
    rejected: int  # ... and to rejected
    review_task_ids: tuple[int, ...]


def read_ack_file(data: bytes) -> tuple[list[Interchange], tuple[str, ...]]:
    """The interchanges and the kinds they hold; ``X12Error`` or ``ValidationFailed`` if not."""
    if not data.strip():
        raise ValidationFailed("file: is empty; expected a 999, 277CA or TA1.", field="file")
    interchanges = list(iter_interchanges(data))
    kinds: list[str] = []
    for interchange in interchanges:
        if interchange.acknowledgments:
            kinds.append("TA1")
        for group in interchange.groups:
            for transaction in group.transactions:
                if isinstance(transaction, Ack999):
                    kinds.append("999")
                elif isinstance(transaction, ClaimStatus277) and transaction.kind == "277CA":
                    kinds.append("277CA")
                else:
                    set_id = getattr(transaction, "set_id", "?")
                    what = "a 277 claim status response" if set_id == "277" else f"a {set_id}"
                    raise ValidationFailed(
                        f"file: transaction set {getattr(transaction, 'control_number', '?')} "
                        f"(group {group.control_number}) is {what}; acks import takes 999, "
                        "277CA and TA1 files (an 835 goes to `claimdesk remittances import`).",
                        field="file",
                    )
    if not kinds:
        raise ValidationFailed("file: holds no 999, 277CA or TA1; nothing to import.", field="file")
    return interchanges, tuple(dict.fromkeys(kinds))


def import_ack_file(
    engine: Engine, settings: Settings, store: DocumentStore, *, username: str, data: bytes
) -> AckFileImport:
    """Check, keep and process one acknowledgement file; see the module docstring."""
    with session_scope(engine) as session:
        actor = require_portal_user(session, username, "acknowledgements.import").username
        interchanges, kinds = read_ack_file(data)
        submissions, claims = _answered(session, interchanges)
        if not submissions and not claims:
            raise NotFound(
                "the file answers no batch or claim claimdesk sent (no submission with its "
                "ISA13 or GS06, no claim with its REF*D9); nothing was imported."
            )
        document, new = find_or_create_document(
            session,
            store,
            data,
            kind=_DOCUMENT_KINDS[kinds[0]],
            content_type=X12_CONTENT_TYPE,
            direction="received",
        )
        assert document.id is not None
        document_id = document.id
    run = AckRun()
    process_acknowledgement(engine, settings, data, run)  # its own transaction, as on pickup
    with session_scope(engine) as session:
        for submission_id in submissions:
            claims |= set(
                session.exec(
                    select(SubmissionClaim.claim_id).where(
                        SubmissionClaim.submission_id == submission_id
                    )
                ).all()
            )
        statuses = dict(
            session.exec(
                select(col(Claim.id), col(Claim.status))
                .where(col(Claim.id).in_(sorted(claims)))
                .order_by(col(Claim.id))
            ).all()
        )
        append_audit_event(
            session,
            actor=actor,
            action=ACTION,
            entity_type="document",
            entity_id=document_id,
            details={
                "kinds": list(kinds),
                "new_file": new,
                "submission_ids": sorted(submissions),
                "claim_ids": sorted(statuses),
                "accepted": run.accepted,
                "rejected": run.rejected,
            },
        )
    return AckFileImport(
        document_id=document_id,
        new_file=new,
        kinds=kinds,
        submission_ids=tuple(sorted(submissions)),
        claim_statuses={int(k): str(v) for k, v in statuses.items() if k is not None},
        accepted=run.accepted,
        rejected=run.rejected,
        review_task_ids=tuple(run.review_task_ids),
    )


def _answered(session: Session, interchanges: list[Interchange]) -> tuple[set[int], set[int]]:
    """(submission ids, claim ids) the file answers for, matched as the processing matches."""
    submissions: set[int] = set()
    claims: set[int] = set()
    for interchange in interchanges:
        for ta1 in interchange.acknowledgments:
            found = session.exec(
                select(Submission.id).where(
                    Submission.interchange_control_number == ta1.control_number.zfill(9)
                )
            ).first()
            if found is not None:
                submissions.add(found)
        for group in interchange.groups:
            for transaction in group.transactions:
                if isinstance(transaction, Ack999):
                    found = session.exec(
                        select(Submission.id).where(
                            Submission.group_control_number == transaction.group_control_number
                        )
                    ).first()
                    if found is not None:
                        submissions.add(found)
                elif isinstance(transaction, ClaimStatus277):
                    for status in transaction.claims:
                        claim_id = _claim_of(session, status.clearinghouse_trace)
                        if claim_id is not None:
                            claims.add(claim_id)
    return submissions, claims


def _claim_of(session: Session, reference: str) -> int | None:
    """The claim a 277CA's REF*D9 names (``<claim id>-v<version>``), if it was sent."""
    claim_part, _, version_part = reference.rpartition("-v")
    if not claim_part.isdigit() or not version_part.isdigit():
        return None
    return session.exec(
        select(SubmissionClaim.claim_id).where(
            SubmissionClaim.claim_id == int(claim_part),
            SubmissionClaim.claim_version == int(version_part),
        )
    ).first()
