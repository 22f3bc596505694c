"""pyx12 4.0.0 as a function: bytes in, issues out, nothing written anywhere.

pyx12's known faults, each absorbed here: a UTF-8 BOM makes it fail to find
the ISA (stripped); a version it has no map for raises ``EngineError`` instead
of reporting (reported as an issue); it logs to the ``pyx12`` logger
(captured for the duration of the call); it wants file objects for its 999 and
error reports (in-memory ``StringIO`` only, so no temp files).
"""

from __future__ import annotations

import io
import json
import logging
import threading
from typing import Any

from claimdesk.x12.validation_issue import ValidationIssue

_BOM = b"\xef\xbb\xbf"
# pyx12 keeps module-level state (map caches, the "pyx12" logger); one run at a time.
_LOCK = threading.Lock()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def validate_with_pyx12(data: bytes) -> list[ValidationIssue]:
    """pyx12's findings for ``data`` (an interchange); empty when it reports none."""
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        return [
            ValidationIssue(
                source="pyx12",
                message=f"byte {exc.start} is not ASCII; X12 5010 data must be ASCII.",
            )
        ]
    text = text.lstrip()
    logger = logging.getLogger("pyx12")
    collector = _Collect()
    report = io.StringIO()
    with _LOCK:
        saved = (logger.handlers[:], logger.propagate, logger.level)
        logger.handlers = [collector]
        logger.propagate = False
        logger.setLevel(logging.ERROR)
        try:
            param = pyx12.params.params()
            ok = pyx12.x12n_document.x12n_document(
                param=param,
                src_file=io.StringIO(text),
                fd_997=io.StringIO(),
                fd_html=None,
                fd_xmldoc=None,
                fd_json=report,
            )
        except (pyx12.errors.EngineError, pyx12.errors.X12Error) as exc:
            return [ValidationIssue(source="pyx12", message=f"pyx12 cannot check this: {exc}")]
        except Exception as exc:  # pyx12 has crashed on odd input; report, never propagate
            return [
                ValidationIssue(
                    source="pyx12", message=f"pyx12 failed ({type(exc).__name__}): {exc}"
                )
            ]
        finally:
            logger.handlers, logger.propagate, _level = saved[0], saved[1], saved[2]
            logger.setLevel(_level)
    issues = _issues_from_report(report.getvalue())
    if not ok and not issues:
        message = "; ".join(collector.messages) or "pyx12 rejected the document"
        issues.append(ValidationIssue(source="pyx12", message=message))
    return issues


def _issues_from_report(report: str) -> list[ValidationIssue]:
    if not report:
        return []
    doc: dict[str, Any] = json.loads(report)
    issues: list[ValidationIssue] = []

    def envelope(node: dict[str, Any], segment_id: str) -> None:
        for error in node.get("errors", []):
            issues.append(
                ValidationIssue(
                    source="pyx12",
                    position=node.get("cur_line"),
                    segment_id=segment_id,
                    code=str(error["err_cde"]),
                    message=str(error["err_str"]),
                )
            )

    for isa in doc.get("interchanges", []):
        envelope(isa, "ISA")
        for gs in isa.get("groups", []):
            envelope(gs, "GS")
            for st in gs.get("transactions", []):
                envelope(st, "ST")
                for seg in st.get("segments", []):
                    _segment_issues(seg, issues)
    return issues


def _segment_issues(seg: dict[str, Any], issues: list[ValidationIssue]) -> None:
    for error in seg.get("errors", []):
        issues.append(
            ValidationIssue(
                source="pyx12",
                position=seg.get("cur_line"),
                segment_id=seg.get("seg_id"),
                code=str(error["err_cde"]),
                message=str(error["err_str"]),
            )
        )
    for ele in seg.get("elements", []):
        name = f"{seg.get('seg_id')}{int(ele['ele_pos']):02d}"
        if ele.get("subele_pos"):
            name = f"{name}-{ele['subele_pos']}"
        for error in ele.get("errors", []):
            issues.append(
                ValidationIssue(
                    source="pyx12",
                    position=seg.get("cur_line"),
                    segment_id=seg.get("seg_id"),
                    element=name,
                    code=str(error["err_cde"]),
                    message=str(error["err_str"]),
                )
            )
