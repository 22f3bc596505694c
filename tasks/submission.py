"""Submission tasks: scrub, build interchanges (committed before sending), send, acknowledge."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from sqlmodel import Session

from claimdesk.clock import today
from claimdesk.gateway.factory import payer_limit_name
from claimdesk.settings import get_settings
from claimdesk.submission.acknowledgements import retrieve_acknowledgements
from claimdesk.submission.paper import print_paper_claims
from claimdesk.submission.service import (
    build_batch_run,
    mark_sent_claims,
    scrub_ready_claims,
    send_built_submission,
    unsent_submissions,
)
from models import Payer, Submission
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def scrub_claims(limit: int) -> dict[str, Any]:
    run = scrub_ready_claims(engine(), today=today(get_settings()), limit=limit)
    return {"clean": run.clean, "held": run.held, "review_task_ids": run.review_task_ids}


@task(cache_policy=NO_CACHE)
@phi_safe
def build_interchanges(batch_size: int) -> dict[str, Any]:
    """Every interchange waiting to go (built now, or left unsent by a crash); claims held.

    Claims of paper payers are printed (CMS-1500) and marked sent here instead. A claim
    that cannot be built or fails the TR3 check is held with a scrub task of its own.
    """
    print_paper_claims(engine(), get_settings(), today=today(get_settings()))
    built = build_batch_run(engine(), get_settings(), batch_size=batch_size)
    with Session(engine()) as session:
        return {
            "submission_ids": unsent_submissions(session),
            "held": built.held,
            "review_task_ids": built.review_task_ids,
        }


# No Prefect retries: the gateway retries with backoff; an unsent interchange is resent next run.
@task(cache_policy=NO_CACHE)
@phi_safe
def send_interchange(submission_id: int) -> bool:
    with Session(engine()) as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None
        payer = session.get(Payer, submission.payer_id)
        assert payer is not None
        limit = payer_limit_name(payer.payer_id)
    with concurrency(limit, occupy=1, strict=True):
        return send_built_submission(engine(), get_settings(), submission_id)


@task(cache_policy=NO_CACHE)
@phi_safe
def settle_sent_claims() -> int:
    return mark_sent_claims(engine())


@task(cache_policy=NO_CACHE)
@phi_safe
def pick_up_acknowledgements() -> dict[str, Any]:
    run = retrieve_acknowledgements(engine(), get_settings())
    return {
        "files": run.files,
        "unreadable": run.unreadable,
        "accepted": run.accepted,
        "rejected": run.rejected,
        "payer_errors": run.payer_errors,
        "review_task_ids": run.review_task_ids,
    }
