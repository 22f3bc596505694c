"""The CMS edit data a scrub reads: the versions in force on the claim's dates of service.

``claimdesk.cms_edits.lookup`` picks, for each date of service, the NCCI PTP, MUE and
HCPCS versions in force, and the ICD-10-CM version of the fiscal year the diagnoses
are judged in, and hands the rules only the rows about this claim's codes. Nothing
loaded for a kind leaves it empty: PTP and MUE edits do not run, HCPCS codes keep their
shape check only, and diagnoses are judged by the ICD-10-CM set shipped with
``simple_icd_10_cm`` (``claimdesk.rules.icd10cm``). ``describe_versions`` says which.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from claimdesk.rules.cms_files import fiscal_year
from claimdesk.rules.icd10cm import ICD10CM_CODE_SET


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PtpEdit(_Frozen):
    """An NCCI PTP edit in force on ``service_date`` between two codes billed that day."""

    service_date: date
    column1: str
    column2: str
    # "0": never billed together; "1": an NCCI-associated modifier may allow it.
    modifier_indicator: Literal["0", "1"]
    rationale: str = ""
    version: str


class MueLimit(_Frozen):
    """The MUE in force on ``service_date`` for one code billed that day."""

    service_date: date
    code: str
    units: int
    # "1" per claim line; "2" per date of service, absolute; "3" per date, clinical.
    adjudication: Literal["1", "2", "3"]
    rationale: str = ""
    version: str


class HcpcsEntry(_Frozen):
    """What the HCPCS version in force on ``service_date`` says about one Level II code."""

    service_date: date
    code: str
    listed: bool
    added: date | None = None
    terminated: date | None = None
    version: str


class Icd10Entry(_Frozen):
    """What the loaded ICD-10-CM version says about one diagnosis code."""

    code: str
    listed: bool
    billable: bool = False


class EditData(_Frozen):
    ptp: tuple[PtpEdit, ...] = ()
    mue: tuple[MueLimit, ...] = ()
    hcpcs: tuple[HcpcsEntry, ...] = ()
    # The loaded ICD-10-CM version the diagnoses are judged by; None: the shipped set.
    icd10cm_version: str | None = None
    icd10cm: tuple[Icd10Entry, ...] = ()
    # Kind ("ncci-ptp", "mue", "hcpcs", "icd10cm") -> names of the versions read.
    versions: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    def icd10(self, code: str) -> Icd10Entry | None:
        return next((e for e in self.icd10cm if e.code == code), None)

    def hcpcs_entry(self, code: str, on: date) -> HcpcsEntry | None:
        return next((e for e in self.hcpcs if e.code == code and e.service_date == on), None)


def diagnosis_date(kind: str, service_from: date, service_to: date) -> date:
    """The date whose fiscal year the diagnoses are coded in: a professional claim's first
    date of service, an institutional claim's through (discharge) date."""
    return service_to if kind == "I" else service_from


def describe_versions(data: EditData, diagnoses_on: date) -> dict[str, str]:
    """Which data each edit kind used, for the scrub's record (a kind may say "none")."""
    described = {
        "ncci-ptp": ", ".join(data.versions.get("ncci-ptp", ())) or "none loaded (not checked)",
        "mue": ", ".join(data.versions.get("mue", ())) or "none loaded (not checked)",
        "hcpcs": ", ".join(data.versions.get("hcpcs", ())) or "none loaded (shape check only)",
    }
    described["icd10cm"] = data.icd10cm_version or (
        f"{ICD10CM_CODE_SET} shipped with simple-icd-10-cm "
        f"(no ICD-10-CM file loaded for FY{fiscal_year(diagnoses_on)})"
    )
    return described
