"""A paper EOB that no 835 could say is refused, naming the field, and leaves nothing behind."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from claimdesk.documents import LocalDocumentStore
from claimdesk.errors import PermissionDenied, ValidationFailed
from claimdesk.paper.eob_entry import parse_paper_eob
from claimdesk.remittance.paper_eob import post_paper_eob, routing_choices
from models import Claim, Document, Remittance
from tests.factories import make_claim
from tests.paper.conftest import make_paper_world, make_user, paper_claim
from tests.paper.test_paper_flow import eob_for

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """An edit of the good entry at a dotted path (``claims.0.lines.1.paid``)."""

    def edit(entry: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = entry
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return edit


CASES: list[tuple[str, Edit, str, str]] = [
    # (name, edit, refused field, words the message must carry)
    (
        "line_unbalanced",
        _set("claims.0.lines.0.paid", "85.00"),
        "claims[0].lines[0]",
        "charge = paid + adjustments",
    ),
    ("total_unbalanced", _set("total", "200.00"), "total", "sum paid"),
    (
        "unknown_carc",
        _set("claims.0.lines.1.adjustments.0.carc", "999"),
        "claims[0].lines[1].adjustments[0].carc",
        "routing table",
    ),
    (
        "unknown_group",
        _set("claims.0.lines.1.adjustments.1.group", "XX"),
        "claims[0].lines[1].adjustments[1].group",
        "not a group code",
    ),
    ("no_such_claim", _set("claims.0.claim_id", 987654), "claims[0].claim_id", "no claim"),
    (
        "no_such_line",
        _set("claims.0.lines.1.line_number", 7),
        "claims[0].lines[1].line_number",
        "no line 7",
    ),
    (
        "patient_share_wrong",
        _set("claims.0.patient_responsibility", "20.00"),
        "claims[0].patient_responsibility",
        "PR adjustments",
    ),
    ("no_such_payer", _set("payer_id", 987654), "payer_id", "no payer"),
]


@pytest.fixture
def world(session: Session, tmp_path: Path) -> dict[str, Any]:
    paper = make_paper_world(session)
    claim = paper_claim(session, paper, lines=2, status="sent")
    make_user(session, "rita.spec", "specialist")
    return {
        "paper": paper,
        "claim": claim,
        "store": LocalDocumentStore(tmp_path / "documents"),
        "documents": tmp_path / "documents",
        "entry": eob_for(paper.payer.id or 0, claim.id or 0),
    }


def _post(
    session: Session, world: dict[str, Any], entry: dict[str, Any], user: str = "rita.spec"
) -> Any:
    return post_paper_eob(
        session,
        entry=parse_paper_eob(json.dumps(entry)),
        username=user,
        store=world["store"],
    )


def _nothing_stored(session: Session, world: dict[str, Any]) -> None:
    assert session.exec(select(Remittance)).all() == []
    assert session.exec(select(Document).where(Document.kind == "paper_eob")).all() == []
    folder: Path = world["documents"]
    assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))
    claim = session.get(Claim, world["claim"].id)
    assert claim is not None and claim.status == "sent"


@pytest.mark.parametrize(("name", "edit", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_paper_eob_is_refused_with_its_field(
    session: Session, world: dict[str, Any], name: str, edit: Edit, field: str, words: str
) -> None:
    entry = copy.deepcopy(world["entry"])
    edit(entry)
    with pytest.raises(ValidationFailed) as refused:
        _post(session, world, entry)
    assert refused.value.field == field, str(refused.value)
    assert words in str(refused.value)
    _nothing_stored(session, world)


def test_paper_eob_for_another_payer_s_claim_is_refused(
    session: Session, world: dict[str, Any]
) -> None:
    other = make_claim(session, practice=world["paper"].practice, status="sent")
    entry = copy.deepcopy(world["entry"])
    entry["claims"][0]["claim_id"] = other.id
    with pytest.raises(ValidationFailed) as refused:
        _post(session, world, entry)
    assert refused.value.field == "claims[0].claim_id"
    assert f"billed to payer {other.payer_id}" in str(refused.value)
    _nothing_stored(session, world)


def test_paper_eob_for_a_claim_never_sent_is_refused(
    session: Session, world: dict[str, Any]
) -> None:
    queued = paper_claim(session, world["paper"], lines=2, status="queued")
    entry = copy.deepcopy(world["entry"])
    entry["claims"][0]["claim_id"] = queued.id
    with pytest.raises(ValidationFailed) as refused:
        _post(session, world, entry)
    assert "'queued'" in str(refused.value)
    _nothing_stored(session, world)


def test_unreadable_amount_is_refused_with_its_path() -> None:
    entry = eob_for(1, 1)
    entry["claims"][0]["lines"][0]["paid"] = "80.001"
    with pytest.raises(ValidationFailed) as refused:
        parse_paper_eob(json.dumps(entry))
    assert refused.value.field == "claims[0].lines[0].paid"


def test_paper_eob_needs_a_specialist_lead_or_manager(
    session: Session, world: dict[str, Any]
) -> None:
    make_user(session, "audrey", "auditor")
    with pytest.raises(PermissionDenied):
        _post(session, world, world["entry"], user="audrey")
    _nothing_stored(session, world)


def test_check_number_posted_with_other_figures_is_refused(
    session: Session, world: dict[str, Any]
) -> None:
    _post(session, world, world["entry"])
    second = paper_claim(session, world["paper"], lines=2, status="sent")
    entry = copy.deepcopy(world["entry"])
    entry["claims"][0]["claim_id"] = second.id
    with pytest.raises(ValidationFailed) as refused:
        _post(session, world, entry)
    assert refused.value.field == "check_number"


def test_picker_offers_the_routing_table_s_codes_in_plain_english() -> None:
    choices = routing_choices()
    assert set(choices["groups"]) == {"CO", "PR", "OA", "PI", "CR"}
    assert "45" in choices["carcs"] and "999" not in choices["carcs"]
    assert "written off" in choices["carcs"]["45"]
