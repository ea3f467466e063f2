"""Alerts: rules as data, and the pure evaluation that decides which alerts to raise, re-notify and
resolve. activities/alerts.py gathers the facts (domain/alert_facts.py, which also measures them)
and applies the plan, store/alerts.py keeps the alerts, workflows/alerts.py publishes
`alert.raised`, `alert.renotified` and `alert.resolved`, which reach the rule's team channel
(`operations`, whose channel is the alert webhook).

A rule names a kind of condition, a threshold, a window, a severity and a team. The kinds, and
the subject one alert is about (one open alert per rule and subject):
- `sla_breached`: decisions and acknowledgements past their SLA, per team (a running run whose
  `SupplyBridgeTeam` is `<team>-managers`: it was escalated when its SLA passed); subject the
  team; breached when more than `threshold` are open (0: any).
- `dead_letters_above`: intake records and event deliveries dead-lettered and still open; subject
  `dead-letters`; breached above `threshold`.
- `sync_accuracy_below`: the accuracy of each entity's latest finished master-data sync; subject
  the entity; breached below `threshold` (a share: 0.95).
- `system_failing`: the share of failed calls to a system within `window` (the evaluation's own
  probe of each system, kept in the store so a restart loses nothing, and the runs whose activity
  retries a transient failure of that system); subject the system, however many runs wait on
  it; breached above `threshold` (a share).
- `run_failed`: a run whose latest execution failed (or timed out) within `window`; subject its
  workflow id; cleared once the run is reset or run again.

Decisions:
- A breach without an open alert raises one; an open alert still breached is re-notified once
  `renotify_after` has passed since its last notice (otherwise only its numbers are refreshed);
  an open alert whose subject is measured and not breached, or no longer observed, is resolved.
- A kind whose facts could not be gathered this time is left as it is: nothing raised, nothing
  resolved. An alert resolves only when its condition was seen cleared.
- An open alert of a rule no longer in force (taken out of the rules file) is resolved.
- The rules are a JSON file (`alert_rules.json` beside this module; `SUPPLYBRIDGE_ALERT_RULES`
  names another), validated as a whole: every problem is named by its field (`rules.2.threshold`).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from domain.alert_facts import AlertFacts, AlertKind, Measurement, measure
from domain.base import DomainModel

OPERATIONS_TEAM = "operations"
RULE_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
SHARE_KINDS = frozenset({AlertKind.SYNC_ACCURACY_BELOW, AlertKind.SYSTEM_FAILING})
RULES_FILE = "alert_rules.json"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertRule(DomainModel):
    id: str = Field(pattern=RULE_ID, description="lower-case letters, digits and dashes")
    kind: AlertKind
    threshold: float = Field(default=0, ge=0, description="a count (a share of 1 for accuracy and failing systems)")
    window: timedelta = Field(
        default=timedelta(minutes=10), gt=timedelta(0), description="how far back system_failing and run_failed look"
    )
    severity: Severity = Severity.WARNING
    team: str = Field(default=OPERATIONS_TEAM, pattern=r"^[a-z0-9_-]{1,64}$", description="whose channel hears of it")
    description: str = Field(default="", max_length=300)

    @field_validator("threshold")
    @classmethod
    def _share_for_shares(cls, threshold: float, info: ValidationInfo) -> float:
        kind = info.data.get("kind")
        if kind is AlertKind.SYNC_ACCURACY_BELOW and threshold > 1:
            raise ValueError("an accuracy between 0 and 1 (0.95 is 95%)")
        if kind is AlertKind.SYSTEM_FAILING and threshold >= 1:
            raise ValueError("a share of failed calls below 1 (0.5 is half of them)")
        return threshold

    def measure(self, facts: AlertFacts, now: datetime) -> list[Measurement] | None:
        return measure(self.kind, self.threshold, self.window, facts, now)


class AlertRules(DomainModel):
    rules: list[AlertRule] = Field(description="checked in this order")

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[AlertRule]) -> list[AlertRule]:
        twice = sorted(rule_id for rule_id, n in Counter(rule.id for rule in rules).items() if n > 1)
        if twice:
            raise ValueError(f"rule ids must be unique: {', '.join(twice)} more than once")
        return rules


class AlertRulesInvalid(ValueError):
    """A rules file that is not valid: `errors` names each field and why."""

    def __init__(self, source: str, errors: list[dict[str, str]]) -> None:
        self.source = source
        self.errors = errors
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        super().__init__(f"alert rules {source}: {detail}")


def parse_rules(text: str, source: str = "(text)") -> AlertRules:
    """Validate a rules document (JSON); raises AlertRulesInvalid naming each bad field."""
    try:
        return AlertRules.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise AlertRulesInvalid(
            source, [{"field": "(file)", "reason": f"not JSON: {error.msg} at line {error.lineno}"}]
        ) from None
    except ValidationError as error:
        found = [
            {"field": ".".join(str(part) for part in e["loc"]) or "(file)", "reason": e["msg"]} for e in error.errors()
        ]
        raise AlertRulesInvalid(source, found) from None


def default_rules_text() -> str:
    return resources.files(__package__).joinpath(RULES_FILE).read_text(encoding="utf-8")


def load_rules(path: Path | None = None) -> AlertRules:
    """The rules in force: the file `path` names (the setting), else the built-in ones."""
    if path is None:
        return parse_rules(default_rules_text(), f"domain/{RULES_FILE}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AlertRulesInvalid(str(path), [{"field": "(file)", "reason": f"cannot be read: {error}"}]) from None
    return parse_rules(text, str(path))


# --- alerts --------------------------------------------------------------------------------------


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AlertChange(StrEnum):
    """What an evaluation did to an alert that people hear of (an event each)."""

    RAISED = "raised"
    RENOTIFIED = "renotified"
    RESOLVED = "resolved"


class Alert(DomainModel):
    alert_id: int
    rule_id: str
    kind: AlertKind
    subject: str
    severity: Severity
    team: str
    status: AlertStatus
    summary: str = Field(description="the latest measurement, one line")
    value: float | None = None
    threshold: float
    opened_at: datetime
    last_seen_at: datetime = Field(description="when an evaluation last measured it")
    last_notified_at: datetime
    notices: int = Field(ge=1, description="times announced: raised, re-notified, resolved")
    resolved_at: datetime | None = None


class AlertNotice(DomainModel):
    """An alert as an evaluation changed it: the event to publish."""

    change: AlertChange
    alert: Alert

    @property
    def event_key(self) -> str:
        """One event per alert and notice, however often the evaluation is retried."""
        return f"alert-{self.alert.alert_id}-{self.alert.notices}"

    @property
    def event_subject(self) -> str:
        return f"{self.alert.rule_id}/{self.alert.subject}"


class OpenAlert(DomainModel):
    """What the evaluation needs of an open alert."""

    alert_id: int
    rule_id: str
    subject: str
    last_notified_at: datetime


class NewAlert(DomainModel):
    rule: AlertRule
    measurement: Measurement


class AlertUpdate(DomainModel):
    alert_id: int
    value: float | None = None
    summary: str


class AlertPlan(DomainModel):
    raised: list[NewAlert] = Field(default_factory=list)
    renotified: list[AlertUpdate] = Field(default_factory=list)
    refreshed: list[AlertUpdate] = Field(default_factory=list, description="still breached, notified lately")
    resolved: list[AlertUpdate] = Field(default_factory=list)


def evaluate(
    rules: list[AlertRule], facts: AlertFacts, open_alerts: list[OpenAlert], now: datetime, renotify_after: timedelta
) -> AlertPlan:
    """Which alerts to raise, re-notify, refresh and resolve (see the module docstring)."""
    plan = AlertPlan()
    in_force = {rule.id for rule in rules}
    for orphan in open_alerts:
        if orphan.rule_id not in in_force:
            why = f"rule {orphan.rule_id} is no longer in force"
            plan.resolved.append(AlertUpdate(alert_id=orphan.alert_id, summary=why))
    for rule in rules:
        measured = rule.measure(facts, now)
        if measured is None:
            continue  # not known this time: its alerts stay as they are
        opened = {a.subject: a for a in open_alerts if a.rule_id == rule.id}
        for m in measured:
            alert = opened.pop(m.subject, None)
            if alert is None:
                if m.breached:
                    plan.raised.append(NewAlert(rule=rule, measurement=m))
                continue
            update = AlertUpdate(alert_id=alert.alert_id, value=m.value, summary=m.summary)
            if not m.breached:
                plan.resolved.append(update)
            elif now - alert.last_notified_at >= renotify_after:
                plan.renotified.append(update)
            else:
                plan.refreshed.append(update)
        for subject, gone in sorted(opened.items()):  # not observed any more: cleared
            cleared = f"{subject}: cleared (no longer observed)"
            plan.resolved.append(AlertUpdate(alert_id=gone.alert_id, summary=cleared))
    return plan


# --- the evaluation as the workflow runs it ------------------------------------------------------


class AlertsInput(DomainModel):
    """What the `alerts-evaluate` schedule starts its workflow with."""

    rules: list[AlertRule]
    renotify_after: timedelta = Field(default=timedelta(minutes=60), gt=timedelta(0))


class EvaluateAlertsInput(AlertsInput):
    evaluation_id: str = Field(description="<workflow id>:<run id>: a retried evaluation reports its notices again")


class EvaluateAlertsResult(DomainModel):
    notices: list[AlertNotice] = Field(default_factory=list)
    open: int = Field(default=0, description="alerts open after this evaluation")
    unobserved: list[str] = Field(default_factory=list, description="facts not gathered this time, and why")
