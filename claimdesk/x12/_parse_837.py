"""837P (005010X222A1) and 837I (005010X223A2) into the writer's ``claim_data`` models.

For importing claims (from an EHR, or back from what claimdesk wrote):
``parse_837(write_837(batch)) == batch``. Each claim gets its own copy of the
billing provider, subscriber, payer and patient of the HL loops above it.
Values claimdesk's models refuse (ICD-9 codes, an invalid NPI, a line whose
charges do not add up ...) raise ``X12Error`` naming the CLM position and the
field, never the value. A claim without claimdesk's ``REF*D9`` (``<id>-v<n>``)
gets ``claim_id`` from CLM01 (characters outside ``A-Za-z0-9_.`` become ``_``)
and version 1; a line without ``REF*6R`` gets ``<claim_id>-<line number>``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import IO, Any

from pydantic import BaseModel, ValidationError

from claimdesk.x12._837_fields import (
    UB04_HI,
    _address,
    _adjustments,
    _drop_none,
    _name,
    _pick,
    _procedure,
    _ub04_code,
)
from claimdesk.x12._envelope import SetContext, iter_transactions, register_parser
from claimdesk.x12._errors import X12Error, X12SyntaxError
from claimdesk.x12._tokenize import Segment, get, parse_date_text, to_date, to_decimal, to_period
from claimdesk.x12.claim_data import ClaimBatch837
from claimdesk.x12.models import X12Model

_CLAIM_REFERENCE = re.compile(r"(?P<id>[A-Za-z0-9_.]+)-v(?P<version>[0-9]{1,6})")
_NOT_ID = re.compile(r"[^A-Za-z0-9_.]")
_ICD9 = frozenset({"BK", "BF", "BJ", "PR"})
_ICD10 = {"ABK": 0, "ABF": 1}  # principal, other
_CLAIM_PROVIDERS = {
    "71": "attending_provider",
    "82": "rendering_provider",
    "72": "operating_provider",
    "ZZ": "other_provider",
}
_CLAIM_REF_FIELDS = {
    "9F": "referral_number",
    "G1": "prior_authorization",
    "F8": "original_claim_number",
}


class ClaimSubmission837(X12Model):
    """An 837 set as a group member: its envelope numbers and the claims it carries."""

    kind: str  # "837P" or "837I"
    set_id: str
    control_number: str
    implementation: str
    batch: ClaimBatch837


class _Reader:
    """Walks one 837 set, keeping the current HL loops and the claim being read."""

    def __init__(self, context: SetContext) -> None:
        self.component = context.delimiters.component
        self.header: dict[str, Any] = {}
        self.billing: dict[str, Any] = {}
        self.subscriber: dict[str, Any] = {}
        self.payer: dict[str, Any] = {}
        self.patient: dict[str, Any] | None = None
        self.claims: list[tuple[int, dict[str, Any]]] = []
        self.claim: dict[str, Any] | None = None
        self.other: dict[str, Any] | None = None
        self.line: dict[str, Any] | None = None
        self.adjudication: dict[str, Any] | None = None
        self.entity: dict[str, Any] | None = None  # where N3/N4 go
        self.last_nm1 = ""
        self.n3: list[str] = []
        self.is_institutional = "X223" in context.version

    def read(self, segment: Segment) -> None:
        elements = segment[1]
        handler = _HANDLERS.get(elements[0])
        if handler is not None:
            handler(self, segment, elements)

    # --- header and hierarchy -------------------------------------------------------
    def _on_BHT(self, segment: Segment, elements: list[str]) -> None:
        day = to_date(segment, 4, required=True)
        clock = get(elements, 5)
        hour, minute = (int(clock[:2]), int(clock[2:4])) if clock[:4].isdecimal() else (0, 0)
        if hour > 23 or minute > 59:
            raise X12SyntaxError(
                "time is not HHMM", segment_index=segment[0], segment_id="BHT", element="BHT05"
            )
        assert day is not None
        self.header.update(
            reference_id=get(elements, 3),
            created_at=datetime(day.year, day.month, day.day, hour, minute),
            transaction_type=get(elements, 6) or None,
        )

    def _on_HL(self, segment: Segment, elements: list[str]) -> None:
        self._end_claim()
        level = get(elements, 3)
        if level == "20":
            self.billing, self.subscriber, self.payer, self.patient = {}, {}, {}, None
        elif level == "22":
            self.subscriber, self.payer, self.patient = {}, {}, None
        elif level == "23":
            self.patient = {}
        else:
            raise X12SyntaxError(
                "unknown hierarchical level", segment_index=segment[0], segment_id="HL",
                element="HL03", expected="20, 22 or 23",
            )  # fmt: skip
        self.entity = None

    def _on_NM1(self, segment: Segment, elements: list[str]) -> None:
        code = get(elements, 1)
        self.last_nm1 = code
        self.entity = None
        ident = get(elements, 9) or None
        if self.adjudication is None and self.line is None and self.other is not None:
            if code == "IL":
                self.other["subscriber"] = _name(elements)
                self.other["member_id"] = ident
            elif code == "PR":
                self.other["payer_name"] = get(elements, 3) or None
                self.other["payer_id"] = ident
            return
        if self.claim is not None:
            key = _CLAIM_PROVIDERS.get(code)
            if key is not None and self.line is None:
                self.claim[key] = {**_name(elements), "npi": ident}
            return
        if code == "41":
            self.header["submitter"] = {"name": _name(elements), "identifier": ident}
        elif code == "40":
            self.header["receiver"] = {"name": get(elements, 3) or None, "identifier": ident}
        elif code == "85":
            self.billing.update(_name(elements), npi=ident)
            self.entity = self.billing
        elif code == "IL":
            self.subscriber.update(_name(elements), member_id=ident)
            self.entity = self.subscriber
        elif code == "PR":
            self.payer.update(name=get(elements, 3) or None, payer_id=ident)
            self.entity = self.payer
        elif code == "QC" and self.patient is not None:
            self.patient.update(_name(elements))
            self.entity = self.patient

    def _on_N3(self, segment: Segment, elements: list[str]) -> None:
        self.n3 = elements

    def _on_N4(self, segment: Segment, elements: list[str]) -> None:
        if self.entity is not None:
            self.entity["address"] = _address(self.n3, elements)

    def _on_DMG(self, segment: Segment, elements: list[str]) -> None:
        if self.entity is not None and (
            self.entity is self.subscriber or self.entity is self.patient
        ):
            self.entity["birth_date"] = to_date(segment, 2)
            self.entity["gender"] = get(elements, 3) or None

    def _on_PER(self, segment: Segment, elements: list[str]) -> None:
        submitter = self.header.get("submitter")
        if submitter is None or "contact_name" in submitter or self.billing:
            return
        submitter["contact_name"] = get(elements, 2) or None
        for i in (3, 5, 7):
            qualifier, value = get(elements, i), get(elements, i + 1)
            if qualifier == "TE":
                submitter.setdefault("phone", value)
            elif qualifier == "EM":
                submitter.setdefault("email", value)

    def _on_PRV(self, segment: Segment, elements: list[str]) -> None:
        taxonomy = get(elements, 3) or None
        if self.claim is None and get(elements, 1) == "BI":
            self.billing["taxonomy"] = taxonomy
        elif self.claim is not None and self.line is None and self.last_nm1 in ("71", "82"):
            key = "attending_provider" if self.last_nm1 == "71" else "rendering_provider"
            provider = self.claim.get(key)
            if isinstance(provider, dict):
                provider["taxonomy"] = taxonomy

    def _on_SBR(self, segment: Segment, elements: list[str]) -> None:
        fields = _pick(
            elements, payer_responsibility=1, group_number=3, group_name=4, claim_filing_indicator=9
        )
        if self.claim is None:
            self.subscriber.update(fields)
            return
        self._end_line()
        self.other = {**fields, **_pick(elements, relationship=2), "adjustments": []}
        self.claim["other_payers"].append(self.other)

    def _on_PAT(self, segment: Segment, elements: list[str]) -> None:
        if self.patient is not None:
            self.patient["relationship"] = get(elements, 1) or None

    # --- claim ---------------------------------------------------------------------------
    def _on_CLM(self, segment: Segment, elements: list[str]) -> None:
        self._end_claim()
        facility = get(elements, 5).split(self.component)
        self.claim = _pick(
            elements,
            patient_control_number=1,
            provider_signature=6,
            assignment_code=7,
            benefits_assigned=8,
            release_of_information=9,
        )
        self.claim.update(_pick(facility, facility_code=0, frequency_code=2))
        self.claim.update(
            total_charge=to_decimal(segment, 2, required=True),
            diagnoses=[],
            other_payers=[],
            lines=[],
        )
        self.claims.append((segment[0], self.claim))
        self.entity = None

    def _on_REF(self, segment: Segment, elements: list[str]) -> None:
        qualifier, value = get(elements, 1), get(elements, 2)
        if self.claim is None:
            if qualifier in ("EI", "SY") and self.entity is self.billing:
                self.billing.update(tax_id=value, tax_id_qualifier=qualifier)
            return
        if self.line is not None:
            if qualifier == "6R" and self.adjudication is None:
                self.line["line_item_control_number"] = value
            return
        if self.other is not None:
            if qualifier == "F8":  # only 2330B carries F8 under an other payer
                self.other["claim_control_number"] = value
            return
        if qualifier == "D9":
            self.claim["_reference"] = value
        elif qualifier in _CLAIM_REF_FIELDS:
            self.claim[_CLAIM_REF_FIELDS[qualifier]] = value

    def _on_DTP(self, segment: Segment, elements: list[str]) -> None:
        qualifier = get(elements, 1)
        target = self.adjudication or self.line or self.other or self.claim
        if target is None:
            return
        if qualifier == "573" and target is not self.claim and target is not self.line:
            target["adjudication_date"] = to_date(segment, 3)
        elif qualifier == "472" and target is self.line:
            start, end = to_period(segment, 3)
            target["service_date"] = start
            if get(elements, 2) == "RD8":
                target["service_date_end"] = end
        elif target is self.claim and qualifier == "434":
            target["statement_from"], target["statement_through"] = to_period(segment, 3)
        elif target is self.claim and qualifier == "435":
            target["admission_date"] = parse_date_text(get(elements, 3)[:8])
            if get(elements, 2) == "DT":
                target.setdefault("institutional", {})["admission_hour"] = get(elements, 3)[8:]

    def _on_CL1(self, segment: Segment, elements: list[str]) -> None:
        if self.claim is not None:
            self.claim.update(
                _pick(
                    elements, admission_type_code=1, admission_source_code=2, patient_status_code=3
                )
            )

    def _on_HI(self, segment: Segment, elements: list[str]) -> None:
        if self.claim is None:
            return
        for i in range(1, min(len(elements), 13)):
            qualifier, _, code = elements[i].partition(self.component)
            if qualifier in _ICD9:
                raise X12SyntaxError(
                    "ICD-9 diagnosis codes are not accepted",
                    segment_index=segment[0], segment_id="HI", element=f"HI{i:02d}-1",
                    expected="ABK/ABF (ICD-10-CM)",
                )  # fmt: skip
            if qualifier in UB04_HI:
                _ub04_code(self.claim, elements[i].split(self.component))
            elif qualifier in _ICD10:
                diagnoses = self.claim["diagnoses"]
                if _ICD10[qualifier] == 0:
                    diagnoses.insert(0, code)
                else:
                    diagnoses.append(code)

    def _on_AMT(self, segment: Segment, elements: list[str]) -> None:
        if self.other is not None and self.line is None:
            key = {"D": "paid_amount", "EAF": "remaining_patient_liability"}.get(get(elements, 1))
            if key:
                self.other[key] = to_decimal(segment, 2)

    def _on_CAS(self, segment: Segment, elements: list[str]) -> None:
        target = self.adjudication if self.line is not None else self.other
        if target is not None:
            target["adjustments"].extend(_adjustments(segment))

    # --- lines ---------------------------------------------------------------------------
    def _on_LX(self, segment: Segment, elements: list[str]) -> None:
        if self.claim is None:
            raise X12SyntaxError("LX before any CLM", segment_index=segment[0], segment_id="LX")
        self._end_line()
        self.other = None
        number = get(elements, 1)
        self.line = {
            "line_number": int(number) if number.isdecimal() else number,
            "adjudications": [],
        }
        self.claim["lines"].append(self.line)

    def _on_SV1(self, segment: Segment, elements: list[str]) -> None:
        if self.line is None:
            raise X12SyntaxError("SV1 outside a line", segment_index=segment[0], segment_id="SV1")
        pointers = get(elements, 7).split(self.component) if get(elements, 7) else []
        self.line.update(_procedure(get(elements, 1), self.component))
        self.line.update(
            _pick(elements, unit_code=3, place_of_service=5),
            charge=to_decimal(segment, 2, required=True),
            units=to_decimal(segment, 4),
            diagnosis_pointers=tuple(int(p) if p.isdecimal() else p for p in pointers),
        )

    def _on_SV2(self, segment: Segment, elements: list[str]) -> None:
        if self.line is None:
            raise X12SyntaxError("SV2 outside a line", segment_index=segment[0], segment_id="SV2")
        self.is_institutional = True
        self.line.update(_procedure(get(elements, 2), self.component))
        self.line.update(
            _pick(elements, revenue_code=1, unit_code=4),
            charge=to_decimal(segment, 3, required=True),
            units=to_decimal(segment, 5),
        )

    def _on_SVD(self, segment: Segment, elements: list[str]) -> None:
        if self.line is None:
            raise X12SyntaxError("SVD outside a line", segment_index=segment[0], segment_id="SVD")
        self.adjudication = {
            "other_payer_id": get(elements, 1) or None,
            "paid_amount": to_decimal(segment, 2, required=True),
            **_procedure(get(elements, 3), self.component),
            "revenue_code": get(elements, 4) or None,
            "paid_units": to_decimal(segment, 5),
            "adjustments": [],
        }
        self.line["adjudications"].append(self.adjudication)

    # --- assembly ------------------------------------------------------------------------
    def _end_line(self) -> None:
        self.adjudication = None

    def _end_claim(self) -> None:
        if self.claim is None:
            return
        self._end_line()
        claim = self.claim
        claim.update(
            billing_provider=dict(self.billing),
            subscriber=dict(self.subscriber),
            payer=dict(self.payer),
            patient=dict(self.patient) if self.patient is not None else None,
        )
        self.claim = self.other = self.line = self.adjudication = None


# Segment id -> the _Reader method that reads it.
_HANDLERS = {
    name.removeprefix("_on_"): method
    for name, method in vars(_Reader).items()
    if name.startswith("_on_")
}


def _claim_identity(claim: dict[str, Any]) -> None:
    """claim_id/version from REF*D9, else from CLM01; line control numbers where missing."""
    reference = claim.pop("_reference", "")
    match = _CLAIM_REFERENCE.fullmatch(reference)
    if match:
        claim["claim_id"], claim["claim_version"] = match["id"], int(match["version"])
    else:
        claim["claim_id"] = _NOT_ID.sub("_", claim.get("patient_control_number") or "") or None
        claim["claim_version"] = 1
    for line in claim["lines"]:
        if "line_item_control_number" not in line and claim["claim_id"]:
            line["line_item_control_number"] = f"{claim['claim_id']}-{line['line_number']}"


def _refusal(exc: ValidationError, position: int, segment_id: str) -> X12Error:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return X12Error(
        f"claimdesk's claim model refuses {where or 'the claim'} ({first['type']}); "
        f"{exc.error_count()} problem(s) in all",
        segment_index=position,
        segment_id=segment_id,
        detail=str(exc),
    )


def parse_837_set(segments: list[Segment], context: SetContext) -> ClaimSubmission837:
    """Read one 837 set (ST..SE) into a ``ClaimBatch837`` with its envelope."""
    reader = _Reader(context)
    for segment in segments[1:-1]:
        reader.read(segment)
    reader._on_HL((0, []), ["HL", "", "", "20"])  # closes the last claim
    header = reader.header
    interchange, group = context.interchange, context.group
    st = segments[0][1]
    kind = "I" if reader.is_institutional else "P"
    claims = []
    for _, claim in reader.claims:
        _claim_identity(claim)
        claims.append(claim)
    data = {
        "kind": kind,
        "envelope": {
            "sender_qualifier": interchange.sender_qualifier,
            "sender_id": interchange.sender_id,
            "receiver_qualifier": interchange.receiver_qualifier,
            "receiver_id": interchange.receiver_id,
            "application_sender_code": group.sender_code,
            "application_receiver_code": group.receiver_code,
            "usage_indicator": interchange.usage,
        },
        "control": {
            "interchange": interchange.control_number,
            "group": group.control_number,
            "transaction_set": st[2],
        },
        **_drop_none(header),
        "claims": claims,
    }
    try:
        batch = ClaimBatch837.model_validate(data)
    except ValidationError as exc:
        loc = exc.errors()[0]["loc"]
        if len(loc) > 1 and loc[0] == "claims" and isinstance(loc[1], int):
            raise _refusal(exc, reader.claims[loc[1]][0], "CLM") from None
        raise _refusal(exc, segments[0][0], "ST") from None
    return ClaimSubmission837(
        kind=f"837{kind}",
        set_id=st[1],
        control_number=st[2],
        implementation=context.version,
        batch=batch,
    )


def parse_837(source: bytes | str | IO[bytes] | IO[str]) -> ClaimBatch837:
    """The one 837 set in ``source`` as the writer's ``ClaimBatch837``."""
    found: list[BaseModel] = []
    for parsed in iter_transactions(source):
        if isinstance(parsed.transaction, ClaimSubmission837):
            found.append(parsed.transaction.batch)
    if len(found) != 1:
        raise X12Error(f"expected one 837 transaction set, found {len(found)}")
    batch = found[0]
    assert isinstance(batch, ClaimBatch837)
    return batch


register_parser("837", parse_837_set)
