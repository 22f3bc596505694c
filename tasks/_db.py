"""The flow-run process's engine: one per process, built from settings on first use."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.engine import Engine

from claimdesk.db import make_engine
from claimdesk.settings import get_settings


@lru_cache
def engine() -> Engine:
    return make_engine(get_settings())
