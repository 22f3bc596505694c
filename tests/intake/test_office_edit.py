"""The admin pages' service: one practice, provider, payer or fee row at a time, audited.

Each test runs on a new migrated database of each backend (SQLite and PostgreSQL), over
the example office imported by `claimdesk office import`, so "the app and the file
share one validation and one write path" is checked against real rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from claimdesk.db import make_engine, session_scope
from claimdesk.errors import PermissionDenied
from claimdesk.intake import office_edit
from claimdesk.intake.office import OfficeRefused, import_office
from claimdesk.intake.office_edit import EditRefused
from claimdesk.migrate import upgrade_database
from claimdesk.settings import Settings
from models import AuditEvent, FeeSchedule, Payer, Practice, Provider, User

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples"
PRACTICE_NPI = "1588123459"
GOOD_NPI = "1234567893"  # Luhn-valid over 80840
BAD_NPI = "1234567890"


@pytest.fixture
def engine(fresh_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(fresh_settings)
    upgrade_database(engine)
    with session_scope(engine) as session:
        session.add(User(username="ada", role="admin", password_hash="x"))
        session.add(User(username="sam", role="specialist", password_hash="x"))
    import_office(engine, EXAMPLE / "office.yaml", actor="setup")
    yield engine
    engine.dispose()


def rows(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            t.__name__: session.exec(select(func.count()).select_from(t)).one()
            for t in (Practice, Provider, Payer, FeeSchedule)
        }


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.exec(query.order_by(col(AuditEvent.id))).all())


def view(engine: Engine) -> office_edit.OfficeView:
    return office_edit.read_office(engine, username="ada")


def the_payer(engine: Engine, payer_id: str) -> dict[str, Any]:
    return next(p for p in view(engine).payers if p["payer_id"] == payer_id)


def test_every_stored_row_saved_unchanged_changes_nothing(engine: Engine) -> None:
    """The forms start from ``*_values``: saving them as they are is no change."""
    before = len(events(engine, "payer.updated"))
    office = view(engine)
    assert len(office.practices) == 1 and len(office.providers) == 3 and len(office.payers) == 3
    changes = [
        *[office_edit.save_practice(engine, username="ada", values=v) for v in office.practices],
        *[office_edit.save_provider(engine, username="ada", values=v) for v in office.providers],
        *[office_edit.save_payer(engine, username="ada", values=v) for v in office.payers],
        *[office_edit.save_fee_row(engine, username="ada", values=v) for v in office.fee_rows],
    ]
    assert all(c == [] for c in changes)
    assert len(events(engine, "payer.updated")) == before


def test_an_admin_adds_a_provider_then_changes_it_in_place_audited(engine: Engine) -> None:
    before = rows(engine)
    values = {
        "practice": PRACTICE_NPI,
        "npi": GOOD_NPI,
        "role": "rendering",
        "first_name": "Lena",
        "last_name": "Fischer",
        "taxonomy": "207q00000x",  # normalised like the file's
        "organization_name": "",  # a blank field is "not given"
        "tin": "",
    }
    [created] = office_edit.save_provider(engine, username="ada", values=values)
    assert (created.entity, created.action) == ("provider", "created")
    assert rows(engine)["Provider"] == before["Provider"] + 1

    [updated] = office_edit.save_provider(
        engine, username="ada", values={**values, "taxonomy": "363LF0000X"}
    )
    assert updated.action == "updated" and updated.fields == ("taxonomy",)
    assert rows(engine)["Provider"] == before["Provider"] + 1  # in place, not a second one
    with Session(engine) as session:
        provider = session.exec(select(Provider).where(Provider.npi == GOOD_NPI)).one()
        assert provider.taxonomy == "363LF0000X" and provider.organization_name is None
    [audit] = [e for e in events(engine, "provider.updated") if e.actor == "ada"]
    assert audit.details == {"via": "app", "fields": ["taxonomy"]}


def test_a_wrong_npi_is_refused_at_its_field_audited_and_nothing_stored(engine: Engine) -> None:
    before = rows(engine)
    values = {"practice": PRACTICE_NPI, "npi": BAD_NPI, "last_name": "Fischer"}
    with pytest.raises(EditRefused) as refused:
        office_edit.save_provider(engine, username="ada", values=values)
    assert list(refused.value.problems) == ["npi"]
    assert "not a valid NPI" in refused.value.problems["npi"][0]
    assert rows(engine) == before
    [audit] = events(engine, "office.edit_refused")
    assert audit.actor == "ada" and audit.entity_type == "provider"
    assert audit.details == {"via": "app", "fields": ["npi"]}
    assert BAD_NPI not in str(audit.details)


def test_an_unknown_practice_is_refused_by_the_importers_own_check(engine: Engine) -> None:
    values = {"practice": GOOD_NPI, "npi": GOOD_NPI, "organization_name": "Nowhere Clinic"}
    with pytest.raises(EditRefused) as refused:
        office_edit.save_provider(engine, username="ada", values=values)
    assert refused.value.problems == {
        "practice": ["no practice with this NPI, in the file or the database"]
    }


def test_anyone_but_an_admin_is_refused_audited_before_any_value_is_read(engine: Engine) -> None:
    before = rows(engine)
    calls = [
        lambda: office_edit.read_office(engine, username="sam"),
        lambda: office_edit.save_payer(engine, username="sam", values={"payer_id": "X"}),
        lambda: office_edit.save_fee_row(engine, username="sam", values={}),
        lambda: office_edit.import_fee_csv(engine, username="sam", data=b"", filename="f.csv"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    refusals = events(engine, "access.refused")
    assert len(refusals) == len(calls)
    assert {e.details["action"] for e in refusals} == {"office.manage"}
    assert rows(engine) == before and events(engine, "office.edit_refused") == []


def test_a_payers_rules_and_connectivity_change_in_place(engine: Engine) -> None:
    payer = the_payer(engine, "SIMACM")
    assert payer["timely_filing_days"] == 90 and payer["claim_channel"] == "electronic"
    payer["timely_filing_days"] = 120
    payer["status_poll_interval_hours"] = 48
    payer["appeal_levels"][1]["window_days"] = 90
    payer["connectivity"] |= {
        "endpoint": "https://edi.acme.example/core",
        "password_env": "ACME_PW",
    }
    [change] = office_edit.save_payer(engine, username="ada", values=payer)
    assert change.fields == (
        "appeal_levels",
        "connectivity.endpoint",
        "connectivity.password_env",
        "status_poll_interval_hours",
        "timely_filing_days",
    )
    with Session(engine) as session:
        row = session.exec(select(Payer).where(Payer.payer_id == "SIMACM")).one()
    assert row.timely_filing_days == 120 and row.appeal_levels[1]["window_days"] == 90
    # Reference only, and the keys the file does not own (none here) kept as they were.
    assert row.connectivity["password_env"] == "ACME_PW"
    assert row.connectivity["receiver_id"] == "SIMACM"
    assert the_payer(engine, "SIMACM")["timely_filing_days"] == 120


def test_a_secret_where_a_reference_belongs_is_refused_and_never_repeated(
    engine: Engine,
) -> None:
    payer = the_payer(engine, "SIMBLU")
    secret = "sk9Xq2LmT7vB4nR8wZ"
    payer["connectivity"]["password_env"] = secret
    payer["connectivity"]["endpoint"] = "http://edi.example.com/core"
    payer["timely_filing_days"] = 0
    with pytest.raises(EditRefused) as refused:
        office_edit.save_payer(engine, username="ada", values=payer)
    problems = refused.value.problems
    assert set(problems) == {
        "connectivity.password_env",
        "connectivity.endpoint",
        "timely_filing_days",
    }
    assert "must use https" in problems["connectivity.endpoint"][0]
    assert secret not in str(refused.value) and secret not in str(problems)
    [audit] = events(engine, "office.edit_refused")
    assert secret not in str(audit.details)
    assert the_payer(engine, "SIMBLU")["timely_filing_days"] == 180


def test_a_paper_payer_needs_its_address(engine: Engine) -> None:
    payer = the_payer(engine, "SIMBLU") | {"claim_channel": "paper"}
    with pytest.raises(EditRefused, match="needs the address"):
        office_edit.save_payer(engine, username="ada", values=payer)
    address = {
        "line1": "PO Box 9",
        "line2": "",
        "city": "Omaha",
        "state": "ne",
        "postal_code": "68101",
    }
    [change] = office_edit.save_payer(engine, username="ada", values={**payer, "address": address})
    assert "connectivity.submission_channel" in change.fields and "state" in change.fields
    assert the_payer(engine, "SIMBLU")["address"]["state"] == "NE"


def test_a_fee_row_is_added_edited_and_an_overlap_with_a_stored_rate_refused(
    engine: Engine,
) -> None:
    row = {"payer": "SIMBLU", "code": "99215", "modifier": "", "effective_from": date(2026, 1, 1)}
    [added] = office_edit.save_fee_row(engine, username="ada", values={**row, "allowed": "185"})
    assert added.action == "created"
    [edited] = office_edit.save_fee_row(
        engine,
        username="ada",
        values={**row, "allowed": "190.00", "effective_to": date(2026, 6, 30)},
    )
    assert edited.fields == ("effective_to", "expected_allowed")
    # A later rate that starts inside the stored one's period: refused, nothing stored.
    before = rows(engine)
    with pytest.raises(EditRefused) as refused:
        office_edit.save_fee_row(
            engine,
            username="ada",
            values={**row, "effective_from": date(2026, 6, 1), "allowed": "195.00"},
        )
    [message] = refused.value.problems["effective_from"]
    assert "overlaps the stored rate from 2026-01-01 to 2026-06-30" in message
    assert rows(engine) == before
    office_edit.save_fee_row(
        engine, username="ada", values={**row, "effective_from": date(2026, 7, 1), "allowed": "195"}
    )
    with Session(engine) as session:
        rates = session.exec(
            select(col(FeeSchedule.expected_allowed))
            .where(FeeSchedule.code == "99215")
            .order_by(col(FeeSchedule.effective_from))
        ).all()
    assert rates == [Decimal("190.00"), Decimal("195.00")]


def test_a_fee_csv_upload_is_taken_whole_or_refused_by_line(engine: Engine) -> None:
    good = (
        b"payer,code,modifier,effective_from,effective_to,allowed\n"
        b"SIMBLU,99215,,2026-01-01,,185.00\n"
        b"SIMBLU,99213,25,2026-01-01,,99.00\n"
    )
    changes = office_edit.import_fee_csv(engine, username="ada", data=good, filename="blu.csv")
    assert [c.action for c in changes] == ["created", "created"]
    assert office_edit.import_fee_csv(engine, username="ada", data=good, filename="blu.csv") == []
    [audit, *_] = [e for e in events(engine, "fee_schedule.created") if e.actor == "ada"]
    assert audit.details["via"] == "app" and audit.details["file"] == "blu.csv"

    before = rows(engine)
    bad = good + b"NOSUCH,99214,,2026-01-01,,1.00\nSIMBLU,9921,,2026-01-01,,1.00\n"
    with pytest.raises(EditRefused) as refused:
        office_edit.import_fee_csv(engine, username="ada", data=bad, filename="blu.csv")
    assert set(refused.value.problems) == {"line 4: payer", "line 5: code"}
    assert rows(engine) == before


def test_office_import_refuses_a_rate_overlapping_a_stored_one(
    engine: Engine, tmp_path: Path
) -> None:
    """The overlap check with stored rows serves the file as well as the app."""
    office_edit.save_fee_row(
        engine,
        username="ada",
        values={"payer": "SIMBLU", "code": "99215", "effective_from": "2026-01-01", "allowed": "1"},
    )
    path = tmp_path / "more.yaml"
    path.write_text(
        "fee_schedules:\n"
        '  - { payer: SIMBLU, code: "99215", effective_from: 2026-03-01, allowed: "2.00" }\n'
    )
    with pytest.raises(OfficeRefused) as refused:
        import_office(engine, path, actor="tester")
    [problem] = refused.value.problems
    assert (problem.line, problem.field) == (2, "fee_schedules[0].effective_from")
    assert "overlaps the stored rate from 2026-01-01" in problem.message


def test_an_add_form_never_overwrites_what_is_stored(engine: Engine) -> None:
    """Adding a payer, provider or rate that is there already is refused at its key."""
    before = the_payer(engine, "SIMACM")
    payer = {"payer_id": "simacm", "name": "Someone else"}
    with pytest.raises(EditRefused) as refused:
        office_edit.save_payer(engine, username="ada", values=payer, adding=True)
    assert list(refused.value.problems) == ["payer_id"]
    assert the_payer(engine, "SIMACM") == before
    provider = {"practice": PRACTICE_NPI, "npi": "1744012349", "last_name": "Other"}
    with pytest.raises(EditRefused, match="provider with this NPI"):
        office_edit.save_provider(engine, username="ada", values=provider, adding=True)
    rate = {"payer": "SIMBLU", "code": "99213", "effective_from": "2026-01-01", "allowed": "1"}
    with pytest.raises(EditRefused, match="starts on this day"):
        office_edit.save_fee_row(engine, username="ada", values=rate, adding=True)
    assert len(events(engine, "office.edit_refused")) == 3
    # The same values as an edit of the stored row: updated in place.
    [change] = office_edit.save_fee_row(engine, username="ada", values=rate)
    assert change.action == "updated" and change.fields == ("expected_allowed",)
