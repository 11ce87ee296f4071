"""Figures of the high-dimensional study: p_hat vs d, collapse onto N/sqrt(d), steps needed, M.

The figures of [aranguri2025, §5] (docs/theory/highdim.md#steps-needed): mode fraction against
dimension, the collapse of the constant schedules' errors onto ``N / sqrt(d)``, the steps needed
against ``d`` and the trajectories of the magnetisation. Every function returns a
:class:`matplotlib.figure.Figure`
(not attached to pyplot, Agg backend).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from symsched._figures import new_figure, tidy
from symsched._typing import FloatArray
from symsched.plot_style import REFERENCE, style, styles

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_collapse", "plot_phat_vs_d", "plot_steps_needed", "plot_trajectories"]


def _fig(figsize: tuple[float, float] = (5.8, 4.0)) -> tuple[Figure, Axes]:
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def plot_phat_vs_d(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    target: float,
    title: str,
    ylabel: str = r"mode fraction $\hat{p}$",
    target_label: str = "target p",
) -> Figure:
    """Mode fraction against dimension, one line per schedule, with the target as a dashed line.

    Parameters
    ----------
    series
        ``{schedule: (dims, values)}`` (looks from :mod:`symsched.plot_style`).
    target
        The target value (dashed).
    title, ylabel
        Axis texts (the title names the model and its parameters).
    target_label
        The target's legend label (its value is appended).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _fig()
    look = styles(series)
    for name, (dims, vals) in series.items():
        ax.semilogx(dims, vals, **look[name].kwargs())
    ax.axhline(
        target,
        color=REFERENCE.color,
        ls=REFERENCE.linestyle,
        lw=1,
        label=f"{target_label} = {target:.4g}",
    )
    ax.set_xlabel("dimension d")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return tidy(fig)


def plot_collapse(
    dims: Sequence[int],
    vp: Mapping[float, Sequence[float]],
    ve: Mapping[float, Sequence[float]],
    title: str = "",
) -> Figure:
    """Errors of the constant schedules against x = N/sqrt(d): one marker per d (they collapse).

    Parameters
    ----------
    dims
        The dimensions (one marker series each).
    vp, ve
        ``{N / sqrt(d): [value at each d]}`` for VP-constant (``p_hat - p``) and VE-constant
        (``std / sigma``).
    title
        The figure's title (the model and its parameters).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure((10, 4.0))
    a1, a2 = fig.subplots(1, 2)
    names = [_dim_label(d) for d in dims]
    look = styles(names)
    markers = ("o", "s", "^", "D", "v", "P")
    for j, name in enumerate(names):
        kw = {
            "color": look[name].color,
            "marker": markers[j % len(markers)],
            "ms": max(3.0, 9.0 - 1.5 * j),
            "mfc": "none",
            "mew": 1.4,
            "ls": "none",
            "label": name,
        }
        a1.loglog(list(vp), [vp[x][j] for x in vp], **kw)
        a2.semilogx(list(ve), [ve[x][j] for x in ve], **kw)
    for a, xs in ((a1, list(vp)), (a2, list(ve))):
        a.set_xticks(xs, [f"{x:g}" for x in xs])
        a.minorticks_off()
    a1.set_xlabel("x = N / √d")
    a1.set_ylabel(r"$\hat{p} - p$")
    a1.set_title("VP constant: excess mode fraction", fontsize=10)
    a1.legend(fontsize=8)
    a2.set_xlabel("x = N / √d")
    a2.set_ylabel("per-mode std / σ")
    a2.set_title("VE constant: per-mode spread", fontsize=10)
    a2.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return tidy(fig)


def _dim_label(d: float) -> str:
    """``d = 10^4`` for powers of ten, else ``d = 3162``."""
    k = round(math.log10(d))
    return f"$d = 10^{{{k}}}$" if 10**k == d else f"d = {d:g}"


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
    look = styles(table)
    for name, row in table.items():
        met = [d for d, n in row.items() if n is not None]
        ax.loglog(met, [row[d] for d in met], **look[name].kwargs())
    ds = np.array(sorted({d for row in table.values() for d in row}), dtype=float)
    first = next(iter(table.values()))
    n0 = next((n for n in first.values() if n), 1)
    ax.loglog(ds, n0 * np.sqrt(ds / ds[0]), color=REFERENCE.color, ls=":", lw=1, label="∝ √d")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("steps needed N")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return tidy(fig)


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
        ax.plot(np.arange(traj.shape[0]), traj, lw=0.8, alpha=0.6, color=style("trajectory").color)
    ax.axhline(0, color=REFERENCE.color, lw=0.5)
    ax.set_xlabel("Euler step k")
    ax.set_ylabel("magnetisation M")
    ax.set_title(title, fontsize=10)
    return tidy(fig)
