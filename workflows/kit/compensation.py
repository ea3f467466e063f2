"""The compensation stack: each effect on another system pushes its undo step before it is
attempted (a call that fails half-way may still have taken effect: every undo is idempotent);
`unwind` runs them last-pushed first. A failing undo is logged (its failure is in the history)
and the others still run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow

Undo = Callable[[str], Awaitable[object]]


class Compensations:
    def __init__(self) -> None:
        self._steps: list[tuple[str, Undo, Callable[[], bool]]] = []

    def push(self, name: str, undo: Undo, *, when: Callable[[], bool] = lambda: True) -> None:
        """`undo(reason)` runs at unwind time if `when()` still holds then."""
        self._steps.append((name, undo, when))

    def __len__(self) -> int:
        return len(self._steps)

    async def unwind(self, reason: str) -> list[str]:
        """Run every step in reverse order; returns the names of those that ran and succeeded."""
        done: list[str] = []
        while self._steps:
            name, undo, when = self._steps.pop()
            if not when():
                continue
            try:
                await undo(reason)
                done.append(name)
            except Exception as error:  # keep compensating the rest
                workflow.logger.error("compensation %s failed: %s", name, error)
        return done
