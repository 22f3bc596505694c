"""Each core rule fires on a snapshot crafted to break it and stays silent on a clean one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest

from claimdesk.rules import (
    CORE_PACK,
    AuthorizationSnapshot,
    ClaimSnapshot,
    CoverageSnapshot,
    DiagnosisSnapshot,
    PayerRuleSettings,
    PayerSnapshot,
    ProviderSnapshot,
    ServiceFingerprint,
    WireTextProblem,
    run_rules,
)
from tests.rules.edit_cases import EDIT_CASES
from tests.rules.snapshots import SERVICE_DATE, TODAY, change, clean_snapshot, line

_PAYER = PayerSnapshot(row_id=7, payer_id="SIMTST", timely_filing_days=365)


def _payer(**update: object) -> PayerSnapshot:
    return _PAYER.model_copy(update=update)


def _auth(**update: object) -> AuthorizationSnapshot:
    data: dict[str, object] = {
        "number": "AUTH1",
        "codes": frozenset({"97110"}),
        "valid_from": date(2026, 11, 1),
        "valid_to": date(2026, 12, 31),
        "units": 4,
        **update,
    }
    return AuthorizationSnapshot.model_validate(data)


def _dx(*codes: str) -> tuple[DiagnosisSnapshot, ...]:
    return tuple(DiagnosisSnapshot(position=n, code=c) for n, c in enumerate(codes, start=1))


def _institutional(**update: object) -> ClaimSnapshot:
    data: dict[str, object] = {
        "kind": "I",
        "facility_type_code": "13",
        "place_of_service": None,
        "lines": (line(revenue_code="0510", diagnosis_pointers=()),),
        **update,
    }
    return clean_snapshot(**data)


_PT_LINE = line(procedure_code="97110", units=Decimal(2))

# rule id → (a snapshot that breaks it, the field the finding must name)
CASES: dict[str, tuple[Callable[[], ClaimSnapshot], str]] = {
    "CD-REQ-001": (lambda: change(clean_snapshot(), lines=(), total_charge=0), "lines"),
    "CD-REQ-002": (lambda: clean_snapshot(diagnoses=()), "diagnoses"),
    "CD-REQ-003": (lambda: clean_snapshot(coverage=None), "coverage"),
    "CD-REQ-004": (
        lambda: clean_snapshot(
            coverage=CoverageSnapshot(effective_from=date(2020, 1, 1), has_member_id=False)
        ),
        "coverage.member_id",
    ),
    "CD-REQ-005": (
        lambda: clean_snapshot(has_patient_control_number=False),
        "claim.patient_control_number",
    ),
    "CD-REQ-006": (lambda: _institutional(facility_type_code=None), "claim.facility_type_code"),
    "CD-REQ-007": (
        lambda: _institutional(lines=(line(diagnosis_pointers=()),)),
        "lines[1].revenue_code",
    ),
    "CD-REQ-008": (
        lambda: clean_snapshot(frequency_code="7"),
        "claim.original_payer_claim_number",
    ),
    "CD-REQ-009": (lambda: clean_snapshot(billing_provider=None), "billing_provider.npi"),
    "CD-NPI-001": (
        lambda: clean_snapshot(billing_provider=ProviderSnapshot(npi="1234567890")),
        "billing_provider.npi",
    ),
    "CD-NPI-002": (
        lambda: clean_snapshot(rendering_provider=ProviderSnapshot(npi="12345", role="rendering")),
        "rendering_provider.npi",
    ),
    "CD-DX-001": (lambda: clean_snapshot(diagnoses=_dx("E119", "Q999X")), "diagnoses[2].code"),
    "CD-DX-002": (lambda: clean_snapshot(diagnoses=_dx("E11")), "diagnoses[1].code"),
    "CD-DX-003": (lambda: clean_snapshot(diagnoses=_dx("G01", "A390")), "diagnoses[1].code"),
    "CD-DX-004": (lambda: clean_snapshot(diagnoses=_dx("W19XXXA", "S72001A")), "diagnoses[1].code"),
    "CD-DX-005": (
        lambda: clean_snapshot(diagnoses=_dx("E119", "I10", "E119")),
        "diagnoses[3].code",
    ),
    "CD-PROC-001": (
        lambda: clean_snapshot(lines=(line(procedure_code="9921A"),)),
        "lines[1].procedure_code",
    ),
    "CD-MOD-001": (lambda: clean_snapshot(lines=(line(modifiers=("2",)),)), "lines[1].modifiers"),
    "CD-MOD-002": (
        lambda: clean_snapshot(lines=(line(modifiers=("25", "59", "XE", "XS", "GT")),)),
        "lines[1].modifiers",
    ),
    "CD-MOD-003": (
        lambda: clean_snapshot(lines=(line(modifiers=("25", "25")),)),
        "lines[1].modifiers",
    ),
    "CD-MOD-004": (
        lambda: clean_snapshot(lines=(line(procedure_code="71046", modifiers=("26", "TC")),)),
        "lines[1].modifiers",
    ),
    "CD-PTR-001": (
        lambda: clean_snapshot(lines=(line(diagnosis_pointers=()),)),
        "lines[1].diagnosis_pointers",
    ),
    "CD-PTR-002": (
        lambda: clean_snapshot(lines=(line(diagnosis_pointers=(1, 3)),)),
        "lines[1].diagnosis_pointers",
    ),
    "CD-PTR-003": (
        lambda: clean_snapshot(lines=(line(diagnosis_pointers=(1, 1)),)),
        "lines[1].diagnosis_pointers",
    ),
    "CD-DATE-001": (
        lambda: clean_snapshot(
            lines=(line(service_date_to=SERVICE_DATE - timedelta(days=1)),),
            service_from=SERVICE_DATE - timedelta(days=1),
        ),
        "lines[1].service_date_to",
    ),
    "CD-DATE-002": (
        lambda: clean_snapshot(
            lines=(line(service_date=TODAY + timedelta(days=3)),),
            service_to=TODAY + timedelta(days=3),
        ),
        "lines[1].service_date",
    ),
    "CD-DATE-003": (
        lambda: clean_snapshot(lines=(line(), line(2, service_date=SERVICE_DATE - timedelta(1)))),
        "lines[2].service_date",
    ),
    "CD-COV-001": (
        lambda: clean_snapshot(
            coverage=CoverageSnapshot(
                effective_from=date(2020, 1, 1),
                effective_to=SERVICE_DATE - timedelta(days=5),
                has_member_id=True,
            )
        ),
        "lines[1].service_date",
    ),
    "CD-COV-002": (
        lambda: clean_snapshot(
            coverage=CoverageSnapshot(
                effective_from=date(2020, 1, 1), has_member_id=True, payer_row_id=8
            )
        ),
        "coverage.payer",
    ),
    "CD-TF-001": (
        lambda: clean_snapshot(payer=_payer(timely_filing_days=5)),
        "lines[1].service_date",
    ),
    "CD-TF-002": (
        lambda: clean_snapshot(payer=_payer(timely_filing_days=20)),
        "lines[1].service_date",
    ),
    "CD-POS-001": (lambda: clean_snapshot(place_of_service="30"), "claim.place_of_service"),
    "CD-UNIT-001": (lambda: clean_snapshot(lines=(line(units=Decimal(0)),)), "lines[1].units"),
    "CD-UNIT-002": (lambda: clean_snapshot(lines=(line(units=Decimal(3)),)), "lines[1].units"),
    "CD-CHG-001": (
        lambda: clean_snapshot(lines=(line(), line(2, procedure_code="36415", charge=0))),
        "lines[2].charge",
    ),
    "CD-CHG-002": (lambda: clean_snapshot(total_charge=Decimal("99.00")), "claim.total_charge"),
    "CD-AUTH-001": (
        lambda: clean_snapshot(
            lines=(_PT_LINE,),
            payer=_payer(prior_auth_codes=frozenset({"97110"})),
            authorizations=(_auth(valid_to=SERVICE_DATE - timedelta(days=1)),),
        ),
        "lines[1].procedure_code",
    ),
    "CD-AUTH-002": (
        lambda: clean_snapshot(
            lines=(_PT_LINE,),
            payer=_payer(prior_auth_codes=frozenset({"97110"})),
            authorizations=(_auth(units=1),),
        ),
        "lines[1].units",
    ),
    "CD-DUP-001": (
        lambda: clean_snapshot(
            other_services=(
                ServiceFingerprint(claim_id=55, service_date=SERVICE_DATE, procedure_code="99213"),
            )
        ),
        "lines[1].procedure_code",
    ),
    "CD-DUP-002": (
        lambda: clean_snapshot(lines=(line(), line(2))),
        "lines[2].procedure_code",
    ),
    "CD-PAY-001": (
        lambda: clean_snapshot(
            payer=_payer(rules=PayerRuleSettings(not_covered=frozenset({"99213"})))
        ),
        "lines[1].procedure_code",
    ),
    "CD-PAY-002": (
        lambda: clean_snapshot(
            lines=(_PT_LINE,),
            payer=_payer(rules=PayerRuleSettings(required_modifiers={"97110": ("GP", "GO")})),
        ),
        "lines[1].modifiers",
    ),
    "CD-PAY-003": (
        lambda: clean_snapshot(
            lines=(_PT_LINE, line(2, procedure_code="97110", modifiers=("59",))),
            payer=_payer(rules=PayerRuleSettings(max_units={"97110": Decimal(2)})),
        ),
        "lines[1].units",
    ),
    "CD-TXT-001": (
        lambda: clean_snapshot(
            wire_text_problems=(WireTextProblem(field="patient.last_name", problem="empty"),)
        ),
        "patient.last_name",
    ),
    "CD-TXT-002": (
        lambda: clean_snapshot(
            wire_text_problems=(
                WireTextProblem(field="subscriber.address.line1", problem="delimiter"),
            )
        ),
        "subscriber.address.line1",
    ),
}
# The CMS edit-file and sex/age rules' cases live beside their helpers.
CASES.update(EDIT_CASES)


def test_core_pack_silent_on_clean_snapshot() -> None:
    assert run_rules(clean_snapshot(), CORE_PACK).findings == ()


def test_core_pack_silent_on_clean_institutional_snapshot() -> None:
    assert run_rules(_institutional(), CORE_PACK).findings == ()


def test_core_pack_every_rule_has_a_crafted_case() -> None:
    assert sorted(CASES) == sorted(rule.id for rule in CORE_PACK.rules)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_crafted_snapshot(rule_id: str) -> None:
    build, field = CASES[rule_id]
    rule = CORE_PACK.rule(rule_id)
    findings = rule.evaluate(build())
    assert findings, f"{rule_id} stayed silent on its crafted snapshot"
    assert {f.field for f in findings} == {field}
    assert all(f.severity == rule.severity and f.rule_id == rule_id for f in findings)
    assert rule.evaluate(clean_snapshot()) == []
