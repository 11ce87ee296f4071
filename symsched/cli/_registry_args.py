"""Command-line views of the three registries: schedule methods, samplers and export formats.

Every flag, choice list and help text here is generated from the registries' typed option
classes, so a new method, sampler knob or format option appears on the command line without a
change to the commands; an option the chosen method, sampler or format does not take is an error
that names the flag and the valid ones.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from typing import Any

from symsched._budget import check_memory
from symsched._options import (
    OptionField,
    add_options,
    flag_of,
    option_fields,
    options_from_namespace,
)
from symsched._typing import FloatArray
from symsched._validate import check_steps
from symsched.cli._common import CliError, OneLineParser, spectrum_from_text
from symsched.export import EXPORTERS, FORMATS
from symsched.samplers import SAMPLERS, Sampler, sampler_names
from symsched.schedules import Method, Schedule, get_method

__all__ = [
    "add_export_options",
    "add_sampler_options",
    "build_from_args",
    "export_kwargs",
    "flagify",
    "method_export_kwargs",
    "method_of",
    "method_parser",
    "parse_method_argv",
    "sampler_knobs",
    "sampler_of",
    "spectrum_flag",
    "unknown_method_option",
]


def flagify(message: str, fields: Sequence[OptionField]) -> str:
    """``message`` with the API names of ``fields`` replaced by their flags (``sigma_min`` ->
    ``--sigma-min``), so that an error names the flag the user typed. A message that already
    names a flag (``--model ...``, written for the command line) is left as it is."""
    if re.search(r"(?<![\w-])--[a-z]", message):
        return message
    for f in sorted(fields, key=lambda f: -len(f.name)):
        if len(f.name) <= 2:  # a one-letter name only where it is clearly the subject
            pat = rf"(?<![\w-]){re.escape(f.name)}(?=( must| is | =| and| or|,|\)))"
        else:
            pat = rf"(?<![\w-]){re.escape(f.name)}(?![\w'])"
        flag = "--eigenvalues" if f.kind == "spectrum" else f.flag
        message = re.sub(pat, flag, message)
    return message


def spectrum_flag(args: argparse.Namespace) -> str:
    """The spectrum flag the user typed: ``--spectrum-file`` or ``--eigenvalues``."""
    ns = vars(args)
    if ns.get("spectrum_file") is not None or "eigenvalues__file" in ns:
        return "--spectrum-file"
    return "--eigenvalues"


def _spectrum(flag: str, text: str) -> FloatArray:
    return spectrum_from_text(flag, text)


# --- schedule methods -------------------------------------------------------------------------


def method_parser(method: Method[Any], prog: str, *, skip: Sequence[str] = ()) -> OneLineParser:
    """A parser of ``method``'s own options only (``kl --schedule METHOD`` parses the rest)."""
    p = OneLineParser(prog=prog, add_help=False, allow_abbrev=False)
    add_options(p, method.options, skip=skip)
    return p


def parse_method_argv(
    method: Method[Any], argv: Sequence[str], *, prog: str, skip: Sequence[str] = ()
) -> argparse.Namespace:
    """Parse ``argv`` as options of ``method``; anything else is an error naming the method."""
    ns, rest = method_parser(method, prog, skip=skip).parse_known_args(list(argv))
    if rest:
        raise CliError(unknown_method_option(method, rest, skip=skip))
    return ns


def unknown_method_option(
    method: Method[Any], extra: Sequence[str], *, skip: Sequence[str] = ()
) -> str:
    """The one-line refusal of arguments ``method`` does not take, listing the options it does."""
    takes = [
        "--eigenvalues/--spectrum-file" if f.kind == "spectrum" else f.flag
        for f in option_fields(method.options)
        if f.name not in skip
    ]
    flag = next((a for a in extra if a.startswith("-")), extra[0])
    return (
        f"{flag}: method {method.name} does not take it; its options are "
        f"{', '.join(takes) if takes else 'none'} (see symsched schedule {method.name} --help)"
    )


def build_from_args(
    method: Method[Any],
    steps: int,
    args: argparse.Namespace,
    *,
    extra: Mapping[str, object] | None = None,
    typed_spectrum: str | None = None,
) -> Schedule:
    """Build ``method``'s grid from parsed flags (plus ``extra`` keywords the command supplies).

    The grid's memory estimate is checked against the budget first; ``typed_spectrum`` is the
    spectrum flag the user typed when the command owns the spectrum (``kl --spectrum-file``).
    """
    kwargs = options_from_namespace(method.options, args, spectrum=_spectrum, extra=extra)
    fields = option_fields(method.options)
    try:
        check_steps(steps, "steps")
        options = method.make_options(**kwargs)
    except (ValueError, TypeError) as exc:
        raise CliError(flagify(str(exc).replace("steps", "--steps", 1), fields)) from None
    nbytes, driver = method.memory_estimate(steps, options)
    if driver == "steps":
        flag = "--steps"
    elif driver == "eigenvalues":
        flag = typed_spectrum or spectrum_flag(args)
    else:
        flag = flag_of(method.options, driver)
    check_memory(nbytes, flag=flag, what=f"{method.name} with {steps} steps")
    try:
        return method.build_with(steps, options)
    except (ValueError, TypeError) as exc:
        raise CliError(flagify(str(exc), fields)) from None


# --- samplers ---------------------------------------------------------------------------------


def _knob_fields() -> dict[str, tuple[OptionField, list[str]]]:
    """Every knob flag of every sampler -> (field, the samplers that take it)."""
    out: dict[str, tuple[OptionField, list[str]]] = {}
    for name, s in SAMPLERS.items():
        for f in option_fields(s.knobs):
            out.setdefault(f.flag, (f, []))[1].append(name)
    return out


def add_sampler_options(
    p: argparse.ArgumentParser, *, multiple: bool = False, default: str = "ddim"
) -> None:
    """``--sampler`` (one, or a comma-separated list) and every sampler's knob flags."""
    names = sampler_names()
    if multiple:
        p.add_argument(
            "--sampler",
            default=default,
            metavar="S1,S2,...",
            help=f"samplers, comma-separated: {', '.join(names)}",
        )
    else:
        descr = "; ".join(f"{n}: {SAMPLERS[n].summary}" for n in names)
        p.add_argument("--sampler", default=default, choices=names, help=f"sampler ({descr})")
    for flag, (f, owners) in _knob_fields().items():
        kw: dict[str, Any] = {"dest": f"knob_{f.name}", "default": argparse.SUPPRESS}
        if f.kind == "choice":
            kw["choices"] = f.choices
        else:
            kw["type"] = float if f.kind == "float" else int if f.kind == "int" else str
            kw["metavar"] = f.info.metavar or f.name.upper()
        p.add_argument(flag, help=f"{', '.join(owners)}: {f.info.help} (default {f.default})", **kw)


def sampler_knobs(
    args: argparse.Namespace, samplers: Sequence[str]
) -> dict[str, dict[str, object]]:
    """The knobs the user gave, per sampler; a knob none of ``samplers`` takes is an error."""
    given = {
        f: getattr(args, f"knob_{fld.name}")
        for f, (fld, _) in _knob_fields().items()
        if getattr(args, f"knob_{fld.name}", None) is not None
    }
    out: dict[str, dict[str, object]] = {s: {} for s in samplers}
    for flag, value in given.items():
        fld, owners = _knob_fields()[flag]
        users = [s for s in samplers if s in owners]
        if not users:
            raise CliError(
                f"{flag} goes with --sampler {' or '.join(owners)}, not {','.join(samplers)}"
            )
        for s in users:
            out[s][fld.name] = value
    for s in samplers:
        try:
            SAMPLERS[s].make_knobs(**out[s])
        except (ValueError, TypeError) as exc:
            raise CliError(flagify(str(exc), option_fields(SAMPLERS[s].knobs))) from None
    return out


def sampler_of(name: str) -> Sampler:
    """The sampler ``name`` (``CliError`` naming ``--sampler`` otherwise)."""
    if name not in SAMPLERS or SAMPLERS[name].oracle_only:
        raise CliError(f"--sampler must be one of {', '.join(sampler_names())}, got {name!r}")
    return SAMPLERS[name]


# --- export formats ---------------------------------------------------------------------------


def _format_fields() -> dict[str, tuple[OptionField, list[str]]]:
    out: dict[str, tuple[OptionField, list[str]]] = {}
    for name in FORMATS:
        for f in option_fields(EXPORTERS[name].options):
            out.setdefault(f.flag, (f, []))[1].append(name)
    return out


def add_export_options(
    p: argparse.ArgumentParser | argparse._ArgumentGroup,
    options: argparse.ArgumentParser | argparse._ArgumentGroup | None = None,
    *,
    skip: frozenset[str] = frozenset(),
) -> None:
    """``--format`` (on ``p``) and every format's option flags (on ``options``, default ``p``);
    a format option given with another format is refused by :func:`export_kwargs`. Flags in
    ``skip`` are the method's own (``schedule flow --shift``): the format takes the schedule's
    value of that option instead (:func:`method_export_kwargs`)."""
    descr = "; ".join(f"{n}: {EXPORTERS[n].summary}" for n in FORMATS)
    p.add_argument("--format", choices=FORMATS, help=f"export format ({descr})")
    target = p if options is None else options
    for flag, (f, owners) in _format_fields().items():
        if flag in skip:
            continue
        kw: dict[str, Any] = {"dest": f"fmt_{f.name}", "default": argparse.SUPPRESS}
        if f.kind == "choice":
            kw["choices"] = f.choices
        else:
            kw["type"] = float if f.kind == "float" else int if f.kind == "int" else str
            kw["metavar"] = f.info.metavar or f.name.upper()
        target.add_argument(
            flag, help=f"{', '.join(owners)}: {f.info.help} (default {f.default})", **kw
        )


def export_kwargs(args: argparse.Namespace, fmt: str | None) -> dict[str, object]:
    """The options of format ``fmt`` the user gave; another format's option is an error."""
    out: dict[str, object] = {}
    for flag, (f, owners) in _format_fields().items():
        value = getattr(args, f"fmt_{f.name}", None)
        if value is None:
            continue
        if fmt not in owners:
            raise CliError(
                f"{flag} goes with --format {' or '.join(owners)}" + (f", not {fmt}" if fmt else "")
            )
        out[f.name] = value
    return out


def method_export_kwargs(
    method: Method[Any], schedule: Schedule, fmt: str | None
) -> dict[str, object]:
    """Options of format ``fmt`` that ``method`` owns under the same flag (``schedule flow
    --shift``): the format gets the schedule's value (its ``params``), so that the scheduler is
    configured with the shift the grid was built with."""
    if fmt is None:
        return {}
    own = {f.flag for f in option_fields(method.options)}
    out: dict[str, object] = {}
    for f in option_fields(EXPORTERS[fmt].options):
        if f.flag in own and f.name in schedule.params:
            out[f.name] = schedule.params[f.name]
    return out


def method_of(name: str) -> Method[Any]:
    """The method ``name`` (``CliError`` listing the valid ones otherwise)."""
    try:
        return get_method(name)
    except ValueError as exc:
        raise CliError(str(exc)) from None
