"""276 claim status inquiry writer (005010X212).

HL 20 information source (payer) → HL 21 information receiver (clearinghouse
or submitter) → HL 19 service provider → HL 22 subscriber → HL 23 dependent,
with the claim's TRN/REF/AMT/DTP under the lowest level. Consecutive inquiries
share source, receiver and provider HLs; every inquiry has its own HL 22.
"""

from __future__ import annotations

from claimdesk.x12._serialize import (
    finish_interchange,
    format_amount,
    format_date,
    format_period,
    segment,
    transaction_set,
)
from claimdesk.x12._write_837 import _nm1
from claimdesk.x12.claim_data import StatusBatch276, StatusInquiry

VERSION_276 = "005010X212"


def write_276(batch: StatusBatch276, *, newline: bool = False) -> bytes:
    """The 276 interchange for ``batch``."""
    created = batch.created_at
    body = [
        segment(
            "BHT", "0010", "13", batch.reference_id, format_date(created.date()),
            created.strftime("%H%M"),
        )
    ]  # fmt: skip
    hl = source_hl = receiver_hl = provider_hl = 0
    source = receiver = provider = None
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
        new_receiver = new_source or inquiry.information_receiver != receiver
        if new_receiver:
            hl += 1
            receiver_hl = hl
            receiver = inquiry.information_receiver
            body.append(segment("HL", str(hl), str(source_hl), "21", "1"))
            body.append(
                segment("NM1", "41", "2", receiver.name, None, None, None, None, "46",
                        receiver.identifier)
            )  # fmt: skip
        if new_receiver or inquiry.service_provider != provider:
            hl += 1
            provider_hl = hl
            provider = inquiry.service_provider
            body.append(segment("HL", str(hl), str(receiver_hl), "19", "1"))
            body.append(_nm1("1P", provider, "XX", provider.npi))
        hl += 1
        body.extend(_subscriber_levels(inquiry, hl, provider_hl))
        if inquiry.dependent is not None:
            hl += 1
    st_set = transaction_set("276", batch.control, VERSION_276, body)
    return finish_interchange(
        envelope=batch.envelope,
        control=batch.control,
        created_at=created,
        functional_id="HR",
        version=VERSION_276,
        transaction_set=st_set,
        newline=newline,
    )


def _subscriber_levels(inquiry: StatusInquiry, hl: int, parent: int) -> list[str]:
    subscriber = inquiry.subscriber
    dependent = inquiry.dependent
    out = [segment("HL", str(hl), str(parent), "22", "0" if dependent is None else "1")]
    if dependent is None and subscriber.birth_date is not None:
        out.append(segment("DMG", "D8", format_date(subscriber.birth_date), subscriber.gender))
    out.append(_nm1("IL", subscriber, "MI", subscriber.member_id))
    if dependent is None:
        out.extend(_claim(inquiry))
        return out
    out.append(segment("HL", str(hl + 1), str(hl), "23"))
    out.append(segment("DMG", "D8", format_date(dependent.birth_date), dependent.gender))
    out.append(_nm1("QC", dependent, None, None))
    out.extend(_claim(inquiry))
    return out


def _claim(inquiry: StatusInquiry) -> list[str]:
    out = [segment("TRN", "1", inquiry.trace_number)]
    if inquiry.payer_claim_number is not None:
        out.append(segment("REF", "1K", inquiry.payer_claim_number))
    if inquiry.bill_type is not None:
        out.append(segment("REF", "BLT", inquiry.bill_type))
    if inquiry.patient_control_number is not None:
        out.append(segment("REF", "EJ", inquiry.patient_control_number))
    if inquiry.total_charge is not None:
        out.append(segment("AMT", "T3", format_amount(inquiry.total_charge)))
    qualifier, period = format_period(inquiry.service_from, inquiry.service_through)
    out.append(segment("DTP", "472", qualifier, period))
    return out
