"""What every `supplybridge` command shares: its options, the settings it runs with, reading an
input file as a domain model, running its coroutine, and reporting a run it started or decided."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer
from pydantic import BaseModel, ValidationError

from runtime.settings import Settings
from runtime.temporal_client import TemporalUnavailable
from starter import operations as ops
from starter.output import ExitCode, exit_code_for, field_errors, print_error, print_view

M = TypeVar("M", bound=BaseModel)
USER = os.environ.get("USER", "cli")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
StateDirOpt = Annotated[
    Path | None, typer.Option("--state-dir", help="Where Temporal, the store and the sandbox keep data.")
]
WaitOpt = Annotated[bool, typer.Option(help="Wait until the run completes or waits for someone else.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds to wait at most.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who acts (kept with the record).")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept with the decision).")]


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings from the environment, the global options (`--address`, ...) and `overrides`;
    a bad value is a usage error (exit 2) naming the setting."""
    values = {k: v for k, v in {**(ctx.obj or {}), **overrides}.items() if v is not None}
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(f"{e['loc'][0] if e['loc'] else ''} {e['msg']}" for e in error.errors())
        raise click.UsageError(problems) from None


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
    3 if the process rejected it, 0 otherwise."""
    print_view(view, as_json)
    if view.error and view.status == "running":
        return ExitCode.PLATFORM_ERROR
    return exit_code_for(view)
