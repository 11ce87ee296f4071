r"""Checks that a claim's figures can be trusted: titles, axis labels, true legends, readable ticks,
and a caption that is a sentence for every figure.

:func:`figure_problems` draws a matplotlib figure (Agg) and lists what is wrong with it;
:func:`caption_problems` checks an outcome's captions against its figures; :func:`outcome_problems`
does both for an :class:`~symsched_verify.registry.Outcome`. ``tests/verify/test_claims.py`` runs
them on every claim's figures.

A legend is *true* when its entries (label, colour, marker) are exactly the labelled series of the
axes it belongs to (lines, collections, patches, bar and error-bar containers whose label does not
start with ``_``); a figure-level legend must hold every labelled series of the axes that have no
legend of their own, only series that are drawn, and each label in one look across the panels.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend
    from matplotlib.text import Text

__all__ = ["caption_problems", "figure_problems", "outcome_problems"]

#: Two tick labels overlap when their boxes intersect by more than this many pixels in both
#: directions (at 100 dpi): antialiasing and the text box's padding make boxes of adjacent labels
#: that do not visibly touch share up to a pixel.
OVERLAP_PX = 1.0
#: The smallest readable font (points): legend, tick and title texts below it are reported.
MIN_FONT_PT = 6.0
#: A caption is at least this many words (one full sentence saying what is plotted).
MIN_CAPTION_WORDS = 6

Signature = tuple[str, str | None, str | None]  # label, colour (hex), marker


def _hex(color: Any) -> str | None:
    from matplotlib.colors import to_hex

    try:
        return str(to_hex(color, keep_alpha=False))
    except (ValueError, TypeError):
        return None


def _look(artist: Any) -> tuple[str | None, str | None]:
    """(colour, marker) of a plotted series or of a legend handle."""
    from matplotlib.collections import Collection
    from matplotlib.container import BarContainer, Container, ErrorbarContainer
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if isinstance(artist, ErrorbarContainer):
        line: Any = artist.lines[0]  # None when the error bars were drawn without a line
        if line is not None:
            return _look(line)
        return _look(artist.lines[2][0]) if artist.lines[2] else (None, None)
    if isinstance(artist, BarContainer):
        return _look(artist.patches[0]) if artist.patches else (None, None)
    if isinstance(artist, Container):
        return _look(artist[0]) if len(artist) else (None, None)
    if isinstance(artist, Line2D):
        marker = artist.get_marker()
        shown = marker not in (None, "None", "none", "", " ")
        colour = artist.get_color()
        if artist.get_linestyle() in ("None", "none", "", " ") and shown:
            colour = artist.get_markerfacecolor()
            if _hex(colour) is None or colour in ("none", "None"):
                colour = artist.get_markeredgecolor()
        return _hex(colour), (str(marker) if shown else None)
    if isinstance(artist, Collection):
        for colours in (artist.get_facecolor(), artist.get_edgecolor()):
            if len(colours):
                return _hex(colours[0]), None
        return None, None
    if isinstance(artist, Patch):
        from matplotlib.colors import to_rgba

        fc = artist.get_facecolor()
        return (_hex(fc) if to_rgba(fc)[3] > 0 else _hex(artist.get_edgecolor())), None
    return None, None


def _series(ax: Axes) -> list[Signature]:
    """The labelled series of ``ax`` (what a legend of ``ax`` would list)."""
    handles, labels = ax.get_legend_handles_labels()
    return [(lab, *_look(h)) for h, lab in zip(handles, labels, strict=True)]


def _entries(leg: Legend) -> list[Signature]:
    texts = [t.get_text() for t in leg.get_texts()]
    return [(lab, *_look(h)) for h, lab in zip(leg.legend_handles, texts, strict=True)]


def _fmt(sigs: set[Signature]) -> str:
    return ", ".join(sorted(f"{lab!r} ({c}, {m})" for lab, c, m in sigs)) or "none"


def _mismatch(entries: set[Signature], series: set[Signature]) -> tuple[set[Signature], ...]:
    """(entries that are no drawn series, drawn series without an entry). A legend handle may
    draw no marker where the series has one (an error bar's handle): its marker is then not
    compared."""
    drawn = {(lab, c) for lab, c, _ in series}
    false = {
        e
        for e in entries
        if (e[0], e[1]) not in drawn or (e[2] is not None and (e[0], e[1], e[2]) not in series)
    }
    listed = {(lab, c) for lab, c, _ in entries}
    missing = {s for s in series if (s[0], s[1]) not in listed}
    return false, missing


def _name(ax: Axes, i: int) -> str:
    title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
    return f"axes {i}" + (f" ({title.splitlines()[0][:40]!r})" if title else "")


def _renderer(fig: Figure) -> RendererBase:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    renderer: RendererBase = canvas.get_renderer()  # type: ignore[no-untyped-call]
    return renderer


def _tick_texts(ax: Axes, which: str) -> list[Text]:
    """The tick labels of the x or y axis of ``ax`` that are drawn (visible, non-empty, in view)."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = sorted(axis.get_view_interval())
    span = hi - lo
    out = []
    for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
        loc = tick.get_loc()
        if loc is None or not (lo - 1e-9 * abs(span) <= loc <= hi + 1e-9 * abs(span)):
            continue
        for text in (tick.label1, tick.label2):
            if text.get_visible() and text.get_text().strip():
                out.append(text)
    return out


def _points(text: Text) -> float:
    """The font size of ``text`` in points."""
    return float(text.get_fontproperties().get_size_in_points())


def _clean(text: str) -> str:
    return text.replace("\\mathdefault", "").replace("$", "").replace("{", "").replace("}", "")


Rect = tuple[float, float, float, float, float]  # centre x, y, half width, half height, angle


def _rect(text: Text, renderer: RendererBase) -> Rect:
    """The text's box as drawn: its centre, half sizes unrotated, and its rotation (radians).

    The axis-aligned window extent of a rotated label is much larger than the label; rotation
    about the anchor keeps the box's centre at the centre of that extent.
    """
    turned = text.get_window_extent(renderer)
    angle = float(np.deg2rad(text.get_rotation()))
    if abs(np.sin(angle)) < 1e-9 or abs(np.cos(angle)) < 1e-9:  # the extent is the box
        w, h = turned.width, turned.height
        angle = 0.0
    else:
        rotation = text.get_rotation()
        text.set_rotation(0)
        flat = text.get_window_extent(renderer)
        text.set_rotation(rotation)
        w, h = flat.width, flat.height
    return ((turned.x0 + turned.x1) / 2, (turned.y0 + turned.y1) / 2, w / 2, h / 2, angle)


def _intersect(a: Rect, b: Rect, margin: float) -> bool:
    """Whether two rotated rectangles overlap by more than ``margin`` pixels (separating axes)."""
    for ang in (a[4], a[4] + np.pi / 2, b[4], b[4] + np.pi / 2):
        ux, uy = np.cos(ang), np.sin(ang)
        depth = []
        for cx, cy, hw, hh, th in (a, b):
            reach = hw * abs(np.cos(th - ang)) + hh * abs(np.sin(th - ang))
            centre = cx * ux + cy * uy
            depth.append((centre - reach, centre + reach))
        if min(depth[0][1], depth[1][1]) - max(depth[0][0], depth[1][0]) <= margin:
            return False
    return True


def _overlaps(texts: list[Text], renderer: RendererBase) -> list[tuple[str, str]]:
    rects = [(_clean(t.get_text()), _rect(t, renderer)) for t in texts]
    dpi = float(renderer.dpi) if hasattr(renderer, "dpi") else 100.0
    margin = OVERLAP_PX * dpi / 100.0  # OVERLAP_PX is in pixels at 100 dpi
    return [
        (ta, tb)
        for (ta, a), (tb, b) in itertools.combinations(rects, 2)
        if _intersect(a, b, margin)
    ]


def figure_problems(fig: Figure) -> list[str]:
    """Draw ``fig`` (Agg) and list its defects (empty when it can be trusted).

    Checks, for every visible axes that shows data: a title (its own or the figure's suptitle);
    x and y labels (its own or the figure's ``supxlabel`` / ``supylabel``; not for axes drawn with
    ``axis('off')``, e.g. images); true legends (module docstring): an axes with more than one
    labelled series needs its own legend or a figure legend, and a label has one look (colour,
    marker) in every panel; no two drawn tick labels of one axis
    overlapping (by more than :data:`OVERLAP_PX`); no title, label, tick or legend text smaller
    than :data:`MIN_FONT_PT`.

    Parameters
    ----------
    fig
        A matplotlib figure.

    Returns
    -------
    list[str]
        One line per defect.
    """
    renderer = _renderer(fig)
    problems: list[str] = []
    suptitle = fig.get_suptitle().strip()
    supx, supy = fig.get_supxlabel().strip(), fig.get_supylabel().strip()
    fig_entries = [e for leg in fig.legends for e in _entries(leg)]
    looks: dict[str, set[tuple[str | None, str | None]]] = {}
    uncovered: set[Signature] = set()
    drawn: set[Signature] = set()
    small: set[str] = set()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for i, ax in enumerate(axes):
        name = _name(ax, i)
        if ax.has_data():
            title = ax.get_title() or ax.get_title("left") or ax.get_title("right")
            if not title.strip() and not suptitle:
                problems.append(f"{name}: no title and no figure suptitle")
            if ax.axison:
                if not ax.get_xlabel().strip() and not supx:
                    problems.append(f"{name}: no x label")
                if not ax.get_ylabel().strip() and not supy:
                    problems.append(f"{name}: no y label")
        series = _series(ax)
        by_label: dict[str, set[tuple[str | None, str | None]]] = {}
        for lab, c, m in series:
            by_label.setdefault(lab, set()).add((c, m))
            looks.setdefault(lab, set()).add((c, m))
        for lab, seen in by_label.items():
            if len(seen) > 1:
                problems.append(f"{name}: label {lab!r} is drawn in {len(seen)} different looks")
        drawn |= set(series)
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            false, missing = _mismatch(set(_entries(leg)), set(series))
            if false:
                problems.append(f"{name}: legend entries {_fmt(false)} are no plotted series")
            if missing:
                problems.append(f"{name}: plotted series {_fmt(missing)} are not in the legend")
            small |= {
                f"legend text {t.get_text()!r}" for t in leg.get_texts() if _points(t) < MIN_FONT_PT
            }
        else:
            if len(by_label) > 1 and not fig_entries:
                problems.append(
                    f"{name}: {len(by_label)} labelled series ({_fmt(set(series))}) but no legend"
                )
            uncovered |= set(series)
        for which in ("x", "y"):
            texts = _tick_texts(ax, which)
            for a, b in _overlaps(texts, renderer):
                problems.append(f"{name}: {which} tick labels {a!r} and {b!r} overlap")
            small |= {
                f"{which} tick label {t.get_text()!r}" for t in texts if _points(t) < MIN_FONT_PT
            }
        for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
            if text.get_text().strip() and _points(text) < MIN_FONT_PT:
                small.add(f"{name} text {text.get_text()[:30]!r}")
    for lab, seen in sorted(looks.items()):
        if len(seen) > 1:
            problems.append(f"label {lab!r} has {len(seen)} different looks across the panels")
    if fig_entries:
        false, _ = _mismatch(set(fig_entries), drawn)
        _, missing = _mismatch(set(fig_entries), uncovered)
        if missing:
            problems.append(f"figure legend lacks the plotted series {_fmt(missing)}")
        if false:
            problems.append(f"figure legend lists series not drawn in these looks {_fmt(false)}")
        small |= {
            f"legend text {t.get_text()!r}"
            for leg in fig.legends
            for t in leg.get_texts()
            if _points(t) < MIN_FONT_PT
        }
    problems += [f"{s} is smaller than {MIN_FONT_PT:g} pt" for s in sorted(small)]
    return problems


_WORD = re.compile(r"\S+")


def caption_problems(figures: Mapping[str, Any], captions: Mapping[str, str]) -> list[str]:
    """Every figure key has a caption that is a sentence: it starts with a capital letter, ends
    with a full stop and has at least :data:`MIN_CAPTION_WORDS` words; no caption without a
    figure."""
    problems = []
    for key in figures:
        text = captions.get(key, "").strip()
        if not text:
            problems.append(f"figure {key!r} has no caption")
            continue
        if not text[0].isupper():
            problems.append(f"caption of {key!r} does not start with a capital letter")
        if not text.endswith("."):
            problems.append(f"caption of {key!r} does not end with '.'")
        if len(_WORD.findall(text)) < MIN_CAPTION_WORDS:
            problems.append(f"caption of {key!r} has fewer than {MIN_CAPTION_WORDS} words")
        if text.count("$") % 2:
            problems.append(f"caption of {key!r} has an unclosed $...$")
    problems += [f"caption {key!r} has no figure" for key in captions if key not in figures]
    return problems


def outcome_problems(outcome: Any) -> list[str]:
    """:func:`caption_problems` of ``outcome`` and :func:`figure_problems` of each of its
    figures (prefixed with the figure's key)."""
    problems = caption_problems(outcome.figures, outcome.captions)
    for key, fig in outcome.figures.items():
        problems += [f"{key}: {p}" for p in figure_problems(fig)]
    return problems
