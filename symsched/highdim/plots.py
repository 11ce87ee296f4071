"""Figures of the high-dimensional study: p_hat vs d, collapse onto N/sqrt(d), steps needed, M.

The figures of [aranguri2025, §5] (docs/theory/highdim.md#steps-needed): mode fraction against
dimension, the collapse of the constant schedules' errors onto ``N / sqrt(d)``, the steps needed
against ``d`` and the trajectories of the magnetisation. Every function returns a
:class:`matplotlib.figure.Figure`
(not attached to pyplot, Agg backend).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from symsched._typing import FloatArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_collapse", "plot_phat_vs_d", "plot_steps_needed", "plot_trajectories"]


def _fig(figsize: tuple[float, float] = (5.5, 3.8)) -> tuple[Figure, Axes]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def plot_phat_vs_d(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    target: float,
    title: str,
    ylabel: str = "mode fraction p_hat",
) -> Figure:
    """Mode fraction against dimension, one line per schedule, with the target as a dashed line.

    Parameters
    ----------
    series
        ``{schedule: (dims, values)}``.
    target
        The target value (dashed).
    title, ylabel
        Axis texts.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _fig()
    for name, (dims, vals) in series.items():
        ax.semilogx(dims, vals, "o-", label=name)
    ax.axhline(target, color="k", ls="--", lw=1, label=f"target {target:.4g}")
    ax.set_xlabel("dimension d")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return fig


def plot_collapse(
    dims: Sequence[int], vp: Mapping[float, Sequence[float]], ve: Mapping[float, Sequence[float]]
) -> Figure:
    """Errors of the constant schedules against x = N/sqrt(d): one marker per d (they collapse).

    Parameters
    ----------
    dims
        The dimensions (one marker series each).
    vp, ve
        ``{N / sqrt(d): [value at each d]}`` for VP-constant (``p_hat - p``) and VE-constant
        (``std / sigma``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.6), layout="constrained")
    a1, a2 = fig.subplots(1, 2)
    for j, d in enumerate(dims):
        a1.loglog(list(vp), [vp[x][j] for x in vp], "o", label=f"d = {d:.0e}", alpha=0.7)
        a2.semilogx(list(ve), [ve[x][j] for x in ve], "s", label=f"d = {d:.0e}", alpha=0.7)
    a1.set_xlabel("N / sqrt(d)")
    a1.set_ylabel("p_hat - p (VP-constant)")
    a1.legend()
    a2.set_xlabel("N / sqrt(d)")
    a2.set_ylabel("std / sigma (VE-constant)")
    a2.legend()
    return fig


def plot_steps_needed(table: Mapping[str, Mapping[int, int | None]], title: str) -> Figure:
    """Smallest N meeting the tolerance against d (log-log), with a sqrt(d) guide.

    Parameters
    ----------
    table
        ``{schedule: {d: N or None}}`` (``None``: not met, left out).
    title
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _fig()
    for name, row in table.items():
        met = [d for d, n in row.items() if n is not None]
        ax.loglog(met, [row[d] for d in met], "o-", label=name)
    ds = np.array(sorted({d for row in table.values() for d in row}), dtype=float)
    first = next(iter(table.values()))
    n0 = next((n for n in first.values() if n), 1)
    ax.loglog(ds, n0 * np.sqrt(ds / ds[0]), "k:", lw=1, label="∝ sqrt(d)")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("steps needed N")
    ax.set_title(title)
    ax.legend()
    return fig


def plot_trajectories(traj: FloatArray, title: str) -> Figure:
    """Trajectories of the magnetisation M over the Euler steps (one line per recorded sample).

    Parameters
    ----------
    traj
        ``(steps + 1, recorded)`` values of ``M`` (may be empty).
    title
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _fig()
    if traj.size:
        ax.plot(np.arange(traj.shape[0]), traj, lw=0.8, alpha=0.7)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("Euler step k")
    ax.set_ylabel("magnetisation M")
    ax.set_title(title)
    return fig
