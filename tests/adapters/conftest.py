"""One real sandbox (uvicorn on a free port) for the whole adapters suite, reset before each
test; each test gets fresh `SystemClient`s and the Http* adapters over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.contracts_http import HttpContracts
from adapters.erp_http import HttpErp
from adapters.http import SystemClient
from adapters.screening_http import HttpScreening
from adapters.vendor_management_http import HttpVendorManagement
from tests.support.sandbox import RunningSandbox, running_sandbox


@pytest.fixture(scope="package")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_sandbox(sandbox: RunningSandbox) -> RunningSandbox:
    sandbox.reset()
    return sandbox


def _client(sandbox: RunningSandbox, system: str) -> SystemClient:
    return SystemClient(system, sandbox.system_url(system), token=sandbox.token, timeout=5.0, attempts=1)


@pytest.fixture
async def erp_client(sandbox: RunningSandbox) -> AsyncIterator[SystemClient]:
    async with _client(sandbox, "erp") as client:
        yield client


@pytest.fixture
async def erp(erp_client: SystemClient) -> HttpErp:
    return HttpErp(erp_client)


@pytest.fixture
async def contracts(sandbox: RunningSandbox) -> AsyncIterator[HttpContracts]:
    async with _client(sandbox, "contracts") as client:
        yield HttpContracts(client)


@pytest.fixture
async def screening_client(sandbox: RunningSandbox) -> AsyncIterator[SystemClient]:
    async with _client(sandbox, "screening") as client:
        yield client


@pytest.fixture
async def screening(screening_client: SystemClient) -> HttpScreening:
    return HttpScreening(screening_client)


@pytest.fixture
async def vendor_management_client(sandbox: RunningSandbox) -> AsyncIterator[SystemClient]:
    async with _client(sandbox, "vendor-management") as client:
        yield client


@pytest.fixture
async def vendor_management(vendor_management_client: SystemClient) -> HttpVendorManagement:
    return HttpVendorManagement(vendor_management_client)
