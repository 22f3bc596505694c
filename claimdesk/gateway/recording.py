"""Keep every payload sent to or received from a payer as a ``Document``.

``record_document`` puts the bytes in the document store, then finds or creates
the ``Document`` row (unique on sha256) and its ``DocumentLink`` rows for the
claims it touched, in one short transaction of its own. The same bytes sent
twice (a retry) are one document.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from claimdesk.documents import DocumentStore
from claimdesk.stored_documents import find_or_create_document, link_claims

__all__ = ["X12_CONTENT_TYPE", "link_document", "record_document", "record_document_once"]

X12_CONTENT_TYPE = "application/edi-x12"


def record_document(
    engine: Engine,
    store: DocumentStore,
    data: bytes,
    *,
    kind: str,
    direction: str,
    claim_ids: Iterable[int] = (),
    content_type: str = X12_CONTENT_TYPE,
) -> int:
    """Store ``data`` and return its ``Document`` id (existing one if the bytes are known)."""
    return record_document_once(
        engine, store, data, kind=kind, direction=direction, claim_ids=claim_ids,
        content_type=content_type,
    )[0]  # fmt: skip


def record_document_once(
    engine: Engine,
    store: DocumentStore,
    data: bytes,
    *,
    kind: str,
    direction: str,
    claim_ids: Iterable[int] = (),
    content_type: str = X12_CONTENT_TYPE,
) -> tuple[int, bool]:
    """Like ``record_document``; also says whether the bytes were new (``False``: known)."""
    for _ in range(2):  # a concurrent link of the same claim: read it on the second pass
        try:
            with Session(engine, expire_on_commit=False) as session:
                document, new = find_or_create_document(
                    session, store, data, kind=kind, content_type=content_type, direction=direction
                )
                assert document.id is not None
                link_claims(session, document.id, claim_ids)
                session.commit()
                return document.id, new
        except IntegrityError:
            continue
    raise AssertionError("unreachable: document row neither found nor created")


def link_document(engine: Engine, document_id: int, claim_ids: Iterable[int]) -> None:
    """Link a stored document to more claims (a picked-up 835 or 277CA, once read).

    Idempotent: links that exist are left alone.
    """
    with Session(engine) as session:
        link_claims(session, document_id, claim_ids)
        session.commit()
