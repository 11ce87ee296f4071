r"""The registry of other tools' built-in schedules: one entry per ``TOOL:NAME``.

A built-in is a schedule another tool ships (diffusers' ``EulerDiscreteScheduler`` with
``use_karras_sigmas``, k-diffusion's ``get_sigmas_karras``, ComfyUI's ``simple`` ...), reproduced
here in the dtype the tool computes in, from the tool's own source. Each entry records

* its options (a frozen dataclass of :func:`symsched._options.option` fields: the tool's own
  argument names, its own defaults), set by keyword or ``--set key=value``;
* its provenance: the repository, file, function and the version or commit the formula was read
  from (docs/conformance.md);
* a builder returning a :class:`BuiltinGrid`: the exact array the tool's sampler iterates
  (``tool_sigmas``, in the tool's units, with its trailing 0 if it has one), the tool's timesteps
  where it has them, and the same grid in this project's convention (``sigmas``: VE noise levels
  :math:`\sigma=\sqrt{(1-\bar\alpha)/\bar\alpha}`, flow times mapped by :math:`\rho=t/(1-t)`,
  docs/conventions.md#grids).

Every entry is proven equal to the real library where it installs from the package registries
(diffusers, k-diffusion; tests/symsched/builtin), and checked against values computed from the
published source by another route where it does not (ComfyUI, A1111).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar

import numpy as np
from numpy.typing import NDArray

from symsched._options import make_options, option_fields
from symsched._typing import FloatArray
from symsched._validate import as_grid, check_steps
from symsched.schedules._schedule import Schedule

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "BUILTINS",
    "MAX_BUILTIN_STEPS",
    "TOOLS",
    "Builtin",
    "BuiltinGrid",
    "Provenance",
    "builtin_names",
    "get_builtin",
    "parse_set",
    "register_builtin",
]

OptionsT = TypeVar("OptionsT", bound="DataclassInstance")

Units: TypeAlias = Literal["sigma", "flow-t"]
"""The units of ``tool_sigmas``: VE noise levels (k-diffusion's convention) or flow times
:math:`t\\in[0,1]` (diffusers' FlowMatch schedulers, ComfyUI's flow models)."""

TOOLS: tuple[str, ...] = ("diffusers", "k-diffusion", "comfyui", "a1111")
"""The tools whose built-in schedules are reproduced."""

MAX_BUILTIN_STEPS = 100_000
"""The most steps a built-in is built with: every tool here tabulates at most 10 000 training
levels, so more steps than this repeat levels; refused before anything is allocated."""


@dataclass(frozen=True)
class Provenance:
    """Where a reproduced formula was read.

    Attributes
    ----------
    repository
        ``owner/name`` of the tool's source repository.
    path
        The file inside it.
    symbol
        The function or class whose behaviour is reproduced.
    revision
        The released version (``diffusers 0.42.1``) or the commit the formula was read at.
    """

    repository: str
    path: str
    symbol: str
    revision: str

    def as_dict(self) -> dict[str, str]:
        """The four fields as a JSON object."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BuiltinGrid:
    """A built-in schedule as its tool computes it, and the same grid in this project's convention.

    Attributes
    ----------
    name
        ``TOOL:NAME``.
    steps
        The steps asked for.
    tool_sigmas
        The exact array the tool's sampler iterates, in its units and dtype (Heun-type schedulers
        repeat interior levels, as the tool does), read-only.
    tool_timesteps
        The tool's timesteps (model-time inputs), or ``None`` where the tool has none.
    sigmas
        The distinct levels as a float64 grid in this project's convention (strictly decreasing,
        ``inf`` allowed first): the grid the exact criteria score.
    units
        The units of ``tool_sigmas``.
    params
        Every option as resolved (defaults included) plus derived values the tool computes
        (``mu``, ``sigma_min`` ...).
    notes
        Sentences on behaviour a user would not expect (fewer steps than asked, a value appended
        or dropped), empty when there is none.
    """

    name: str
    steps: int
    tool_sigmas: NDArray[Any]
    tool_timesteps: NDArray[Any] | None
    sigmas: FloatArray
    units: Units
    params: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def executed_steps(self) -> int:
        """The steps the tool's sampler actually takes on this grid (``len(sigmas) - 1``)."""
        return int(self.sigmas.size - 1)

    def schedule(self) -> Schedule:
        """The grid as a :class:`~symsched.schedules.Schedule` (method ``builtin``)."""
        return Schedule("builtin", self.sigmas, {"name": self.name, **dict(self.params)})


@dataclass(frozen=True)
class Builtin(Generic[OptionsT]):
    """A registered built-in schedule of another tool.

    Attributes
    ----------
    name
        ``TOOL:NAME`` (``diffusers:euler``, ``comfyui:simple`` ...).
    summary
        One line: what the tool computes.
    options
        The frozen dataclass of the tool's arguments.
    provenance
        Where the formula was read.
    builder
        ``builder(steps, options) -> BuiltinGrid``.
    config_keys
        For diffusers schedulers: every constructor argument of the class but ``trained_betas``
        (the options that are constructor arguments, and those that do not change the grid); a
        ``scheduler_config.json`` sets the options among them and the rest of it is ignored, as
        ``from_config`` ignores what the class does not take. Empty where there is no config.
    """

    name: str
    summary: str
    options: type[OptionsT]
    provenance: Provenance
    builder: Callable[[int, OptionsT], BuiltinGrid]
    config_keys: frozenset[str] = frozenset()

    @property
    def tool(self) -> str:
        """The tool (the part of the name before ``:``)."""
        return self.name.split(":", 1)[0]

    def make_options(self, **values: object) -> OptionsT:
        """The options dataclass from keywords (unknown ones are refused with the valid list)."""
        return make_options(self.options, values, owner=self.name)

    def build(self, steps: int, **options: object) -> BuiltinGrid:
        """The tool's grid for ``steps`` steps with these options.

        Parameters
        ----------
        steps
            The number of inference steps asked of the tool.
        **options
            The tool's arguments (:attr:`options`); ``None`` means the tool's default.

        Returns
        -------
        BuiltinGrid
            The tool's arrays and the grid in this project's convention.

        Raises
        ------
        ValueError
            If ``steps`` is not in ``[1, MAX_BUILTIN_STEPS]``, an option is unknown or refused,
            or the tool itself would refuse the configuration (the message says why).
        """
        n = check_steps(steps, "steps")
        if n > MAX_BUILTIN_STEPS:
            raise ValueError(
                f"steps must be at most {MAX_BUILTIN_STEPS} for a built-in schedule, got {n}"
            )
        return self.builder(n, self.make_options(**options))


AnyBuiltin: TypeAlias = "Builtin[Any]"

BUILTINS: dict[str, AnyBuiltin] = {}
"""Every registered built-in by ``TOOL:NAME`` (complete once :mod:`symsched.builtin` is loaded)."""


def register_builtin(
    name: str,
    *,
    options: type[OptionsT],
    summary: str,
    provenance: Provenance,
    config_keys: frozenset[str] = frozenset(),
) -> Callable[[Callable[[int, OptionsT], BuiltinGrid]], Callable[[int, OptionsT], BuiltinGrid]]:
    """Register ``builder`` as the built-in ``name`` (a decorator).

    Raises
    ------
    ValueError
        If ``name`` is not ``TOOL:NAME`` with a known tool, or is registered already.
    """
    tool, _, short = name.partition(":")
    if tool not in TOOLS or not short:
        raise ValueError(f"built-in name must be TOOL:NAME with TOOL one of {TOOLS}, got {name!r}")
    if name in BUILTINS:
        raise ValueError(f"built-in {name!r} is registered twice")

    def deco(
        builder: Callable[[int, OptionsT], BuiltinGrid],
    ) -> Callable[[int, OptionsT], BuiltinGrid]:
        BUILTINS[name] = Builtin(name, summary, options, provenance, builder, config_keys)
        return builder

    return deco


def builtin_names(tool: str | None = None) -> list[str]:
    """The registered names (of one tool, if given), sorted."""
    return sorted(n for n in BUILTINS if tool is None or n.split(":", 1)[0] == tool)


def get_builtin(name: str) -> AnyBuiltin:
    """The built-in ``name``.

    Raises
    ------
    ValueError
        If no built-in has that name: the message lists the tool's names (or the tools).
    """
    if name in BUILTINS:
        return BUILTINS[name]
    tool = name.partition(":")[0]
    if tool in TOOLS:
        raise ValueError(
            f"{tool} has no built-in schedule {name!r}; its names are "
            + ", ".join(builtin_names(tool))
        )
    raise ValueError(
        f"unknown built-in {name!r}: names are TOOL:NAME with TOOL one of {', '.join(TOOLS)} "
        "(symsched schedule builtin --list)"
    )


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_set(options: type[Any], items: list[str], *, owner: str) -> dict[str, object]:
    """``key=value`` strings as typed option values of ``options``.

    Parameters
    ----------
    options
        The option-set dataclass.
    items
        ``key=value`` strings (``none`` sets an optional option to ``None``).
    owner
        The built-in's name, for the messages.

    Returns
    -------
    dict
        Option name to value (``None`` for ``key=none``).

    Raises
    ------
    ValueError
        If an item is not ``key=value``, the key is not an option (the valid ones are listed) or
        the value does not parse as the option's kind.
    """
    fields = {f.name: f for f in option_fields(options)}
    out: dict[str, object] = {}
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise ValueError(f"expected key=value, got {item!r}")
        if key not in fields:
            takes = ", ".join(fields) if fields else "no options"
            raise ValueError(f"{owner} has no option {key!r}; it takes {takes}")
        f = fields[key]
        text = text.strip()
        if text.lower() in ("none", "null"):
            out[key] = None
            continue
        try:
            if f.kind == "bool":
                low = text.lower()
                if low not in _TRUE | _FALSE:
                    raise ValueError
                out[key] = low in _TRUE
            elif f.kind == "int":
                v = float(text)
                if not (math.isfinite(v) and v == int(v)):
                    raise ValueError
                out[key] = int(v)
            elif f.kind == "float":
                v = float(text)
                if math.isnan(v):
                    raise ValueError
                out[key] = v
            else:
                out[key] = text
        except ValueError:
            raise ValueError(f"{key}={text!r} is not a valid {f.kind} for {owner}") from None
    return out


def grid_from_levels(levels: NDArray[Any], name: str) -> FloatArray:
    """The distinct levels of a tool's array as this project's float64 grid.

    Consecutive equal values (Heun-type repetition) are merged; what remains must be strictly
    decreasing (``inf`` first and 0 last allowed).

    Raises
    ------
    ValueError
        If the levels are not decreasing after merging repeats.
    """
    x = np.asarray(levels, dtype=np.float64)
    if x.size > 1:
        keep = np.concatenate([[True], x[1:] != x[:-1]])
        x = x[keep]
    return as_grid(x, name)
