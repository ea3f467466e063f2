"""`supplybridge edi inspect FILE...` (mounted by starter/cli.py as the `edi` group): what the X12
reader and its envelope checks see in files, without starting anything or talking to any system.

Decisions:
- `ok` is the command's own success: every file could be read. A broken envelope is not a
  failure of the command, it is what it reports: `valid: false` with the errors, exit 0, so the
  command can be run over a folder of files and every file is reported. `--strict` makes a file
  that is not valid exit 3 (the input is refused), for scripts that want a gate.
- A file that cannot be read (missing, a directory, no permission) is exit 2 with `ok: false`,
  an `error` and `errors: [{field: the path, reason}]`; the files that could be read are still
  reported under `files`.
- Files are read in chunks and streamed through the reader: a large file is not held whole.
- Text output is short: a line per file, per interchange and per transaction set, and a line per
  error under what it belongs to.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from domain.x12.summary import ErrorView, FileSummary, InterchangeView, summarize
from starter.cli_common import JsonOpt, command_group
from starter.output import ExitCode, print_error, print_json, print_line

edi_app = command_group("X12 EDI files: see what the reader finds in them.")
CHUNK_BYTES = 1 << 16
_SHOWN = {"\n": "\\n", "\r": "\\r", "\r\n": "\\r\\n", " ": "' '", "\t": "\\t"}


class UnreadableFile(Exception):
    """A file that cannot be opened or read; the message names the reason."""


def _chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as file:
            while chunk := file.read(CHUNK_BYTES):
                yield chunk
    except FileNotFoundError:
        raise UnreadableFile("no such file") from None
    except IsADirectoryError:
        raise UnreadableFile("is a directory; give the path of an X12 file") from None
    except PermissionError:
        raise UnreadableFile("cannot be read: permission denied") from None
    except OSError as error:
        raise UnreadableFile(f"cannot be read: {error.strerror or error}") from None


def _shown(delimiter: str) -> str:
    return _SHOWN.get(delimiter, delimiter)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _error_line(error: ErrorView, indent: str) -> str:
    where = f" at segment {error.position}" if error.position is not None else ""
    tag = f" ({error.tag})" if error.tag else ""
    return f"{indent}! {error.level} {error.code}{where}{tag}: {error.message}"


def _interchange_lines(interchange: InterchangeView) -> Iterator[str]:
    if not interchange.enveloped:
        yield f"  outside any interchange, from segment {interchange.position}"
    else:
        d = interchange.delimiters
        repetition = f" repetition {_shown(d.repetition)}" if d.repetition else ""
        yield (
            f"  interchange {interchange.control_number} {interchange.sender.qualifier}/{interchange.sender.id}"
            f" -> {interchange.receiver.qualifier}/{interchange.receiver.id}, version {interchange.version},"
            f" element {_shown(d.element)} component {_shown(d.component)}{repetition} segment {_shown(d.segment)}"
            + (f", {_plural(interchange.ta1_segments, 'TA1 segment')}" if interchange.ta1_segments else "")
        )
    for group in interchange.groups:
        for ts in group.transactions:
            yield (
                f"    {ts.code} {ts.control_number}: {_plural(ts.segments, 'segment')}, group {group.functional_id}"
                f" {group.control_number}, at segment {ts.position}{'' if ts.valid else ', NOT VALID'}"
            )
            yield from (_error_line(error, "      ") for error in ts.errors)
        yield from (_error_line(error, "    ") for error in group.errors)
    yield from (_error_line(error, "    ") for error in interchange.errors)


def _print_text(path: Path, summary: FileSummary) -> None:
    verdict = "valid" if summary.valid else f"NOT VALID ({_plural(len(summary.errors), 'error')})"
    enveloped = [i for i in summary.interchanges if i.enveloped]
    counts = (
        f"{_plural(len(enveloped), 'interchange')}, {_plural(summary.groups, 'group')},"
        f" {_plural(summary.transaction_sets, 'transaction set')}"
    )
    print_line(f"{path}: {verdict}; {counts}", style="" if summary.valid else "red")
    for interchange in summary.interchanges:
        for line in _interchange_lines(interchange):
            print_line(line)


@edi_app.command("inspect")
def inspect(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="X12 files to read.")],
    strict: Annotated[bool, typer.Option("--strict", help="Exit 3 when a file read is not valid.")] = False,
    as_json: JsonOpt = False,
) -> int:
    """What the X12 reader sees in each FILE, without starting anything: the delimiters,
    interchanges (sender, receiver, version, control number), functional groups, transaction sets
    (code, control number, segment count) and every envelope error with its level, standard code
    (TA1 note, AK9 or AK5 code), message and segment position.

    Exit 0 when every file could be read, broken or not: "valid" says whether its envelopes are
    sound. Exit 2 when a file cannot be read. With --strict, exit 3 when a file is not valid."""
    reports: list[dict[str, Any]] = []
    unreadable: list[dict[str, str]] = []
    for path in files:
        try:
            summary = summarize(_chunks(path))
        except UnreadableFile as error:
            unreadable.append({"field": str(path), "reason": str(error)})
            continue
        reports.append({"file": str(path), **summary.model_dump(mode="json")})
        if not as_json:
            _print_text(path, summary)
    valid = all(report["valid"] for report in reports)
    if unreadable:
        message = "; ".join(f"{item['field']}: {item['reason']}" for item in unreadable)
        extra: dict[str, Any] = {"errors": unreadable}
        if as_json:
            extra.update(valid=valid, files=reports)
        return print_error(message, as_json, code=ExitCode.BAD_INPUT, **extra)
    if strict and not valid:
        broken = sum(1 for report in reports if not report["valid"])
        message = f"{broken} of {_plural(len(files), 'file')} not valid"
        return print_error(
            message, as_json, code=ExitCode.REJECTED, **({"valid": False, "files": reports} if as_json else {})
        )
    if as_json:
        print_json({"ok": True, "valid": valid, "files": reports})
    return ExitCode.OK
