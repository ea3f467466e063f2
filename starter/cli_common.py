"""What every `supplybridge` command shares: its options, the settings it runs with, reading an
input file as a domain model, running its coroutine, and reporting a run it started or decided."""

from __future__ import annotations

import asyncio
import difflib
import json
import os
from collections.abc import Callable, Coroutine
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from runtime.settings import Settings, SettingsInvalid, load_settings
from runtime.temporal_client import TemporalUnavailable
from starter import operations as ops
from starter.output import ExitCode, exit_code_for, field_errors, print_error, print_view

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=Enum)
USER = os.environ.get("USER", "cli")
# How long a command that starts or decides a run waits, by default, for it to settle (to
# complete, or to wait for someone else): one default for `onboard`, `po submit`, `invoice
# submit`, `approve`, `reject` and `exceptions resolve`.
WAIT_SECONDS = 60.0

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
StateDirOpt = Annotated[
    Path | None, typer.Option("--state-dir", help="Where Temporal, the store and the sandbox keep data.")
]
WaitOpt = Annotated[
    bool, typer.Option(help="Wait until the run completes or waits for someone else (--no-wait: return at once).")
]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds to wait at most.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who acts (kept with the record).")]
MIN_REASON = 3
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept with the decision).")]
RunRefArg = Annotated[
    str,
    typer.Argument(
        metavar="RUN",
        help="A workflow id, a PO number (PO-2026-000451), an invoice key (SUP-0002-NSS-889121) or a vendor id.",
    ),
]


def command_group(help_text: str) -> typer.Typer:
    """A group of subcommands (`po`, `invoice`, ...). Help is plain text, so brackets in it (such
    as "[the line's unit]") are printed as written, never read as Rich markup."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


def choice_parser(choices: type[E]) -> Callable[[str], E]:
    """A parser for an option taking one of `choices`: a value that is not one is a usage error
    (exit 2) listing the valid values, with the closest one as a suggestion."""

    def parse(value: str | E) -> E:
        if isinstance(value, choices):
            return value
        try:
            return choices(value)
        except ValueError:
            valid = [str(choice.value) for choice in choices]
            near = difflib.get_close_matches(str(value), valid, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(valid)}{hint}") from None

    return parse


def choice_metavar(choices: type[Enum]) -> str:
    return "[" + "|".join(str(choice.value) for choice in choices) + "]"


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings from the environment, `.env`, the global options (`--address`, ...) and
    `overrides`; a value that cannot be parsed or is invalid ends the command with exit 2 and an
    error naming the variable (SUPPLYBRIDGE_...) and the reason (runtime/settings.py)."""
    values = {k: v for k, v in {**(ctx.obj or {}), **overrides}.items() if v is not None}
    try:
        return load_settings(**values)
    except SettingsInvalid as error:
        as_json = bool(ctx.params.get("as_json"))
        print_error(f"invalid setting: {error}", as_json, code=ExitCode.BAD_INPUT,
                    **({"errors": error.errors} if as_json else {}))  # fmt: skip
        raise typer.Exit(ExitCode.BAD_INPUT) from None


def run_async(main: Callable[[], Coroutine[Any, Any, int]], as_json: bool) -> int:
    """Run a command's coroutine; what went wrong becomes a clear message and its exit code."""
    try:
        return int(asyncio.run(main()))
    except TemporalUnavailable as error:
        return print_error(str(error), as_json, code=ExitCode.PLATFORM_ERROR)
    except ops.UnknownRun as error:
        return print_error(str(error), as_json, code=ExitCode.BAD_INPUT)
    except ops.DecisionRefused as error:
        return print_error(f"refused: {error}", as_json, code=ExitCode.BAD_INPUT)
    except (RuntimeError, TimeoutError, OSError) as error:
        return print_error(str(error), as_json, code=ExitCode.PLATFORM_ERROR)
    except KeyboardInterrupt:
        return ExitCode.OK


def read_document(path: Path) -> Any:
    """The JSON document in the file; `InputFileError` naming the file and why it cannot be read.

    Input files are UTF-8 JSON (RFC 8259); a byte-order mark, as some editors write, is allowed."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path} is a directory; give the path of a JSON file") from None
    except PermissionError:
        raise InputFileError(f"{path} cannot be read: permission denied") from None
    except UnicodeDecodeError as error:
        raise InputFileError(
            f"{path} is not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset {error.start}); "
            "save it as UTF-8"
        ) from None
    except OSError as error:
        raise InputFileError(f"{path} cannot be read: {error.strerror or error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"{path} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise InputFileError(f"{path} is not valid JSON: nested too deeply") from None


class InputFileError(ValueError):
    """An input file that cannot be read as JSON (the message names the file and the reason)."""


def read_model(path: Path, model: type[M], label: str, as_json: bool) -> M | ExitCode:
    """The file parsed as `model`; otherwise an error naming the file, or each field and reason
    (every problem at once), and exit 2, as for any bad input."""
    try:
        data = read_document(path)
    except InputFileError as error:
        return print_error(str(error), as_json, code=ExitCode.BAD_INPUT)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = field_errors(error)
        return print_error(
            f"{path} is not a valid {label} ({len(errors)} problem(s))", as_json, code=ExitCode.BAD_INPUT, errors=errors
        )


def finish(view: ops.RunView, as_json: bool) -> int:
    """Print a run the command started or changed: exit 1 if it failed or `--wait` ran out,
    3 if the process rejected it, 0 otherwise (`ok` says whether it is 0)."""
    code = ExitCode.PLATFORM_ERROR if view.error and view.status == "running" else exit_code_for(view)
    print_view(view, as_json, ok=code == ExitCode.OK)
    return code


def short_reason(reason: str, as_json: bool) -> int | None:
    """The exit code of a refused `--reason` (under MIN_REASON characters), else None."""
    if len(reason.strip()) >= MIN_REASON:
        return None
    return print_error(f"--reason: say why, in {MIN_REASON} characters or more", as_json, code=ExitCode.BAD_INPUT,
                       errors=[{"field": "--reason", "reason": f"at least {MIN_REASON} characters"}])  # fmt: skip
