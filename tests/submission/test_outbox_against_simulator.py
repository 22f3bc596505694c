"""Exactly once on the wire, proved from the simulator's side.

``build_submission`` builds and commits an 837 (codec's ``write_837`` with the
allocated control numbers); the first ``send_submission`` fails (a fault is on);
the second resends the stored bytes under the stored PayloadID. The simulator's
``/admin/claims`` and ``/admin/interchanges`` then show each claim version
(REF*D9) in exactly one processed interchange, under that PayloadID.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from claimdesk.documents import LocalDocumentStore
from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.errors import PayerUnavailable
from claimdesk.submission.outbox import ControlNumbers, build_submission, send_submission
from models import Claim, Submission
from tests.gateway.sim_helpers import ACME, admin, set_faults
from tests.payer_sim.builders import make_837, make_claim

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"server_error": 1.0, "limit": 1}, id="5xx-never-received"),
        pytest.param(
            {"timeout": 1.0, "timeout_seconds": 0.8, "limit": 1}, id="timeout-received-late"
        ),
    ],
)
def test_send_submission_after_a_failed_send_puts_each_claim_version_on_the_wire_once(
    sim: str,
    make_client: Callable[..., CoreClient],
    committed_claims: Callable[[int], list[int]],
    sqlite_engine: Engine,
    store: LocalDocumentStore,
    fault: dict[str, Any],
) -> None:
    ids = committed_claims(3)
    with Session(sqlite_engine) as session:
        payer_id = session.get(Claim, ids[0]).payer_id  # type: ignore[union-attr]
    claims = [make_claim(i, "GW100", payer=ACME) for i in ids]

    def write(numbers: ControlNumbers) -> bytes:
        return make_837(
            claims,
            int(numbers.isa13),
            group=int(numbers.gs06),
            transaction_set=int(numbers.st02),
        )

    submission_id = build_submission(
        sqlite_engine, store, payer_id=payer_id, claims=[(i, 1) for i in ids], write_837=write
    )
    client = make_client(max_retries=0, batch_timeout_s=0.3)

    set_faults(sim, **fault)
    with pytest.raises(PayerUnavailable):
        send_submission(sqlite_engine, store, client, submission_id)
    time.sleep(1.0)  # a timed-out first send is still handled by the simulator
    receipt = send_submission(sqlite_engine, store, client, submission_id)
    assert receipt is not None
    assert send_submission(sqlite_engine, store, client, submission_id) is None  # sent: no-op

    with Session(sqlite_engine) as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None
    assert submission.status == "sent"
    assert receipt.payload_id == submission.payload_id
    assert receipt.document_id == submission.document_id  # the stored bytes, not a rebuild

    wanted = {c.wire_claim_reference for c in claims}
    listed = [c for c in admin(sim, "get", "/admin/claims") if c["claim_ref"] in wanted]
    assert {c["claim_ref"] for c in listed} == wanted
    for claim in listed:
        assert [i["payload_id"] for i in claim["interchanges"]] == [submission.payload_id]
    rows = [
        r
        for r in admin(sim, "get", "/admin/interchanges")
        if r["payload_id"] == submission.payload_id
    ]
    assert {(r["isa13"], r["size"]) for r in rows} == {
        (submission.interchange_control_number, rows[0]["size"])
    }
    assert [r["outcome"] for r in rows if r["outcome"].startswith("999")] == ["999 3 claims"]
    client.retrieve("999")
    client.retrieve("277CA")
