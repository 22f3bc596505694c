"""The three 835 balancing rules, claim by claim, so a streamed set is checked as it is read.

``claim_balance_errors`` checks one claim (its lines, then the claim) as it arrives;
``payment_balance_error`` checks the set's BPR02 against Σ CLP04 − Σ PLB at its end;
``check_balance`` applies both to a whole set.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from claimdesk.x12.models import BalanceError, ClaimPayment, Payment, ProviderAdjustment

_ZERO = Decimal(0)


def claim_balance_errors(claim_index: int, claim: ClaimPayment) -> list[BalanceError]:
    """The service and claim rules for one claim (``claim_index`` 1-based in its set)."""
    # Plain sums first: nearly every claim balances, and this runs once a claim.
    total = claim.charge - claim.paid
    balanced = True
    for service in claim.services:
        line = _ZERO
        for adjustment in service.adjustments:
            line += adjustment.amount
        total -= line
        balanced = balanced and service.charge - service.paid == line
    for adjustment in claim.adjustments:
        total -= adjustment.amount
    if balanced and not total:
        return []
    errors: list[BalanceError] = []
    line_total = _ZERO
    for service_index, service in enumerate(claim.services, 1):
        service_cas = sum((a.amount for a in service.adjustments), _ZERO)
        line_total += service_cas
        if service.charge - service.paid != service_cas:
            errors.append(
                BalanceError(
                    rule="service",
                    claim_index=claim_index,
                    service_index=service_index,
                    patient_control_number=claim.patient_control_number,
                    expected=service.charge - service.paid,
                    actual=service_cas,
                    message="SVC02 - SVC03 differs from the sum of the line's CAS amounts",
                )
            )
    claim_cas = sum((a.amount for a in claim.adjustments), _ZERO) + line_total
    if claim.charge - claim.paid != claim_cas:
        errors.append(
            BalanceError(
                rule="claim",
                claim_index=claim_index,
                service_index=None,
                patient_control_number=claim.patient_control_number,
                expected=claim.charge - claim.paid,
                actual=claim_cas,
                message="CLP03 - CLP04 differs from the sum of claim and line CAS amounts",
            )
        )
    return errors


def payment_balance_error(
    payment: Payment, paid: Decimal, provider_adjustments: Iterable[ProviderAdjustment]
) -> BalanceError | None:
    """BPR02 (negated for a debit) against ``paid`` (Σ CLP04) less the PLB amounts."""
    provider = sum((p.amount for p in provider_adjustments), _ZERO)
    total = -payment.total if payment.credit_debit == "D" else payment.total
    if paid - provider == total:
        return None
    return BalanceError(
        rule="payment",
        claim_index=None,
        service_index=None,
        patient_control_number="",
        expected=total,
        actual=paid - provider,
        message="BPR02 differs from the sum of CLP04 less the sum of PLB amounts",
    )


def check_balance(
    payment: Payment, claims: list[ClaimPayment], provider_adjustments: list[ProviderAdjustment]
) -> list[BalanceError]:
    """The three 835 balancing rules; each miss is a BalanceError with both figures."""
    errors: list[BalanceError] = []
    for claim_index, claim in enumerate(claims, 1):
        errors += claim_balance_errors(claim_index, claim)
    paid = sum((c.paid for c in claims), _ZERO)
    payment_error = payment_balance_error(payment, paid, provider_adjustments)
    if payment_error is not None:
        errors.append(payment_error)
    return errors
