"""`supplybridge alerts list|rules` (mounted by starter/cli.py): the alerts the `alerts-evaluate`
schedule raised (store/alerts.py) and the rules it checks (domain/alerts.py).

`list` reads the store the way `events` and `dead-letters` do: the running stack's, or the one
named by --state-dir or SUPPLYBRIDGE_STORE_URL. `rules` shows the rules of the settings this
command runs with (`SUPPLYBRIDGE_ALERT_RULES`, else the built-in ones): `up` gives the schedule
those same rules. A rules file that is not valid exits 2, naming each field at fault.

Exit codes: 0 done; 1 no store to read; 2 bad input (an invalid rules file).
"""

from __future__ import annotations

from typing import Annotated

import typer

from domain.alerts import Alert, AlertRulesInvalid, AlertStatus, load_rules
from runtime.stack_record import StoreSource
from starter.cli_common import JsonOpt, command_group, settings_from
from starter.cli_governance import StoreDirOpt, store_fields
from starter.cli_intake import with_store
from starter.output import ExitCode, print_error, print_json, print_line
from store import Store
from store.alerts import AlertRecords

alerts_app = command_group("Alerts: the open ones (or all of them), and the rules they are raised by.")
AllOpt = Annotated[bool, typer.Option("--all", help="Also the resolved ones.")]
LimitOpt = Annotated[int, typer.Option(min=1, max=500, help="At most this many, newest first.")]


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    include_resolved: AllOpt = False,
    limit: LimitOpt = 50,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """The open alerts, newest first: rule, subject, severity, since when, and the latest measure."""

    def work(store: Store, source: StoreSource) -> int:
        found = AlertRecords.of(store).alerts(include_resolved=include_resolved, limit=limit)
        if as_json:
            print_json({"ok": True, **store_fields(source), "alerts": [a.model_dump(mode="json") for a in found]})
            return ExitCode.OK
        if not found:
            print_line("no alerts" if include_resolved else "no open alerts")
        for alert in found:
            print_alert(alert)
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


def print_alert(alert: Alert) -> None:
    print_line(f"{alert.alert_id:>5} {alert.status.value:8} {alert.severity.value:8} {alert.rule_id} {alert.subject}",
               style="bold" if alert.status is AlertStatus.OPEN else "")  # fmt: skip
    times = "time" if alert.notices == 1 else "times"
    when = f"      since {alert.opened_at:%Y-%m-%d %H:%M:%S} UTC, team {alert.team}, announced {alert.notices} {times}"
    if alert.resolved_at is not None:
        when += f", resolved {alert.resolved_at:%Y-%m-%d %H:%M:%S} UTC"
    print_line(when)
    print_line(f"      {alert.summary}")


@alerts_app.command("rules")
def alerts_rules(ctx: typer.Context, as_json: JsonOpt = False) -> int:
    """The alert rules in force: kind, threshold, window, severity and the team told."""
    settings = settings_from(ctx)
    try:
        rules = load_rules(settings.alert_rules).rules
    except AlertRulesInvalid as invalid:
        return print_error(str(invalid), as_json, code=ExitCode.BAD_INPUT, errors=invalid.errors)
    source = str(settings.alert_rules) if settings.alert_rules else "built-in (domain/alert_rules.json)"
    if as_json:
        print_json({"ok": True, "source": source, "every_minutes": settings.alerts_every_minutes,
                    "renotify_minutes": settings.alert_renotify_minutes,
                    "webhook": settings.alert_webhook_url is not None,
                    "rules": [rule.model_dump(mode="json") for rule in rules]})  # fmt: skip
        return ExitCode.OK
    print_line(f"alert rules: {source}; checked every {settings.alerts_every_minutes} min, an open alert "
               f"announced again after {settings.alert_renotify_minutes} min")  # fmt: skip
    for rule in rules:
        print_line(f"  {rule.id:18} {rule.kind.value:20} threshold {rule.threshold:<6g} window {rule.window} "
                   f"{rule.severity.value:8} team {rule.team}")  # fmt: skip
        if rule.description:
            print_line(f"    {rule.description}")
    return ExitCode.OK
