r"""The exporter registry: one module per consumer format, each with a typed options class.

An exporter renders a :class:`~symsched.schedules.Schedule` as the text a consumer takes (a
k-diffusion sigma list, diffusers timesteps, ComfyUI SIGMAS ...), a one-line note stating the
convention it wrote, and the noise levels the consumer will actually visit
(docs/conventions.md#export-conventions). The registry holds the one rule every format follows
(docs/conventions.md#steps-and-the-final-0): an N-step schedule makes its consumer take exactly N
steps, the final step to 0 of a consumer whose loop ends at 0 being one of them; it checks that
rule on every export and states each sampler's denoiser evaluations (NFE) on the visited levels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from symsched._options import make_options
from symsched._typing import FloatArray
from symsched.schedules._schedule import Schedule

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "EXPORTERS",
    "AnyExporter",
    "Exported",
    "Exporter",
    "export",
    "get_exporter",
    "nfe_by_sampler",
    "nfe_phrase",
    "register_exporter",
    "require_finite_start",
]

OptionsT = TypeVar("OptionsT", bound="DataclassInstance")

STEPS_DOC = "docs/conventions.md#steps-and-the-final-0"
"""The page that states the rule, cited by every note that rebuilds a grid."""


@dataclass(frozen=True)
class Exported:
    r"""An export: ``text`` to paste, ``note`` (for stderr), ``levels`` visited and ``nfe``.

    Attributes
    ----------
    text
        What the consumer takes, ready to paste or write to a file.
    note
        One line naming the convention written, the steps the consumer takes and their NFE
        (printed on stderr).
    levels
        The noise levels :math:`\rho` the consumer visits, in order, ending at its terminal value:
        N+1 of them for an N-step schedule (``json`` and ``csv``: the grid itself, as symsched's
        samplers run it). A renderer may leave it ``None``; :func:`export` then fills in the grid
        it rendered.
    nfe
        Sampler name (:data:`symsched.samplers.SAMPLERS`) -> denoiser evaluations that sampler
        spends on ``levels`` (:meth:`symsched.samplers.Sampler.nfe`), for every sampler users run
        that accepts the grid (``heun`` needs a finite ``sigma_0``); filled in by :func:`export`.
    """

    text: str
    note: str
    levels: FloatArray | None = None
    nfe: dict[str, int] = field(default_factory=dict)


def nfe_by_sampler(levels: FloatArray) -> dict[str, int]:
    """Denoiser evaluations of each runnable sampler on ``levels``, from the sampler registry.

    Parameters
    ----------
    levels
        The grid the consumer visits.

    Returns
    -------
    dict
        Sampler name -> :meth:`~symsched.samplers.Sampler.nfe`, in registry order, for every
        sampler of :func:`~symsched.samplers.sampler_names` whose
        :meth:`~symsched.samplers.Sampler.check_grid` accepts the grid (Heun's last step to 0 is
        one Euler evaluation: 2N-1 on N steps ending at 0).
    """
    # imported here: the sampler registry imports symsched.gaussian, which symsched imports after
    # this package
    from symsched.samplers import SAMPLERS, sampler_names

    out: dict[str, int] = {}
    for name in sampler_names():
        sampler = SAMPLERS[name]
        try:
            sampler.check_grid(levels)
        except ValueError:
            continue
        out[name] = sampler.nfe(levels)
    return out


def nfe_phrase(nfe: dict[str, int]) -> str:
    """``"NFE 10 (ancestral, ddim, dpmpp-2m, euler-vp), 19 (flow-heun, heun)"``: grouped by NFE.

    Parameters
    ----------
    nfe
        As :attr:`Exported.nfe`.

    Returns
    -------
    str
        The phrase, groups in increasing NFE (``"NFE -"`` when no sampler accepts the grid).
    """
    groups: dict[int, list[str]] = {}
    for name, k in nfe.items():
        groups.setdefault(k, []).append(name)
    body = ", ".join(f"{k} ({', '.join(groups[k])})" for k in sorted(groups))
    return f"NFE {body or '-'}"


@dataclass(frozen=True)
class Exporter(Generic[OptionsT]):
    """A registered export format.

    Attributes
    ----------
    name
        The name users type (``--format NAME``).
    summary
        One line: the consumer and the convention.
    options
        The frozen dataclass of the format's options.
    render
        ``render(schedule, options) -> Exported``.
    ends_at_zero
        Whether the consumer's loop ends at 0 (k-diffusion, ComfyUI, the diffusers schedulers): the
        schedule is then rendered as :attr:`Schedule.ending_at_zero`, whose last step goes to 0
        (docs/conventions.md#steps-and-the-final-0). ``False``: the grid is rendered as it is.
    """

    name: str
    summary: str
    options: type[OptionsT]
    render: Callable[[Schedule, OptionsT], Exported]
    ends_at_zero: bool = False

    def make_options(self, **values: object) -> OptionsT:
        """The options dataclass from keywords.

        Parameters
        ----------
        **values
            The format's options; ``None`` means the default.

        Returns
        -------
        OptionsT
            The format's options dataclass.

        Raises
        ------
        ValueError
            If a keyword is not an option of the format, or a value is refused.
        """
        return make_options(self.options, values, owner=f"format {self.name}")

    def export(self, schedule: Schedule, **options: object) -> Exported:
        """Render ``schedule`` with these options: N steps for the consumer, their NFE stated.

        Parameters
        ----------
        schedule
            The N-step grid.
        **options
            The format's options (:meth:`make_options`).

        Returns
        -------
        Exported
            The text, the note (the renderer's, then the steps and their NFE), the N+1 levels the
            consumer visits and the NFE of each sampler on them.

        Raises
        ------
        ValueError
            If an option is refused, the consumer cannot express the grid, or (a consumer ending
            at 0) an explicit grid ends above 0 (:attr:`Schedule.ending_at_zero`).
        RuntimeError
            If the renderer's consumer would not take N steps (a broken exporter).
        """
        opts = self.make_options(**options)
        n = schedule.steps
        rendered = schedule.ending_at_zero if self.ends_at_zero else schedule
        out = self.render(rendered, opts)
        levels = rendered.sigmas if out.levels is None else out.levels
        if levels.size != n + 1:
            raise RuntimeError(
                f"format {self.name} makes its consumer take {levels.size - 1} steps for a "
                f"{n}-step schedule; every format takes N ({STEPS_DOC})"
            )
        nfe = nfe_by_sampler(levels)
        steps = f"{n} step{'' if n == 1 else 's'}"
        if rendered is not schedule:
            how = (
                f"{steps}: {nfe_phrase(nfe)}; the last step goes to 0 and the grid ends at "
                f"{schedule.sigmas[-1]:g} > 0, so {schedule.method} is written as "
                f"{rendered.params['ending_at_zero']} ({STEPS_DOC})"
            )
        elif levels[-1] == 0.0:
            how = f"{steps}, the last to 0: {nfe_phrase(nfe)}"
        else:
            how = f"{steps}, ending at {levels[-1]:g}: {nfe_phrase(nfe)}"
        return replace(out, note=f"{out.note}; {how}", levels=levels, nfe=nfe)


AnyExporter: TypeAlias = "Exporter[Any]"
"""A registered format of any options class (the registry holds formats of different ones)."""

EXPORTERS: dict[str, AnyExporter] = {}
"""Every registered export format by name (complete once :mod:`symsched.export` is imported)."""


@dataclass(frozen=True)
class NoOptions:
    """The options of a format that takes none."""


def register_exporter(
    name: str, *, summary: str, options: type[OptionsT], ends_at_zero: bool = False
) -> Callable[[Callable[[Schedule, OptionsT], Exported]], Callable[[Schedule, OptionsT], Exported]]:
    """Decorator: register ``render(schedule, options) -> Exported`` as format ``name``.

    Parameters
    ----------
    name
        The format name users type (``--format NAME``).
    summary
        One line: the consumer and the convention.
    options
        The frozen dataclass of the format's options.
    ends_at_zero
        Whether the consumer's loop ends at 0; ``render`` then receives
        :attr:`Schedule.ending_at_zero` (see :class:`Exporter`).

    Returns
    -------
    callable
        The decorator; it returns ``render`` unchanged.

    Raises
    ------
    ValueError
        (From the decorator) if another renderer is already registered under ``name``.
    """

    def deco(
        render: Callable[[Schedule, OptionsT], Exported],
    ) -> Callable[[Schedule, OptionsT], Exported]:
        if name in EXPORTERS and EXPORTERS[name].render is not render:
            raise ValueError(f"export format {name!r} is registered twice")
        EXPORTERS[name] = Exporter(name, summary, options, render, ends_at_zero)
        return render

    return deco


def get_exporter(name: str) -> AnyExporter:
    """The registered format ``name``.

    Parameters
    ----------
    name
        A name of :data:`EXPORTERS`.

    Returns
    -------
    AnyExporter
        The format.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the valid names).
    """
    if name not in EXPORTERS:
        raise ValueError(f"unknown format {name!r}; choose one of {', '.join(EXPORTERS)}")
    return EXPORTERS[name]


def export(schedule: Schedule, fmt: str, **options: object) -> Exported:
    """Render ``schedule`` in format ``fmt`` with that format's options.

    Parameters
    ----------
    schedule
        The N-step grid.
    fmt
        A name of :data:`EXPORTERS`.
    **options
        The format's options (e.g. ``shift`` for ``flow-matching``); ``None`` means the default.

    Returns
    -------
    Exported
        The text, the note, the N+1 levels the consumer visits and each sampler's NFE on them
        (:meth:`Exporter.export`; docs/conventions.md#steps-and-the-final-0).

    Raises
    ------
    ValueError
        An unknown format, an option the format does not take, or a grid the consumer cannot
        express (``sigma_0 = inf`` in a sigma list, levels outside a training table, two levels
        rounding to one timestep, a shift that collapses the grid, an explicit grid ending above
        0 for a consumer whose last step goes to 0).
    """
    return get_exporter(fmt).export(schedule, **options)


def require_finite_start(schedule: Schedule, fmt: str) -> None:
    """Refuse ``sigma_0 = inf``: sigma-list consumers must start at a finite level.

    Parameters
    ----------
    schedule
        The grid to export.
    fmt
        The format name, for the message.

    Raises
    ------
    ValueError
        If ``schedule.sigmas[0]`` is infinite.
    """
    if math.isinf(schedule.sigmas[0]):
        raise ValueError(
            f"--format {fmt} needs a finite sigma_max (the consumer cannot start at sigma = inf); "
            "pass --sigma-max, e.g. the model's largest sigma (80 for EDM, 14.6146 for SD 1.5)"
        )
