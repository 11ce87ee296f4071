"""Shared figure plumbing: an Agg figure outside pyplot, and readable log axes.

Every plotting function ends with :func:`tidy`: on a log axis matplotlib labels the minor ticks
when the axis spans less than about a decade, and those labels run into each other; :func:`tidy`
never labels minor ticks and, where an axis would show fewer than two labelled decades, labels
1-2-5 (or 1..9) multiples of the decade instead, in plain numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

__all__ = ["line_plot", "new_figure", "tidy"]

#: Multiples of a decade tried in turn until at least two fall inside a short log axis.
_SUBS: tuple[tuple[float, ...], ...] = (
    (1.0,),
    (1.0, 2.0, 5.0),
    (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0),
)


def new_figure(
    figsize: tuple[float, float],
    *,
    layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
) -> Figure:
    """A :class:`matplotlib.figure.Figure` on the Agg backend, not attached to pyplot (nothing to
    close), with constrained layout unless ``layout`` says otherwise."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout=layout)


def _plain(value: float, _pos: int | None = None) -> str:
    """A tick value as a short plain number (``0.002``, ``50``), or ``a×10^k`` beyond that."""
    if value <= 0:
        return ""
    if 1e-3 <= value < 1e4:
        return f"{value:g}"
    k = math.floor(math.log10(value) + 1e-9)
    mant = value / 10**k
    head = "" if abs(mant - 1) < 1e-9 else f"{mant:g}\\times"
    return f"${head}10^{{{k}}}$"


def _count(lo: float, hi: float, subs: tuple[float, ...]) -> int:
    first, last = math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1
    return sum(
        lo * (1 - 1e-9) <= s * 10.0**k <= hi * (1 + 1e-9)
        for k in range(first, last + 1)
        for s in subs
    )


def _tidy_log_axis(axis: Axis) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    axis.set_minor_formatter(NullFormatter())
    if isinstance(axis.get_major_locator(), FixedLocator):  # ticks chosen by the caller
        return
    lo, hi = sorted(axis.get_view_interval())
    if not (lo > 0 and math.isfinite(hi)):
        return
    if _count(lo, hi, _SUBS[0]) >= 2:
        axis.set_major_locator(LogLocator(base=10.0))
        return
    subs = next((s for s in _SUBS[1:] if _count(lo, hi, s) >= 2), _SUBS[-1])
    axis.set_major_locator(LogLocator(base=10.0, subs=subs))
    axis.set_major_formatter(FuncFormatter(_plain))


def tidy(fig: Figure) -> Figure:
    """Make every log axis of ``fig`` readable (no minor tick labels; at least two labelled ticks
    where the limits allow) and return ``fig``. Call it once the data are drawn and the limits
    set."""
    for ax in fig.axes:
        if ax.get_xscale() == "log":
            ax.get_xlim()  # autoscale now, so that the view interval is the final one
            _tidy_log_axis(ax.xaxis)
        if ax.get_yscale() == "log":
            ax.get_ylim()
            _tidy_log_axis(ax.yaxis)
    return fig


def line_plot(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    labels: Mapping[str, str] | None = None,
    xscale: str = "log",
    yscale: str = "log",
    xticks: Sequence[float] | None = None,
    figsize: tuple[float, float] = (5.8, 4.2),
) -> Figure:
    """One line per named series (looks from :func:`symsched.plot_style.styles`), a legend when
    there is more than one, the given title and axis labels, :func:`tidy` log axes.

    Parameters
    ----------
    series
        ``{name: (x, y)}``.
    title, xlabel, ylabel
        The texts (the title names the model and its parameters).
    labels
        Legend labels by name (default: the style's display label).
    xscale, yscale
        Axis scales.
    xticks
        Labelled x ticks (default: the locator's).
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.ticker import NullLocator

    from symsched.plot_style import styles

    fig = new_figure(figsize)
    ax = fig.add_subplot()
    look = styles(series)
    for name, (xs, ys) in series.items():
        text = None if labels is None else labels.get(name)
        ax.plot(list(xs), list(ys), ms=4, **look[name].kwargs(label=text))
    ax.set_xscale(xscale)
    ax.set_yscale(yscale)
    if xticks is not None:
        ax.set_xticks(list(xticks), [f"{t:g}" for t in xticks])
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return tidy(fig)
