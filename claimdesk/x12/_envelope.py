"""Interchange, group and set structure: ISA/IEA, TA1, GS/GE, ST/SE.

``iter_transactions`` streams: it holds one transaction set's segments at a time
and yields each parsed set with its (header-only) interchange and group, so a
file of any size is read in bounded memory. Trailer checks (SE, GE, IEA) run as
each trailer arrives, so a defect late in a file is raised after the sets before
it were yielded. ``read_interchanges`` builds the whole tree.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from claimdesk.x12._errors import EnvelopeMismatch, X12Error, X12SyntaxError
from claimdesk.x12._tokenize import (
    CHUNK_SIZE,
    Delimiters,
    Segment,
    SegmentReader,
    get,
    parse_date_text,
    require,
)
from claimdesk.x12.models import FunctionalGroup, Interchange, InterchangeAck, OtherTransaction

Source = bytes | str | IO[bytes] | IO[str]


@dataclass(frozen=True, slots=True)
class SetContext:
    """What a set parser knows besides its segments."""

    delimiters: Delimiters
    version: str  # ST03, else GS08
    interchange: Interchange  # headers only
    group: FunctionalGroup  # headers only


# (segments ST..SE, context) -> parsed model
SetParser = Callable[[list[Segment], SetContext], Any]
# (ST, the segments after it through SE, context) -> the set's items as they are read
StreamParser = Callable[[Segment, Iterator[Segment], SetContext], Iterator[Any]]


@dataclass(frozen=True, slots=True)
class ParsedSet:
    """One parsed transaction set with the envelope around it (headers only)."""

    interchange: Interchange
    group: FunctionalGroup
    transaction: Any


_PARSERS: dict[str, SetParser] = {}
_STREAM_PARSERS: dict[str, StreamParser] = {}
# A parser's own slips (not X12Error) are reported as the set being unreadable.
_PARSER_SLIPS = (
    IndexError,
    KeyError,
    ValueError,
    ArithmeticError,
    TypeError,
    AttributeError,
    AssertionError,
)
_ENVELOPE_IDS = frozenset({"ST", "GE", "IEA", "ISA", "GS"})


def register_parser(set_id: str, parser: SetParser) -> None:
    """Route sets with ST01 ``set_id`` to ``parser`` (called once per parser module)."""
    _PARSERS[set_id] = parser


def register_stream_parser(set_id: str, parser: StreamParser) -> None:
    """Stream sets with ST01 ``set_id`` through ``parser`` when a caller asks to stream."""
    _STREAM_PARSERS[set_id] = parser


def _parse_other(segments: list[Segment], context: SetContext) -> Any:
    st = segments[0][1]
    return OtherTransaction(
        set_id=get(st, 1),
        control_number=get(st, 2),
        implementation=context.version,
        segment_count=len(segments),
    )


def _same_control(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if a.isdecimal() and b.isdecimal():
        return int(a) == int(b)
    return a == b


def _count(segment: Segment, index: int) -> int:
    text = require(segment, index)
    if not text.isdecimal():
        position, elements = segment
        raise X12SyntaxError(
            "count is not a number",
            segment_index=position,
            segment_id=elements[0],
            element=f"{elements[0]}{index:02d}",
        )
    return int(text)


def _mismatch(segment: Segment, index: int, message: str, expected: str) -> EnvelopeMismatch:
    position, elements = segment
    return EnvelopeMismatch(
        message,
        segment_index=position,
        segment_id=elements[0],
        element=f"{elements[0]}{index:02d}",
        expected=expected,
    )


def _unexpected(segment: Segment, message: str) -> X12SyntaxError:
    return X12SyntaxError(message, segment_index=segment[0], segment_id=segment[1][0])


def _read_isa(segment: Segment) -> Interchange:
    isa = segment[1]
    return Interchange(
        control_number=isa[13].strip(),
        sender_qualifier=isa[5].strip(),
        sender_id=isa[6].strip(),
        receiver_qualifier=isa[7].strip(),
        receiver_id=isa[8].strip(),
        date=parse_date_text(isa[9].strip()),
        time=isa[10].strip(),
        version=isa[12].strip(),
        usage=isa[15].strip(),
    )


def _read_gs(segment: Segment) -> FunctionalGroup:
    gs = segment[1]
    return FunctionalGroup(
        functional_id=get(gs, 1),
        sender_code=get(gs, 2),
        receiver_code=get(gs, 3),
        date=parse_date_text(get(gs, 4)),
        control_number=require(segment, 6),
        version=get(gs, 8),
    )


def _read_ta1(segment: Segment) -> InterchangeAck:
    ta1 = segment[1]
    return InterchangeAck(
        control_number=get(ta1, 1),
        date=parse_date_text(get(ta1, 2)),
        time=get(ta1, 3),
        ack_code=get(ta1, 4),
        note_code=get(ta1, 5),
    )


def _parse_set(
    segments: list[Segment],
    delimiters: Delimiters,
    interchange: Interchange,
    group: FunctionalGroup,
) -> Any:
    st = segments[0][1]
    context = SetContext(delimiters, get(st, 3) or group.version, interchange, group)
    parser = _PARSERS.get(get(st, 1), _parse_other)
    try:
        return parser(segments, context)
    except X12Error:
        raise
    except _PARSER_SLIPS as exc:
        # A safety net: the parsers raise X12SyntaxError themselves where they can.
        raise _unreadable_set(segments[0], exc) from exc


def _unreadable_set(st: Segment, exc: Exception) -> X12SyntaxError:
    return X12SyntaxError(
        f"transaction set could not be read ({type(exc).__name__})",
        segment_index=st[0],
        segment_id="ST",
    )


def _set_body(segments: Iterator[Segment], st: Segment, seen: list[Segment]) -> Iterator[Segment]:
    """The segments after ``st`` through its SE, checked as the collected path checks them.

    The SE count and control number are checked when the SE arrives, before it is
    handed on: a streamed set's end is only yielded once its trailer is verified.
    ``seen[0]`` is kept at the last segment read (for the end-of-data position).
    """
    count = 1
    for segment in segments:
        seen[0] = segment
        count += 1
        segment_id = segment[1][0]
        if segment_id == "SE":
            _check_se(segment, st, count)
            yield segment
            return
        if segment_id in _ENVELOPE_IDS:
            raise _unexpected(segment, "segment inside a transaction set before its SE")
        yield segment
    raise X12SyntaxError(
        "data ends inside a transaction set", segment_index=seen[0][0] + 1, expected="SE"
    )


def _check_se(se: Segment, st: Segment, count: int) -> None:
    if _count(se, 1) != count:
        raise _mismatch(se, 1, "segment count does not match the set", f"{count}")
    if not _same_control(require(se, 2), st[1][2]):
        raise _mismatch(se, 2, "does not match ST02", "ST02's control number")


def _stream_set(
    parser: StreamParser, st: Segment, body: Iterator[Segment], context: SetContext
) -> Iterator[Event]:
    try:
        for item in parser(st, body, context):
            yield "item", item
    except X12Error:
        raise
    except _PARSER_SLIPS as exc:
        raise _unreadable_set(st, exc) from exc


Event = tuple[str, Any]


def _walk(source: Source, chunk_size: int, *, stream: bool = False) -> Iterator[Event]:
    """Yield ('interchange'|'ta1'|'group'|'set'|'group_end'|'interchange_end', value)."""
    return _gc_paused(_walk_segments(source, chunk_size, stream))


T = TypeVar("T")


def _gc_paused(items: Iterator[T], *, promote: bool = False) -> Iterator[T]:
    """``items``, with the cyclic garbage collector paused while they are made.

    The collector is restored before each yield, for the caller's own work:
    segments and models hold no reference cycles, and collections triggered by
    their tens of thousands of allocations cost about as much as the parse itself
    (measured with bench/x12.py). With ``promote``, what was allocated meanwhile
    is moved to the oldest generation first (``gc.freeze`` then ``gc.unfreeze``,
    no scan): else the first allocation after the pause walks every model just
    read (a tenth of a whole 10,000-claim read) to find no garbage in them.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        for item in items:
            if collecting:
                if promote and not gc.get_freeze_count():  # never thaw a caller's freeze
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
            yield item
            collecting = gc.isenabled()
            gc.disable()
    finally:
        if collecting:
            gc.enable()


def _walk_segments(source: Source, chunk_size: int, stream: bool) -> Iterator[Event]:
    """The envelope walk; with ``stream``, sets with a stream parser yield ('item', ...) each."""
    reader = SegmentReader(source, chunk_size)
    segments = iter(reader)
    isa: Segment | None = None
    interchange: Interchange | None = None
    gs: Segment | None = None
    group: FunctionalGroup | None = None
    set_segments: list[Segment] | None = None
    group_count = 0
    set_count = 0
    last: Segment | None = None
    for segment in segments:
        last = segment
        segment_id = segment[1][0]
        if set_segments is not None:
            set_segments.append(segment)
            if segment_id != "SE":
                if segment_id in _ENVELOPE_IDS:
                    raise _unexpected(segment, "segment inside a transaction set before its SE")
                continue
            _check_se(segment, set_segments[0], len(set_segments))
            assert reader.delimiters is not None and group is not None and interchange
            yield "set", _parse_set(set_segments, reader.delimiters, interchange, group)
            set_segments = None
            set_count += 1
        elif segment_id == "ISA":
            if isa is not None:
                raise _unexpected(segment, "ISA inside an interchange: the previous one has no IEA")
            if len(segment[1]) != 17:
                raise _unexpected(segment, "ISA does not have 16 elements")
            isa, group_count = segment, 0
            interchange = _read_isa(segment)
            yield "interchange", interchange
        elif isa is None:
            raise _unexpected(segment, "segment outside an interchange (after IEA)")
        elif segment_id == "ST":
            if group is None:
                raise _unexpected(segment, "ST outside a functional group (no GS)")
            require(segment, 1)
            require(segment, 2)
            streamer = _STREAM_PARSERS.get(segment[1][1]) if stream else None
            if streamer is None:
                set_segments = [segment]
                continue
            assert reader.delimiters is not None and interchange is not None
            context = SetContext(
                reader.delimiters, get(segment[1], 3) or group.version, interchange, group
            )
            seen = [segment]
            yield from _stream_set(streamer, segment, _set_body(segments, segment, seen), context)
            last = seen[0]
            set_count += 1
        elif segment_id == "GS":
            if group is not None:
                raise _unexpected(segment, "GS inside a functional group: the previous has no GE")
            gs, group, set_count = segment, _read_gs(segment), 0
            yield "group", group
        elif segment_id == "GE":
            if group is None or gs is None:
                raise _unexpected(segment, "GE without a GS")
            if _count(segment, 1) != set_count:
                raise _mismatch(segment, 1, "transaction set count is wrong", f"{set_count}")
            if not _same_control(require(segment, 2), gs[1][6]):
                raise _mismatch(segment, 2, "does not match GS06", "GS06's control number")
            group, gs = None, None
            group_count += 1
            yield "group_end", None
        elif segment_id == "IEA":
            if group is not None:
                raise _unexpected(segment, "IEA inside a functional group: GE is missing")
            if _count(segment, 1) != group_count:
                raise _mismatch(segment, 1, "functional group count is wrong", f"{group_count}")
            if not _same_control(require(segment, 2), isa[1][13]):
                raise _mismatch(segment, 2, "does not match ISA13", "ISA13's control number")
            isa = None
            yield "interchange_end", None
        elif segment_id == "TA1" and group is None:
            yield "ta1", _read_ta1(segment)
        else:
            raise _unexpected(segment, "segment outside a transaction set")
    position = last[0] + 1 if last else 1
    if set_segments is not None:
        raise X12SyntaxError(
            "data ends inside a transaction set", segment_index=position, expected="SE"
        )
    if group is not None:
        raise X12SyntaxError(
            "data ends inside a functional group", segment_index=position, expected="GE"
        )
    if isa is not None:
        raise X12SyntaxError(
            "data ends inside an interchange", segment_index=position, expected="IEA"
        )
    if reader.trailing_data:
        raise X12SyntaxError(
            "data after the last IEA does not start an interchange",
            segment_index=position,
            expected="ISA or nothing",
            detail=f"starts {reader.trailing_data[:40]!r}",
        )


def iter_transactions(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[ParsedSet]:
    """Yield each transaction set, parsed, as it is read (bounded memory)."""
    interchange: Interchange | None = None
    group: FunctionalGroup | None = None
    for kind, value in _walk(source, chunk_size):
        if kind == "interchange":
            interchange = value
        elif kind == "group":
            group = value
        elif kind == "set":
            assert interchange is not None and group is not None
            yield ParsedSet(interchange, group, value)


def stream_transactions(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Any]:
    """Yield a streamed set's items as they are read, any other set whole as a ``ParsedSet``.

    An 835 is yielded as its ``RemittanceStart``, each ``ClaimPayment`` and its
    ``RemittanceEnd`` (after its SE and balance are checked), so memory does not grow
    with its claims. A defect raises ``X12Error`` where it is found: items of the set
    before it were already yielded, so a caller that must act on a whole set only
    (post a balanced 835) reads the stream once to check it, then again to act.
    """
    interchange: Interchange | None = None
    group: FunctionalGroup | None = None
    for kind, value in _walk(source, chunk_size, stream=True):
        if kind == "item":
            yield value
        elif kind == "interchange":
            interchange = value
        elif kind == "group":
            group = value
        elif kind == "set":
            assert interchange is not None and group is not None
            yield ParsedSet(interchange, group, value)


def iter_interchanges(source: Source, *, chunk_size: int = CHUNK_SIZE) -> Iterator[Interchange]:
    """Yield each interchange, whole (its sets in memory), as its IEA is read."""
    # Paused once per interchange, not per set: a set's models are gathered here, and
    # a collection between sets would walk every model read so far.
    return _gc_paused(_interchanges(_walk_segments(source, chunk_size, False)), promote=True)


def _interchanges(events: Iterator[Event]) -> Iterator[Interchange]:
    interchange: Interchange | None = None
    acks: list[InterchangeAck] = []
    groups: list[FunctionalGroup] = []
    group: FunctionalGroup | None = None
    sets: list[Any] = []
    for kind, value in events:
        if kind == "interchange":
            interchange, acks, groups = value, [], []
        elif kind == "ta1":
            acks.append(value)
        elif kind == "group":
            group, sets = value, []
        elif kind == "set":
            sets.append(value)
        elif kind == "group_end":
            assert group is not None
            groups.append(group.model_copy(update={"transactions": tuple(sets)}))
        elif kind == "interchange_end":
            assert interchange is not None
            yield interchange.model_copy(
                update={"acknowledgments": tuple(acks), "groups": tuple(groups)}
            )


def read_interchanges(source: Source, *, chunk_size: int = CHUNK_SIZE) -> list[Interchange]:
    """Read every interchange in ``source`` (bytes, str or a file object opened by the caller)."""
    return list(iter_interchanges(source, chunk_size=chunk_size))
