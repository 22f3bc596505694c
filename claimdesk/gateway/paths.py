"""HTTP paths and headers shared by the gateway client and the payer simulator.

The simulator mounts its routes at these paths; the client joins them to a
payer's base URL. Change them here, not in either side.
"""

from __future__ import annotations

__all__ = [
    "ADMIN_PREFIX",
    "APPEALS_PATH",
    "CORE_PATH",
    "HANDLING_MS_HEADER",
]

# CORE envelope endpoint: every real-time and batch transaction is a POST here.
CORE_PATH = "/core"
# Electronic appeal channel: POST multipart/form-data, fields ``packet`` (JSON,
# ids and codes only) and zero or more ``document`` files; answers JSON
# ``{"appeal_id": str, "status": "received", "received_at": ISO 8601}``.
APPEALS_PATH = "/appeals"
# Simulator-only test controls (reset, clock, faults, received interchanges).
ADMIN_PREFIX = "/admin"
# Response header with the server's own handling time in milliseconds (float),
# so a benchmark can put the network and client cost beside the payer's.
HANDLING_MS_HEADER = "X-Sim-Handling-Ms"
