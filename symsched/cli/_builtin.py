"""``symsched schedule builtin --name TOOL:NAME --steps N``: another tool's built-in schedule,
reproduced exactly (docs/cli.md#schedule-builtin, docs/conformance.md).

``--set key=value`` sets one of the tool's own arguments (repeatable), ``--config F`` reads a
diffusers ``scheduler_config.json``; ``--list`` lists the built-ins, ``--list --name TOOL:NAME``
the options of one. The same arguments select a built-in for ``symsched score --builtin``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from symsched._options import cli_int, option_fields
from symsched.cli._common import CliError, dumps_json, write_output

__all__ = ["add_builtin_args", "add_builtin_parser", "builtin_grid_from_args"]


def add_builtin_args(
    p: argparse.ArgumentParser | argparse._ArgumentGroup, *, name_flag: str
) -> None:
    """The ``--set`` and ``--config`` options (the name flag is added by the caller)."""
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="builtin_set",
        help=f"one of the tool's own arguments for {name_flag} (repeatable), e.g. "
        "--set use_karras_sigmas=true; 'symsched schedule builtin --list --name NAME' lists them",
    )
    p.add_argument(
        "--config",
        metavar="F",
        dest="builtin_config",
        help="a diffusers scheduler_config.json whose arguments the scheduler takes (keys the "
        "scheduler does not take are ignored, as from_config ignores them); --set overrides it",
    )


def add_builtin_parser(methods: argparse._SubParsersAction[Any]) -> None:
    """Add ``schedule builtin`` beside the method sub-commands."""
    p = methods.add_parser(
        "builtin",
        help="another tool's built-in schedule (diffusers, k-diffusion, ComfyUI, A1111), exactly",
        description="Reproduce a schedule another tool ships, exactly as that tool computes it: "
        "tool_sigmas (the array its sampler iterates, in its own units and dtype), "
        "tool_timesteps, and sigmas (the same grid in symsched's convention). "
        "'--list' lists the names; '--list --name NAME' one built-in's options and provenance "
        "(docs/conformance.md).",
        epilog="example: symsched schedule builtin --name diffusers:euler --steps 20 "
        "--set use_karras_sigmas=true --json",
    )
    p.add_argument("--name", metavar="TOOL:NAME", help="the built-in, e.g. comfyui:simple")
    p.add_argument("--steps", type=cli_int, metavar="N", help="inference steps asked of the tool")
    p.add_argument("--list", action="store_true", help="list the built-ins (or NAME's options)")
    add_builtin_args(p, name_flag="--name")
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print the full object as JSON")
    out.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    out.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=run)


def builtin_grid_from_args(
    name: str | None,
    steps: int | None,
    args: argparse.Namespace,
    *,
    name_flag: str,
    config_flag: str = "--config",
) -> Any:
    """The :class:`~symsched.builtin.BuiltinGrid` the arguments select (errors name the flag).

    Raises
    ------
    CliError
        On an unknown name, a missing ``--steps``, a bad ``--set`` item or ``--config`` file, an
        option the tool does not have, or a configuration the tool itself refuses.
    """
    from symsched.builtin import MAX_BUILTIN_STEPS, get_builtin, parse_set
    from symsched.builtin.config import builtin_for_config, options_from_config, read_config

    config = None
    if args.builtin_config is not None:
        try:
            config = read_config(args.builtin_config)
        except ValueError as exc:
            raise CliError(f"{config_flag}: {exc}") from None
    try:
        if name is None and config is not None:
            b = builtin_for_config(config)
        elif name is None:
            raise CliError(f"{name_flag} is required: a built-in TOOL:NAME, e.g. comfyui:simple")
        elif config is not None:
            b = builtin_for_config(config, name)
        else:
            b = get_builtin(name)
    except ValueError as exc:
        raise CliError(f"{name_flag if name is not None else config_flag}: {exc}") from None
    if steps is None:
        raise CliError(f"--steps is required with {name_flag} (the inference steps asked of it)")
    if not 1 <= steps <= MAX_BUILTIN_STEPS:
        raise CliError(f"--steps must be in [1, {MAX_BUILTIN_STEPS}], got {steps}")
    values: dict[str, object] = {}
    ignored: list[str] = []
    if config is not None:
        try:
            values, ignored = options_from_config(b, config)
        except ValueError as exc:
            raise CliError(f"{config_flag}: {exc}") from None
    try:
        values |= parse_set(b.options, args.builtin_set, owner=b.name)
    except ValueError as exc:
        raise CliError(f"--set: {exc}") from None
    unset = {k for k, v in values.items() if v is None}
    try:
        opts = b.make_options(**{k: v for k, v in values.items() if k not in unset})
        if unset:  # key=none sets an optional option to None (make_options drops Nones)
            opts = dataclasses.replace(opts, **dict.fromkeys(unset))
        grid = b.builder(steps, opts)
    except (ValueError, TypeError) as exc:
        flag = config_flag if config is not None and not args.builtin_set else "--set"
        raise CliError(f"{b.name}: {exc} ({flag})") from None
    if ignored:
        grid = dataclasses.replace(grid, params={**grid.params, "config_keys_ignored": ignored})
    return grid


def grid_json(grid: Any, provenance: dict[str, str]) -> dict[str, object]:
    """The JSON object of ``schedule builtin --json`` (docs/cli.md#schedule-builtin)."""
    from symsched._version import __version__

    return {
        "name": grid.name,
        "steps": grid.steps,
        "executed_steps": grid.executed_steps,
        "units": grid.units,
        "tool_dtype": str(grid.tool_sigmas.dtype),
        "tool_sigmas": grid.tool_sigmas,
        "tool_timesteps": grid.tool_timesteps,
        "sigmas": grid.sigmas,
        "params": grid.params,
        "notes": list(grid.notes),
        "provenance": provenance,
        "symsched_version": __version__,
    }


def _listing(name: str | None) -> str:
    from symsched.builtin import BUILTINS, TOOLS, builtin_names, get_builtin

    if name is None:
        lines = []
        for tool in TOOLS:
            lines.append(f"{tool}:")
            for n in builtin_names(tool):
                lines.append(f"  {n:<34} {BUILTINS[n].summary}")
        return "\n".join(lines)
    b = get_builtin(name)
    pv = b.provenance
    lines = [
        f"{b.name}: {b.summary}",
        f"  source: {pv.repository} {pv.path} ({pv.symbol}), {pv.revision}",
        "  options (--set KEY=VALUE):",
    ]
    for f in option_fields(b.options):
        choice = f" {{{', '.join(f.choices)}}}" if f.choices else ""
        lines.append(f"    {f.name}={f.default!r}{choice}  {f.info.help}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Build the built-in and print it (levels, or ``--json``), or list the built-ins."""
    if args.list:
        try:
            text = _listing(args.name)
        except ValueError as exc:
            raise CliError(f"--name: {exc}") from None
        write_output(text, args.output, force=args.force)
        return 0
    grid = builtin_grid_from_args(args.name, args.steps, args, name_flag="--name")
    from symsched.builtin import get_builtin

    prov = get_builtin(grid.name).provenance.as_dict()
    if args.json:
        write_output(dumps_json(grid_json(grid, prov)), args.output, force=args.force)
        return 0
    lines = [
        f"# {grid.name}: {grid.steps} steps asked, {grid.executed_steps} executed; "
        f"tool_sigmas ({grid.units}, {grid.tool_sigmas.dtype}) then symsched sigmas",
    ]
    lines += [f"# note: {n}" for n in grid.notes]
    lines.append("tool_sigmas: " + ", ".join(repr(float(v)) for v in grid.tool_sigmas))
    if grid.tool_timesteps is not None:
        lines.append("tool_timesteps: " + ", ".join(repr(v.item()) for v in grid.tool_timesteps))
    lines.append("sigmas: " + ", ".join(repr(float(v)) for v in grid.sigmas))
    write_output("\n".join(lines), args.output, force=args.force)
    if grid.notes:
        print(f"{grid.name}: " + " ".join(grid.notes), file=sys.stderr)
    return 0
