"""`supplybridge token issue|api-key` (local API credentials) and `supplybridge audit verify|list`
(mounted by starter/cli.py)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from runtime.settings import Settings
from runtime.stack_record import NoStoreFound, StoreSource, masked_url, store_to_read
from starter.cli_common import JsonOpt, settings_from
from starter.output import ExitCode, console, err_console, print_error, print_json

StoreDirOpt = Annotated[  # `events` and `audit`: which store they read (see operational_store)
    Path | None,
    typer.Option("--state-dir", help="Read the store in this state dir instead of the running stack's."),
]
SuppliersOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--supplier", help="ERP supplier id whose PO acknowledgements it may send (repeat, or comma-separate)."
    ),
]
SystemsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--system", help="System whose events it may send: erp, vendor-management, vendor-channel, inventory."
    ),
]


token_app = typer.Typer(help="API credentials for local use.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: verify the hash chain, list entries.", no_args_is_help=True)


@token_app.command("issue")
def token_issue(
    ctx: typer.Context,
    scopes: Annotated[str, typer.Option("--scopes", help="Comma- or space-separated, e.g. procurement:write")],
    subject: Annotated[str, typer.Option("--subject", help="Who the token is for.")] = "dev",
    teams: Annotated[str, typer.Option("--teams", help="Teams whose tasks it may decide (e.g. pricing).")] = "",
    ttl_minutes: Annotated[int | None, typer.Option("--ttl-minutes", help="Lifetime [60].")] = None,
    supplier: SuppliersOpt = None,
    system: SystemsOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Issue a signed API token with SUPPLYBRIDGE_JWT_SECRET (development: the built-in key).
    An `events:write` token speaks only for what --supplier / --system name (nothing without them)."""
    from starter.api.security import SCOPES, issue_token

    settings = settings_from(ctx)
    wanted = sorted({s for s in scopes.replace(",", " ").split() if s})
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        return print_error(
            f"unknown scope(s): {', '.join(unknown) or '(none given)'}; known: {', '.join(SCOPES)}",
            as_json,
            code=ExitCode.BAD_INPUT,
        )
    team_list = sorted({t for t in teams.replace(",", " ").split() if t})
    bindings = _bindings(supplier, system)
    if isinstance(bindings, str):
        return print_error(bindings, as_json, code=ExitCode.BAD_INPUT)
    suppliers, systems = bindings
    try:
        token, lifetime = issue_token(settings, subject, wanted, team_list, ttl_minutes,
                                      suppliers=suppliers, systems=systems)  # fmt: skip
    except ValueError as refused:
        return print_error(str(refused), as_json, code=ExitCode.BAD_INPUT)
    if as_json:
        print_json({"ok": True, "access_token": token, "token_type": "Bearer", "expires_in": lifetime,
                    "scope": " ".join(wanted), "teams": team_list, "suppliers": suppliers,
                    "systems": systems})  # fmt: skip
    else:
        print(token)
    return ExitCode.OK


@token_app.command("api-key")
def token_api_key(
    subject: Annotated[str, typer.Option("--subject", help="The calling system, e.g. erp-bridge.")],
    scopes: Annotated[str, typer.Option("--scopes", help="Comma- or space-separated.")],
    teams: Annotated[str, typer.Option("--teams")] = "",
    supplier: SuppliersOpt = None,
    system: SystemsOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Make a new API key and print the SUPPLYBRIDGE_API_KEYS entry to configure (by its SHA-256)."""
    from starter.api.security import sha256_hex

    bindings = _bindings(supplier, system)
    if isinstance(bindings, str):
        return print_error(bindings, as_json, code=ExitCode.BAD_INPUT)
    key = f"sbk_{secrets.token_urlsafe(32)}"
    entry = {
        "subject": subject,
        "secret_sha256": sha256_hex(key),
        "scopes": sorted({s for s in scopes.replace(",", " ").split() if s}),
        "teams": sorted({t for t in teams.replace(",", " ").split() if t}),
        "suppliers": bindings[0],
        "systems": bindings[1],
    }
    if as_json:
        print_json({"ok": True, "api_key": key, "settings_entry": entry})
    else:  # plain print: the key and the entry are copied, so never wrapped, cut or styled
        print(f"API key for {subject} (shown once; it sends it as X-API-Key):\n{key}")
        print("Add this entry to SUPPLYBRIDGE_API_KEYS, a JSON list (alone: SUPPLYBRIDGE_API_KEYS='[<entry>]'):")
        print(json.dumps(entry))
    return ExitCode.OK


def _bindings(suppliers: list[str] | None, systems: list[str] | None) -> tuple[list[str], list[str]] | str:
    """The --supplier and --system values (each repeated or comma-separated), or why they are refused."""
    from runtime.settings import EVENT_SYSTEMS

    def names(values: list[str] | None) -> list[str]:
        return sorted({n for value in values or [] for n in value.replace(",", " ").split() if n})

    supplier_ids, system_names = names(suppliers), names(systems)
    unknown = [s for s in system_names if s not in EVENT_SYSTEMS]
    if unknown:
        return f"--system: unknown system(s) {', '.join(unknown)}; known: {', '.join(EVENT_SYSTEMS)}"
    return supplier_ids, system_names


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, state_dir: StoreDirOpt = None, as_json: JsonOpt = False) -> int:
    """Walk the hash chain of the running stack's store (or the one named); exit 1 and name the
    first broken entry if anything was altered."""
    from store import Store

    source = operational_store(settings_from(ctx, state_dir=state_dir), as_json)
    if not isinstance(source, StoreSource):
        return source
    with Store(source.url) as store:
        report = store.audit.verify()
    broken = f"audit trail broken at entry {report.first_broken_seq}: {report.reason}"
    if as_json:
        print_json({**store_fields(source), **report.model_dump(), **({} if report.ok else {"error": broken})})
    elif report.ok:
        console.print(f"audit trail intact: {report.entries} entries")
    else:
        console.print(f"[red]audit trail broken at entry {report.first_broken_seq}[/red]: {report.reason}")
    return ExitCode.OK if report.ok else ExitCode.PLATFORM_ERROR


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    state_dir: StoreDirOpt = None,
    record_id: Annotated[str | None, typer.Option("--record", help="e.g. PO-2026-000451")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
    since: Annotated[datetime | None, typer.Option("--since")] = None,
    limit: int = 50,
    as_json: JsonOpt = False,
) -> int:
    """Audit entries of the running stack's store (or the one named), oldest first."""
    from store import Store

    source = operational_store(settings_from(ctx, state_dir=state_dir), as_json)
    if not isinstance(source, StoreSource):
        return source
    with Store(source.url) as store:
        entries = store.audit.query(record_id=record_id, actor=actor, since=since, limit=limit)
    if as_json:
        items: list[Any] = [e.model_dump(mode="json") for e in entries]
        print_json({"ok": True, **store_fields(source), "entries": items})
    for e in entries if not as_json else []:
        console.print(f"{e.seq:6} {e.at:%Y-%m-%d %H:%M:%S} {e.actor:40} {e.action:40} {e.record_id}", soft_wrap=True)
    return ExitCode.OK


def operational_store(settings: Settings, as_json: bool) -> StoreSource | ExitCode:
    """The store `events` and `audit` read (runtime/stack_record.py), its notes on stderr and,
    without --json, a first line naming it; or exit 1 saying why there is none to read."""
    try:
        source = store_to_read(settings)
    except NoStoreFound as error:
        return print_error(str(error), as_json, code=ExitCode.PLATFORM_ERROR)
    for note in source.notes:
        err_console.print(f"note: {note}", soft_wrap=True, markup=False, highlight=False)
    if not as_json:
        console.print(f"reading {source.description}: store {masked_url(source.url)}", soft_wrap=True,
                      markup=False, highlight=False)  # fmt: skip
    return source


def store_fields(source: StoreSource) -> dict[str, str]:
    """The `store` and `source` fields of a --json answer read from `source`."""
    return {"store": masked_url(source.url), "source": source.description}
