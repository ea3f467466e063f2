"""A worker over fakes in a time-skipping Temporal: the systems the workflow and API tests run on.

`Systems.activities()` builds the activity objects through `worker.build_activities`, the same
composition root the real worker uses, with the fakes in place of the httpx adapters and the store.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.event_relay import OutboxPort, RelayConfig
from adapters.event_sinks import EventSink
from adapters.replenishment_events_temporal import TemporalReplenishmentEvents
from adapters.status_events_temporal import TemporalStatusEvents
from adapters.vendor_channel_edi import EdiAwareVendorChannel
from domain.intake import EdiIdentity
from domain.master_data.policy import MasterSystem, default_policy
from domain.subscriptions import Channel
from runtime.binaries import test_server_path
from runtime.namespace import ensure_search_attributes
from runtime.settings import Settings
from runtime.temporal_client import data_converter
from starter.operations.intake_dispatch import TemporalIntakeDispatch
from tests.support.alert_fakes import FakeAlertStore, FakeRuns, FakeSystem
from tests.support.event_fakes import EmptyOutbox
from tests.support.fakes import FakeContracts, FakeErp, FakeScreening, FakeStore, FakeVendorManagement
from tests.support.intake_fakes import FakeIntakeStore
from tests.support.kpi_traffic import unused_report_ports
from tests.support.lost_updates import RetryLostUpdates
from tests.support.master_data_fakes import FakeMasterSystem, FakeSyncRecords, master_systems
from tests.support.procurement_fakes import FakeAp, FakeInventory, FakeProcurementErp, FakeVendorChannel
from worker import WORKFLOWS, activity_functions, build_activities, workflow_runner
from workflows.search_attributes import REGISTRATION


@dataclass
class Systems:
    erp: FakeErp = field(default_factory=FakeErp)
    screening: FakeScreening = field(default_factory=FakeScreening)
    contracts: FakeContracts = field(default_factory=FakeContracts)
    vendor_management: FakeVendorManagement = field(default_factory=FakeVendorManagement)
    store: FakeStore = field(default_factory=FakeStore)
    procurement: FakeProcurementErp = field(default_factory=FakeProcurementErp)
    inventory: FakeInventory = field(default_factory=FakeInventory)
    vendor_channel: FakeVendorChannel = field(default_factory=FakeVendorChannel)
    ap: FakeAp = field(default_factory=FakeAp)
    master_data: dict[MasterSystem, FakeMasterSystem] = field(default_factory=master_systems)
    syncs: FakeSyncRecords = field(default_factory=FakeSyncRecords)
    intake: FakeIntakeStore = field(default_factory=FakeIntakeStore)
    outbox: OutboxPort = field(default_factory=EmptyOutbox)
    sinks: dict[Channel, EventSink] = field(default_factory=dict)
    alerts: FakeAlertStore = field(default_factory=FakeAlertStore)
    runs: FakeRuns = field(default_factory=FakeRuns)
    probes: list[FakeSystem] = field(default_factory=list)

    def activities(self) -> list[object]:
        return build_activities(
            erp=self.erp,
            screening=self.screening,
            contracts=self.contracts,
            vendor_management=self.vendor_management,
            procurement=self.procurement,
            inventory=self.inventory,
            vendor_channel=EdiAwareVendorChannel(self.vendor_channel, self.intake, self.contracts, EdiIdentity()),
            accounts_payable=self.ap,
            store=self.store,
            master_data=list(self.master_data.values()),
            syncs=self.syncs,
            policy=default_policy(),
            status_events=TemporalStatusEvents(),  # Temporal itself, not an external system
            replenishments=TemporalReplenishmentEvents(),
            intake=self.intake,
            intake_dispatch=TemporalIntakeDispatch(Settings(environment="development")),
            ours=EdiIdentity(),
            outbox=self.outbox,
            sinks=self.sinks,
            relay=RelayConfig(source="urn:supplybridge:test"),
            alerts=self.alerts,
            runs=self.runs,
            probes=self.probes,
            reports=unused_report_ports(),
        )


def seeded_systems() -> Systems:
    """Fakes holding the suppliers and contracts the workflow tests start from."""
    systems = Systems()
    systems.erp.seed("SUP-0001", "Lakeshore Medical Products Inc", "36-4412098")
    systems.erp.seed("SUP-0002", "Northgate Surgical Supply LLC", "52-1987345")
    systems.erp.seed("SUP-0005", "Summit Laboratory Diagnostics LLC", "46-3891042", status="inactive")
    systems.contracts.seed("CTR-2026-0107", "SUP-0002")
    systems.contracts.seed("CTR-NEW-0001", None)
    return systems


@dataclass
class Harness:
    env: WorkflowEnvironment
    systems: Systems
    task_queue: str

    @property
    def client(self) -> Client:
        return self.env.client


@contextlib.asynccontextmanager
async def worker_harness(env: WorkflowEnvironment, systems: Systems) -> AsyncIterator[Harness]:
    """A worker over `systems` on a fresh task queue of `env`."""
    task_queue = f"test-{uuid.uuid4()}"
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=list(WORKFLOWS),
        workflow_runner=workflow_runner(),
        activities=activity_functions(*systems.activities()),
    ):
        yield Harness(env=env, systems=systems, task_queue=task_queue)


@contextlib.asynccontextmanager
async def running_harness(systems: Systems) -> AsyncIterator[Harness]:
    """A time-skipping environment with our search attributes and a worker over `systems`."""
    converter = data_converter(Settings(environment="development"))
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=converter,
        test_server_existing_path=str(test_server_path()),
        interceptors=[RetryLostUpdates()],  # the test server's own race: tests/support/lost_updates.py
    ) as env:
        await ensure_search_attributes(env.client, REGISTRATION)
        async with worker_harness(env, systems) as harness:
            yield harness
