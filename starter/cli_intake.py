"""`supplybridge intake FILE...` and `supplybridge partners list|show|add` (mounted by
starter/cli.py), and what `dead-letters` (starter/cli_dead_letters.py) shares with them.

They read and write the store the way `events` and `audit` do: the running stack's, or the one
named by --state-dir or SUPPLYBRIDGE_STORE_URL. `intake` also reaches Temporal (the global
--address). Partner changes are audited with the person acting (`--by`, the login name by default).

Exit codes: 0 done; 1 the platform could not do it (or the wait ran out); 2 bad input (a file
that cannot be read, an unknown partner, a partner whose ISA sender another one uses); 3 `intake`
took the files but a file was refused as a whole or a record was dead-lettered (listed in the
answer, and by `dead-letters list`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.audit import AuditRecord
from domain.intake import IntakeSource, Partner, intake_workflow_id
from runtime.stack_record import StoreSource
from runtime.temporal_client import connect
from starter.cli_common import (
    USER,
    WAIT_SECONDS,
    ByOpt,
    JsonOpt,
    TimeoutOpt,
    command_group,
    read_model,
    run_async,
    settings_from,
)
from starter.cli_governance import StoreDirOpt, operational_store, store_fields
from starter.operations import intake as intake_operations
from starter.output import ExitCode, console, print_error, print_field, print_json, print_line
from store import Store
from store.intake import sha256_hex

partners_app = command_group("Trading partners: who sends us X12, as which supplier, and what they exchange.")


def with_store(
    ctx: typer.Context, state_dir: Path | None, as_json: bool, work: Callable[[Store, StoreSource], int]
) -> int:
    """Run `work` on the store the command reads (exit 1 when there is none to read)."""
    source = operational_store(settings_from(ctx, state_dir=state_dir), as_json)
    if not isinstance(source, StoreSource):
        return source
    with Store(source.url) as store:
        return work(store, source)


def audit(store: Store, actor: str, action: str, record: tuple[str, str], outcome: str, **details: Any) -> None:
    store.audit.append(AuditRecord(actor=actor, action=action, record_type=record[0], record_id=record[1],
                                   outcome=outcome, details={"via": "cli", **details}))  # fmt: skip


# --- partners -------------------------------------------------------------------------------------
@partners_app.command("list")
def partners_list(ctx: typer.Context, state_dir: StoreDirOpt = None, as_json: JsonOpt = False) -> int:
    """The trading partners, by id."""

    def work(store: Store, source: StoreSource) -> int:
        found = store.intake.list_partners()
        if as_json:
            print_json({"ok": True, **store_fields(source), "partners": [p.model_dump(mode="json") for p in found]})
        for p in [] if as_json else found:
            print_line(f"{p.partner_id:16} {p.supplier_id:10} {p.isa_qualifier}/{p.isa_id:16} "
                       f"{','.join(p.transaction_sets):24} {p.x12_version} {p.name}")  # fmt: skip
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@partners_app.command("show")
def partners_show(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. CASCADIAPHARM")],
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """One trading partner."""

    def work(store: Store, source: StoreSource) -> int:
        found = store.intake.get_partner(partner_id)
        if found is None:
            return print_error(f"no trading partner {partner_id!r} in that store", as_json, code=ExitCode.BAD_INPUT)
        show_partner(found, as_json, source)
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@partners_app.command("add")
def partners_add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The partner as JSON, e.g. examples/partners/lakeshoremed.json.")],
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Add a trading partner, or replace the one with the same id. An ISA sender (qualifier and id)
    that another partner uses is refused."""
    partner = read_model(file, Partner, "trading partner", as_json)
    if isinstance(partner, ExitCode):
        return partner

    def work(store: Store, source: StoreSource) -> int:
        replaced = store.intake.get_partner(partner.partner_id) is not None
        try:
            saved = store.intake.put_partner(partner)
        except ValueError as refused:
            field, _, reason = str(refused).partition(": ")
            return print_error(f"{file}: {refused}", as_json, code=ExitCode.BAD_INPUT,
                               errors=[{"field": field, "reason": reason}])  # fmt: skip
        action = "trading_partner.replaced" if replaced else "trading_partner.added"
        audit(store, by, action, ("trading_partner", saved.partner_id), "saved", supplier_id=saved.supplier_id,
              isa_sender=f"{saved.isa_qualifier}/{saved.isa_id}")  # fmt: skip
        if as_json:
            print_json(
                {"ok": True, **store_fields(source), "replaced": replaced, "partner": saved.model_dump(mode="json")}
            )
        else:
            print_line(f"{'replaced' if replaced else 'added'} trading partner {saved.partner_id}")
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


def show_partner(partner: Partner, as_json: bool, source: StoreSource) -> None:
    if as_json:
        print_json({"ok": True, **store_fields(source), "partner": partner.model_dump(mode="json")})
        return
    for label, value in partner.model_dump(mode="json").items():
        print_field(label.replace("_", " "), ", ".join(value) if isinstance(value, list) else str(value))


# --- intake ---------------------------------------------------------------------------------------
def intake(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="X12 or CSV files to take in.")],
    timeout: TimeoutOpt = WAIT_SECONDS,
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Take in X12 and CSV files: every record becomes the same governed workflow call a JSON
    request makes, or a dead letter naming its position and reason. A file taken before (the same
    bytes, or the same interchange from the same partner) is reported as a duplicate, not run
    twice. Exit 3 when a file was refused or a record dead-lettered."""
    settings = settings_from(ctx, state_dir=state_dir)
    contents = read_files(files, settings.intake_max_file_bytes, as_json)
    if isinstance(contents, ExitCode):
        return contents

    def work(store: Store, source: StoreSource) -> int:
        async def main() -> int:
            client = await connect(settings)
            answers: list[dict[str, Any]] = []
            for path, data in contents:
                try:
                    result = await intake_operations.submit_file(
                        client, settings, store.intake, path.name, data, IntakeSource.CLI, by, wait=timeout
                    )
                except TimeoutError:  # taken, and still running
                    answers.append({"file": str(path), "status": "processing", "name": path.name,
                                    "workflow_id": intake_workflow_id(sha256_hex(data))})  # fmt: skip
                    continue
                answers.append({"file": str(path), "status": "done", **result.model_dump(mode="json"),
                                "dead_letters": result.dead_letters})  # fmt: skip
            return report_intake(answers, as_json, source)

        return run_async(main, as_json)

    return with_store(ctx, state_dir, as_json, work)


def read_files(files: list[Path], max_bytes: int, as_json: bool) -> list[tuple[Path, bytes]] | ExitCode:
    """Every file's bytes, or exit 2 naming each file that cannot be taken (nothing is sent then)."""
    contents: list[tuple[Path, bytes]] = []
    errors: list[dict[str, str]] = []
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            errors.append({"field": str(path), "reason": "no such file"})
            continue
        except IsADirectoryError:
            errors.append({"field": str(path), "reason": "is a directory; give the path of a file"})
            continue
        except OSError as error:
            errors.append({"field": str(path), "reason": f"cannot be read: {error.strerror or error}"})
            continue
        if not data:
            errors.append({"field": str(path), "reason": "is empty"})
        elif len(data) > max_bytes:
            errors.append(
                {"field": str(path), "reason": f"is over {max_bytes} bytes (SUPPLYBRIDGE_INTAKE_MAX_FILE_BYTES)"}
            )
        else:
            contents.append((path, data))
    if errors:
        return print_error(f"{len(errors)} file(s) cannot be taken in; nothing was sent", as_json,
                           code=ExitCode.BAD_INPUT, errors=errors)  # fmt: skip
    return contents


def report_intake(answers: list[dict[str, Any]], as_json: bool, source: StoreSource) -> int:
    """Each file's result; exit 1 if one is still processing, else 3 if one was refused or had a
    record dead-lettered, else 0."""
    pending = [a["file"] for a in answers if a["status"] == "processing"]
    rejected = [a["file"] for a in answers if a.get("refused") or a.get("dead_letters")]
    code = ExitCode.PLATFORM_ERROR if pending else ExitCode.REJECTED if rejected else ExitCode.OK
    error = (f"still processing after the wait: {', '.join(pending)}" if pending
             else f"refused or with dead letters: {', '.join(rejected)}" if rejected else None)  # fmt: skip
    if as_json:
        print_json({"ok": code == ExitCode.OK, **({"error": error} if error else {}), **store_fields(source),
                    "files": answers})  # fmt: skip
        return code
    for answer in answers:
        print_intake_text(answer)
    if error:
        print_line(error, style="red", stderr=True)
    return code


def print_intake_text(answer: dict[str, Any]) -> None:
    print_field("file", answer["file"])
    if answer["status"] == "processing":
        print_field("status", f"still processing: `supplybridge status {answer['workflow_id']}` follows it")
        return
    print_field("file id", answer["file_id"])
    print_field("kind", answer["kind"])
    for label in ("refused", "duplicate_of"):
        if answer.get(label):
            print_field(label.replace("_", " "), str(answer[label]), style="red" if label == "refused" else "")
    for record in answer["records"]:
        outcome = record["outcome"] + (f" #{record['dead_letter_id']}" if record.get("dead_letter_id") else "")
        target = record.get("workflow_id") or record.get("reason") or ""
        console.print(f"  {record['position']}  {record['kind']}  {record.get('key') or '-'}  {outcome}  {target}",
                      soft_wrap=True, markup=False, highlight=False)  # fmt: skip
    if answer.get("acknowledgements"):
        print_field("acknowledgements", ", ".join(answer["acknowledgements"]))
