"""Each fault kind as the simulator serves it, its determinism for a seed, repeated
PayloadIDs, credentials, and payers/fees loaded through the admin API."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from claimdesk.gateway.core_envelope import (
    CoreEnvelope,
    CoreEnvelopeError,
    PayloadType,
    ProcessingMode,
)
from claimdesk.gateway.core_multipart import decode_multipart, encode_multipart
from claimdesk.gateway.x12_check import check_x12
from claimdesk.payer_sim.config import SimConfig
from claimdesk.payer_sim.engine import PayerSim
from claimdesk.payer_sim.server import create_app
from claimdesk.payer_sim.state import Store
from tests.payer_sim.builders import make_270, make_837, make_claim


def request(payload_type: str, payload: bytes = b"", *, payload_id: str | None = None,
            batch: bool = False, password: str | None = None) -> tuple[bytes, str]:  # fmt: skip
    envelope = CoreEnvelope.request(
        payload_type=payload_type,
        processing_mode=ProcessingMode.BATCH if batch else ProcessingMode.REAL_TIME,
        sender_id="FAULTS", receiver_id="SIMCH", payload=payload, payload_id=payload_id,
        username="clinic" if password else None, password=password,
    )  # fmt: skip
    return encode_multipart(envelope)


def post(url: str, body_type: tuple[bytes, str], timeout: float = 10) -> httpx.Response:
    body, content_type = body_type
    return httpx.post(f"{url}/core", content=body, headers={"content-type": content_type},
                      timeout=timeout)  # fmt: skip


@pytest.fixture
def sim(payer_sim: str) -> Iterator[str]:
    httpx.put(f"{payer_sim}/admin/faults", json={}).raise_for_status()
    yield payer_sim
    httpx.put(f"{payer_sim}/admin/faults", json={}).raise_for_status()


def faults(url: str, **values: Any) -> None:
    httpx.put(f"{url}/admin/faults", json=values).raise_for_status()


def eligibility(url: str, control: int, timeout: float = 10) -> httpx.Response:
    return post(url, request(PayloadType.X12_270_REQUEST, make_270("M1001", control=control)),
                timeout)  # fmt: skip


def test_fault_hang_never_answers(sim: str) -> None:
    faults(sim, hang=1.0, limit=1)
    with pytest.raises(httpx.ReadTimeout):
        eligibility(sim, 301, timeout=0.5)


def test_fault_timeout_answers_after_timeout_seconds(sim: str) -> None:
    faults(sim, timeout=1.0, timeout_seconds=0.6, limit=1)
    started = time.monotonic()
    response = eligibility(sim, 302)
    assert time.monotonic() - started >= 0.6 and response.status_code == 200


def test_fault_slow_answers_after_slow_seconds(sim: str) -> None:
    faults(sim, slow=1.0, slow_seconds=0.3, limit=1)
    started = time.monotonic()
    assert eligibility(sim, 303).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_server_error_answers_5xx_until_its_limit(sim: str) -> None:
    faults(sim, server_error=1.0, limit=2)
    codes = [eligibility(sim, 304 + n).status_code for n in range(3)]
    assert set(codes[:2]) <= {500, 502, 503} and codes[2] == 200
    assert httpx.get(f"{sim}/admin/faults").json()["server_error"] == 0.0


def test_fault_malformed_envelope_is_not_a_core_envelope(sim: str) -> None:
    faults(sim, malformed_envelope=1.0, limit=1)
    response = eligibility(sim, 311)
    with pytest.raises(CoreEnvelopeError):
        decode_multipart(response.content, response.headers["content-type"])


@pytest.mark.parametrize(
    ("fault", "problem"), [("malformed_x12", "SE01"), ("truncated_x12", "IEA")]
)
def test_fault_broken_x12_payload(sim: str, fault: str, problem: str) -> None:
    faults(sim, **{fault: 1.0, "limit": 1})
    response = eligibility(sim, 312 if fault == "malformed_x12" else 313)
    answer = decode_multipart(response.content, response.headers["content-type"])
    assert problem in (check_x12(answer.payload, "271") or "")


def test_fault_duplicate_835_offers_the_same_file_again(sim: str) -> None:
    post(sim, request(PayloadType.X12_837P_REQUEST, make_837([make_claim(320)], control=320),
                      batch=True))  # fmt: skip
    httpx.post(f"{sim}/admin/clock/advance", json={"days": 3}).raise_for_status()
    faults(sim, duplicate_835=1.0, limit=1)
    retrieval = request(PayloadType.X12_835_RETRIEVAL_REQUEST, batch=True)
    first, again, after = (post(sim, retrieval) for _ in range(3))
    ids = [
        decode_multipart(r.content, r.headers["content-type"]).payload_id for r in (first, again)
    ]
    assert ids[0] == ids[1]
    done = decode_multipart(after.content, after.headers["content-type"])
    assert done.payload_type == PayloadType.NO_BATCH_RESULTS_FILE


REPEATED_ID = "6f1d1a9e-3c53-4b7e-9f0e-3f1b2a0c3301"


def test_repeated_payload_id_is_the_same_submission(sim: str) -> None:
    data = make_837([make_claim(330)], control=330)
    for _ in range(2):
        response = post(sim, request(PayloadType.X12_837P_REQUEST, data, batch=True,
                                     payload_id=REPEATED_ID))  # fmt: skip
        assert response.status_code == 200
    other = post(sim, request(PayloadType.X12_837P_REQUEST, data + b"\n", batch=True,
                              payload_id=REPEATED_ID))  # fmt: skip
    assert other.status_code == 400
    answer = decode_multipart(other.content, other.headers["content-type"])
    assert answer.error_code == "PayloadIDIncorrect"
    rows = [r for r in httpx.get(f"{sim}/admin/interchanges").json() if r["isa13"] == "000000330"]
    assert [r["outcome"].split()[0] for r in rows] == ["999", "repeat", "refused:"]


# --- determinism, credentials, admin payers and fees (in process: no sleeps involved) --------


def in_process(tmp_path: Path, name: str, **config: Any) -> TestClient:
    sim = PayerSim(SimConfig(**config), Store(tmp_path / f"{name}.db"))
    return TestClient(create_app(sim))


def statuses(client: TestClient, n: int = 40) -> list[int]:
    client.put("/admin/faults", json={"server_error": 0.3, "malformed_envelope": 0.2})
    out = []
    for i in range(n):
        body, content_type = request(PayloadType.X12_270_REQUEST, make_270("M1001", control=i + 1))
        response = client.post("/core", content=body, headers={"content-type": content_type})
        out.append(response.status_code if response.status_code != 200 else len(response.content))
    return out


def test_faults_are_the_same_for_the_same_seed(tmp_path: Path) -> None:
    first = statuses(in_process(tmp_path, "a", seed=4))
    assert statuses(in_process(tmp_path, "b", seed=4)) == first
    assert statuses(in_process(tmp_path, "c", seed=5)) != first
    assert {500, 502, 503} & set(first)


def test_configured_credentials_are_required(tmp_path: Path) -> None:
    client = in_process(tmp_path, "auth", username="clinic", password="right-pw")
    body, content_type = request(PayloadType.X12_270_REQUEST, make_270("M1001"), password="wrong")
    refused = client.post("/core", content=body, headers={"content-type": content_type})
    assert refused.status_code == 401 and b"wrong" not in refused.content
    body, content_type = request(PayloadType.X12_270_REQUEST, make_270("M1001"),
                                 password="right-pw")  # fmt: skip
    assert client.post("/core", content=body, headers={"content-type": content_type}).is_success
    assert client.post("/appeals", json={}).status_code == 401
    token = base64.b64encode(b"clinic:right-pw").decode()
    answer = client.post("/appeals", json={"payer_claim_number": "X"},
                         headers={"authorization": f"Basic {token}"})  # fmt: skip
    assert answer.status_code == 404  # past the credentials: no such adjudicated claim


def test_admin_loads_payers_and_fees_that_survive_a_restart(tmp_path: Path) -> None:
    client = in_process(tmp_path, "admin")
    client.post("/admin/payers", json=[{"payer_id": "SIMBLU", "name": "BLUEBIRD PPO"}])
    client.put("/admin/fee-schedule", json={"99213": "101.50"})
    restarted = in_process(tmp_path, "admin")
    assert "SIMBLU" in {p["payer_id"] for p in restarted.get("/admin/payers").json()}
    assert restarted.get("/admin/fee-schedule").json()["99213"] == "101.50"
    assert restarted.put("/admin/fee-schedule", json={"99213": "-1"}).status_code == 422
