"""What `supplybridge demo` prints: one line per scenario as it finishes (the demo takes about
40 s), then a table of every outcome that reads in an 80-column CI log, then the Temporal UI link
of each run on a line of its own. Ids and links are never put in a table cell, where they would
be folded or cut; the table's rows are numbered and the links name the rows they belong to."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text


@dataclass
class Row:
    name: str
    workflow_id: str
    outcome: str
    detail: str
    ok: bool
    url: str  # the Temporal UI page of the run the row describes (its run id, not the id's latest run)


@dataclass
class DemoProgress:
    """Collects the rows and, unless `quiet` (`--json`), prints each as it comes."""

    console: Console
    quiet: bool = False
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, soft_wrap=True, markup=False, highlight=False)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        verdict = "ok " if row.ok else "NOT"
        took = time.monotonic() - self.started
        self.say(f"{len(self.rows):>3}. {verdict} {row.name} -> {row.outcome}  ({took:.0f} s)")
        return row

    @property
    def all_ok(self) -> bool:
        return all(row.ok for row in self.rows)


def print_report(console: Console, rows: list[Row]) -> None:
    """The table (scenario and outcome, what happened, as promised or not), then the runs' links."""
    widest_word = max((len(word) for row in rows for word in (*row.name.split(), row.outcome)), default=8)
    table = Table(
        title="SupplyBridge demo",
        caption="ok: the outcome examples/README.md promises",
        box=box.SIMPLE_HEAD,
        show_lines=True,
        padding=(0, 1),
    )
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("scenario / outcome", min_width=widest_word, overflow="fold")
    table.add_column("what happened", overflow="fold", ratio=1)
    table.add_column("ok", no_wrap=True)
    for number, row in enumerate(rows, 1):
        scenario = Text(row.name)
        scenario.append("\n" + row.outcome, style="bold")
        promised = Text("yes", style="green") if row.ok else Text("NO", style="bold red")
        table.add_row(str(number), scenario, Text(row.detail), promised)
    console.print(table)
    console.print("Each run in the Temporal UI (rows of the table, workflow id, link):", highlight=False)
    for url, numbers in _rows_by_url(rows).items():
        first = rows[numbers[0] - 1]
        label = ", ".join(str(n) for n in numbers)
        console.print(f"  [{label}] {first.workflow_id}", soft_wrap=True, markup=False, highlight=False)
        console.print(f"      {url}", soft_wrap=True, markup=False, highlight=False)


def _rows_by_url(rows: list[Row]) -> dict[str, list[int]]:
    """Row numbers per link, in the order the links first appear (rows about one run share one)."""
    found: dict[str, list[int]] = {}
    for number, row in enumerate(rows, 1):
        if row.url:
            found.setdefault(row.url, []).append(number)
    return found
