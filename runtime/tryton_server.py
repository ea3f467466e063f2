"""`trytond` (the Tryton ERP server, GPL) as a child process over one SQLite directory in the
state dir, the way runtime/devserver.py runs the Temporal dev server.

Decisions:
- We never import trytond: it runs as `<venv bin>/trytond -c <state_dir>/tryton/trytond.conf`
  (the executable beside `sys.executable`, else on PATH) and we speak JSON-RPC to it
  (adapters/tryton/rpc.py). Without the `tryton` extra, `start()` says how to install it.
- The configuration is written by us on every start: SQLite databases in `<state_dir>/tryton`
  (`<database>.sqlite`, loaded at start with `-d`), the web listener on `ip:port` only,
  sessions that outlive a long idle worker (`SESSION_TIMEOUT_SECONDS`), a few retries on a
  busy SQLite file, no queue worker, no database listing, and a logging configuration that
  keeps warnings and errors (not a line per request). `TRYTOND_CONFIG` and `TRYTONPASSFILE`
  from the caller's environment are dropped so nothing else is read.
- Same hygiene as the dev server: the directory is 0700, the log 0600, the child runs under
  umask 077 in its own session and gets SIGTERM when its parent dies (PR_SET_PDEATHSIG).
- Ready means: `common.server.version` answers on `/rpc/`, then a login to the database
  succeeds (so a wrong password or a missing database fails `start()`, not the first call). The
  modules are loaded before trytond listens, so a refused login is final: it fails at once.
- `stop()` sends SIGTERM to the process group, then SIGKILL after a deadline.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.errors import AuthenticationError
from adapters.tryton.rpc import TrytonRpc
from runtime.child_process import log_tail, spawn_logged, stop_process_group
from runtime.ports import port_is_free
from runtime.state_dir import prepare_state_dir, private_file, tighten_sqlite_files

INSTALL_HINT = "trytond is not installed: pip install 'supplybridge[tryton]'"
SESSION_TIMEOUT_SECONDS = 7 * 24 * 60 * 60
DATABASE_RETRIES = 10
# warnings and errors only: werkzeug would log a line per request at INFO (`[logger_werkzeug]`
# because it sets its own level to INFO when it has none)
LOGGING_CONFIG = """\
[loggers]
keys = root, werkzeug

[handlers]
keys = stderr

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers = stderr

[logger_werkzeug]
level = WARNING
handlers =
qualname = werkzeug

[handler_stderr]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[formatter_plain]
format = %(asctime)s %(process)d %(levelname)s %(name)s %(message)s
"""
DROPPED_ENVIRONMENT = ("TRYTOND_CONFIG", "TRYTONPASSFILE")


class TrytonServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class TrytonEndpoint:
    """Where and as whom to reach one Tryton database (what `TrytonRpc` needs)."""

    url: str
    database: str
    user: str
    password: str

    def rpc(self, *, timeout: float = 30.0) -> TrytonRpc:
        return TrytonRpc(self.url, self.database, user=self.user, password=self.password, timeout=timeout)


def tryton_executable(name: str = "trytond") -> Path:
    """`trytond` / `trytond-admin` beside our Python, else on PATH; `TrytonServerError` with the
    install hint when neither has it."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return beside_python
    found = shutil.which(name)
    if found:
        return Path(found)
    raise TrytonServerError(INSTALL_HINT)


def child_environment() -> dict[str, str]:
    """Our environment without what would make trytond read another configuration."""
    return {key: value for key, value in os.environ.items() if key not in DROPPED_ENVIRONMENT}


class TrytonServer:
    def __init__(
        self,
        *,
        state_dir: Path,
        port: int,
        ip: str = "127.0.0.1",
        database: str = "supplybridge",
        user: str = "admin",
        password: str,
        log_file: Path | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.port = port
        self.ip = ip
        self.database = database
        self.user = user
        self.password = password
        self.log_file = log_file or self.tryton_dir / "trytond.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def tryton_dir(self) -> Path:
        return self.state_dir / "tryton"

    @property
    def config_file(self) -> Path:
        return self.tryton_dir / "trytond.conf"

    @property
    def logging_config_file(self) -> Path:
        return self.tryton_dir / "logging.conf"

    @property
    def database_file(self) -> Path:
        return self.tryton_dir / f"{self.database}.sqlite"

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    @property
    def endpoint(self) -> TrytonEndpoint:
        return TrytonEndpoint(url=self.url, database=self.database, user=self.user, password=self.password)

    def write_config(self) -> Path:
        """The trytond.conf for this state dir (also what trytond-admin uses in the bootstrap)."""
        prepare_state_dir(self.state_dir)
        prepare_state_dir(self.tryton_dir)
        text = (
            "[database]\n"
            "uri = sqlite://\n"
            f"path = {self.tryton_dir.resolve()}\n"
            "list = False\n"
            f"retry = {DATABASE_RETRIES}\n"
            "\n[web]\n"
            f"listen = {self.ip}:{self.port}\n"
            "\n[session]\n"
            f"timeout = {SESSION_TIMEOUT_SECONDS}\n"
            "\n[queue]\n"
            "worker = False\n"
        )
        private_file(self.config_file).write_text(text)
        private_file(self.logging_config_file).write_text(LOGGING_CONFIG)
        return self.config_file

    def command(self) -> list[str]:
        """`-d` loads the database's modules at start: trytond 8.2 does not reliably load them
        lazily on the first request (a login then fails with `KeyError: 'res.user'`)."""
        return [
            str(tryton_executable("trytond")),
            "-c", str(self.config_file.resolve()),
            "--logconf", str(self.logging_config_file.resolve()),
            "-d", self.database,
        ]  # fmt: skip

    async def start(self, timeout: float = 60.0) -> None:
        command = self.command()  # first: without the extra, say so before touching the state dir
        if not port_is_free(self.port, self.ip):
            raise TrytonServerError(f"Tryton port {self.port} on {self.ip} is already in use")
        if not self.database_file.is_file():
            raise TrytonServerError(f"no Tryton database at {self.database_file} (run prepare_database first)")
        self.write_config()
        tighten_sqlite_files(self.database_file)
        self._process = spawn_logged(command, self.log_file, cwd=self.tryton_dir, env=child_environment())
        await self._wait_until_serving(timeout)

    async def _wait_until_serving(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error = "no answer yet"
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            while True:
                assert self._process is not None
                if self._process.poll() is not None:
                    code = self._process.returncode
                    self._process = None
                    raise TrytonServerError(f"trytond exited with {code}:\n{log_tail(self.log_file)}")
                try:
                    await self._check_ready(http)
                    return
                except AuthenticationError as exc:  # up and answering: waiting will not change it
                    await self.stop()
                    raise TrytonServerError(
                        f"trytond refused the login of {self.user!r} to {self.database!r} ({exc}):\n"
                        f"{log_tail(self.log_file)}"
                    ) from None
                except Exception as exc:  # not up yet, or up but refusing: decided at the deadline
                    last_error = f"{type(exc).__name__}: {exc}"
                if loop.time() >= deadline:
                    await self.stop()
                    raise TrytonServerError(
                        f"trytond not ready within {timeout:.0f}s ({last_error}):\n{log_tail(self.log_file)}"
                    )
                await asyncio.sleep(0.2)

    async def _check_ready(self, http: httpx.AsyncClient) -> None:
        body = {"id": 1, "method": "common.server.version", "params": []}
        response = await http.post("/rpc/", json=body)
        response.raise_for_status()
        async with self.endpoint.rpc(timeout=10.0) as rpc:
            await rpc.call("res.user", "search_count", [("login", "=", self.user)])

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        await stop_process_group(process, timeout)

    async def __aenter__(self) -> TrytonServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
