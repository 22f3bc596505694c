"""Validate an interchange: pyx12 where it has a map, our TR3 checks where it has none.

``validate(data)`` reads GS08/ST01 and sends 270/271 (X279A1), 276/277 (X212)
and 277CA (X214) to ``check_tr3``, everything else (837P/837I, 835, 999…) to
``validate_with_pyx12``. Every finding is a ``ValidationIssue`` naming the
segment position (ISA = 1), the segment id, the element and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from claimdesk.x12._errors import X12Error
from claimdesk.x12._pyx12 import validate_with_pyx12
from claimdesk.x12._tokenize import SegmentReader
from claimdesk.x12.validation_issue import ValidationIssue

__all__ = ["ValidationIssue", "check_tr3", "validate", "validate_with_pyx12"]

_Seg = tuple[int, list[str]]


@dataclass(frozen=True)
class _Rules:
    """What one transaction's TR3 requires of its header and HL levels."""

    bht: tuple[str, tuple[str, ...]]  # BHT01, allowed BHT02
    parents: dict[str, str | None]  # HL03 level → the level its parent must have
    required: dict[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)
    leaf_required: tuple[tuple[tuple[str, str | None], ...], ...] = ()  # any-of groups


_ELIGIBILITY_PARENTS: dict[str, str | None] = {"20": None, "21": "20", "22": "21", "23": "22"}
_STATUS_PARENTS: dict[str, str | None] = {
    "20": None,
    "21": "20",
    "19": "21",
    "22": "19",
    "23": "22",
}
_RULES: dict[str, _Rules] = {
    "270": _Rules(
        bht=("0022", ("13", "01", "36")),
        parents=_ELIGIBILITY_PARENTS,
        required={
            "20": (("NM1", "PR"),),
            "21": (("NM1", None),),
            "22": (("NM1", "IL"),),
            "23": (("NM1", "03"),),
        },
        leaf_required=((("EQ", None),),),
    ),
    "271": _Rules(
        bht=("0022", ("11", "06")),
        parents=_ELIGIBILITY_PARENTS,
        required={"20": (("NM1", None),), "21": (("NM1", None),), "22": (("NM1", "IL"),)},
        leaf_required=((("EB", None), ("AAA", None)),),
    ),
    "276": _Rules(
        bht=("0010", ("13",)),
        parents=_STATUS_PARENTS,
        required={
            "20": (("NM1", "PR"),),
            "21": (("NM1", "41"),),
            "19": (("NM1", "1P"),),
            "22": (("NM1", "IL"),),
            "23": (("NM1", "QC"), ("DMG", None)),
        },
        leaf_required=((("TRN", "1"),),),
    ),
    "277": _Rules(
        bht=("0010", ("08",)),
        parents=_STATUS_PARENTS,
        required={
            "20": (("NM1", "PR"),),
            "21": (("NM1", "41"),),
            "19": (("NM1", "1P"),),
            "22": (("NM1", "IL"),),
            "23": (("NM1", "QC"),),
        },
        leaf_required=((("TRN", None),), (("STC", None),)),
    ),
    "277CA": _Rules(
        bht=("0085", ("08",)),
        parents={"20": None, "21": "20", "19": "21", "PT": "19"},
        required={"20": (("NM1", "PR"),), "21": (("NM1", "41"),), "PT": (("NM1", "QC"),)},
        leaf_required=((("TRN", "2"),), (("STC", None),)),
    ),
}
_TR3_SETS = frozenset({"270", "271", "276", "277"})


def validate(data: bytes) -> list[ValidationIssue]:
    """All issues of ``data``: TR3 checks for 270/271/276/277, pyx12 for the rest."""
    try:
        segments = _read(data)
    except X12Error as exc:
        return [_issue_from_error(exc)]
    set_ids = {_el(seg, 1) for seg in segments if seg[1][0] == "ST"}
    if set_ids and set_ids <= _TR3_SETS:
        return _check_segments(segments)
    return validate_with_pyx12(data)


def check_tr3(data: bytes) -> list[ValidationIssue]:
    """Our TR3 checks (envelope counts, BHT, HL structure, required segments)."""
    try:
        return _check_segments(_read(data))
    except X12Error as exc:
        return [_issue_from_error(exc)]


def _read(data: bytes) -> list[_Seg]:
    reader = SegmentReader(data.removeprefix(b"\xef\xbb\xbf"))
    segments = [(position, elements) for position, elements in reader]
    if not segments:
        raise X12Error("no segments found; an interchange starts with ISA.")
    return segments


def _issue_from_error(exc: X12Error) -> ValidationIssue:
    return ValidationIssue(
        source="tr3",
        position=exc.segment_index,
        segment_id=exc.segment_id,
        element=exc.element,
        message=exc.message,
    )


def _issue(seg: _Seg | None, message: str, element: str | None = None) -> ValidationIssue:
    return ValidationIssue(
        source="tr3",
        position=None if seg is None else seg[0],
        segment_id=None if seg is None else seg[1][0],
        element=element,
        message=message,
    )


def _el(seg: _Seg, index: int) -> str:
    elements = seg[1]
    return elements[index] if index < len(elements) else ""


def _check_segments(segments: list[_Seg]) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    isa: _Seg | None = None
    gs: _Seg | None = None
    st: _Seg | None = None
    group_count = set_count = 0
    body: list[_Seg] = []
    version = ""
    for seg in segments:
        seg_id = seg[1][0]
        if seg_id == "ISA":
            isa, group_count = seg, 0
        elif seg_id == "GS":
            gs, set_count, version = seg, 0, _el(seg, 8)
            group_count += 1
        elif seg_id == "ST":
            st, body = seg, []
            set_count += 1
        elif seg_id == "SE":
            if st is None:
                issues.append(_issue(seg, "SE without ST; start the set with ST."))
                continue
            _check_trailer(seg, st, len(body) + 2, issues, count_name="SE01", id_name="SE02")
            set_id = _el(st, 1)
            # A 277 under 005010X214 is the claim acknowledgment (277CA).
            if set_id == "277" and "X214" in (_el(st, 3) or version):
                set_id = "277CA"
            rules = _RULES.get(set_id)
            if rules is None:
                issues.append(_issue(st, f"no TR3 checks for {_el(st, 1)!r}.", "ST01"))
            else:
                _check_set(st, body, rules, issues)
            st = None
        elif seg_id == "GE":
            if gs is not None:
                _check_trailer(seg, gs, set_count, issues, count_name="GE01", id_name="GE02")
            gs = None
        elif seg_id == "IEA":
            if isa is not None:
                _check_trailer(seg, isa, group_count, issues, count_name="IEA01", id_name="IEA02")
            isa = None
        elif st is not None:
            body.append(seg)
        else:
            issues.append(_issue(seg, "segment outside a transaction set (ST…SE)."))
    if st is not None:
        issues.append(_issue(st, "transaction set has no SE; end it with SE."))
    if gs is not None:
        issues.append(_issue(gs, "functional group has no GE; end it with GE."))
    if isa is not None:
        issues.append(_issue(isa, "interchange has no IEA; end it with IEA."))
    return issues


def _check_trailer(
    trailer: _Seg,
    header: _Seg,
    expected_count: int,
    issues: list[ValidationIssue],
    *,
    count_name: str,
    id_name: str,
) -> None:
    header_control = {"ISA": 13, "GS": 6, "ST": 2}[header[1][0]]
    if _el(trailer, 1) != str(expected_count):
        issues.append(
            _issue(
                trailer,
                f"{count_name} {_el(trailer, 1)!r} does not match the {expected_count} counted; "
                "regenerate the envelope.",
                count_name,
            )
        )
    if _el(trailer, 2).strip() != _el(header, header_control).strip():
        issues.append(
            _issue(
                trailer,
                f"{id_name} {_el(trailer, 2)!r} does not match the control number "
                f"{_el(header, header_control)!r} of {header[1][0]} at segment {header[0]}.",
                id_name,
            )
        )


def _check_set(st: _Seg, body: list[_Seg], rules: _Rules, issues: list[ValidationIssue]) -> None:
    if not body or body[0][1][0] != "BHT":
        issues.append(_issue(body[0] if body else st, "BHT must follow ST."))
    else:
        bht = body[0]
        if _el(bht, 1) != rules.bht[0]:
            issues.append(_issue(bht, f"BHT01 {_el(bht, 1)!r} is not {rules.bht[0]!r}.", "BHT01"))
        if _el(bht, 2) not in rules.bht[1]:
            allowed = ", ".join(rules.bht[1])
            issues.append(_issue(bht, f"BHT02 {_el(bht, 2)!r} is not one of {allowed}.", "BHT02"))
    levels: dict[str, str] = {}  # HL01 → HL03
    blocks: list[tuple[_Seg, list[_Seg]]] = []
    for seg in body[1:]:
        if seg[1][0] == "HL":
            blocks.append((seg, []))
        elif blocks:
            blocks[-1][1].append(seg)
        else:
            issues.append(_issue(seg, "segment before the first HL."))
    if not blocks:
        issues.append(_issue(st, "the transaction set has no HL levels."))
    has_children: set[str] = set()
    for expected, (hl, _) in enumerate(blocks, start=1):
        if _el(hl, 2):
            has_children.add(_el(hl, 2))
        if _el(hl, 1) != str(expected):
            issues.append(_issue(hl, f"HL01 {_el(hl, 1)!r} should be {expected}.", "HL01"))
    for hl, block in blocks:
        _check_level(hl, block, rules, levels, _el(hl, 1) in has_children, issues)
        levels[_el(hl, 1)] = _el(hl, 3)


def _check_level(
    hl: _Seg,
    block: list[_Seg],
    rules: _Rules,
    levels: dict[str, str],
    has_children: bool,
    issues: list[ValidationIssue],
) -> None:
    level, parent = _el(hl, 3), _el(hl, 2)
    if level not in rules.parents:
        issues.append(_issue(hl, f"HL03 {level!r} is not a level of this transaction.", "HL03"))
        return
    wanted = rules.parents[level]
    if wanted is None and parent:
        issues.append(_issue(hl, f"HL02 must be empty for level {level!r}.", "HL02"))
    elif wanted is not None and levels.get(parent) != wanted:
        issues.append(
            _issue(
                hl,
                f"HL02 {parent!r} must name an earlier HL of level {wanted!r} "
                f"(the parent of level {level!r}).",
                "HL02",
            )
        )
    child_code = _el(hl, 4)
    if child_code == "1" and not has_children:
        issues.append(_issue(hl, "HL04 says 1 (has children) but no HL names this one.", "HL04"))
    if child_code == "0" and has_children:
        issues.append(_issue(hl, "HL04 says 0 (no children) but an HL names this one.", "HL04"))
    for seg_id, qualifier in rules.required.get(level, ()):
        if not _has(block, seg_id, qualifier):
            what = seg_id if qualifier is None else f"{seg_id}*{qualifier}"
            issues.append(_issue(hl, f"level {level!r} is missing its required {what} segment."))
    if not has_children:
        for group in rules.leaf_required:
            if not any(_has(block, seg_id, qualifier) for seg_id, qualifier in group):
                what = " or ".join(s if q is None else f"{s}*{q}" for s, q in group)
                issues.append(_issue(hl, f"the lowest level {level!r} is missing {what}."))


def _has(block: list[_Seg], seg_id: str, qualifier: str | None) -> bool:
    return any(
        seg[1][0] == seg_id and (qualifier is None or _el(seg, 1) == qualifier) for seg in block
    )
