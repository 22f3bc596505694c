"""Tasks of the per-denial ``appeal`` run: where the denial stands, sending an appeal."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from claimdesk.clock import today
from claimdesk.db import session_scope
from claimdesk.denials.workflow import DenialStep, next_denial_step, send_appeal
from claimdesk.documents import make_document_store
from claimdesk.settings import get_settings
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def denial_step(denial_id: int) -> DenialStep:
    """What to do next for the denial, read from the database (a resumed run starts over)."""
    settings = get_settings()
    store = make_document_store(settings)
    day = today(settings)
    with session_scope(engine()) as session:
        return next_denial_step(session, denial_id, store=store, today=day)


# No Prefect retries: the gateway retries with backoff; an unsent appeal is sent on the next pass.
@task(cache_policy=NO_CACHE)
@phi_safe
def send_appeal_electronically(appeal_id: int) -> str:
    settings = get_settings()
    return send_appeal(engine(), settings, appeal_id, make_document_store(settings))
