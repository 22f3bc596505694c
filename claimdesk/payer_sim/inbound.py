"""Read what a submitter sends: envelope checks (TA1), syntax checks (999), and the content.

``read_interchange`` walks one interchange with the codec's ``SegmentReader``;
envelope faults raise ``EnvelopeFault`` (answered with a TA1), syntax faults of a
transaction set become ``SyntaxIssue``s (answered with IK3/IK4/IK5 in a 999), and
the 837/270/276 content is pulled into plain models without the strict
``claim_data`` validation: a claim with an invalid NPI or an unknown member must
still be read so the 277CA can reject it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from pydantic import BaseModel

from claimdesk.x12._errors import X12Error
from claimdesk.x12._tokenize import SegmentReader, parse_date_text

Seg = tuple[int, list[str]]


class EnvelopeFault(Exception):
    """An interchange the simulator answers with a rejecting TA1 (TA105 ``code``)."""

    def __init__(self, code: str, control_number: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.control_number = control_number


@dataclass
class SyntaxIssue:
    """One IK3 (with an optional IK4)."""

    segment_id: str
    position: int  # within the set, ST = 1
    loop: str
    code: str  # IK304
    element: int | None = None  # IK401
    element_ref: str = ""  # IK402
    element_code: str = ""  # IK403


@dataclass
class TransactionSet:
    set_id: str
    control_number: str
    implementation: str
    segments: list[list[str]]
    issues: list[SyntaxIssue] = field(default_factory=list)
    set_errors: list[str] = field(default_factory=list)  # IK502 codes besides 5

    @property
    def accepted(self) -> bool:
        return not self.issues and not self.set_errors


@dataclass
class Group:
    functional_id: str
    control_number: str
    version: str
    sets: list[TransactionSet]
    group_errors: list[str] = field(default_factory=list)  # AK905


@dataclass
class Interchange:
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: str
    usage: str
    component: str
    repetition: str | None
    groups: list[Group]


def read_isa13(data: bytes) -> str:
    """ISA13 of ``data`` when its ISA can be read, else '000000000'."""
    try:
        for _position, elements in SegmentReader(data):
            return elements[13].strip() if len(elements) > 13 else "000000000"
    except X12Error:
        pass
    return "000000000"


def read_interchange(data: bytes) -> Interchange:
    """The one interchange in ``data``; EnvelopeFault when its envelope is broken."""
    reader = SegmentReader(data)
    control = read_isa13(data)
    try:
        segments = list(reader)
    except X12Error as exc:
        raise EnvelopeFault("022", control, f"unreadable interchange: {exc.message}") from exc
    if not segments or segments[0][1][0] != "ISA":
        raise EnvelopeFault("024", control, "no ISA")
    isa = segments[0][1]
    if len(isa) != 17:
        raise EnvelopeFault("022", control, "ISA does not have 16 elements")
    if isa[12].strip() != "00501":
        raise EnvelopeFault("017", control, "ISA12 is not 00501")
    if isa[15].strip() not in ("T", "P"):
        raise EnvelopeFault("020", control, "ISA15 is not T or P")
    if not control.isdecimal() or len(control) != 9:
        raise EnvelopeFault("018", control, "ISA13 is not nine digits")
    if reader.interchange_count != 1:
        raise EnvelopeFault("026", control, "more than one interchange in the payload")
    iea = segments[-1][1]
    if iea[0] != "IEA":
        raise EnvelopeFault("023", control, "the interchange ends without an IEA")
    if len(iea) < 3 or iea[2].strip() != control:
        raise EnvelopeFault("001", control, "IEA02 does not match ISA13")
    assert reader.delimiters is not None
    groups = _read_groups(segments[1:-1], control)
    if len(iea) < 2 or iea[1] != str(len(groups)):
        raise EnvelopeFault("021", control, "IEA01 does not count the groups")
    return Interchange(
        sender_qualifier=isa[5].strip(),
        sender_id=isa[6].strip(),
        receiver_qualifier=isa[7].strip(),
        receiver_id=isa[8].strip(),
        control_number=control,
        usage=isa[15].strip(),
        component=reader.delimiters.component,
        repetition=reader.delimiters.repetition,
        groups=groups,
    )


def _read_groups(segments: list[Seg], control: str) -> list[Group]:
    groups: list[Group] = []
    group: Group | None = None
    current: TransactionSet | None = None
    for _position, elements in segments:
        seg_id = elements[0]
        if current is not None:
            current.segments.append(elements)
            if seg_id == "SE":
                _check_trailer(current)
                group_sets = group.sets if group else []
                group_sets.append(current)
                current = None
            elif seg_id in ("ST", "GS", "GE", "ISA", "IEA"):
                raise EnvelopeFault("024", control, f"{seg_id} inside a transaction set")
        elif seg_id == "GS":
            if group is not None:
                raise EnvelopeFault("024", control, "GS inside a group")
            group = Group(
                element_at(elements, 1), element_at(elements, 6), element_at(elements, 8), []
            )
        elif seg_id == "ST":
            if group is None:
                raise EnvelopeFault("024", control, "ST outside a group")
            current = TransactionSet(
                element_at(elements, 1),
                element_at(elements, 2),
                element_at(elements, 3) or group.version,
                [elements],
            )
        elif seg_id == "GE":
            if group is None:
                raise EnvelopeFault("024", control, "GE without GS")
            if element_at(elements, 1) != str(len(group.sets)):
                group.group_errors.append("5")
            if element_at(elements, 2) != group.control_number:
                group.group_errors.append("4")
            groups.append(group)
            group = None
        else:
            raise EnvelopeFault("024", control, f"{seg_id} outside a transaction set")
    if current is not None or group is not None:
        raise EnvelopeFault("024", control, "a group or set is not closed")
    return groups


def _check_trailer(ts: TransactionSet) -> None:
    se = ts.segments[-1]
    if element_at(se, 1) != str(len(ts.segments)):
        ts.set_errors.append("4")
    if element_at(se, 2) != ts.control_number:
        ts.set_errors.append("3")


def element_at(elements: list[str], index: int) -> str:
    return elements[index] if len(elements) > index else ""


# --- 837 syntax ----------------------------------------------------------------------------

_KNOWN_837 = frozenset(
    "ST BHT NM1 PER N3 N4 REF HL PRV SBR PAT DMG CLM DTP PWK CN1 AMT K3 NTE CR1 CR2 CRC HI HCP "
    "CL1 LX SV1 SV2 SV5 QTY MEA CN1 PS1 LIN CTP SVD CAS OI MOA MIA LQ FRM SE".split()
)
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def check_837_syntax(ts: TransactionSet) -> None:
    """Add IK3/IK4 issues for what a clearinghouse's syntax pass would refuse."""
    loop = "ST"
    seen_bht = False
    claim_has_hi = True
    claim_position = 0
    claims = 0
    component_split = re.compile(r"[:>^|]")
    for position, elements in enumerate(ts.segments, start=1):
        seg_id = elements[0]
        issue = None
        if not _SEGMENT_ID.match(seg_id) or seg_id not in _KNOWN_837:
            issue = SyntaxIssue(seg_id[:3] or "XXX", position, loop, "1")
        elif seg_id == "BHT":
            seen_bht = True
        elif seg_id == "HL":
            loop = {"20": "2000A", "22": "2000B", "23": "2000C"}.get(
                element_at(elements, 3), "2000"
            )
            if not claim_has_hi:
                ts.issues.append(SyntaxIssue("HI", claim_position, "2300", "3"))
            claim_has_hi = True
        elif seg_id == "CLM":
            if not claim_has_hi:
                ts.issues.append(SyntaxIssue("HI", claim_position, "2300", "3"))
            loop, claims, claim_has_hi, claim_position = "2300", claims + 1, False, position
            if not element_at(elements, 1):
                issue = SyntaxIssue("CLM", position, loop, "8", 1, "1028", "1")
            elif _decimal(element_at(elements, 2)) is None:
                code = "1" if not element_at(elements, 2) else "6"
                issue = SyntaxIssue("CLM", position, loop, "8", 2, "782", code)
            elif len(component_split.split(element_at(elements, 5))) < 3:
                issue = SyntaxIssue("CLM", position, loop, "8", 5, "C023", "1")
        elif seg_id == "HI":
            claim_has_hi = True
        elif seg_id == "LX":
            loop = "2400"
        elif seg_id in ("SV1", "SV2"):
            amount = 2 if seg_id == "SV1" else 3
            if not element_at(elements, 1) and seg_id == "SV1":
                issue = SyntaxIssue(seg_id, position, loop, "8", 1, "C003", "1")
            elif _decimal(element_at(elements, amount)) is None:
                code = "1" if not element_at(elements, amount) else "6"
                issue = SyntaxIssue(seg_id, position, loop, "8", amount, "782", code)
        elif seg_id == "DTP" and element_at(elements, 2) in ("D8", "RD8"):
            start, _, end = element_at(elements, 3).partition("-")
            if parse_date_text(start) is None or (end and parse_date_text(end) is None):
                issue = SyntaxIssue("DTP", position, loop, "8", 3, "1251", "8")
        if issue is not None:
            ts.issues.append(issue)
    if not claim_has_hi:
        ts.issues.append(SyntaxIssue("HI", claim_position, "2300", "3"))
    if not seen_bht:
        ts.issues.append(SyntaxIssue("BHT", 2, "ST", "3"))
    if claims == 0:
        ts.issues.append(SyntaxIssue("CLM", len(ts.segments), "2300", "3"))


# --- 837 content -----------------------------------------------------------------------------


class InLine(BaseModel):
    number: int
    qualifier: str = "HC"
    procedure: str = ""
    modifiers: list[str] = []
    revenue_code: str = ""
    charge: Decimal
    units: Decimal = Decimal(1)
    service_date: date | None = None
    service_date_end: date | None = None
    control_number: str = ""  # REF*6R
    pointers: list[str] = []


class Person(BaseModel):
    last_name: str = ""
    first_name: str = ""
    member_id: str = ""
    birth_date: date | None = None
    gender: str = ""


class InClaim(BaseModel):
    """One 2300 claim as received."""

    kind: str  # P or I
    patient_control_number: str
    total_charge: Decimal
    facility_code: str
    frequency: str
    claim_ref: str = ""  # REF*D9
    original_ref: str = ""  # REF*F8
    prior_authorization: str = ""  # REF*G1
    diagnoses: list[str] = []
    billing_npi: str = ""
    billing_name: str = ""
    billing_tax_id: str = ""
    rendering_npi: str = ""
    subscriber: Person = Person()
    patient: Person | None = None
    payer_id: str = ""
    payer_name: str = ""
    filing_indicator: str = "CI"
    has_other_payer: bool = False
    statement_from: date | None = None
    statement_through: date | None = None
    lines: list[InLine] = []

    @property
    def first_service_date(self) -> date | None:
        dates = [line.service_date for line in self.lines if line.service_date]
        return min(dates) if dates else self.statement_from

    @property
    def last_service_date(self) -> date | None:
        dates = [line.service_date_end or line.service_date for line in self.lines]
        known = [d for d in dates if d]
        return max(known) if known else self.statement_through


def person_from(elements: list[str]) -> Person:
    return Person(
        last_name=element_at(elements, 3),
        first_name=element_at(elements, 4),
        member_id=element_at(elements, 9),
    )


def period_from(text: str) -> tuple[date | None, date | None]:
    start, _, end = text.partition("-")
    return parse_date_text(start), parse_date_text(end) if end else None


def read_837_claims(ts: TransactionSet, component: str) -> list[InClaim]:
    """The claims of one syntactically accepted 837 set."""
    kind = "I" if "X223" in ts.implementation else "P"
    claims: list[InClaim] = []
    billing: dict[str, str] = {}
    subscriber = Person()
    patient: Person | None = None
    payer = ("", "")
    filing = "CI"
    level = ""
    claim: InClaim | None = None
    line: InLine | None = None
    in_other_payer = False
    last_nm1 = ""
    for elements in ts.segments[1:-1]:
        seg_id = elements[0]
        if seg_id == "HL":
            claim, line, in_other_payer, last_nm1 = None, None, False, ""
            level = element_at(elements, 3)
            if level == "22":
                subscriber, patient = Person(), None
            continue
        if seg_id == "NM1":
            last_nm1 = element_at(elements, 1)
            if in_other_payer:
                continue
            if last_nm1 == "85":
                billing = {
                    "npi": element_at(elements, 9),
                    "name": element_at(elements, 3),
                    "tax": "",
                }
            elif last_nm1 == "IL":
                subscriber = person_from(elements)
            elif last_nm1 == "QC":
                patient = person_from(elements)
            elif last_nm1 == "PR":
                payer = (element_at(elements, 9), element_at(elements, 3))
            elif last_nm1 in ("82", "71") and claim is not None and line is None:
                claim.rendering_npi = element_at(elements, 9)
        elif seg_id == "DMG":
            target = patient if last_nm1 == "QC" and patient else subscriber
            if last_nm1 in ("IL", "QC") and not in_other_payer:
                target.birth_date = parse_date_text(element_at(elements, 2))
                target.gender = element_at(elements, 3)
        elif seg_id == "SBR":
            if claim is not None:
                in_other_payer = True
                claim.has_other_payer = True
            else:
                filing = element_at(elements, 9) or "CI"
        elif (
            seg_id == "REF"
            and billing
            and claim is None
            and element_at(elements, 1) in ("EI", "SY")
        ):
            billing["tax"] = element_at(elements, 2)
        elif seg_id == "CLM":
            parts = re.split(re.escape(component), element_at(elements, 5))
            claim = InClaim(
                kind=kind,
                patient_control_number=element_at(elements, 1),
                total_charge=_decimal(element_at(elements, 2)) or Decimal(0),
                facility_code=parts[0],
                frequency=parts[2] if len(parts) > 2 else "1",
                billing_npi=billing.get("npi", ""),
                billing_name=billing.get("name", ""),
                billing_tax_id=billing.get("tax", ""),
                subscriber=subscriber.model_copy(),
                patient=patient.model_copy() if patient else None,
                payer_id=payer[0],
                payer_name=payer[1],
                filing_indicator=filing,
            )
            claims.append(claim)
            line, in_other_payer = None, False
        elif claim is None:
            continue
        elif seg_id == "REF" and line is None and not in_other_payer:
            qualifier, value = element_at(elements, 1), element_at(elements, 2)
            if qualifier == "D9":
                claim.claim_ref = value
            elif qualifier == "F8":
                claim.original_ref = value
            elif qualifier == "G1":
                claim.prior_authorization = value
        elif seg_id == "HI" and not in_other_payer:
            for composite in elements[1:]:
                parts = composite.split(component)
                if len(parts) > 1 and parts[0] in ("ABK", "ABF", "BK", "BF", "ABJ"):
                    claim.diagnoses.append(parts[1])
        elif seg_id == "DTP" and line is None:
            if element_at(elements, 1) == "434":
                claim.statement_from, claim.statement_through = period_from(element_at(elements, 3))
        elif seg_id == "LX":
            in_other_payer = False
            line = InLine(
                number=int(element_at(elements, 1) or len(claim.lines) + 1), charge=Decimal(0)
            )
            claim.lines.append(line)
        elif line is not None and seg_id in ("SV1", "SV2"):
            _read_service(line, elements, component)
        elif line is not None and seg_id == "DTP" and element_at(elements, 1) == "472":
            line.service_date, line.service_date_end = period_from(element_at(elements, 3))
        elif line is not None and seg_id == "REF" and element_at(elements, 1) == "6R":
            line.control_number = element_at(elements, 2)
    return claims


def _read_service(line: InLine, elements: list[str], component: str) -> None:
    if elements[0] == "SV1":
        parts = element_at(elements, 1).split(component)
        line.charge = _decimal(element_at(elements, 2)) or Decimal(0)
        line.units = _decimal(element_at(elements, 4)) or Decimal(1)
        line.pointers = [p for p in element_at(elements, 7).split(component) if p]
    else:
        line.revenue_code = element_at(elements, 1)
        parts = element_at(elements, 2).split(component)
        line.charge = _decimal(element_at(elements, 3)) or Decimal(0)
        line.units = _decimal(element_at(elements, 5)) or Decimal(1)
    if len(parts) > 1:
        line.qualifier, line.procedure = parts[0], parts[1]
        line.modifiers = [m for m in parts[2:6] if m]


# --- 270 / 276 content -------------------------------------------------------------------------
