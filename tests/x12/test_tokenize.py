"""The streaming tokenizer: delimiters from the ISA, blanks, chunks, trailing data."""

from __future__ import annotations

import io

import pytest

from claimdesk.x12 import Delimiters, SegmentReader, X12SyntaxError

ISA = (
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIV"
    "ER       *240102*1200*^*00501*000000001*0*T*:~"
)
BODY = "GS*HP*S*R*20240102*1200*1*X*005010X221A1~ST*835*0001~SE*2*0001~GE*1*1~IEA*1*000000001~"
TEXT = ISA + BODY
IDS = ["ISA", "GS", "ST", "SE", "GE", "IEA"]


def segment_ids(source: object, chunk_size: int = 1 << 16) -> list[str]:
    return [elements[0] for _, elements in SegmentReader(source, chunk_size)]  # type: ignore[arg-type]


def test_tokenize_reads_delimiters_from_the_isa() -> None:
    reader = SegmentReader(TEXT)
    segments = list(reader)
    assert reader.delimiters == Delimiters(element="*", component=":", repetition="^", segment="~")
    assert [position for position, _ in segments] == [1, 2, 3, 4, 5, 6]
    assert segments[0][1][16] == ":"
    assert segments[1][1] == ["GS", "HP", "S", "R", "20240102", "1200", "1", "X", "005010X221A1"]


def test_tokenize_whole_buffer_bytes_and_str_agree() -> None:
    assert segment_ids(TEXT) == segment_ids(TEXT.encode()) == IDS


@pytest.mark.parametrize("chunk_size", [1, 2, 7, 105, 106, 107, 4096])
def test_tokenize_any_chunk_size_gives_same_segments(chunk_size: int) -> None:
    whole = list(SegmentReader(TEXT.encode()))
    streamed = list(SegmentReader(io.BytesIO(TEXT.encode()), chunk_size))
    assert streamed == whole


def test_tokenize_byte_by_byte_keeps_multibyte_characters() -> None:
    text = TEXT.replace("SE*2*0001", "SE*2*0001").replace("ST*835*0001", "ST*835*0001*Zoë")
    segments = list(SegmentReader(io.BytesIO(text.encode("utf-8")), 1))
    assert segments[2][1] == ["ST", "835", "0001", "Zoë"]


def test_tokenize_tolerates_bom_leading_blanks_crlf_and_indentation() -> None:
    indented = "\ufeff  \r\n" + TEXT.replace("~", "~\r\n    ")
    assert segment_ids(indented.encode("utf-8")) == IDS
    assert segment_ids(io.BytesIO(indented.encode("utf-8")), 3) == IDS


@pytest.mark.parametrize(
    ("element", "component", "repetition", "terminator"),
    [("|", ">", "^", "~"), ("*", "<", "{", "\n"), ("^", "|", "{", "'"), ("*", ">", "U", "~")],
)
def test_tokenize_uses_any_declared_delimiters(
    element: str, component: str, repetition: str, terminator: str
) -> None:
    isa = ISA.replace("*", element).replace(":~", f"{component}~").replace("~", terminator)
    isa = isa.replace(f"{element}^{element}00501", f"{element}{repetition}{element}00501")
    text = isa + BODY.replace("*", element).replace("~", terminator)
    reader = SegmentReader(text)
    assert [e[0] for _, e in reader] == IDS
    assert reader.delimiters is not None
    assert reader.delimiters.segment == terminator
    assert reader.delimiters.component == component
    assert reader.delimiters.repetition == (None if repetition == "U" else repetition)


def test_tokenize_4010_isa_has_no_repetition_separator() -> None:
    reader = SegmentReader(TEXT.replace("*^*00501*", "*U*00401*"))
    list(reader)
    assert reader.delimiters is not None and reader.delimiters.repetition is None


def test_tokenize_reads_several_interchanges_with_different_delimiters() -> None:
    second = TEXT.replace("*", "|").replace("~", "\n").replace("000000001", "000000002")
    reader = SegmentReader(io.BytesIO((TEXT + "\r\n" + second).encode()), 5)
    segments = list(reader)
    assert [e[0] for _, e in segments] == IDS + IDS
    assert [p for p, _ in segments][6:] == [1, 2, 3, 4, 5, 6]
    assert reader.interchange_count == 2
    assert reader.delimiters is not None and reader.delimiters.element == "|"


def test_tokenize_trailing_blanks_are_ignored() -> None:
    reader = SegmentReader(TEXT + "\r\n\x1a\x00  ")
    assert [e[0] for _, e in reader] == IDS
    assert reader.trailing_data == ""


def test_tokenize_trailing_data_after_iea_is_kept_not_tokenized() -> None:
    reader = SegmentReader(io.BytesIO((TEXT + "\r\nnot x12 at all~MORE").encode()), 4)
    assert [e[0] for _, e in reader] == IDS
    assert reader.trailing_data.startswith("not x12 at all")


def test_tokenize_last_segment_without_terminator_is_read() -> None:
    assert segment_ids(TEXT[:-1]) == IDS


def test_tokenize_rejects_data_not_starting_with_isa() -> None:
    with pytest.raises(X12SyntaxError, match="segment 1: the data does not start with an ISA"):
        list(SegmentReader("ST*835*0001~SE*2*0001~"))


def test_tokenize_rejects_isa_without_sixteen_elements() -> None:
    with pytest.raises(X12SyntaxError, match="ISA has fewer than 16 elements") as caught:
        list(SegmentReader("ISA*00*x*00~GS*HP~"))
    assert caught.value.segment_index == 1 and caught.value.segment_id == "ISA"


def test_tokenize_rejects_alphanumeric_terminator() -> None:
    with pytest.raises(X12SyntaxError, match="ISA16"):
        list(SegmentReader(ISA[:-1] + "X" + BODY))


def test_tokenize_limits_segment_length_without_terminator() -> None:
    source = io.BytesIO((ISA + "GS*" + "A" * (2 << 20)).encode())
    with pytest.raises(X12SyntaxError, match="no segment terminator") as caught:
        list(SegmentReader(source))
    assert caught.value.segment_index == 2


def test_tokenize_file_memory_does_not_grow_with_size() -> None:
    import tracemalloc

    body = "SVC*HC:99213*100.00*80.00**1~DTM*472*20231201~CAS*CO*45*20.00~" * 12_000
    data = (ISA + "GS*HP*S*R*20240102*1200*1*X*005010X221A1~ST*835*0001~" + body).encode()
    peaks = []
    for size in (len(data) // 4, len(data)):
        tracemalloc.start()
        try:
            count = sum(1 for _ in SegmentReader(io.BytesIO(data[:size])))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert count > 1000
    # 0.4 MB and 1.6 MB of input: the same few chunks' worth of memory either way.
    assert peaks[1] < 1_000_000
    assert peaks[1] < peaks[0] * 1.5
