"""A day's volume for a mid-size billing company through the pipeline, two workers.

PostgreSQL for the app and for Prefect's server, two process workers pulling from the
``claimdesk`` pool with ``--limit 8`` each, the review queue first: the settings of
docs/running-at-scale.md that apply on one machine (one API server, so no Redis;
documents on the local store). ``claims`` demo claims, ready, go through submission
(837 batches of 500), acknowledgements, status polling and 835 posting (each denial's
review task opens with the posting; no ``appeal`` run starts until a person decides).
Reported: claims/min over the whole pipeline and the time of each flow (the slowest
stage). Held: every claim version reached the payer in one interchange, each 835
posted once, every ledger identity, every claim accepted or adjudicated, every open
denial with its open review task in the queue and no ``appeal`` run started.

``make soak`` runs 10,000 claims; ``CLAIMDESK_DAY_CLAIMS`` sets another number.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from claimdesk.claims.ledger import check_all_ledger_identities
from models import Denial, LedgerEntry, Remittance, ReviewTask
from tests.e2e.stack_fixtures import flow_runs_of
from tests.reliability.stack_runs import (
    advance,
    claim_statuses,
    pipeline_stack,
    run_flow,
    sim_claims,
)

pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.timeout(4 * 3600)]
CLAIMS = int(os.environ.get("CLAIMDESK_DAY_CLAIMS", "10000"))
WORKER_LIMIT = 8  # docs/running-at-scale.md: `prefect worker start ... --limit 8`
SETTLED = {"paid", "partially_paid", "denied", "billed_secondary", "billed_patient"}


@pytest.mark.parametrize("claims", [CLAIMS])
def test_a_days_claims_through_the_pipeline_on_postgresql_with_two_workers(
    claims: int, databases: Any, tmp_path: Path
) -> None:
    seeded = time.monotonic()
    with pipeline_stack(
        databases, tmp_path, claims=claims, postgres=True, workers=2, worker_limit=WORKER_LIMIT
    ) as (stack, engine):
        setup_s = time.monotonic() - seeded
        stages: dict[str, float] = {}

        def stage(name: str, deployment: str) -> None:
            started = time.monotonic()
            run_flow(deployment, timeout=4 * 3600)
            stages[name] = stages.get(name, 0.0) + time.monotonic() - started

        seeded_claims = set(claim_statuses(engine))
        started = time.monotonic()
        stage("submission", "submission/submission")
        stage("acknowledgements", "acknowledgements/acknowledgements")
        advance(stack, 3)  # past the simulator's adjudication delay
        stage("poll-payer-status", "poll-payer-status/poll-payer-status")
        stage("remittances", "remittances/remittances")
        for _ in range(3):  # a file beyond one pickup's 500 waits for the next run
            statuses = claim_statuses(engine)
            if {statuses[c] for c in seeded_claims} <= SETTLED:
                break
            stage("remittances", "remittances/remittances")
        total_s = time.monotonic() - started

        statuses = claim_statuses(engine)
        assert len(seeded_claims) == claims
        assert {statuses[c] for c in seeded_claims} <= SETTLED, Counter(statuses.values())
        # Secondary claims the 835s created wait for the next submission run.
        assert {s for c, s in statuses.items() if c not in seeded_claims} <= {"ready"}
        received = sim_claims(stack)
        repeats = [e["claim_ref"] for e in received if len(e["interchanges"]) != 1]
        assert not repeats, repeats[:20]
        with Session(engine) as session:
            remittances = session.exec(select(Remittance)).all()
            keys = session.exec(select(LedgerEntry.source_key)).all()
            assert check_all_ledger_identities(session) == []
            open_denials = set(session.exec(select(Denial.id).where(Denial.status == "open")))
            reviewed = {
                t.context.get("denial_id")
                for t in session.exec(
                    select(ReviewTask).where(
                        ReviewTask.kind == "denial", ReviewTask.status == "open"
                    )
                )
            }
        assert open_denials and open_denials <= reviewed, sorted(open_denials - reviewed)[:20]
        appeal_runs = len(flow_runs_of("appeal"))
        assert appeal_runs == 0, appeal_runs
        traces = [(r.payer_id, r.trace_number) for r in remittances]
        assert remittances and len(set(traces)) == len(traces)
        assert len(set(keys)) == len(keys)
        slowest = max(stages, key=lambda name: stages[name])
        print(
            f"\nday volume: {claims} claims on PostgreSQL (app + Prefect), 2 workers × "
            f"--limit {WORKER_LIMIT}: pipeline {total_s / 60:.1f} min = "
            f"{claims / (total_s / 60):.0f} claims/min; per flow "
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in stages.items())
            + f"; slowest {slowest}; {len(received)} claim versions each in one interchange, "
            f"{len(remittances)} 835s and {len(keys)} ledger entries each once; "
            f"{len(open_denials)} denials each with its review task, {appeal_runs} appeal runs; "
            f"{dict(Counter(statuses.values()))}; setup (seed + stack) {setup_s:.0f} s"
        )
