"""The CAQH CORE Connectivity Rule vC2.2.0 envelope, HTTP MIME multipart flavour.

Pure functions and one frozen model, shared by the gateway client and the payer
simulator: no sockets, no files, no database (the h11 model: bytes in, envelope
out; envelope in, bytes out).

- ``CoreEnvelope``: the envelope metadata plus the payload bytes. It checks
  itself when built (required fields, UUID ``PayloadID``, ``CORERuleVersion``
  2.2.0, batch ``PayloadLength`` and SHA-1 ``Checksum``) and raises
  ``CoreEnvelopeError`` naming the CORE field and the CORE error code a receiver
  answers with.
- The multipart framing (``encode_multipart``, ``decode_multipart``) is in
  ``core_multipart``.

Field names (the rule's metadata table): PayloadType, ProcessingMode,
PayloadID, PayloadLength (batch), TimeStamp, UserName and Password (request,
HTTP MIME flavour: form fields, not HTTP basic auth; absent when the client
authenticates with an X.509 certificate), SenderID, ReceiverID,
CORERuleVersion, Checksum (batch: SHA-1 of the payload, hex), Payload,
ErrorCode and ErrorMessage (responses). TimeStamp is ISO 8601 UTC
``YYYY-MM-DDTHH:MM:SSZ``.

Credentials never appear in ``repr()``, in ``str()`` of an error, or in an
error message; ``ErrorMessage`` from a payer is kept in the envelope only.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from claimdesk.errors import ClaimdeskError

__all__ = [
    "CORE_RULE_VERSION",
    "ERROR_PAYLOAD_TYPE",
    "RETRYABLE_ERROR_CODES",
    "CoreEnvelope",
    "CoreEnvelopeError",
    "CoreErrorCode",
    "PayloadType",
    "ProcessingMode",
    "checksum_of",
    "format_timestamp",
    "http_status_for",
]

CORE_RULE_VERSION = "2.2.0"
# PayloadType of an envelope-level error response (no X12 payload to return).
ERROR_PAYLOAD_TYPE = "CoreEnvelopeError"
# The rule's TimeStamp format: ISO 8601, UTC, whole seconds.
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TIMESTAMP_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_SHA1_HEX_RE = re.compile(r"[0-9a-fA-F]{40}")
# Identifiers are short tokens; a longer value is garbage, not an id.
_MAX_ID_LENGTH = 80
# A form field's name is ASCII; a header block larger than this is not ours.
_MAX_PART_HEADER_BYTES = 4096


class ProcessingMode(StrEnum):
    REAL_TIME = "RealTime"
    BATCH = "Batch"


class PayloadType(StrEnum):
    """The payload types claimdesk sends or accepts.

    Real time (one request, the answer in the same HTTP exchange) and batch
    (submission acknowledged at once; results retrieved later).
    """

    # Real time requests and responses.
    X12_270_REQUEST = "X12_270_Request_005010X279A1"
    X12_271_RESPONSE = "X12_271_Response_005010X279A1"
    X12_276_REQUEST = "X12_276_Request_005010X212"
    X12_277_RESPONSE = "X12_277_Response_005010X212"
    # A 999 or TA1 in place of the 271/277 when the X12 request was rejected.
    X12_999_RESPONSE = "X12_999_Response_005010X231A1"
    X12_TA1_RESPONSE = "X12_TA1_Response_00501X231A1"
    # Batch submissions (837P and 837I) and the immediate submission receipt.
    X12_837P_REQUEST = "X12_837_Request_005010X222A1_2"
    X12_837I_REQUEST = "X12_837_Request_005010X223A2_2"
    X12_BATCH_SUBMISSION_RESPONSE = "X12_005010_Response_BatchSubmission"
    # Batch results retrieval requests, one per kind of waiting file.
    X12_999_RETRIEVAL_REQUEST = "X12_999_RetrievalRequest_005010X231A1"
    X12_TA1_RETRIEVAL_REQUEST = "X12_TA1_RetrievalRequest_00501X231A1"
    X12_277CA_RETRIEVAL_REQUEST = "X12_277CA_RetrievalRequest_005010X214"
    X12_835_RETRIEVAL_REQUEST = "X12_835_RetrievalRequest_005010X221A1"
    # Batch results retrieval responses.
    X12_999_RETRIEVAL_RESPONSE = "X12_999_RetrievalResponse_005010X231A1"
    X12_TA1_RETRIEVAL_RESPONSE = "X12_TA1_RetrievalResponse_00501X231A1"
    X12_277CA_RETRIEVAL_RESPONSE = "X12_277CA_RetrievalResponse_005010X214"
    X12_835_RETRIEVAL_RESPONSE = "X12_835_RetrievalResponse_005010X221A1"
    NO_BATCH_RESULTS_FILE = "X12_005010_Response_NoBatchResultsFile"
    # Envelope-level error (see ErrorCode), any mode.
    CORE_ENVELOPE_ERROR = ERROR_PAYLOAD_TYPE


class CoreErrorCode(StrEnum):
    """``ErrorCode`` values. ``Success`` on every good response.

    Missing fields are ``<Field>Required``, unusable values ``<Field>Incorrect``.
    ``ReceiverUnavailable``, ``ServerBusy`` and ``Retry`` mean "try again later":
    the gateway retries those (``RETRYABLE_ERROR_CODES``), no others.
    """

    SUCCESS = "Success"
    PAYLOAD_TYPE_REQUIRED = "PayloadTypeRequired"
    PAYLOAD_TYPE_INCORRECT = "PayloadTypeIncorrect"
    PROCESSING_MODE_REQUIRED = "ProcessingModeRequired"
    PROCESSING_MODE_INCORRECT = "ProcessingModeIncorrect"
    PAYLOAD_ID_REQUIRED = "PayloadIDRequired"
    PAYLOAD_ID_INCORRECT = "PayloadIDIncorrect"
    TIMESTAMP_REQUIRED = "TimeStampRequired"
    TIMESTAMP_INCORRECT = "TimeStampIncorrect"
    SENDER_ID_REQUIRED = "SenderIDRequired"
    SENDER_ID_INCORRECT = "SenderIDIncorrect"
    RECEIVER_ID_REQUIRED = "ReceiverIDRequired"
    RECEIVER_ID_INCORRECT = "ReceiverIDIncorrect"
    CORE_RULE_VERSION_REQUIRED = "CORERuleVersionRequired"
    VERSION_MISMATCH = "VersionMismatch"
    PAYLOAD_REQUIRED = "PayloadRequired"
    PAYLOAD_LENGTH_REQUIRED = "PayloadLengthRequired"
    PAYLOAD_LENGTH_INCORRECT = "PayloadLengthIncorrect"
    CHECKSUM_REQUIRED = "ChecksumRequired"
    CHECKSUM_INCORRECT = "ChecksumIncorrect"
    UNAUTHORIZED = "UnAuthorized"
    ENVELOPE_MALFORMED = "EnvelopeMalformed"
    RECEIVER_UNAVAILABLE = "ReceiverUnavailable"
    SERVER_BUSY = "ServerBusy"
    RETRY = "Retry"


RETRYABLE_ERROR_CODES = frozenset(
    {CoreErrorCode.RECEIVER_UNAVAILABLE, CoreErrorCode.SERVER_BUSY, CoreErrorCode.RETRY}
)

# The wire name of every model field, in the order encode_multipart writes them.
_WIRE_NAMES: dict[str, str] = {
    "payload_type": "PayloadType",
    "processing_mode": "ProcessingMode",
    "payload_id": "PayloadID",
    "payload_length": "PayloadLength",
    "timestamp": "TimeStamp",
    "username": "UserName",
    "password": "Password",
    "sender_id": "SenderID",
    "receiver_id": "ReceiverID",
    "core_rule_version": "CORERuleVersion",
    "checksum": "Checksum",
    "error_code": "ErrorCode",
    "error_message": "ErrorMessage",
    "payload": "Payload",
}
_FIELD_BY_WIRE = {wire: name for name, wire in _WIRE_NAMES.items()}
_REQUIRED_CODES = {
    "PayloadType": CoreErrorCode.PAYLOAD_TYPE_REQUIRED,
    "ProcessingMode": CoreErrorCode.PROCESSING_MODE_REQUIRED,
    "PayloadID": CoreErrorCode.PAYLOAD_ID_REQUIRED,
    "TimeStamp": CoreErrorCode.TIMESTAMP_REQUIRED,
    "SenderID": CoreErrorCode.SENDER_ID_REQUIRED,
    "ReceiverID": CoreErrorCode.RECEIVER_ID_REQUIRED,
    "CORERuleVersion": CoreErrorCode.CORE_RULE_VERSION_REQUIRED,
}
_INCORRECT_CODES = {
    "PayloadType": CoreErrorCode.PAYLOAD_TYPE_INCORRECT,
    "ProcessingMode": CoreErrorCode.PROCESSING_MODE_INCORRECT,
    "PayloadID": CoreErrorCode.PAYLOAD_ID_INCORRECT,
    "TimeStamp": CoreErrorCode.TIMESTAMP_INCORRECT,
    "SenderID": CoreErrorCode.SENDER_ID_INCORRECT,
    "ReceiverID": CoreErrorCode.RECEIVER_ID_INCORRECT,
    "CORERuleVersion": CoreErrorCode.VERSION_MISMATCH,
    "PayloadLength": CoreErrorCode.PAYLOAD_LENGTH_INCORRECT,
    "Checksum": CoreErrorCode.CHECKSUM_INCORRECT,
}


class CoreEnvelopeError(ClaimdeskError):
    """A CORE envelope that cannot be built or read.

    ``field`` names the CORE field (``"PayloadID"``) or ``"body"`` /
    ``"Content-Type"`` for the multipart framing; ``core_error_code`` is what a
    receiver puts in ``ErrorCode`` when it refuses the envelope. Messages
    quote field names and framing, never credentials or payload bytes.
    """

    def __init__(self, message: str, *, field: str, core_error_code: str) -> None:
        super().__init__(message)
        self.field = field
        self.core_error_code = core_error_code


def format_timestamp(moment: datetime) -> str:
    """``moment`` as the rule's TimeStamp (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def checksum_of(payload: bytes) -> str:
    """The rule's batch Checksum: SHA-1 of the payload bytes, lower-case hex."""
    return hashlib.sha1(payload).hexdigest()


def http_status_for(error_code: str) -> int:
    """The HTTP status a receiver answers an envelope error with.

    200 for ``Success``, 401 for ``UnAuthorized``, 503 for the retry-type codes,
    400 for every other refusal.
    """
    if error_code == CoreErrorCode.SUCCESS:
        return 200
    if error_code == CoreErrorCode.UNAUTHORIZED:
        return 401
    if error_code in RETRYABLE_ERROR_CODES:
        return 503
    return 400


def _now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class CoreEnvelope(BaseModel):
    """One CORE envelope: a request or a response, real time or batch.

    Build requests with ``CoreEnvelope.request(...)`` and answers with
    ``request.respond(...)``; both fill ``PayloadID``, ``TimeStamp``,
    ``CORERuleVersion`` and, for batch, ``PayloadLength`` and ``Checksum``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    payload_type: str = Field(max_length=100)
    processing_mode: ProcessingMode
    payload_id: str
    timestamp: datetime
    sender_id: str
    receiver_id: str
    core_rule_version: str = CORE_RULE_VERSION
    payload: bytes = Field(default=b"", repr=False)
    payload_length: int | None = None
    checksum: str | None = None
    username: str | None = Field(default=None, repr=False)
    password: SecretStr | None = Field(default=None, repr=False)
    error_code: str | None = None
    error_message: str | None = Field(default=None, repr=False)

    @model_validator(mode="before")
    @classmethod
    def _fill_batch_integrity(cls, data: Any) -> Any:
        """Batch envelopes with a payload carry its length and SHA-1 (computed if absent)."""
        if not isinstance(data, dict):
            return data
        if data.get("processing_mode") != ProcessingMode.BATCH:
            return data
        payload = data.get("payload") or b""
        if payload and isinstance(payload, bytes | bytearray):
            data = dict(data)
            data.setdefault("payload_length", len(payload))
            data.setdefault("checksum", checksum_of(bytes(payload)))
        return data

    @model_validator(mode="after")
    def _check(self) -> Self:
        for name in ("payload_type", "payload_id", "sender_id", "receiver_id"):
            if not getattr(self, name).strip():
                wire = _WIRE_NAMES[name]
                raise CoreEnvelopeError(
                    f"CORE envelope: {wire} is empty; every envelope must carry a {wire}.",
                    field=wire,
                    core_error_code=_REQUIRED_CODES[wire],
                )
        if self.payload_type not in _KNOWN_PAYLOAD_TYPES:
            raise CoreEnvelopeError(
                f"CORE envelope: PayloadType {self.payload_type!r} is not one claimdesk "
                "exchanges; see claimdesk.gateway.core_envelope.PayloadType.",
                field="PayloadType",
                core_error_code=CoreErrorCode.PAYLOAD_TYPE_INCORRECT,
            )
        try:
            uuid.UUID(self.payload_id)
        except ValueError:
            raise CoreEnvelopeError(
                f"CORE envelope: PayloadID {self.payload_id[:_MAX_ID_LENGTH]!r} is not a UUID; "
                "generate it with uuid.uuid4().",
                field="PayloadID",
                core_error_code=CoreErrorCode.PAYLOAD_ID_INCORRECT,
            ) from None
        for name in ("sender_id", "receiver_id"):
            if len(getattr(self, name)) > _MAX_ID_LENGTH:
                wire = _WIRE_NAMES[name]
                raise CoreEnvelopeError(
                    f"CORE envelope: {wire} is longer than {_MAX_ID_LENGTH} characters.",
                    field=wire,
                    core_error_code=_INCORRECT_CODES[wire],
                )
        if self.timestamp.tzinfo is None:
            raise CoreEnvelopeError(
                "CORE envelope: TimeStamp has no time zone; pass an aware UTC datetime.",
                field="TimeStamp",
                core_error_code=CoreErrorCode.TIMESTAMP_INCORRECT,
            )
        if self.core_rule_version != CORE_RULE_VERSION:
            raise CoreEnvelopeError(
                f"CORE envelope: CORERuleVersion {self.core_rule_version[:20]!r} is not "
                f"{CORE_RULE_VERSION!r}, the only version claimdesk speaks.",
                field="CORERuleVersion",
                core_error_code=CoreErrorCode.VERSION_MISMATCH,
            )
        if self.payload_length is not None and self.payload_length != len(self.payload):
            raise CoreEnvelopeError(
                f"CORE envelope: PayloadLength {self.payload_length!r} does not match the "
                f"{len(self.payload)} payload bytes received; the payload was truncated "
                "or altered on the way.",
                field="PayloadLength",
                core_error_code=CoreErrorCode.PAYLOAD_LENGTH_INCORRECT,
            )
        if self.checksum is not None:
            if not _SHA1_HEX_RE.fullmatch(self.checksum):
                raise CoreEnvelopeError(
                    "CORE envelope: Checksum is not a 40-digit SHA-1 hex digest.",
                    field="Checksum",
                    core_error_code=CoreErrorCode.CHECKSUM_INCORRECT,
                )
            if self.checksum.lower() != checksum_of(self.payload):
                raise CoreEnvelopeError(
                    f"CORE envelope: Checksum {self.checksum!r} does not match the SHA-1 of "
                    f"the {len(self.payload)} payload bytes; the payload was altered on the way.",
                    field="Checksum",
                    core_error_code=CoreErrorCode.CHECKSUM_INCORRECT,
                )
        return self

    @classmethod
    def request(
        cls,
        *,
        payload_type: str,
        processing_mode: ProcessingMode,
        sender_id: str,
        receiver_id: str,
        payload: bytes = b"",
        payload_id: str | None = None,
        timestamp: datetime | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> CoreEnvelope:
        """A request envelope; ``payload_id`` defaults to a new UUID, ``timestamp`` to now."""
        return cls(
            payload_type=payload_type,
            processing_mode=processing_mode,
            payload_id=payload_id or str(uuid.uuid4()),
            timestamp=timestamp or _now_utc(),
            sender_id=sender_id,
            receiver_id=receiver_id,
            payload=payload,
            username=username,
            password=SecretStr(password) if password is not None else None,
        )

    def respond(
        self,
        *,
        payload_type: str,
        payload: bytes = b"",
        error_code: str = CoreErrorCode.SUCCESS,
        error_message: str | None = None,
        payload_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> CoreEnvelope:
        """The response to this request: same mode and PayloadID, sender and receiver swapped.

        A retrieval response carrying a stored file passes that file's own ``payload_id``.
        """
        return CoreEnvelope(
            payload_type=payload_type,
            processing_mode=self.processing_mode,
            payload_id=payload_id or self.payload_id,
            timestamp=timestamp or _now_utc(),
            sender_id=self.receiver_id,
            receiver_id=self.sender_id,
            payload=payload,
            error_code=error_code,
            error_message=error_message,
        )

    @property
    def is_success(self) -> bool:
        """A response whose ErrorCode is ``Success`` (or absent, on a request)."""
        return self.error_code in (None, CoreErrorCode.SUCCESS)

    @property
    def is_retryable_error(self) -> bool:
        """A response whose ErrorCode asks the sender to try again later."""
        return self.error_code in RETRYABLE_ERROR_CODES

    def wire_fields(self) -> dict[str, bytes]:
        """The form fields as sent: CORE name → value bytes (absent fields left out)."""
        fields: dict[str, bytes] = {}
        for name, wire in _WIRE_NAMES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if name == "payload":
                fields[wire] = value
            elif name == "timestamp":
                fields[wire] = format_timestamp(value).encode("ascii")
            elif isinstance(value, SecretStr):
                fields[wire] = value.get_secret_value().encode("utf-8")
            else:
                fields[wire] = str(value).encode("utf-8")
        return fields


_KNOWN_PAYLOAD_TYPES = frozenset(str(member) for member in PayloadType)
