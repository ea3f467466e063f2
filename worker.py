"""Composition root: settings -> adapters -> activity objects -> Worker.

The only place that wires concrete adapters (httpx clients of each external system, the
SQLAlchemy store) into the activity classes. `build_activities` takes the ports, so the tests
build the very same activity objects over their fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.alerts import AlertActivities, AlertStorePort, ProbeTarget, RunsPort, TemporalRuns
from activities.compliance import ComplianceActivities
from activities.event_relay import EventRelayActivities, OutboxBell, OutboxPort, RelayConfig
from activities.events import EventActivities
from activities.intake import IntakeActivities
from activities.invoicing import InvoiceActivities
from activities.master_data import MasterDataActivities
from activities.onboarding import OnboardingActivities
from activities.procurement import ProcurementActivities
from activities.replenishment import ReplenishmentActivities
from activities.reports import ReportActivities, ReportPorts
from activities.status_sync import StatusSyncActivities
from adapters.accounts_payable import AccountsPayablePort
from adapters.accounts_payable_http import HttpAccountsPayable
from adapters.contracts import ContractsPort
from adapters.contracts_http import HttpContracts
from adapters.erp import ErpPort
from adapters.erp_procurement import ErpProcurementPort
from adapters.event_sinks import EventSink
from adapters.http import SystemClient
from adapters.intake_dispatch import IntakeDispatchPort
from adapters.intake_store import IntakeStorePort
from adapters.inventory import InventoryPort
from adapters.inventory_http import HttpInventory
from adapters.master_data import MasterDataPort
from adapters.master_data_http import (
    HttpAnalyticsMaster,
    HttpContractsMaster,
    HttpVendorManagementMaster,
)
from adapters.replenishment_events import ReplenishmentEventsPort
from adapters.replenishment_events_temporal import TemporalReplenishmentEvents
from adapters.screening import ScreeningPort
from adapters.screening_http import HttpScreening
from adapters.status_events import StatusEventsPort
from adapters.status_events_temporal import TemporalStatusEvents
from adapters.store import StorePort, SyncRecordsPort
from adapters.vendor_channel import VendorChannelPort
from adapters.vendor_channel_edi import EdiAwareVendorChannel
from adapters.vendor_channel_http import HttpVendorChannel
from adapters.vendor_management import VendorManagementPort
from adapters.vendor_management_http import HttpVendorManagement
from domain.intake import EdiIdentity
from domain.master_data.policy import SurvivorshipPolicy
from domain.subscriptions import Channel
from runtime.erp_choice import erp_adapters
from runtime.event_sinks import build_sinks, close_sinks
from runtime.run_metrics import MetricsInterceptor
from runtime.settings import Settings
from starter.operations.event_relay import ensure_event_relay, ensure_standing_subscriptions
from starter.operations.intake_dispatch import TemporalIntakeDispatch
from starter.operations.kpis import report_ports
from store import Store
from workflows.alerts import AlertsEvaluateWorkflow
from workflows.compliance import ComplianceRescreenWorkflow, CredentialExpiryWorkflow, ReviewTaskWorkflow
from workflows.event_relay import EventRelayWorkflow
from workflows.intake import IntakeFileWorkflow, IntakeInboxWorkflow, IntakeReplayWorkflow
from workflows.invoice import InvoiceWorkflow
from workflows.kpi_report import KpiReportWorkflow
from workflows.master_data_conflict import MasterDataConflictWorkflow
from workflows.master_data_sync import MasterDataSyncWorkflow
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.replenishment import ReplenishmentWorkflow
from workflows.replenishment_scan import ReplenishmentScanWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

WORKFLOWS: Sequence[type] = (
    SupplierOnboardingWorkflow,
    SupplierStatusSyncWorkflow,
    PurchaseOrderWorkflow,
    InvoiceWorkflow,
    MasterDataSyncWorkflow,
    MasterDataConflictWorkflow,
    ComplianceRescreenWorkflow,
    CredentialExpiryWorkflow,
    ReviewTaskWorkflow,
    ReplenishmentWorkflow,
    ReplenishmentScanWorkflow,
    IntakeFileWorkflow,
    IntakeReplayWorkflow,
    IntakeInboxWorkflow,
    EventRelayWorkflow,
    AlertsEvaluateWorkflow,
    KpiReportWorkflow,
)


# Deterministic, side-effect-free modules imported once and shared with the sandbox, instead of
# re-imported for every workflow run: the domain and the libraries it uses, and the workflow kit
# (stateless helpers; their state lives in the objects each run creates).
PASSTHROUGH_MODULES = (
    "domain",
    "pydantic",
    "pydantic_core",
    "stdnum",
    "rapidfuzz",
    "email_validator",
    "idna",
    "workflows.kit",
    "workflows.search_attributes",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )


def activity_functions(*activity_objects: object) -> list[Any]:
    """Every @activity.defn method of the given objects."""
    functions = []
    for obj in activity_objects:
        for name in dir(type(obj)):
            attr = getattr(obj, name)
            if callable(attr) and hasattr(attr, "__temporal_activity_definition"):
                functions.append(attr)
    return functions


def build_activities(
    *,
    erp: ErpPort,
    screening: ScreeningPort,
    contracts: ContractsPort,
    vendor_management: VendorManagementPort,
    procurement: ErpProcurementPort,
    inventory: InventoryPort,
    vendor_channel: VendorChannelPort,
    accounts_payable: AccountsPayablePort,
    store: StorePort,
    master_data: Sequence[MasterDataPort],
    syncs: SyncRecordsPort,
    policy: SurvivorshipPolicy,
    status_events: StatusEventsPort,
    replenishments: ReplenishmentEventsPort,
    intake: IntakeStorePort,
    intake_dispatch: IntakeDispatchPort,
    ours: EdiIdentity,
    outbox: OutboxPort,
    sinks: Mapping[Channel, EventSink],
    relay: RelayConfig,
    alerts: AlertStorePort,
    runs: RunsPort,
    probes: Sequence[ProbeTarget],
    reports: ReportPorts,
) -> list[object]:
    """The activity objects over these ports: the one wiring the worker and the tests share
    (the worker passes the httpx adapters and the SQLAlchemy store, the tests their fakes).
    One `OutboxBell` joins the event publisher and the relay of the process."""
    bell = OutboxBell()
    return [
        OnboardingActivities(
            erp=erp,
            screening=screening,
            contracts=contracts,
            vendor_management=vendor_management,
            store=store,
        ),
        StatusSyncActivities(erp=erp, store=store),
        ProcurementActivities(
            erp=erp,
            procurement=procurement,
            contracts=contracts,
            vendor_management=vendor_management,
            inventory=inventory,
            vendor_channel=vendor_channel,
        ),
        InvoiceActivities(procurement=procurement, contracts=contracts, accounts_payable=accounts_payable),
        EventActivities(store=store, bell=bell),
        EventRelayActivities(outbox=outbox, sinks=sinks, config=relay, bell=bell),
        MasterDataActivities(
            systems=list(master_data), policy=policy, syncs=syncs, store=store, status_events=status_events
        ),
        ComplianceActivities(vendor_management=vendor_management, screening=screening),
        ReplenishmentActivities(
            inventory=inventory,
            contracts=contracts,
            erp=erp,
            vendor_management=vendor_management,
            replenishments=replenishments,
        ),
        IntakeActivities(
            store=intake, dispatch=intake_dispatch, contracts=contracts, vendor_channel=vendor_channel, ours=ours
        ),
        AlertActivities(alerts=alerts, runs=runs, probes=probes),
        ReportActivities(ports=reports),
    ]


@contextlib.asynccontextmanager
async def activity_objects(settings: Settings) -> AsyncIterator[list[object]]:
    """The activity objects over real adapters; closes the HTTP clients and the store after."""
    token = settings.sandbox_token.get_secret_value()
    timeout = settings.http_timeout_seconds
    clients = {
        system: SystemClient(system.replace("-", "_"), settings.system_url(system), token=token, timeout=timeout)
        for system in (
            "erp",
            "screening",
            "contracts",
            "vendor-management",
            "inventory",
            "vendor-channel",
            "ap",
            "analytics",
        )
    }
    store = Store(settings.resolved_store_url)
    sinks = build_sinks(settings)
    contracts = HttpContracts(clients["contracts"])
    vendor_channel = EdiAwareVendorChannel(HttpVendorChannel(clients["vendor-channel"]), store.intake, contracts,
                                           edi_identity(settings))  # fmt: skip
    try:
        async with erp_adapters(settings, clients["erp"]) as chosen:
            yield build_activities(
                erp=chosen.erp,
                screening=HttpScreening(clients["screening"]),
                contracts=contracts,
                vendor_management=HttpVendorManagement(clients["vendor-management"]),
                procurement=chosen.procurement,
                inventory=HttpInventory(clients["inventory"]),
                vendor_channel=vendor_channel,
                accounts_payable=HttpAccountsPayable(clients["ap"]),
                store=store,
                master_data=[
                    HttpVendorManagementMaster(clients["vendor-management"]),
                    chosen.master,
                    HttpContractsMaster(clients["contracts"]),
                    HttpAnalyticsMaster(clients["analytics"]),
                ],
                syncs=store.syncs,
                policy=settings.load_survivorship_policy(),
                status_events=TemporalStatusEvents(),
                replenishments=TemporalReplenishmentEvents(),
                intake=store.intake,
                intake_dispatch=TemporalIntakeDispatch(settings),
                ours=edi_identity(settings),
                outbox=store.outbox,
                sinks=sinks,
                relay=relay_config(settings),
                alerts=store.alerts,
                runs=TemporalRuns(),
                probes=[*(client for system, client in clients.items() if system != "erp"), chosen.probe],
                reports=report_ports(store, settings.state_dir / "reports"),
            )
    finally:
        await close_sinks(sinks)
        for client in clients.values():
            await client.aclose()
        store.close()


def _standing_subscriptions(settings: Settings, sandbox_analytics_url: str | None) -> None:
    with Store(settings.resolved_store_url) as store:
        ensure_standing_subscriptions(store, settings, sandbox_analytics_url=sandbox_analytics_url)


def relay_config(settings: Settings) -> RelayConfig:
    return RelayConfig(
        source=settings.events_source,
        schema_base=settings.resolved_events_schema_base,
        retry_window=timedelta(hours=settings.events_retry_hours),
        poll_seconds=settings.events_poll_seconds,
    )


def edi_identity(settings: Settings) -> EdiIdentity:
    return EdiIdentity(isa_qualifier=settings.edi_isa_qualifier, isa_id=settings.edi_isa_id, gs_id=settings.edi_gs_id)


SHUTDOWN_MARGIN_SECONDS = 5.0


def build_worker(client: Client, settings: Settings, activities: Sequence[object]) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=list(WORKFLOWS),
        workflow_runner=workflow_runner(),
        activities=activity_functions(*activities),
        interceptors=[MetricsInterceptor()],  # runs started/ended, SLA breaches (runtime/run_metrics.py)
        max_concurrent_activities=50,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
    )


async def run_worker(
    settings: Settings,
    client: Client,
    stop: asyncio.Event | None = None,
    *,
    sandbox_analytics_url: str | None = None,
) -> None:
    """Run until `stop` is set (or forever), then shut the worker down: running activities get
    the graceful timeout to finish, are then cancelled, and after a few more seconds the worker
    stops waiting for any that ignore it (a call stuck in a thread cannot be interrupted). Whatever
    did not finish is retried by Temporal on the next worker: nothing is lost, and SIGTERM never
    hangs a deployment.

    Before it takes work it makes the standing subscriptions current and starts the `event-relay`
    workflow if none runs (starter/operations/event_relay.py): events are delivered wherever a
    worker runs."""
    async with activity_objects(settings) as objects:
        await asyncio.to_thread(_standing_subscriptions, settings, sandbox_analytics_url)
        worker = build_worker(client, settings, objects)
        running = asyncio.create_task(worker.run())
        await ensure_event_relay(client, settings)
        stopping = asyncio.create_task(stop.wait() if stop else asyncio.Event().wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if running.done():
            running.result()  # a worker that died on its own: raise why
            return
        deadline = settings.worker_graceful_shutdown_seconds + SHUTDOWN_MARGIN_SECONDS
        try:
            await asyncio.wait_for(worker.shutdown(), timeout=deadline)
        except TimeoutError:
            logging.getLogger(__name__).warning("worker stopped after %.0f s with activities still running", deadline)
