"""The app's resources: settings, the engine, the document store and the resumer.

``claimdesk up`` (``claimdesk.stack``) passes settings to ``streamlit run`` through
``CLAIMDESK_*`` environment variables; they are read here, at the app's entry.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from claimdesk.db import make_engine
from claimdesk.documents import DocumentStore, make_document_store
from claimdesk.settings import Settings
from claimdesk.workqueue.resolve import Resumer, Starter
from tasks.resume import (
    resume_unavailable,
    resume_with_reference,
    start_appeal_run,
    start_unavailable,
)


def get_settings() -> Settings:
    return Settings()


@st.cache_resource
def _engine(url: str, _settings: Settings) -> Engine:
    return make_engine(_settings)


def get_engine() -> Engine:
    settings = get_settings()
    return _engine(settings.effective_database_url, settings)


@st.cache_resource
def _store(data_dir: str, backend: str, _settings: Settings) -> DocumentStore:
    return make_document_store(_settings)


def get_document_store() -> DocumentStore:
    settings = get_settings()
    return _store(str(settings.data_dir), settings.document_store, settings)


def get_resumer() -> Resumer:
    """Prefect's resume when an API is configured; otherwise decisions wait for the reconciler."""
    if get_settings().prefect_api_url:
        return resume_with_reference
    return resume_unavailable


def get_starter() -> Starter:
    """Starts a denial's ``appeal`` run on its first decision; without an API, the reconciler."""
    if get_settings().prefect_api_url:
        return start_appeal_run
    return start_unavailable
