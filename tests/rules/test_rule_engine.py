"""The engine: sorting, has_errors, pack versions, and a broken rule named in RuleError."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from claimdesk.errors import ConfigError
from claimdesk.rules import (
    CORE_PACK,
    DEFAULT_PACK,
    ClaimSnapshot,
    CoverageSnapshot,
    Hit,
    PayerSnapshot,
    Rule,
    RuleError,
    RulePack,
    hit,
    read_rule_pack,
    run_rules,
)
from claimdesk.rules.payer_rules import read_payer_rule_settings
from tests.rules.snapshots import SERVICE_DATE, clean_snapshot, line


def _boom(snapshot: ClaimSnapshot) -> Iterator[Hit]:
    raise ZeroDivisionError("member MEM123 divided by zero")


def test_run_rules_sorts_errors_first_then_by_line_number() -> None:
    lines = tuple(line(n, modifiers=("26", "TC") if n in (2, 10) else ()) for n in range(1, 11))
    snapshot = clean_snapshot(lines=lines, payer=PayerSnapshot(payer_id="X", timely_filing_days=20))
    result = run_rules(snapshot, CORE_PACK)
    assert result.has_errors
    severities = [f.severity for f in result.findings]
    assert severities == sorted(severities, key=["error", "warning"].index)
    conflict_fields = [f.field for f in result.errors if f.rule_id == "CD-MOD-004"]
    assert conflict_fields == ["lines[2].modifiers", "lines[10].modifiers"]
    assert {f.rule_id for f in result.warnings} == {"CD-TF-002", "CD-DUP-002"}


def test_run_rules_records_pack_name_and_version() -> None:
    result = run_rules(clean_snapshot(), DEFAULT_PACK)
    assert (result.pack_name, result.pack_version) == ("claimdesk-core", CORE_PACK.version)
    assert not result.has_errors
    assert read_rule_pack("claimdesk-core") is CORE_PACK
    assert CORE_PACK.label == f"claimdesk-core@{CORE_PACK.version}"


def test_run_rules_wraps_a_raising_rule_in_rule_error() -> None:
    pack = RulePack("test", "1", (Rule("CD-T-001", "error", "claim", "never", _boom),))
    with pytest.raises(RuleError) as info:
        run_rules(clean_snapshot(), pack)
    assert info.value.rule_id == "CD-T-001"
    assert "CD-T-001" in str(info.value) and "ZeroDivisionError" in str(info.value)
    assert "MEM123" not in str(info.value)  # the exception text may hold PHI: detail only
    assert "MEM123" in (info.value.detail or "")


def test_rule_with_template_missing_a_value_raises_rule_error() -> None:
    rule = Rule("CD-T-002", "warning", "claim", "needs {absent}", lambda s: [hit()])
    with pytest.raises(RuleError, match="CD-T-002"):
        rule.evaluate(clean_snapshot())


def test_rule_pack_refuses_a_rule_listed_twice() -> None:
    rule = CORE_PACK.rules[0]
    with pytest.raises(ValueError, match=rule.id):
        RulePack("twice", "1", (rule, rule))


def test_rule_pack_without_marks_its_version() -> None:
    smaller = CORE_PACK.without("CD-TF-002")
    assert "CD-TF-002" not in {r.id for r in smaller.rules}
    assert smaller.version != CORE_PACK.version


def test_findings_carry_codes_not_phi() -> None:
    snapshot = clean_snapshot(
        lines=(line(procedure_code="97110", service_date=SERVICE_DATE - timedelta(days=400)),),
        service_from=SERVICE_DATE - timedelta(days=400),
        coverage=CoverageSnapshot(effective_from=SERVICE_DATE, has_member_id=False, payer_row_id=7),
    )
    result = run_rules(snapshot, CORE_PACK)
    assert {"CD-COV-001", "CD-TF-001", "CD-REQ-004"} <= set(result.rule_ids)
    for finding in result.findings:
        assert str(SERVICE_DATE.year) not in finding.message  # no dates of service
        assert "2026-" not in finding.message


def test_timely_filing_counts_from_line_from_date_on_professional_claims() -> None:
    old = SERVICE_DATE - timedelta(days=100)
    snapshot = clean_snapshot(
        lines=(line(service_date=old, service_date_to=SERVICE_DATE),),
        service_from=old,
        payer=PayerSnapshot(payer_id="X", timely_filing_days=90),
    )
    assert [f.rule_id for f in run_rules(snapshot, CORE_PACK).findings] == ["CD-TF-001"]


def test_timely_filing_counts_from_through_date_on_institutional_claims() -> None:
    old = SERVICE_DATE - timedelta(days=100)
    snapshot = clean_snapshot(
        kind="I",
        facility_type_code="13",
        lines=(line(revenue_code="0450", service_date=old, service_date_to=SERVICE_DATE),),
        service_from=old,
        payer=PayerSnapshot(payer_id="X", timely_filing_days=90),
    )
    # Through date 7 days ago, 90-day limit: in time even though From is 107 days ago.
    assert run_rules(snapshot, CORE_PACK).findings == ()


def test_duplicate_with_other_modifiers_is_not_a_duplicate() -> None:
    from claimdesk.rules import ServiceFingerprint

    other = ServiceFingerprint(
        claim_id=9, service_date=SERVICE_DATE, procedure_code="99213", modifiers=("25",)
    )
    assert run_rules(clean_snapshot(other_services=(other,)), CORE_PACK).findings == ()


def test_dotted_diagnosis_code_is_accepted() -> None:
    from claimdesk.rules import DiagnosisSnapshot

    snapshot = clean_snapshot(diagnoses=(DiagnosisSnapshot(position=1, code="E11.9"),))
    assert run_rules(snapshot, CORE_PACK).findings == ()


def test_read_payer_rule_settings_merges_payer_config_over_shipped_table() -> None:
    shipped = read_payer_rule_settings("SIMMCR", {})
    assert "GP" in shipped.required_modifiers["97110"]
    own = read_payer_rule_settings("SIMMCR", {"scrub_rules": {"not_covered": ["99396"]}})
    assert own.not_covered == frozenset({"99396"})
    assert own.max_units == shipped.max_units
    assert read_payer_rule_settings("UNKNOWN", {}).max_units == {}


def test_read_payer_rule_settings_refuses_bad_config() -> None:
    with pytest.raises(ConfigError, match="max_units"):
        read_payer_rule_settings("X", {"scrub_rules": {"max_units": {"97110": "many"}}})
