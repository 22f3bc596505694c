"""835 remittance advice (005010X221A1): one set per payee, balanced by construction.

BPR02 = ΣCLP04 − ΣPLB04; CLP03 − CLP04 = Σ CAS (all on the lines here);
SVC02 − SVC03 = Σ line CAS. A negative total is carried with a PLB FB
(forward balance) so BPR02 is never below zero. TRN02 is the EFT trace (or
check number), TRN03 "1" + the payer's tax id. Lines echo REF*6R; remarks go
in LQ*HE (line) and MOA (claim); reversals are CLP02 22 with every amount
negated and the original CLP07.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from claimdesk.payer_sim._x12 import C, Outbound, d8, segment, transaction, wrap
from claimdesk.payer_sim.adjudicate import ZERO, ClaimResult, LineResult
from claimdesk.payer_sim.config import PayerConfig
from claimdesk.payer_sim.inbound import InClaim

VERSION_835 = "005010X221A1"
# CLP06 (1032 without the 837-only codes): the 837's SBR09 when valid here; commercial
# (CI, BL, FI, 11) as 12 (PPO); anything else as ZZ.
_FILING = frozenset("12 13 14 15 16 17 AM CH DS HM LM MA MB MC OF TV VA WC ZZ".split())
_COMMERCIAL = frozenset({"CI", "BL", "FI", "11"})


def _filing(code: str) -> str:
    if code in _FILING:
        return code
    return "12" if code in _COMMERCIAL else "ZZ"


@dataclass(frozen=True)
class RemitClaim:
    claim: InClaim
    result: ClaimResult
    payer_claim_number: str
    received: date


@dataclass(frozen=True)
class ProviderAdjustment:
    reason: str  # PLB03-1: L6 interest, WO withhold, FB forward balance
    reference: str  # PLB03-2
    amount: Decimal  # positive reduces the payment


@dataclass
class Payment:
    """One 835 set: one payer, one payee, one EFT/check."""

    payer: PayerConfig
    payee_name: str
    payee_npi: str
    trace_number: str
    payment_date: date
    claims: list[RemitClaim]
    adjustments: list[ProviderAdjustment] = field(default_factory=list)

    @property
    def claim_total(self) -> Decimal:
        return sum((c.result.paid for c in self.claims), ZERO)

    def balance(self) -> Decimal:
        """BPR02, adding a PLB FB first when the total would be negative."""
        total = self.claim_total - sum((a.amount for a in self.adjustments), ZERO)
        if total < 0:
            del self.adjustments[5:]  # one PLB segment carries six
            total = self.claim_total - sum((a.amount for a in self.adjustments), ZERO)
        if total < 0:
            self.adjustments.append(ProviderAdjustment("FB", self.trace_number, total))
            total = ZERO
        return total


def _amount(value: Decimal) -> str:
    return format(value.normalize() if value == value.to_integral() else value, "f")


def _cas(adjustments: list[tuple[str, str, Decimal]]) -> list[str]:
    out = []
    for group in ("CO", "OA", "PI", "PR", "CR"):
        triplets = [(r, a) for g, r, a in adjustments if g == group]
        for start in range(0, len(triplets), 6):
            chunk = triplets[start : start + 6]
            elements: list[str | None] = [group]
            for reason, amount in chunk:
                elements += [reason, _amount(amount), None]
            out.append(segment("CAS", *elements))
    return out


def _service(line: LineResult) -> list[str]:
    composite = C.join([line.qualifier, line.procedure, *line.modifiers])
    out = [
        segment("SVC", composite, _amount(line.charge), _amount(line.paid),
                line.revenue_code or None, _amount(line.units)),
    ]  # fmt: skip
    if line.service_date is not None:
        if line.service_date_end and line.service_date_end != line.service_date:
            out.append(segment("DTM", "150", d8(line.service_date)))
            out.append(segment("DTM", "151", d8(line.service_date_end)))
        else:
            out.append(segment("DTM", "472", d8(line.service_date)))
    out += _cas([(c.group, c.reason, c.amount) for c in line.adjustments])
    if line.control_number:
        out.append(segment("REF", "6R", line.control_number))
    if line.allowed is not None:
        out.append(segment("AMT", "B6", _amount(line.allowed)))
    for remark in line.remarks[:99]:
        out.append(segment("LQ", "HE", remark))
    return out


def _claim(item: RemitClaim) -> list[str]:
    claim, result = item.claim, item.result
    filing = _filing(claim.filing_indicator)
    facility = claim.facility_code[:2] if claim.kind == "P" else claim.facility_code
    out = [
        segment("CLP", claim.patient_control_number, result.status, _amount(result.charge),
                _amount(result.paid), _amount(result.patient_responsibility), filing,
                item.payer_claim_number, facility or None, claim.frequency or None),
    ]  # fmt: skip
    patient = claim.patient or claim.subscriber
    out.append(
        segment("NM1", "QC", "1", patient.last_name or "UNKNOWN", patient.first_name or None,
                None, None, None, "MI", claim.subscriber.member_id or "UNKNOWN")
    )  # fmt: skip
    if claim.patient is not None:
        sub = claim.subscriber
        out.append(
            segment("NM1", "IL", "1", sub.last_name or "UNKNOWN", sub.first_name or None,
                    None, None, None, "MI", sub.member_id or "UNKNOWN")
        )  # fmt: skip
    if claim.rendering_npi:
        out.append(segment("NM1", "82", "1", "PROVIDER", None, None, None, None, "XX",
                           claim.rendering_npi))  # fmt: skip
    if result.claim_remarks:
        out.append(segment("MOA", None, None, *result.claim_remarks[:5]))
    if claim.claim_ref:
        out.append(segment("REF", "EA", claim.claim_ref))
    if claim.kind == "I" and claim.statement_from:
        out.append(segment("DTM", "232", d8(claim.statement_from)))
        out.append(segment("DTM", "233", d8(claim.statement_through or claim.statement_from)))
    out.append(segment("DTM", "050", d8(item.received)))
    for line in result.lines:
        out += _service(line)
    return out


def _payment_body(payment: Payment) -> list[str]:
    payer = payment.payer
    total = payment.balance()
    when = d8(payment.payment_date)
    if total > 0:
        bpr = segment("BPR", "I", _amount(total), "C", "ACH", "CCP", "01", "011000015", "DA",
                      "1234567890", f"1{payer.tax_id}", None, "01", "021000021", "DA",
                      "9876543210", when)  # fmt: skip
    else:
        bpr = segment("BPR", "H", "0", "C", "NON", None, None, None, None, None, None, None,
                      None, None, None, None, when)  # fmt: skip
    body = [
        bpr,
        segment("TRN", "1", payment.trace_number, f"1{payer.tax_id}"),
        segment("DTM", "405", when),
        segment("N1", "PR", payer.name),
        segment("N3", "100 PAYER PLAZA"),
        segment("N4", "HARRISBURG", "PA", "17101"),
        segment("PER", "BL", "PROVIDER TECHNICAL SERVICES", "TE", "8005550100"),
        segment("N1", "PE", payment.payee_name or "PAYEE", "XX", payment.payee_npi),
        segment("LX", "1"),
    ]
    for item in payment.claims:
        body += _claim(item)
    fiscal_end = d8(date(payment.payment_date.year, 12, 31))
    # One PLB with up to six adjustments (pyx12 counts each PLB as a new footer loop).
    pairs: list[str | None] = []
    for adjustment in payment.adjustments[:6]:
        pairs += [C.join([adjustment.reason, adjustment.reference]), _amount(adjustment.amount)]
    if pairs:
        body.append(segment("PLB", payment.payee_npi, fiscal_end, *pairs))
    return body


def emit_835(out: Outbound, payments: list[Payment]) -> bytes:
    """One interchange, one 835 set per payment (payee)."""
    sets = [
        transaction("835", n, None, _payment_body(p))  # the 835 TR3 does not use ST03
        for n, p in enumerate(payments, start=1)
    ]
    return wrap(out, "HP", VERSION_835, sets)
