"""The queue's services on a real migrated database: paging, next task, reassign, saved views."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from claimdesk.db import make_engine
from claimdesk.errors import PermissionDenied, ReviewConflict, ValidationFailed
from claimdesk.workqueue import filters as queue_lists
from claimdesk.workqueue import queue, resolve, saved_views, task_view
from claimdesk.workqueue.filters import QueueFilters
from models import ReviewTask
from tasks.resume import resume_unavailable
from tests.conftest import DB_BACKENDS
from tests.ui.seed import seed_app_database


def test_keyset_pages_cover_every_task_once_in_priority_order(seeded: Any) -> None:
    engine, data = seeded
    seen: list[int] = []
    cursor = None
    while True:
        page = queue_lists.list_queue(
            engine, username="spec1", filters=QueueFilters(), cursor=cursor, limit=4
        )
        seen += [r.task_id for r in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(reversed(data["task_ids"]))  # priority 55 first
    assert page.total == 6


def test_due_sort_pages_follow_the_deadline(seeded: Any) -> None:
    engine, data = seeded
    first = queue_lists.list_queue(
        engine, username="spec1", filters=QueueFilters(sort="due"), limit=4
    )
    rest = queue_lists.list_queue(
        engine, username="spec1", filters=QueueFilters(sort="due"), cursor=first.next_cursor
    )
    assert [r.task_id for r in first.rows + rest.rows] == data["task_ids"]
    assert [r.task_id for r in rest.rows] == data["task_ids"][4:]


def test_filters_round_trip_through_url_params() -> None:
    filters = QueueFilters(kinds=("scrub",), payer_ids=(3,), due="7d", sort="due", assignee="me")
    assert QueueFilters.from_params(filters.to_params()) == filters


def test_list_masks_member_ids(seeded: Any) -> None:
    engine, _ = seeded
    row = queue_lists.list_queue(engine, username="spec1", filters=QueueFilters()).rows[0]
    assert row.member_id.startswith("••") and row.member_id[-4:].isdigit()


@pytest.mark.parametrize("backend", DB_BACKENDS)
def test_filter_by_reason_code_matches_the_carc_with_or_without_group_and_the_outcome(
    backend: str, databases: Any, tmp_path: Path
) -> None:
    settings = databases.settings(backend, tmp_path)
    ids = seed_app_database(settings)["task_ids"]
    engine = make_engine(settings)
    contexts = {
        ids[0]: {"group_code": "CO", "reason_code": "16", "remark_codes": ["N290"]},
        ids[1]: {"group_code": "PR", "reason_code": "16"},
        ids[2]: {"outcome": "inactive"},
        ids[3]: {"group_code": "CO", "reason_code": "197"},
    }
    with Session(engine) as session:
        for task_id, context in contexts.items():
            task = session.get(ReviewTask, task_id)
            assert task is not None
            task.context = context
            session.add(task)
        session.commit()

    def found(reason: str) -> list[int]:
        page = queue_lists.list_queue(engine, username="spec1", filters=QueueFilters(reason=reason))
        return sorted(row.task_id for row in page.rows)

    assert found("CO-16") == [ids[0]]
    assert found("co-16") == [ids[0]]
    assert found("16") == sorted([ids[0], ids[1]])
    assert found("inactive") == [ids[2]]
    assert found("45") == []
    with pytest.raises(ValidationFailed, match="reason: 'CO 16;'"):
        QueueFilters(reason="CO 16;")
    assert QueueFilters.from_params({"reason": "CO-197"}).reason == "CO-197"
    engine.dispose()


@pytest.mark.parametrize("backend", DB_BACKENDS)
def test_next_task_has_exactly_one_winner_per_task(
    backend: str, databases: Any, tmp_path: Path
) -> None:
    settings = databases.settings(backend, tmp_path)
    data = seed_app_database(settings)
    engine = make_engine(settings)
    callers = ["spec1", "spec2", "lead1"] * 3
    with ThreadPoolExecutor(max_workers=len(callers)) as pool:
        won = list(pool.map(lambda u: queue.take_next_task(engine, username=u), callers))
    taken = [t for t in won if t is not None]
    assert sorted(taken) == sorted(data["task_ids"])  # six tasks, six winners, no repeats
    assert won.count(None) == len(callers) - 6
    engine.dispose()


def test_auditor_cannot_take_or_reassign(seeded: Any) -> None:
    engine, data = seeded
    with pytest.raises(PermissionDenied):
        queue.take_next_task(engine, username="aud1")
    with pytest.raises(PermissionDenied):
        queue.reassign(engine, username="spec1", task_ids=data["task_ids"], to_username="spec2")


def test_bulk_reassign_reports_what_could_not_move(seeded: Any) -> None:
    engine, data = seeded
    first, second, *_ = data["task_ids"]
    queue.claim(engine, username="spec2", task_id=second)
    report = queue.reassign(
        engine, username="lead1", task_ids=[first, second, 999_999], to_username="spec2"
    )
    assert report.moved == [first]
    assert dict(report.refused) == {second: "already assigned to spec2", 999_999: "no such task"}


def test_unclaim_by_someone_else_is_refused(seeded: Any) -> None:
    engine, data = seeded
    task_id = data["task_ids"][0]
    queue.claim(engine, username="spec1", task_id=task_id)
    with pytest.raises(PermissionDenied):
        queue.unclaim(engine, username="spec2", task_id=task_id)
    queue.unclaim(engine, username="spec1", task_id=task_id)
    with pytest.raises(ReviewConflict):
        queue.unclaim(engine, username="spec1", task_id=task_id)


def test_saved_views_are_private_unless_shared(seeded: Any) -> None:
    engine, _ = seeded
    filters = QueueFilters(kinds=("scrub",), sort="due")
    private = saved_views.save_view(
        engine, username="spec1", name="mine", filters=filters, shared=False
    )
    shared = saved_views.save_view(
        engine, username="spec1", name="team", filters=filters, shared=True
    )
    assert saved_views.read_view(engine, username="spec2", view_id=shared).filters == filters
    with pytest.raises(Exception, match="no saved view"):
        saved_views.read_view(engine, username="spec2", view_id=private)


def test_decision_without_a_waiting_flow_is_recorded_and_applied(seeded: Any) -> None:
    engine, _ = seeded
    task_id = queue.take_next_task(engine, username="spec1")
    assert task_id is not None
    outcome = resolve.submit_decision(
        engine,
        username="spec1",
        task_id=task_id,
        decision={"action": "override", "reason": "payer confirmed by phone"},
        resumer=resume_unavailable,
    )
    assert "applied (overridden)" in outcome.message
    view = task_view.read_task_view(engine, username="spec1", task_id=task_id)
    assert view.task.status == "resolved" and view.claim is not None
    assert view.claim.status == "queued"
    with pytest.raises(ReviewConflict):
        resolve.submit_decision(
            engine,
            username="spec2",
            task_id=task_id,
            decision={"action": "cancel", "reason": "late"},
            resumer=resume_unavailable,
        )


def test_pretty_x12_puts_one_segment_per_line() -> None:
    isa = (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       "
        "*261127*0800*^*00501*000000001*0*T*:~"
    )
    text = task_view.pretty_x12((isa + "GS*HC~ST*837*0001~").encode())
    assert text.splitlines()[1:] == ["GS*HC~", "ST*837*0001~"]


def test_comments_attachments_and_documents_are_audited(seeded: Any, tmp_path: Path) -> None:
    from claimdesk.documents import LocalDocumentStore
    from models import AuditEvent

    engine, data = seeded
    store = LocalDocumentStore(tmp_path / "docs")
    task_id = data["task_ids"][0]
    task_view.add_comment(engine, username="spec1", task_id=task_id, body="called payer")
    document_id = task_view.attach_document(
        engine,
        store,
        username="spec1",
        task_id=task_id,
        data=b"%PDF-1.4 appeal",
        content_type="application/pdf",
        kind="appeal_letter",
    )
    view = task_view.read_task_view(engine, username="aud1", task_id=task_id)
    assert [c[2] for c in view.comments] == ["called payer"]
    assert [d.id for d in view.documents] == [document_id]
    content = task_view.read_document(engine, store, username="aud1", document_id=document_id)
    assert content.data == b"%PDF-1.4 appeal" and content.text is None
    with pytest.raises(PermissionDenied):
        task_view.add_comment(engine, username="aud1", task_id=task_id, body="hi")
    with Session(engine) as session:
        actions = {e.action for e in session.exec(select(AuditEvent))}
    assert {"comment.added", "document.attached", "claim.viewed", "document.viewed"} <= actions
