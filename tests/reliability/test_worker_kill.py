"""The worker SIGKILLed in the middle of a submission batch and of an 835 posting.

On the real stack (Prefect server and process worker, payer simulator, started as
``claimdesk up`` does): a ``submission`` run sends 120 claims in interchanges of 4;
once the simulator has received the first, the worker is killed with every
flow-run process it started (a dead host).
The run is left Running; the worker is started again; the run's heartbeats have
stopped, so Prefect's zombie automation (created by ``claimdesk up``'s bootstrap, with
``PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30`` in the stack's env) marks it Crashed, which
frees the deployment's one-at-a-time slot; the next ``submission`` run (what the
schedule starts) sends the rest. The same for a ``remittances`` run killed once the
first 835 is picked up. Held: every claim version reached the payer in one
interchange, every 835 the payer handed out is posted once, ledger identities hold,
every claim accounted for.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.claims.ledger import check_all_ledger_identities
from claimdesk.stack import Stack
from models import Document, LedgerEntry, Remittance
from tests.e2e.stack_fixtures import wait_until
from tests.reliability.stack_runs import (
    advance,
    claim_statuses,
    flow_run_state,
    pipeline_stack,
    run_flow,
    sim_claims,
    sim_interchanges,
    start_flow,
)

pytestmark = [pytest.mark.slow, pytest.mark.soak, pytest.mark.timeout(1500)]
CLAIMS = 120
BATCH = 4
ADJUDICATED = {"paid", "partially_paid", "denied", "billed_secondary", "billed_patient"}


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (the worker's flow-run supervisors and their flows)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_worker_host(stack: Stack) -> int:
    """SIGKILL the worker and every flow run it started, as when its host dies.

    Prefect's process worker starts each flow run in a session of its own, so killing
    the worker's process group alone leaves the runs going (they then report Crashed
    themselves); a dead host leaves nobody to report anything.
    """
    victims = _descendants(stack._children["worker"].pid)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    stack.kill("worker")
    return len(victims)


def _sent_837s(stack: Stack) -> int:
    return sum(1 for i in sim_interchanges(stack) if str(i["payload_type"]).startswith("X12_837"))


def _documents(engine: Engine, kind: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Document.id).where(Document.kind == kind)).all())


def test_worker_killed_mid_batch_and_mid_posting_work_picked_up(
    databases: Any, tmp_path: Path
) -> None:
    with pipeline_stack(databases, tmp_path, claims=CLAIMS) as (stack, engine):
        # --- a submission batch --------------------------------------------------------
        run_id = start_flow("submission/submission", {"batch_size": BATCH})
        wait_until(lambda: _sent_837s(stack) >= 1, timeout=600, every=0.2, what="a first 837")
        killed = kill_worker_host(stack)
        killed_at = time.monotonic()
        sent_at_kill = _sent_837s(stack)
        assert flow_run_state(run_id) == "RUNNING"  # nobody told Prefect
        stack.start_worker()
        wait_until(
            lambda: flow_run_state(run_id) == "CRASHED",
            timeout=400,
            what="the killed submission run marked Crashed",
        )
        detected_s = time.monotonic() - killed_at
        run_flow("submission/submission", {"batch_size": BATCH})  # the next scheduled run
        run_flow("acknowledgements/acknowledgements")
        statuses = claim_statuses(engine)
        assert len(statuses) == CLAIMS and set(statuses.values()) <= {"accepted", "sent"}
        received = sim_claims(stack)
        repeats = [e["claim_ref"] for e in received if len(e["interchanges"]) != 1]
        assert not repeats, repeats
        assert {int(e["claim_ref"].rsplit("-v", 1)[0]) for e in received} == set(statuses)
        interchanges = _sent_837s(stack)
        submitted = set(statuses)

        # --- an 835 posting ------------------------------------------------------------
        advance(stack, 3)
        run_id = start_flow("remittances/remittances")
        wait_until(
            lambda: _documents(engine, "x12_835") >= 1, timeout=600, every=0.2, what="an 835"
        )
        killed += kill_worker_host(stack)
        killed_at = time.monotonic()
        with Session(engine) as session:
            posted_at_kill = len(session.exec(select(Remittance.id)).all())
        assert flow_run_state(run_id) == "RUNNING"
        stack.start_worker()
        wait_until(
            lambda: flow_run_state(run_id) == "CRASHED",
            timeout=400,
            what="the killed remittances run marked Crashed",
        )
        detected_835_s = time.monotonic() - killed_at
        run_flow("remittances/remittances")  # the next scheduled run
        files = [f for f in _sim_files(stack) if f["kind"] == "835"]
        assert files and all(f["picked_up"] for f in files)
        with Session(engine) as session:
            remittances = session.exec(select(Remittance)).all()
            keys = session.exec(select(LedgerEntry.source_key)).all()
            assert check_all_ledger_identities(session) == []
        traces = [(r.payer_id, r.trace_number) for r in remittances]
        assert len(set(traces)) == len(traces)
        assert all(r.status == "posted" for r in remittances)
        assert len(remittances) >= len(files)  # each file holds one or more 835 sets
        assert len(set(keys)) == len(keys)
        statuses = claim_statuses(engine)
        # The claims sent are adjudicated; secondaries the 835s created wait for submission.
        assert {statuses[c] for c in submitted} <= ADJUDICATED, statuses
        assert {s for c, s in statuses.items() if c not in submitted} <= {"ready"}
        print(
            f"\nworker kill ({killed} flow-run processes killed with the worker): submission "
            f"killed after {sent_at_kill} of {interchanges} "
            f"interchanges ({CLAIMS} claims); Crashed {detected_s:.0f} s after the kill; "
            f"the next run sent the rest, each claim version in one interchange. remittances "
            f"killed with {posted_at_kill} 835s posted; Crashed {detected_835_s:.0f} s after; "
            f"the next run posted {len(remittances)} 835s ({len(files)} files), each once, "
            f"{len(keys)} ledger entries, identities hold; claims {sorted(set(statuses.values()))}"
        )


def _sim_files(stack: Stack) -> list[dict[str, Any]]:
    import httpx

    return list(httpx.get(f"{stack.payer_url}/admin/files", timeout=10).json())
