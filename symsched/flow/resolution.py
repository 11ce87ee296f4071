r"""The theory's optimal shift against image resolution and step count, beside the published rules.

What is computed (docs/theory/flow_resolution.md#method):

1. **The latent grid.** A latent flow model (SD3, Flux) at image resolution :math:`R\times R`
   works on a latent grid of side :math:`L=R/8` (:data:`VAE_FACTOR`), its latents normalised to
   unit variance.
2. **The spectrum proxy.** The stationary Fourier spectrum, ring-averaged, of RGB patches of side
   :math:`L` of the two shipped photographs
   (:func:`symsched.spectrum.photographs_spectrum` with ``"fourier", radial=True``), rescaled to
   mean eigenvalue 1 (:func:`symsched.spectrum.rescale_mean`). Natural images are close to scale
   invariant (power :math:`\propto|k|^{-2}` [vanderschaaf1996]), so a patch of side :math:`L`
   at the photographs' native pixel scale stands in for a whole scene rendered on an
   :math:`L\times L` grid.
3. **The optimum.** :math:`s^\star(R,N)` is :func:`symsched.flow.shift.optimal_shift` of that
   spectrum at N steps: the shift of N uniform flow steps that minimises the exact
   :math:`\mathrm{KL}(\text{data}\,\|\,\text{output})` of the Euler flow sampler (= DDIM in
   :math:`\rho`), certified independently by the claim ``flow.published-rules`` (neighbours and
   two log scans).
4. **The rules.** Each rule of :data:`symsched.flow.rules.RULES` gives :math:`s_{\rm rule}(R,N)`;
   the table reports the gap :math:`\ln(s_{\rm rule}/s^\star)` and the exact loss of using the
   rule, :math:`\mathrm{KL}(s_{\rm rule})/\mathrm{KL}(s^\star)`, both KLs from
   :func:`symsched.gaussian.exact.kl` on :func:`symsched.flow.shift.shifted_uniform_grid` over the
   full spectrum.
5. **The trend.** The resolution exponent :math:`d\ln s/d\ln R` is fitted by least squares over
   the resolutions at each N, for :math:`s^\star` and, on the same points, for each rule (SD3's
   Eq. (23) has exponent 1; Flux.1 and Flux.2 put :math:`\mu` linear in the token count
   :math:`\propto R^2`, so their local exponent :math:`2R^2\,d\mu/d(R^2)` grows with R).

What a pixel-space proxy can and cannot say (docs/theory/flow_resolution.md#what-the-proxy-can-say):
the latent of SD3 / Flux is a learned nonlinear 16-channel code whose spectrum is not the RGB
spectrum, so the proxy does **not** predict the level of :math:`s^\star` for those models, and an
agreement or disagreement of levels is no evidence either way. What the latent inherits from the
image content is its stationarity and the growth of its low-frequency power with the grid side:
the *trend* of :math:`s^\star` with :math:`R` is the part the proxy speaks to. A latent model
gets a real answer by measuring its own latents (``symsched spectrum --npy latents.npy``, then
:func:`~symsched.flow.shift.optimal_shift` of that spectrum).

Also: :func:`markdown_table` (the table as Markdown) and :func:`plot_resolution` (the figure).

References
----------
.. [esser2024] P. Esser et al., arXiv:2403.03206, §5.3.2, Eq. (23) (the resolution-dependent
   shift).
.. [vanderschaaf1996] A. van der Schaaf, J. H. van Hateren, "Modelling the power spectra of
   natural images: statistics and information", Vision Res. 36 (1996).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from symsched._typing import FloatArray, JSONDict
from symsched._validate import check_choice, check_steps
from symsched.flow.rules import RULES, ShiftRule
from symsched.flow.shift import optimal_shift, shifted_uniform_grid

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "RESOLUTIONS",
    "STEPS",
    "VAE_FACTOR",
    "ExponentFit",
    "ResolutionRow",
    "ResolutionTable",
    "RuleGap",
    "compare_resolution",
    "fit_exponent",
    "latent_side",
    "markdown_table",
    "photograph_proxy",
    "plot_resolution",
]

VAE_FACTOR = 8
"""Image pixels per latent pixel of the SD3 and Flux VAEs."""
RESOLUTIONS: tuple[int, ...] = (256, 512, 768, 1024, 1536, 2048)
"""The default image sides R (latent sides 32 ... 256)."""
STEPS: tuple[int, ...] = (4, 8, 10, 20, 28, 50)
"""The default step counts N (Flux.1 dev's default is 28, SD3's 28, Flux schnell's 4)."""

SpectrumOf = Callable[[int], FloatArray]
"""A spectrum for a latent side L (the proxy of :func:`photograph_proxy` by default)."""


def latent_side(resolution: int) -> int:
    """The latent side :math:`L=R/8` of an image of side ``resolution`` (a multiple of 8).

    Parameters
    ----------
    resolution
        R, pixels.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If R is not a positive multiple of :data:`VAE_FACTOR`.
    """
    r = check_steps(resolution, "resolution")
    if r % VAE_FACTOR:
        raise ValueError(f"resolution must be a multiple of {VAE_FACTOR}, got {r}")
    return r // VAE_FACTOR


def photograph_proxy(side: int) -> FloatArray:
    """The proxy spectrum of a unit-variance latent of side ``side``: the ring-averaged Fourier
    spectrum of ``side`` x ``side`` RGB patches of the two photographs, mean eigenvalue 1.

    Parameters
    ----------
    side
        L (1 to 427, the photographs' height).

    Returns
    -------
    FloatArray
        :math:`3L^2` eigenvalues, descending, mean 1 (cached per process by
        :func:`symsched.spectrum.photographs_spectrum`).
    """
    from symsched.spectrum import photographs_spectrum, rescale_mean

    est = photographs_spectrum(check_steps(side, "side"), "fourier", radial=True)
    return rescale_mean(est.eigenvalues, 1.0)


@dataclass(frozen=True)
class RuleGap:
    """One rule at one (R, N).

    Attributes
    ----------
    rule
        The rule's name.
    shift, mu
        :math:`s_{\\rm rule}` and :math:`\\ln s_{\\rm rule}`.
    log_gap
        :math:`\\ln(s_{\\rm rule}/s^\\star)` (> 0: the rule shifts more than the optimum).
    kl
        :math:`\\mathrm{KL}(\\text{data}\\,\\|\\,\\text{output})` on the rule's grid.
    kl_ratio
        ``kl`` over the optimum's KL (>= 1 up to rounding: the cost of the rule).
    """

    rule: str
    shift: float
    mu: float
    log_gap: float
    kl: float
    kl_ratio: float

    def to_json(self) -> JSONDict:
        """All fields."""
        return {
            "rule": self.rule,
            "shift": self.shift,
            "mu": self.mu,
            "log_gap": self.log_gap,
            "kl": self.kl,
            "kl_ratio": self.kl_ratio,
        }


@dataclass(frozen=True)
class ResolutionRow:
    """The optimum and every rule at one (R, N).

    Attributes
    ----------
    resolution, side, steps
        R, L = R/8 and N.
    shift, mu
        :math:`s^\\star` and :math:`\\mu^\\star=\\ln s^\\star`.
    kl
        The exact KL at :math:`s^\\star` (:func:`symsched.gaussian.exact.kl`, full spectrum).
    rules
        :class:`RuleGap` by rule name.
    """

    resolution: int
    side: int
    steps: int
    shift: float
    mu: float
    kl: float
    rules: dict[str, RuleGap]

    def to_json(self) -> JSONDict:
        """All fields, the rules by name."""
        return {
            "resolution": self.resolution,
            "side": self.side,
            "steps": self.steps,
            "shift": self.shift,
            "mu": self.mu,
            "kl": self.kl,
            "rules": {k: v.to_json() for k, v in self.rules.items()},
        }


@dataclass(frozen=True)
class ExponentFit:
    r"""A least-squares line :math:`\ln s=\beta\ln R+c` over the resolutions at one N.

    Attributes
    ----------
    subject
        ``"optimal"`` or a rule's name.
    steps
        N.
    exponent
        :math:`\beta=d\ln s/d\ln R`.
    intercept
        :math:`c`.
    rms
        Root-mean-square residual in :math:`\ln s` (0 for an exact power law).
    """

    subject: str
    steps: int
    exponent: float
    intercept: float
    rms: float

    def to_json(self) -> JSONDict:
        """All fields."""
        return {
            "subject": self.subject,
            "steps": self.steps,
            "exponent": self.exponent,
            "intercept": self.intercept,
            "rms": self.rms,
        }


def fit_exponent(
    resolutions: Sequence[float], shifts: Sequence[float], subject: str = "", steps: int = 0
) -> ExponentFit:
    r"""The least-squares slope of :math:`\ln s` against :math:`\ln R`.

    Parameters
    ----------
    resolutions, shifts
        At least two (R, s) pairs, all > 0, with at least two distinct R.
    subject, steps
        Labels stored in the result.

    Returns
    -------
    ExponentFit

    Raises
    ------
    ValueError
        Fewer than two points, unequal lengths, values <= 0 or a single distinct R.
    """
    rx = np.asarray(resolutions, dtype=np.float64)
    ry = np.asarray(shifts, dtype=np.float64)
    if rx.shape != ry.shape or rx.ndim != 1 or rx.size < 2:
        raise ValueError("need at least two (resolution, shift) pairs of equal length")
    both = np.concatenate([rx, ry])
    if not (np.all(np.isfinite(both)) and np.all(both > 0)):
        raise ValueError("resolutions and shifts must be finite and > 0")
    x, y = np.log(rx), np.log(ry)
    xc = x - x.mean()
    sxx = float(xc @ xc)
    if sxx == 0.0:
        raise ValueError("need at least two distinct resolutions")
    slope = float(xc @ (y - y.mean())) / sxx
    intercept = float(y.mean() - slope * x.mean())
    rms = float(np.sqrt(np.mean((y - (slope * x + intercept)) ** 2)))
    return ExponentFit(subject, int(steps), slope, intercept, rms)


@dataclass
class ResolutionTable:
    """The measured table of :func:`compare_resolution`.

    Attributes
    ----------
    rows
        One row per (R, N), R-major.
    rules
        The rule names compared, in order.
    spectrum
        What the spectra were (for titles and reports).
    top_eigenvalues
        The largest proxy eigenvalue at each R (the low-frequency power that grows with L).
    seconds
        Wall time of the spectra, the optima and the rules' KLs.
    """

    rows: list[ResolutionRow]
    rules: tuple[str, ...]
    spectrum: str
    top_eigenvalues: dict[int, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def resolutions(self) -> list[int]:
        """The resolutions, in run order."""
        return list(dict.fromkeys(r.resolution for r in self.rows))

    @property
    def steps(self) -> list[int]:
        """The step counts, in run order."""
        return list(dict.fromkeys(r.steps for r in self.rows))

    def row(self, resolution: int, steps: int) -> ResolutionRow:
        """The row of (R, N); ``KeyError`` if it was not computed."""
        for r in self.rows:
            if (r.resolution, r.steps) == (resolution, steps):
                return r
        raise KeyError(f"no row (R={resolution}, N={steps})")

    def exponents(self) -> dict[str, dict[int, ExponentFit]]:
        r"""The fitted :math:`d\ln s/d\ln R` of the optimum (key ``"optimal"``) and of every
        rule on the same resolutions, at each N (needs two resolutions or more)."""
        out: dict[str, dict[int, ExponentFit]] = {"optimal": {}}
        out.update({name: {} for name in self.rules})
        res = self.resolutions
        for n in self.steps:
            rows = [self.row(r, n) for r in res]
            out["optimal"][n] = fit_exponent(res, [w.shift for w in rows], "optimal", n)
            for name in self.rules:
                shifts = [w.rules[name].shift for w in rows]
                out[name][n] = fit_exponent(res, shifts, name, n)
        return out

    def increasing_in_resolution(self) -> dict[int, bool]:
        """At each N, whether :math:`s^\\star` increases strictly with R."""
        res = self.resolutions
        out: dict[int, bool] = {}
        for n in self.steps:
            s = [self.row(r, n).shift for r in res]
            out[n] = all(b > a for a, b in itertools.pairwise(s))
        return out

    def increasing_in_steps(self) -> dict[int, bool]:
        """At each R, whether :math:`s^\\star` increases strictly with N."""
        ns = sorted(self.steps)
        out: dict[int, bool] = {}
        for r in self.resolutions:
            s = [self.row(r, n).shift for n in ns]
            out[r] = all(b > a for a, b in itertools.pairwise(s))
        return out

    def to_json(self) -> JSONDict:
        """Rows, exponents, monotonicity, the proxy's top eigenvalues and timings."""
        return {
            "spectrum": self.spectrum,
            "rules": list(self.rules),
            "rows": [r.to_json() for r in self.rows],
            "exponents": {
                k: {str(n): f.to_json() for n, f in v.items()} for k, v in self.exponents().items()
            },
            "increasing_in_resolution": {
                str(k): v for k, v in self.increasing_in_resolution().items()
            },
            "increasing_in_steps": {str(k): v for k, v in self.increasing_in_steps().items()},
            "top_eigenvalues": {str(k): v for k, v in self.top_eigenvalues.items()},
            "seconds": dict(self.seconds),
        }


def _kl(lam: FloatArray, steps: int, shift: float) -> float:
    from symsched.gaussian.exact import kl

    return float(kl(lam, shifted_uniform_grid(steps, shift)).kl_source_output)


def compare_resolution(
    resolutions: Sequence[int] = RESOLUTIONS,
    steps: Sequence[int] = STEPS,
    rules: Sequence[str] = tuple(RULES),
    *,
    spectrum: SpectrumOf | None = None,
    spectrum_label: str | None = None,
) -> ResolutionTable:
    r"""The optimal shift :math:`s^\star(R,N)` and every rule's gap and KL cost.

    Parameters
    ----------
    resolutions
        Image sides R (multiples of 8).
    steps
        Step counts N.
    rules
        Names among :data:`symsched.flow.rules.RULES`.
    spectrum
        The spectrum of a latent side L (default :func:`photograph_proxy`).
    spectrum_label
        What ``spectrum`` is, for the table (default: the photograph proxy's description).

    Returns
    -------
    ResolutionTable
        One row per (R, N), R-major.

    Raises
    ------
    ValueError
        An unknown rule, a resolution that is not a multiple of 8, or an optimum outside the
        search bracket of :func:`~symsched.flow.shift.optimal_shift`.
    """
    for name in rules:
        check_choice(name, "rule", tuple(RULES))
    chosen: dict[str, ShiftRule] = {name: RULES[name] for name in rules}
    spec = photograph_proxy if spectrum is None else spectrum
    label = spectrum_label or (
        "photographs, radial Fourier spectrum of R/8 x R/8 RGB patches, mean eigenvalue 1"
        if spectrum is None
        else "user spectrum"
    )
    ns = [check_steps(n) for n in steps]
    rows: list[ResolutionRow] = []
    tops: dict[int, float] = {}
    seconds = {"spectra": 0.0, "optima": 0.0, "rule_kls": 0.0}
    for res in resolutions:
        side = latent_side(res)
        t0 = time.perf_counter()
        lam = np.asarray(spec(side), dtype=np.float64)
        tops[int(res)] = float(lam.max())
        t1 = time.perf_counter()
        seconds["spectra"] += t1 - t0
        for n in ns:
            t1 = time.perf_counter()
            opt = optimal_shift(lam, n)
            kl_star = _kl(lam, n, opt.shift)
            t2 = time.perf_counter()
            seconds["optima"] += t2 - t1
            gaps: dict[str, RuleGap] = {}
            for name, rule in chosen.items():
                s = rule.shift(int(res), n)
                value = _kl(lam, n, s)
                gaps[name] = RuleGap(
                    name, s, math.log(s), math.log(s / opt.shift), value, value / kl_star
                )
            seconds["rule_kls"] += time.perf_counter() - t2
            rows.append(
                ResolutionRow(
                    int(res),
                    side,
                    n,
                    opt.shift,
                    opt.mu,
                    kl_star,
                    gaps,
                )
            )
    return ResolutionTable(rows, tuple(rules), label, tops, seconds)


def markdown_table(table: ResolutionTable, *, digits: int = 3) -> str:
    r"""The table as GitHub Markdown: one line per (R, N).

    Columns: R, L, N, :math:`s^\star`, :math:`\mu^\star`, then for each rule its shift, the gap
    :math:`\ln(s_{\rm rule}/s^\star)` and the KL ratio :math:`\mathrm{KL}(s_{\rm rule})/
    \mathrm{KL}(s^\star)`, written ``s (gap; xratio)``.

    Parameters
    ----------
    table
        A measured table.
    digits
        Significant digits of the shifts and ratios.

    Returns
    -------
    str
        The header, the alignment line and one line per row, ending with a newline.
    """
    g = f".{int(digits)}g"
    head = ["R", "L", "N", "s*", "mu*"] + [f"{k}: s (ln s/s*; KL/KL*)" for k in table.rules]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---:" for _ in head) + "|"]
    for r in table.rows:
        cells = [str(r.resolution), str(r.side), str(r.steps), f"{r.shift:{g}}", f"{r.mu:+.3f}"]
        for k in table.rules:
            q = r.rules[k]
            cells.append(f"{q.shift:{g}} ({q.log_gap:+.2f}; ×{q.kl_ratio:{g}})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


_RULE_STYLE: dict[str, dict[str, object]] = {
    "sd3": {"color": "k", "ls": ":", "lw": 1.5},
    "sd3-resolution": {"color": "k", "ls": "-.", "lw": 1.2},
    "flux": {"color": "0.45", "ls": "--", "lw": 1.5},
}


def plot_resolution(
    table: ResolutionTable, steps: Sequence[int] | None = None, reference: int | None = None
) -> Figure:
    r""":math:`s^\star` against R for several N with the rules' curves, on log axes; beside it
    the trend alone, every curve divided by its value at the reference resolution.

    The N-independent rules are drawn once (black / grey); the optimum (solid, circles) and
    Flux.2 (dashed, same colour) once per N. The rules are evaluated at every multiple of 16
    between the smallest and largest R of the table.

    Parameters
    ----------
    table
        A measured table (two resolutions or more).
    steps
        The N to draw (default: every N of the table).
    reference
        The resolution the right panel divides by (default: 1024 if present, else the middle
        one).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import FALLBACK_COLOURS

    res = table.resolutions
    ns = list(table.steps if steps is None else steps)
    ref = reference if reference is not None else (1024 if 1024 in res else res[len(res) // 2])
    dense = np.arange(16 * math.ceil(min(res) / 16), max(res) + 1, 16)
    fig = new_figure((11.0, 4.4))
    ax, trend = fig.subplots(1, 2)
    # one colour per N, none of them the greys and black of the rules' lines
    colours = {n: FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)] for i, n in enumerate(ns)}
    for n in ns:
        s = np.array([table.row(r, n).shift for r in res])
        kw = {"color": colours[n], "marker": "o", "ms": 4}
        ax.plot(res, s, "-", label=f"optimal s*, N = {n}", **kw)
        trend.plot(res, s / table.row(ref, n).shift, "-", **kw)
    for name in table.rules:
        rule = RULES[name]
        if name in _RULE_STYLE:
            n0 = ns[0]
            curve = np.array([rule.shift(int(r), n0) for r in dense])
            at_ref = rule.shift(ref, n0)
            style = _RULE_STYLE[name]
            ax.plot(dense, curve, label=f"rule {name}", **style)
            trend.plot(dense, curve / at_ref, **style)
            continue
        for n in ns:  # a rule that depends on N (flux2): one curve per N, the optimum's colour
            curve = np.array([rule.shift(int(r), n) for r in dense])
            at_ref = rule.shift(ref, n)
            style = {"color": colours[n], "ls": "--", "lw": 1.0}
            ax.plot(dense, curve, label=f"rule {name}, N = {n}", **style)
            trend.plot(dense, curve / at_ref, **style)
    for a in (ax, trend):
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xticks(res, [str(r) for r in res])
        a.minorticks_off()
        a.set_xlabel("image side R (pixels; latent side R/8)")
        a.grid(True, which="major", alpha=0.3)
    for a in (ax, trend):  # labelled decades and octaves: a log axis with one label reads badly
        lo, hi = a.get_ylim()
        ticks = [2.0**k for k in range(math.floor(math.log2(lo)), math.ceil(math.log2(hi)) + 1)]
        ticks = [t for t in ticks if lo <= t <= hi]
        a.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.set_ylabel("shift s (noise level multiplier)")
    ax.set_title("optimal shift vs published rules", fontsize=10)
    trend.set_ylabel(f"s(R) / s({ref})")
    trend.set_title(f"trend only: each curve over its value at R = {ref}", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=7)
    fig.suptitle(
        "Optimal flow shift s*(R, N) (exact KL of N uniform Euler steps) vs the published rules\n"
        f"spectrum: {table.spectrum}",
        fontsize=10,
    )
    return tidy(fig)
