"""One payer call made safely: breaker, token bucket, retries, and errors mapped.

``Attempts(config, circuit).run(call, send, core=...)`` calls ``send`` (one HTTP
request, always the same bytes) until it gives a good answer or a final error:

- retried, with exponential backoff and full jitter, at most ``max_retries``
  times: timeouts, connection errors, HTTP 5xx and 429, and the retry-type CORE
  codes (``PayerUnavailable``);
- never retried: a 4xx or a CORE refusal (``PayerRejected``), an answer that is
  not a CORE envelope (``PayerProtocolError``);
- refused without a call while the payer's breaker is open (``CircuitOpen``).

Each payer has a circuit breaker and a token bucket in the database
(``circuit.CircuitStore``), so one dead payer fails fast for every process. httpx
exceptions become ``PayerError`` subclasses here (``raise ... from``); log lines
and messages carry the payer, the call, HTTP status, CORE code or exception type,
never credentials or payload bytes.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import httpx

from claimdesk.gateway.circuit import CircuitStore
from claimdesk.gateway.core_envelope import CoreEnvelope, CoreEnvelopeError
from claimdesk.gateway.core_multipart import decode_multipart
from claimdesk.gateway.errors import (
    CircuitOpen,
    PayerError,
    PayerProtocolError,
    PayerRejected,
    PayerUnavailable,
)
from claimdesk.gateway.payer_config import PayerConfig

__all__ = ["Attempts"]

logger = logging.getLogger(__name__)


class Attempts:
    """Calls to one payer through its breaker, bucket and retry policy."""

    def __init__(
        self,
        config: PayerConfig,
        circuit: CircuitStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.circuit = circuit
        self._sleep = sleep
        self._jitter = jitter

    def _decode(self, call: str, response: httpx.Response) -> CoreEnvelope:
        try:
            return decode_multipart(response.content, response.headers.get("content-type", ""))
        except CoreEnvelopeError as exc:
            raise PayerProtocolError.for_call(
                f"answered HTTP {response.status_code} with a malformed CORE envelope "
                f"(field {exc.field}: {exc.core_error_code}).",
                payer_id=self.config.payer_id,
                call=call,
                status_code=response.status_code,
            ) from exc

    def run(
        self, call: str, send: Callable[[], httpx.Response], *, core: bool = False
    ) -> tuple[httpx.Response, CoreEnvelope | None]:
        """``send`` through breaker, bucket and retries; returns a 2xx, successful answer."""
        key = self.config.payer_id
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            decision = self.circuit.before_call(key, cooldown_s=self.config.cooldown_s)
            if not decision.allowed:
                raise CircuitOpen.for_call(
                    f"circuit breaker is open after repeated failures; next try in "
                    f"{decision.retry_after_s:.0f} s.",
                    payer_id=key,
                    call=call,
                )
            wait = self.circuit.take_token(key, rate_per_s=self.config.rate_limit_per_s)
            if wait > 0:
                self._sleep(wait)
            try:
                error = self._classify(call, send, core=core)
            except PayerError as exc:
                # Refused or unreadable: the payer is up, but the call must not repeat.
                if isinstance(exc, PayerRejected):
                    self.circuit.record_success(key)
                else:
                    self._record_failure(key)
                raise
            if isinstance(error, tuple):
                self.circuit.record_success(key)
                return error
            self._record_failure(key)
            if attempt + 1 >= attempts:
                raise error
            delay = self._jitter() * min(
                self.config.backoff_cap_s, self.config.backoff_base_s * 2**attempt
            )
            logger.info(
                "payer %s %s: attempt %d of %d failed (%s); retrying in %.2f s",
                key,
                call,
                attempt + 1,
                attempts,
                _failure_reason(error),
                delay,
            )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _record_failure(self, key: str) -> None:
        self.circuit.record_failure(
            key, threshold=self.config.failure_threshold, cooldown_s=self.config.cooldown_s
        )

    def _classify(
        self, call: str, send: Callable[[], httpx.Response], *, core: bool
    ) -> tuple[httpx.Response, CoreEnvelope | None] | PayerUnavailable:
        """Make one attempt: the good response, a retryable error, or raise a final one."""
        payer = self.config.payer_id
        try:
            response = send()
        except httpx.TimeoutException as exc:
            error = PayerUnavailable.for_call(
                f"timed out ({type(exc).__name__}).", payer_id=payer, call=call
            )
            error.__cause__ = exc
            return error
        except httpx.TransportError as exc:
            error = PayerUnavailable.for_call(
                f"could not be reached ({type(exc).__name__}).", payer_id=payer, call=call
            )
            error.__cause__ = exc
            return error
        status = response.status_code
        envelope: CoreEnvelope | None = None
        if core and response.headers.get("content-type", "").startswith("multipart/"):
            try:
                envelope = decode_multipart(response.content, response.headers["content-type"])
            except CoreEnvelopeError:
                envelope = None
        elif core and 200 <= status < 300:
            envelope = self._decode(call, response)  # raises PayerProtocolError: say why
        code = envelope.error_code if envelope is not None else None
        detail = envelope.error_message if envelope is not None else None
        if status >= 500 or status == 429 or (envelope is not None and envelope.is_retryable_error):
            what = f"answered HTTP {status}" + (f" with CORE {code}" if code else "")
            return PayerUnavailable.for_call(
                what + ".", payer_id=payer, call=call, status_code=status, core_error_code=code
            )
        if status >= 400 or (envelope is not None and not envelope.is_success):
            what = f"refused the request: HTTP {status}" + (f", CORE {code}" if code else "")
            raise PayerRejected.for_call(
                what + ".",
                payer_id=payer,
                call=call,
                status_code=status,
                core_error_code=code,
                detail=detail,
            )
        if core and envelope is None:
            envelope = self._decode(call, response)  # 2xx multipart that did not decode
        return response, envelope


def _failure_reason(error: PayerError) -> str:
    """What a retried failure was, for the log: HTTP status, CORE code or exception type."""
    parts = []
    if error.status_code is not None:
        parts.append(f"HTTP {error.status_code}")
    if error.core_error_code:
        parts.append(f"CORE {error.core_error_code}")
    if not parts and error.__cause__ is not None:
        parts.append(type(error.__cause__).__name__)
    return ", ".join(parts) or "no answer"
