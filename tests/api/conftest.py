"""The API over a worker on fake systems: the same fixtures as the workflow tests
(tests/support/harness.py); test_api_v1.py swaps in a dev server where it needs visibility."""

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
