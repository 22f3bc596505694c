"""271 eligibility responses (005010X279A1), one set per inquiry (claimdesk reads one
subscriber per set).

Found and active: EB*1 with the plan (REF*18 plan, REF*6P group), EB*B copay,
EB*A coinsurance, EB*C deductible remaining and EB*G out-of-pocket remaining
(EB06 29 "remaining"), DTP*346 plan begin. Inactive: EB*6. Terminated: EB*6 with
DTP*347 plan end. Another payer primary: EB*R with LS/NM1*PR/LE naming it.
Refused: AAA*N**75 (subscriber not found) or AAA*N**71 (birth date does not match).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from claimdesk.payer_sim._x12 import Outbound, d8, segment, transaction, wrap
from claimdesk.payer_sim.config import PayerConfig, RosterMember
from claimdesk.payer_sim.inquiries import EligibilityQuestion

VERSION_271 = "005010X279A1"


@dataclass(frozen=True)
class EligibilityAnswer:
    question: EligibilityQuestion
    member: RosterMember | None
    rejection: str = ""  # AAA03: 75 not found, 71 birth date mismatch


def _amount(value: Decimal) -> str:
    return format(value, "f")


def _benefits(member: RosterMember, payer: PayerConfig, on: date) -> list[str]:
    ended = member.coverage_end is not None and member.coverage_end < on
    plan = member.plan
    if member.status == "terminated" or ended:
        out = [segment("EB", "6", "IND", "30", payer.insurance_type, plan)]
        if member.coverage_end is not None:
            out.append(segment("DTP", "347", "D8", d8(member.coverage_end)))
        out.append(segment("MSG", "COVERAGE TERMINATED"))
        return out
    if member.status == "inactive":
        return [segment("EB", "6", "IND", "30", payer.insurance_type, plan)]
    out = [
        segment("EB", "1", "IND", "30", payer.insurance_type, plan),
        segment("DTP", "346", "D8", d8(member.coverage_start)),
    ]
    if member.copay:
        out.append(segment("EB", "B", "IND", "98", None, None, "27", _amount(member.copay)))
    if member.coinsurance_percent:
        share = (member.coinsurance_percent / Decimal(100)).normalize()
        out.append(segment("EB", "A", "IND", "30", None, None, None, None, format(share, "f")))
    out.append(segment("EB", "C", "IND", "30", None, None, "29",
                       _amount(member.deductible_remaining)))  # fmt: skip
    out.append(segment("EB", "G", "IND", "30", None, None, "29",
                       _amount(member.out_of_pocket_remaining)))  # fmt: skip
    if member.other_payer_primary:
        out += [
            segment("EB", "R", "IND", "30"),
            segment("LS", "2120"),
            segment("NM1", "PR", "2", member.other_payer_primary),
            segment("LE", "2120"),
        ]
    return out


def _set_body(answer: EligibilityAnswer, payer: PayerConfig, bht03: str, today: date,
              trace: str) -> list[str]:  # fmt: skip
    q = answer.question
    body = [
        segment("BHT", "0022", "11", bht03 or trace, d8(today), "1200"),
        segment("HL", "1", None, "20", "1"),
        segment("NM1", "PR", "2", payer.name, None, None, None, None, "PI", payer.payer_id),
        segment("HL", "2", "1", "21", "1"),
        segment("NM1", "1P", "2", q.provider_name or "PROVIDER", None, None, None, None, "XX",
                q.provider_npi or "0000000000"),
        segment("HL", "3", "2", "22", "0"),
    ]  # fmt: skip
    if q.trace_number:
        body.append(segment("TRN", "2", q.trace_number, q.trace_originator or "9SIMPAYER0"))
    body.append(segment("TRN", "1", trace, f"9{payer.payer_id[:9]:0<9}"))
    member = answer.member
    person = q.member
    if member is None or answer.rejection:
        body.append(
            segment("NM1", "IL", "1", person.last_name or "UNKNOWN", person.first_name or None,
                    None, None, None, "MI", person.member_id or None)
        )  # fmt: skip
        body.append(segment("AAA", "N", None, answer.rejection or "75", "C"))
        return body
    body += [
        segment("NM1", "IL", "1", member.last_name, member.first_name, None, None, None, "MI",
                member.member_id),
        segment("REF", "18", member.plan[:50]),
        segment("REF", "6P", member.group_number),
        segment("DMG", "D8", d8(member.birth_date), member.gender),
        segment("DTP", "291", "D8", d8(q.service_date or today)),
    ]  # fmt: skip
    body += _benefits(member, payer, q.service_date or today)
    return body


def emit_271(out: Outbound, payer: PayerConfig, bht03: str, answers: list[EligibilityAnswer],
             today: date) -> bytes:  # fmt: skip
    """One 271 set per answered inquiry, in one interchange."""
    sets = [
        transaction("271", n, VERSION_271,
                    _set_body(a, payer, bht03, today, f"{out.interchange}-{n}"))
        for n, a in enumerate(answers, start=1)
    ]  # fmt: skip
    return wrap(out, "HB", VERSION_271, sets)
