"""Every command's --help, rendered at 80 columns, shows each option's help text whole (no
bracketed words lost to Rich markup, as "Unit received in [the line's unit]" once was) and never
points a user at the repository's internals (`shared/`, a `.py` file)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer.main
from typer.testing import CliRunner

from starter.cli import app

ROOT = typer.main.get_command(app)


def commands(command: object = ROOT, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from commands(sub, (*path, name))


EVERY_COMMAND = [path for path, _ in commands()]


def squeezed(text: str) -> str:
    """The text without whitespace: wrapping at 80 columns moves words, it must not lose any."""
    return re.sub(r"\s+", "", text)


def help_of(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_is_walked() -> None:
    assert {("po", "receive"), ("exceptions", "resolve"), ("onboard",), ("status",)} <= set(EVERY_COMMAND)


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=lambda path: " ".join(path) or "supplybridge")
def test_help_shows_every_help_text_whole_and_no_internals(path: tuple[str, ...]) -> None:
    command = dict(commands())[path]
    shown = help_of(path)
    texts = [getattr(command, "help", None) or ""]
    texts += [getattr(param, "help", None) or "" for param in getattr(command, "params", [])]
    for text in texts:
        paragraph = text.split("\n\n")[0]  # click shows the first paragraph of a long docstring as is
        assert squeezed(paragraph) in squeezed(shown), f"{' '.join(path)} --help lost text of: {paragraph!r}"
    assert "shared/" not in shown
    assert not re.search(r"\b[\w/]+\.py\b", shown), shown


def test_bracketed_words_survive_in_help() -> None:
    assert "(default: the line's unit)" in help_of(("po", "receive"))
    assert "[approve|reject|accept_variance|request_credit_memo|short_pay|order_from|dismiss]" in squeezed(
        help_of(("exceptions", "resolve"))
    )
