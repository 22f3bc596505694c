"""The code sets a payer's files carry, loaded from ``claimdesk/codes/data/*.csv``.

One CSV per list. Its first lines are ``# key: value`` metadata (``list``,
``title``, ``version``, ``source``, ``licence``, ``complete`` and notes on dates
or words); then a header row and one row per code: ``code``, ``text``,
optionally ``status`` (``active``/``retired``), ``effective`` and ``retired``
(ISO dates, blank when the source gives none), and list-specific columns
(``class`` for CARCs, ``notes``). ``claimdesk/codes/SOURCES.md`` says where each
list came from. Pure: reading the packaged files is the only I/O, cached per list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources

from claimdesk.errors import ConfigError

# The lists claimdesk ships, by the name the CLI and callers use.
LISTS: Mapping[str, str] = {
    "carc": "claim adjustment reason codes (835 CAS)",
    "rarc": "remittance advice remark codes (835 LQ/MIA/MOA)",
    "cscc": "claim status category codes (277 STC01-1)",
    "csc": "claim status codes (277 STC01-2)",
    "cas_group": "claim adjustment group codes (835 CAS01)",
    "ik3": "999 segment error codes (IK304)",
    "ik4": "999 element error codes (IK403)",
    "pos": "place of service codes",
    "claim_frequency": "claim frequency type codes (CLM05-3)",
    "entity": "entity identifier codes (NM101)",
}
_REQUIRED_META = ("list", "version", "source", "licence")


class UnknownCodeList(ConfigError):
    """A list name claimdesk does not ship."""


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    text: str
    effective: date | None = None
    retired: date | None = None
    status: str = "active"
    code_class: str | None = None  # CARC only: the routing class
    notes: str = ""

    def active_on(self, day: date) -> bool:
        """Usable on ``day``: started (when the start is known) and not yet stopped."""
        if self.effective is not None and day < self.effective:
            return False
        if self.retired is not None:
            return day < self.retired
        return self.status != "retired"

    @property
    def active(self) -> bool:
        return self.status != "retired" and self.retired is None


@dataclass(frozen=True)
class CodeList:
    name: str
    version: str
    source: str
    licence: str
    title: str = ""
    complete: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)
    codes: Mapping[str, Code] = field(default_factory=dict)

    def get(self, code: str) -> Code | None:
        return self.codes.get(code.strip().upper())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes.values())

    def __len__(self) -> int:
        return len(self.codes)


def _date(value: str, where: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD); fix the file.") from exc


def parse_code_list(text: str, *, source: str) -> CodeList:
    """One list from its CSV text; a bad row is a ``ConfigError`` naming file and line."""
    lines = text.splitlines()
    meta: dict[str, str] = {}
    body_start = 0
    for i, line in enumerate(lines):
        if not line.startswith("#"):
            body_start = i
            break
        key, _, value = line[1:].partition(":")
        meta[key.strip()] = value.strip()
    else:
        body_start = len(lines)
    missing = [k for k in _REQUIRED_META if not meta.get(k)]
    if missing:
        raise ConfigError(f"{source}: metadata {', '.join(missing)} missing; fix the file.")
    reader = csv.DictReader(lines[body_start:])
    if not reader.fieldnames or not {"code", "text"} <= set(reader.fieldnames):
        raise ConfigError(f"{source}: the header row needs 'code' and 'text' columns.")
    codes: dict[str, Code] = {}
    for n, row in enumerate(reader, start=body_start + 2):
        where = f"{source} line {n}"
        code = (row.get("code") or "").strip().upper()
        if not code:
            raise ConfigError(f"{where}: empty code; fix the file.")
        if code in codes:
            raise ConfigError(f"{where}: code {code} appears twice; fix the file.")
        status = (row.get("status") or "active").strip()
        if status not in ("active", "retired"):
            raise ConfigError(f"{where}: status {status!r} is not active or retired.")
        codes[code] = Code(
            code=code,
            text=(row.get("text") or "").strip(),
            effective=_date((row.get("effective") or "").strip(), where),
            retired=_date((row.get("retired") or "").strip(), where),
            status=status,
            code_class=(row.get("class") or "").strip() or None,
            notes=(row.get("notes") or "").strip(),
        )
    return CodeList(
        name=meta["list"],
        version=meta["version"],
        source=meta["source"],
        licence=meta["licence"],
        title=meta.get("title", ""),
        complete=meta.get("complete", ""),
        meta=meta,
        codes=codes,
    )


@lru_cache(maxsize=len(LISTS))
def load(name: str) -> CodeList:
    """The shipped list ``name`` (one of ``LISTS``)."""
    if name not in LISTS:
        raise UnknownCodeList(f"no code list {name!r}; the lists are: {', '.join(LISTS)}.")
    path = f"codes/data/{name}.csv"
    text = resources.files("claimdesk").joinpath(path).read_text("utf-8")
    return parse_code_list(text, source=f"claimdesk/{path}")


def lookup(name: str, code: str) -> Code | None:
    """The code in list ``name``, or None when the list does not know it."""
    return load(name).get(code)


def words(name: str, code: str) -> str | None:
    """The code's words, or None when unknown or the shipped copy has none."""
    found = lookup(name, code)
    return found.text if found is not None and found.text else None
