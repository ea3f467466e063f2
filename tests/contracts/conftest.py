"""The ERPs the contract suite runs against, and what its tests share.

Decisions:
- Every contract test takes `erp` (or `erp_losing_answers`), parametrized over `ERPS`: the sandbox
  over HTTP (`HttpErp`, `HttpErpProcurement`) and Tryton over JSON-RPC (`TrytonErp`,
  `TrytonProcurement`). One sandbox and one Tryton serve the whole session (per xdist worker) and
  neither is reset between tests, as Tryton cannot be cheaply: tests make their own records, with
  ids unique to the test (`TestIds`), and never count on an empty ERP. Seeded master data
  (SUP-0001.., ITM-1001..) is shared by both ERPs and never changed by a test.
- The Tryton pieces may not exist yet (other people write them): while `tests/support/tryton.py`
  or the Tryton adapters do not import, the tryton tests skip and say which is missing.
- Clients are made per test (an httpx client belongs to the event loop of its test).
- `LoseFirstAnswerToEachWrite` is the fault injection of the retry contract: each kind of write
  reaches the ERP and does its work, but its first answer is lost (`FaultyTransport` with every
  answer lost `after` the request, from adapters/fault_transport.py); the test then retries the
  port call with the same idempotency key, as an activity would.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import itertools
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from adapters.erp import ErpPort
from adapters.erp_http import HttpErp
from adapters.erp_procurement import ErpProcurementPort
from adapters.erp_procurement_http import HttpErpProcurement
from adapters.errors import TransientError
from adapters.fault_transport import FaultyTransport, TransportFaults
from adapters.http import SystemClient
from adapters.tryton.rpc import READ_METHODS, TrytonRpc
from tests.support.sandbox import RunningSandbox, running_sandbox
from tests.support.tryton import TEST_PASSWORD

ERPS = ["sandbox", "tryton"]
TRYTON_ADAPTERS = {"adapters.tryton.suppliers": "TrytonErp", "adapters.tryton.procurement": "TrytonProcurement"}
TRYTON_RUNTIME = ("runtime.tryton_server", "runtime.tryton_bootstrap")
TRYTON_DATABASE = "contracts"
TRYTON_PASSWORD = TEST_PASSWORD  # the cached template `up` and the other Tryton tests use
# Where each ERP's adapters keep their page size: a test makes pages small to page with few records.
PAGE_SIZES = {
    "sandbox": (("adapters.http", "PAGE_SIZE"),),
    "tryton": (("adapters.tryton.suppliers", "PAGE_SIZE"), ("adapters.tryton.procurement", "PAGE_SIZE")),
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRIES_AFTER_LOST_ANSWERS = 12
T = TypeVar("T")


@dataclass(frozen=True)
class ErpUnderTest:
    """One ERP's two ports; a port whose adapter does not import yet skips the test that uses it."""

    name: str
    supplier_port: ErpPort | str  # the adapter, or why there is none
    procurement_port: ErpProcurementPort | str
    transport: LoseFirstAnswerToEachWrite | None = None

    @property
    def suppliers(self) -> ErpPort:
        if isinstance(self.supplier_port, str):
            pytest.skip(self.supplier_port)
        return self.supplier_port

    @property
    def procurement(self) -> ErpProcurementPort:
        if isinstance(self.procurement_port, str):
            pytest.skip(self.procurement_port)
        return self.procurement_port


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
    patched = []
    for module_name, attribute in PAGE_SIZES[erp.name]:
        module = importlib.import_module(module_name)
        if hasattr(module, attribute):
            monkeypatch.setattr(module, attribute, size)
            patched.append(f"{module_name}.{attribute}")
    return patched


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
def tryton_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A running Tryton for the session: tests/support/tryton.py `running_tryton` when it is there,
    else one made here from runtime/tryton_server.py and runtime/tryton_bootstrap.py."""
    state_dir = tmp_path_factory.mktemp("contract-tryton")
    manager = _running_tryton(state_dir)
    if isinstance(manager, AbstractContextManager):
        with manager as endpoint:
            yield endpoint
    else:
        with _entered_on_own_loop(manager) as endpoint:
            yield endpoint


def _running_tryton(state_dir: Path) -> Any:
    try:
        from tests.support.tryton import running_tryton
    except ImportError:
        pass
    else:
        return running_tryton(state_dir)
    for module in TRYTON_RUNTIME:
        try:
            importlib.import_module(module)
        except ImportError as missing:
            pytest.skip(f"tryton is not ready: no tests/support/tryton.py and {module} does not import ({missing})")
    return _own_tryton(state_dir)


@asynccontextmanager
async def _own_tryton(state_dir: Path) -> AsyncIterator[Any]:
    from runtime.ports import free_port

    prepare_database = importlib.import_module("runtime.tryton_bootstrap").prepare_database
    server_class = importlib.import_module("runtime.tryton_server").TrytonServer

    await prepare_database(state_dir, database=TRYTON_DATABASE, password=TRYTON_PASSWORD)
    server = server_class(
        state_dir=state_dir,
        port=free_port(),
        database=TRYTON_DATABASE,
        password=TRYTON_PASSWORD,
        log_file=state_dir / "trytond.log",
    )
    async with server:
        yield server.endpoint


class _LoopThread:
    """An event loop in a thread of its own, for an async context manager that must be entered
    and left on one loop while the tests run each on theirs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="contract-tryton", daemon=True)
        self._thread.start()

    def run(self, work: Awaitable[T]) -> T:
        async def wrapped() -> T:
            return await work

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


def _entered_on_own_loop(manager: AbstractAsyncContextManager[T]) -> AbstractContextManager[T]:
    @contextmanager
    def entered() -> Iterator[T]:
        loop = _LoopThread()
        try:
            endpoint = loop.run(manager.__aenter__())
            try:
                yield endpoint
            finally:
                loop.run(manager.__aexit__(None, None, None))
        finally:
            loop.stop()

    return entered()


@asynccontextmanager
async def _connected(
    request: pytest.FixtureRequest, name: str, transport: LoseFirstAnswerToEachWrite | None
) -> AsyncIterator[ErpUnderTest]:
    if name == "sandbox":
        sandbox: RunningSandbox = request.getfixturevalue("contract_sandbox")
        client = SystemClient(
            "erp", sandbox.system_url("erp"), token=sandbox.token, timeout=10.0, transport=transport, attempts=1
        )
        async with client:
            yield ErpUnderTest(name, HttpErp(client), HttpErpProcurement(client), transport)
        return
    adapters = {module: _tryton_adapter(module, cls) for module, cls in TRYTON_ADAPTERS.items()}
    if all(isinstance(adapter, str) for adapter in adapters.values()):
        pytest.skip("; ".join(str(reason) for reason in adapters.values()))
    endpoint = request.getfixturevalue("tryton_endpoint")
    rpc = TrytonRpc(
        endpoint.url, endpoint.database, user=endpoint.user, password=endpoint.password, transport=transport
    )
    ports = [adapter if isinstance(adapter, str) else adapter(rpc) for adapter in adapters.values()]
    async with rpc:
        yield ErpUnderTest(name, ports[0], ports[1], transport)


def _tryton_adapter(module_name: str, class_name: str) -> Any:
    """The adapter class, or why it is not there yet."""
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as missing:
        return f"tryton is not ready: {module_name}.{class_name} does not import ({missing})"


@pytest.fixture(params=ERPS)
async def erp(request: pytest.FixtureRequest) -> AsyncIterator[ErpUnderTest]:
    async with _connected(request, request.param, None) as connected:
        yield connected


@pytest.fixture(params=ERPS)
async def erp_losing_answers(request: pytest.FixtureRequest) -> AsyncIterator[ErpUnderTest]:
    """The ERP behind `LoseFirstAnswerToEachWrite`; the clients do not retry writes themselves."""
    async with _connected(request, request.param, LoseFirstAnswerToEachWrite()) as connected:
        yield connected
