"""The master-data sync of N synthetic suppliers (default 20,000, 5 % drift) across the four
sandbox systems, next to a plain script that does the same reads, the same diff and the same
writes with the same httpx adapters against the same sandbox, in one run: both times, the
ratio (goal: the workflow takes at most 1.5x the script), records/s, and the peak memory of the
bench process, which hosts the worker (the sandbox and the Temporal server are other processes).

Each side starts from the same synthetic data (`POST /admin/synthetic` with the same seed resets
and regenerates it), and each must leave every drifted record corrected: the bench checks that a
second plan finds nothing more to correct before it prints a number.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from adapters.http import SystemClient
from adapters.master_data_http import (
    HttpAnalyticsMaster,
    HttpContractsMaster,
    HttpErpMaster,
    HttpVendorManagementMaster,
)
from domain.master_data.matching import match_records
from domain.master_data.policy import Entity, MasterSystem, default_policy
from domain.master_data.survivorship import Action, reconcile
from domain.master_data.sync import MasterDataSyncInput
from runtime.devserver import DevServer
from runtime.ports import free_port
from runtime.settings import DEV_SANDBOX_TOKEN, Settings
from runtime.temporal_client import connect
from worker import activity_objects, build_worker
from workflows.master_data_sync import MasterDataSyncWorkflow
from workflows.search_attributes import REGISTRATION

ADAPTERS = {"vendor-management": HttpVendorManagementMaster, "erp": HttpErpMaster, "contracts": HttpContractsMaster,
            "analytics": HttpAnalyticsMaster}  # fmt: skip


def _clients(sandbox: str) -> dict[str, SystemClient]:
    return {name: SystemClient(name, f"{sandbox}/{name}", token=DEV_SANDBOX_TOKEN, timeout=60) for name in ADAPTERS}


async def plain_script(sandbox: str) -> tuple[int, int]:
    """Read everything, diff with the same rules, write each correction: (records read, writes)."""
    clients = _clients(sandbox)
    ports = {ADAPTERS[name].system: ADAPTERS[name](client) for name, client in clients.items()}
    policy = default_policy().entities[Entity.SUPPLIERS]
    try:
        records = [record for port in ports.values() async for record in port.read(Entity.SUPPLIERS)]
        writes = 0
        for group in match_records(records, [], ["tax_id"]).groups:
            result = reconcile(policy, {system: record.fields for system, record in group.items()})
            changes: dict[MasterSystem, dict[str, Any]] = defaultdict(dict)
            for drift in result.drifts:
                if drift.action is Action.CORRECT:
                    changes[drift.system][drift.field] = drift.after
                elif drift.action is Action.CREATE:
                    changes[drift.system] |= result.golden_values(policy.fields)
            key = group[MasterSystem.VENDOR_MANAGEMENT].local_id
            for system, values in changes.items():
                if system is MasterSystem.ANALYTICS:
                    values = {k: v for k, v in result.golden_values(policy.fields).items()
                              if system in policy.fields[k].systems}  # fmt: skip
                local = group[system].local_id if system in group else None
                await ports[system].write(Entity.SUPPLIERS, key, local, values, f"script:{system.value}:{key}")
                writes += 1
        return len(records), writes
    finally:
        for client in clients.values():
            await client.aclose()


def _start_sandbox(state: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "starter.cli", "sandbox", "--port", str(port), "--state-dir", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("the sandbox did not start")


HEADERS = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}


def _generate(sandbox: str, suppliers: int, drift_rate: float) -> tuple[int, int]:
    """(records drifted, of them suppliers suspended in vendor management but active in the ERP)."""
    spec = {"suppliers": suppliers, "drift_rate": drift_rate, "seed": 7}
    report = httpx.post(f"{sandbox}/admin/synthetic", json=spec, timeout=300, headers=HEADERS)
    report.raise_for_status()
    drifted = report.json()["drifted"]
    return len(drifted), sum(d["kind"] == "erp_still_active" for d in drifted)


async def _until_held(sandbox: str, expected: int) -> None:
    """The status syncs apply the ERP holds after the sync hands them over: wait until all are."""
    async with httpx.AsyncClient(base_url=sandbox, headers=HEADERS, timeout=30) as http:
        for _ in range(1200):
            page = (await http.get("/erp/suppliers", params={"status": "on_hold", "limit": 1})).json()
            if page["total"] >= expected:
                return
            await asyncio.sleep(0.05)
    raise SystemExit(f"the ERP did not show {expected} suppliers on hold")


async def main(suppliers: int, drift_rate: float) -> None:
    with tempfile.TemporaryDirectory() as state:
        sandbox_port = free_port()
        sandbox = f"http://127.0.0.1:{sandbox_port}"
        process = _start_sandbox(Path(state) / "sandbox", sandbox_port)
        try:
            drifted, _ = _generate(sandbox, suppliers, drift_rate)
            started = time.perf_counter()
            read, writes = await plain_script(sandbox)
            script = time.perf_counter() - started
            _, holds = _generate(sandbox, suppliers, drift_rate)
            workflow, with_holds, summary, rss_before, rss_peak = await _workflow(Path(state), sandbox, holds)
        finally:
            process.terminate()
            process.wait(timeout=10)
    if summary.corrected + summary.created < drifted:
        raise SystemExit(f"the workflow corrected {summary.corrected + summary.created} of {drifted} drifted records")
    print(f"master-data sync, {suppliers} suppliers x 4 systems, {drifted} drifted ({drift_rate:.0%}):")
    print(f"  plain script (httpx, same reads/diff/writes): {script:7.1f} s  ({read} records read, {writes} writes)")
    print(f"  MasterDataSync workflow:                      {workflow:7.1f} s  ({sum(summary.read.values())} read, "
          f"{summary.corrected} corrected, {summary.created} created, accuracy {summary.accuracy:.1%})")  # fmt: skip
    print(f"  ratio workflow / script:                      {workflow / script:7.2f}  (goal at most 1.50)")
    print(f"  ... until the status syncs held the {holds} ERP suppliers (and their open POs, which the script "
          f"does not do): {with_holds:.1f} s, ratio {with_holds / script:.2f}")  # fmt: skip
    print(f"  records/s (workflow):                         {sum(summary.read.values()) / workflow:7.0f}")
    print(f"  peak memory of the worker process:            {rss_peak / 2**20:7.0f} MiB RSS "
          f"({rss_before / 2**20:.0f} MiB before the run)")  # fmt: skip


async def _workflow(state: Path, sandbox: str, holds: int) -> tuple[float, float, Any, int, int]:
    """The sync's own time (every correction written or handed to a status sync), and the time
    until the status syncs have applied their ERP holds too."""
    port = free_port()
    async with DevServer(state_dir=state / "temporal", port=port, ui_port=free_port(),
                         search_attributes=dict(REGISTRATION)):  # fmt: skip
        settings = Settings(temporal_address=f"127.0.0.1:{port}", sandbox_url=sandbox, state_dir=state / "store",
                            task_queue=f"bench-md-{uuid.uuid4()}")  # fmt: skip
        client = await connect(settings)
        async with activity_objects(settings) as objects, build_worker(client, settings, objects):
            with PeakRss() as memory:
                started = time.perf_counter()
                summary = await client.execute_workflow(
                    MasterDataSyncWorkflow.run, MasterDataSyncInput(entity=Entity.SUPPLIERS),
                    id=f"bench-master-data-{uuid.uuid4()}", task_queue=settings.task_queue,
                )  # fmt: skip
                elapsed = time.perf_counter() - started
                await _until_held(sandbox, holds)
                with_holds = time.perf_counter() - started
    return elapsed, with_holds, summary, memory.before, memory.peak


class PeakRss:
    """The process's resident memory before and at its highest during the block (sampled every
    50 ms from /proc: no tracing, which would slow the run it measures)."""

    def __init__(self) -> None:
        self.before = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> PeakRss:
        self.before = self.peak = _rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _rss() -> int:
    """Resident set size of this process, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suppliers", type=int, default=20_000)
    parser.add_argument("--drift-rate", type=float, default=0.05)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.suppliers, arguments.drift_rate))
