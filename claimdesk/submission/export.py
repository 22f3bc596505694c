"""837 files for an office that uploads to a clearinghouse portal by hand.

``export_837`` takes the claims that are ready to go (scrubbing the ``ready`` ones it was
asked for first, as the submission flow does), builds their batches exactly as the outbox
does (``build_batch``: claim by claim, TR3-checked with pyx12, a claim that cannot go held
with a scrub task), and then, instead of calling a gateway, marks each batch sent itself:
the ``Submission`` moves built → sent through ``SUBMISSION`` and its claims queued → sent
through ``set_claim_status``, in one transaction, audited as the person who exported. The
caller writes the stored bytes to the file (``ExportedBatch.data``). A claim version is
in one batch only (the unique key on claim + version in ``submission_claim``), so a second
export finds nothing ready; a file lost on the way is written again from the stored
document (``exported_batch``: the same bytes and control numbers, no new batch).

The portal's answers (999, 277CA) come back through ``claimdesk.submission.ack_files``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access import permissions
from claimdesk.access.auth import load_active_user
from claimdesk.claims.moves import set_claim_status
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.errors import NotFound, ValidationFailed
from claimdesk.settings import Settings
from claimdesk.submission.build import build_batch
from claimdesk.submission.paper import is_paper_payer
from claimdesk.submission.service import queued_batches, scrub_ready_claims
from claimdesk.submission.status import SUBMISSION
from models import (
    AuditEvent,
    Claim,
    Document,
    Payer,
    Submission,
    SubmissionClaim,
    User,
    append_audit_event,
)
from models.types import utcnow

# The people who work claims and their managers: who may move portal files in or out.
PORTAL_FILE_ROLES = frozenset({"specialist", "lead", "manager"})
EXPORTED = "submission.exported"


@dataclass(frozen=True)
class ExportedBatch:
    """One interchange written for the portal (ids and the stored bytes; no names)."""

    submission_id: int
    payer_id: int
    payer_edi_id: str
    claims: tuple[tuple[int, int], ...]  # (claim id, version)
    document_id: int
    data: bytes


@dataclass
class ExportRun:
    batches: list[ExportedBatch] = field(default_factory=list)
    held: list[int] = field(default_factory=list)  # scrub or TR3 errors: a scrub task each
    review_task_ids: list[int] = field(default_factory=list)
    not_ready: dict[int, str] = field(default_factory=dict)  # asked for, not exportable: status


def require_portal_user(session: Session, username: str, action: str) -> User:
    """The active user behind ``username`` if their role may ``action``; refused, audited."""
    user = load_active_user(session, username)
    if user.role not in PORTAL_FILE_ROLES:
        permissions.deny(
            user,
            action,
            f"user {username!r} with role {user.role!r} may not {action}; "
            f"allowed roles: {', '.join(sorted(PORTAL_FILE_ROLES))}.",
            session=session,
        )
    return user


def payer_by_edi_id(session: Session, edi_id: str, *, field_name: str = "payer") -> Payer:
    """The payer an office names by its EDI id (as `claimdesk payers list` shows it)."""
    wanted = edi_id.strip().upper()
    for payer in session.exec(select(Payer)).all():
        if payer.payer_id.strip().upper() == wanted:
            return payer
    raise ValidationFailed(
        f"{field_name}: no payer with the id {edi_id!r} (see `claimdesk payers list`).",
        field=field_name,
    )


def export_837(
    engine: Engine,
    settings: Settings,
    store: DocumentStore,
    *,
    username: str,
    today: date,
    payer_edi_id: str | None = None,
    claim_ids: Collection[int] | None = None,
) -> ExportRun:
    """Scrub, build and mark sent every ready claim asked for; see the module docstring."""
    wanted = sorted(set(claim_ids)) if claim_ids is not None else None
    with session_scope(engine) as session:
        actor = require_portal_user(session, username, "claims.export").username
        payer_id = payer_by_edi_id(session, payer_edi_id).id if payer_edi_id else None
        ready = _ids(session, "ready", payer_id, wanted)
    run = ExportRun()
    if ready:
        scrub_ready_claims(engine, today=today, only=ready)
    with Session(engine) as session:
        batches = [
            (batch_payer, [c for c in claims if wanted is None or c[0] in wanted])
            for batch_payer, claims in queued_batches(session, payer_id=payer_id)
        ]
    for batch_payer, claims in batches:
        if not claims:
            continue
        built = build_batch(engine, settings, store, payer_id=batch_payer, claims=claims)
        run.held.extend(built.held)
        run.review_task_ids.extend(built.review_task_ids)
        for submission_id in built.submission_ids:
            batch = _mark_exported(engine, store, submission_id, actor)
            if batch is not None:
                run.batches.append(batch)
    if wanted is not None:
        run.not_ready = _not_exported(engine, wanted, run)
    return run


def _ids(
    session: Session, status: str, payer_id: int | None, wanted: list[int] | None
) -> list[int]:
    query = select(col(Claim.id)).where(Claim.status == status)
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    if wanted is not None:
        query = query.where(col(Claim.id).in_(wanted))
    return [i for i in session.exec(query.order_by(col(Claim.id))).all() if i is not None]


def _mark_exported(
    engine: Engine, store: DocumentStore, submission_id: int, actor: str
) -> ExportedBatch | None:
    """built → sent for a batch the person takes to the portal; None if it went otherwise."""
    with session_scope(engine) as session:
        # Compare-and-set: a batch the outbox sent meanwhile is not written out as well.
        moved = session.execute(
            update(Submission)
            .where(
                col(Submission.id) == submission_id,
                col(Submission.status).in_(SUBMISSION.sources("sent")),
            )
            .values(status=SUBMISSION.check("built", "sent"), sent_at=utcnow())
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            return None
        submission = session.get(Submission, submission_id)
        assert submission is not None and submission.document_id is not None
        rows = session.exec(
            select(Claim, SubmissionClaim.claim_version)
            .join(SubmissionClaim, col(SubmissionClaim.claim_id) == col(Claim.id))
            .where(SubmissionClaim.submission_id == submission_id)
            .order_by(col(Claim.id))
        ).all()
        claims: list[tuple[int, int]] = []
        for claim, version in rows:
            assert claim.id is not None
            claims.append((claim.id, version))
            if claim.status == "queued" and claim.version == version:
                set_claim_status(
                    session=session,
                    claim=claim,
                    status="sent",
                    actor=actor,
                    reason=f"exported:{submission_id}",
                )
        payer = session.get(Payer, submission.payer_id)
        assert payer is not None
        append_audit_event(
            session,
            actor=actor,
            action=EXPORTED,
            entity_type="submission",
            entity_id=submission_id,
            details={
                "payer_id": payer.id,
                "claims": [{"claim_id": c, "version": v} for c, v in claims],
                "document_id": submission.document_id,
                "isa13": submission.interchange_control_number,
            },
        )
        data = _stored_bytes(session, store, submission.document_id)
        return ExportedBatch(
            submission_id=submission_id,
            payer_id=payer.id or 0,
            payer_edi_id=payer.payer_id,
            claims=tuple(claims),
            document_id=submission.document_id,
            data=data,
        )


def _stored_bytes(session: Session, store: DocumentStore, document_id: int) -> bytes:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(f"document {document_id} does not exist.")
    return store.get(document.storage_key, sha256=document.sha256)


def _not_exported(engine: Engine, wanted: list[int], run: ExportRun) -> dict[int, str]:
    """The claims asked for that are in no batch of this run, with their status now."""
    done = {c for batch in run.batches for c, _ in batch.claims} | set(run.held)
    with Session(engine) as session:
        found = dict(
            session.exec(
                select(col(Claim.id), col(Claim.status)).where(col(Claim.id).in_(wanted))
            ).all()
        )
    return {i: str(found.get(i, "no such claim")) for i in wanted if i not in done}


def exported_batch(
    engine: Engine, store: DocumentStore, *, username: str, submission_id: int
) -> ExportedBatch:
    """An exported batch's stored bytes again (a lost or second copy); audited as a view."""
    with session_scope(engine) as session:
        actor = require_portal_user(session, username, "claims.export").username
        submission = session.get(Submission, submission_id)
        if submission is None or submission.document_id is None:
            raise NotFound(f"no submission {submission_id} with a stored 837.")
        claims = session.exec(
            select(SubmissionClaim.claim_id, SubmissionClaim.claim_version)
            .where(SubmissionClaim.submission_id == submission_id)
            .order_by(col(SubmissionClaim.claim_id))
        ).all()
        payer = session.get(Payer, submission.payer_id)
        assert payer is not None
        append_audit_event(
            session,
            actor=actor,
            action="submission.export_read",
            entity_type="submission",
            entity_id=submission_id,
            details={"document_id": submission.document_id, "claims": len(claims)},
        )
        return ExportedBatch(
            submission_id=submission_id,
            payer_id=payer.id or 0,
            payer_edi_id=payer.payer_id,
            claims=tuple((c, v) for c, v in claims),
            document_id=submission.document_id,
            data=_stored_bytes(session, store, submission.document_id),
        )


@dataclass(frozen=True)
class ExportListing:
    submission_id: int
    payer_edi_id: str
    claims: int
    exported_at: str  # ISO timestamp
    status: str  # the submission's status now (sent, acknowledged, rejected)


def recent_exports(engine: Engine, *, username: str, limit: int = 20) -> list[ExportListing]:
    """The latest exported batches (ids and counts only), for the page's download list."""
    with session_scope(engine) as session:
        require_portal_user(session, username, "claims.export")
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == EXPORTED)
            .order_by(col(AuditEvent.id).desc())
            .limit(limit)
        ).all()
        listing = []
        for event in events:
            submission = session.get(Submission, int(event.entity_id or 0))
            if submission is None or submission.id is None:
                continue
            payer = session.get(Payer, submission.payer_id)
            listing.append(
                ExportListing(
                    submission_id=submission.id,
                    payer_edi_id=payer.payer_id if payer else "",
                    claims=len(event.details.get("claims", [])),
                    exported_at=event.at.isoformat(timespec="seconds"),
                    status=submission.status,
                )
            )
        return listing


def portal_payers(engine: Engine, *, username: str) -> list[tuple[str, str]]:
    """(EDI id, name) of the payers billed electronically: the export page's choices."""
    with session_scope(engine) as session:
        require_portal_user(session, username, "claims.export")
        payers = session.exec(select(Payer).order_by(col(Payer.name))).all()
        return [(p.payer_id, p.name) for p in payers if not is_paper_payer(p)]
