"""A state machine as a table of moves, for every stateful row claimdesk keeps.

Each machine lives with its owner (``claimdesk.claims.status`` for claims,
``claimdesk.review.status`` for review tasks, …), and every status write goes through
``StateMachine.move`` (an object in memory) or ``StateMachine.sources`` (a guarded
``UPDATE … WHERE status IN (…)`` for a compare-and-set): a move the table does not
allow raises ``InvalidTransition`` naming the row kind, both statuses and what is allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from claimdesk.errors import InvalidTransition


@dataclass(frozen=True)
class StateMachine:
    """``moves[a]`` is every status a row in ``a`` may move to; an empty set is final.

    ``field`` names the row's attribute that holds the status (an appeal's ``outcome``).
    """

    name: str
    initial: frozenset[str]
    moves: Mapping[str, frozenset[str]]
    field: str = "status"

    def __post_init__(self) -> None:
        targets = set().union(*self.moves.values())
        unknown = (targets | self.initial) - set(self.moves)
        if unknown:
            raise ValueError(f"{self.name}: statuses without a row: {sorted(unknown)}")

    @property
    def statuses(self) -> frozenset[str]:
        return frozenset(self.moves)

    @property
    def final(self) -> frozenset[str]:
        return frozenset(s for s, targets in self.moves.items() if not targets)

    def check(self, current: str, target: str) -> str:
        """``target`` if a row in ``current`` may move there, else ``InvalidTransition``."""
        allowed = self.moves.get(current)
        if allowed is None or target not in allowed:
            raise InvalidTransition(current, target, allowed or frozenset(), entity=self.name)
        return target

    def move(self, row: object, target: str) -> str:
        """Set the row's status to ``target`` if the table allows it; returns the old one."""
        previous = str(getattr(row, self.field))
        setattr(row, self.field, self.check(previous, target))
        return previous

    def sources(self, target: str) -> tuple[str, ...]:
        """Every status that may move to ``target``: the guard of a compare-and-set UPDATE."""
        found = tuple(sorted(s for s, targets in self.moves.items() if target in targets))
        if not found:
            raise InvalidTransition("*", target, frozenset(), entity=self.name)
        return found

    def reachable(self) -> frozenset[str]:
        """Statuses a new row can reach through the table (a test checks it is all of them)."""
        seen = set(self.initial)
        frontier = list(self.initial)
        while frontier:
            for nxt in self.moves[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return frozenset(seen)
