"""``/admin``: reset, clock, faults, roster, payers, fee schedule, what was received (loopback)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from claimdesk.payer_sim.config import FaultConfig, PayerConfig, RosterMember
from claimdesk.payer_sim.engine import PayerSim

Guard = Callable[[Request], Response | None]


def add_admin_routes(app: FastAPI, sim: PayerSim, guard: Guard, stats: dict[str, float]) -> None:
    async def body_json(request: Request) -> Any:
        raw = await request.body()
        return json.loads(raw) if raw else {}

    @app.post("/admin/reset")
    def reset(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        sim.reset()
        stats.update(requests=0, total_ms=0.0)
        return JSONResponse({"clock": sim.today().isoformat()})

    @app.get("/admin/clock")
    def clock(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        return JSONResponse({"clock": sim.today().isoformat()})

    @app.post("/admin/clock/advance")
    async def advance(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        days = int((await body_json(request)).get("days", 1))
        if days < 0:
            return JSONResponse({"error": "days must be 0 or more; the clock never goes back"}, 400)
        return JSONResponse({"clock": sim.advance(days).isoformat()})

    @app.get("/admin/faults")
    def get_faults(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        return JSONResponse(sim.faults().model_dump())

    @app.put("/admin/faults")
    async def put_faults(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        try:
            faults = FaultConfig.model_validate(await body_json(request))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 422)
        sim.set_faults(faults)
        return JSONResponse(faults.model_dump())

    @app.post("/admin/roster")
    async def add_roster(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        data = await body_json(request)
        items = data if isinstance(data, list) else data.get("members", [data])
        try:
            members = [RosterMember.model_validate(item) for item in items]
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 422)
        sim.add_members(members)
        return JSONResponse({"added": [m.member_id for m in members]})

    @app.get("/admin/roster")
    def roster(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        return JSONResponse([json.loads(m.model_dump_json()) for m in sim.members()])

    @app.post("/admin/payers")
    async def add_payers(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        data = await body_json(request)
        items = data if isinstance(data, list) else data.get("payers", [data])
        try:
            payers = [PayerConfig.model_validate(item) for item in items]
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 422)
        sim.add_payers(payers)
        return JSONResponse({"added": [p.payer_id for p in payers]})

    @app.get("/admin/payers")
    def payers(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        return JSONResponse([p.model_dump(mode="json") for p in sim.config.payers])

    @app.put("/admin/fee-schedule")
    async def put_fees(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        data = await body_json(request)
        try:
            fees = {str(code): Decimal(str(amount)) for code, amount in dict(data).items()}
        except (ValueError, TypeError, ArithmeticError):
            return JSONResponse({"error": "send a JSON object {procedure code: amount}"}, 422)
        if any(not amount.is_finite() or amount < 0 for amount in fees.values()):
            return JSONResponse({"error": "amounts must be 0 or more"}, 422)
        sim.set_fees(fees)
        return JSONResponse({code: str(amount) for code, amount in sim.config.fee_schedule.items()})

    @app.get("/admin/fee-schedule")
    def fees(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        return JSONResponse({code: str(amount) for code, amount in sim.config.fee_schedule.items()})

    @app.get("/admin/interchanges")
    def interchanges(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        rows = sim.store.query(
            "SELECT id, sender_id, isa13, payload_id, payload_type, received_at, sim_date, "
            "size, outcome FROM interchanges ORDER BY id"
        )
        return JSONResponse([dict(row) for row in rows])

    @app.get("/admin/claims")
    def claims(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        rows = sim.store.query(
            "SELECT c.id, c.claim_ref, c.pcn, c.member_id, c.payer_id, c.payer_claim_number, "
            "c.status, c.reason, c.received_on, c.adjudicated_on, c.frequency, c.result, "
            "c.interchange_id, i.isa13, i.payload_id FROM claims c "
            "JOIN interchanges i ON i.id = c.interchange_id ORDER BY c.id"
        )
        by_ref: dict[str, dict[str, Any]] = {}
        for row in rows:
            empty = {"claim_ref": row["claim_ref"], "interchanges": [], "receipts": []}
            entry = by_ref.setdefault(row["claim_ref"], empty)
            entry["interchanges"].append({"isa13": row["isa13"], "payload_id": row["payload_id"],
                                          "interchange_id": row["interchange_id"]})  # fmt: skip
            result = json.loads(row["result"]) if row["result"] else None
            entry["receipts"].append({
                key: row[key] for key in ("pcn", "member_id", "payer_id", "payer_claim_number",
                                          "status", "reason", "received_on", "adjudicated_on",
                                          "frequency")
            } | {"clp02": result["status"] if result else None,
                 "paid": result["paid"] if result else None,
                 "denials": result["denials"] if result else []})  # fmt: skip
        return JSONResponse(list(by_ref.values()))

    @app.get("/admin/files")
    def files(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        rows = sim.store.query(
            "SELECT id, kind, recipient, payload_id, created_at, length(data) AS size, "
            "picked_up, offered FROM files ORDER BY id"
        )
        return JSONResponse([dict(row) for row in rows])

    @app.get("/admin/stats")
    def get_stats(request: Request) -> Response:
        if (refused := guard(request)) is not None:
            return refused
        count = int(stats["requests"])
        mean = stats["total_ms"] / count if count else 0.0
        return JSONResponse({"requests": count, "mean_handling_ms": round(mean, 3)})
