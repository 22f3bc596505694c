"""Boundary tests: CoreClient against the real payer simulator process over HTTP.

One simulator process for the session (``sim_url`` in conftest), with CORE
credentials configured, payer SIMACM and two members loaded through its admin API. Each test
builds its X12 with the codec's writers, calls the client, and checks what the
client returns or raises and what claimdesk stored (``Document`` rows linked to
the claims). Faults are switched on through ``PUT /admin/faults``; ``limit``
makes a fault hit the next N requests only, so "fails, is retried, succeeds" is
deterministic.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.engine import Engine

from claimdesk.gateway.client import CoreClient
from claimdesk.gateway.errors import PayerProtocolError, PayerRejected, PayerUnavailable
from claimdesk.gateway.interface import AppealPacket
from claimdesk.gateway.recording import link_document
from claimdesk.x12 import read_interchanges
from tests.gateway.sim_helpers import (
    ACME,
    PASSWORD,
    admin,
    first_set,
    set_faults,
    stored,
)
from tests.payer_sim.builders import make_270, make_276, make_837, make_claim

pytestmark = pytest.mark.slow

_controls = itertools.count(1000)  # ISA13s unique within the session's simulator


# --- eligibility -----------------------------------------------------------------------------


def test_eligibility_active_member_returns_271_and_stores_both(
    client: CoreClient, committed_claims: Callable[[int], list[int]], sqlite_engine: Engine
) -> None:
    [claim_id] = committed_claims(1)
    answer = client.eligibility(
        make_270("GW100", control=next(_controls), payer=ACME), claim_ids=[claim_id]
    )
    eligibility = first_set(answer)
    assert eligibility.kind == "271"
    assert eligibility.benefits[0].info_code == "1"
    assert eligibility.rejections == ()
    assert stored(sqlite_engine, claim_id) == {("x12_270", "sent"), ("x12_271", "received")}


def test_eligibility_inactive_member_returns_271_eb_6(client: CoreClient) -> None:
    answer = client.eligibility(make_270("GW200", control=next(_controls), payer=ACME))
    assert [b.info_code for b in first_set(answer).benefits] == ["6"]


def test_eligibility_unknown_member_returns_271_with_aaa_75(client: CoreClient) -> None:
    answer = client.eligibility(make_270("NOBODY", control=next(_controls), payer=ACME))
    assert [r.reason_code for r in first_set(answer).rejections] == ["75"]


def test_unreadable_270_is_rejected_not_a_server_error(
    client: CoreClient, committed_claims: Callable[[int], list[int]], sqlite_engine: Engine
) -> None:
    [claim_id] = committed_claims(1)
    with pytest.raises(PayerRejected, match="TA1"):
        client.eligibility(b"ISA*garbage~", claim_ids=[claim_id])
    assert ("x12_ta1", "received") in stored(sqlite_engine, claim_id)


# --- claims: submit, acknowledgements, remittance, status, appeal ----------------------------


def test_claim_round_trip_999_two_277cas_835_277_and_appeal(
    sim: str,
    client: CoreClient,
    committed_claims: Callable[[int], list[int]],
    sqlite_engine: Engine,
) -> None:
    ids = committed_claims(2)
    claims = [make_claim(ids[0], "GW100", payer=ACME),
              make_claim(ids[1], "GW100", ("99214", "72148"), payer=ACME)]  # fmt: skip
    x12 = make_837(claims, control=next(_controls))
    receipt = client.submit(x12, payload_id=str(uuid.uuid4()), claim_ids=ids)
    assert receipt.core_error_code == "Success"
    assert all(("x12_837", "sent") in stored(sqlite_engine, i) for i in ids)

    [ack] = client.retrieve("999")
    assert first_set(ack.payload).group_status == "A"
    house, payer = client.retrieve("277CA")
    assert read_interchanges(house.payload)[0].sender_id == "SIMCLEARINGHOUS"  # ISA06: 15
    assert read_interchanges(payer.payload)[0].sender_id == "SIMACM"
    assert [c.accepted for c in first_set(house.payload).claims] == [True, True]
    numbers = [c.payer_claim_control_number for c in first_set(payer.payload).claims]
    assert all(numbers)
    assert client.retrieve("835") == []

    admin(sim, "post", "/admin/clock/advance", {"days": 2})
    [remit_file] = client.retrieve("835")
    remit = first_set(remit_file.payload)
    assert remit.balanced, remit.balance_errors
    assert {f"PCN{i}" for i in ids} <= {c.patient_control_number for c in remit.claims}
    assert not remit_file.repeat
    link_document(sqlite_engine, remit_file.document_id, ids)  # the posting service's step
    assert ("x12_835", "received") in stored(sqlite_engine, ids[0])

    status = client.status(make_276(claims[0], control=next(_controls)), claim_ids=[ids[0]])
    assert first_set(status).claims[0].statuses[0].codes[0].category in ("F1", "F2", "F4")
    assert {("x12_276", "sent"), ("x12_277", "received")} <= stored(sqlite_engine, ids[0])

    packet = AppealPacket(
        claim_id=ids[1], payer_claim_number=numbers[1], carc_codes=["197"], letter=b"%PDF-1.4"
    )
    appeal = client.submit_appeal(packet)
    assert appeal.status == "pending"
    decision = httpx.get(f"{sim}/appeals/{appeal.appeal_id}", timeout=5).json()
    assert decision["payer_claim_number"] == numbers[1]
    assert ("appeal_letter", "sent") in stored(sqlite_engine, ids[1])


def test_repeated_isa13_under_a_new_payload_id_gets_ta1_025(client: CoreClient) -> None:
    x12 = make_837([make_claim(90001, "GW100", payer=ACME)], control=next(_controls))
    client.submit(x12, payload_id=str(uuid.uuid4()))
    client.submit(x12, payload_id=str(uuid.uuid4()))  # a rebuilt send: new PayloadID
    [ta1] = client.retrieve("TA1")
    assert [a.note_code for a in read_interchanges(ta1.payload)[0].acknowledgments] == ["025"]
    assert len(client.retrieve("999")) == 1  # the first copy only
    client.retrieve("277CA")


# --- faults ----------------------------------------------------------------------------------


def test_server_error_is_retried_and_the_retry_succeeds(
    sim: str, client: CoreClient, caplog: pytest.LogCaptureFixture
) -> None:
    set_faults(sim, server_error=1.0, limit=1)
    with caplog.at_level(logging.INFO, logger="claimdesk.gateway.attempts"):
        answer = client.eligibility(make_270("GW100", control=next(_controls), payer=ACME))
    assert first_set(answer).kind == "271"
    [line] = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert "(HTTP 50" in line and "NoneType" not in line


def test_server_error_every_time_raises_unavailable(sim: str, client: CoreClient) -> None:
    set_faults(sim, server_error=1.0)
    with pytest.raises(PayerUnavailable, match="HTTP 5"):
        client.retrieve("999")


def test_timeout_raises_unavailable_after_retries(
    sim: str, make_client: Callable[..., CoreClient]
) -> None:
    set_faults(sim, timeout=1.0, timeout_seconds=1.0, limit=2)
    client = make_client(timeout_s=0.3)
    with pytest.raises(PayerUnavailable, match="timed out"):
        client.eligibility(make_270("GW100", control=next(_controls), payer=ACME))


def test_submit_retry_after_timeout_resends_same_bytes_and_payload_id(
    sim: str, make_client: Callable[..., CoreClient]
) -> None:
    claim = make_claim(90002, "GW100", payer=ACME)
    payload_id = str(uuid.uuid4())
    set_faults(sim, timeout=1.0, timeout_seconds=0.8, limit=1)
    client = make_client(batch_timeout_s=0.3, max_retries=2)
    client.submit(make_837([claim], control=next(_controls)), payload_id=payload_id)
    time.sleep(1.0)  # the timed-out first attempt is still handled by the simulator
    rows = [r for r in admin(sim, "get", "/admin/interchanges") if r["payload_id"] == payload_id]
    assert len(rows) == 2 and len({(r["isa13"], r["size"]) for r in rows}) == 1
    assert sorted(r["outcome"].split()[0] for r in rows) == ["999", "repeat"]
    [listed] = [c for c in admin(sim, "get", "/admin/claims")
                if c["claim_ref"] == claim.wire_claim_reference]  # fmt: skip
    assert [i["payload_id"] for i in listed["interchanges"]] == [payload_id]
    client.retrieve("999")
    client.retrieve("277CA")


def test_slow_answer_within_the_timeout_succeeds(sim: str, client: CoreClient) -> None:
    set_faults(sim, slow=1.0, slow_seconds=0.3)
    answer = client.eligibility(make_270("GW100", control=next(_controls), payer=ACME))
    assert first_set(answer).kind == "271"


def test_slow_answer_past_timeout_raises_unavailable(
    sim: str, make_client: Callable[..., CoreClient]
) -> None:
    set_faults(sim, slow=1.0, slow_seconds=1.5)
    client = make_client(timeout_s=0.5, max_retries=0)
    with pytest.raises(PayerUnavailable, match="timed out"):
        client.status(make_276(make_claim(90003, "GW100", payer=ACME), control=next(_controls)))


def test_malformed_envelope_raises_protocol_error(sim: str, client: CoreClient) -> None:
    set_faults(sim, malformed_envelope=1.0)
    with pytest.raises(PayerProtocolError, match="malformed CORE envelope"):
        client.retrieve("999")


@pytest.mark.parametrize("fault", ["malformed_x12", "truncated_x12"])
def test_broken_x12_answer_raises_protocol_error_and_is_stored(
    sim: str,
    client: CoreClient,
    fault: str,
    committed_claims: Callable[[int], list[int]],
    sqlite_engine: Engine,
) -> None:
    [claim_id] = committed_claims(1)
    set_faults(sim, **{fault: 1.0})
    with pytest.raises(PayerProtocolError, match="unreadable X12"):
        client.eligibility(
            make_270("GW100", control=next(_controls), payer=ACME), claim_ids=[claim_id]
        )
    assert ("x12_271", "received") in stored(sqlite_engine, claim_id)


def test_duplicate_835_delivery_is_one_document_marked_repeat(sim: str, client: CoreClient) -> None:
    x12 = make_837([make_claim(90004, "GW100", payer=ACME)], control=next(_controls))
    client.submit(x12, payload_id=str(uuid.uuid4()))
    client.retrieve("999")
    client.retrieve("277CA")
    admin(sim, "post", "/admin/clock/advance", {"days": 2})
    # Offered again on the first four requests: the call absorbs three repeats and stops;
    # the next call gets it once more, stored once and marked a repeat.
    set_faults(sim, duplicate_835=1.0, limit=4)
    [first] = client.retrieve("835")
    [again] = client.retrieve("835")
    assert (again.payload_id, again.document_id) == (first.payload_id, first.document_id)
    assert (first.repeat, again.repeat) == (False, True)
    assert client.retrieve("835") == []


def test_wrong_password_is_rejected_once_and_never_logged(
    sim: str,
    make_client: Callable[..., CoreClient],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "wrong-Pa55-77120"
    monkeypatch.setenv("GW_TEST_WRONG_PASSWORD", wrong)
    client = make_client(password_env="GW_TEST_WRONG_PASSWORD", max_retries=3)
    with caplog.at_level(logging.DEBUG), pytest.raises(PayerRejected) as caught:
        client.eligibility(make_270("GW100", control=next(_controls), payer=ACME))
    assert caught.value.core_error_code == "UnAuthorized"
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]  # not retried
    text = caplog.text + str(caught.value) + repr(caught.value) + str(caught.value.detail)
    assert wrong not in text and PASSWORD not in text
