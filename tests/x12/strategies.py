"""Builders and hypothesis strategies for ``claimdesk.x12.claim_data``.

``make_837_batch`` builds a deterministic batch (COB secondaries, 7/8
replacements, dependents) for the pyx12 and speed tests; ``batches_837``
draws arbitrary valid batches for the round-trip property.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

from hypothesis import strategies as st

from claimdesk.x12.claim_data import (
    Address,
    Adjustment,
    BillingProvider,
    Claim837,
    ClaimBatch837,
    ControlNumbers,
    EligibilityBatch270,
    EligibilityInquiry,
    EnvelopeParties,
    LineAdjudication,
    OtherPayer,
    Patient,
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

Kind = Literal["P", "I"]


def make_npi(n: int) -> str:
    """A valid NPI derived from ``n``."""
    prefix = f"{100000000 + n:09d}"
    return prefix + str(npi_check_digit(prefix))


ENVELOPE = EnvelopeParties(
    sender_id="CLAIMDESK",
    receiver_id="PAYERSIM",
    application_sender_code="CLAIMDESK",
    application_receiver_code="PAYERSIM",
)
CONTROL = ControlNumbers(interchange=905, group=17, transaction_set=1)
CREATED = datetime(2024, 3, 5, 14, 7)
STREET = Address(line1="225 MAIN ST", city="CENTERVILLE", state="PA", postal_code="17111")
BILLING = BillingProvider(
    entity_type="2",
    last_name="JONES CLINIC",
    npi=make_npi(1),
    tax_id="567891234",
    taxonomy="207Q00000X",
    address=Address(
        line1="1 HOSPITAL WAY", city="CENTERVILLE", state="PA", postal_code="171111234"
    ),
)
PAYER = PayerRef(name="ACME HEALTH", payer_id="00435")
DOCTOR = Provider(last_name="KILDARE", first_name="BEN", npi=make_npi(2), taxonomy="207Q00000X")
SUBMITTER = Submitter(
    name=PersonName(entity_type="2", last_name="JONES CLINIC"),
    identifier="CLAIMDESK",
    contact_name="JANE DOE",
    phone="9005555555",
)
RECEIVER = Receiver(name="ACME HEALTH", identifier="PAYERSIM")
PRIMARY_PAYER_ID = "MEDB01"


def make_line(kind: Kind, number: int, *, claim: int, secondary: bool) -> ServiceLine:
    adjudications: tuple[LineAdjudication, ...] = ()
    if secondary:
        adjudications = (
            LineAdjudication(
                other_payer_id=PRIMARY_PAYER_ID,
                paid_amount=Decimal("60.00"),
                procedure_code="99213" if kind == "P" else "99283",
                revenue_code=None if kind == "P" else "0450",
                paid_units=Decimal(1),
                adjustments=(
                    Adjustment(group_code="CO", reason_code="45", amount=Decimal("25.00")),
                    Adjustment(group_code="PR", reason_code="2", amount=Decimal("15.00")),
                ),
                adjudication_date=date(2024, 2, 20),
            ),
        )
    common = {
        "line_number": number,
        "charge": Decimal("100.00"),
        "units": Decimal(1),
        "service_date": date(2024, 2, 1),
        "line_item_control_number": f"{claim}-L{number}",
        "adjudications": adjudications,
    }
    if kind == "P":
        return ServiceLine(
            procedure_code="99213",
            modifiers=("25",) if number > 1 else (),
            diagnosis_pointers=(1, 2) if number > 1 else (1,),
            **common,
        )
    return ServiceLine(revenue_code="0450", procedure_code="99283", **common)


def make_claim(kind: Kind, index: int) -> Claim837:
    """Claim ``index`` of a varied batch: every 4th secondary, 5th a replacement, 7th a void."""
    secondary = index % 4 == 1
    frequency: Literal["1", "7", "8"] = "7" if index % 5 == 3 else "8" if index % 7 == 6 else "1"
    lines = tuple(
        make_line(kind, n, claim=1000 + index, secondary=secondary) for n in range(1, 2 + index % 3)
    )
    subscriber = Subscriber(
        last_name=f"DOE{index // 3}",
        first_name="JOHN",
        member_id=f"W{100000 + index // 3}",
        birth_date=date(1960, 1, 1) + timedelta(days=index // 3),
        gender="M",
        address=STREET,
        payer_responsibility="S" if secondary else "P",
        group_number="GRP1",
        claim_filing_indicator="CI",
    )
    patient = None
    if index % 3 == 2:
        patient = Patient(
            relationship="19",
            last_name=f"DOE{index // 3}",
            first_name="TED",
            birth_date=date(2012, 5, 5),
            gender="M",
            address=STREET,
        )
    others: tuple[OtherPayer, ...] = ()
    if secondary:
        others = (
            OtherPayer(
                payer_responsibility="P",
                claim_filing_indicator="MB",
                adjustments=(Adjustment(group_code="CO", reason_code="45", amount=Decimal(0)),),
                paid_amount=Decimal(60 * len(lines)),
                subscriber=PersonName(last_name=f"DOE{index // 3}", first_name="JOHN"),
                member_id="1EG4TE5MK72",
                payer_name="MEDICARE B",
                payer_id=PRIMARY_PAYER_ID,
            ),
        )
    extra: dict[str, object] = {}
    if kind == "I":
        extra = {
            "statement_from": date(2024, 2, 1),
            "statement_through": date(2024, 2, 1),
            "admission_type_code": "1",
            "admission_source_code": "7",
            "patient_status_code": "01",
            "attending_provider": DOCTOR,
        }
    else:
        extra = {"rendering_provider": DOCTOR}
    return Claim837(
        billing_provider=BILLING,
        subscriber=subscriber,
        payer=PAYER,
        patient=patient,
        patient_control_number=f"PCN{index}",
        total_charge=sum((line.charge for line in lines), Decimal("0.00")),
        facility_code="11" if kind == "P" else "13",
        frequency_code=frequency,
        original_claim_number=f"PAYER{index}" if frequency != "1" else None,
        prior_authorization="AUTH77" if index % 2 else None,
        referral_number="REF9" if index % 6 == 0 else None,
        claim_id=str(1000 + index),
        claim_version=1 + index % 3,
        diagnoses=("J020", "R509"),
        lines=lines,
        other_payers=others,
        **extra,  # type: ignore[arg-type]
    )


def make_837_batch(kind: Kind, claims: int) -> ClaimBatch837:
    """A deterministic batch of ``claims`` claims of ``kind``."""
    return ClaimBatch837(
        envelope=ENVELOPE,
        control=CONTROL,
        created_at=CREATED,
        reference_id="BATCH0001",
        kind=kind,
        submitter=SUBMITTER,
        receiver=RECEIVER,
        claims=tuple(make_claim(kind, i) for i in range(claims)),
    )


def make_270(dependent: bool = False) -> EligibilityBatch270:
    subscriber = Subscriber(
        last_name="SMITH", first_name="MARY", member_id="11122333301",
        birth_date=date(1978, 10, 14), gender="F",
    )  # fmt: skip
    child = Patient(
        relationship="19", last_name="SMITH", first_name="TED", birth_date=date(2010, 5, 1),
        gender="M", address=STREET,
    )  # fmt: skip
    return EligibilityBatch270(
        envelope=ENVELOPE,
        control=CONTROL,
        created_at=CREATED,
        reference_id="ELIG1",
        inquiries=(
            EligibilityInquiry(
                information_source=PAYER,
                information_receiver=DOCTOR,
                subscriber=subscriber,
                dependent=child if dependent else None,
                trace_number="93175-012547",
                trace_originator="9877281234",
                service_type_codes=("30",),
                service_date=date(2024, 3, 5),
            ),
        ),
    )


def make_276(dependent: bool = False) -> StatusBatch276:
    subscriber = Subscriber(
        last_name="SMITH", first_name="FRED", member_id="123456789A",
        birth_date=date(1930, 12, 10), gender="M",
    )  # fmt: skip
    child = Patient(
        relationship="19", last_name="SMITH", first_name="TED", birth_date=date(2010, 5, 1),
        gender="M", address=STREET,
    )  # fmt: skip
    return StatusBatch276(
        envelope=ENVELOPE,
        control=CONTROL,
        created_at=CREATED,
        reference_id="STAT1",
        inquiries=(
            StatusInquiry(
                information_source=PAYER,
                information_receiver=RECEIVER,
                service_provider=DOCTOR,
                subscriber=subscriber,
                dependent=child if dependent else None,
                trace_number="1001-v2",
                patient_control_number="PCN1",
                total_charge=Decimal("8513.88"),
                service_from=date(2024, 2, 1),
                service_through=date(2024, 2, 6),
            ),
        ),
    )


# --- hypothesis ---------------------------------------------------------------------------

_WORD = r"[A-Z][A-Z0-9 &'.,*:^~|-]{0,10}[A-Z0-9]"  # delimiters in data force other choices


def _words(max_size: int = 12) -> st.SearchStrategy[str]:
    return st.from_regex(_WORD, fullmatch=True).filter(lambda s: len(s) <= max_size)


_codes = st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True)
_dates = st.dates(min_value=date(1920, 1, 1), max_value=date(2030, 12, 31))
_money = st.decimals(min_value=0, max_value=99999, places=2, allow_nan=False)
_genders = st.sampled_from(["M", "F", "U"])


@st.composite
def _subscriber(draw: st.DrawFn) -> Subscriber:
    has_dmg = draw(st.booleans())
    return Subscriber(
        last_name=draw(_words()),
        first_name=draw(st.none() | _words()),
        member_id=draw(_codes),
        birth_date=draw(_dates) if has_dmg else None,
        gender=draw(_genders) if has_dmg else None,
        address=draw(st.none() | st.just(STREET)),
        payer_responsibility=draw(st.sampled_from(["P", "S", "T"])),
        group_number=draw(st.none() | _codes),
        claim_filing_indicator=draw(st.sampled_from(["CI", "MB", "MC", "BL", "12"])),
    )


@st.composite
def _claim(draw: st.DrawFn, kind: Kind, subscribers: list[Subscriber]) -> Claim837:
    n_lines = draw(st.integers(1, 3))
    diagnoses = tuple(draw(st.lists(st.sampled_from(["J020", "R509", "E119", "I10", "Z0000"]),
                                    min_size=1, max_size=4, unique=True)))  # fmt: skip
    secondary = draw(st.booleans())
    lines = []
    for number in range(1, n_lines + 1):
        adjudications: tuple[LineAdjudication, ...] = ()
        if secondary and draw(st.booleans()):
            adjudications = (
                LineAdjudication(
                    other_payer_id=PRIMARY_PAYER_ID,
                    paid_amount=draw(_money),
                    procedure_code="99213",
                    revenue_code="0450" if kind == "I" else None,
                    paid_units=Decimal(1),
                    adjustments=tuple(
                        Adjustment(group_code=g, reason_code=r, amount=draw(_money))
                        for g, r in draw(
                            st.lists(
                                st.sampled_from(
                                    [("CO", "45"), ("PR", "1"), ("PR", "2"), ("OA", "23")]
                                ),
                                max_size=3,
                            )
                        )
                    ),
                    adjudication_date=draw(_dates),
                ),
            )
        common = {
            "line_number": number,
            "charge": draw(_money),
            "units": Decimal(draw(st.integers(1, 20))),
            "service_date": draw(_dates),
            "line_item_control_number": draw(_codes),
            "procedure_code": "99213",
            "adjudications": adjudications,
        }
        if kind == "P":
            pointers = tuple(range(1, 1 + draw(st.integers(1, min(4, len(diagnoses))))))
            lines.append(ServiceLine(diagnosis_pointers=pointers, **common))
        else:
            lines.append(ServiceLine(revenue_code="0450", **common))
    others: tuple[OtherPayer, ...] = ()
    if secondary:
        others = (
            OtherPayer(
                payer_responsibility="P",
                paid_amount=draw(st.none() | _money),
                subscriber=PersonName(last_name=draw(_words())),
                member_id=draw(_codes),
                payer_name=draw(_words()),
                payer_id=PRIMARY_PAYER_ID,
                adjudication_date=draw(st.none() | _dates),
                claim_control_number=draw(st.none() | _codes),
            ),
        )
    frequency = draw(st.sampled_from(["1", "7", "8"]))
    institutional: dict[str, object] = {}
    if kind == "I":
        start = draw(_dates)
        institutional = {
            "statement_from": start,
            "statement_through": start,
            "patient_status_code": "01",
            "admission_date": draw(st.none() | st.just(start)),
        }
    patient = None
    if draw(st.booleans()):
        patient = Patient(
            relationship="19", last_name=draw(_words()), first_name=draw(_words()),
            birth_date=draw(_dates), gender=draw(_genders), address=STREET,
        )  # fmt: skip
    return Claim837(
        billing_provider=BILLING,
        subscriber=draw(st.sampled_from(subscribers)),
        payer=PAYER,
        patient=patient,
        patient_control_number=draw(_codes),
        total_charge=sum((line.charge for line in lines), Decimal(0)),
        facility_code="11" if kind == "P" else "13",
        frequency_code=frequency,
        original_claim_number=draw(_codes) if frequency != "1" else None,
        prior_authorization=draw(st.none() | _codes),
        referral_number=draw(st.none() | _codes),
        claim_id=draw(st.from_regex(r"[0-9]{1,12}", fullmatch=True)),
        claim_version=draw(st.integers(1, 99)),
        diagnoses=diagnoses,
        lines=tuple(lines),
        other_payers=others,
        rendering_provider=draw(st.none() | st.just(DOCTOR)) if kind == "P" else None,
        attending_provider=draw(st.none() | st.just(DOCTOR)) if kind == "I" else None,
        **institutional,  # type: ignore[arg-type]
    )


@st.composite
def batches_837(draw: st.DrawFn, kind: Kind | None = None) -> ClaimBatch837:
    """Valid 837 batches of 1–4 claims over 1–2 subscribers, with punctuation in the names."""
    chosen: Kind = kind or draw(st.sampled_from(["P", "I"]))
    subscribers = draw(st.lists(_subscriber(), min_size=1, max_size=2))
    claims = draw(st.lists(_claim(chosen, subscribers), min_size=1, max_size=4))
    return ClaimBatch837(
        envelope=ENVELOPE,
        control=ControlNumbers(
            interchange=draw(st.integers(1, 999_999_999)),
            group=draw(st.integers(1, 999_999_999)),
            transaction_set=draw(st.integers(1, 9999)),
        ),
        created_at=CREATED,
        reference_id=draw(_codes),
        kind=chosen,
        submitter=SUBMITTER,
        receiver=RECEIVER,
        claims=tuple(claims),
    )
