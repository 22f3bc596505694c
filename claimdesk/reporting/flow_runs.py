"""Flow runs as the manager's dashboard sees them, read from the Prefect REST API.

Plain HTTP (httpx) against ``Settings.prefect_api_url``: no Prefect import, and a
Prefect that is down or not configured is a ``PrefectUnavailable`` with a clear
message rather than a hung page. ``auth`` is the server's basic-auth string
(``Settings.prefect_api_auth_string``; `claimdesk up`'s server requires one).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from pydantic import SecretStr

from claimdesk.errors import ClaimdeskError
from models.types import utcnow

# The dashboard must stay responsive when Prefect is slow: give up quickly.
_TIMEOUT_S = 3.0
# Enough runs for a day's chart on a busy office; older ones are in the Prefect UI.
_MAX_RUNS = 600
# The most runs the Prefect API returns per request (it refuses a larger limit).
_PAGE = 200


class PrefectUnavailable(ClaimdeskError):
    """The Prefect API is not configured or did not answer."""


@dataclass(frozen=True)
class FlowRunSummary:
    id: str
    name: str
    deployment: str
    state_type: str  # COMPLETED, FAILED, CRASHED, RUNNING, PAUSED, SCHEDULED, ...
    state_name: str  # e.g. Late, Suspended, AwaitingRetry
    at: datetime  # start time, or expected start for runs that have not started


def _client(
    prefect_api_url: str, auth: SecretStr | None, transport: httpx.BaseTransport | None
) -> httpx.Client:
    headers = {}
    if auth is not None:  # as Prefect's own client sends it: the whole string, base64
        token = base64.b64encode(auth.get_secret_value().encode("utf-8")).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return httpx.Client(
        base_url=prefect_api_url.rstrip("/") + "/",
        timeout=_TIMEOUT_S,
        transport=transport,
        headers=headers,
    )


def _why(prefect_api_url: str, exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 401:
        return (
            f"the Prefect API at {prefect_api_url} refused the request (401): its auth "
            "string is missing or wrong (PREFECT_API_AUTH_STRING)"
        )
    return f"the Prefect API at {prefect_api_url} did not answer ({type(exc).__name__})"


def _post(client: httpx.Client, path: str, body: dict[str, object]) -> list[dict[str, object]]:
    response = client.post(path, json=body)
    response.raise_for_status()
    data = response.json()
    return data if isinstance(data, list) else []


def read_flow_runs(
    prefect_api_url: str | None,
    *,
    hours: int = 24,
    auth: SecretStr | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[FlowRunSummary]:
    """Runs expected or started in the last ``hours``, with their deployment's name."""
    if not prefect_api_url:
        raise PrefectUnavailable(
            "no Prefect API configured (CLAIMDESK_PREFECT_API_URL); flow runs cannot be shown."
        )
    since = (utcnow() - timedelta(hours=hours)).isoformat()
    try:
        with _client(prefect_api_url, auth, transport) as client:
            runs: list[dict[str, object]] = []
            for offset in range(0, _MAX_RUNS, _PAGE):
                page = _post(
                    client,
                    "flow_runs/filter",
                    {
                        "flow_runs": {"expected_start_time": {"after_": since}},
                        "sort": "EXPECTED_START_TIME_DESC",
                        "limit": _PAGE,
                        "offset": offset,
                    },
                )
                runs.extend(page)
                if len(page) < _PAGE:
                    break
            deployments = {
                str(d["id"]): str(d.get("name", "?"))
                for d in _post(client, "deployments/filter", {"limit": 200})
            }
    except (httpx.HTTPError, ValueError) as exc:
        raise PrefectUnavailable(
            f"{_why(prefect_api_url, exc)}; flow runs are not shown. Is `claimdesk up` running?"
        ) from exc
    summaries = []
    for run in runs:
        state = run.get("state") or {}
        assert isinstance(state, dict)
        when = run.get("start_time") or run.get("expected_start_time")
        summaries.append(
            FlowRunSummary(
                id=str(run.get("id")),
                name=str(run.get("name", "")),
                deployment=deployments.get(str(run.get("deployment_id")), "(no deployment)"),
                state_type=str(state.get("type", "UNKNOWN")),
                state_name=str(state.get("name", "")),
                at=datetime.fromisoformat(str(when)) if when else utcnow(),
            )
        )
    return summaries


def read_flow_run_state(
    prefect_api_url: str | None,
    flow_run_id: str,
    *,
    auth: SecretStr | None = None,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """One run's state name (e.g. Suspended, Running, Completed), for the task page."""
    if not prefect_api_url:
        raise PrefectUnavailable("no Prefect API configured (CLAIMDESK_PREFECT_API_URL)")
    try:
        with _client(prefect_api_url, auth, transport) as client:
            response = client.get(f"flow_runs/{flow_run_id}")
            response.raise_for_status()
            state = response.json().get("state") or {}
    except (httpx.HTTPError, ValueError) as exc:
        raise PrefectUnavailable(_why(prefect_api_url, exc)) from exc
    return str(state.get("name") or state.get("type") or "unknown")


def needs_attention(runs: list[FlowRunSummary]) -> dict[str, list[FlowRunSummary]]:
    """Failed or crashed, late, and suspended (waiting for a person's decision) runs.

    Not every task waiting for a person has a run: a denial's review has none until it
    is decided (its decision starts the run), so the queue's open tasks, not these,
    count the work waiting for people.
    """
    return {
        "failed": [r for r in runs if r.state_type in ("FAILED", "CRASHED")],
        "late": [r for r in runs if r.state_name == "Late"],
        "suspended": [r for r in runs if r.state_name == "Suspended" or r.state_type == "PAUSED"],
    }
