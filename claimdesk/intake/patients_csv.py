"""Reading a patients CSV into ``PatientIn`` items (columns: ``claimdesk.intake.patients``)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from claimdesk.intake.patient_input import AuthorizationIn, CoverageIn, PatientIn
from claimdesk.intake.problems import ImportProblem

PATIENT_COLUMNS = (
    "practice_npi",
    "account_number",
    "medical_record_number",
    "last_name",
    "first_name",
    "birth_date",
    "sex",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "phone",
)
COVERAGE_COLUMNS = (
    "payer_id",
    "member_id",
    "group_number",
    "plan_name",
    "relationship",
    "subscriber_last_name",
    "subscriber_first_name",
    "subscriber_birth_date",
    "effective_from",
    "effective_to",
    "coverage_order",
)
AUTHORIZATION_COLUMNS = (
    "authorization_number",
    "authorization_kind",
    "authorization_codes",
    "authorization_from",
    "authorization_to",
    "authorization_units",
)
REQUIRED_COLUMNS = frozenset({"account_number", "last_name", "first_name", "birth_date"})
ALL_COLUMNS = frozenset(PATIENT_COLUMNS + COVERAGE_COLUMNS + AUTHORIZATION_COLUMNS)
# A model field → its column, where the two differ (problems name the column).
COLUMN_OF = {
    "gender": "sex",
    "valid_from": "authorization_from",
    "valid_to": "authorization_to",
    "units": "authorization_units",
    "codes": "authorization_codes",
    "kind": "authorization_kind",
    "number": "authorization_number",
    "Coverage": "effective_to",
    "Authorization": "authorization_to",
}
_SEX = {"f": "F", "female": "F", "m": "M", "male": "M", "u": "U", "unknown": "U", "": "U"}
_RELATIONSHIP = {"18": "self", "01": "spouse", "19": "child", "g8": "other", "": "self"}
_ORDER = {"primary": 1, "secondary": 2, "tertiary": 3, "1": 1, "2": 2, "3": 3, "": 1}


class BadValue(ValueError):
    """A cell that cannot be read; the message is the reason (never the value)."""


def read_patients_csv(data: bytes) -> tuple[list[PatientIn], list[ImportProblem]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [ImportProblem("file", "file", f"not UTF-8 (byte {exc.start})")]
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as exc:
        return [], [ImportProblem("row 1", "header", f"unreadable CSV ({exc})")]
    if not header:
        return [], [ImportProblem("file", "file", "empty: no header row")]
    reader.fieldnames = header
    problems: list[ImportProblem] = []
    if missing := REQUIRED_COLUMNS - set(header):
        problems.append(ImportProblem("row 1", "header", f"missing {sorted(missing)}"))
    if unknown := set(header) - ALL_COLUMNS:
        names = sorted(u[:30] for u in unknown)
        problems.append(ImportProblem("row 1", "header", f"unknown columns {names}"))
    if len(set(header)) != len(header):
        problems.append(ImportProblem("row 1", "header", "a column is named twice"))
    if problems:
        return [], problems
    rows = _Rows(frozenset(header))
    rownum = 1
    try:
        for rownum, row in enumerate(reader, start=2):
            if None in row:
                problems.append(ImportProblem(f"row {rownum}", "row", "more cells than columns"))
                continue
            values = {k: (v or "").strip() for k, v in row.items()}
            if any(values.values()):  # a blank line is skipped
                rows.add(values, f"row {rownum}", problems)
    except csv.Error as exc:
        problems.append(ImportProblem(f"row {rownum + 1}", "row", f"unreadable CSV ({exc})"))
    if not rows.patients and not problems:
        problems.append(ImportProblem("file", "file", "no patient rows"))
    return list(rows.patients.values()), problems


class _Rows:
    """Rows grouped into patients (by practice and account) and coverages (payer, member)."""

    def __init__(self, header: frozenset[str]) -> None:
        self.header = header
        self.patients: dict[tuple[str, str], PatientIn] = {}
        self.first_row: dict[tuple[str, str], dict[str, str]] = {}
        self.coverages: dict[tuple[str, str, str, str], tuple[CoverageIn, dict[str, str]]] = {}

    def add(self, cells: dict[str, str], where: str, problems: list[ImportProblem]) -> None:
        before = len(problems)

        def read(name: str, parse: Callable[[str], Any]) -> Any:
            try:
                return parse(cells.get(name, ""))
            except (BadValue, ValueError) as exc:
                reason = str(exc) if isinstance(exc, BadValue) else "not a valid value"
                problems.append(ImportProblem(where, name, reason))
                return None

        for name in sorted(REQUIRED_COLUMNS):
            if not cells.get(name):
                problems.append(ImportProblem(where, name, "empty"))
        if len(problems) > before:
            return
        patient = {
            "medical_record_number": cells.get("medical_record_number") or None,
            "last_name": cells["last_name"],
            "first_name": cells["first_name"],
            "birth_date": read("birth_date", _date),
            "gender": read("sex", _choice(_SEX, "F, M or U")),
            "address_line1": cells.get("address_line1", ""),
            "address_line2": cells.get("address_line2") or None,
            "city": cells.get("city", ""),
            "state": read("state", us_state),
            "postal_code": read("postal_code", postal_code_digits),
            "phone": read("phone", phone_digits),
        }
        given = {"gender" if k == "sex" else k for k in self.header}
        patient = {k: v for k, v in patient.items() if k in given}
        coverage = self._coverage(cells, where, problems, read)
        authorization = self._authorization(cells, where, problems, read)
        if len(problems) > before:
            return
        key = (cells.get("practice_npi", ""), cells["account_number"])
        entry = self.patients.get(key)
        if entry is None:
            entry = PatientIn(
                where=where,
                practice_npi=key[0] or None,
                account_number=key[1],
                values=patient,
                names=COLUMN_OF,
            )
            self.patients[key] = entry
            self.first_row[key] = cells
        else:
            first = self.first_row[key]
            differ = [c for c in PATIENT_COLUMNS if first.get(c, "") != cells.get(c, "")]
            if differ:
                message = f"differs from {entry.where} of the same patient"
                problems.append(ImportProblem(where, differ[0], message))
                return
        if coverage is not None:
            ckey = (*key, coverage.payer_id, coverage.member_id)
            earlier = self.coverages.get(ckey)
            if earlier is None:
                self.coverages[ckey] = (coverage, cells)
                entry.coverages.append(coverage)
            else:
                differ = [c for c in COVERAGE_COLUMNS if earlier[1].get(c, "") != cells.get(c, "")]
                if differ:
                    message = f"differs from {earlier[0].where} of the same coverage"
                    problems.append(ImportProblem(where, differ[0], message))
                    return
        if authorization is not None:
            entry.authorizations.append(authorization)

    def _coverage(
        self,
        cells: dict[str, str],
        where: str,
        problems: list[ImportProblem],
        read: Callable[[str, Callable[[str], Any]], Any],
    ) -> CoverageIn | None:
        if not cells.get("member_id") and not cells.get("effective_from"):
            return None
        missing = [c for c in ("payer_id", "member_id", "effective_from") if not cells.get(c)]
        for name in missing:
            problems.append(ImportProblem(where, name, "empty (a coverage needs it)"))
        values = {
            "group_number": cells.get("group_number") or None,
            "plan_name": cells.get("plan_name") or None,
            "relationship": read("relationship", _relationship),
            "subscriber_last_name": cells.get("subscriber_last_name") or None,
            "subscriber_first_name": cells.get("subscriber_first_name") or None,
            "subscriber_birth_date": read("subscriber_birth_date", _optional_date),
            "effective_from": read("effective_from", _optional_date),
            "effective_to": read("effective_to", _optional_date),
            "coverage_order": read("coverage_order", _choice(_ORDER, "primary, secondary or 1-3")),
        }
        if missing:
            return None
        values = {k: v for k, v in values.items() if k in self.header or k == "effective_from"}
        return CoverageIn(where, cells["payer_id"], cells["member_id"], values)

    def _authorization(
        self,
        cells: dict[str, str],
        where: str,
        problems: list[ImportProblem],
        read: Callable[[str, Callable[[str], Any]], Any],
    ) -> AuthorizationIn | None:
        if not cells.get("authorization_number"):
            return None
        needed = ("payer_id", "authorization_from", "authorization_to")
        missing = [c for c in needed if not cells.get(c)]
        for name in missing:
            problems.append(ImportProblem(where, name, "empty (an authorization needs it)"))
        values = {
            "kind": cells.get("authorization_kind") or "prior_auth",
            "codes": cells.get("authorization_codes", "").replace(",", " ").split(),
            "valid_from": read("authorization_from", _optional_date),
            "valid_to": read("authorization_to", _optional_date),
            "units": read("authorization_units", lambda raw: int(raw) if raw else None),
        }
        if missing:
            return None
        return AuthorizationIn(where, cells["payer_id"], cells["authorization_number"], values)


def _date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadValue("not a date (YYYY-MM-DD)") from None


def _optional_date(raw: str) -> date | None:
    return _date(raw) if raw else None


def _choice(table: dict[str, Any], allowed: str) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            return table[raw.lower()]
        except KeyError:
            raise BadValue(f"must be {allowed}") from None

    return parse


def _relationship(raw: str) -> str:
    value = raw.lower()
    if value in ("self", "spouse", "child", "other"):
        return value
    return _choice(_RELATIONSHIP, "self, spouse, child or other")(value)


def us_state(raw: str) -> str:
    if raw and not re.fullmatch(r"[A-Za-z]{2}", raw):
        raise BadValue("two letters (a US state)")
    return raw.upper()


def postal_code_digits(raw: str) -> str:
    digits = raw.replace("-", "").replace(" ", "")
    if digits and not re.fullmatch(r"\d{5}(\d{4})?", digits):
        raise BadValue("a ZIP code: 5 or 9 digits")
    return digits


def phone_digits(raw: str) -> str | None:
    digits = re.sub(r"[\s().+-]", "", raw)
    if digits.startswith("1") and len(digits) == 11:
        digits = digits[1:]
    if digits and not re.fullmatch(r"\d{10}", digits):
        raise BadValue("10 digits (area code and number)")
    return digits or None
