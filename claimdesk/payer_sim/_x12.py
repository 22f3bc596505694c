"""Envelopes for the simulator's outbound files, on the codec's placeholder serializer.

``wrap`` puts one or more transaction sets (built with ``segment``) in one
functional group and interchange; the codec's ``finish_interchange`` takes one
set only, and a 271 or 835 answer often has several.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from claimdesk.x12._serialize import C, E, R, S, choose_delimiters, format_date, segment

__all__ = ["C", "Outbound", "d8", "period", "segment", "transaction", "wrap"]


@dataclass(frozen=True)
class Outbound:
    """Who the file is from and to, and its control numbers."""

    sender_id: str
    receiver_id: str
    interchange: int  # ISA13
    group: int  # GS06
    created_at: datetime
    usage: str = "T"
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"


def d8(value: date) -> str:
    return format_date(value)


def period(start: date, end: date | None) -> tuple[str, str]:
    """(DTP02, DTP03): D8 for one day, RD8 otherwise."""
    if end is None or end == start:
        return "D8", d8(start)
    return "RD8", f"{d8(start)}-{d8(end)}"


def transaction(set_id: str, number: int, version: str | None, body: list[str]) -> str:
    """ST…SE with the segment count; ST03 only when ``version`` is given."""
    control = f"{number:04d}"
    return (
        segment("ST", set_id, control, version)
        + "".join(body)
        + segment("SE", str(len(body) + 2), control)
    )


def wrap(out: Outbound, functional_id: str, version: str, sets: list[str]) -> bytes:
    """ISA/GS + ``sets`` + GE/IEA, delimiters chosen, as ASCII bytes."""
    created = out.created_at
    control = f"{out.interchange:09d}"
    text = (
        segment(
            "ISA", "00", " " * 10, "00", " " * 10,
            out.sender_qualifier, out.sender_id[:15].ljust(15),
            out.receiver_qualifier, out.receiver_id[:15].ljust(15),
            created.strftime("%y%m%d"), created.strftime("%H%M"), R, "00501", control, "0",
            out.usage, C,
        )
        + segment(
            "GS", functional_id, out.sender_id[:15], out.receiver_id[:15], d8(created.date()),
            created.strftime("%H%M"), str(out.group), "X", version,
        )
        + "".join(sets)
        + segment("GE", str(len(sets)), str(out.group))
        + segment("IEA", "1", control)
    )  # fmt: skip
    delimiters = choose_delimiters(text)
    text = (
        text.replace(E, delimiters.element)
        .replace(C, delimiters.component)
        .replace(R, delimiters.repetition)
        .replace(S, delimiters.segment)
    )
    return text.encode("ascii", errors="replace")


def ta1_interchange(out: Outbound, acked_control: str, acked_at: datetime, code: str) -> bytes:
    """An interchange that carries only a TA1 (no functional group)."""
    control = f"{out.interchange:09d}"
    ack = "A" if code == "000" else "R"
    text = (
        segment(
            "ISA", "00", " " * 10, "00", " " * 10,
            out.sender_qualifier, out.sender_id[:15].ljust(15),
            out.receiver_qualifier, out.receiver_id[:15].ljust(15),
            out.created_at.strftime("%y%m%d"), out.created_at.strftime("%H%M"), R, "00501",
            control, "0", out.usage, C,
        )
        + segment(
            "TA1", acked_control.rjust(9, "0")[:9], acked_at.strftime("%y%m%d"),
            acked_at.strftime("%H%M"), ack, code,
        )
        + segment("IEA", "0", control)
    )  # fmt: skip
    delimiters = choose_delimiters(text)
    text = (
        text.replace(E, delimiters.element)
        .replace(C, delimiters.component)
        .replace(R, delimiters.repetition)
        .replace(S, delimiters.segment)
    )
    return text.encode("ascii", errors="replace")
