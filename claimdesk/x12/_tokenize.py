"""Split X12 into segments, streaming, with the delimiters each ISA declares.

``SegmentReader(source)`` takes bytes, str or a binary (or text) file object and
yields ``(position, elements)`` per segment: ``position`` is 1-based within the
interchange (the ISA is 1) and ``elements[0]`` is the segment id. A file object
is read in chunks, so memory does not grow with the file.

Also here: the small value readers (amounts, dates, elements) every parser uses,
each raising ``X12SyntaxError`` that names the element and never shows the value.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from claimdesk.x12._errors import X12SyntaxError

Segment = tuple[int, list[str]]

# 64 KiB: large enough that split() dominates, small enough to keep memory flat.
CHUNK_SIZE = 1 << 16
# No real segment is this long; a file without terminators must not fill memory.
MAX_SEGMENT_CHARS = 1 << 20
# The ISA is 106 characters when padded; allow unpadded and generously padded ones.
MAX_ISA_CHARS = 512
# Bytes seen around interchanges in the wild (padding, DOS end-of-file, BOM).
_BLANK = " \t\r\n\x00\x1a\ufeff"


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The separators one ISA declares."""

    element: str
    component: str
    repetition: str | None
    segment: str


class SegmentReader:
    """Iterate over the segments of one or more interchanges.

    After iteration, ``trailing_data`` holds the start of any non-blank data that
    followed the last IEA without starting a new ISA (empty when there was none);
    ``delimiters`` are those of the interchange being read.
    """

    def __init__(self, source: bytes | str | IO[bytes] | IO[str], chunk_size: int = CHUNK_SIZE):
        self._source = source
        self._chunk_size = max(1, chunk_size)
        self.delimiters: Delimiters | None = None
        self.trailing_data = ""
        self.interchange_count = 0

    def _chunks(self) -> Iterator[str]:
        source = self._source
        size = self._chunk_size
        # Text and bytes in memory are read in chunks too: one split of a whole
        # 100,000-claim file would hold every segment at once.
        if isinstance(source, str):
            for start in range(0, len(source), size):
                yield source[start : start + size]
            return
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        if isinstance(source, bytes | bytearray | memoryview):
            view = memoryview(source).cast("B")
            for start in range(0, len(view), size):
                yield decoder.decode(view[start : start + size])
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
            return
        while True:
            try:
                chunk = source.read(self._chunk_size)
            except (OSError, ValueError) as exc:
                raise X12SyntaxError(f"the file could not be read ({type(exc).__name__})") from exc
            if not chunk:
                tail = decoder.decode(b"", final=True)
                if tail:
                    yield tail
                return
            yield chunk if isinstance(chunk, str) else decoder.decode(chunk)

    def __iter__(self) -> Iterator[Segment]:
        chunks = self._chunks()
        buf = ""
        eof = False
        while True:
            # Interchange header: skip blanks, then read the ISA by position.
            while True:
                buf = buf.lstrip(_BLANK)
                if eof or len(buf) >= MAX_ISA_CHARS:
                    break
                chunk = next(chunks, None)
                if chunk is None:
                    eof = True
                else:
                    buf += chunk
            if not buf:
                return
            if not buf.startswith("ISA"):
                if self.interchange_count:
                    self.trailing_data = buf[:MAX_ISA_CHARS]
                    return
                raise X12SyntaxError(
                    "the data does not start with an ISA segment",
                    segment_index=1,
                    expected="an interchange beginning 'ISA'",
                )
            isa, delimiters, end = _read_isa(buf)
            self.delimiters = delimiters
            self.interchange_count += 1
            buf = buf[end:]
            yield 1, isa
            position = 1
            terminator = delimiters.segment
            separator = delimiters.element
            in_interchange = True
            while in_interchange:
                pieces = buf.split(terminator)
                tail = "" if eof else pieces.pop()
                for i, piece in enumerate(pieces):
                    piece = piece.strip()
                    if not piece:
                        continue
                    position += 1
                    elements = piece.split(separator)
                    yield position, elements
                    if elements[0] == "IEA":
                        rest = pieces[i + 1 :]
                        if not eof:
                            rest.append(tail)
                        buf = terminator.join(rest)
                        in_interchange = False
                        break
                else:
                    if eof:
                        return
                    buf = tail
                    if len(buf) > MAX_SEGMENT_CHARS:
                        raise X12SyntaxError(
                            f"no segment terminator within {MAX_SEGMENT_CHARS} characters",
                            segment_index=position + 1,
                        )
                    chunk = next(chunks, None)
                    if chunk is None:
                        eof = True
                    else:
                        buf += chunk


def _read_isa(buf: str) -> tuple[list[str], Delimiters, int]:
    """Return the ISA's elements, its delimiters, and the offset just past its terminator."""
    separator = buf[3] if len(buf) > 3 else ""
    if not separator or separator.isalnum() or separator.isspace():
        raise X12SyntaxError(
            "ISA has no element separator at position 4",
            segment_index=1,
            segment_id="ISA",
            expected="a non-alphanumeric character after 'ISA'",
        )
    position = 3
    for _ in range(15):
        position = buf.find(separator, position + 1, MAX_ISA_CHARS)
        if position < 0:
            raise X12SyntaxError(
                "ISA has fewer than 16 elements",
                segment_index=1,
                segment_id="ISA",
                expected="16 elements",
            )
    # position is the separator before ISA16; ISA16 is one character, then the terminator.
    if len(buf) < position + 3:
        raise X12SyntaxError(
            "ISA is cut short before ISA16 and its terminator",
            segment_index=1,
            segment_id="ISA",
            element="ISA16",
        )
    component = buf[position + 1]
    terminator = buf[position + 2]
    if terminator.isalnum() or terminator in (separator, component) or terminator == " ":
        raise X12SyntaxError(
            "ISA16 is not followed by a segment terminator",
            segment_index=1,
            segment_id="ISA",
            element="ISA16",
            expected="one component separator then the segment terminator",
        )
    if component.isalnum() or component == separator:
        raise X12SyntaxError(
            "ISA16 is not a usable component separator",
            segment_index=1,
            segment_id="ISA",
            element="ISA16",
            expected="a non-alphanumeric character",
        )
    elements = buf[: position + 2].split(separator)
    repetition: str | None = elements[11].strip()
    # Before 00402 (4010 and older) ISA11 is a standards id ('U'), not a separator.
    if (
        not repetition
        or len(repetition) != 1
        or repetition.isalnum()
        or repetition in (separator, terminator)
        or elements[12] < "00402"
    ):
        repetition = None
    return elements, Delimiters(separator, component, repetition, terminator), position + 3


# ---------------------------------------------------------------------------
# Element readers shared by the transaction parsers.


def get(elements: list[str], index: int) -> str:
    """Element ``index`` (1-based, like 'CLP04' -> 4), or '' when absent."""
    return elements[index] if len(elements) > index else ""


def require(segment: Segment, index: int) -> str:
    """A required element; X12SyntaxError naming it when empty or absent."""
    position, elements = segment
    value = elements[index] if len(elements) > index else ""
    if not value:
        raise X12SyntaxError(
            "required element is missing",
            segment_index=position,
            segment_id=elements[0],
            element=f"{elements[0]}{index:02d}",
        )
    return value


def _is_number(text: str) -> bool:
    digits = text[1:] if text[:1] == "-" else text
    return 0 < len(digits) <= 20 and digits.replace(".", "", 1).isdecimal()


# Amounts and dates repeat a lot within a file (copays, service dates); Decimal and
# date are immutable, so a bounded cache of parsed values is safe and saves ~40% of
# an 835's read time.
_CACHE_LIMIT = 8192
_DECIMALS: dict[str, Decimal] = {}
_DATES: dict[str, date] = {}


def _not_a_number(segment: Segment, index: int, text: str) -> X12SyntaxError:
    elements = segment[1]
    return X12SyntaxError(
        "element is not a decimal number",
        segment_index=segment[0],
        segment_id=elements[0],
        element=f"{elements[0]}{index:02d}",
        expected="digits with an optional '-' and '.'",
        detail=f"value {text[:40]!r}",
    )


def to_decimal(segment: Segment, index: int, *, required: bool = False) -> Decimal | None:
    """A numeric (R) element as Decimal; None when empty and not required."""
    elements = segment[1]
    text = elements[index] if len(elements) > index else ""
    value = _DECIMALS.get(text)
    if value is not None:
        return value
    if not text:
        if required:
            require(segment, index)
        return None
    if not _is_number(text):
        raise _not_a_number(segment, index, text)
    if len(_DECIMALS) >= _CACHE_LIMIT:
        _DECIMALS.clear()
    value = _DECIMALS[text] = Decimal(text)
    return value


def to_amount(segment: Segment, index: int) -> Decimal:
    """A required amount."""
    elements = segment[1]
    text = elements[index] if len(elements) > index else ""
    value = _DECIMALS.get(text)
    if value is not None:
        return value
    if not text:
        require(segment, index)
    if not _is_number(text):
        raise _not_a_number(segment, index, text)
    if len(_DECIMALS) >= _CACHE_LIMIT:
        _DECIMALS.clear()
    value = _DECIMALS[text] = Decimal(text)
    return value


def parse_date_text(text: str) -> date | None:
    """CCYYMMDD or YYMMDD to a date; None when it is not one."""
    if not text.isdecimal():
        return None
    try:
        if len(text) == 8:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if len(text) == 6:
            return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError:
        return None
    return None


def to_date(segment: Segment, index: int, *, required: bool = False) -> date | None:
    """A DT element (CCYYMMDD) as a date; None when empty and not required."""
    position, elements = segment
    text = elements[index] if len(elements) > index else ""
    cached = _DATES.get(text)
    if cached is not None:
        return cached
    if not text:
        if required:
            require(segment, index)
        return None
    value = parse_date_text(text)
    if value is None:
        raise X12SyntaxError(
            "element is not a date",
            segment_index=position,
            segment_id=elements[0],
            element=f"{elements[0]}{index:02d}",
            expected="CCYYMMDD",
            detail=f"value {text[:40]!r}",
        )
    if len(_DATES) >= _CACHE_LIMIT:
        _DATES.clear()
    _DATES[text] = value
    return value


def to_period(segment: Segment, index: int) -> tuple[date | None, date | None]:
    """A date or 'CCYYMMDD-CCYYMMDD' range (D8/RD8) as (start, end)."""
    position, elements = segment
    text = elements[index] if len(elements) > index else ""
    if not text:
        return None, None
    start_text, _, end_text = text.partition("-")
    start = parse_date_text(start_text)
    end = parse_date_text(end_text) if end_text else start
    if start is None or end is None:
        raise X12SyntaxError(
            "element is not a date or date range",
            segment_index=position,
            segment_id=elements[0],
            element=f"{elements[0]}{index:02d}",
            expected="CCYYMMDD or CCYYMMDD-CCYYMMDD",
            detail=f"value {text[:40]!r}",
        )
    return start, end
