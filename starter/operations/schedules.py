"""The platform's Temporal Schedules: what `supplybridge up` creates (or updates, when a setting
changed) and what `supplybridge schedules ...` manages.

Every schedule starts its workflow with overlap policy SKIP (a sync still running when the next
tick comes is not doubled), a catch-up window (a tick missed while the server was down still runs
if it is that recent) and pause-on-failure off (one failed run does not stop the next). Temporal
names each scheduled run after its schedule and fire time (`master-data-sync-suppliers-
2026-11-24T09:00:00Z`), so there is one run per entity per tick.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from domain.alerts import AlertsInput, load_rules
from domain.compliance import ComplianceInput
from domain.kpi_models import KpiReportInput
from domain.master_data.policy import Entity
from domain.master_data.sync import MasterDataSyncInput
from domain.replenishment_models import SCAN_WORKFLOW_ID
from runtime.settings import Settings
from starter.operations.intake import inbox_input
from starter.operations.replenishments import replenishment_policy
from workflows.alerts import ALERTS_WORKFLOW_ID, AlertsEvaluateWorkflow
from workflows.compliance import ComplianceRescreenWorkflow, CredentialExpiryWorkflow
from workflows.intake import IntakeInboxWorkflow
from workflows.kpi_report import WORKFLOW_ID as KPI_REPORT_ID
from workflows.kpi_report import KpiReportWorkflow
from workflows.master_data_sync import MasterDataSyncWorkflow
from workflows.replenishment_scan import ReplenishmentScanWorkflow


@dataclass(frozen=True)
class PlatformSchedule:
    schedule_id: str
    every: timedelta
    action: Callable[[Settings], ScheduleActionStartWorkflow]
    note: str


def _sync(entity: Entity) -> Callable[[Settings], ScheduleActionStartWorkflow]:
    def action(settings: Settings) -> ScheduleActionStartWorkflow:
        return ScheduleActionStartWorkflow(
            MasterDataSyncWorkflow.run,
            MasterDataSyncInput(entity=entity),
            id=f"master-data-sync-{entity.value}",
            task_queue=settings.task_queue,
            static_summary=f"Scheduled master-data sync of {entity.value}",
        )

    return action


def _compliance(workflow: Any, workflow_id: str, summary: str) -> Callable[[Settings], ScheduleActionStartWorkflow]:
    def action(settings: Settings) -> ScheduleActionStartWorkflow:
        return ScheduleActionStartWorkflow(workflow, ComplianceInput(), id=workflow_id, task_queue=settings.task_queue,
                                           static_summary=summary)  # fmt: skip

    return action


def _scan(settings: Settings) -> ScheduleActionStartWorkflow:
    return ScheduleActionStartWorkflow(
        ReplenishmentScanWorkflow.run,
        replenishment_policy(settings),
        id=SCAN_WORKFLOW_ID,
        task_queue=settings.task_queue,
        static_summary="Balances at or below their reorder point (breach events that were lost)",
    )


def _inbox(settings: Settings) -> ScheduleActionStartWorkflow:
    return ScheduleActionStartWorkflow(
        IntakeInboxWorkflow.run,
        inbox_input(settings),
        id="intake-inbox",
        task_queue=settings.task_queue,
        static_summary=f"Files dropped in {settings.resolved_intake_inbox}",
    )


def _alerts(settings: Settings) -> ScheduleActionStartWorkflow:
    rules = load_rules(settings.alert_rules).rules  # an invalid file: AlertRulesInvalid naming each field
    return ScheduleActionStartWorkflow(
        AlertsEvaluateWorkflow.run,
        AlertsInput(rules=rules, renotify_after=timedelta(minutes=settings.alert_renotify_minutes)),
        id=ALERTS_WORKFLOW_ID,
        task_queue=settings.task_queue,
        static_summary="The alert rules checked against the platform's state",
    )


def _kpi_report(settings: Settings) -> ScheduleActionStartWorkflow:
    return ScheduleActionStartWorkflow(
        KpiReportWorkflow.run,
        KpiReportInput(),
        id=KPI_REPORT_ID,
        task_queue=settings.task_queue,
        static_summary=f"Operations KPIs of the last 24 hours, written to {settings.state_dir / 'reports'}",
    )


def platform_schedules(settings: Settings) -> list[PlatformSchedule]:
    minutes = {Entity.SUPPLIERS: settings.sync_suppliers_every_minutes,
               Entity.ITEMS: settings.sync_items_every_minutes,
               Entity.CONTRACTS: settings.sync_contracts_every_minutes}  # fmt: skip
    syncs = [
        PlatformSchedule(f"master-data-sync-{entity.value}", timedelta(minutes=every), _sync(entity),
                         f"master-data sync of {entity.value} (SUPPLYBRIDGE_SYNC_{entity.name}_EVERY_MINUTES)")
        for entity, every in minutes.items()
    ]  # fmt: skip
    return [
        *syncs,
        PlatformSchedule("compliance-rescreen", timedelta(days=settings.compliance_rescreen_every_days),
                         _compliance(ComplianceRescreenWorkflow.run, "compliance-rescreen",
                                     "Rescreen of every active supplier against the exclusion list"),
                         "exclusion rescreen (SUPPLYBRIDGE_COMPLIANCE_RESCREEN_EVERY_DAYS)"),
        PlatformSchedule("credential-expiry", timedelta(hours=settings.credential_expiry_every_hours),
                         _compliance(CredentialExpiryWorkflow.run, "credential-expiry",
                                     "Credential expiry review of every active supplier"),
                         "credential expiry (SUPPLYBRIDGE_CREDENTIAL_EXPIRY_EVERY_HOURS)"),
        PlatformSchedule("replenishment-scan", timedelta(minutes=settings.replenishment_scan_every_minutes), _scan,
                         "replenishment scan (SUPPLYBRIDGE_REPLENISHMENT_SCAN_EVERY_MINUTES)"),
        PlatformSchedule("intake-inbox", timedelta(minutes=settings.intake_inbox_every_minutes), _inbox,
                         "the watched intake folder (SUPPLYBRIDGE_INTAKE_INBOX_EVERY_MINUTES)"),
        PlatformSchedule(ALERTS_WORKFLOW_ID, timedelta(minutes=settings.alerts_every_minutes), _alerts,
                         "alert rules (SUPPLYBRIDGE_ALERTS_EVERY_MINUTES, SUPPLYBRIDGE_ALERT_RULES)"),
        PlatformSchedule(KPI_REPORT_ID, timedelta(hours=settings.kpi_report_every_hours), _kpi_report,
                         "the KPI report in <state dir>/reports (SUPPLYBRIDGE_KPI_REPORT_EVERY_HOURS)"),
    ]  # fmt: skip


def schedule_of(settings: Settings, wanted: PlatformSchedule) -> Schedule:
    return Schedule(
        action=wanted.action(settings),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=wanted.every)]),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=timedelta(minutes=settings.schedule_catchup_window_minutes),
            pause_on_failure=False,
        ),
        state=ScheduleState(note=wanted.note),
    )


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    """Create each platform schedule, or bring an existing one to the wanted spec, action and
    policy (its paused state and note stay as an operator left them). Returns the ids."""
    ids = []
    for wanted in platform_schedules(settings):
        schedule = schedule_of(settings, wanted)
        try:
            await client.create_schedule(wanted.schedule_id, schedule)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(wanted.schedule_id).update(_bring_to(schedule))
        ids.append(wanted.schedule_id)
    return ids


def _bring_to(wanted: Schedule) -> Callable[[ScheduleUpdateInput], ScheduleUpdate]:
    def update(current: ScheduleUpdateInput) -> ScheduleUpdate:
        kept = current.description.schedule.state
        return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=kept))

    return update


def schedule_view(description: ScheduleDescription) -> dict[str, Any]:
    """One schedule as `schedules list/describe --json` print it."""
    schedule, info = description.schedule, description.info
    every = [str(i.every) for i in schedule.spec.intervals]
    action = schedule.action
    return {
        "schedule_id": description.id,
        "workflow_type": getattr(action, "workflow", None),
        "every": every,
        "paused": schedule.state.paused,
        "note": schedule.state.note,
        "overlap": schedule.policy.overlap.name.lower(),
        "catchup_window": str(schedule.policy.catchup_window),
        "next_runs": [t.isoformat() for t in info.next_action_times[:3]],
        "recent_runs": [
            {"workflow_id": a.action.workflow_id, "scheduled_at": a.scheduled_at.isoformat()}  # type: ignore[attr-defined]
            for a in info.recent_actions[-5:]
        ],
        "runs": info.num_actions,
        "missed": info.num_actions_missed_catchup_window,
        "skipped_overlap": info.num_actions_skipped_overlap,
    }


async def backfill(client: Client, schedule_id: str, start: datetime, end: datetime) -> None:
    """Run the ticks that fell between `start` and `end` (overlap: allow all, so each one runs)."""
    await client.get_schedule_handle(schedule_id).backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    )
