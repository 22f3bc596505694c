"""The CORE envelope codec: round trips, framing errors, field errors, secrets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from claimdesk.gateway.core_envelope import (
    CoreEnvelope,
    CoreEnvelopeError,
    CoreErrorCode,
    PayloadType,
    ProcessingMode,
    checksum_of,
    http_status_for,
)
from claimdesk.gateway.core_multipart import decode_multipart, encode_multipart

X12 = b"ISA*00*          *00*          *ZZ*SENDER~GS*HC~ST*837*0001~SE*2*0001~\r\n\x00\xff"


def make_request(**overrides: object) -> CoreEnvelope:
    values: dict[str, object] = {
        "payload_type": PayloadType.X12_270_REQUEST,
        "processing_mode": ProcessingMode.REAL_TIME,
        "sender_id": "CLAIMDESK",
        "receiver_id": "SIMPAYER",
        "payload": X12,
        "username": "clinic",
        "password": "s3cret-pw",
        "timestamp": datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC),
    }
    values.update(overrides)
    return CoreEnvelope.request(**values)  # type: ignore[arg-type]


def fields_body(fields: dict[str, bytes], boundary: str = "b0undary") -> tuple[bytes, str]:
    parts = b"".join(
        b"--" + boundary.encode() + b"\r\n"
        b'Content-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + value + b"\r\n"
        for name, value in fields.items()
    )
    closing = b"--" + boundary.encode() + b"--\r\n"
    return parts + closing, f"multipart/form-data; boundary={boundary}"


def good_fields() -> dict[str, bytes]:
    return dict(make_request().wire_fields())


class TestRoundTrip:
    def test_encode_multipart_round_trips_real_time_request(self) -> None:
        request = make_request()
        assert decode_multipart(*encode_multipart(request)) == request

    def test_encode_multipart_round_trips_batch_with_length_and_checksum(self) -> None:
        request = make_request(
            payload_type=PayloadType.X12_837P_REQUEST, processing_mode=ProcessingMode.BATCH
        )
        assert request.payload_length == len(X12)
        assert request.checksum == checksum_of(X12)
        decoded = decode_multipart(*encode_multipart(request))
        assert decoded == request
        assert decoded.payload == X12

    def test_encode_multipart_keeps_payload_bytes_exact(self) -> None:
        payload = b"\r\n--not-a-boundary\r\n\r\n~*:^" + bytes(range(256))
        decoded = decode_multipart(*encode_multipart(make_request(payload=payload)))
        assert decoded.payload == payload

    def test_respond_swaps_parties_and_keeps_payload_id(self) -> None:
        request = make_request()
        response = request.respond(payload_type=PayloadType.X12_271_RESPONSE, payload=b"271")
        decoded = decode_multipart(*encode_multipart(response))
        assert (decoded.sender_id, decoded.receiver_id) == ("SIMPAYER", "CLAIMDESK")
        assert decoded.payload_id == request.payload_id
        assert decoded.is_success
        assert decoded.password is None

    def test_decode_multipart_ignores_preamble_epilogue_and_unknown_fields(self) -> None:
        fields = good_fields() | {"X-Vendor": b"whatever"}
        body, content_type = fields_body(fields)
        decoded = decode_multipart(b"preamble\r\n" + body + b"epilogue", content_type)
        assert decoded.payload == X12

    def test_timestamp_is_iso_8601_utc_seconds(self) -> None:
        assert make_request().wire_fields()["TimeStamp"] == b"2025-03-04T05:06:07Z"


class TestFramingErrors:
    def test_decode_multipart_rejects_truncated_body(self) -> None:
        body, content_type = encode_multipart(make_request())
        with pytest.raises(CoreEnvelopeError, match="truncated") as info:
            decode_multipart(body[: len(body) // 2], content_type)
        assert info.value.field == "body"
        assert info.value.core_error_code == CoreErrorCode.ENVELOPE_MALFORMED

    def test_decode_multipart_rejects_non_multipart_content_type(self) -> None:
        with pytest.raises(CoreEnvelopeError) as info:
            decode_multipart(b"{}", "application/json")
        assert info.value.field == "Content-Type"

    def test_decode_multipart_rejects_missing_boundary_parameter(self) -> None:
        with pytest.raises(CoreEnvelopeError, match="boundary"):
            decode_multipart(b"x", "multipart/form-data")

    def test_decode_multipart_rejects_body_without_boundary(self) -> None:
        with pytest.raises(CoreEnvelopeError, match="does not contain"):
            decode_multipart(b"<html>502 Bad Gateway</html>", "multipart/form-data; boundary=zz")

    def test_decode_multipart_rejects_duplicate_field(self) -> None:
        body, content_type = fields_body(good_fields())
        extra, _ = fields_body({"SenderID": b"OTHER"})
        body = body.replace(b"--b0undary--\r\n", extra)
        with pytest.raises(CoreEnvelopeError, match="twice") as info:
            decode_multipart(body, content_type)
        assert info.value.field == "SenderID"

    def test_decode_multipart_rejects_part_without_name(self) -> None:
        body = b"--zz\r\nContent-Type: text/plain\r\n\r\nx\r\n--zz--\r\n"
        with pytest.raises(CoreEnvelopeError, match="Content-Disposition"):
            decode_multipart(body, "multipart/form-data; boundary=zz")


class TestFieldErrors:
    @pytest.mark.parametrize(
        ("missing", "code"),
        [
            ("PayloadType", "PayloadTypeRequired"),
            ("ProcessingMode", "ProcessingModeRequired"),
            ("PayloadID", "PayloadIDRequired"),
            ("TimeStamp", "TimeStampRequired"),
            ("SenderID", "SenderIDRequired"),
            ("ReceiverID", "ReceiverIDRequired"),
            ("CORERuleVersion", "CORERuleVersionRequired"),
        ],
    )
    def test_decode_multipart_names_missing_required_field(self, missing: str, code: str) -> None:
        fields = good_fields()
        del fields[missing]
        with pytest.raises(CoreEnvelopeError, match=missing) as info:
            decode_multipart(*fields_body(fields))
        assert (info.value.field, info.value.core_error_code) == (missing, code)

    @pytest.mark.parametrize(
        ("field", "value", "code"),
        [
            ("PayloadType", b"X12_999_Nonsense", "PayloadTypeIncorrect"),
            ("ProcessingMode", b"Sometimes", "ProcessingModeIncorrect"),
            ("PayloadID", b"not-a-uuid", "PayloadIDIncorrect"),
            ("TimeStamp", b"2025-03-04 05:06:07", "TimeStampIncorrect"),
            ("TimeStamp", b"2025-02-30T05:06:07Z", "TimeStampIncorrect"),
            ("CORERuleVersion", b"2.1.0", "VersionMismatch"),
            ("PayloadLength", b"12x", "PayloadLengthIncorrect"),
            ("PayloadLength", b"3", "PayloadLengthIncorrect"),
            ("Checksum", b"abc", "ChecksumIncorrect"),
            ("Checksum", b"0" * 40, "ChecksumIncorrect"),
            ("SenderID", b"\xff\xfe", "SenderIDIncorrect"),
        ],
    )
    def test_decode_multipart_names_incorrect_field(
        self, field: str, value: bytes, code: str
    ) -> None:
        fields = good_fields() | {field: value}
        with pytest.raises(CoreEnvelopeError) as info:
            decode_multipart(*fields_body(fields))
        assert (info.value.field, info.value.core_error_code) == (field, code)

    def test_request_refuses_naive_timestamp(self) -> None:
        with pytest.raises(CoreEnvelopeError, match="time zone"):
            make_request(timestamp=datetime(2025, 1, 1))


class TestSecrets:
    def test_repr_hides_credentials_and_payload(self) -> None:
        text = repr(make_request()) + str(make_request())
        assert "s3cret-pw" not in text
        assert "clinic" not in text
        assert "ISA" not in text

    def test_errors_never_quote_password(self) -> None:
        fields = good_fields() | {"PayloadID": b"bad"}
        with pytest.raises(CoreEnvelopeError) as info:
            decode_multipart(*fields_body(fields))
        assert "s3cret-pw" not in str(info.value)

    def test_wire_fields_carry_credentials_as_form_fields(self) -> None:
        fields = make_request().wire_fields()
        assert (fields["UserName"], fields["Password"]) == (b"clinic", b"s3cret-pw")


def test_http_status_for_maps_codes() -> None:
    assert http_status_for("Success") == 200
    assert http_status_for("UnAuthorized") == 401
    assert http_status_for("ServerBusy") == 503
    assert http_status_for("PayloadTypeIncorrect") == 400
