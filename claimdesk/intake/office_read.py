"""Reading the office file: YAML with line numbers, fee-schedule CSVs beside it.

``read_office_file`` returns every section's items validated (the models are in
``office_schema``), or the list of problems, each naming the file, the line and
the field. A key that would hold a secret (``password``, ``token``, ...) is
refused wherever it is, by its line, and its value is never repeated.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from pydantic import ValidationError

from claimdesk.intake.office_schema import (
    CREDENTIAL_FIELDS,
    SECTIONS,
    FeeCsvIn,
    FeeRowIn,
    PayerIn,
    PracticeIn,
    Problem,
    ProviderIn,
    UserIn,
)

Path_ = tuple[str | int, ...]
T = TypeVar("T")

FEE_COLUMNS = ("payer", "code", "modifier", "effective_from", "effective_to", "allowed")
# Keys whose YAML scalars are identifiers or amounts: read as written (ZIP 01234, NPI
# 1234567893 and 92.00 would otherwise become an octal, an int and a float).
_TEXT_KEYS = frozenset(
    {"npi", "tin", "taxonomy", "postal_code", "payer_id", "payer", "practice", "code"}
    | {"modifier", "allowed", "username", "name", "line1", "line2", "city", "state"}
    | {"organization_name", "first_name", "last_name", "claim_filing_indicator"}
    | {"prior_auth_codes", "sender_id", "receiver_id", "endpoint", "appeal_endpoint"}
    | set(CREDENTIAL_FIELDS)
)
# Keys that would hold a secret's value: refused wherever they appear.
_SECRET_KEY = re.compile(
    r"^(password|passwd|pass|secret|client_secret|token|api_?key|access_key|private_key"
    r"|passphrase|credentials?|cert_password|key_password)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class At(Generic[T]):
    """A validated item and where it is: the YAML, or a CSV file beside it."""

    item: T
    file: str
    line: int
    prefix: str  # "payers[2]" in the YAML; "" in a CSV (the line says it all)

    def field(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name


@dataclass
class OfficeFile:
    """The file's valid items, and the keys of every item (valid or not) by section."""

    path: Path
    practices: list[At[PracticeIn]] = field(default_factory=list)
    providers: list[At[ProviderIn]] = field(default_factory=list)
    payers: list[At[PayerIn]] = field(default_factory=list)
    fee_rows: list[At[FeeRowIn]] = field(default_factory=list)
    users: list[At[UserIn]] = field(default_factory=list)
    # Practice NPIs and payer ids as written, so a reference to an item that has a
    # problem of its own is not reported a second time as unknown.
    named: dict[str, set[str]] = field(default_factory=dict)
    practice_count: int = 0


# --- Reading ------------------------------------------------------------------------------


@dataclass
class _Located:
    data: Any
    lines: dict[Path_, int]


def _load_yaml(text: str, label: str, problems: list[Problem]) -> _Located | None:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return _Located({}, {(): 1})
        lines: dict[Path_, int] = {(): node.start_mark.line + 1}
        data = _to_python(loader, node, (), lines, label, problems)
        return _Located(data, lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(label, line, "", f"not valid YAML: {exc.problem or exc}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(Problem(label, 1, "", f"not valid YAML: {exc}"))
        return None
    finally:
        loader.dispose()


def _to_python(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    label: str,
    problems: list[Problem],
) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in out:
                problems.append(Problem(label, line, _dotted((*path, key)), "given twice"))
                continue
            lines[(*path, key)] = line
            out[key] = _to_python(loader, value_node, (*path, key), lines, label, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            items.append(_to_python(loader, item, (*path, index), lines, label, problems))
        return items
    named = next((part for part in reversed(path) if isinstance(part, str)), "")
    if named in _TEXT_KEYS and node.tag != "tag:yaml.org,2002:null":
        return str(node.value)
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError):  # e.g. 2026-13-01 read as a timestamp
        line = node.start_mark.line + 1
        what = "a date (YYYY-MM-DD)" if node.tag.endswith(":timestamp") else "a value"
        problems.append(Problem(label, line, _dotted(path), f"{node.value!r} is not {what}"))
        return None


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _line_of(lines: dict[Path_, int], path: Path_) -> int:
    """The line of ``path``, else of its nearest parent that is in the file."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return 1


# What a value that does not match its pattern should look like, by key.
_PATTERN_HINTS = {
    "tin": "nine digits (the employer identification number)",
    "postal_code": "a ZIP code, 5 or 9 digits",
    "state": "a two-letter state code",
    "taxonomy": "a NUCC taxonomy code: 10 characters ending in X",
    "code": "a CPT/HCPCS code: 5 letters or digits",
    "prior_auth_codes": "a CPT/HCPCS code: 5 letters or digits",
    "modifier": "a modifier: 2 letters or digits",
    "payer_id": "an EDI payer id: letters, digits and -",
    "payer": "an EDI payer id: letters, digits and -",
    "username": "lowercase letters, digits, . _ -",
    "claim_filing_indicator": "an SBR09 code: 2 letters or digits (MB, MC, CI, ...)",
    "clock_starts": "notice, notice+N, decision or decision+N",
    "endpoint": "an http(s) URL",
    "appeal_endpoint": "an http(s) URL",
}


def _errors(exc: ValidationError, prefix: Path_) -> list[tuple[Path_, str]]:
    out = []
    for error in exc.errors():
        loc = (*prefix, *error["loc"])
        key = next((part for part in reversed(loc) if isinstance(part, str)), "")
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "not a field here (check its spelling and indentation)"
        if error["type"] == "string_pattern_mismatch" and key in _PATTERN_HINTS:
            message = f"must be {_PATTERN_HINTS[key]}"
        out.append((loc, message))
    return out


def _secret_problems(located: _Located, label: str) -> list[Problem]:
    """A key that would hold a secret's value, wherever it is, by its line."""
    problems = []
    for path, line in located.lines.items():
        if not (path and isinstance(path[-1], str) and _SECRET_KEY.match(path[-1])):
            continue
        if path[0] == "users":
            why = "passwords are never in this file; an admin sets one with `claimdesk users "
            why += "set-password USERNAME`"
        else:
            why = f"secrets are never in this file; give {path[-1]}_env (an environment "
            why += f"variable's name) or {path[-1]}_file (a secret file's absolute path)"
        problems.append(Problem(label, line, _dotted(path), why))
    return problems


def read_office_file(path: Path, *, label: str | None = None) -> tuple[OfficeFile, list[Problem]]:
    """Read and validate ``path``; the problems list is empty when all of it is good."""
    label = label or str(path)
    problems: list[Problem] = []
    office = OfficeFile(path=path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problems.append(Problem(label, 1, "", f"cannot be read ({why}); check the path"))
        return office, problems
    for number, text_line in enumerate(text.splitlines(), start=1):
        if "-----BEGIN" in text_line:
            problems.append(
                Problem(label, number, "", "a PEM key or certificate: give its file's path")
            )
    located = _load_yaml(text, label, problems)
    if located is None:
        return office, problems
    problems.extend(_secret_problems(located, label))
    said = {p.field for p in problems}  # a field already named is not named again
    if not isinstance(located.data, dict):
        problems.append(Problem(label, 1, "", "the file must be a mapping of sections"))
        return office, problems
    for key in located.data:
        if key not in SECTIONS:
            problems.append(
                Problem(
                    label,
                    located.lines[(key,)],
                    key,
                    f"not a section; the sections are {', '.join(SECTIONS)}",
                )
            )
    for section, model in SECTIONS.items():
        items = located.data.get(section) or []
        if not isinstance(items, list):
            problems.append(Problem(label, located.lines[(section,)], section, "must be a list"))
            continue
        key = {"practices": "npi", "payers": "payer_id"}.get(section)
        if key:
            office.named[section] = {
                str(raw.get(key)).upper() for raw in items if isinstance(raw, dict)
            }
        if section == "practices":
            office.practice_count = len(items)
        for index, raw in enumerate(items):
            where: Path_ = (section, index)
            if section == "fee_schedules" and isinstance(raw, dict) and "csv" in raw:
                _read_fee_csv(raw, where, located, label, office, problems)
                continue
            try:
                item = model.model_validate(raw)
            except ValidationError as exc:
                for loc, message in _errors(exc, where):
                    if _dotted(loc) not in said:
                        problems.append(
                            Problem(label, _line_of(located.lines, loc), _dotted(loc), message)
                        )
                continue
            at = At(item, label, located.lines[where], _dotted(where))
            getattr(office, "fee_rows" if section == "fee_schedules" else section).append(at)
    return office, sorted(set(problems), key=lambda p: (p.file != label, p.file, p.line))


def _read_fee_csv(
    raw: dict[str, Any],
    where: Path_,
    located: _Located,
    label: str,
    office: OfficeFile,
    problems: list[Problem],
) -> None:
    line = _line_of(located.lines, (*where, "csv"))
    try:
        ref = FeeCsvIn.model_validate(raw)
    except ValidationError as exc:
        for loc, message in _errors(exc, where):
            problems.append(Problem(label, _line_of(located.lines, loc), _dotted(loc), message))
        return
    csv_path = office.path.parent / ref.csv
    csv_label = str(Path(label).parent / ref.csv)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problems.append(Problem(label, line, _dotted((*where, "csv")), f"cannot be read ({why})"))
        return
    rows, csv_problems = parse_fee_csv(text, csv_label)
    office.fee_rows += rows
    problems += csv_problems


def parse_fee_csv(text: str, csv_label: str) -> tuple[list[At[FeeRowIn]], list[Problem]]:
    """A fee-schedule CSV's rows (the file's, or one uploaded in the app), or its problems."""
    rows: list[At[FeeRowIn]] = []
    problems: list[Problem] = []
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    unknown = [name for name in header if name not in FEE_COLUMNS]
    missing = [
        name for name in ("payer", "code", "effective_from", "allowed") if name not in header
    ]
    if unknown or missing:
        problems.append(
            Problem(
                csv_label,
                1,
                "header",
                (f"unknown column(s) {', '.join(unknown)}; " if unknown else "")
                + (f"missing column(s) {', '.join(missing)}; " if missing else "")
                + f"the columns are {', '.join(FEE_COLUMNS)}",
            )
        )
        return rows, problems
    reader.fieldnames = header
    for row in reader:
        row_line = reader.line_num
        if None in row:
            problems.append(Problem(csv_label, row_line, "", "more values than columns"))
            continue
        data = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in row.items()}
        if not any(data.values()):
            continue
        try:
            rows.append(At(FeeRowIn.model_validate(data), csv_label, row_line, ""))
        except ValidationError as exc:
            for loc, message in _errors(exc, ()):
                problems.append(Problem(csv_label, row_line, _dotted(loc), message))
    return rows, problems
