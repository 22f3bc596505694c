"""277CA claim acknowledgments (005010X214): which claims got in, which did not, and why.

Two senders answer each 837: the clearinghouse (STC A1:19 "accepted", or a
rejection) and then the payer (STC A2:20 "accepted into adjudication" with the
payer claim number in REF*1K). Rejections: A3:33:IL subscriber not found,
A7:562:85 / A7:562:82 invalid billing / rendering NPI, A3:21 other missing or
invalid information. Hierarchy: 20 source → 21 receiver → 19 billing provider →
PT patient, one PT per claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from claimdesk.payer_sim._x12 import C, Outbound, d8, period, segment, transaction, wrap
from claimdesk.payer_sim.inbound import InClaim

VERSION_277CA = "005010X214"


@dataclass(frozen=True)
class ClaimAck:
    claim: InClaim
    status: tuple[str, ...]  # STC01 composite parts, e.g. ("A2", "20") or ("A7", "562", "85")
    payer_claim_number: str = ""

    @property
    def accepted(self) -> bool:
        return self.status[0] in ("A1", "A2")


@dataclass(frozen=True)
class AckSource:
    """The sender of the 277CA (2100A) and the submitter it answers (2100B)."""

    name: str
    identifier: str
    receiver_name: str
    receiver_id: str
    batch_reference: str  # the 837's BHT03 / ISA13, echoed in 2200B TRN*2


def _stc(parts: tuple[str, ...], when: date | None, action: str, amount: Decimal) -> str:
    # STC02 is not used at the billing provider level (2200C), required elsewhere.
    return segment("STC", C.join(parts), d8(when) if when else None, action, format(amount, "f"))


def _totals(acks: list[ClaimAck], accepted_qty: str, rejected_qty: str) -> list[str]:
    accepted = [a for a in acks if a.accepted]
    rejected = [a for a in acks if not a.accepted]
    out = []
    if accepted:
        out.append(segment("QTY", accepted_qty, str(len(accepted))))
    if rejected:
        out.append(segment("QTY", rejected_qty, str(len(rejected))))
    if accepted:
        total = sum((a.claim.total_charge for a in accepted), Decimal(0))
        out.append(segment("AMT", "YU", format(total, "f")))
    if rejected:
        total = sum((a.claim.total_charge for a in rejected), Decimal(0))
        out.append(segment("AMT", "YY", format(total, "f")))
    return out


def _body(source: AckSource, acks: list[ClaimAck], today: date, trace: str) -> list[str]:
    stage = "A2" if any(a.status[0] == "A2" for a in acks) else "A1"
    all_total = sum((a.claim.total_charge for a in acks), Decimal(0))
    body = [
        segment("BHT", "0085", "08", trace, d8(today), "1200", "TH"),
        segment("HL", "1", None, "20", "1"),
        segment("NM1", "PR", "2", source.name, None, None, None, None, "46", source.identifier),
        segment("TRN", "1", trace),
        segment("DTP", "050", "D8", d8(today)),
        segment("DTP", "009", "D8", d8(today)),
        segment("HL", "2", "1", "21", "1"),
        segment("NM1", "41", "2", source.receiver_name, None, None, None, None, "46",
                source.receiver_id),
        segment("TRN", "2", source.batch_reference),
        _stc((stage, "19" if stage == "A1" else "20"), today, "WQ", all_total),
        *_totals(acks, "90", "AA"),
    ]  # fmt: skip
    hl = 2
    by_provider: dict[tuple[str, str], list[ClaimAck]] = {}
    for ack in acks:
        key = (ack.claim.billing_npi, ack.claim.billing_name)
        by_provider.setdefault(key, []).append(ack)
    for number, ((npi, name), provider_acks) in enumerate(by_provider.items(), start=1):
        hl += 1
        provider_hl = hl
        total = sum((a.claim.total_charge for a in provider_acks), Decimal(0))
        body += [
            segment("HL", str(hl), "2", "19", "1"),
            segment("NM1", "85", "2", name or "BILLING PROVIDER", None, None, None, None, "XX",
                    npi or "0000000000"),
            segment("TRN", "1", f"{trace}P{number}"),
            _stc((stage, "19" if stage == "A1" else "20"), None, "WQ", total),
            *_totals(provider_acks, "QA", "QC"),
        ]  # fmt: skip
        for ack in provider_acks:
            hl += 1
            body += _patient(ack, hl, provider_hl, today)
    return body


def _patient(ack: ClaimAck, hl: int, parent: int, today: date) -> list[str]:
    claim = ack.claim
    person = claim.patient or claim.subscriber
    member_id = claim.subscriber.member_id or "UNKNOWN"
    action = "WQ" if ack.accepted else "U"
    out = [
        segment("HL", str(hl), str(parent), "PT"),
        segment("NM1", "QC", "1", person.last_name or "UNKNOWN", person.first_name or None,
                None, None, None, "MI", member_id),
        segment("TRN", "2", claim.patient_control_number),
        _stc(ack.status, today, action, claim.total_charge),
    ]  # fmt: skip
    if ack.accepted and ack.payer_claim_number:
        out.append(segment("REF", "1K", ack.payer_claim_number))
    if claim.claim_ref:
        out.append(segment("REF", "D9", claim.claim_ref))
    first, last = claim.first_service_date, claim.last_service_date
    if first is not None:
        if claim.kind == "I":
            out.append(segment("DTP", "472", "RD8", f"{d8(first)}-{d8(last or first)}"))
        else:
            out.append(segment("DTP", "472", *period(first, last)))
    else:
        out.append(segment("DTP", "472", "D8", d8(today)))
    return out


def emit_277ca(
    out: Outbound, source: AckSource, acks: list[ClaimAck], today: date, trace: str
) -> bytes:
    """One 277CA set acknowledging ``acks`` (claims of one received 837)."""
    body = _body(source, acks, today, trace)
    return wrap(out, "HN", VERSION_277CA, [transaction("277", 1, VERSION_277CA, body)])
