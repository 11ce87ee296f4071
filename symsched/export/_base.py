r"""The exporter registry: one module per consumer format, each with a typed options class.

An exporter renders a :class:`~symsched.schedules.Schedule` as the text a consumer takes (a
k-diffusion sigma list, diffusers timesteps, ComfyUI SIGMAS ...), a one-line note stating the
convention it wrote, and the noise levels the consumer will actually visit
(docs/conventions.md#export-conventions).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
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
    "register_exporter",
    "require_finite_start",
]

OptionsT = TypeVar("OptionsT", bound="DataclassInstance")


@dataclass(frozen=True)
class Exported:
    r"""An export: ``text`` to paste, ``note`` (the convention written, for stderr) and ``levels``.

    Attributes
    ----------
    text
        What the consumer takes, ready to paste or write to a file.
    note
        One line naming the convention written (printed on stderr).
    levels
        The noise levels :math:`\rho` the consumer visits, in order, ending at its terminal value
        (``None`` for ``json`` and ``csv``, which are the grid itself).
    """

    text: str
    note: str
    levels: FloatArray | None = None


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
    """

    name: str
    summary: str
    options: type[OptionsT]
    render: Callable[[Schedule, OptionsT], Exported]

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
        """Render ``schedule`` with these options.

        Parameters
        ----------
        schedule
            The N-step grid.
        **options
            The format's options (:meth:`make_options`).

        Returns
        -------
        Exported
            The text, the note and the levels the consumer visits.

        Raises
        ------
        ValueError
            If an option is refused or the consumer cannot express the grid.
        """
        return self.render(schedule, self.make_options(**options))


AnyExporter: TypeAlias = "Exporter[Any]"
"""A registered format of any options class (the registry holds formats of different ones)."""

EXPORTERS: dict[str, AnyExporter] = {}
"""Every registered export format by name (complete once :mod:`symsched.export` is imported)."""


@dataclass(frozen=True)
class NoOptions:
    """The options of a format that takes none."""


def register_exporter(
    name: str, *, summary: str, options: type[OptionsT]
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
        EXPORTERS[name] = Exporter(name, summary, options, render)
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
        The text, the note and the levels the consumer visits.

    Raises
    ------
    ValueError
        An unknown format, an option the format does not take, or a grid the consumer cannot
        express (``sigma_0 = inf`` in a sigma list, levels outside a training table, two levels
        rounding to one timestep, a shift that collapses the grid).
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
