"""The CORE envelope as HTTP MIME ``multipart/form-data``: bytes in, envelope out, and back.

- ``encode_multipart(envelope) -> (body, content_type)``: one form field per
  metadata item, the payload in the ``Payload`` field, bytes untouched.
- ``decode_multipart(body, content_type) -> CoreEnvelope``: the reverse; any
  malformed input (wrong content type, no or truncated boundary, duplicate
  field, missing or illegal value) is a ``CoreEnvelopeError`` naming the CORE
  field and the error code a receiver answers with.

Pure functions, shared by the gateway client and the payer simulator.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import Message
from typing import Any

from pydantic import SecretStr, ValidationError

from claimdesk.gateway.core_envelope import (
    _FIELD_BY_WIRE,
    _INCORRECT_CODES,
    _MAX_PART_HEADER_BYTES,
    _REQUIRED_CODES,
    _TIMESTAMP_FORMAT,
    _TIMESTAMP_RE,
    _WIRE_NAMES,
    CoreEnvelope,
    CoreEnvelopeError,
    CoreErrorCode,
    ProcessingMode,
)

__all__ = ["decode_multipart", "encode_multipart", "envelope_from_fields"]


def encode_multipart(envelope: CoreEnvelope) -> tuple[bytes, str]:
    """The envelope as a ``multipart/form-data`` body and its Content-Type header value."""
    fields = envelope.wire_fields()
    boundary = f"CORE-{uuid.uuid4().hex}"
    # A random 128-bit boundary is practically never in the payload; check anyway.
    while any(boundary.encode("ascii") in value for value in fields.values()):
        boundary = f"CORE-{uuid.uuid4().hex}"
    marker = f"--{boundary}".encode("ascii")
    chunks: list[bytes] = []
    for wire, value in fields.items():
        chunks.append(marker)
        chunks.append(b"\r\n")
        chunks.append(f'Content-Disposition: form-data; name="{wire}"\r\n'.encode("ascii"))
        if wire == "Payload":
            chunks.append(b"Content-Type: application/octet-stream\r\n")
        chunks.append(b"\r\n")
        chunks.append(value)
        chunks.append(b"\r\n")
    chunks.append(marker + b"--\r\n")
    return b"".join(chunks), f'multipart/form-data; boundary="{boundary}"'


def _framing_error(message: str, *, field: str = "body") -> CoreEnvelopeError:
    return CoreEnvelopeError(
        f"CORE envelope: {message}",
        field=field,
        core_error_code=CoreErrorCode.ENVELOPE_MALFORMED,
    )


def _boundary_of(content_type: str) -> bytes:
    header = Message()
    header["Content-Type"] = content_type
    if header.get_content_type() != "multipart/form-data":
        raise _framing_error(
            f"Content-Type {content_type[:100]!r} is not multipart/form-data; "
            "CORE HTTP MIME envelopes are multipart form posts.",
            field="Content-Type",
        )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary or len(boundary) > 200:
        raise _framing_error(
            "the multipart/form-data Content-Type has no usable boundary parameter.",
            field="Content-Type",
        )
    return boundary.encode("ascii", errors="replace")


def _split_parts(body: bytes, boundary: bytes) -> list[bytes]:
    marker = b"--" + boundary
    start = body.find(marker)
    if start < 0:
        raise _framing_error("the body does not contain the multipart boundary.")
    if start > 0 and not body[:start].endswith(b"\r\n"):
        raise _framing_error("the multipart boundary does not start a line.")
    delimiter = b"\r\n" + marker
    rest = body[start + len(marker) :]
    parts: list[bytes] = []
    while True:
        if rest.startswith(b"--"):
            return parts  # close delimiter; anything after it is epilogue
        if not rest.startswith(b"\r\n"):
            raise _framing_error("a multipart boundary is not followed by a line break.")
        end = rest.find(delimiter, 2)
        if end < 0:
            raise _framing_error(
                f"the body ends inside part {len(parts) + 1} without the closing boundary; "
                "it was truncated."
            )
        parts.append(rest[2:end])
        rest = rest[end + len(delimiter) :]


def _part_name(headers: bytes, index: int) -> str:
    if len(headers) > _MAX_PART_HEADER_BYTES:
        raise _framing_error(f"part {index} has an oversized header block.")
    header = Message()
    try:
        text = headers.decode("ascii")
    except UnicodeDecodeError:
        raise _framing_error(f"part {index} has non-ASCII headers.") from None
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise _framing_error(f"part {index} has a header line without a colon.")
        header[key.strip()] = value.strip()
    disposition = header.get("Content-Disposition")
    name = header.get_param("name", header="content-disposition") if disposition else None
    if not disposition or not disposition.lower().startswith("form-data") or not name:
        raise _framing_error(f"part {index} has no 'Content-Disposition: form-data; name=...'.")
    return str(name)


def decode_multipart(body: bytes, content_type: str) -> CoreEnvelope:
    """The envelope in a ``multipart/form-data`` body; ``CoreEnvelopeError`` if malformed."""
    boundary = _boundary_of(content_type)
    raw: dict[str, bytes] = {}
    for index, part in enumerate(_split_parts(body, boundary), start=1):
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep:
            raise _framing_error(f"part {index} has no blank line between headers and value.")
        name = _part_name(head, index)
        if name in raw:
            raise _framing_error(f"field {name!r} appears twice.", field=name)
        raw[name] = value
    return envelope_from_fields(raw)


def envelope_from_fields(raw: dict[str, bytes]) -> CoreEnvelope:
    """An envelope from CORE form fields (wire name → bytes); unknown fields are ignored."""
    for wire, code in _REQUIRED_CODES.items():
        if not raw.get(wire, b"").strip():
            raise CoreEnvelopeError(
                f"CORE envelope: required field {wire} is missing or empty.",
                field=wire,
                core_error_code=code,
            )
    values: dict[str, Any] = {}
    for wire, value in raw.items():
        name = _FIELD_BY_WIRE.get(wire)
        if name is None:
            continue
        if name == "payload":
            values[name] = value
            continue
        try:
            text = value.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise CoreEnvelopeError(
                f"CORE envelope: field {wire} is not UTF-8 text.",
                field=wire,
                core_error_code=_INCORRECT_CODES.get(wire, CoreErrorCode.ENVELOPE_MALFORMED),
            ) from None
        values[name] = text
    values["timestamp"] = _parse_timestamp(values["timestamp"])
    mode = values["processing_mode"]
    if mode not in {m.value for m in ProcessingMode}:
        raise CoreEnvelopeError(
            f"CORE envelope: ProcessingMode {mode[:20]!r} is neither 'RealTime' nor 'Batch'.",
            field="ProcessingMode",
            core_error_code=CoreErrorCode.PROCESSING_MODE_INCORRECT,
        )
    if "payload_length" in values:
        if not values["payload_length"].isdigit():
            raise CoreEnvelopeError(
                "CORE envelope: PayloadLength is not a whole number of bytes.",
                field="PayloadLength",
                core_error_code=CoreErrorCode.PAYLOAD_LENGTH_INCORRECT,
            )
        values["payload_length"] = int(values["payload_length"])
    if values.get("password") is not None:
        values["password"] = SecretStr(values["password"])
    try:
        return CoreEnvelope(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "body"
        wire = _WIRE_NAMES.get(name, name)
        raise CoreEnvelopeError(
            f"CORE envelope: field {wire} is unusable ({first['type']}).",
            field=wire,
            core_error_code=_INCORRECT_CODES.get(wire, CoreErrorCode.ENVELOPE_MALFORMED),
        ) from None


def _parse_timestamp(text: str) -> datetime:
    if not _TIMESTAMP_RE.fullmatch(text):
        raise CoreEnvelopeError(
            f"CORE envelope: TimeStamp {text[:40]!r} is not ISO 8601 'YYYY-MM-DDTHH:MM:SSZ'.",
            field="TimeStamp",
            core_error_code=CoreErrorCode.TIMESTAMP_INCORRECT,
        )
    try:
        return datetime.strptime(text, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise CoreEnvelopeError(
            f"CORE envelope: TimeStamp {text!r} is not a real date and time.",
            field="TimeStamp",
            core_error_code=CoreErrorCode.TIMESTAMP_INCORRECT,
        ) from None
