"""`alerts-evaluate` (a Temporal Schedule, every `SUPPLYBRIDGE_ALERTS_EVERY_MINUTES`): the alert
rules checked against the platform's state.

One heartbeating activity gathers the facts, evaluates the rules and writes the alerts to the store
(activities/alerts.py); then each alert it raised, re-notified or resolved is published as
`alert.raised`, `alert.renotified` or `alert.resolved`. Those events are routed to the rule's team
(`operations` for the built-in rules), whose team channel is the alert webhook
(`SUPPLYBRIDGE_ALERT_WEBHOOK_URL`): the outbox delivers them with its retries.

Decisions:
- An event's id is the alert's number and notice count (`alert-17-2:alert.renotified`): a run
  retried, or an activity that reports an earlier attempt's notices again, records it once.
- The activity may take at most `EVALUATION_DEADLINE`: a Temporal or store outage fails this run
  instead of holding the schedule (SKIP overlap) for long; the next tick tries again.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.alerts import AlertActivities
    from domain.alerts import AlertChange, AlertNotice, AlertsInput, EvaluateAlertsInput, EvaluateAlertsResult
    from workflows.kit.calls import call
    from workflows.kit.events import EventPublisher

ALERTS_WORKFLOW_ID = "alerts-evaluate"
EVALUATION_DEADLINE = timedelta(minutes=5)
HEARTBEAT = timedelta(seconds=30)


@workflow.defn(name="AlertsEvaluate")
class AlertsEvaluateWorkflow:
    def __init__(self) -> None:
        self._result = EvaluateAlertsResult()
        self._events = EventPublisher(local=True)

    @workflow.run
    async def run(self, params: AlertsInput) -> EvaluateAlertsResult:
        info = workflow.info()
        evaluation = EvaluateAlertsInput(
            rules=params.rules, renotify_after=params.renotify_after, evaluation_id=f"{info.workflow_id}:{info.run_id}"
        )
        self._result = await call(
            AlertActivities.evaluate_alerts,
            evaluation,
            start_to_close=EVALUATION_DEADLINE,
            schedule_to_close=EVALUATION_DEADLINE,
            heartbeat=HEARTBEAT,
            summary="check the alert rules",
        )
        for notice in self._result.notices:
            await self._announce(notice)
        return self._result

    async def _announce(self, notice: AlertNotice) -> None:
        alert = notice.alert
        event_type = (
            "alert.raised"
            if notice.change is AlertChange.RAISED
            else "alert.renotified"
            if notice.change is AlertChange.RENOTIFIED
            else "alert.resolved"
        )
        data = {
            "alert_id": alert.alert_id,
            "rule": alert.rule_id,
            "kind": alert.kind.value,
            "subject": alert.subject,
            "severity": alert.severity.value,
            "summary": alert.summary,
            "team": alert.team,
            "opened_at": alert.opened_at.isoformat(),
            "value": alert.value,
            "threshold": alert.threshold,
            "notices": alert.notices,
            **({"resolved_at": alert.resolved_at.isoformat()} if alert.resolved_at else {}),
        }
        await self._events.publish(notice.event_subject, event_type, data, key=notice.event_key)

    @workflow.query(name="status")
    def status(self) -> EvaluateAlertsResult:
        """Empty until the evaluation's activity is done."""
        return self._result
