"""Control numbers never repeat, across threads and across processes."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
from sqlmodel import Session

from claimdesk.db import make_engine, session_scope
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from models import allocate_control_numbers


def test_allocate_control_numbers_returns_consecutive_block(session: Session) -> None:
    first = allocate_control_numbers(session, "isa13-test")
    block = allocate_control_numbers(session, "isa13-test", 5)
    assert list(block) == list(range(first.stop, first.stop + 5))


def test_allocate_control_numbers_refuses_zero_count(session: Session) -> None:
    with pytest.raises(ValueError, match="count"):
        allocate_control_numbers(session, "isa13-test", 0)


def _allocate_many(database_url: str, data_dir: str) -> list[int]:
    engine = make_engine(Settings(_env_file=None, data_dir=data_dir, database_url=database_url))
    numbers: list[int] = []
    for _ in range(40):
        with session_scope(engine) as s:
            numbers.extend(allocate_control_numbers(s, "isa13"))
    engine.dispose()
    return numbers


def test_allocate_control_numbers_never_repeats_across_processes(fresh_settings: Settings) -> None:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    engine.dispose()
    url = fresh_settings.effective_database_url
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=4, mp_context=context) as pool:
        results = list(pool.map(_allocate_many, [url] * 4, [str(fresh_settings.data_dir)] * 4))
    numbers = [n for chunk in results for n in chunk]
    assert len(numbers) == 160
    assert sorted(numbers) == list(range(1, 161))
