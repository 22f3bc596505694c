"""The eligibility (270) and status (276) questions a submitter asks the simulator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from claimdesk.payer_sim.inbound import (
    Person,
    TransactionSet,
    _decimal,
    element_at,
    period_from,
    person_from,
)
from claimdesk.x12._tokenize import parse_date_text


class EligibilityQuestion(BaseModel):
    payer_id: str = ""
    payer_name: str = ""
    provider_npi: str = ""
    provider_name: str = ""
    member: Person = Person()
    dependent: Person | None = None
    trace_number: str = ""
    trace_originator: str = ""
    service_date: date | None = None
    service_types: list[str] = []


def read_270(ts: TransactionSet) -> tuple[str, list[EligibilityQuestion]]:
    """(BHT03, the inquiries) of one 270 set."""
    bht03 = ""
    payer = ("", "")
    provider = ("", "")
    questions: list[EligibilityQuestion] = []
    current: EligibilityQuestion | None = None
    last_nm1 = ""
    for elements in ts.segments[1:-1]:
        seg_id = elements[0]
        if seg_id == "BHT":
            bht03 = element_at(elements, 3)
        elif seg_id == "HL":
            level = element_at(elements, 3)
            if level == "22":
                current = EligibilityQuestion(
                    payer_id=payer[0], payer_name=payer[1],
                    provider_npi=provider[0], provider_name=provider[1],
                )  # fmt: skip
                questions.append(current)
            elif level == "23" and current is not None:
                current.dependent = Person()
        elif seg_id == "NM1":
            last_nm1 = element_at(elements, 1)
            if last_nm1 == "PR":
                payer = (element_at(elements, 9), element_at(elements, 3))
            elif last_nm1 in ("1P", "FA", "80", "2B"):
                provider = (element_at(elements, 9), element_at(elements, 3))
            elif last_nm1 == "IL" and current is not None:
                current.member = person_from(elements)
            elif last_nm1 == "03" and current is not None:
                current.dependent = person_from(elements)
        elif current is None:
            continue
        elif seg_id == "TRN" and not current.trace_number:
            current.trace_number, current.trace_originator = (
                element_at(elements, 2),
                element_at(elements, 3),
            )
        elif seg_id == "DMG":
            person = current.dependent if last_nm1 == "03" and current.dependent else current.member
            person.birth_date = parse_date_text(element_at(elements, 2))
            person.gender = element_at(elements, 3)
        elif seg_id == "DTP" and element_at(elements, 1) == "291":
            current.service_date = period_from(element_at(elements, 3))[0]
        elif seg_id == "EQ":
            current.service_types.append(element_at(elements, 1))
    return bht03, questions


class StatusQuestion(BaseModel):
    payer_id: str = ""
    payer_name: str = ""
    receiver_id: str = ""
    receiver_name: str = ""
    provider_npi: str = ""
    provider_name: str = ""
    member: Person = Person()
    trace_number: str = ""
    payer_claim_number: str = ""
    patient_control_number: str = ""
    total_charge: Decimal | None = None
    service_from: date | None = None
    service_through: date | None = None


def read_276(ts: TransactionSet) -> tuple[str, list[StatusQuestion]]:
    """(BHT03, the inquiries) of one 276 set."""
    bht03 = ""
    parties: dict[str, tuple[str, str]] = {}
    member = Person()
    questions: list[StatusQuestion] = []
    current: StatusQuestion | None = None
    for elements in ts.segments[1:-1]:
        seg_id = elements[0]
        if seg_id == "BHT":
            bht03 = element_at(elements, 3)
        elif seg_id == "HL":
            current = None
        elif seg_id == "NM1":
            code = element_at(elements, 1)
            if code in ("IL", "QC"):
                if code == "IL":
                    member = person_from(elements)
                else:
                    member = member.model_copy(update={
                        "last_name": element_at(elements, 3), "first_name": element_at(elements, 4),
                    })  # fmt: skip
            else:
                parties[code] = (element_at(elements, 9), element_at(elements, 3))
        elif seg_id == "TRN":
            current = StatusQuestion(
                payer_id=parties.get("PR", ("", ""))[0],
                payer_name=parties.get("PR", ("", ""))[1],
                receiver_id=parties.get("41", ("", ""))[0],
                receiver_name=parties.get("41", ("", ""))[1],
                provider_npi=parties.get("1P", ("", ""))[0],
                provider_name=parties.get("1P", ("", ""))[1],
                member=member.model_copy(),
                trace_number=element_at(elements, 2),
            )
            questions.append(current)
        elif current is None:
            continue
        elif seg_id == "REF":
            if element_at(elements, 1) == "1K":
                current.payer_claim_number = element_at(elements, 2)
            elif element_at(elements, 1) == "EJ":
                current.patient_control_number = element_at(elements, 2)
        elif seg_id == "AMT" and element_at(elements, 1) == "T3":
            current.total_charge = _decimal(element_at(elements, 2))
        elif seg_id == "DTP" and element_at(elements, 1) == "472":
            current.service_from, current.service_through = period_from(element_at(elements, 3))
    return bht03, questions
