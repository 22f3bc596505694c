"""Work-queue benchmark on PostgreSQL: "next task", "open task" and "resolve", whole calls.

Creates a throwaway database on 127.0.0.1:5432 (user postgres, trust auth),
migrates it, loads ``--tasks`` open review tasks (default 100,000; with their
claims, patients and coverages, so the joins are real; each waiting on a flow
run), then:

- the server-side time (EXPLAIN ANALYZE) of the queue page's queries (info);
- **the headline**: 20 concurrent callers, each ``--rounds`` times: next task
  (``workqueue.queue.take_next_task``), open it (``workqueue.task_view.read_task_view``),
  resolve it (``resolve_review``, with a resumer standing in for Prefect), each
  timed as the whole service call: user, permission, SQL, audit event, commit.
  Baseline: the same calls by one caller alone (what contention adds).
- what bounds it (info): statements and Python CPU per call (1 caller), and for
  the 20 callers this process's CPU per cycle and how busy all cores were. The
  callers are threads of one process, as the app's sessions are: one caller's
  Python runs at a time, so the 20-caller latency is about 20 x the Python CPU of
  a cycle, plus whatever else the machine runs.

Checked: no task handed out twice; the database's resolved tasks are the ones the
callers resolved, one decision each, each resumed once; one ``task.claimed``,
``claim.viewed`` and ``task.resolved`` event per call; the audit chain verifies
(sealed first where the trail is sealed by a sealer). Target: p95 < 50 ms for each
call. Run: ``uv run python -m bench.work_queue [--tasks N]``; the database is dropped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench._common import Bench, import_first, percentiles
from claimdesk.db import make_engine
from claimdesk.migrate import upgrade_database
from claimdesk.passwords import hash_password
from claimdesk.settings import Settings
from models import Payer, Practice, Provider, User
from models.queue import SavedView  # noqa: F401  (the migration's tables are registered)
from models.types import utcnow

# Where each stage function lives now, and where it lived before the packages moved.
_FILTERS = ("claimdesk.workqueue.filters", "claimdesk.workqueue.queue")
Cursor = import_first("Cursor", *_FILTERS)
QueueFilters = import_first("QueueFilters", *_FILTERS)
queue_page_query = import_first("queue_page_query", *_FILTERS)
kinds_for_role = import_first("kinds_for_role", "claimdesk.workqueue.kinds", *_FILTERS)
take_next_task = import_first("take_next_task", "claimdesk.workqueue.queue")
read_task_view = import_first("read_task_view", "claimdesk.workqueue.task_view")
resolve_review = import_first(
    "resolve_review", "claimdesk.workqueue.resolve", "claimdesk.review.tasks"
)

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PATIENTS = 10_000
PAYERS = 8
CALLERS = 20  # concurrent callers, as the issue asks
REPEATS = 30  # server-side timings per queue query; p95 of these
KINDS = ("eligibility", "scrub", "rejection", "denial", "remittance")
# A valid decision for each kind the bench creates (no denial row: no denial rules apply).
DECISIONS: dict[str, dict[str, Any]] = {
    "eligibility": {"action": "hold", "reason": "bench: waiting for the card"},
    "scrub": {"action": "override", "reason": "bench: payer confirmed the modifier"},
    "rejection": {"action": "cancel", "reason": "bench: duplicate"},
    "denial": {"action": "write_off", "reason": "bench: small balance"},
    "remittance": {"action": "dismiss", "reason": "bench: posted by hand"},
}
TARGET_P95_MS = 50.0


def _load(engine: Engine, tasks: int) -> dict[str, Any]:
    """Reference rows through the models; the bulk through generate_series (seconds)."""
    password_hash = hash_password("bench-password")
    with Session(engine) as session:
        practice = Practice(name="Bench Practice", npi="1234567893", tin="123456789")
        session.add(practice)
        session.flush()
        provider = Provider(practice_id=practice.id or 0, role="billing", npi="1234567893")
        payers = [Payer(name=f"Payer {n}", payer_id=f"BENCH{n:03d}") for n in range(PAYERS)]
        users = [
            User(username=f"spec{n:02d}", role="specialist", password_hash=password_hash)
            for n in range(CALLERS)
        ]
        session.add_all([provider, *payers, *users])
        session.commit()
        ids = {
            "practice": practice.id,
            "provider": provider.id,
            "payer_min": min(p.id or 0 for p in payers),
            "users": [u.username for u in users],
            "user_id": users[0].id,
        }
    patients = min(PATIENTS, tasks)
    params = {**ids, "patients": patients, "tasks": tasks, "payers": PAYERS, "now": utcnow()}
    kinds = "ARRAY[" + ",".join(f"'{k}'" for k in KINDS) + "]"
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO patient (practice_id, account_number, last_name, first_name,
                    birth_date, gender, address_line1, city, state, postal_code)
                SELECT :practice, 'A' || g, 'Bench', 'Pat' || g, DATE '1970-01-01' + g % 9000,
                    'U', '', '', '', ''
                FROM generate_series(1, :patients) g
                """
            ),
            params,
        )
        conn.execute(
            text(
                """
                INSERT INTO coverage (patient_id, payer_id, member_id, relationship,
                    effective_from, coverage_order)
                SELECT p.id, :payer_min + p.id % :payers, 'MEM' || lpad(p.id::text, 9, '0'),
                    'self', DATE '2020-01-01', 1
                FROM patient p
                """
            ),
            params,
        )
        conn.execute(
            text(
                """
                INSERT INTO claim (practice_id, patient_id, coverage_id, payer_id,
                    billing_provider_id, kind, patient_control_number, version, frequency_code,
                    place_of_service, service_from, service_to, total_charge, coverage_order,
                    status, created_at, status_changed_at, updated_at)
                SELECT :practice, c.patient_id, c.id, c.payer_id, :provider, 'P',
                    'PCN' || g, 1, '1', '11', DATE '2026-10-01', DATE '2026-10-01',
                    ((g * 7919) % 500000) / 100.0 + 25, 1, 'scrub_hold', :now, :now, :now
                FROM generate_series(1, :tasks) g
                JOIN coverage c ON c.id = (SELECT min(id) FROM coverage) + g % :patients
                """
            ),
            params,
        )
        conn.execute(
            text(
                f"""
                INSERT INTO review_task (kind, claim_id, claim_version, step, payer_id,
                    pause_key, flow_run_id, status, priority, due_at, context,
                    decision_schema, version, created_at, updated_at)
                SELECT ({kinds})[1 + cl.id % 5], cl.id, 1, 1, cl.payer_id,
                    'bench-' || cl.id, 'bench-run-' || cl.id, 'open', (cl.id * 31) % 100,
                    CAST(:now AS timestamptz) + ((cl.id % 60) - 10) * interval '1 day',
                    '{{}}'::json, '{{}}'::json, 1,
                    CAST(:now AS timestamptz) - (cl.id % 30) * interval '1 day',
                    CAST(:now AS timestamptz)
                FROM claim cl
                """
            ),
            params,
        )
        conn.execute(text("ANALYZE"))
    return ids


def _server_ms(engine: Engine, statement: Any) -> float:
    """Planning + execution time of one run of ``statement``, as PostgreSQL reports it."""
    compiled = statement.compile(
        dialect=engine.dialect, compile_kwargs={"render_postcompile": True}
    )
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}", compiled.params
        ).scalar_one()[0]
    return float(plan["Planning Time"] + plan["Execution Time"])


def _p95(samples_ms: list[float]) -> float:
    return percentiles([ms / 1000 for ms in samples_ms])[1]


def _time_queries(engine: Engine, user_id: int, tasks: int, repeats: int) -> dict[str, float]:
    allowed = kinds_for_role("specialist")
    default = QueueFilters()
    filtered = QueueFilters(
        kinds=("denial",), payer_ids=(2, 3), due="30d", min_amount=Decimal("1000"), sort="due"
    )
    with engine.connect() as conn:
        # The keyset cursor of the middle row in priority order: a deep page.
        prio, tid = conn.execute(
            text(
                "SELECT priority, id FROM review_task WHERE status = 'open' "
                "AND kind = ANY(:kinds) ORDER BY priority DESC, id OFFSET :deep LIMIT 1"
            ),
            {"kinds": list(allowed), "deep": tasks // 2},
        ).one()
    deep = Cursor("priority", str(prio), tid)
    from sqlalchemy import func
    from sqlalchemy import select as sa_select
    from sqlmodel import col

    from models import ReviewTask

    count_cap = import_first("COUNT_CAP", *_FILTERS)
    _filtered = import_first("_filtered", *_FILTERS)

    count = sa_select(func.count()).select_from(
        _filtered(sa_select(col(ReviewTask.id)), default, user_id=user_id, allowed=allowed)
        .limit(count_cap + 1)
        .subquery()
    )
    statements = {
        "first_page": queue_page_query(default, user_id=user_id, allowed=allowed, limit=51),
        "deep_page": queue_page_query(
            default, user_id=user_id, allowed=allowed, cursor=deep, limit=51
        ),
        "filtered": queue_page_query(filtered, user_id=user_id, allowed=allowed, limit=51),
        "count": count,
    }
    results = {}
    for name, statement in statements.items():
        _server_ms(engine, statement)  # warm the cache once
        results[name] = _p95([_server_ms(engine, statement) for _ in range(repeats)])
    return results


class RecordingResumer:
    """Stands in for Prefect: records each (flow run, decision) it is asked to resume."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def __call__(self, flow_run_id: str, decision_id: int) -> None:
        with self._lock:
            self.calls.append((flow_run_id, decision_id))


@dataclass
class Tally:
    """What the callers did and how long each whole call took (seconds)."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: {"next_task": [], "open_task": [], "resolve": []}
    )
    won: list[int] = field(default_factory=list)
    resolved: dict[int, int] = field(default_factory=dict)  # task id -> decision id
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    wall: float = 0.0
    process_cpu: float = 0.0  # the whole process (every caller thread), seconds
    machine_busy: float = float("nan")  # share of all cores busy during the run (any process)

    cpu: dict[str, list[float]] = field(
        default_factory=lambda: {"next_task": [], "open_task": [], "resolve": []}
    )

    def timed(self, name: str, call: Callable[..., Any], **kwargs: Any) -> Any:
        _CURRENT.call = name
        started, cpu = time.perf_counter(), time.thread_time()
        result = call(**kwargs)
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
        _CURRENT.call = None
        with self.lock:
            self.latencies[name].append(elapsed)
            self.cpu[name].append(cpu)
        return result


def _work(engine: Engine, username: str, rounds: int, tally: Tally, resumer: RecordingResumer,
          start: threading.Barrier) -> None:  # fmt: skip
    """One specialist: ``rounds`` times next task, open it, resolve it."""
    start.wait()
    for _ in range(rounds):
        try:
            task_id = tally.timed("next_task", take_next_task, engine=engine, username=username)
            if task_id is None:
                return
            with tally.lock:
                tally.won.append(task_id)
            view = tally.timed(
                "open_task", read_task_view, engine=engine, username=username, task_id=task_id
            )
            outcome = tally.timed(
                "resolve",
                resolve_review,
                engine=engine,
                task_id=task_id,
                username=username,
                decision=DECISIONS[view.task.kind],
                resumer=resumer,
            )
            with tally.lock:
                tally.resolved[task_id] = outcome.decision_id
        except Exception as exc:  # counted and reported: a failed call breaks the bench
            with tally.lock:
                tally.errors[f"{type(exc).__name__}: {exc}"[:160]] += 1


def work_queue(engine: Engine, usernames: list[str], rounds: int) -> tuple[Tally, RecordingResumer]:
    """``len(usernames)`` concurrent callers working the queue ``rounds`` tasks each."""
    tally, resumer = Tally(), RecordingResumer()
    start = threading.Barrier(len(usernames))
    threads = [
        threading.Thread(target=_work, args=(engine, u, rounds, tally, resumer, start))
        for u in usernames
    ]
    began, cpu, machine = time.perf_counter(), time.process_time(), _machine_busy()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.wall = time.perf_counter() - began
    tally.process_cpu = time.process_time() - cpu
    tally.machine_busy = _machine_busy(since=machine)
    return tally, resumer


def _machine_busy(since: tuple[int, int] | None = None) -> Any:
    """(total, idle) jiffies from /proc/stat; with ``since``, the busy share between (0..1)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return (0, 0) if since is None else float("nan")
    now = (sum(fields), fields[3] + fields[4])
    if since is None:
        return now
    total, idle = now[0] - since[0], now[1] - since[1]
    return 1 - idle / total if total else float("nan")


_CURRENT = threading.local()  # the call a thread is timing (for StatementCounter)


class StatementCounter:
    """Statements each timed call sends (SQLAlchemy's cursor events; COMMIT and ping not)."""

    def __init__(self, engine: Engine) -> None:
        self.counts: Counter[str] = Counter()
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        name = getattr(_CURRENT, "call", None)
        if name:
            self.counts[name] += 1

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def check(bench: Bench, engine: Engine, settings: Settings, tallies: list[Tally],
          resumers: list[RecordingResumer]) -> None:  # fmt: skip
    """Every call did what it says, once, and the audit trail holds it all."""
    won = [t for tally in tallies for t in tally.won]
    resolved = {k: v for tally in tallies for k, v in tally.resolved.items()}
    errors = sum((tally.errors for tally in tallies), Counter[str]())
    for error, n in errors.most_common(3):
        bench.info(f"{n} x {error}")
    bench.check(not errors, f"{sum(errors.values())} calls failed")
    twice = [t for t, n in Counter(won).items() if n > 1]
    bench.check(not twice, f"{len(twice)} tasks handed out twice")
    with engine.connect() as conn:
        in_db: dict[int, int] = dict(
            conn.execute(
                text("SELECT id, decision_id FROM review_task WHERE status = 'resolved'")
            ).all()
        )
        decisions = Counter(
            conn.execute(text("SELECT review_task_id FROM review_decision")).scalars().all()
        )
        events = Counter(
            (action, int(entity_id))  # stored as text
            for action, entity_id in conn.execute(
                text(
                    "SELECT action, entity_id FROM audit_event WHERE action IN "
                    "('task.claimed', 'claim.viewed', 'task.resolved')"
                )
            ).all()
        )
    bench.check(in_db == resolved, f"database resolved {len(in_db)}, callers {len(resolved)}")
    bench.check(set(decisions.values()) <= {1}, "one decision per resolved task")
    resumed = Counter(d for resumer in resumers for _run, d in resumer.calls)
    bench.check(
        set(resumed) == set(resolved.values()) and set(resumed.values()) <= {1},
        f"each decision resumed once ({len(resumed)} of {len(resolved)})",
    )
    for action, expected in (
        ("task.claimed", Counter(won)),
        ("claim.viewed", Counter(won)),
        ("task.resolved", Counter(resolved.keys())),
    ):
        seen = Counter({e: n for (a, e), n in events.items() if a == action})
        extra, missing = seen - expected, expected - seen
        bench.check(
            not extra and not missing,
            f"one {action} event per call: {sum(seen.values())} events, "
            f"extra {list(extra.items())[:3]}, missing {list(missing.items())[:3]}",
        )
    bench.check(_audit_verifies(bench, engine, settings), "the audit chain verifies")


def _audit_verifies(bench: Bench, engine: Engine, settings: Settings) -> bool:
    """Seal what is pending (where a sealer chains the trail), then walk the chain."""
    import models.audit as audit

    with Session(engine) as session:
        if hasattr(audit, "seal_pending"):
            key = audit.audit_key(settings)
            started = time.perf_counter()
            sealed = audit.seal_pending(engine, key)
            bench.info(f"audit: {sealed:,} events sealed in {time.perf_counter() - started:.1f} s")
            breaks = audit.verify_audit_chain(session, key)
        else:
            breaks = audit.verify_audit_chain(session)
    for chain_break in breaks[:3]:
        bench.info(f"audit chain: {chain_break}")
    return not breaks


def _users(engine: Engine, count: int, prefix: str) -> list[str]:
    names = [f"{prefix}{n:02d}" for n in range(count)]
    with Session(engine) as session:
        session.add_all(
            User(username=name, role="specialist", password_hash="unused: no sign-in here")
            for name in names
        )
        session.commit()
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks in the queue")
    parser.add_argument("--rounds", type=int, default=25, help="tasks each caller works")
    parser.add_argument("--quick", action="store_true", help="10,000 tasks, 10 rounds")
    args = parser.parse_args()
    tasks, rounds = (10_000, 10) if args.quick else (args.tasks, args.rounds)
    bench = Bench("work_queue")
    name = f"claimdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    folder = tempfile.TemporaryDirectory(prefix="bench-wq-")
    settings = Settings(_env_file=None, database_url=SecretStr(url), data_dir=Path(folder.name))
    engine = make_engine(settings, pool_size=CALLERS + 2, max_overflow=0)
    try:
        began = time.perf_counter()
        upgrade_database(engine)
        ids = _load(engine, tasks)
        bench.info(f"loaded {tasks:,} open tasks in {time.perf_counter() - began:.1f} s")
        for label, ms in _time_queries(engine, ids["user_id"], tasks, REPEATS).items():
            bench.info(f"queue page {label:<11} p95 {ms:7.2f} ms (server-side, {REPEATS} runs)")
        counter = StatementCounter(engine)
        alone, alone_resumer = work_queue(engine, _users(engine, 1, "solo"), rounds * 2)
        counter.stop()
        crowd, crowd_resumer = work_queue(engine, _users(engine, CALLERS, "crowd"), rounds)
        check(bench, engine, settings, [alone, crowd], [alone_resumer, crowd_resumer])
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        folder.cleanup()
    cycles = max(1, len(crowd.latencies["resolve"]))
    bench.info(
        f"{CALLERS} callers: {cycles} next/open/resolve cycles in {crowd.wall:.1f} s; this "
        f"process's CPU {crowd.process_cpu / cycles * 1000:.1f} ms a cycle "
        f"({crowd.process_cpu / crowd.wall:.2f} cores: the GIL runs one caller's Python at "
        f"a time); all cores {crowd.machine_busy:.0%} busy (PostgreSQL and anything else)"
    )
    for call in ("next_task", "open_task", "resolve"):
        solo_cpu = percentiles(alone.cpu[call])[0]
        statements = counter.counts[call] / max(1, len(alone.latencies[call]))
        bench.info(
            f"{call:<9} 1 caller: {statements:.1f} statements a call, Python CPU p50 "
            f"{solo_cpu:.2f} ms"
        )
    for call in ("open_task", "resolve", "next_task"):
        p50, p95 = percentiles(crowd.latencies[call])
        _solo50, solo95 = percentiles(alone.latencies[call])
        bench.info(
            f"{call:<9} {CALLERS} callers p50 {p50:6.1f} ms p95 {p95:6.1f} ms "
            f"({len(crowd.latencies[call])} calls); 1 caller p95 {solo95:6.1f} ms"
        )
        bench.result(
            f"wq-{call.replace('_', '-')}-{tasks}",
            ours=f"p50 {p50:.1f} ms p95 {p95:.1f} ms ({CALLERS} callers)",
            baseline=f"1 caller p95 {solo95:.1f} ms",
            ratio=p95 / solo95,
            ratio_of="20 callers/1",
            target=f"p95 < {TARGET_P95_MS:g} ms",
            ok=p95 < TARGET_P95_MS,
        )
    return bench.finish()


if __name__ == "__main__":
    sys.exit(main())
