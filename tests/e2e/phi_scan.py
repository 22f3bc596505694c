"""Look for patient data anywhere in Prefect's database and PREFECT_HOME."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def phi_patterns(
    names: list[str], member_ids: list[str], birth_dates: list[date]
) -> re.Pattern[str]:
    terms = [rf"\b{re.escape(n)}\b" for n in names if len(n) > 2]
    terms += [re.escape(m) for m in member_ids]
    for born in birth_dates:
        terms += [born.isoformat(), born.strftime("%Y%m%d"), born.strftime("%m/%d/%Y")]
    return re.compile("|".join(terms), re.IGNORECASE)


def database_text(prefect_db_url: str) -> str:
    """Every text and JSON value of every table of Prefect's database, as one string."""
    url = make_url(prefect_db_url)
    chunks: list[str] = []
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as conn:
            chunks.extend(conn.iterdump())
        return "\n".join(chunks)
    engine = create_engine(url.set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        tables = (
            conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
            .scalars()
            .all()
        )
        for table in tables:
            rows = conn.execute(text(f'SELECT row_to_json(t)::text FROM "{table}" t')).scalars()
            chunks.extend(rows)
    engine.dispose()
    return "\n".join(chunks)


def files_text(root: Path) -> str:
    parts = []
    for path in root.rglob("*"):
        if (
            path.is_file()
            and path.suffix not in (".db", ".db-wal", ".db-shm")
            and "prefect.db" not in path.name
        ):
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def find_phi(haystack: str, pattern: re.Pattern[str]) -> list[str]:
    return sorted({match.group(0) for match in pattern.finditer(haystack)})
