"""X12 write benchmark: build and write an 837P, then check every claim that was written.

Run: ``uv run python -m bench.x12_write`` (``--quick``: 1,000 claims instead of
10,000, a day's volume). The batch is built once, outside the timing, from shared
provider/payer objects and a mix of claims close to a practice's day: 1-3 lines,
every 4th a COB secondary with 2320/2330 and 2430 loops, some dependents, some
replacements. Timed: ``write_837p`` of the whole batch, best of N.

Checked: the written file read back with our parser is the batch we wrote (every
claim, line and amount; claim count and total charges printed), and pyx12 finds
nothing wrong in a sample batch of the same claims (every variant is in it).

Baseline: none. pyx12 reads X12, it does not write 837s from claim data, and no
other writer takes these models; the target is a rate instead: a day's claims
(10,000) written in under a second, i.e. >= 10,000 claims/s.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from decimal import Decimal

from bench._common import Bench, best_of, seconds
from claimdesk.x12 import parse_837, validate_with_pyx12, write_837p
from claimdesk.x12.claim_data import (
    Address,
    Adjustment,
    BillingProvider,
    Claim837,
    ClaimBatch837,
    ControlNumbers,
    EnvelopeParties,
    LineAdjudication,
    OtherPayer,
    Patient,
    PayerRef,
    PersonName,
    Provider,
    Receiver,
    ServiceLine,
    Submitter,
    Subscriber,
)

CLAIMS = 10_000
SAMPLE = 120  # claims in the batch pyx12 checks: every n % 3, n % 4 and n % 10 variant
TARGET_CLAIMS_PER_S = 10_000.0
_STREET = Address(line1="1 BENCH ST", city="BENCHVILLE", state="PA", postal_code="17111")
_BILLING = BillingProvider(
    entity_type="2",
    last_name="BENCH CLINIC",
    npi="1234567893",
    tax_id="123456789",
    address=Address(line1="1 BENCH ST", city="BENCHVILLE", state="PA", postal_code="171111234"),
)
_PAYER = PayerRef(name="BENCH HEALTH PLAN", payer_id="12345")
_DOCTOR = Provider(last_name="BENCH", first_name="ANNA", npi="1234567893")
_ADJUSTMENTS = (
    Adjustment(group_code="CO", reason_code="45", amount=Decimal("25.00")),
    Adjustment(group_code="PR", reason_code="2", amount=Decimal("15.00")),
)


def _claim(n: int) -> Claim837:
    secondary = n % 4 == 1
    lines = tuple(
        ServiceLine(
            line_number=j,
            procedure_code="99213",
            modifiers=("25",) if j > 1 else (),
            charge=Decimal("100.00"),
            units=Decimal(1),
            diagnosis_pointers=(1,),
            service_date=date(2024, 1, 2),
            line_item_control_number=f"L{n:08d}-{j}",
            adjudications=(
                LineAdjudication(
                    other_payer_id="MEDB01",
                    paid_amount=Decimal("60.00"),
                    procedure_code="99213",
                    paid_units=Decimal(1),
                    adjustments=_ADJUSTMENTS,
                    adjudication_date=date(2024, 1, 20),
                ),
            )
            if secondary
            else (),
        )
        for j in range(1, 2 + n % 3)
    )
    others: tuple[OtherPayer, ...] = ()
    if secondary:
        others = (
            OtherPayer(
                payer_responsibility="P",
                claim_filing_indicator="MB",
                paid_amount=Decimal(60 * len(lines)),
                subscriber=PersonName(last_name="PATIENT", first_name="BENCH"),
                member_id=f"MB{n:09d}",
                payer_name="MEDICARE B",
                payer_id="MEDB01",
            ),
        )
    patient = None
    if n % 3 == 2:
        patient = Patient(relationship="19", last_name="PATIENT", first_name="CHILD",
                          birth_date=date(2012, 1, 1), gender="F", address=_STREET)  # fmt: skip
    frequency = "7" if n % 10 == 9 else "1"
    return Claim837(
        billing_provider=_BILLING,
        subscriber=Subscriber(
            last_name="PATIENT",
            first_name="BENCH",
            member_id=f"M{n // 3:09d}",
            birth_date=date(1970, 1, 1),
            gender="M",
            payer_responsibility="S" if secondary else "P",
        ),
        payer=_PAYER,
        patient=patient,
        patient_control_number=f"PCN{n:08d}",
        total_charge=sum((line.charge for line in lines), Decimal("0.00")),
        facility_code="11",
        frequency_code=frequency,
        original_claim_number=f"PAYER{n:010d}" if frequency == "7" else None,
        claim_id=str(n),
        claim_version=1,
        diagnoses=("J020", "R509"),
        rendering_provider=_DOCTOR,
        other_payers=others,
        lines=lines,
    )


def make_837p_batch(claims: int = CLAIMS) -> ClaimBatch837:
    """A valid 837P batch of ``claims`` claims (deterministic)."""
    return ClaimBatch837(
        envelope=EnvelopeParties(
            sender_id="BENCHPROV",
            receiver_id="BENCHPAYER",
            application_sender_code="BENCHPROV",
            application_receiver_code="BENCHPAYER",
        ),
        control=ControlNumbers(interchange=1, group=1, transaction_set=1),
        created_at=datetime(2024, 1, 3, 12, 0),
        reference_id="BENCH",
        kind="P",
        submitter=Submitter(
            name=PersonName(entity_type="2", last_name="BENCH CLINIC"),
            identifier="BENCHPROV",
            contact_name="BENCH",
            phone="5555550100",
        ),
        receiver=Receiver(name="BENCH HEALTH PLAN", identifier="BENCHPAYER"),
        claims=tuple(_claim(n) for n in range(claims)),
    )


def run(bench: Bench, claims: int, repeat: int) -> None:
    batch = make_837p_batch(claims)
    write_837p(batch)  # warm: imports and first allocations outside the clock
    elapsed, written = best_of(repeat, lambda: write_837p(batch))
    rate = claims / elapsed
    bench.info(
        f"837P: {claims:,} claims, {len(written):,} bytes written in {seconds(elapsed)} "
        f"(best of {repeat}): {rate:,.0f} claims/s"
    )

    read = parse_837(written)
    total = sum((c.total_charge for c in read.claims), Decimal(0))
    expected = sum((c.total_charge for c in batch.claims), Decimal(0))
    bench.info(f"read back: {len(read.claims):,} claims, total charges {total}")
    bench.check(len(read.claims) == claims, f"read back {len(read.claims)} claims of {claims}")
    bench.check(total == expected, f"read back total charges {total}, wrote {expected}")
    bench.check(read == batch, "the file read back is the batch written (every field)")
    issues = validate_with_pyx12(write_837p(make_837p_batch(min(SAMPLE, claims))))
    for issue in issues[:5]:
        bench.info(f"pyx12: {issue}")
    bench.check(not issues, f"pyx12 found {len(issues)} issue(s) in a {SAMPLE}-claim sample")

    bench.result(
        f"x12-837p-write-{claims}",
        ours=f"{seconds(elapsed)} ({rate:,.0f} claims/s)",
        baseline="baseline none (nothing else writes 837s from claim data)",
        ratio=None,
        target=f">= {TARGET_CLAIMS_PER_S:,.0f} claims/s",
        ok=rate >= TARGET_CLAIMS_PER_S,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 claims")
    parser.add_argument("--claims", type=int, default=None)
    args = parser.parse_args()
    bench = Bench("x12_write")
    run(bench, args.claims or (1000 if args.quick else CLAIMS), repeat=3 if args.quick else 5)
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
