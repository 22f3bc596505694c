"""The dashboard's reads of the Prefect REST API: paging and failure (an HTTP fake of the API).

Against the real Prefect server these run in tests/e2e/test_browser_journey.py.
"""

from __future__ import annotations

import json

import httpx
import pytest

from claimdesk.reporting.flow_runs import (
    PrefectUnavailable,
    read_flow_run_state,
    read_flow_runs,
)


def _api(total_runs: int, asked: list[dict[str, object]]) -> httpx.MockTransport:
    """A Prefect API that, like the real one, refuses a page larger than 200."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/deployments/filter"):
            return httpx.Response(200, json=[{"id": "d1", "name": "submission"}])
        if request.url.path.endswith("/flow_runs/filter"):
            body = json.loads(request.content)
            asked.append(body)
            if body["limit"] > 200:
                return httpx.Response(422, json={"detail": "limit too large"})
            start = body["offset"]
            stop = min(start + body["limit"], total_runs)
            return httpx.Response(
                200,
                json=[
                    {
                        "id": f"r{i}",
                        "name": f"run-{i}",
                        "deployment_id": "d1",
                        "state": {"type": "COMPLETED", "name": "Completed"},
                        "start_time": "2026-11-27T10:00:00+00:00",
                    }
                    for i in range(start, stop)
                ],
            )
        if request.url.path.endswith("/flow_runs/r7"):
            return httpx.Response(200, json={"state": {"type": "PAUSED", "name": "Suspended"}})
        return httpx.Response(404)

    return httpx.MockTransport(handle)


def test_runs_are_read_in_pages_the_api_accepts() -> None:
    asked: list[dict[str, object]] = []

    runs = read_flow_runs("http://prefect.test/api", transport=_api(450, asked))

    assert len(runs) == 450 and {r.deployment for r in runs} == {"submission"}
    assert [(a["offset"], a["limit"]) for a in asked] == [(0, 200), (200, 200), (400, 200)]


def test_reading_stops_at_the_cap_on_a_very_busy_day() -> None:
    asked: list[dict[str, object]] = []

    runs = read_flow_runs("http://prefect.test/api", transport=_api(5000, asked))

    assert len(runs) == 600 and len(asked) == 3


def test_one_runs_state_and_an_api_that_does_not_answer() -> None:
    api = _api(0, [])
    assert read_flow_run_state("http://prefect.test/api", "r7", transport=api) == "Suspended"
    with pytest.raises(PrefectUnavailable, match="did not answer"):
        read_flow_run_state("http://prefect.test/api", "missing", transport=api)
    with pytest.raises(PrefectUnavailable, match="no Prefect API configured"):
        read_flow_runs(None)
