"""CMS's edit files as loaded: every version kept with its effective dates, and its rows.

A version (``edit_data_version``) is one publication: an NCCI PTP quarter's release
(its four part files), an MUE quarter, a HCPCS file, an ICD-10-CM fiscal year or its
April update. Each file loaded into it is an ``edit_data_file`` row, unique by content,
so loading the same file twice keeps one copy. ``claimdesk.cms_edits`` writes and reads
them; the scrubber picks the version in force on each date of service.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from models._fields import timestamp_field


class EditDataVersion(SQLModel, table=True):
    __tablename__ = "edit_data_version"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_edit_data_version_kind_name"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # ncci-ptp, mue, hcpcs, icd10cm
    name: str = Field(max_length=80)
    # NCCI's provider type (practitioner, outpatient hospital, dme); "" for the code sets.
    setting: str = Field(default="", max_length=20)
    effective_from: date
    # None: in force until a later version of the kind takes effect.
    effective_to: date | None = None
    loaded_at: datetime = timestamp_field(default_now=True)


class EditDataFile(SQLModel, table=True):
    __tablename__ = "edit_data_file"
    __table_args__ = (
        UniqueConstraint("kind", "sha256", name="uq_edit_data_file_kind_sha256"),
        UniqueConstraint("version_id", "part", name="uq_edit_data_file_version_part"),
    )
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="edit_data_version.id")
    kind: str = Field(max_length=10)
    # "f1" … "f4" for NCCI PTP's parts; "" for a one-file version.
    part: str = Field(default="", max_length=10)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    rows: int = 0
    loaded_by: str = Field(max_length=60)
    loaded_at: datetime = timestamp_field(default_now=True)


class NcciPtpEdit(SQLModel, table=True):
    __tablename__ = "ncci_ptp_edit"
    __table_args__ = (Index("ix_ncci_ptp_edit_pair", "version_id", "column1", "column2"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="edit_data_version.id")
    column1: str = Field(max_length=5)
    column2: str = Field(max_length=5)
    prior_to_1996: bool = False
    effective: date
    # None: still in force; else the edit does not apply on and after this date.
    deletion: date | None = None
    modifier_indicator: str = Field(max_length=1)
    rationale: str = Field(default="", max_length=200)


class MueEdit(SQLModel, table=True):
    __tablename__ = "mue_edit"
    __table_args__ = (Index("ix_mue_edit_code", "version_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="edit_data_version.id")
    code: str = Field(max_length=5)
    units: int
    adjudication: str = Field(max_length=1)
    rationale: str = Field(default="", max_length=200)


class HcpcsCode(SQLModel, table=True):
    """A HCPCS Level II code (CPT is licensed and never loaded; CDT keeps no words)."""

    __tablename__ = "hcpcs_code"
    __table_args__ = (Index("ix_hcpcs_code_code", "version_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="edit_data_version.id")
    code: str = Field(max_length=5)
    short_description: str = Field(default="", max_length=40)
    long_description: str = Field(default="", max_length=2000)
    added: date | None = None
    action_effective: date | None = None
    # The last date the code may be billed; None: not terminated.
    terminated: date | None = None


class Icd10cmCode(SQLModel, table=True):
    __tablename__ = "icd10cm_code"
    __table_args__ = (Index("ix_icd10cm_code_code", "version_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="edit_data_version.id")
    code: str = Field(max_length=7)  # without its dot
    billable: bool
    description: str = Field(default="", max_length=400)
