"""Small files in CMS's own formats, a few lines each, for the parser, loader and CLI tests.

Codes only: no CPT descriptor ever appears (the rationale and HCPCS texts are made up).
"""

from __future__ import annotations

PTP_PREAMBLE = (
    "CPT codes and descriptions only are copyright 2026 American Medical Association.\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective\tDeletion\tModifier\t"
    "PTP Edit Rationale\n"
    "\t\t\tDate\tDate\t0=not allowed\t\n"
    "\t\t\t\t*=no data\t1=allowed\t\n"
    "\t\t\t\t\t9=not applicable\t\n"
)


def ptp_file(*edits: str) -> str:
    """A PTP part: the preamble, then ``col1 col2 prior effective deletion indicator why``."""
    return PTP_PREAMBLE + "".join("\t".join(e.split("|")) + "\n" for e in edits)


MUE_PREAMBLE = (
    '"CPT codes and descriptions only are copyright 2026 American Medical Association."\n'
    '"HCPCS/CPT Code","Practitioner Services MUE Values","MUE Adjudication Indicator",'
    '"MUE Rationale"\n'
)


def mue_file(*rows: str) -> str:
    """An MUE table: ``code|units|indicator text|rationale`` per row."""
    return MUE_PREAMBLE + "".join(
        ",".join(f'"{cell}"' for cell in r.split("|")) + "\n" for r in rows
    )


def hcpcs_record(
    code: str,
    *,
    record: str = "3",
    long: str = "",
    short: str = "",
    added: str = "",
    action: str = "",
    terminated: str = "",
    action_code: str = "N",
) -> str:
    """One 320-character record of the HCPCS alpha-numeric file (1-based positions)."""
    buffer = [" "] * 320

    def put(position: int, text: str) -> None:
        buffer[position - 1 : position - 1 + len(text)] = list(text)

    put(1, code)
    put(6, "00100" if record in "37" else "00200")
    put(11, record)
    put(12, long[:80])
    if record in "37":
        put(92, short[:28])
        put(269, added)
        put(277, action)
        put(285, terminated)
        put(293, action_code)
    return "".join(buffer).rstrip() + "\n"


def icd10cm_order_line(order: int, code: str, billable: bool, text: str) -> str:
    return f"{order:05d} {code:<7} {int(billable)} {text[:60]:<60} {text}\n"
