"""Each test gets its own time-skipping WorkflowEnvironment (fast: the Java test server starts in
well under a second) and a fresh task queue; activities run over hand-written fakes
(tests/support/harness.py builds them through the worker's own composition root)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.harness import Harness, Systems, running_harness, seeded_systems


@pytest.fixture
def systems() -> Systems:
    return seeded_systems()


@pytest.fixture
async def harness(systems: Systems) -> AsyncIterator[Harness]:
    async with running_harness(systems) as h:
        yield h
