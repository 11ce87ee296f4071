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
import functools
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar, get_args, get_origin

import numpy as np

from symsched._typing import FloatArray, OptionsClass

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "OptionField",
    "OptionInfo",
    "Spectrum",
    "add_options",
    "cli_int",
    "flag_of",
    "make_options",
    "option",
    "option_fields",
    "options_from_namespace",
]

Spectrum = FloatArray
"""Annotation of a spectrum option: positive eigenvalues (validated by the owner)."""

T = TypeVar("T")
OptionsT = TypeVar("OptionsT", bound="DataclassInstance")
Kind = Literal["float", "int", "str", "bool", "choice", "spectrum"]


@dataclass(frozen=True)
class OptionInfo:
    """What :func:`option` records about a field: help text, metavar, and an explicit flag.

    Attributes
    ----------
    help
        The help text of the flag.
    metavar
        The flag's metavar (``None``: the field name in capitals).
    flag
        The flag (``None``: ``--`` plus the field name with dashes).
    """

    help: str
    metavar: str | None = None
    flag: str | None = None


def option(default: T, help: str, *, metavar: str | None = None, flag: str | None = None) -> T:
    """A dataclass field with its help text (and optionally a metavar and a flag name).

    Parameters
    ----------
    default
        The field's default (immutable: a number, a string, ``None``).
    help
        The help text of the command-line flag.
    metavar
        The flag's metavar (default: the field name in capitals).
    flag
        The flag; defaults to ``--`` plus the field name with dashes (``sigma_min`` ->
        ``--sigma-min``).

    Returns
    -------
    T
        A :func:`dataclasses.field` carrying an :class:`OptionInfo` (typed as its default, so
        that the annotation of the field stays the value's type).
    """
    info = OptionInfo(help, metavar, flag)
    return dataclasses.field(default=default, metadata={"symsched": info})


@dataclass(frozen=True)
class OptionField:
    """One option of an option set, as the command line and the error messages see it.

    Attributes
    ----------
    name
        The field name (the keyword of the Python API).
    flag
        The command-line flag.
    kind
        ``"float"``, ``"int"``, ``"str"``, ``"bool"``, ``"choice"`` or ``"spectrum"``.
    default
        The field's default.
    info
        The :class:`OptionInfo` of the field.
    choices
        The values of a ``"choice"`` field.
    """

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


def option_fields(cls: OptionsClass) -> tuple[OptionField, ...]:
    """The options of a dataclass declared with :func:`option`, in declaration order.

    Parameters
    ----------
    cls
        The option-set dataclass.

    Returns
    -------
    tuple of OptionField
        One entry per field declared with :func:`option` (other fields are skipped).

    Raises
    ------
    TypeError
        If a field's annotation is not one of the supported kinds.
    """
    return _option_fields(cls)


@functools.cache
def _option_fields(cls: OptionsClass) -> tuple[OptionField, ...]:
    """:func:`option_fields`, once per class (resolving the annotations is the slow part)."""
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


def flag_of(cls: OptionsClass, name: str) -> str:
    """The command-line flag of option ``name`` of ``cls`` (``--eigenvalues`` for a spectrum).

    Parameters
    ----------
    cls
        The option-set dataclass.
    name
        The option (field) name.

    Returns
    -------
    str
        The declared flag, or ``--`` plus ``name`` with dashes when ``cls`` does not declare it.
    """
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


CLI_INT_MAX = 2**53
"""Largest magnitude of an integer flag: every integer up to it is exact in float64 (``1e9``
notation included), and no count the commands take is meaningful beyond it."""


def cli_int(text: str) -> int:
    """An integer flag value: ``1e9`` and ``1000`` are accepted, ``2.5``, ``nan``, ``inf`` and
    magnitudes above :data:`CLI_INT_MAX` not."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not (math.isfinite(v) and v == int(v)):
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}")
    if abs(v) > CLI_INT_MAX:
        raise argparse.ArgumentTypeError(f"must be an integer of magnitude <= 2^53, got {text!r}")
    return int(v)


_CONVERTERS: dict[str, Callable[[str], object]] = {"float": _cli_float, "int": cli_int, "str": str}


def _show_default(f: OptionField) -> str:
    if f.default is None or f.kind == "bool":
        return ""
    if isinstance(f.default, float) and math.isinf(f.default):
        return " (default inf)"
    return f" (default {f.default})"


def add_options(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    cls: OptionsClass,
    *,
    skip: Iterable[str] = (),
    defaults: bool = False,
) -> None:
    """Add one flag per option of ``cls`` to ``parser`` (a spectrum adds two exclusive flags).

    Parameters
    ----------
    parser
        The parser or argument group that receives the flags.
    cls
        The option-set dataclass.
    skip
        Option names to leave out (the command supplies them itself).
    defaults
        With ``False`` (the default) every flag defaults to ``argparse.SUPPRESS``, so the
        namespace holds exactly the options the user typed (:func:`options_from_namespace`);
        with ``True`` the fields' defaults.
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
        elif f.kind == "choice":
            parser.add_argument(f.flag, dest=f.name, default=default, help=text, choices=f.choices)
        else:
            parser.add_argument(
                f.flag,
                dest=f.name,
                default=default,
                help=text,
                metavar=f.info.metavar or f.name.upper(),
                type=_CONVERTERS[f.kind],
            )


def options_from_namespace(
    cls: OptionsClass,
    args: argparse.Namespace,
    *,
    spectrum: Callable[[str, str], FloatArray],
    extra: Mapping[str, object] | None = None,
) -> Mapping[str, object]:
    """The options of ``cls`` the user typed, as keywords.

    Parameters
    ----------
    cls
        The option-set dataclass.
    args
        The namespace of a parser built with :func:`add_options` (``defaults=False``).
    spectrum
        ``spectrum(flag, text)`` turns ``--eigenvalues TEXT`` or ``--spectrum-file PATH`` into an
        array.
    extra
        Keywords the command supplies itself (e.g. its own ``--eigenvalues``).

    Returns
    -------
    Mapping[str, object]
        ``extra`` plus the options present in ``args``, keyed by field name.
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


def make_options(cls: type[OptionsT], values: Mapping[str, object], *, owner: str) -> OptionsT:
    """``cls(**values)``, checked: unknown keywords and values of the wrong kind are refused.

    Parameters
    ----------
    cls
        The option-set dataclass.
    values
        Keywords; ``None`` values mean "not given" and are dropped, so an option left at ``None``
        takes the owner's default.
    owner
        What the options belong to, for the messages (``"method karras"``).

    Returns
    -------
    OptionsT
        The option set.

    Raises
    ------
    ValueError
        If a keyword is not declared by ``cls`` (the message lists the valid ones), a choice is not
        one of its values, or a number is NaN.
    TypeError
        If a value has the wrong kind (a string for a number, a bool for a count ...).
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
