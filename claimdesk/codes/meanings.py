"""Plain-English meanings of the payer's codes (CARC, RARC, 277 category/status).

A small table of the codes a billing office meets most; a code not in it is
shown as-is with "see the published code list". When the CARC routing table
(``claimdesk/data/carc_*.json``, the denials routing table) is present, its
plain-English explanations take precedence.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

_DATA_DIR = Path(__file__).resolve().parents[1] / "data"
UNKNOWN = "not in claimdesk's table; see the published code list"

CARC = {
    "1": "Deductible amount.",
    "2": "Coinsurance amount.",
    "3": "Co-payment amount.",
    "4": "The procedure code is inconsistent with the modifier used.",
    "11": "The diagnosis is inconsistent with the procedure.",
    "16": "Claim/service lacks information or has submission/billing error(s).",
    "18": "Exact duplicate claim/service.",
    "22": "This care may be covered by another payer per coordination of benefits.",
    "23": "The impact of prior payer(s) adjudication including payments and/or adjustments.",
    "27": "Expenses incurred after coverage terminated.",
    "29": "The time limit for filing has expired.",
    "31": "Patient cannot be identified as our insured.",
    "45": "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement.",
    "50": "Non-covered service: not deemed a medical necessity by the payer.",
    "96": "Non-covered charge(s).",
    "97": "The benefit for this service is included in the payment for another service.",
    "109": "Claim/service not covered by this payer/contractor.",
    "197": "Precertification/authorization/notification/pre-treatment absent.",
    "204": "This service/equipment/drug is not covered under the patient's current benefit plan.",
    "242": "Services not provided by network/primary care providers.",
    "253": "Sequestration - reduction in federal payment.",
}
GROUP = {
    "CO": "Contractual obligation (write off; do not bill the patient)",
    "PR": "Patient responsibility",
    "OA": "Other adjustment",
    "PI": "Payer initiated reduction",
    "CR": "Correction and reversal",
}
RARC = {
    "M15": "Separately billed services/tests have been bundled.",
    "M20": "Missing/incomplete/invalid HCPCS.",
    "M51": "Missing/incomplete/invalid procedure code(s).",
    "M76": "Missing/incomplete/invalid diagnosis or condition.",
    "MA04": "Secondary payment cannot be considered without the primary payer's information.",
    "MA130": "Your claim contains incomplete and/or invalid information; resubmit.",
    "N30": "Patient ineligible for this service.",
    "N54": "Claim information is inconsistent with pre-certified/authorized services.",
    "N290": "Missing/incomplete/invalid rendering provider primary identifier.",
    "N382": "Missing/incomplete/invalid patient identifier.",
}
# 277 / 277CA claim status category codes (STC01-1).
STATUS_CATEGORY = {
    "A0": "Acknowledgement: forwarded to another entity.",
    "A1": "Acknowledgement: received, not yet processed.",
    "A2": "Acknowledgement: accepted into the adjudication system.",
    "A3": "Acknowledgement: returned as unprocessable claim.",
    "A4": "Acknowledgement: not found.",
    "A6": "Acknowledgement: rejected for missing information.",
    "A7": "Acknowledgement: rejected for invalid information.",
    "A8": "Acknowledgement: rejected for relational field in error.",
    "F0": "Finalized.",
    "F1": "Finalized/Payment: the claim was processed as billed or adjusted.",
    "F2": "Finalized/Denial: the claim was denied.",
    "F4": "Finalized/Adjudication complete: no payment forthcoming.",
    "P1": "Pending/In process.",
    "P2": "Pending/Payer review.",
    "P3": "Pending/Provider requested information.",
    "P4": "Pending/Patient requested information.",
    "R3": "Requests for additional information/claim-line level.",
}
# 277 claim status codes (STC01-2), the common ones.
STATUS_CODE = {
    "1": "For more detailed information, see remittance advice.",
    "3": "Claim has been adjudicated and is awaiting payment cycle.",
    "15": "Requested information was not provided or was insufficient/incomplete.",
    "20": "Accepted for processing.",
    "21": "Missing or invalid information.",
    "65": "Claim/line has been paid.",
    "88": "Entity not eligible for benefits.",
    "107": "Processed according to contract provisions.",
}


@lru_cache
def _routing_descriptions() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(_DATA_DIR.glob("carc*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        entries = (
            data.get("routes") or data.get("codes") or data if isinstance(data, dict) else data
        )
        items = entries.items() if isinstance(entries, dict) else enumerate(entries)
        for key, value in items:
            if isinstance(value, dict):
                code = str(value.get("carc") or value.get("code") or key)
                text = value.get("explanation") or value.get("description") or value.get("meaning")
                if text and code not in found:
                    found[code] = str(text)
    return found


def carc_meaning(code: str) -> str:
    return _routing_descriptions().get(code) or CARC.get(code, UNKNOWN)


def rarc_meaning(code: str) -> str:
    return RARC.get(code, UNKNOWN)


def group_meaning(code: str) -> str:
    return GROUP.get(code, UNKNOWN)


def status_meaning(category: str | None, status: str | None) -> str:
    parts = []
    if category:
        parts.append(STATUS_CATEGORY.get(category, f"category {category}: {UNKNOWN}"))
    if status:
        parts.append(STATUS_CODE.get(status, f"status {status}: {UNKNOWN}"))
    return " ".join(parts)


def stc_meaning(stc: str) -> str:
    """'A7:21' or 'A7:21:PR' (category:status[:entity]) in words."""
    parts = stc.replace("*", ":").split(":")
    return status_meaning(parts[0] or None, parts[1] if len(parts) > 1 else None)
