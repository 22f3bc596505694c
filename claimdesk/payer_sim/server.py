"""The HTTP face of the simulator: ``POST /core`` (CAQH CORE vC2.2.0 multipart),
``/appeals`` and the loopback-only ``/admin`` API (see README.md in this package).

Faults are drawn per ``/core`` request from the seeded generator, in a fixed
order (hang, timeout, server_error, malformed_envelope, slow, then the payload
faults), so a seed gives the same faults for the same sequence of requests.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import ipaddress
import json
import time
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from claimdesk.gateway.core_envelope import (
    CoreEnvelope,
    CoreEnvelopeError,
    CoreErrorCode,
    PayloadType,
    http_status_for,
)
from claimdesk.gateway.core_multipart import decode_multipart, encode_multipart
from claimdesk.payer_sim.config import FaultConfig
from claimdesk.payer_sim.engine import PayerSim
from claimdesk.payer_sim.remit import file_appeal, read_appeal

_RETRIEVAL = {
    PayloadType.X12_999_RETRIEVAL_REQUEST: ("999", PayloadType.X12_999_RETRIEVAL_RESPONSE),
    PayloadType.X12_TA1_RETRIEVAL_REQUEST: ("TA1", PayloadType.X12_TA1_RETRIEVAL_RESPONSE),
    PayloadType.X12_277CA_RETRIEVAL_REQUEST: ("277CA", PayloadType.X12_277CA_RETRIEVAL_RESPONSE),
    PayloadType.X12_835_RETRIEVAL_REQUEST: ("835", PayloadType.X12_835_RETRIEVAL_RESPONSE),
}
_REAL_TIME_ANSWER = {
    "271": PayloadType.X12_271_RESPONSE,
    "277": PayloadType.X12_277_RESPONSE,
    "999": PayloadType.X12_999_RESPONSE,
    "TA1": PayloadType.X12_TA1_RESPONSE,
}
_HANG_SECONDS = 3600.0  # "never answers": far past any client's limit


def _is_loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("testclient", "localhost")


def _corrupt(payload: bytes, truncate: bool) -> bytes:
    if truncate:
        return payload[: max(1, len(payload) // 2)]
    separator = payload[3:4] or b"*"
    marker = payload.rfind(b"SE" + separator)
    if marker < 0:
        return payload[:-10]
    end = payload.find(separator, marker + 3)
    return payload[: marker + 3] + b"9999" + payload[end:]


def create_app(sim: PayerSim) -> FastAPI:
    """The FastAPI app serving ``sim``."""
    app = FastAPI(title="claimdesk payer simulator", docs_url=None, redoc_url=None)
    stats = {"requests": 0, "total_ms": 0.0}

    def admin_guard(request: Request) -> Response | None:
        if _is_loopback(request) or sim.config.allow_remote_admin:
            return None
        return JSONResponse({"error": "the admin API answers loopback clients only"}, 403)

    def refuse(envelope: CoreEnvelope | None, code: str, message: str) -> Response:
        if envelope is None:
            return JSONResponse({"ErrorCode": code, "ErrorMessage": message},
                                status_code=http_status_for(code))  # fmt: skip
        answer = envelope.respond(payload_type=PayloadType.CORE_ENVELOPE_ERROR, error_code=code,
                                  error_message=message)  # fmt: skip
        body, content_type = encode_multipart(answer)
        return Response(body, status_code=http_status_for(code), media_type=content_type)

    def authorised(request: Request, envelope: CoreEnvelope) -> bool:
        config = sim.config
        subject = request.headers.get("x-ssl-client-s-dn")
        if config.client_cert_subject is not None and subject != config.client_cert_subject:
            return False
        if config.username is not None:
            given = envelope.password.get_secret_value() if envelope.password else ""
            return envelope.username == config.username and hmac.compare_digest(
                given.encode(), (config.password or "").encode()
            )
        return _is_loopback(request) or config.client_cert_subject is not None

    def handle(envelope: CoreEnvelope, faults: FaultConfig, draws: dict[str, float]) -> Response:
        payload_type = envelope.payload_type
        sender = envelope.sender_id
        if payload_type in (PayloadType.X12_270_REQUEST, PayloadType.X12_276_REQUEST):
            receipt = sim.record(envelope.payload, sender, envelope.payload_id, payload_type)
            if payload_type == PayloadType.X12_270_REQUEST:
                kind, data = sim.answer_270(envelope.payload, sender)
            else:
                kind, data = sim.answer_276(envelope.payload, sender)
            sim.set_outcome(receipt, kind)
            answer_type: str = _REAL_TIME_ANSWER[kind]
        elif payload_type in (PayloadType.X12_837P_REQUEST, PayloadType.X12_837I_REQUEST):
            # A repeated PayloadID is the submitter resending the same submission (a retry
            # after a timeout or a lost answer): acknowledge it again, process it once.
            earlier = sim.earlier_submission(sender, envelope.payload_id)
            receipt = sim.record(envelope.payload, sender, envelope.payload_id, payload_type)
            if earlier is None:
                sim.set_outcome(receipt, sim.submit_837(envelope.payload, sender, receipt))
            elif earlier[1] == envelope.payload:
                sim.set_outcome(receipt, f"repeat of interchange {earlier[0]}")
            else:
                sim.set_outcome(receipt, f"refused: PayloadID of interchange {earlier[0]}")
                return refuse(envelope, CoreErrorCode.PAYLOAD_ID_INCORRECT,
                              "PayloadID was already used for a different payload")  # fmt: skip
            answer_type, data = PayloadType.X12_BATCH_SUBMISSION_RESPONSE, b""
        elif payload_type in _RETRIEVAL:
            sim.process_due()
            kind, answer_type = _RETRIEVAL[PayloadType(payload_type)]
            keep = kind == "835" and draws["duplicate_835"] < faults.duplicate_835
            found = sim.retrieve(kind, sender, keep=keep)
            if found is None:
                answer = envelope.respond(payload_type=PayloadType.NO_BATCH_RESULTS_FILE)
                body, content_type = encode_multipart(answer)
                return Response(body, media_type=content_type)
            payload_id, data = found
            if draws["malformed_x12"] < faults.malformed_x12:
                data = _corrupt(data, truncate=False)
            elif draws["truncated_x12"] < faults.truncated_x12:
                data = _corrupt(data, truncate=True)
            answer = envelope.respond(payload_type=answer_type, payload=data,
                                      payload_id=payload_id)  # fmt: skip
            body, content_type = encode_multipart(answer)
            return Response(body, media_type=content_type)
        else:
            return refuse(envelope, CoreErrorCode.PAYLOAD_TYPE_INCORRECT,
                          f"PayloadType {payload_type!r} is not accepted here")  # fmt: skip
        if data and draws["malformed_x12"] < faults.malformed_x12:
            data = _corrupt(data, truncate=False)
        elif data and draws["truncated_x12"] < faults.truncated_x12:
            data = _corrupt(data, truncate=True)
        answer = envelope.respond(payload_type=answer_type, payload=data)
        body, content_type = encode_multipart(answer)
        return Response(body, media_type=content_type)

    @app.post("/core")
    async def core(request: Request) -> Response:
        started = time.perf_counter()
        body = await request.body()
        faults = sim.take_faults()
        rng = sim.rng("fault")
        draws = {
            kind: rng.random()
            for kind in ("hang", "timeout", "server_error", "malformed_envelope", "slow",
                         "malformed_x12", "truncated_x12", "duplicate_835")
        }  # fmt: skip
        if draws["hang"] < faults.hang:
            deadline = time.monotonic() + _HANG_SECONDS
            while time.monotonic() < deadline and not await request.is_disconnected():
                await asyncio.sleep(0.1)  # no answer; let go once the client has
            return Response(b"", status_code=504)
        if draws["timeout"] < faults.timeout:
            await asyncio.sleep(faults.timeout_seconds)
        if draws["server_error"] < faults.server_error:
            status = (500, 502, 503)[int(draws["server_error"] * 1000) % 3]
            return Response(b"simulated server error", status_code=status)
        if draws["malformed_envelope"] < faults.malformed_envelope:
            broken = b'--simboundary\r\nContent-Disposition: form-data; name="PayloadType"\r\n'
            return Response(broken, media_type="multipart/form-data; boundary=simboundary")
        if draws["slow"] < faults.slow:
            await asyncio.sleep(faults.slow_seconds)
        try:
            envelope = decode_multipart(body, request.headers.get("content-type", ""))
        except CoreEnvelopeError as exc:
            response = refuse(None, exc.core_error_code, exc.message)
        else:
            if not authorised(request, envelope):
                response = refuse(envelope, CoreErrorCode.UNAUTHORIZED, "credentials refused")
            else:
                response = handle(envelope, faults, draws)
        elapsed = (time.perf_counter() - started) * 1000
        stats["requests"] += 1
        stats["total_ms"] += elapsed
        response.headers["X-Sim-Handling-Ms"] = f"{elapsed:.3f}"
        return response

    def appeal_authorised(request: Request) -> bool:
        """The appeal channel is not CORE: configured credentials come as HTTP basic auth."""
        if sim.config.username is None:
            return True
        expected = f"{sim.config.username}:{sim.config.password or ''}".encode()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(token, validate=True)
        except ValueError:
            return False
        return scheme.lower() == "basic" and hmac.compare_digest(given, expected)

    @app.post("/appeals")
    async def appeals(request: Request) -> Response:
        if not appeal_authorised(request):
            return JSONResponse({"error": "credentials refused"}, 401)
        content_type = request.headers.get("content-type", "")
        enclosures: list[str] = []
        if content_type.startswith("multipart/"):
            form = await request.form()
            fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
            if "packet" in fields:  # the gateway client's form: ids and codes as JSON
                try:
                    fields = {**fields, **json.loads(fields["packet"])}
                except ValueError:
                    return JSONResponse({"error": "the packet field is not JSON"}, 400)
            for name, value in form.multi_items():
                if not isinstance(value, str):
                    enclosures.append(value.filename or name)
        else:
            try:
                fields = json.loads(await request.body() or b"{}")
            except ValueError:
                return JSONResponse({"error": "the body is not JSON or multipart"}, 400)
            enclosures = [str(e) for e in fields.get("enclosures", [])]
        number = str(fields.get("payer_claim_number") or "")
        appeal = file_appeal(sim, number, int(fields.get("level") or 1),
                             str(fields.get("argument", "")), enclosures)  # fmt: skip
        if appeal is None:
            return JSONResponse({"error": f"no adjudicated claim {number!r}"}, 404)
        return JSONResponse(appeal, 202)

    @app.get("/appeals/{appeal_id}")
    def appeal_status(appeal_id: int) -> Response:
        sim.process_due()
        appeal = read_appeal(sim, appeal_id)
        return JSONResponse(appeal or {"error": "no such appeal"}, 200 if appeal else 404)

    from claimdesk.payer_sim.admin import add_admin_routes

    add_admin_routes(app, sim, admin_guard, stats)
    return app
