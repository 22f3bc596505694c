"""`claimdesk export 837` and `claimdesk acks import`, for an office that uploads by hand.

Per backend (SQLite, PostgreSQL), one office's day at the command line, each command its
own process: the ready claims of one payer are exported (scrubbed, built, pyx12-checked,
marked sent), exporting that payer again finds nothing, two named claims of another
payer go next, then everything left, then nothing. The first batch is uploaded to the
real payer simulator (as the portal would take it) with one member it does not know; the
999 and 277CA files it hands back are imported with `acks import`: the batch is
acknowledged, the unknown member's claims rejected with a task, the rest accepted.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from claimdesk.demo.sim_config import sim_config_from_database
from claimdesk.documents import make_document_store
from claimdesk.gateway.factory import client_for
from claimdesk.payer_sim.testing import start_payer_sim, stop_payer_sim
from claimdesk.x12 import validate_with_pyx12
from models import (
    AuditEvent,
    Claim,
    Coverage,
    Document,
    Payer,
    ReviewTask,
    Submission,
    SubmissionClaim,
)
from tests.conftest import DB_BACKENDS
from tests.submission.portal_world import (
    AUDITOR,
    SPECIALIST,
    PortalWorld,
    claims_by_payer,
    make_portal_world,
)

pytestmark = pytest.mark.slow


@dataclass
class Day:
    world: PortalWorld
    first_payer: str
    second_payer: str
    exports: dict[str, tuple[int, Any, str]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    acks: dict[str, tuple[int, Any, str]] = field(default_factory=dict)
    rejected_member_claims: set[int] = field(default_factory=set)
    broken_digest: str = ""
    moves_around_again: tuple[int, int] = (0, 0)


@pytest.fixture(scope="module", params=DB_BACKENDS)
def day(request: pytest.FixtureRequest, databases: Any, tmp_path_factory: Any) -> Iterator[Day]:
    tmp = tmp_path_factory.mktemp(f"portal-{request.param}")
    world = make_portal_world(databases.settings(request.param, tmp), tmp, claims=14)
    per_payer = sorted(claims_by_payer(world.engine).items(), key=lambda kv: -len(kv[1]))
    (first, first_ids), (second, second_ids) = per_payer[0], per_payer[1]
    assert len(first_ids) >= 3 and len(second_ids) >= 2 and len(per_payer) >= 3, per_payer
    today = world.today
    result = Day(world, first, second)
    # The simulator knows every member but the one on the first payer's first claim.
    with Session(world.engine) as session:
        config = sim_config_from_database(session, clock_start=today)
        gone = session.exec(
            select(Coverage.member_id)
            .join(Claim, col(Claim.coverage_id) == col(Coverage.id))
            .where(Claim.id == first_ids[0])
        ).one()
        result.rejected_member_claims = set(
            session.exec(
                select(Claim.id)
                .join(Coverage, col(Claim.coverage_id) == col(Coverage.id))
                .where(Coverage.member_id == gone, col(Claim.id).in_(first_ids))
            ).all()
        )
    config["roster"] = [m for m in config["roster"] if m["member_id"] != gone]
    url, process = start_payer_sim(tmp, seed=5, config=config)
    try:
        world.sign_in(SPECIALIST)
        steps: list[tuple[str, tuple[str, ...]]] = [
            ("first", ("--payer", first)),
            ("first again", ("--payer", first)),
            ("named", ("--claims", f"{second_ids[0]},{second_ids[1]}")),
            ("rest", ()),
            ("nothing", ()),
        ]
        for name, options in steps:
            out = tmp / f"{name.replace(' ', '-')}.837"
            result.files[name] = out
            result.exports[name] = world.cli_json(
                "export", "837", "--out", str(out), *options,
                process=name == "first",  # once as the installed command, the rest in-process
            )  # fmt: skip
        _upload_and_import_answers(result, url)
        yield result
    finally:
        stop_payer_sim(process)
        world.engine.dispose()


def _upload_and_import_answers(day: Day, url: str) -> None:
    """The portal's part: take the first batch, hand back its 999 and 277CAs as files."""
    world = day.world
    [batch] = day.exports["first"][1]["batches"]
    settings = world.settings.model_copy(update={"payer_sim_url": f"{url}/core"})
    with Session(world.engine) as session:
        submission = session.get(Submission, batch["submission_id"])
        payer = session.get(Payer, submission.payer_id if submission else 0)
        assert submission is not None and payer is not None
    client = client_for(payer, settings=settings, engine=world.engine)
    try:
        client.submit(Path(batch["file"]).read_bytes(), payload_id=submission.payload_id)
        answers = [("999", f.payload) for f in client.retrieve("999")]
        answers += [("277CA", f.payload) for f in client.retrieve("277CA")]
    finally:
        client.close()
    assert [kind for kind, _ in answers].count("999") == 1, answers
    assert [kind for kind, _ in answers].count("277CA") == 2  # the clearinghouse's, the payer's
    broken = world.folder / "broken.999"
    broken.write_bytes(answers[0][1][: len(answers[0][1]) // 2])
    day.broken_digest = hashlib.sha256(broken.read_bytes()).hexdigest()
    world.sign_in(SPECIALIST)
    day.acks["broken"] = world.cli_json("acks", "import", str(broken), process=True)
    for number, (kind, payload) in enumerate(answers):
        path = world.folder / f"answer-{number}.{kind.lower()}"
        path.write_bytes(payload)
        day.acks[f"{kind}-{number}"] = world.cli_json("acks", "import", str(path))
    before = _moves(world)
    day.acks["277CA again"] = world.cli_json("acks", "import", str(world.folder / "answer-1.277ca"))
    day.moves_around_again = (before, _moves(world))
    world.sign_in(AUDITOR)
    day.acks["auditor"] = world.cli_json("acks", "import", str(world.folder / "answer-2.277ca"))


def _moves(world: PortalWorld) -> int:
    with Session(world.engine) as session:
        return len(
            session.exec(
                select(AuditEvent.id).where(AuditEvent.action == "claim.status_changed")
            ).all()
        )


def _batches(day: Day, *names: str) -> list[dict[str, Any]]:
    return [b for name in names for b in day.exports[name][1]["batches"]]


def test_export_writes_pyx12_clean_batches_of_exactly_the_claims_asked_for(day: Day) -> None:
    code, first, _ = day.exports["first"]
    assert code == 0
    with Session(day.world.engine) as session:
        first_ids = set(
            session.exec(
                select(Claim.id).join(Payer).where(Payer.payer_id == day.first_payer)
            ).all()
        )
        second_ids = sorted(
            session.exec(
                select(Claim.id).join(Payer).where(Payer.payer_id == day.second_payer)
            ).all()
        )
    [batch] = first["batches"]
    assert batch["payer"] == day.first_payer
    assert {c["claim_id"] for c in batch["claims"]} == first_ids
    code, named, _ = day.exports["named"]
    assert code == 0
    assert [c["claim_id"] for b in named["batches"] for c in b["claims"]] == second_ids[:2]
    store = make_document_store(day.world.settings)
    written = _batches(day, "first", "named", "rest")
    assert len(written) >= 3  # the rest covers at least the second payer's other claims
    for item in written:
        data = Path(item["file"]).read_bytes()
        assert validate_with_pyx12(data) == [], item["file"]
        with Session(day.world.engine) as session:
            submission = session.get(Submission, item["submission_id"])
            assert submission is not None and submission.document_id is not None
            document = session.get(Document, submission.document_id)
            assert document is not None
        assert store.get(document.storage_key, sha256=document.sha256) == data  # as kept
        assert f"*{submission.interchange_control_number}*".encode() in data[:120]


def test_every_claim_goes_out_once_and_is_marked_sent_by_the_person(day: Day) -> None:
    written = _batches(day, "first", "named", "rest")
    exported = [(c["claim_id"], c["version"]) for b in written for c in b["claims"]]
    assert len(exported) == len(set(exported))  # no claim version in two files
    with Session(day.world.engine) as session:
        rows = session.exec(select(SubmissionClaim.claim_id, SubmissionClaim.claim_version)).all()
        all_claims = session.exec(select(Claim.id)).all()
        statuses = {s.id: s.status for s in session.exec(select(Submission)).all()}
        moves = [
            e
            for e in session.exec(
                select(AuditEvent).where(AuditEvent.action == "claim.status_changed")
            ).all()
            if e.details["to"] == "sent"
        ]
        exported_events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "submission.exported")
        ).all()
    assert Counter(rows).most_common(1)[0][1] == 1  # the unique key held
    assert sorted(exported) == sorted(rows)
    assert {c for c, _ in exported} == set(all_claims)  # nothing left behind
    assert set(statuses) == {b["submission_id"] for b in written}
    assert {m.claim_id for m in moves} == set(all_claims)
    assert {(m.actor, m.details["reason"].split(":")[0]) for m in moves} == {
        (SPECIALIST, "exported")
    }
    assert {e.actor for e in exported_events} == {SPECIALIST}
    assert {int(e.entity_id or 0) for e in exported_events} == set(statuses)


def test_exporting_again_says_nothing_is_ready_and_writes_nothing(day: Day) -> None:
    for name in ("first again", "nothing"):
        code, data, stderr = day.exports[name]
        assert code == 1, name
        assert data["batches"] == []
        assert "nothing ready to export" in stderr
        assert not day.files[name].exists()


def test_the_portals_999_and_277ca_files_move_the_batch_and_its_claims(day: Day) -> None:
    [batch] = _batches(day, "first")
    in_batch = {c["claim_id"] for c in batch["claims"]}
    rejected = day.rejected_member_claims
    assert rejected and in_batch - rejected, "the batch needs both outcomes"
    code, ack999, _ = day.acks["999-0"]
    assert code == 0 and ack999["kinds"] == ["999"]
    assert ack999["submission_ids"] == [batch["submission_id"]]
    code, house, _ = day.acks["277CA-1"]
    assert code == 0 and house["kinds"] == ["277CA"]
    assert (house["accepted"], house["rejected"]) == (len(in_batch - rejected), len(rejected))
    assert {int(k) for k, v in house["claims"].items() if v == "rejected"} == rejected
    with Session(day.world.engine) as session:
        submission = session.get(Submission, batch["submission_id"])
        claims = session.exec(select(Claim).where(col(Claim.id).in_(in_batch))).all()
        tasks = session.exec(select(ReviewTask).where(ReviewTask.kind == "rejection")).all()
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "acknowledgement.file_imported")
        ).all()
    assert submission is not None and submission.status == "acknowledged"
    assert submission.ack_999_status == "A"
    assert {c.id for c in claims if c.status == "rejected"} == rejected
    assert {c.id for c in claims if c.status == "accepted"} == in_batch - rejected
    assert all(c.payer_claim_number for c in claims if c.status == "accepted")  # payer's 277CA
    assert {t.claim_id for t in tasks} == rejected
    assert {e.actor for e in events} == {SPECIALIST}


def test_an_acknowledgement_file_imported_twice_changes_nothing_the_second_time(
    day: Day,
) -> None:
    code, again, _ = day.acks["277CA again"]
    assert code == 0
    assert (again["accepted"], again["rejected"], again["review_task_ids"]) == (0, 0, [])
    assert again["claims"] == day.acks["277CA-1"][1]["claims"]
    assert day.moves_around_again[0] == day.moves_around_again[1]  # no claim moved


def test_a_broken_or_unpermitted_ack_file_is_refused_and_nothing_kept(day: Day) -> None:
    code, data, stderr = day.acks["broken"]
    assert code == 2 and data is None
    assert "segment" in stderr and "Traceback" not in stderr
    code, data, stderr = day.acks["auditor"]
    assert code == 1 and "may not acknowledgements.import" in stderr
    with Session(day.world.engine) as session:
        kept = session.exec(select(Document).where(Document.sha256 == day.broken_digest)).all()
        kinds = Counter(session.exec(select(Document.kind)).all())
        refusals = session.exec(
            select(AuditEvent).where(AuditEvent.action == "access.refused")
        ).all()
    assert kept == [] and not list(day.world.settings.data_dir.rglob(f"*{day.broken_digest}*"))
    # The 999 and the two 277CAs once each, however often imported.
    assert kinds["x12_999"] == 1 and kinds["x12_277ca"] == 2
    assert any(e.details.get("action") == "acknowledgements.import" for e in refusals)
