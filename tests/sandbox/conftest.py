"""One real sandbox (uvicorn on a free 127.0.0.1 port) for the sandbox suite, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import RunningSandbox, running_sandbox


@pytest.fixture(scope="package")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_sandbox(sandbox: RunningSandbox) -> RunningSandbox:
    sandbox.reset()
    return sandbox


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=sandbox.headers, timeout=10) as client:
        yield client
