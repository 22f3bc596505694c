"""835: payment, claims, CAS triplets, services, PLB, and the balancing rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimdesk.x12 import Remittance835, X12SyntaxError, iter_transactions, read_interchanges

ISA = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVID"
    "ER       *240102*1200*^*00501*000000001*0*T*:~"
)


def wrap(body: str, set_id: str = "835", version: str = "005010X221A1") -> str:
    """An interchange with one group and one set around ``body`` (segments ending in ~)."""
    count = body.count("~") + 2
    return (
        f"{ISA}GS*HP*PAYER*PROV*20240102*1200*1*X*{version}~ST*{set_id}*0001~{body}"
        f"SE*{count}*0001~GE*1*1~IEA*1*000000001~"
    )


HEADER = (
    "BPR*I*150.00*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999999999*DA*654321*20240105~"
    "TRN*1*EFT123*1512345678~DTM*405*20240104~"
    "N1*PR*ACME HEALTH*XV*12345~N1*PE*CLINIC*XX*1234567893~"
)
CLAIM = (
    "LX*1~CLP*PCN1*1*200.00*150.00*20.00*12*PAYERCLM1~"
    "CAS*CO*45*10.00**253*0.50~NM1*QC*1*DOE*JANE****MI*M123~DTM*232*20231201~DTM*233*20231202~"
    "SVC*HC:99213:25:59*200.00*150.00**1~DTM*472*20231201~CAS*PR*1*20.00*1*2*30.00~"
    "REF*6R*LINE-1~AMT*B6*170.00~LQ*HE*N130~"
)


def parse_one(text: str) -> Remittance835:
    [parsed] = list(iter_transactions(text))
    assert isinstance(parsed.transaction, Remittance835)
    return parsed.transaction


def test_parse_835_reads_payment_and_parties() -> None:
    remittance = parse_one(wrap(HEADER + CLAIM))
    assert remittance.payment.total == Decimal("150.00")
    assert remittance.payment.method == "ACH"
    assert remittance.payment.date == date(2024, 1, 5)
    assert remittance.payment.trace_number == "EFT123"
    assert remittance.production_date == date(2024, 1, 4)
    assert remittance.payer is not None and remittance.payer.name == "ACME HEALTH"
    assert remittance.payee is not None and remittance.payee.id == "1234567893"


def test_parse_835_reads_claim_cas_triplets_and_service() -> None:
    [claim] = parse_one(wrap(HEADER + CLAIM)).claims
    assert (claim.patient_control_number, claim.status_code) == ("PCN1", "1")
    assert (claim.charge, claim.paid, claim.patient_responsibility) == (
        Decimal("200.00"),
        Decimal("150.00"),
        Decimal("20.00"),
    )
    assert claim.payer_claim_control_number == "PAYERCLM1"
    assert [(a.group, a.reason, a.amount, a.quantity) for a in claim.adjustments] == [
        ("CO", "45", Decimal("10.00"), None),
        ("CO", "253", Decimal("0.50"), None),
    ]
    assert claim.patient is not None and claim.patient.member_id == "M123"
    assert claim.statement_from == date(2023, 12, 1)
    [service] = claim.services
    assert (service.procedure, service.modifiers) == ("99213", ("25", "59"))
    assert service.line_control_number == "LINE-1"
    assert service.allowed == Decimal("170.00")
    assert service.service_from == service.service_to == date(2023, 12, 1)
    assert [(a.reason, a.amount, a.quantity) for a in service.adjustments] == [
        ("1", Decimal("20.00"), Decimal("1")),
        ("2", Decimal("30.00"), None),
    ]
    assert [(r.qualifier, r.code) for r in service.remarks] == [("HE", "N130")]


def test_parse_835_reads_all_six_cas_triplets() -> None:
    cas = "CAS*CO*" + "*".join(f"{r}*1.00*{r}" for r in range(1, 7)) + "~"
    body = HEADER.replace("150.00", "144.00") + "CLP*P*1*150.00*144.00~" + cas
    [claim] = parse_one(wrap(body)).claims
    assert [a.reason for a in claim.adjustments] == ["1", "2", "3", "4", "5", "6"]
    assert claim.adjustments[5].quantity == Decimal("6")


def test_parse_835_reads_plb_with_reference_and_mia_moa() -> None:
    body = (
        HEADER.replace("150.00", "140.00")
        + "CLP*P*1*150.00*150.00~MIA*3***12.00*MA01~MOA*0.8*5.00*MA15*N1~"
        + "PLB*1234567893*20241231*L6:INV-9*10.00*WO:X*0~"
    )
    remittance = parse_one(wrap(body))
    [claim] = remittance.claims
    assert claim.inpatient is not None and claim.inpatient.remarks == ("MA01",)
    assert claim.outpatient is not None and claim.outpatient.remarks == ("MA15", "N1")
    assert [(p.reason, p.reference, p.amount) for p in remittance.provider_adjustments] == [
        ("L6", "INV-9", Decimal("10.00")),
        ("WO", "X", Decimal("0")),
    ]
    assert remittance.balanced, remittance.balance_errors


def test_parse_835_balanced_when_all_rules_hold() -> None:
    remittance = parse_one(wrap(HEADER + CLAIM.replace("CAS*CO*45*10.00**253*0.50~", "")))
    assert remittance.balanced
    assert remittance.balance_errors == ()


def test_parse_835_reports_each_unbalanced_rule_with_figures() -> None:
    body = HEADER.replace("150.00", "151.00") + CLAIM.replace("CAS*PR*1*20.00*1*2*30.00~", "")
    remittance = parse_one(wrap(body))
    assert not remittance.balanced
    by_rule = {e.rule: e for e in remittance.balance_errors}
    assert (by_rule["service"].expected, by_rule["service"].actual) == (Decimal("50.00"), 0)
    assert by_rule["service"].claim_index == 1 and by_rule["service"].service_index == 1
    assert (by_rule["claim"].expected, by_rule["claim"].actual) == (
        Decimal("50.00"),
        Decimal("10.50"),
    )
    assert by_rule["payment"].expected == Decimal("151.00")
    assert by_rule["payment"].actual == Decimal("150.00")


def test_parse_835_rejects_bad_amount_without_showing_it() -> None:
    with pytest.raises(X12SyntaxError) as caught:
        parse_one(wrap(HEADER + CLAIM.replace("*200.00*150.00*20.00", "*2O0.00*150.00*20.00")))
    error = caught.value
    assert error.element == "CLP03" and error.segment_id == "CLP"
    assert error.segment_index == 10
    assert "2O0" not in str(error) and "2O0" in (error.detail or "")


def test_parse_835_rejects_cas_before_any_claim() -> None:
    with pytest.raises(X12SyntaxError, match="segment 9 CAS: segment outside a claim"):
        parse_one(wrap(HEADER + "CAS*CO*45*1~"))


def test_parse_835_rejects_missing_bpr() -> None:
    with pytest.raises(X12SyntaxError, match="835 has no BPR"):
        parse_one(wrap("TRN*1*X*Y~"))


def test_parse_835_rejects_svc01_without_procedure_code() -> None:
    with pytest.raises(X12SyntaxError, match="SVC01-2"):
        parse_one(wrap(HEADER + CLAIM.replace("HC:99213:25:59", "HC>99213")))


def test_parse_835_file_with_trailing_data_names_its_position() -> None:
    with pytest.raises(X12SyntaxError, match="data after the last IEA") as caught:
        read_interchanges(wrap(HEADER + CLAIM) + "\nGARBAGE")
    assert "GARBAGE" not in str(caught.value)
