"""Patient billing tasks: each one service call in its own transaction; ids and counts out."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from claimdesk.billing.collections import create_collection_tasks
from claimdesk.billing.deposits import match_deposits
from claimdesk.billing.payments import apply_on_account, patients_with_money_on_account
from claimdesk.billing.plans import check_missed_installments
from claimdesk.billing.refunds import find_credit_balances
from claimdesk.billing.statements import run_statement_cycle
from claimdesk.db import session_scope
from claimdesk.documents import make_document_store
from claimdesk.settings import get_settings
from tasks._db import engine
from tasks._safety import phi_safe


@task(cache_policy=NO_CACHE)
@phi_safe
def apply_money_on_account(as_of: date) -> int:
    """Money patients left on account, applied to their balances oldest first."""
    with session_scope(engine()) as session:
        patients = patients_with_money_on_account(session)
        return sum(len(apply_on_account(session, patient_id=p, as_of=as_of)) for p in patients)


@task(cache_policy=NO_CACHE)
@phi_safe
def run_statements(as_of: date, cycle_days: int) -> dict[str, Any]:
    store = make_document_store(get_settings())
    with session_scope(engine()) as session:
        results = run_statement_cycle(session, as_of=as_of, store=store, cycle_days=cycle_days)
        return {
            "statement_ids": [r.statement_id for r in results if r.created],
            "statements": sum(1 for r in results if r.created),
        }


@task(cache_policy=NO_CACHE)
@phi_safe
def follow_up_patients(
    as_of: date, grace_days: int, collection_thresholds: list[int], deposit_grace_days: int
) -> dict[str, Any]:
    """Missed installments, collections, credit balances and deposits: review task ids."""
    with session_scope(engine()) as session:
        plan_tasks = check_missed_installments(session, as_of=as_of, grace_days=grace_days)
    with session_scope(engine()) as session:
        collection_tasks = create_collection_tasks(
            session, as_of=as_of, thresholds=tuple(collection_thresholds)
        )
    with session_scope(engine()) as session:
        refund_ids = find_credit_balances(session, as_of=as_of)
    with session_scope(engine()) as session:
        matched = match_deposits(session, as_of=as_of, grace_days=deposit_grace_days)
    return {
        "missed_installment_task_ids": plan_tasks,
        "collection_task_ids": collection_tasks,
        "refund_ids": refund_ids,
        "deposits_matched": len(matched.matched),
        "deposit_task_ids": list(matched.task_ids),
    }
