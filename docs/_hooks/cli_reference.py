"""MkDocs hook: the command-line reference page (``reference/cli.md``), generated from the parser.

The page is written at build time from ``symsched.cli.build_parser()``, the parser the ``symsched``
command itself runs: the core's subcommands and those contributed through the
``symsched.commands`` entry points (``verify``), each nested subcommand (``schedule METHOD``,
``schedule builtin``) included. For each command: its usage, its description, a table per option
group (flags, default, help) and its example. Nothing is typed in by hand, so the page cannot drift
from ``--help``; the guide-style page ``cli.md`` explains the contract around it.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from typing import Any

from mkdocs.structure.files import File, Files

PAGE = "reference/cli.md"
WIDTH = "100"
_ESCAPE = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]$|<>&#"})
_DOCS_REF = re.compile(r"docs/([a-z0-9_/-]+\.md)(#[a-z0-9_-]+)?")


def _text(text: str) -> str:
    """Help text as literal Markdown, its ``docs/PAGE.md#anchor`` references made links."""
    out: list[str] = []
    pos = 0
    for m in _DOCS_REF.finditer(text):
        out.append(text[pos : m.start()].translate(_ESCAPE))
        out.append(f"[{m.group(0).translate(_ESCAPE)}](../{m.group(1)}{m.group(2) or ''})")
        pos = m.end()
    out.append(text[pos:].translate(_ESCAPE))
    return " ".join("".join(out).split())


def _code(text: str) -> str:
    """``text`` as inline code, every Markdown and table character as an entity."""
    return f"<code>{text.translate(_ESCAPE)}</code>"


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every subcommand under ``parser``, depth first: ``(path, parser, one-line help)``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, helps.get(name, "")
                yield from commands(sub, (*path, name))


def anchor(path: tuple[str, ...]) -> str:
    return "-".join(path)


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, [], ()):
        return ""
    return _code(str(action.default))


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    plain = argparse.HelpFormatter(parser.prog, width=int(WIDTH))
    out: list[str] = []
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)
        ]
        if not actions:
            continue
        out += ["", f"**{_text(group.title or 'options')}**", ""]
        out += ["| option | default | description |", "|---|---|---|"]
        for a in actions:
            flags = plain._format_action_invocation(a)
            help_text = plain._expand_help(a) if a.help else ""
            if a.required:
                help_text = f"(required) {help_text}"
            if a.choices is not None and not a.option_strings:
                help_text = f"{help_text} (one of: {', '.join(map(str, a.choices))})"
            out.append(f"| {_code(flags)} | {_default(a)} | {_text(help_text)} |")
    return out


def _section(
    path: tuple[str, ...], parser: argparse.ArgumentParser, summary: str, level: int
) -> list[str]:
    title = " ".join(("symsched", *path))
    out = ["", f"{'#' * level} `{title}` {{#{anchor(path)}}}", ""]
    if summary:
        out += [_text(summary), ""]
    out += ["```text", parser.format_usage().strip(), "```", ""]
    if parser.description and parser.description != summary:
        out += [_text(parser.description), ""]
    subs = [p for p, _, _ in commands(parser) if len(p) == len(path) + 1]
    if subs:
        links = ", ".join(f"[`{p[-1]}`](#{anchor(p)})" for p in subs)
        out += [f"Subcommands: {links}.", ""]
    out += _option_rows(parser)
    if parser.epilog:
        out += ["", "```bash", parser.epilog.removeprefix("example:").strip(), "```"]
    return out


def render() -> str:
    """The Markdown of the reference page."""
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH  # argparse wraps usage lines at the terminal's width
    try:
        from symsched.cli import build_parser

        parser = build_parser()
        found = list(commands(parser))
        lines = [
            "# Command-line reference",
            "",
            "Generated when the site is built from the parser of the `symsched` command "
            "(`symsched.cli.build_parser()`), so it says exactly what `symsched COMMAND --help` "
            "says. The contract behind the options (exit status, output safety, size guards, "
            "input range, JSON fields) is in the [command-line guide](../cli.md).",
            "",
            "```text",
            parser.format_usage().strip(),
            "```",
        ]
        lines += _option_rows(parser)
        lines += ["", "Commands:", ""]
        for path, _, summary in found:
            indent = "    " * (len(path) - 1)
            lines.append(f"{indent}- [`{' '.join(path)}`](#{anchor(path)}): {_text(summary)}")
        for path, sub, summary in found:
            lines += _section(path, sub, summary, level=min(1 + len(path), 6))
        return "\n".join(lines) + "\n"
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    files.append(File.generated(config, PAGE, content=render()))
    return files
