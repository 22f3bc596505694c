"""270 eligibility inquiry writer (005010X279A1).

HL 20 information source (payer) → HL 21 information receiver (provider) →
HL 22 subscriber → HL 23 dependent. Consecutive inquiries to the same source
and from the same receiver share those HLs; every inquiry has its own HL 22.
"""

from __future__ import annotations

from claimdesk.x12._serialize import (
    finish_interchange,
    format_date,
    segment,
    transaction_set,
)
from claimdesk.x12._write_837 import _address, _nm1
from claimdesk.x12.claim_data import EligibilityBatch270, EligibilityInquiry

VERSION_270 = "005010X279A1"


def write_270(batch: EligibilityBatch270, *, newline: bool = False) -> bytes:
    """The 270 interchange for ``batch``."""
    created = batch.created_at
    body = [
        segment(
            "BHT", "0022", "13", batch.reference_id, format_date(created.date()),
            created.strftime("%H%M"),
        )
    ]  # fmt: skip
    hl = source_hl = receiver_hl = 0
    source = receiver = None
    for inquiry in batch.inquiries:
        new_source = source is None or inquiry.information_source != source
        if new_source:
            hl += 1
            source_hl = hl
            source = inquiry.information_source
            body.append(segment("HL", str(hl), None, "20", "1"))
            body.append(
                segment("NM1", "PR", "2", source.name, None, None, None, None, "PI",
                        source.payer_id)
            )  # fmt: skip
        if new_source or inquiry.information_receiver != receiver:
            hl += 1
            receiver_hl = hl
            receiver = inquiry.information_receiver
            body.append(segment("HL", str(hl), str(source_hl), "21", "1"))
            body.append(_nm1("1P", receiver, "XX", receiver.npi))
        hl += 1
        body.extend(_subscriber_levels(inquiry, hl, receiver_hl))
        if inquiry.dependent is not None:
            hl += 1
    st_set = transaction_set("270", batch.control, VERSION_270, body)
    return finish_interchange(
        envelope=batch.envelope,
        control=batch.control,
        created_at=created,
        functional_id="HS",
        version=VERSION_270,
        transaction_set=st_set,
        newline=newline,
    )


def _subscriber_levels(inquiry: EligibilityInquiry, hl: int, parent: int) -> list[str]:
    subscriber = inquiry.subscriber
    dependent = inquiry.dependent
    trace = segment("TRN", "1", inquiry.trace_number, inquiry.trace_originator)
    out = [segment("HL", str(hl), str(parent), "22", "0" if dependent is None else "1")]
    if dependent is None:
        out.append(trace)
    out.append(_nm1("IL", subscriber, "MI", subscriber.member_id))
    out.extend(_address(subscriber.address))
    if subscriber.birth_date is not None:
        out.append(segment("DMG", "D8", format_date(subscriber.birth_date), subscriber.gender))
    if dependent is None:
        out.extend(_question(inquiry))
        return out
    out.append(segment("HL", str(hl + 1), str(hl), "23", "0"))
    out.append(trace)
    out.append(_nm1("03", dependent, None, None))
    out.extend(_address(dependent.address))
    out.append(segment("DMG", "D8", format_date(dependent.birth_date), dependent.gender))
    out.extend(_question(inquiry))
    return out


def _question(inquiry: EligibilityInquiry) -> list[str]:
    out = []
    if inquiry.service_date is not None:
        out.append(segment("DTP", "291", "D8", format_date(inquiry.service_date)))
    out.extend(segment("EQ", code) for code in inquiry.service_type_codes)
    return out
