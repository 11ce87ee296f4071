r"""The look of every method in every figure: one colour, marker, line style and label per name.

Every plotting function of symsched and symsched_verify draws a schedule method, a sampler or a
high-dimensional schedule family with :func:`style` (one series) or :func:`styles` (the series of
one figure), so that a method has the same colour and marker in every panel and every figure and
a legend entry means the same thing wherever it appears.

Colours are the Okabe–Ito palette [okabe2008] (distinguishable under the common colour-vision
deficiencies); as eight colours are fewer than the names, a name is its colour, marker and line
style together. Names are the project's own: the schedule methods of :mod:`symsched.schedules`
(and the labels of :mod:`symsched.reference`, :mod:`symsched.schedules.pretrained` and
:mod:`symsched.transfer`), the samplers of :mod:`symsched.samplers` and the schedules of
:mod:`symsched.highdim` (``vp-constant``, ``ve-dilated``, ...). Aliases (``edm-rho7``,
``karras-rho7``, ``logsnr-uniform``, ...) share the style of the method they name. A name not
registered gets a deterministic style from a hash of the name (the same in every run and every
figure); :func:`styles` moves such a name on to the next free combination when it would look like
another series of the same figure.

This module imports no matplotlib: a :class:`Style` is plain data, passed to matplotlib with
:meth:`Style.kwargs`.

References
----------
.. [okabe2008] M. Okabe, K. Ito, "Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people", J*Fly, 2008.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FALLBACK_COLOURS",
    "PALETTE",
    "REFERENCE",
    "STYLES",
    "Style",
    "label",
    "style",
    "styles",
]

#: The Okabe–Ito palette in a fixed order (black last: it is also the colour of reference lines).
PALETTE: dict[str, str] = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "grey": "#7F7F7F",
    "black": "#000000",
}

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
_LINESTYLES = ("-", "--", "-.", ":")


@dataclass(frozen=True)
class Style:
    """How one method is drawn: ``color`` (hex), ``marker``, ``linestyle``, legend ``label``."""

    color: str
    marker: str
    linestyle: str
    label: str

    def kwargs(self, *, label: str | None = None) -> dict[str, Any]:
        """Keyword arguments of ``Axes.plot`` / ``Axes.errorbar``: colour, marker, line style and
        label (``label`` overrides the display label, e.g. to add a measured value)."""
        return {
            "color": self.color,
            "marker": self.marker,
            "linestyle": self.linestyle,
            "label": self.label if label is None else label,
        }


def _s(color: str, marker: str, linestyle: str, label: str) -> Style:
    return Style(PALETTE[color], marker, linestyle, label)


#: The registered looks, by the project's names.
STYLES: dict[str, Style] = {
    # schedule methods (symsched.schedules) and the reference set's labels
    "kl-optimal": _s("vermillion", "o", "-", "kl-optimal"),
    "kl-optimal-c1": _s("vermillion", "v", ":", "kl-optimal c = 1 (ComfyUI)"),
    "sampler-aware": _s("bluish green", "*", "-.", "sampler-aware optimum"),
    "tangent": _s("blue", "s", "-", r"tangent $\gamma^*$"),
    "variational": _s("bluish green", "^", "-", "variational geodesic"),
    "karras": _s("orange", "D", "--", r"karras $\rho = 7$"),
    "loglinear": _s("sky blue", "v", "--", "log-SNR uniform"),
    "ays": _s("reddish purple", "P", "--", "Align Your Steps"),
    "stein": _s("black", "X", "-", "Stein"),
    "vp-linear": _s("grey", "<", "--", r"VP linear $\beta$"),
    "cosine": _s("yellow", ">", "--", "cosine"),
    "flow": _s("blue", "h", "-.", "flow (optimal shift)"),
    "flow-uniform": _s("sky blue", "h", ":", "uniform flow time"),
    "uniform-t": _s("grey", "s", ":", "uniform t"),
    "quadratic-t": _s("grey", "^", "-.", "quadratic t"),
    "memorising": _s("grey", "x", ":", "memorising (training set)"),
    # samplers (symsched.samplers)
    "ddim": _s("black", "o", "-", "DDIM"),
    "euler-vp": _s("orange", "s", "-", "Euler (VP)"),
    "heun": _s("blue", "^", "-", "Heun"),
    "dpmpp-2m": _s("bluish green", "D", "-", "DPM-Solver++(2M)"),
    "ancestral": _s("reddish purple", "v", "-", "Euler ancestral"),
    "flow-heun": _s("sky blue", "P", "-", "flow Heun"),
    "flow-euler": _s("vermillion", "X", "-", "flow Euler"),
    # high-dimensional schedules (symsched.highdim)
    "vp-constant": _s("orange", "o", "--", "VP constant"),
    "ve-constant": _s("sky blue", "s", "--", "VE constant"),
    "vp-dilated": _s("vermillion", "p", "-", "VP dilated"),
    "ve-dilated": _s("blue", "d", "-", "VE dilated"),
}

#: Other spellings of registered names (same look).
_ALIASES: dict[str, str] = {
    "edm-rho7": "karras",
    "karras-rho7": "karras",
    "rho7": "karras",
    "logsnr-uniform": "loglinear",
    "log-snr-uniform": "loglinear",
    "kl_optimal": "kl-optimal",
    "ddim-optimal": "kl-optimal",
    "tangent_gamma_star": "tangent",
    "tangent-gamma-star": "tangent",
    "sampler-optimal": "sampler-aware",
    "dpmpp_2m": "dpmpp-2m",
    "euler_vp": "euler-vp",
    "vp_linear": "vp-linear",
}

#: Targets, floors and guides (not a method): thin dashed black.
REFERENCE = Style(PALETTE["black"], "", "--", "reference")


def _canonical(name: str) -> str:
    key = name.strip().lower()
    return _ALIASES.get(key, key)


#: Colours of unregistered names: the palette without yellow (too faint for lines on white),
#: grey and black (the colours of reference lines, floors and guides).
FALLBACK_COLOURS = tuple(c for k, c in PALETTE.items() if k not in ("yellow", "grey", "black"))


def _fallback(name: str, shift: int = 0) -> Style:
    """A deterministic look for an unregistered name (CRC-32 of the name, not Python's salted
    ``hash``): ``shift`` steps through the colours first, then markers, then line styles."""
    h = zlib.crc32(name.encode())
    nc, nm = len(FALLBACK_COLOURS), len(_MARKERS)
    return Style(
        FALLBACK_COLOURS[(h + shift) % nc],
        _MARKERS[(h // nc + shift // nc) % nm],
        _LINESTYLES[(shift // (nc * nm)) % len(_LINESTYLES)],
        name,
    )


def style(name: str) -> Style:
    """The look of ``name``: its registered style (through an alias if need be), else a
    deterministic one derived from the name (labelled with the name itself).

    Parameters
    ----------
    name
        A method, sampler or schedule name (case and surrounding spaces ignored).

    Returns
    -------
    Style
    """
    key = _canonical(name)
    return STYLES[key] if key in STYLES else _fallback(name)


def label(name: str) -> str:
    """The display label of ``name`` (the name itself when it is not registered)."""
    return style(name).label


def styles(names: Iterable[str]) -> dict[str, Style]:
    """The looks of the series of one figure, in the order given: registered names keep their
    style; an unregistered name whose fallback would repeat the colour of an earlier series (while
    a colour is unused) or its (colour, marker, line style) moves on to the next free one, so no
    two series look alike.

    Parameters
    ----------
    names
        The series' names (duplicates ignored).

    Returns
    -------
    dict[str, Style]
        ``{name: style}``.
    """
    out: dict[str, Style] = {}
    used: set[tuple[str, str, str]] = set()
    wanted = list(dict.fromkeys(names))
    for n in wanted:  # registered names first: an unregistered one must not take their look
        if _canonical(n) in STYLES:
            out[n] = STYLES[_canonical(n)]
            used.add((out[n].color, out[n].marker, out[n].linestyle))
    for n in wanted:
        if n in out:
            continue
        colours = {c for c, _, _ in used}
        fresh = not set(FALLBACK_COLOURS) <= colours  # prefer a colour no series has yet
        shift, st = 0, _fallback(n)
        while (st.color, st.marker, st.linestyle) in used or (fresh and st.color in colours):
            shift += 1
            st = _fallback(n, shift)
        out[n] = st
        used.add((st.color, st.marker, st.linestyle))
    # two registered names with the same look (aliases of one method) keep it: they are one method
    return {n: out[n] for n in wanted}
