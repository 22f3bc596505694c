"""Stored documents: one row per distinct bytes (by sha256), linked to the claims it is about.

Every stage that keeps a file (an X12 transaction, a letter, a statement, a form)
goes through here, so a document is found or created the same way everywhere and
concurrent writers of the same bytes end up with one row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from claimdesk.documents import DocumentStore
from models import Document, DocumentLink


def document_id_for(session: Session, data: bytes | None) -> int | None:
    """The id of the document holding exactly ``data``, if it was stored."""
    if data is None:
        return None
    digest = hashlib.sha256(data).hexdigest()
    return session.exec(select(Document.id).where(Document.sha256 == digest)).first()


def find_or_create_document(
    session: Session,
    store: DocumentStore,
    data: bytes,
    *,
    kind: str,
    content_type: str,
    direction: str,
) -> tuple[Document, bool]:
    """Put ``data`` in the store; its row (created in a savepoint if new) and whether it is new."""
    stored = store.put(data, content_type=content_type)
    query = select(Document).where(Document.sha256 == stored.sha256)
    document = session.exec(query).first()
    if document is not None:
        return document, False
    document = Document(
        kind=kind,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        storage_key=stored.key,
        direction=direction,
    )
    try:
        with session.begin_nested():
            session.add(document)
            session.flush()
    except IntegrityError:
        # The same bytes stored by a concurrent writer between our read and our insert.
        return session.exec(query).one(), False
    return document, True


def link_claims(session: Session, document_id: int, claim_ids: Iterable[int]) -> None:
    """Link the document to each claim once."""
    wanted = sorted(set(claim_ids))
    if not wanted:
        return
    linked = set(
        session.exec(select(DocumentLink.claim_id).where(DocumentLink.document_id == document_id))
    )
    for claim_id in wanted:
        if claim_id not in linked:
            session.add(DocumentLink(document_id=document_id, claim_id=claim_id))
    session.flush()


def store_document(
    session: Session,
    store: DocumentStore,
    data: bytes,
    *,
    kind: str,
    content_type: str,
    claim_id: int | None = None,
    claim_ids: Iterable[int] = (),
    direction: str = "generated",
) -> int:
    """Put ``data`` in the store and find or create its ``Document`` and claim links."""
    document, _ = find_or_create_document(
        session, store, data, kind=kind, content_type=content_type, direction=direction
    )
    assert document.id is not None
    link_claims(session, document.id, [*([claim_id] if claim_id is not None else []), *claim_ids])
    session.flush()
    return document.id
