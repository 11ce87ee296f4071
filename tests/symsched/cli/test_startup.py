"""The command line builds only the parser of the command it runs, and the same one."""

from __future__ import annotations

import argparse

import pytest

from symsched.cli import _command_of, build_parser


def _sub(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices[name]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "argv, command",
    [
        (["kl", "--steps", "1"], "kl"),
        (["--debug", "schedule", "karras"], "schedule"),
        (["--max-memory", "1G", "kl"], "kl"),
        (["--max-memory=1G", "steps-for"], "steps-for"),
        (["--help"], None),
        (["--version"], None),
        ([], None),
    ],
)
def test_command_of(argv: list[str], command: str | None) -> None:
    assert _command_of(argv) == command


@pytest.mark.parametrize("command", ["kl", "schedule", "steps-for", "verify"])
def test_one_command_parser_is_the_full_parsers_subparser(command: str) -> None:
    full, own = build_parser(), build_parser(command)
    assert _sub(own, command).format_help() == _sub(full, command).format_help()


def test_an_unknown_command_gets_every_command_in_its_error() -> None:
    parser = build_parser("nosuch")
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert {"kl", "schedule", "verify"} <= set(action.choices)
