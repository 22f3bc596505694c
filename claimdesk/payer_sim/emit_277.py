"""277 claim status responses (005010X212) to 276 inquiries.

STC per claim: A4:35 not found; A2:20 accepted, in adjudication; F1:65 paid;
F2:88 denied for eligibility (CO-26/27/31) and F2:107 denied otherwise;
F4:107 finalized with no payment (all patient responsibility); with the CLP
figures (STC04 charge, STC05 paid), adjudication date, EFT/check number and date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from claimdesk.payer_sim._x12 import C, Outbound, d8, period, segment, transaction, wrap
from claimdesk.payer_sim.config import PayerConfig
from claimdesk.payer_sim.inquiries import StatusQuestion

VERSION_277 = "005010X212"


@dataclass(frozen=True)
class StatusAnswer:
    question: StatusQuestion
    status: tuple[str, str]  # STC01-1, STC01-2
    charge: Decimal
    paid: Decimal | None = None
    adjudicated_on: date | None = None
    check_number: str = ""
    check_date: date | None = None
    payer_claim_number: str = ""
    patient_control_number: str = ""
    service_from: date | None = None
    service_through: date | None = None


def _claim(answer: StatusAnswer, today: date) -> list[str]:
    q = answer.question
    stc = segment(
        "STC", C.join(answer.status), d8(today), None, format(answer.charge, "f"),
        format(answer.paid, "f") if answer.paid is not None else None,
        d8(answer.adjudicated_on) if answer.adjudicated_on else None, None,
        d8(answer.check_date) if answer.check_date else None, answer.check_number or None,
    )  # fmt: skip
    out = [segment("TRN", "2", q.trace_number or "NONE"), stc]
    if answer.payer_claim_number:
        out.append(segment("REF", "1K", answer.payer_claim_number))
    pcn = answer.patient_control_number or q.patient_control_number
    if pcn:
        out.append(segment("REF", "EJ", pcn))
    start = answer.service_from or q.service_from
    if start is not None:
        out.append(
            segment("DTP", "472", *period(start, answer.service_through or q.service_through))
        )
    return out


def emit_277(out: Outbound, payer: PayerConfig, bht03: str, answers: list[StatusAnswer],
             today: date) -> bytes:  # fmt: skip
    """One 277 set answering every inquiry of a 276, one HL 22 per claim."""
    body = [segment("BHT", "0010", "08", bht03 or str(out.interchange), d8(today), "1200", "DG")]
    hl = 0
    for answer in answers:
        q = answer.question
        body += [
            segment("HL", str(hl + 1), None, "20", "1"),
            segment("NM1", "PR", "2", payer.name, None, None, None, None, "PI", payer.payer_id),
            segment("HL", str(hl + 2), str(hl + 1), "21", "1"),
            segment("NM1", "41", "2", q.receiver_name or "SUBMITTER", None, None, None, None,
                    "46", q.receiver_id or "UNKNOWN"),
            segment("HL", str(hl + 3), str(hl + 2), "19", "1"),
            segment("NM1", "1P", "2", q.provider_name or "PROVIDER", None, None, None, None,
                    "XX", q.provider_npi or "0000000000"),
            segment("HL", str(hl + 4), str(hl + 3), "22", "0"),
            segment("NM1", "IL", "1", q.member.last_name or "UNKNOWN",
                    q.member.first_name or None, None, None, None, "MI",
                    q.member.member_id or "UNKNOWN"),
        ]  # fmt: skip
        body += _claim(answer, today)
        hl += 4
    return wrap(out, "HN", VERSION_277, [transaction("277", 1, VERSION_277, body)])
