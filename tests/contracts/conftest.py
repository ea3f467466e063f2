"""The ERPs the contract suite runs against, and what its tests share.

Decisions:
- Every contract test takes `erp` (or `erp_losing_answers`), parametrized over `ERPS`: the sandbox
  over HTTP (`HttpErp`, `HttpErpProcurement`, `HttpErpMaster`) and Tryton over JSON-RPC
  (`TrytonErp`, `TrytonProcurement`, `TrytonErpMaster`). One sandbox and one Tryton
  (tests/support/tryton.py, the cached bootstrapped template) serve the whole session per xdist
  worker, and neither is reset between tests, as Tryton cannot be cheaply: tests make their own
  records, with ids unique to the test and the same in every run and worker (`TestIds`), and never
  count on an empty ERP. Seeded master data (SUP-0001.., ITM-1001..) is shared by both ERPs and
  never changed by a test (items cannot be made through a port: the item write test puts back the
  description it changed, and gives a Tryton item the GTIN of the seed).
- Without the `tryton` extra the tryton half skips with `TRYTON_MISSING`; the sandbox half runs.
- Clients are made per test (an httpx client belongs to the event loop of its test).
- `LoseFirstAnswerToEachWrite` is the fault injection of the retry contract: each kind of write
  reaches the ERP and does its work, but its first answer is lost (`FaultyTransport` with every
  answer lost `after` the request, from adapters/fault_transport.py); the test then retries the
  port call with the same idempotency key, as an activity would.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

import httpx
import pytest

import adapters.http
import adapters.tryton.master_data
import adapters.tryton.suppliers
from adapters.erp import ErpPort
from adapters.erp_http import HttpErp
from adapters.erp_procurement import ErpProcurementPort
from adapters.erp_procurement_http import HttpErpProcurement
from adapters.errors import TransientError
from adapters.fault_transport import FaultyTransport, TransportFaults
from adapters.http import SystemClient
from adapters.master_data import MasterDataPort
from adapters.master_data_http import HttpErpMaster
from adapters.tryton.master_data import TrytonErpMaster
from adapters.tryton.procurement import TrytonProcurement
from adapters.tryton.rpc import READ_METHODS, TrytonRpc
from adapters.tryton.suppliers import TrytonErp
from runtime.tryton_server import TrytonEndpoint
from tests.support.sandbox import RunningSandbox, running_sandbox
from tests.support.tryton import TRYTON_MISSING, tryton_available, tryton_in_background

ERPS = ["sandbox", "tryton"]
# Where each ERP's adapters keep their page size: a test makes pages small to page with few records.
PAGE_SIZES: dict[str, tuple[tuple[ModuleType, str], ...]] = {
    "sandbox": ((adapters.http, "PAGE_SIZE"),),
    "tryton": ((adapters.tryton.suppliers, "PAGE_SIZE"), (adapters.tryton.master_data, "PAGE_SIZE")),
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRIES_AFTER_LOST_ANSWERS = 12
T = TypeVar("T")


@dataclass(frozen=True)
class ErpUnderTest:
    """One ERP's two ports and its master data, and the transport that loses answers when the test
    asked for it."""

    name: str
    suppliers: ErpPort
    procurement: ErpProcurementPort
    master: MasterDataPort
    transport: LoseFirstAnswerToEachWrite | None = None


class TestIds:
    """Ids unique to one test and the same in every run and every xdist worker: a short hash of
    the test's node id (which names the ERP) and a counter."""

    __test__ = False  # not a test class

    def __init__(self, node_id: str) -> None:
        self._node_id = node_id
        self.stem = hashlib.sha1(node_id.encode()).hexdigest()[:8].upper()
        self._count = itertools.count(1)

    def _next(self) -> int:
        return next(self._count)

    def po_number(self) -> str:
        return f"PO-CT-{self.stem}-{self._next()}"

    def invoice_number(self) -> str:
        return f"INV-CT-{self.stem}-{self._next()}"

    def key(self, label: str) -> str:
        return f"ct-{self.stem}-{self._next()}-{label}"

    def token(self) -> str:
        """A word for names that no other record contains."""
        return f"Ct{self.stem}x{self._next()}"

    def tax_id(self) -> str:
        """An EIN (`98-nnnnnnn`: no seeded supplier's prefix) unique to this test and call."""
        digest = hashlib.sha256(f"{self._node_id}#{self._next()}".encode()).hexdigest()
        return f"98-{int(digest, 16) % 10**7:07d}"


def use_small_pages(erp: ErpUnderTest, monkeypatch: pytest.MonkeyPatch, size: int = 2) -> list[str]:
    """Pages of `size` records in this ERP's adapters, where they have a page size; which were set."""
    for module, attribute in PAGE_SIZES[erp.name]:
        monkeypatch.setattr(module, attribute, size)
    return [f"{module.__name__}.{attribute}" for module, attribute in PAGE_SIZES[erp.name]]


@pytest.fixture
def ids(request: pytest.FixtureRequest) -> TestIds:
    return TestIds(request.node.nodeid)


class LoseFirstAnswerToEachWrite(httpx.AsyncBaseTransport):
    """Every request reaches the ERP; the answer to the first write of each kind (HTTP method and
    path, or Tryton model method) is lost after the ERP did the work. `lost` names them."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._losing = FaultyTransport(TransportFaults(error_rate=1.0, error_phase="after"), self._inner)
        self._seen: set[str] = set()
        self.lost: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        write = await _write_kind(request)
        if write is None or write in self._seen:
            return await self._inner.handle_async_request(request)
        self._seen.add(write)
        self.lost.append(write)
        return await self._losing.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _write_kind(request: httpx.Request) -> str | None:
    path = request.url.path
    if not path.endswith("/rpc/"):
        return f"{request.method} {path}" if request.method in WRITE_METHODS else None
    await request.aread()
    method = str(json.loads(request.content or b"{}").get("method", ""))
    if not method.startswith("model.") or method.rsplit(".", 1)[-1] in READ_METHODS:
        return None
    return method


async def answered_despite_lost_answers(call: Callable[[], Awaitable[T]]) -> T:
    """`call` repeated (same arguments, so the same idempotency key) while its answer is lost."""
    for _ in range(RETRIES_AFTER_LOST_ANSWERS):
        try:
            return await call()
        except TransientError:
            continue
    raise AssertionError(f"still no answer after {RETRIES_AFTER_LOST_ANSWERS} attempts")


# --- the ERPs ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def contract_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("contract-sandbox")) as running:
        yield running


@pytest.fixture(scope="session")
def tryton_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonEndpoint]:
    if not tryton_available():
        pytest.skip(TRYTON_MISSING)
    with tryton_in_background(tmp_path_factory.mktemp("contract-tryton")) as endpoint:
        yield endpoint


@dataclass(frozen=True)
class ErpServer:
    """The running ERP behind one parameter of `ERPS`."""

    name: str
    sandbox: RunningSandbox | None = None
    tryton: TrytonEndpoint | None = None


@pytest.fixture(params=ERPS)
def erp_server(request: pytest.FixtureRequest) -> ErpServer:
    """Started here, in a sync fixture, as its session fixture runs its own event loop (which it
    cannot do from inside a test's async fixture)."""
    if request.param == "sandbox":
        return ErpServer("sandbox", sandbox=request.getfixturevalue("contract_sandbox"))
    return ErpServer("tryton", tryton=request.getfixturevalue("tryton_endpoint"))


@asynccontextmanager
async def _connected(server: ErpServer, transport: LoseFirstAnswerToEachWrite | None) -> AsyncIterator[ErpUnderTest]:
    if server.sandbox is not None:
        sandbox = server.sandbox
        client = SystemClient(
            "erp", sandbox.system_url("erp"), token=sandbox.token, timeout=10.0, transport=transport, attempts=1
        )
        async with client:
            yield ErpUnderTest(
                server.name, HttpErp(client), HttpErpProcurement(client), HttpErpMaster(client), transport
            )
        return
    assert server.tryton is not None
    endpoint = server.tryton
    rpc = TrytonRpc(
        endpoint.url, endpoint.database, user=endpoint.user, password=endpoint.password, transport=transport
    )
    async with rpc:
        yield ErpUnderTest(server.name, TrytonErp(rpc), TrytonProcurement(rpc), TrytonErpMaster(rpc), transport)


@pytest.fixture
async def erp(erp_server: ErpServer) -> AsyncIterator[ErpUnderTest]:
    async with _connected(erp_server, None) as connected:
        yield connected


@pytest.fixture
async def erp_losing_answers(erp_server: ErpServer) -> AsyncIterator[ErpUnderTest]:
    """The ERP behind `LoseFirstAnswerToEachWrite`; the clients do not retry writes themselves."""
    async with _connected(erp_server, LoseFirstAnswerToEachWrite()) as connected:
        yield connected
