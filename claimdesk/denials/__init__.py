"""Denials: the CARC/RARC routing table, appeal deadlines and appeal letters (pure logic)."""

from claimdesk.denials.deadlines import (
    MEDICARE_LEVELS,
    AppealLevel,
    appeal_deadline,
    appeal_levels,
    due_date,
    find_level,
)
from claimdesk.denials.routing import (
    Route,
    RoutingSettings,
    RoutingTable,
    load_routing_table,
    parse_routing_table,
)

__all__ = [
    "MEDICARE_LEVELS",
    "AppealLevel",
    "Route",
    "RoutingSettings",
    "RoutingTable",
    "appeal_deadline",
    "appeal_levels",
    "due_date",
    "find_level",
    "load_routing_table",
    "parse_routing_table",
]
