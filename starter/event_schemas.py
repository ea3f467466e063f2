"""`python -m starter.event_schemas`: (re)write schemas/events/ from the event catalog
(domain/event_catalog.py): one `<type>.json` per event type (the JSON Schema of its CloudEvent)
and `index.json` (every type, its description and its schema's URL). `--check` writes nothing and
exits 1 naming the files that are not what the catalog gives (tests/unit/test_event_catalog.py
compares the same way).

Decisions:
- The files' `$id`s use a fixed base, `SCHEMA_BASE` (https://supplybridge.dev/schemas/events):
  an identifier, the same in every checkout, so the files change only when a schema does. It is
  not where a deployment serves them: the API serves the same schemas under its own URL
  (`GET /v1/events/schemas/<type>`, with `$id` `<API URL>/v1/events/schemas/<type>`), which is
  what an event's `dataschema` names.
- Sorted keys, 2-space indent, UTF-8 (the masked-value pattern keeps its `•`), a trailing
  newline: stable text, readable diffs. A file for a type no longer in the catalog is removed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from domain.event_catalog import EVENT_TYPES, catalog_index, cloud_event_schema

SCHEMA_BASE = "https://supplybridge.dev/schemas/events"
DIRECTORY = Path(__file__).resolve().parents[1] / "schemas" / "events"
INDEX = "index.json"
COMMAND = "python -m starter.event_schemas"


def _text(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered(schema_base: str = SCHEMA_BASE) -> dict[str, str]:
    """File name -> the text the catalog gives it."""
    files = {f"{name}.json": _text(cloud_event_schema(name, schema_base=schema_base)) for name in sorted(EVENT_TYPES)}
    files[INDEX] = _text(catalog_index(schema_base).model_dump(mode="json"))
    return files


def differences(directory: Path = DIRECTORY) -> list[str]:
    """The files of `directory` that are missing, differ from the catalog, or are not in it."""
    expected = rendered()
    found = {path.name: path for path in directory.glob("*.json")} if directory.is_dir() else {}
    changed = [
        name for name, text in expected.items() if name not in found or found[name].read_text(encoding="utf-8") != text
    ]
    return sorted(changed + [name for name in found if name not in expected])


def write(directory: Path = DIRECTORY) -> list[str]:
    """Write what differs and remove what the catalog no longer has; the names touched."""
    touched = differences(directory)
    expected = rendered()
    directory.mkdir(parents=True, exist_ok=True)
    for name in touched:
        path = directory / name
        if name in expected:
            path.write_text(expected[name], encoding="utf-8")
        else:
            path.unlink()
    return touched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is not up to date")
    parser.add_argument("--directory", type=Path, default=DIRECTORY, help=f"default: {DIRECTORY}")
    args = parser.parse_args(argv)
    if args.check:
        stale = differences(args.directory)
        for name in stale:
            print(f"{args.directory / name}: not what the event catalog gives; run {COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    touched = write(args.directory)
    print(f"{len(EVENT_TYPES)} event types; {len(touched)} file(s) written or removed in {args.directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
