"""Claim scrubbing: pure rules over a ``ClaimSnapshot``, grouped in versioned packs.

    snapshot = build_claim_snapshot(session=session, claim_id=id, today=today)  # services
    result = run_rules(snapshot, DEFAULT_PACK)
    result.has_errors, result.findings, result.pack_name, result.pack_version

No database, Prefect or Streamlit in here; ``claimdesk.claims.snapshot``
is the one place that reads the tables for the rules.
"""

from claimdesk.rules.engine import (
    Finding,
    Hit,
    Rule,
    RuleError,
    RulePack,
    ScrubResult,
    Severity,
    hit,
    run_rules,
)
from claimdesk.rules.icd10cm import ICD10CM_CODE_SET
from claimdesk.rules.packs import CORE_PACK, DEFAULT_PACK, read_rule_pack
from claimdesk.rules.snapshot import (
    AuthorizationSnapshot,
    ClaimSnapshot,
    CoverageSnapshot,
    DiagnosisSnapshot,
    LineSnapshot,
    PayerRuleSettings,
    PayerSnapshot,
    ProviderSnapshot,
    ServiceFingerprint,
    WireTextProblem,
)

__all__ = [
    "CORE_PACK",
    "DEFAULT_PACK",
    "ICD10CM_CODE_SET",
    "AuthorizationSnapshot",
    "ClaimSnapshot",
    "CoverageSnapshot",
    "DiagnosisSnapshot",
    "Finding",
    "Hit",
    "LineSnapshot",
    "PayerRuleSettings",
    "PayerSnapshot",
    "ProviderSnapshot",
    "Rule",
    "RuleError",
    "RulePack",
    "ScrubResult",
    "ServiceFingerprint",
    "Severity",
    "WireTextProblem",
    "hit",
    "read_rule_pack",
    "run_rules",
]
