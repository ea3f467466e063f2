"""A real Tryton for tests: the bootstrapped database copied into a temporary state dir and
`trytond` on a free 127.0.0.1 port.

    async with running_tryton(tmp_path) as endpoint:
        async with endpoint.rpc() as rpc: ...

The template comes from the machine's cache (`SUPPLYBRIDGE_TRYTON_CACHE`, else
~/.cache/supplybridge/tryton), so the suite pays the module activation (about a minute) once
per machine and trytond version; afterwards a database costs a file copy and a server start.
`tryton_available()` lets tests skip, with `TRYTON_MISSING`, where the `tryton` extra is not
installed. `tryton_in_background` is the same for module- or package-scoped (sync) fixtures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runtime.ports import free_port
from runtime.settings import DEV_TRYTON_PASSWORD
from runtime.tryton_bootstrap import prepare_database
from runtime.tryton_server import INSTALL_HINT, TrytonEndpoint, TrytonServer, TrytonServerError, tryton_executable

TEST_DATABASE = "supplybridge"
TEST_PASSWORD = DEV_TRYTON_PASSWORD  # the password `up` uses: one cached template serves both
TRYTON_MISSING = INSTALL_HINT


def tryton_available() -> bool:
    try:
        tryton_executable("trytond")
        tryton_executable("trytond-admin")
    except TrytonServerError:
        return False
    return True


class RunningTryton:
    """Async context manager: prepare the database, start trytond, yield its endpoint, stop it.
    A class rather than an async generator, so it can be entered and left from two event loops
    (`tryton_in_background`)."""

    def __init__(self, state_dir: Path, *, database: str = TEST_DATABASE, password: str = TEST_PASSWORD) -> None:
        self.state_dir = state_dir
        self.database = database
        self.password = password
        self.server: TrytonServer | None = None

    async def __aenter__(self) -> TrytonEndpoint:
        await prepare_database(self.state_dir, database=self.database, password=self.password)
        server = TrytonServer(
            state_dir=self.state_dir, port=free_port(), database=self.database, password=self.password
        )
        await server.start()
        self.server = server
        return server.endpoint

    async def __aexit__(self, *exc: object) -> None:
        server, self.server = self.server, None
        if server is not None:
            await server.stop()


def running_tryton(state_dir: Path, *, database: str = TEST_DATABASE, password: str = TEST_PASSWORD) -> RunningTryton:
    return RunningTryton(state_dir, database=database, password=password)


@contextmanager
def tryton_in_background(state_dir: Path) -> Iterator[TrytonEndpoint]:
    """`running_tryton` for sync fixtures: trytond is a child process, so it keeps serving
    between the event loops that start and stop it."""
    running = running_tryton(state_dir)
    endpoint = asyncio.run(running.__aenter__())
    try:
        yield endpoint
    finally:
        asyncio.run(running.__aexit__(None, None, None))
