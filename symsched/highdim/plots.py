"""Figures of the high-dimensional study: p_hat vs d, collapse onto N/sqrt(d), steps needed, M trajectories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["plot_collapse", "plot_phat_vs_d", "plot_steps_needed", "plot_trajectories"]


def _fig(**kw: Any) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=kw.get("figsize", (5.5, 3.8)), layout="constrained")
    return fig, fig.add_subplot()


def plot_phat_vs_d(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    target: float,
    title: str,
    ylabel: str = "mode fraction p_hat",
) -> Any:
    """Mode fraction against dimension, one line per schedule, with the target as a dashed line."""
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
) -> Any:
    """Errors of the constant schedules against x = N/sqrt(d): one marker per d (they collapse)."""
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


def plot_steps_needed(table: Mapping[str, Mapping[int, int | None]], title: str) -> Any:
    """Smallest N meeting the tolerance against d (log-log), with a sqrt(d) guide."""
    fig, ax = _fig()
    for name, row in table.items():
        ds = [d for d, n in row.items() if n is not None]
        ax.loglog(ds, [row[d] for d in ds], "o-", label=name)
    ds = np.array(sorted({d for row in table.values() for d in row}), dtype=float)
    first = next(iter(table.values()))
    n0 = next((n for n in first.values() if n), 1)
    ax.loglog(ds, n0 * np.sqrt(ds / ds[0]), "k:", lw=1, label="∝ sqrt(d)")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("steps needed N")
    ax.set_title(title)
    ax.legend()
    return fig


def plot_trajectories(traj: np.ndarray, title: str) -> Any:
    """Trajectories of the magnetisation M over the Euler steps (one line per recorded sample)."""
    fig, ax = _fig()
    if traj.size:
        ax.plot(np.arange(traj.shape[0]), traj, lw=0.8, alpha=0.7)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("Euler step k")
    ax.set_ylabel("magnetisation M")
    ax.set_title(title)
    return fig
