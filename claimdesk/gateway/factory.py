"""Payer clients for the services: one ``CoreClient`` per payer, configured from its row."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine

from claimdesk.documents import DocumentStore, make_document_store
from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.settings import Settings
from models import Payer


def client_for(
    payer: Payer, *, settings: Settings, engine: Engine, store: DocumentStore | None = None
) -> CoreClient:
    return CoreClient(
        settings,
        PayerConfig.from_payer(payer, settings),
        engine=engine,
        store=store or make_document_store(settings),
    )


def payer_mailboxes(payers: Sequence[Payer], settings: Settings) -> list[Payer]:
    """One payer per endpoint: payers behind one clearinghouse share a mailbox.

    Batch pickup (acknowledgements, 835s) asks each mailbox once, as its first payer.
    """
    by_endpoint: dict[str, Payer] = {}
    for payer in payers:
        by_endpoint.setdefault(
            str(payer.connectivity.get("endpoint") or settings.payer_sim_url), payer
        )
    return list(by_endpoint.values())


def payer_limit_name(payer_edi_id: str) -> str:
    """The Prefect global concurrency limit that bounds calls to one payer."""
    return f"payer-{payer_edi_id.lower()}"
