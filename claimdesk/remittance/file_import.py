"""An 835 a payer's portal handed out as a file, posted as a picked-up one is.

The same path as ``retrieval``: the file is kept as a received document and posted by
``post_remittance`` in one transaction, as the payer that sent it (GS02, else ISA06; or
the payer the person names when the sender is a clearinghouse claimdesk does not know).
So a balanced set posts, an unbalanced one (or a trace number seen with other content,
or claims no claim matches) becomes an exception task while the file's other sets post,
and a file seen before, picked up or imported, posts nothing: each set is recognised by
payer, trace number and content.

Unlike a pick-up (where a broken file is kept as an exception, since the payer will not
hand it out again), a person has the file in hand: one that is not X12, or holds sets
other than 835s, is refused before anything is stored, with the position the reader names.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimdesk.access import permissions
from claimdesk.access.auth import load_active_user
from claimdesk.db import session_scope
from claimdesk.documents import DocumentStore
from claimdesk.errors import ValidationFailed
from claimdesk.gateway.recording import X12_CONTENT_TYPE
from claimdesk.remittance.paper_eob import POSTING_ROLES
from claimdesk.remittance.posting import PostingReport, post_remittance
from claimdesk.remittance.retrieval import sender_payer_id
from claimdesk.stored_documents import find_or_create_document, link_claims
from claimdesk.x12 import ParsedSet, RemittanceStart, stream_transactions
from models import Payer, append_audit_event

DOCUMENT_KIND = "x12_835"  # as the gateway keeps a picked-up 835
ACTION = "remittance.file_imported"


@dataclass(frozen=True)
class RemittanceFileImport:
    """What one file did (ids and outcomes only)."""

    document_id: int
    payer_id: int
    new_file: bool  # False: these bytes were imported (or picked up) before
    report: PostingReport

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.report.outcomes if o == outcome)


def check_835_file(data: bytes) -> int:
    """The number of 835 sets in ``data``; ``X12Error`` or ``ValidationFailed`` if unusable."""
    if not data.strip():
        raise ValidationFailed("file: is empty; expected an 835.", field="file")
    count = 0
    # Streamed: an 835's claims are read one at a time and not kept.
    for item in stream_transactions(data):
        if isinstance(item, ParsedSet):
            transaction = item.transaction
            raise ValidationFailed(
                f"file: transaction set {getattr(transaction, 'control_number', '?')} "
                f"(group {item.group.control_number}) is a "
                f"{getattr(transaction, 'set_id', '?')}, not an 835.",
                field="file",
            )
        if isinstance(item, RemittanceStart):
            count += 1
    if count == 0:
        raise ValidationFailed("file: holds no 835 transaction set.", field="file")
    return count


def import_remittance_file(
    engine: Engine,
    store: DocumentStore,
    *,
    username: str,
    data: bytes,
    payer_edi_id: str | None = None,
) -> RemittanceFileImport:
    """Check, keep and post one 835 file in one transaction; see the module docstring."""
    with session_scope(engine) as session:
        actor = _require_poster(session, username)
        check_835_file(data)  # before anything is kept
        payer = _payer(session, data, payer_edi_id)
        assert payer.id is not None
        document, new = find_or_create_document(
            session,
            store,
            data,
            kind=DOCUMENT_KIND,
            content_type=X12_CONTENT_TYPE,
            direction="received",
        )
        assert document.id is not None
        report = post_remittance(
            session,
            document_bytes_or_parsed=data,
            payer_id=payer.id,
            document_id=document.id,
            actor=actor,
        )
        link_claims(session, document.id, report.claim_ids)
        append_audit_event(
            session,
            actor=actor,
            action=ACTION,
            entity_type="document",
            entity_id=document.id,
            details={
                "payer_id": payer.id,
                "new_file": new,
                "remittance_ids": list(report.remittance_ids),
                "outcomes": list(report.outcomes),
                "claim_ids": list(report.claim_ids),
            },
        )
        return RemittanceFileImport(document.id, payer.id, new, report)


def _require_poster(session: Session, username: str) -> str:
    # The people who post money by hand (paper EOBs) post a portal's 835 too.
    user = load_active_user(session, username)
    if user.role not in POSTING_ROLES:
        permissions.deny(
            user,
            "remittance.import_file",
            f"user {username!r} with role {user.role!r} may not import an 835; "
            f"allowed roles: {', '.join(sorted(POSTING_ROLES))}.",
            session=session,
        )
    return user.username


def _payer(session: Session, data: bytes, payer_edi_id: str | None) -> Payer:
    payers = session.exec(select(Payer).order_by(col(Payer.id))).all()
    by_edi = {p.payer_id.strip().upper(): p for p in payers}
    sender_id = sender_payer_id(data, {k: p.id for k, p in by_edi.items() if p.id is not None})
    sender = session.get(Payer, sender_id) if sender_id is not None else None
    if payer_edi_id is None:
        if sender is None:
            raise ValidationFailed(
                "payer: the file's sender (GS02, ISA06) is no payer claimdesk knows; "
                "name the payer that paid (its id, as `claimdesk payers list` shows).",
                field="payer",
            )
        return sender
    named = by_edi.get(payer_edi_id.strip().upper())
    if named is None:
        raise ValidationFailed(
            f"payer: no payer with the id {payer_edi_id!r} (see `claimdesk payers list`).",
            field="payer",
        )
    if sender is not None and sender.id != named.id:
        raise ValidationFailed(
            f"payer: the file was sent by payer {sender.payer_id!r}, not {named.payer_id!r}; "
            "leave the payer out to post it as its sender.",
            field="payer",
        )
    return named
