r"""Typed option sets: one frozen dataclass per schedule method, sampler or export format.

A field declared with :func:`option` carries its help text, so the same dataclass serves the
Python API (``build("karras", 10, rho=5.0)`` builds ``KarrasOptions(rho=5.0)``) and the command
line (``symsched schedule karras --rho 5``: the flags, their types and help are generated from the
fields). A keyword or flag the dataclass does not declare is an error that lists the valid ones;
nothing is silently ignored.

Field kinds are read from the annotations: ``float``, ``int``, ``str``, ``bool`` (a switch), a
``Literal[...]`` (choices) and :data:`Spectrum` (covariance eigenvalues; on the command line the
mutually exclusive ``--eigenvalues L`` / ``--spectrum-file F``). ``X | None`` means "optional, the
owner chooses a default".
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args, get_origin

import numpy as np

from symsched._typing import FloatArray

__all__ = [
    "OptionField",
    "OptionInfo",
    "Spectrum",
    "add_options",
    "flag_of",
    "make_options",
    "option",
    "option_fields",
    "options_from_namespace",
]

Spectrum = FloatArray
"""Annotation of a spectrum option: positive eigenvalues (validated by the owner)."""

T = TypeVar("T")
Kind = Literal["float", "int", "str", "bool", "choice", "spectrum"]


@dataclass(frozen=True)
class OptionInfo:
    """What :func:`option` records about a field: help text, metavar, and an explicit flag."""

    help: str
    metavar: str | None = None
    flag: str | None = None


def option(default: T, help: str, *, metavar: str | None = None, flag: str | None = None) -> T:
    """A dataclass field with its help text (and optionally a metavar and a flag name).

    ``flag`` defaults to ``--`` plus the field name with dashes (``sigma_min`` -> ``--sigma-min``).
    """
    info = OptionInfo(help, metavar, flag)
    return typing.cast(T, dataclasses.field(default=default, metadata={"symsched": info}))


@dataclass(frozen=True)
class OptionField:
    """One option of an option set, as the command line and the error messages see it."""

    name: str
    flag: str
    kind: Kind
    default: object
    info: OptionInfo
    choices: tuple[str, ...] = ()

    @property
    def dest(self) -> str:
        """The attribute name (= the keyword of the Python API)."""
        return self.name


def _kind(tp: object) -> tuple[Kind, tuple[str, ...]]:
    args = [a for a in get_args(tp) if a is not type(None)] if _is_union(tp) else [tp]
    if len(args) != 1:
        raise TypeError(f"unsupported option annotation {tp!r}")
    (t,) = args
    if get_origin(t) is Literal:
        return "choice", tuple(str(v) for v in get_args(t))
    if t is float:
        return "float", ()
    if t is bool:
        return "bool", ()
    if t is int:
        return "int", ()
    if t is str:
        return "str", ()
    if t is Spectrum or get_origin(t) is np.ndarray:
        return "spectrum", ()
    raise TypeError(f"unsupported option annotation {tp!r}")


def _is_union(tp: object) -> bool:
    return get_origin(tp) in (typing.Union, types.UnionType)


def option_fields(cls: type[Any]) -> tuple[OptionField, ...]:
    """The options of a dataclass declared with :func:`option`, in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        info = f.metadata.get("symsched")
        if not isinstance(info, OptionInfo):
            continue
        kind, choices = _kind(hints[f.name])
        flag = info.flag or "--" + f.name.replace("_", "-")
        out.append(OptionField(f.name, flag, kind, f.default, info, choices))
    return tuple(out)


def flag_of(cls: type[Any], name: str) -> str:
    """The command-line flag of option ``name`` of ``cls`` (``--eigenvalues`` for a spectrum)."""
    for f in option_fields(cls):
        if f.name == name:
            return f.flag
    return "--" + name.replace("_", "-")


def _cli_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if math.isnan(v):
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}")
    return v


def _cli_int(text: str) -> int:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not (math.isfinite(v) and v == int(v)):
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}")
    return int(v)


def _show_default(f: OptionField) -> str:
    if f.default is None or f.kind == "bool":
        return ""
    if isinstance(f.default, float) and math.isinf(f.default):
        return " (default inf)"
    return f" (default {f.default})"


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: type[Any],
    *,
    skip: Iterable[str] = (),
    defaults: bool = False,
) -> None:
    """Add one flag per option of ``cls`` to ``parser`` (a spectrum adds two exclusive flags).

    With ``defaults=False`` (the default) every flag defaults to ``argparse.SUPPRESS``, so the
    namespace holds exactly the options the user typed (:func:`options_from_namespace`).
    """
    skipped = set(skip)
    for f in option_fields(cls):
        if f.name in skipped:
            continue
        default = f.default if defaults else argparse.SUPPRESS
        text = f.info.help + _show_default(f)
        if f.kind == "spectrum":
            group = parser.add_mutually_exclusive_group()
            group.add_argument(
                "--eigenvalues",
                dest=f.name,
                metavar="L",
                default=default,
                help=f"{text}: comma-separated eigenvalues, e.g. 0.5,1,4",
            )
            group.add_argument(
                "--spectrum-file",
                dest=f"{f.name}__file",
                metavar="F",
                default=argparse.SUPPRESS,
                help="the same from a .npy file or a text file with one eigenvalue per line",
            )
        elif f.kind == "bool":
            parser.add_argument(
                f.flag, dest=f.name, action="store_true", default=default, help=text
            )
        else:
            kw: dict[str, Any] = {"dest": f.name, "default": default, "help": text}
            if f.kind == "choice":
                kw["choices"] = f.choices
            else:
                kw["metavar"] = f.info.metavar or f.name.upper()
                kw["type"] = {"float": _cli_float, "int": _cli_int, "str": str}[f.kind]
            parser.add_argument(f.flag, **kw)


def options_from_namespace(
    cls: type[Any],
    args: argparse.Namespace,
    *,
    spectrum: Callable[[str, str], FloatArray],
    extra: Mapping[str, object] | None = None,
) -> Mapping[str, object]:
    """The options of ``cls`` the user typed, as keywords (a spectrum flag is parsed by ``spectrum``).

    ``spectrum(flag, text)`` turns ``--eigenvalues TEXT`` or ``--spectrum-file PATH`` into an array.
    ``extra`` adds keywords the command supplies itself (e.g. its own ``--eigenvalues``).
    """
    out: dict[str, object] = dict(extra or {})
    ns = vars(args)
    for f in option_fields(cls):
        if f.kind == "spectrum":
            if f.name in ns and ns[f.name] is not None:
                out[f.name] = spectrum("--eigenvalues", str(ns[f.name]))
            elif f"{f.name}__file" in ns:
                out[f.name] = spectrum("--spectrum-file", str(ns[f"{f.name}__file"]))
        elif f.name in ns:
            out[f.name] = ns[f.name]
    return out


def make_options(cls: type[T], values: Mapping[str, object], *, owner: str) -> T:
    """``cls(**values)``; a keyword ``cls`` does not declare is a ``ValueError`` listing the valid ones.

    ``None`` values mean "not given" and are dropped, so an option left at ``None`` takes the
    owner's default.
    """
    given = {k: v for k, v in values.items() if v is not None}
    fields = {f.name: f for f in option_fields(cls)}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        takes = ", ".join(fields) if fields else "no options"
        raise ValueError(f"{owner} does not take {', '.join(unknown)}; it takes {takes}")
    for name, value in given.items():
        _check_kind(fields[name], value)
    return cls(**given)


def _check_kind(f: OptionField, value: object) -> None:
    """Refuse a value of the wrong kind (a string for a number, a bool for a count ...)."""
    if f.kind == "choice":
        if value not in f.choices:
            raise ValueError(f"{f.name} must be one of {', '.join(f.choices)}; got {value!r}")
    elif f.kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{f.name} must be a real number, got {value!r}")
        if math.isnan(float(value)):
            raise ValueError(f"{f.name} must be a number, got NaN")
    elif f.kind == "int":
        if (isinstance(value, bool) or not isinstance(value, (int, np.integer))) and not (
            isinstance(value, float) and value.is_integer()
        ):
            raise TypeError(f"{f.name} must be an integer, got {value!r}")
    elif f.kind == "str":
        if not isinstance(value, str):
            raise TypeError(f"{f.name} must be a string, got {value!r}")
    elif f.kind == "bool" and not isinstance(value, bool):
        raise TypeError(f"{f.name} must be True or False, got {value!r}")
