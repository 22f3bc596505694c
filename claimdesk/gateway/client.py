"""The payer gateway: one interface, ``PayerGateway``, and the CORE client that ships.

``CoreClient(settings, payer_config, transport=None, engine=None, store=None)``
speaks the CAQH CORE vC2.2.0 HTTP MIME envelope to one payer:

- ``eligibility(270) -> 271`` and ``status(276) -> 277``: real time, one request
  per inquiry, timeout ``min(payer timeout, 20 s)``; ``fan_out`` runs many with
  the payer's ``max_concurrency``.
- ``submit(837, payload_id=...) -> SubmissionReceipt``: batch; the 999/277CA
  come later through ``retrieve``. Resending the same bytes with the same
  PayloadID is how a retry looks (see ``outbox``).
- ``retrieve("999" | "277CA" | "835" | "TA1") -> list[RetrievedFile]``: picks
  up every waiting file of that kind.
- ``submit_appeal(packet) -> AppealReceipt``: the payer's electronic appeal
  channel (``paths.APPEALS_PATH``), for payers that have one.

Retries, the circuit breaker and the token bucket are ``attempts.Attempts``:
timeouts, connection errors, 5xx/429 and retry-type CORE codes are retried with
the same request bytes (same PayloadID); a 4xx, a CORE refusal, an X12 rejection
or a garbage answer never is.

Every payload sent or received is stored as a ``Document`` and linked to the
claims it concerns (``claim_ids``); files picked up by ``retrieve`` are stored
unlinked (the service that reads them links them to the claims they name).
httpx errors become ``PayerError`` subclasses in ``attempts``; nothing above the
gateway sees an httpx exception.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from datetime import datetime

import httpx
from sqlalchemy.engine import Engine

from claimdesk.documents import DocumentStore, make_document_store
from claimdesk.gateway.attempts import Attempts
from claimdesk.gateway.circuit import CircuitStore, utc_now
from claimdesk.gateway.core_envelope import (
    CoreEnvelope,
    CoreErrorCode,
    PayloadType,
    ProcessingMode,
)
from claimdesk.gateway.core_multipart import encode_multipart
from claimdesk.gateway.errors import (
    PayerProtocolError,
    PayerRejected,
)
from claimdesk.gateway.fan_out import fan_out
from claimdesk.gateway.interface import (
    AppealPacket,
    AppealReceipt,
    PayerGateway,
    RetrievalKind,
    RetrievedFile,
    SubmissionReceipt,
)
from claimdesk.gateway.payer_config import PayerConfig
from claimdesk.gateway.recording import record_document, record_document_once
from claimdesk.gateway.x12_check import check_x12
from claimdesk.settings import Settings

__all__ = [
    "AppealPacket",
    "AppealReceipt",
    "CoreClient",
    "PayerGateway",
    "RetrievalKind",
    "RetrievedFile",
    "SubmissionReceipt",
    "fan_out",
]

logger = logging.getLogger(__name__)


# One retrieve() call stops after this many files; the next call gets the rest.
_MAX_FILES_PER_RETRIEVE = 500
_MAX_REPEATS_PER_RETRIEVE = 3

_RETRIEVAL: dict[str, tuple[PayloadType, str, str]] = {
    # kind: (request PayloadType, document kind, ST01 expected)
    "999": (PayloadType.X12_999_RETRIEVAL_REQUEST, "x12_999", "999"),
    "277CA": (PayloadType.X12_277CA_RETRIEVAL_REQUEST, "x12_277ca", "277"),
    "835": (PayloadType.X12_835_RETRIEVAL_REQUEST, "x12_835", "835"),
    "TA1": (PayloadType.X12_TA1_RETRIEVAL_REQUEST, "x12_ta1", "TA1"),
}


class CoreClient:
    """A ``PayerGateway`` speaking the CAQH CORE vC2.2.0 HTTP MIME envelope to one payer."""

    def __init__(
        self,
        settings: Settings,
        payer_config: PayerConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        engine: Engine | None = None,
        store: DocumentStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if engine is None:
            from claimdesk.db import make_engine

            engine = make_engine(settings)
        self.config = payer_config
        self.engine = engine
        self.store = store if store is not None else make_document_store(settings)
        self.circuit = CircuitStore(engine, clock=clock)
        self._attempts = Attempts(payer_config, self.circuit, sleep=sleep, jitter=jitter)
        credentials = payer_config.resolve_credentials()
        self._username = credentials.username
        self._password = credentials.password
        self._http = httpx.Client(
            transport=transport,
            cert=credentials.cert if transport is None else None,
            timeout=httpx.Timeout(payer_config.real_time_timeout_s),
            limits=httpx.Limits(max_connections=max(payer_config.max_concurrency, 1) * 2),
        )

    def __repr__(self) -> str:
        return f"CoreClient(payer={self.config.payer_id!r}, endpoint={self.config.endpoint!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CoreClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- public calls ------------------------------------------------------------------

    def eligibility(self, x12_270: bytes, *, claim_ids: Iterable[int] = ()) -> bytes:
        """Send one 270 and return the 271 (stored, with the 270, as documents)."""
        return self._real_time(
            "eligibility",
            x12_270,
            request_type=PayloadType.X12_270_REQUEST,
            response_type=PayloadType.X12_271_RESPONSE,
            kinds=("x12_270", "x12_271", "271"),
            claim_ids=claim_ids,
        )

    def status(self, x12_276: bytes, *, claim_ids: Iterable[int] = ()) -> bytes:
        """Send one 276 and return the 277 (stored, with the 276, as documents)."""
        return self._real_time(
            "status",
            x12_276,
            request_type=PayloadType.X12_276_REQUEST,
            response_type=PayloadType.X12_277_RESPONSE,
            kinds=("x12_276", "x12_277", "277"),
            claim_ids=claim_ids,
        )

    def submit(
        self, x12_837: bytes, *, payload_id: str, claim_ids: Iterable[int] = ()
    ) -> SubmissionReceipt:
        """Send a stored 837 batch under ``payload_id`` (the same id on every resend)."""
        call = "submit"
        claims = list(claim_ids)
        document_id = record_document(
            self.engine, self.store, x12_837, kind="x12_837", direction="sent", claim_ids=claims
        )
        payload_type = (
            PayloadType.X12_837I_REQUEST
            if b"005010X223" in x12_837[:400]
            else PayloadType.X12_837P_REQUEST
        )
        request = self._request(payload_type, ProcessingMode.BATCH, x12_837, payload_id)
        response = self._exchange(call, request, timeout_s=self._batch_timeout_s)
        if response.payload_type != PayloadType.X12_BATCH_SUBMISSION_RESPONSE:
            raise PayerProtocolError.for_call(
                f"answered PayloadType {response.payload_type!r} to a batch submission; "
                f"expected {PayloadType.X12_BATCH_SUBMISSION_RESPONSE.value!r}.",
                payer_id=self.config.payer_id,
                call=call,
            )
        return SubmissionReceipt(
            payer_id=self.config.payer_id,
            payload_id=payload_id,
            received_at=response.timestamp,
            core_error_code=response.error_code or CoreErrorCode.SUCCESS,
            document_id=document_id,
        )

    def retrieve(self, kind: RetrievalKind) -> list[RetrievedFile]:
        """Pick up every waiting file of ``kind``; each is stored before it is returned."""
        if kind not in _RETRIEVAL:
            raise ValueError(f"kind {kind!r} is not one of {sorted(_RETRIEVAL)}")
        request_type, document_kind, st01 = _RETRIEVAL[kind]
        call = f"retrieve {kind}"
        files: list[RetrievedFile] = []
        seen: set[str] = set()
        repeats = 0
        while len(files) < _MAX_FILES_PER_RETRIEVE:
            request = self._request(request_type, ProcessingMode.BATCH, b"", None)
            response = self._exchange(call, request, timeout_s=self._batch_timeout_s)
            if response.payload_type == PayloadType.NO_BATCH_RESULTS_FILE:
                break
            if not response.payload:
                raise PayerProtocolError.for_call(
                    f"answered PayloadType {response.payload_type!r} with an empty payload.",
                    payer_id=self.config.payer_id,
                    call=call,
                )
            if response.payload_id in seen:
                # The payer handed out a file again (it did not dequeue it): it is stored and
                # processed once; ask on, but stop if the payer keeps repeating itself.
                repeats += 1
                if repeats >= _MAX_REPEATS_PER_RETRIEVE:
                    break
                continue
            seen.add(response.payload_id)
            document_id, new = record_document_once(
                self.engine, self.store, response.payload, kind=document_kind, direction="received"
            )
            self._check_payload(call, response.payload, st01)
            files.append(
                RetrievedFile(
                    kind=kind,
                    payload_id=response.payload_id,
                    payload_type=response.payload_type,
                    payload=response.payload,
                    document_id=document_id,
                    repeat=not new,
                )
            )
        return files

    def submit_appeal(self, packet: AppealPacket) -> AppealReceipt:
        """POST an appeal to the payer's electronic appeal channel (``paths.APPEALS_PATH``)."""
        call = "appeal"
        url = self.config.appeals_url
        if not url:
            raise PayerRejected.for_call(
                "has no electronic appeal channel (no appeal_endpoint in its connectivity); "
                "send the appeal by mail or portal.",
                payer_id=self.config.payer_id,
                call=call,
            )
        letter_id = record_document(
            self.engine,
            self.store,
            packet.letter,
            kind="appeal_letter",
            direction="sent",
            claim_ids=[packet.claim_id],
            content_type=packet.letter_content_type,
        )
        meta = packet.model_dump(exclude={"letter"})
        meta["sender_id"] = self.config.sender_id
        meta["receiver_id"] = self.config.receiver_id

        def send() -> httpx.Response:
            return self._http.post(
                url,
                data={"packet": json.dumps(meta)},
                files={"document": ("letter", packet.letter, packet.letter_content_type)},
                auth=self._basic_auth() or httpx.USE_CLIENT_DEFAULT,
                timeout=self._batch_timeout_s,
            )

        response, _ = self._attempts.run(call, send)
        try:
            answer = response.json()
            return AppealReceipt(
                payer_id=self.config.payer_id,
                appeal_id=str(answer["appeal_id"]),
                status=str(answer.get("status", "received")),
                letter_document_id=letter_id,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PayerProtocolError.for_call(
                f"answered the appeal with HTTP {response.status_code} but no JSON appeal_id "
                f"({type(exc).__name__}).",
                payer_id=self.config.payer_id,
                call=call,
                status_code=response.status_code,
            ) from exc

    def appeal_status(self, appeal_id: str) -> str:
        """The payer's word on an appeal filed electronically: pending, overturned, upheld."""
        call = "appeal status"
        url = self.config.appeals_url
        if not url:
            raise PayerRejected.for_call(
                "has no electronic appeal channel.", payer_id=self.config.payer_id, call=call
            )

        def send() -> httpx.Response:
            return self._http.get(
                f"{url.rstrip('/')}/{appeal_id}",
                auth=self._basic_auth() or httpx.USE_CLIENT_DEFAULT,
                timeout=self._batch_timeout_s,
            )

        response, _ = self._attempts.run(call, send)
        try:
            return str(response.json()["status"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PayerProtocolError.for_call(
                f"answered the appeal status with HTTP {response.status_code} but no JSON status "
                f"({type(exc).__name__}).",
                payer_id=self.config.payer_id,
                call=call,
                status_code=response.status_code,
            ) from exc

    # --- the exchange ------------------------------------------------------------------

    @property
    def _batch_timeout_s(self) -> float:
        return self.config.batch_timeout_s

    def _basic_auth(self) -> httpx.BasicAuth | None:
        if self._username and self._password:
            return httpx.BasicAuth(self._username, self._password.get_secret_value())
        return None

    def _request(
        self, payload_type: str, mode: ProcessingMode, payload: bytes, payload_id: str | None
    ) -> CoreEnvelope:
        return CoreEnvelope.request(
            payload_type=payload_type,
            processing_mode=mode,
            sender_id=self.config.sender_id,
            receiver_id=self.config.receiver_id,
            payload=payload,
            payload_id=payload_id,
            username=self._username,
            password=self._password.get_secret_value() if self._password else None,
        )

    def _real_time(
        self,
        call: str,
        x12: bytes,
        *,
        request_type: PayloadType,
        response_type: PayloadType,
        kinds: tuple[str, str, str],
        claim_ids: Iterable[int],
    ) -> bytes:
        sent_kind, received_kind, st01 = kinds
        claims = list(claim_ids)
        record_document(
            self.engine, self.store, x12, kind=sent_kind, direction="sent", claim_ids=claims
        )
        request = self._request(request_type, ProcessingMode.REAL_TIME, x12, None)
        response = self._exchange(call, request, timeout_s=self.config.real_time_timeout_s)
        if response.payload_id != request.payload_id:
            raise PayerProtocolError.for_call(
                "answered with a different PayloadID than the request's.",
                payer_id=self.config.payer_id,
                call=call,
            )
        if response.payload_type in (PayloadType.X12_999_RESPONSE, PayloadType.X12_TA1_RESPONSE):
            kind = "x12_999" if response.payload_type == PayloadType.X12_999_RESPONSE else "x12_ta1"
            record_document(
                self.engine,
                self.store,
                response.payload,
                kind=kind,
                direction="received",
                claim_ids=claims,
            )
            raise PayerRejected.for_call(
                f"rejected the X12 request with a {kind[4:].upper()} instead of a "
                f"{st01}; read the stored acknowledgement for the segment in error.",
                payer_id=self.config.payer_id,
                call=call,
            )
        if response.payload_type != response_type:
            raise PayerProtocolError.for_call(
                f"answered PayloadType {response.payload_type!r}; "
                f"expected {response_type.value!r}.",
                payer_id=self.config.payer_id,
                call=call,
            )
        record_document(
            self.engine,
            self.store,
            response.payload,
            kind=received_kind,
            direction="received",
            claim_ids=claims,
        )
        self._check_payload(call, response.payload, st01)
        return response.payload

    def _check_payload(self, call: str, payload: bytes, st01: str) -> None:
        problem = check_x12(payload, st01)
        if problem is not None:
            raise PayerProtocolError.for_call(
                f"answered an unreadable X12 payload: {problem} (the bytes are stored).",
                payer_id=self.config.payer_id,
                call=call,
            )

    def _exchange(self, call: str, request: CoreEnvelope, *, timeout_s: float) -> CoreEnvelope:
        body, content_type = encode_multipart(request)

        def send() -> httpx.Response:
            return self._http.post(
                self.config.core_url,
                content=body,
                headers={"Content-Type": content_type},
                # Credentials travel as the envelope's UserName/Password form fields
                # (the rule's HTTP MIME way), not a second time as HTTP basic auth.
                timeout=timeout_s,
            )

        _response, envelope = self._attempts.run(call, send, core=True)
        assert envelope is not None  # core=True: a good answer is always an envelope
        return envelope
