"""The real simulator process over HTTP: CORE 270/837/retrieval, clock, restart, TA1 025."""

from __future__ import annotations

from pathlib import Path

import httpx

from claimdesk.gateway.core_envelope import (
    CoreEnvelope,
    PayloadType,
    ProcessingMode,
)
from claimdesk.gateway.core_multipart import decode_multipart, encode_multipart
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.x12 import read_interchanges
from tests.payer_sim.builders import make_270, make_276, make_837, make_claim
from tests.payer_sim.conftest import SIM_CONFIG


def core(url: str, payload_type: str, payload: bytes = b"", batch: bool = False) -> CoreEnvelope:
    mode = ProcessingMode.BATCH if batch else ProcessingMode.REAL_TIME
    request = CoreEnvelope.request(
        payload_type=payload_type, processing_mode=mode, sender_id="CLAIMDESK",
        receiver_id="SIMCH", payload=payload,
    )  # fmt: skip
    body, content_type = encode_multipart(request)
    response = httpx.post(f"{url}/core", content=body, headers={"content-type": content_type},
                          timeout=10)  # fmt: skip
    assert "x-sim-handling-ms" in response.headers
    return decode_multipart(response.content, response.headers["content-type"])


def retrieve_all(url: str, payload_type: str) -> list[bytes]:
    files = []
    while True:
        answer = core(url, payload_type, batch=True)
        if answer.payload_type == PayloadType.NO_BATCH_RESULTS_FILE:
            return files
        files.append(answer.payload)


def test_server_answers_270_with_active_271(payer_sim: str) -> None:
    answer = core(payer_sim, PayloadType.X12_270_REQUEST, make_270("M1001", control=11))
    assert answer.payload_type == PayloadType.X12_271_RESPONSE
    eligibility = read_interchanges(answer.payload)[0].groups[0].transactions[0]
    assert [b.info_code for b in eligibility.benefits][:3] == ["1", "B", "A"]


def test_server_claim_round_trip_999_277ca_835_and_277(payer_sim: str) -> None:
    claims = [make_claim(1), make_claim(2, "NOBODY"), make_claim(3, "M1002", ("99214", "36415"))]
    answer = core(payer_sim, PayloadType.X12_837P_REQUEST, make_837(claims, control=21),
                  batch=True)  # fmt: skip
    assert answer.payload_type == PayloadType.X12_BATCH_SUBMISSION_RESPONSE
    acks = retrieve_all(payer_sim, PayloadType.X12_999_RETRIEVAL_REQUEST)
    assert read_interchanges(acks[0])[0].groups[0].transactions[0].group_status == "A"
    cas = retrieve_all(payer_sim, PayloadType.X12_277CA_RETRIEVAL_REQUEST)
    house, payer = (read_interchanges(f)[0].groups[0].transactions[0] for f in cas)
    assert [c.accepted for c in house.claims] == [True, False, True]
    assert all(c.payer_claim_control_number for c in payer.claims)
    assert retrieve_all(payer_sim, PayloadType.X12_835_RETRIEVAL_REQUEST) == []
    httpx.post(f"{payer_sim}/admin/clock/advance", json={"days": 2})
    remits = retrieve_all(payer_sim, PayloadType.X12_835_RETRIEVAL_REQUEST)
    assert len(remits) == 1
    remit = read_interchanges(remits[0])[0].groups[0].transactions[0]
    assert {c.patient_control_number for c in remit.claims} == {"PCN1", "PCN3"}
    status = core(payer_sim, PayloadType.X12_276_REQUEST, make_276(claims[0], control=22))
    claim_status = read_interchanges(status.payload)[0].groups[0].transactions[0].claims[0]
    assert claim_status.statuses[0].codes[0].category in ("F1", "F4")
    listed = httpx.get(f"{payer_sim}/admin/claims").json()
    assert {c["claim_ref"] for c in listed} >= {"CL1-v1", "CL2-v1", "CL3-v1"}
    assert all(len(c["interchanges"]) == 1 for c in listed)


def test_server_repeated_isa13_gets_ta1_025(payer_sim: str) -> None:
    data = make_837([make_claim(40)], control=41)
    core(payer_sim, PayloadType.X12_837P_REQUEST, data, batch=True)
    core(payer_sim, PayloadType.X12_837P_REQUEST, data, batch=True)
    ta1s = retrieve_all(payer_sim, PayloadType.X12_TA1_RETRIEVAL_REQUEST)
    assert [a.note_code for f in ta1s for a in read_interchanges(f)[0].acknowledgments] == ["025"]


def test_server_restart_keeps_state(tmp_path: Path) -> None:
    url, process = start_payer_sim(tmp_path, seed=3, config=SIM_CONFIG)
    try:
        core(url, PayloadType.X12_837P_REQUEST, make_837([make_claim(50)], control=51), batch=True)
        httpx.post(f"{url}/admin/clock/advance", json={"days": 5})
    finally:
        stop_payer_sim(process)
    url, process = start_payer_sim(tmp_path, seed=3, config=SIM_CONFIG)
    try:
        assert httpx.get(f"{url}/admin/clock").json()["clock"] == "2025-03-15"
        assert len(httpx.get(f"{url}/admin/interchanges").json()) == 1
        assert len(retrieve_all(url, PayloadType.X12_835_RETRIEVAL_REQUEST)) == 1
    finally:
        stop_payer_sim(process)
