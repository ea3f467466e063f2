"""`supplybridge queues`: each team's open work, counted, with the Temporal UI link that lists it.

A team's open work is every running run whose `SupplyBridgeTeam` search attribute is the team
(the Board sets it to whoever owns the run's next step and unsets it when the run ends). The link
opens the UI's workflow list filtered by that visibility query (`?query=...`), so an operator needs
no setup in the browser to see a queue; the UI keeps its columns and saved views per browser only.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from urllib.parse import quote

import typer
from temporalio.client import Client

from domain.decisions import TEAMS, manager_team
from runtime.settings import Settings
from runtime.temporal_client import connect
from starter.cli_common import JsonOpt, run_async, settings_from
from starter.output import ExitCode, console, print_json
from workflows import search_attributes as sa


@dataclass(frozen=True)
class Queue:
    team: str
    open: int
    query: str
    ui_url: str


def open_work_query(team: str) -> str:
    """The visibility query of the team's open work (as the UI's own filters write it)."""
    return f'ExecutionStatus="Running" AND {sa.TEAM.name}="{team}"'


def workflows_list_url(settings: Settings, query: str) -> str:
    """The Temporal UI's workflow list filtered by `query` (the UI reads its `query` parameter)."""
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{settings.resolved_ui_url}/namespaces/{namespace}/workflows?query={quote(query, safe='')}"


async def team_queues(client: Client, settings: Settings) -> list[Queue]:
    """Every team's queue, then each managers' queue that holds escalated work."""
    teams = [*TEAMS, *(manager_team(team) for team in TEAMS)]
    queries = [open_work_query(team) for team in teams]
    counts = await asyncio.gather(*(client.count_workflows(query) for query in queries))
    return [
        Queue(team, counted.count, query, workflows_list_url(settings, query))
        for team, query, counted in zip(teams, queries, counts, strict=True)
        if team in TEAMS or counted.count
    ]


def queues(ctx: typer.Context, as_json: JsonOpt = False) -> int:
    """Each team's open work (running runs waiting on it) with a Temporal UI link that lists it."""
    settings = settings_from(ctx)

    async def main() -> int:
        found = await team_queues(await connect(settings), settings)
        if as_json:
            print_json({"ok": True, "queues": [asdict(queue) for queue in found]})
            return ExitCode.OK
        console.print(
            f"Open work by team on Temporal {settings.temporal_address} (namespace {settings.temporal_namespace}):",
            soft_wrap=True,
        )
        for queue in found:
            console.print(f"  {queue.team:28} {queue.open:>4} open", highlight=False)
            console.print(f"    {queue.ui_url}", soft_wrap=True, markup=False, highlight=False)
        console.print(
            "Each link opens the Temporal UI's workflow list filtered to that team's open work.", soft_wrap=True
        )
        return ExitCode.OK

    return run_async(main, as_json)
