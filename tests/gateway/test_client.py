"""CoreClient's own logic (retries, breaker, rate limit, storage, errors) over MockTransport.

The payer here is a handler function; the boundary tests against the real
simulator process live in test_client_against_simulator.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import ConfigError
from claimdesk.gateway.client import CoreClient, fan_out
from claimdesk.gateway.core_envelope import (
    CoreEnvelope,
    CoreErrorCode,
    PayloadType,
    http_status_for,
)
from claimdesk.gateway.core_multipart import decode_multipart, encode_multipart
from claimdesk.gateway.errors import (
    CircuitOpen,
    PayerError,
    PayerProtocolError,
    PayerRejected,
    PayerUnavailable,
)
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.settings import Settings
from models import Document, DocumentLink
from tests.gateway.x12_samples import interchange

X270 = interchange("270", control=7)
X271 = interchange("271", control=8)

Handler = Callable[[httpx.Request], httpx.Response]


def envelope_response(
    request: httpx.Request,
    payload_type: str,
    payload: bytes = b"",
    *,
    error_code: str = CoreErrorCode.SUCCESS,
    status: int | None = None,
) -> httpx.Response:
    incoming = decode_multipart(request.content, request.headers["content-type"])
    answer = incoming.respond(payload_type=payload_type, payload=payload, error_code=error_code)
    body, content_type = encode_multipart(answer)
    return httpx.Response(
        status or http_status_for(error_code), content=body, headers={"content-type": content_type}
    )


def answer_271(request: httpx.Request) -> httpx.Response:
    return envelope_response(request, PayloadType.X12_271_RESPONSE, X271)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Harness:
    """A client over a handler, recording requests and sleeps."""

    def __init__(
        self,
        settings: Settings,
        config: PayerConfig,
        engine: Engine,
        store: LocalDocumentStore,
        handler: Handler,
    ) -> None:
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.clock = Clock()

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        self.client = CoreClient(
            settings,
            config,
            transport=httpx.MockTransport(record),
            engine=engine,
            store=store,
            sleep=self.sleeps.append,
            jitter=lambda: 1.0,
            clock=self.clock,
        )


@pytest.fixture
def harness(
    gateway_settings: Settings,
    make_config: Callable[..., PayerConfig],
    sqlite_engine: Engine,
    store: LocalDocumentStore,
) -> Callable[..., Harness]:
    def build(handler: Handler, **config: object) -> Harness:
        return Harness(gateway_settings, make_config(**config), sqlite_engine, store, handler)

    return build


def documents_for(engine: Engine, claim_id: int) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(Document.kind, Document.direction)
            .join(DocumentLink, DocumentLink.document_id == Document.id)  # type: ignore[arg-type]
            .where(DocumentLink.claim_id == claim_id)
        ).all()
    return sorted((kind, direction) for kind, direction in rows)


class TestRealTime:
    def test_eligibility_returns_271_and_stores_both_documents(
        self,
        harness: Callable[..., Harness],
        sqlite_engine: Engine,
        committed_claims: Callable[[int], list[int]],
    ) -> None:
        (claim_id,) = committed_claims(1)
        h = harness(answer_271)
        assert h.client.eligibility(X270, claim_ids=[claim_id]) == X271
        assert documents_for(sqlite_engine, claim_id) == [
            ("x12_270", "sent"),
            ("x12_271", "received"),
        ]
        sent = decode_multipart(h.requests[0].content, h.requests[0].headers["content-type"])
        assert sent.payload_type == PayloadType.X12_270_REQUEST
        assert sent.processing_mode == "RealTime"

    def test_eligibility_retries_on_503_with_backoff(self, harness: Callable[..., Harness]) -> None:
        answers = iter([503, 502, 200])

        def handler(request: httpx.Request) -> httpx.Response:
            status = next(answers)
            if status != 200:
                return httpx.Response(status, text="busy")
            return answer_271(request)

        h = harness(handler)
        assert h.client.eligibility(X270) == X271
        assert len(h.requests) == 3
        # Full jitter with jitter()=1.0: the ceiling, base * 2**attempt.
        assert h.sleeps == pytest.approx([0.01, 0.02])

    def test_eligibility_retries_on_core_retry_code(self, harness: Callable[..., Harness]) -> None:
        answers = iter([CoreErrorCode.SERVER_BUSY, CoreErrorCode.SUCCESS])

        def handler(request: httpx.Request) -> httpx.Response:
            code = next(answers)
            if code != CoreErrorCode.SUCCESS:
                return envelope_response(request, PayloadType.CORE_ENVELOPE_ERROR, error_code=code)
            return answer_271(request)

        h = harness(handler)
        assert h.client.eligibility(X270) == X271
        assert len(h.requests) == 2

    def test_eligibility_gives_up_after_max_retries_on_timeout(
        self, harness: Callable[..., Harness]
    ) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("slow", request=request)

        h = harness(handler, max_retries=2, failure_threshold=10)
        with pytest.raises(PayerUnavailable, match="timed out") as info:
            h.client.eligibility(X270)
        assert len(h.requests) == 3
        assert info.value.payer_id == h.client.config.payer_id
        assert info.value.call == "eligibility"
        assert isinstance(info.value.__cause__, httpx.ReadTimeout)

    def test_eligibility_does_not_retry_on_4xx(self, harness: Callable[..., Harness]) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return envelope_response(
                request,
                PayloadType.CORE_ENVELOPE_ERROR,
                error_code=CoreErrorCode.RECEIVER_ID_INCORRECT,
            )

        h = harness(handler)
        with pytest.raises(PayerRejected) as info:
            h.client.eligibility(X270)
        assert len(h.requests) == 1
        assert (info.value.status_code, info.value.core_error_code) == (400, "ReceiverIDIncorrect")

    def test_eligibility_rejects_999_answer_and_stores_it(
        self,
        harness: Callable[..., Harness],
        sqlite_engine: Engine,
        committed_claims: Callable[[int], list[int]],
    ) -> None:
        (claim_id,) = committed_claims(1)

        def handler(request: httpx.Request) -> httpx.Response:
            return envelope_response(
                request, PayloadType.X12_999_RESPONSE, interchange("999", control=9)
            )

        h = harness(handler)
        with pytest.raises(PayerRejected, match="999"):
            h.client.eligibility(X270, claim_ids=[claim_id])
        assert len(h.requests) == 1
        assert ("x12_999", "received") in documents_for(sqlite_engine, claim_id)

    def test_eligibility_raises_protocol_error_on_garbage_envelope(
        self, harness: Callable[..., Harness]
    ) -> None:
        h = harness(lambda request: httpx.Response(200, text="<html>oops</html>"))
        with pytest.raises(PayerProtocolError, match="malformed CORE envelope"):
            h.client.eligibility(X270)
        assert len(h.requests) == 1

    def test_eligibility_raises_protocol_error_on_truncated_x12_and_keeps_it(
        self,
        harness: Callable[..., Harness],
        sqlite_engine: Engine,
        committed_claims: Callable[[int], list[int]],
    ) -> None:
        (claim_id,) = committed_claims(1)

        def handler(request: httpx.Request) -> httpx.Response:
            return envelope_response(request, PayloadType.X12_271_RESPONSE, X271[:150])

        h = harness(handler)
        with pytest.raises(PayerProtocolError, match="IEA"):
            h.client.eligibility(X270, claim_ids=[claim_id])
        assert ("x12_271", "received") in documents_for(sqlite_engine, claim_id)

    def test_status_returns_277(self, harness: Callable[..., Harness]) -> None:
        x277 = interchange("277", control=3)

        def handler(request: httpx.Request) -> httpx.Response:
            return envelope_response(request, PayloadType.X12_277_RESPONSE, x277)

        assert harness(handler).client.status(interchange("276")) == x277


class TestCircuitBreaker:
    def test_breaker_opens_after_threshold_and_refuses_without_calling(
        self, harness: Callable[..., Harness]
    ) -> None:
        h = harness(lambda r: httpx.Response(500), max_retries=0, failure_threshold=2)
        for _ in range(2):
            with pytest.raises(PayerUnavailable):
                h.client.eligibility(X270)
        with pytest.raises(CircuitOpen, match="circuit breaker is open"):
            h.client.eligibility(X270)
        assert len(h.requests) == 2

    def test_breaker_half_open_probe_closes_on_success(
        self, harness: Callable[..., Harness]
    ) -> None:
        healthy = threading.Event()

        def handler(request: httpx.Request) -> httpx.Response:
            return answer_271(request) if healthy.is_set() else httpx.Response(503)

        h = harness(handler, max_retries=0, failure_threshold=1, cooldown_s=30)
        with pytest.raises(PayerUnavailable):
            h.client.eligibility(X270)
        with pytest.raises(CircuitOpen):
            h.client.eligibility(X270)
        h.clock.now += timedelta(seconds=31)
        healthy.set()
        assert h.client.eligibility(X270) == X271
        state = h.client.circuit.read(h.client.config.payer_id)
        assert state is not None
        assert (state["state"], state["consecutive_failures"]) == ("closed", 0)

    def test_breaker_failed_probe_reopens(self, harness: Callable[..., Harness]) -> None:
        h = harness(lambda r: httpx.Response(503), max_retries=0, failure_threshold=3)
        key = h.client.config.payer_id
        for _ in range(3):
            with pytest.raises(PayerUnavailable):
                h.client.eligibility(X270)
        h.clock.now += timedelta(seconds=31)
        with pytest.raises(PayerUnavailable):
            h.client.eligibility(X270)  # the probe
        state = h.client.circuit.read(key)
        assert state is not None and state["state"] == "open"
        with pytest.raises(CircuitOpen):
            h.client.eligibility(X270)
        assert len(h.requests) == 4

    def test_breaker_is_per_payer(self, harness: Callable[..., Harness]) -> None:
        dead = harness(lambda r: httpx.Response(503), max_retries=0, failure_threshold=1)
        alive = harness(answer_271)
        with pytest.raises(PayerUnavailable):
            dead.client.eligibility(X270)
        with pytest.raises(CircuitOpen):
            dead.client.eligibility(X270)
        assert alive.client.eligibility(X270) == X271

    def test_rejection_does_not_count_as_failure(self, harness: Callable[..., Harness]) -> None:
        h = harness(lambda r: httpx.Response(400), max_retries=0, failure_threshold=1)
        for _ in range(3):
            with pytest.raises(PayerRejected):
                h.client.eligibility(X270)
        assert len(h.requests) == 3


class TestRateLimit:
    def test_rate_limit_makes_callers_wait_beyond_burst(
        self, harness: Callable[..., Harness]
    ) -> None:
        h = harness(answer_271, rate_limit_per_s=2.0)
        for _ in range(4):
            h.client.eligibility(X270)
        # Burst of 2 at a frozen clock, then each call waits for its own token.
        assert h.sleeps == pytest.approx([0.5, 1.0])


class TestCredentials:
    def test_credentials_come_from_env_as_core_form_fields(
        self, harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("GW_TEST_PASSWORD", "hunter2-secret")
        h = harness(answer_271, username="clinic", password_env="GW_TEST_PASSWORD")
        h.client.eligibility(X270)
        sent: CoreEnvelope = decode_multipart(
            h.requests[0].content, h.requests[0].headers["content-type"]
        )
        assert sent.username == "clinic"
        assert sent.password is not None
        assert sent.password.get_secret_value() == "hunter2-secret"
        assert "hunter2" not in repr(h.client) + repr(h.client.config)

    def test_missing_password_env_names_the_variable(
        self, harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("GW_TEST_MISSING", raising=False)
        with pytest.raises(ConfigError, match="GW_TEST_MISSING"):
            harness(answer_271, password_env="GW_TEST_MISSING")

    def test_error_messages_carry_no_credentials(
        self, harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("GW_TEST_PASSWORD", "hunter2-secret")

        def handler(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        h = harness(handler, password_env="GW_TEST_PASSWORD", username="u", max_retries=0)
        with pytest.raises(PayerUnavailable) as info:
            h.client.eligibility(X270)
        assert "hunter2" not in str(info.value) + repr(info.value)
        assert h.client.config.payer_id in str(info.value)


class TestBatch:
    def test_submit_returns_receipt_under_given_payload_id(
        self, harness: Callable[..., Harness]
    ) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            return envelope_response(request, PayloadType.X12_BATCH_SUBMISSION_RESPONSE)

        h = harness(handler)
        payload_id = "6f1c2b1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
        receipt = h.client.submit(interchange("837"), payload_id=payload_id)
        sent = decode_multipart(h.requests[0].content, h.requests[0].headers["content-type"])
        assert receipt.payload_id == sent.payload_id == payload_id
        assert sent.processing_mode == "Batch"
        assert sent.checksum is not None

    def test_retrieve_collects_files_until_none_left(self, harness: Callable[..., Harness]) -> None:
        waiting = [interchange("999", control=n) for n in (1, 2)]

        def handler(request: httpx.Request) -> httpx.Response:
            incoming = decode_multipart(request.content, request.headers["content-type"])
            assert incoming.payload_type == PayloadType.X12_999_RETRIEVAL_REQUEST
            if not waiting:
                return envelope_response(request, PayloadType.NO_BATCH_RESULTS_FILE)
            return envelope_response(
                request, PayloadType.X12_999_RETRIEVAL_RESPONSE, waiting.pop(0)
            )

        files = harness(handler).client.retrieve("999")
        assert [f.payload[-10:] for f in files] == [
            interchange("999", control=n)[-10:] for n in (1, 2)
        ]
        assert all(f.document_id for f in files)


def test_fan_out_bounds_concurrency_and_keeps_errors_in_place() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def call(n: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        if n == 3:
            raise PayerRejected("no", payer_id="P", call="eligibility")
        return n * 10

    results = fan_out(call, list(range(8)), max_concurrency=3)
    assert peak <= 3
    assert results[0] == 0 and results[7] == 70
    assert isinstance(results[3], PayerError)
