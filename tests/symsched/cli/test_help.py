"""Every option of every command (nested ones such as ``schedule builtin``, and the entry-point
commands such as ``verify``) is documented, and its default is stated at most once."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from symsched.cli import build_parser

DEFAULT = re.compile(r"\bdefaults?\b", re.IGNORECASE)


def parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ("symsched",)
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """``parser`` and every sub-parser below it, recursively, with its command line."""
    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*path, name))


ALL = dict(parsers(build_parser()))


def option_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help of one option as ``--help`` prints it (the parser's formatter, defaults added)."""
    fmt = parser._get_formatter()
    fmt.add_argument(action)
    return fmt.format_help()


def test_the_walk_reaches_nested_and_entry_point_commands() -> None:
    for command in ("symsched derive", "symsched schedule karras", "symsched schedule builtin"):
        assert command in ALL
    assert "symsched verify" in ALL  # contributed through the symsched.commands entry point


@pytest.mark.parametrize("command", sorted(ALL))
def test_every_option_has_help_and_one_default_at_most(command: str) -> None:
    parser = ALL[command]
    problems = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.metavar or action.dest
        if not (isinstance(action.help, str) and action.help.strip()):
            problems.append(f"{name}: no help")
            continue
        if isinstance(action, argparse._SubParsersAction):
            problems += [
                f"{name} {choice.dest}: no help"
                for choice in action._get_subactions()
                if not (choice.help or "").strip()
            ]
        text = option_help(parser, action)
        if len(DEFAULT.findall(text)) > 1:
            problems.append(f"{name}: the default is stated twice: {' '.join(text.split())}")
        if "(default: None)" in text or "(default: [])" in text or "(default: False)" in text:
            problems.append(f"{name}: an empty default is shown: {' '.join(text.split())}")
    assert problems == [], command


def test_defaults_are_shown_where_the_help_does_not_state_them() -> None:
    text = " ".join(option_help(ALL["symsched verify"], a) for a in ALL["symsched verify"]._actions)
    text = " ".join(text.split())
    assert "(default: symsched-report)" in text  # --out: stated by the formatter
    assert "CI profile (minutes; default) --full" in text  # flags: no "(default: quick)"
    karras = ALL["symsched schedule karras"].format_help()
    assert "(default 7.0)" in " ".join(karras.split()) and "(default: 7.0)" not in karras
