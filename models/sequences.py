"""Control numbers (ISA13, GS06, ST02) that never repeat, also across processes."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Field, Session, SQLModel

from claimdesk.errors import ConfigError

# ISA13 and GS06 are at most nine digits; ST02 is 4-9 characters.
_MAX_CONTROL_NUMBER = 999_999_999


class ControlSequence(SQLModel, table=True):
    __tablename__ = "control_sequence"
    name: str = Field(primary_key=True, max_length=20)
    last_value: int = Field(default=0, ge=0)


def allocate_control_numbers(session: Session, name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive numbers of sequence ``name``.

    One atomic ``UPDATE … RETURNING`` (row-locked on PostgreSQL, database-locked
    on SQLite), so two processes can never get the same number; numbers of a
    rolled-back transaction are reused, which is fine: they never reached a payer.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count!r}")
    session.execute(
        text(
            "INSERT INTO control_sequence (name, last_value) VALUES (:name, 0) "
            "ON CONFLICT (name) DO NOTHING"
        ),
        {"name": name},
    )
    last = session.execute(
        text(
            "UPDATE control_sequence SET last_value = last_value + :count "
            "WHERE name = :name RETURNING last_value"
        ),
        {"name": name, "count": count},
    ).scalar_one()
    if last > _MAX_CONTROL_NUMBER:
        raise ConfigError(
            f"control sequence {name!r} is exhausted at {_MAX_CONTROL_NUMBER}; "
            "start a new sender id or reset the sequence after archiving."
        )
    return range(last - count + 1, last + 1)
