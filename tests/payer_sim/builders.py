"""837/270/276 builders for the payer simulator tests, on claimdesk's own writers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from claimdesk.x12._write_270 import write_270
from claimdesk.x12._write_276 import write_276
from claimdesk.x12._write_837 import write_837
from claimdesk.x12.claim_data import (
    Address,
    BillingProvider,
    Claim837,
    ClaimBatch837,
    ControlNumbers,
    EligibilityBatch270,
    EligibilityInquiry,
    EnvelopeParties,
    PayerRef,
    PersonName,
    Provider,
    Receiver,
    ServiceLine,
    StatusBatch276,
    StatusInquiry,
    Submitter,
    Subscriber,
)
from claimdesk.x12.npi import npi_check_digit

SERVICE_DATE = date(2025, 3, 3)
CLOCK_START = date(2025, 3, 10)


def make_npi(n: int) -> str:
    prefix = f"{100000000 + n:09d}"
    return prefix + str(npi_check_digit(prefix))


ENVELOPE = EnvelopeParties(
    sender_id="CLAIMDESK", receiver_id="SIMCH",
    application_sender_code="CLAIMDESK", application_receiver_code="SIMCH",
)  # fmt: skip
BILLING = BillingProvider(
    entity_type="2", last_name="JONES CLINIC", npi=make_npi(1), tax_id="567891234",
    address=Address(line1="1 MAIN ST", city="CENTERVILLE", state="PA", postal_code="171111234"),
)  # fmt: skip
DOCTOR = Provider(last_name="KILDARE", first_name="BEN", npi=make_npi(2))
SIM_PAYER = PayerRef(name="SIM HEALTH PLAN", payer_id="SIMPAYER")
SUBMITTER = Submitter(
    name=PersonName(entity_type="2", last_name="JONES CLINIC"), identifier="CLAIMDESK",
    contact_name="JANE ROE", phone="8005551234",
)  # fmt: skip
MEMBERS = {
    "M1001": ("DOE", "JANE", date(1980, 4, 12), "F"),
    "M1002": ("SMITH", "JOHN", date(1975, 9, 30), "M"),
    "M1005": ("WILSON", "LINDA", date(1985, 3, 3), "F"),
    "MCR2001": ("GREEN", "HAROLD", date(1950, 11, 2), "M"),
    "NOBODY": ("NOBODY", "NO", date(1999, 1, 1), "U"),
    # Added to the simulator's roster by the gateway boundary tests (POST /admin/roster).
    "GW100": ("ACTIVE", "ANNA", date(1982, 2, 2), "F"),
    "GW200": ("INACTIVE", "IVAN", date(1970, 6, 6), "M"),
}


def roster_entry(member_id: str, payer_id: str, **overrides: object) -> dict[str, object]:
    """The ``POST /admin/roster`` item for one of ``MEMBERS``."""
    last, first, birth, gender = MEMBERS[member_id]
    return {
        "member_id": member_id, "first_name": first, "last_name": last,
        "birth_date": birth.isoformat(), "gender": gender, "payer_id": payer_id, **overrides,
    }  # fmt: skip


def make_claim(
    index: int,
    member_id: str = "M1001",
    codes: tuple[str, ...] = ("99213",),
    *,
    version: int = 1,
    frequency: str = "1",
    original: str | None = None,
    auth: str | None = None,
    diagnoses: tuple[str, ...] = ("J020",),
    service_date: date = SERVICE_DATE,
    payer: PayerRef = SIM_PAYER,
) -> Claim837:
    last, first, birth, gender = MEMBERS[member_id]
    lines = tuple(
        ServiceLine(line_number=n, procedure_code=code, charge=Decimal("150.00"),
                    units=Decimal(1), place_of_service="11", diagnosis_pointers=(1,),
                    service_date=service_date, line_item_control_number=f"C{index}L{n}")
        for n, code in enumerate(codes, start=1)
    )  # fmt: skip
    return Claim837(
        billing_provider=BILLING,
        subscriber=Subscriber(
            last_name=last, first_name=first, member_id=member_id, birth_date=birth, gender=gender
        ),
        payer=payer,
        patient_control_number=f"PCN{index}",
        total_charge=sum((line.charge for line in lines), Decimal("0.00")),
        facility_code="11",
        frequency_code=frequency,  # type: ignore[arg-type]
        original_claim_number=original,
        prior_authorization=auth,
        claim_id=f"CL{index}",
        claim_version=version,
        diagnoses=diagnoses,
        rendering_provider=DOCTOR,
        lines=lines,
    )


def make_837(
    claims: list[Claim837], control: int = 1, *, group: int | None = None, transaction_set: int = 1
) -> bytes:
    return write_837(
        ClaimBatch837(
            envelope=ENVELOPE, control=ControlNumbers(interchange=control, group=group or control,
                                                      transaction_set=transaction_set),
            created_at=datetime(2025, 3, 10, 9, 0), reference_id=f"B{control}", kind="P",
            submitter=SUBMITTER, receiver=Receiver(name="SIM CLEARINGHOUSE", identifier="SIMCH"),
            claims=tuple(claims),
        )
    )  # fmt: skip


def make_270(
    member_id: str, birth: date | None = None, control: int = 1, payer: PayerRef = SIM_PAYER
) -> bytes:
    last, first, real_birth, gender = MEMBERS[member_id]
    return write_270(
        EligibilityBatch270(
            envelope=ENVELOPE, control=ControlNumbers(interchange=control, group=control,
                                                      transaction_set=1),
            created_at=datetime(2025, 3, 10, 9, 0), reference_id=f"E{control}",
            inquiries=(EligibilityInquiry(
                information_source=payer, information_receiver=DOCTOR,
                subscriber=Subscriber(last_name=last, first_name=first, member_id=member_id,
                                      birth_date=birth or real_birth, gender=gender),
                trace_number=f"T{control}", trace_originator="9877281234",
                service_date=CLOCK_START,
            ),),
        )
    )  # fmt: skip


def make_276(claim: Claim837, control: int = 1) -> bytes:
    """A 276 asking about ``claim`` (traced by its REF*D9, at its own payer)."""
    sub = claim.subscriber
    return write_276(
        StatusBatch276(
            envelope=ENVELOPE, control=ControlNumbers(interchange=control, group=control,
                                                      transaction_set=1),
            created_at=datetime(2025, 3, 10, 9, 0), reference_id=f"S{control}",
            inquiries=(StatusInquiry(
                information_source=claim.payer,
                information_receiver=Receiver(name="JONES CLINIC", identifier="CLAIMDESK"),
                service_provider=DOCTOR,
                subscriber=Subscriber(last_name=sub.last_name, first_name=sub.first_name,
                                      member_id=sub.member_id, birth_date=sub.birth_date,
                                      gender=sub.gender),
                trace_number=claim.wire_claim_reference,
                patient_control_number=claim.patient_control_number,
                total_charge=claim.total_charge, service_from=SERVICE_DATE,
            ),),
        )
    )  # fmt: skip
