r"""Transfer of sampler-aware optimal grids beyond the Gaussian they were optimised on, measured.

A sampler-aware grid (:func:`symsched.gaussian.sampler_optimum.sampler_optimal`, the
``kl-optimal`` method with ``sampler=``) is exact for a Gaussian source with the covariance
spectrum it was given. :func:`compare_transfer` runs it, under the same sampler, on models that are
*not* Gaussian, beside the standard grids, and measures what each model is for
(docs/theory/coupling.md#transfer-beyond-the-gaussian):

* ``gm`` — the Gaussian mixture of [aranguri2025, §3] on its exact two-coordinate reduction
  (:mod:`symsched.highdim.noise_level`): the mode-fraction error :math:`|\hat p-p|` and the
  within-sample spread error :math:`|\widehat{\rm std}/\sigma-1|`, both exact (no Monte Carlo);
* ``cw`` — the Curie–Weiss model [aranguri2025, §4] with the two-mode denoiser, full simulation:
  the same two errors against the finite-d two-mode targets (within-sample *variance*), Monte
  Carlo with standard errors;
* ``digits``, ``patches`` — the trained networks (:mod:`symsched.models.trained`): Fréchet and
  sliced-Wasserstein distance of the samples to the held-out split, with error bars over seeded
  batches (:func:`symsched.stein.quality.compare_schedules`).

Each model's grid is optimised on its Gaussian proxy: the covariance spectrum of its own law (GM,
CW) or of its training split (networks). The grids (:data:`METHODS`): the sampler-aware optimum,
log-SNR-uniform (``loglinear``), EDM :math:`\rho=7` (``karras``), Align Your Steps (``ays``: a
published table, its own ends), the DDIM KL optimum (``kl-optimal`` with ``sampler="ddim"``) and
the score-optimal grid of the model itself (``stein`` [williams2024, Algorithm 1]).

Every comparison is paired: all grids of one (model, sampler) start from the same noise. The
verdicts (:meth:`TransferTable.verdicts`) compare the sampler-aware grid with each other grid, per
metric: a win or a loss only when the paired difference is significant (two-sided Student-t at
level ``alpha``) or, for an exact metric, larger than ``exact_rtol`` of the larger value.

References
----------
.. [aranguri2025] S. Aranguri, G. Biroli, M. Mézard, E. Vanden-Eijnden, arXiv:2501.00988, §3-§4.
.. [williams2024] C. Williams, A. Campbell, A. Doucet, S. Syed, arXiv:2412.07877, Algorithm 1.
.. [karras2022] T. Karras et al., arXiv:2206.00364, Algorithm 1 and Eq. (5).
.. [lu2022] C. Lu et al. (DPM-Solver++), arXiv:2211.01095, Algorithm 2.
.. [sabour2024] A. Sabour, S. Fidler, K. Kreis, "Align Your Steps", arXiv:2404.14507, Table 3.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from symsched._typing import FloatArray, JSONDict
from symsched._validate import check_choice
from symsched.highdim.cw import CurieWeiss
from symsched.highdim.gm import GaussianMixture

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from symsched.models import ScoreModel

__all__ = [
    "AWARE",
    "METHODS",
    "METRICS",
    "MODELS",
    "SAMPLERS",
    "TransferRow",
    "TransferSettings",
    "TransferTable",
    "Verdict",
    "compare_transfer",
    "plot_transfer",
    "proxy_spectrum",
]

MODELS: tuple[str, ...] = ("gm", "cw", "digits", "patches")
"""The non-Gaussian models: the GM and Curie–Weiss laws and the two trained networks."""

SAMPLERS: tuple[str, ...] = ("heun", "dpmpp-2m")
"""The samplers compared (a grid is optimised for, and run under, one of them)."""

AWARE = "sampler-aware"
"""The label of the sampler-aware optimum in the table."""

METHODS: tuple[str, ...] = (AWARE, "loglinear", "karras", "ays", "ddim-optimal", "stein")
"""The compared grids; the verdicts compare :data:`AWARE` with each of the others."""

METRICS: dict[str, tuple[str, ...]] = {
    "gm": ("mode_fraction_error", "std_error"),
    "cw": ("mode_fraction_error", "within_var_error"),
    "digits": ("fd", "sw"),
    "patches": ("fd", "sw"),
}
"""The measured metrics of each model, all lower-is-better."""

Outcome = Literal["win", "tie", "lose"]


@dataclass(frozen=True)
class TransferSettings:
    """Every parameter of a transfer comparison other than the models, samplers, N and grids.

    Attributes
    ----------
    sigma_min, sigma_max
        Ends of every grid but ``ays`` (the trained networks' range is ``[0.002, 80]``).
    gm
        The Gaussian mixture (default: [aranguri2025]'s ``p = 0.8, m = 1, sigma = 0.5``,
        ``d = 100``).
    cw
        The Curie–Weiss model (default ``beta = 2, p = 0.8, d = 100``).
    cw_samples
        Monte Carlo samples of each CW run.
    batches, batch
        Network batches (error bars) and their size (default: the held-out split's).
    projections
        Directions of the sliced Wasserstein distance.
    ays_table
        The Align Your Steps table (its ends are the table's: 14.6 to 0.029 for ``sd15``).
    seed
        Base seed of every random draw (start noise, Stein probes, projections).
    """

    sigma_min: float = 0.002
    sigma_max: float = 80.0
    gm: GaussianMixture = field(default_factory=lambda: GaussianMixture(0.8, 1.0, 0.5, 100))
    cw: CurieWeiss = field(default_factory=lambda: CurieWeiss(2.0, 0.8, 100))
    cw_samples: int = 20_000
    batches: int = 5
    batch: int | None = None
    projections: int = 256
    ays_table: str = "sd15"
    seed: int = 0

    def to_json(self) -> JSONDict:
        """The settings as JSON values (the models by their parameters)."""
        return {
            "sigma_min": self.sigma_min,
            "sigma_max": self.sigma_max,
            "gm": self.gm.params(),
            "cw": {"beta": self.cw.beta, "p": self.cw.p, "dim": self.cw.dim},
            "cw_samples": self.cw_samples,
            "batches": self.batches,
            "batch": self.batch,
            "projections": self.projections,
            "ays_table": self.ays_table,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class TransferRow:
    """One (model, sampler, N, grid) of the table.

    Attributes
    ----------
    model, sampler, steps, method
        What was run.
    values, stderrs
        Each metric of :data:`METRICS` and its standard error (0 for an exact metric).
    grid
        The grid (N + 1 levels).
    paired
        Per-unit contributions of each stochastic metric (per sample or per batch, on common
        random numbers across grids): the paired difference of two rows has the standard error
        of the difference of these arrays. Empty for exact metrics.
    info
        What the grid's builder reported (e.g. the optimiser's convergence).
    """

    model: str
    sampler: str
    steps: int
    method: str
    values: dict[str, float]
    stderrs: dict[str, float]
    grid: FloatArray
    paired: dict[str, FloatArray] = field(default_factory=dict, repr=False)
    info: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> JSONDict:
        """The row without its per-unit contributions."""
        from symsched._json import json_safe

        return {
            "model": self.model,
            "sampler": self.sampler,
            "steps": self.steps,
            "method": self.method,
            "values": dict(self.values),
            "stderrs": dict(self.stderrs),
            "grid": [float(v) for v in self.grid],
            "info": json_safe(dict(self.info)),
        }


@dataclass(frozen=True)
class Verdict:
    """The sampler-aware grid against one other grid on one metric.

    Attributes
    ----------
    model, sampler, steps, baseline, metric
        What is compared.
    aware, other
        The two values.
    diff, se
        ``aware - other`` and its paired standard error (0 for an exact metric).
    threshold
        The tie band: the Student-t multiple of ``se``, or ``exact_rtol`` of the larger value.
    outcome
        ``"win"`` (significantly lower), ``"lose"`` (significantly higher) or ``"tie"``.
    """

    model: str
    sampler: str
    steps: int
    baseline: str
    metric: str
    aware: float
    other: float
    diff: float
    se: float
    threshold: float
    outcome: Outcome

    def to_json(self) -> JSONDict:
        """All fields as JSON values."""
        return {
            "model": self.model,
            "sampler": self.sampler,
            "steps": self.steps,
            "baseline": self.baseline,
            "metric": self.metric,
            "aware": self.aware,
            "other": self.other,
            "diff": self.diff,
            "se": self.se,
            "threshold": self.threshold,
            "outcome": self.outcome,
        }


@dataclass
class TransferTable:
    """The measured table of :func:`compare_transfer`.

    Attributes
    ----------
    rows
        One row per (model, sampler, N, method).
    settings
        The settings used.
    floors
        Networks: the train-vs-held-out floor ``{model: {metric: (mean, se)}}``.
    seconds
        Wall time of the grids and of the measurements, per model.
    """

    rows: list[TransferRow]
    settings: TransferSettings
    floors: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def row(self, model: str, sampler: str, steps: int, method: str) -> TransferRow:
        """The row of (model, sampler, N, method); ``KeyError`` if it was not run."""
        for r in self.rows:
            if (r.model, r.sampler, r.steps, r.method) == (model, sampler, steps, method):
                return r
        raise KeyError(f"no row ({model}, {sampler}, N={steps}, {method})")

    def keys(self) -> list[tuple[str, str, int]]:
        """The (model, sampler, N) combinations, in run order."""
        out: list[tuple[str, str, int]] = []
        for r in self.rows:
            if (r.model, r.sampler, r.steps) not in out:
                out.append((r.model, r.sampler, r.steps))
        return out

    def verdicts(self, *, alpha: float = 0.05, exact_rtol: float = 0.01) -> list[Verdict]:
        r"""The sampler-aware grid against every other grid, per (model, sampler, N, metric).

        Stochastic metrics: the paired difference of the rows' per-unit contributions,
        ``se = std(diff) / sqrt(n)``; a tie when ``|diff| <= t_{1 - alpha/2, n-1} se``. Exact
        metrics: a tie when ``|diff| <= exact_rtol max(|aware|, |other|)``.

        Parameters
        ----------
        alpha
            Two-sided level of the paired test.
        exact_rtol
            Relative tie band of an exact metric.

        Returns
        -------
        list of Verdict
        """
        from scipy import stats

        out: list[Verdict] = []
        for model, sampler, n in self.keys():
            aware = self.row(model, sampler, n, AWARE)
            for r in self.rows:
                if (r.model, r.sampler, r.steps) != (model, sampler, n) or r.method == AWARE:
                    continue
                for metric in METRICS[model]:
                    a, b = aware.values[metric], r.values[metric]
                    diff = a - b
                    if metric in aware.paired:
                        units = aware.paired[metric] - r.paired[metric]
                        se = float(np.std(units, ddof=1) / math.sqrt(units.size))
                        band = float(stats.t.ppf(1 - alpha / 2, units.size - 1)) * se
                    else:
                        se, band = 0.0, exact_rtol * max(abs(a), abs(b))
                    outcome: Outcome = "tie" if abs(diff) <= band else "win" if diff < 0 else "lose"
                    out.append(
                        Verdict(model, sampler, n, r.method, metric, a, b, diff, se, band, outcome)
                    )
        return out

    @staticmethod
    def counts(
        verdicts: Iterable[Verdict], by: Sequence[str] = ("sampler",)
    ) -> dict[str, dict[str, int]]:
        """Win/tie/lose counts grouped by the verdict fields ``by`` (joined with ``/``)."""
        out: dict[str, dict[str, int]] = {}
        for v in verdicts:
            key = "/".join(str(getattr(v, f)) for f in by)
            c = out.setdefault(key, {"win": 0, "tie": 0, "lose": 0})
            c[v.outcome] += 1
        return out

    def complete(self) -> list[str]:
        """What is missing or not finite: every (model, sampler, N) needs every method of the
        run and finite values and standard errors of every metric (empty = complete)."""
        problems: list[str] = []
        methods = sorted({r.method for r in self.rows})
        for model, sampler, n in self.keys():
            for method in methods:
                try:
                    r = self.row(model, sampler, n, method)
                except KeyError:
                    problems.append(f"missing ({model}, {sampler}, N={n}, {method})")
                    continue
                for metric in METRICS[model]:
                    v, s = r.values.get(metric, math.nan), r.stderrs.get(metric, math.nan)
                    if not (math.isfinite(v) and math.isfinite(s) and s >= 0):
                        problems.append(f"({model}, {sampler}, N={n}, {method}) {metric} = {v}")
                if r.grid.size != n + 1:
                    problems.append(f"({model}, {sampler}, N={n}, {method}) grid size")
        return problems

    def to_json(self, *, alpha: float = 0.05, exact_rtol: float = 0.01) -> JSONDict:
        """Rows, verdicts (with ``alpha`` and ``exact_rtol``), counts, floors and settings."""
        from symsched._json import json_safe

        verdicts = self.verdicts(alpha=alpha, exact_rtol=exact_rtol)
        return {
            "settings": self.settings.to_json(),
            "rows": [r.to_json() for r in self.rows],
            "verdicts": [v.to_json() for v in verdicts],
            "counts_by_sampler": json_safe(self.counts(verdicts)),
            "counts_by_model_sampler_steps": json_safe(
                self.counts(verdicts, ("model", "sampler", "steps"))
            ),
            "floors": {m: {k: list(v) for k, v in f.items()} for m, f in self.floors.items()},
            "alpha": alpha,
            "exact_rtol": exact_rtol,
            "seconds": dict(self.seconds),
        }


def proxy_spectrum(model: str, settings: TransferSettings | None = None) -> FloatArray:
    """The Gaussian proxy spectrum a model's sampler-aware grid is optimised on.

    ``gm`` / ``cw``: the covariance spectrum of the model's law
    (:func:`symsched.highdim.noise_level.gm_spectrum`, :func:`~symsched.highdim.noise_level.
    cw_spectrum` of the two-mode law); ``digits`` / ``patches``: the dequantised covariance
    spectrum of the *train* split (the network's training data; the held-out split scores the
    samples and informs no grid).

    Parameters
    ----------
    model
        One of :data:`MODELS`.
    settings
        The GM and CW parameters (default :class:`TransferSettings`).

    Returns
    -------
    FloatArray
        The eigenvalues.
    """
    from symsched.highdim.noise_level import cw_spectrum, gm_spectrum

    check_choice(model, "model", MODELS)
    st = TransferSettings() if settings is None else settings
    if model == "gm":
        return gm_spectrum(st.gm)
    if model == "cw":
        return cw_spectrum(st.cw)
    from symsched.datasets import QUANTISATION_STEP, spectrum, split

    return spectrum(split(model, "train"), QUANTISATION_STEP[model])


def _score_model(model: str, st: TransferSettings) -> ScoreModel:
    """The model the Stein grid is estimated on (and, for the networks, sampled)."""
    from symsched.models import load_model, symmetric_gm

    if model == "gm":
        g = st.gm
        return symmetric_gm(g.p, g.m, g.mode_sigma, g.dim)
    if model == "cw":
        from symsched.highdim.noise_level import CurieWeissModel

        return CurieWeissModel(st.cw)
    return load_model(model)


def _grids(
    model: str,
    samplers: Sequence[str],
    steps: Sequence[int],
    methods: Sequence[str],
    st: TransferSettings,
) -> tuple[
    dict[str, dict[str, dict[int, FloatArray]]], dict[tuple[str, str, int], dict[str, object]]
]:
    """``{sampler: {method: {N: grid}}}`` (each grid computed once) and the builders' reports."""
    from symsched.schedules import build
    from symsched.stein.quality import stein_grids

    lo, hi = st.sigma_min, st.sigma_max
    lam = proxy_spectrum(model, st) if {AWARE, "ddim-optimal"} & set(methods) else None
    shared: dict[str, dict[int, FloatArray]] = {}
    info: dict[tuple[str, str, int], dict[str, object]] = {}
    for method in methods:
        if method == "loglinear":
            shared[method] = {
                n: build("loglinear", n, sigma_min=lo, sigma_max=hi).sigmas for n in steps
            }
        elif method == "karras":
            shared[method] = {
                n: build("karras", n, sigma_min=lo, sigma_max=hi, rho=7.0).sigmas for n in steps
            }
        elif method == "ays":
            shared[method] = {n: build("ays", n, model=st.ays_table).sigmas for n in steps}
        elif method == "stein":
            shared[method] = stein_grids(
                _score_model(model, st), steps, sigma_min=lo, sigma_max=hi, seed=st.seed
            )
        elif method == "ddim-optimal":
            shared[method] = {}
            for n in steps:
                s = build("kl-optimal", n, eigenvalues=lam, sigma_min=lo, sigma_max=hi)
                shared[method][n] = s.sigmas
                info[("ddim", method, n)] = _report(s.params)
    out: dict[str, dict[str, dict[int, FloatArray]]] = {}
    for smp in samplers:
        out[smp] = {}
        for method in methods:
            if method != AWARE:
                out[smp][method] = shared[method]
                continue
            out[smp][method] = {}
            for n in steps:
                sch = build(
                    "kl-optimal", n, eigenvalues=lam, sigma_min=lo, sigma_max=hi, sampler=smp
                )
                grid, rep = sch.sigmas, _report(sch.params)
                out[smp][method][n] = grid
                info[(smp, method, n)] = rep
    return out, info


def _report(params: Mapping[str, object]) -> dict[str, object]:
    """What a ``kl-optimal`` build reports about its optimiser."""
    keys = ("objective", "objective_value", "converged", "iterations", "max_step_ratio")
    return {k: params[k] for k in keys if k in params}


def _abs_error(values: FloatArray, target: float) -> tuple[float, float, FloatArray]:
    """``|mean - target|``, the s.e. of the mean and the per-sample contributions
    ``sign(mean - target) values`` (the first-order influence of each sample on the error)."""
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(values.size))
    return abs(mean - target), se, math.copysign(1.0, mean - target) * values


def _measure_cw(
    st: TransferSettings, sampler: str, grid: FloatArray
) -> tuple[dict[str, float], dict[str, float], dict[str, FloatArray]]:
    from symsched.highdim.cw import two_mode_law
    from symsched.highdim.noise_level import cw_sampler_run
    from symsched.models import NETWORK_SAMPLERS

    run = cw_sampler_run(st.cw, NETWORK_SAMPLERS[sampler], grid, st.cw_samples, st.seed)
    law = two_mode_law(st.cw)
    mf, mf_se, mf_u = _abs_error((run.magnetization > 0).astype(np.float64), law.mode_fraction)
    wv, wv_se, wv_u = _abs_error(run.within_var / law.within_var, 1.0)
    return (
        {"mode_fraction_error": mf, "within_var_error": wv},
        {"mode_fraction_error": mf_se, "within_var_error": wv_se},
        {"mode_fraction_error": mf_u, "within_var_error": wv_u},
    )


def compare_transfer(
    models: Sequence[str] = MODELS,
    samplers: Sequence[str] = SAMPLERS,
    steps: Sequence[int] = (5, 10, 20),
    methods: Sequence[str] = METHODS,
    settings: TransferSettings | None = None,
) -> TransferTable:
    r"""Run every grid of ``methods`` under every sampler on every model, and measure them.

    Parameters
    ----------
    models
        Names among :data:`MODELS`.
    samplers
        Names among :data:`SAMPLERS` (network samplers of :data:`symsched.models.NETWORK_SAMPLERS`).
    steps
        The step counts N (>= 2: the Stein grid needs an interior level).
    methods
        Names among :data:`METHODS`; must include :data:`AWARE` (the verdicts compare with it).
    settings
        Everything else (:class:`TransferSettings`).

    Returns
    -------
    TransferTable
        One row per (model, sampler, N, method), in that order.

    Raises
    ------
    ValueError
        An unknown model, sampler or method, :data:`AWARE` missing, or ``N < 2``.

    Notes
    -----
    The sampler-aware grid of each sampler uses that sampler's default objective (the coupling
    error for Heun and DPM-Solver++(2M), docs/theory/coupling.md#the-sampler-aware-optimum); the
    DDIM optimum (``ddim-optimal``) and the other grids are the same for both samplers. Every run
    starts from the prior :math:`\sigma_0\varepsilon` with seeded noise shared by all grids of a
    (model, sampler) (for ``ays``, scaled to its own :math:`\sigma_0`).
    """
    import torch

    from symsched.highdim.noise_level import gm_sampler_features
    from symsched.models import NETWORK_SAMPLERS

    st = TransferSettings() if settings is None else settings
    for m in models:
        check_choice(m, "model", MODELS)
    for s in samplers:
        check_choice(s, "sampler", SAMPLERS)
    for k in methods:
        check_choice(k, "method", METHODS)
    if AWARE not in methods:
        raise ValueError(f"methods must include {AWARE!r}: every verdict compares with it")
    ns = [int(n) for n in steps]
    if not ns or min(ns) < 2:
        raise ValueError(f"steps must be integers >= 2, got {list(steps)}")
    rows: list[TransferRow] = []
    floors: dict[str, dict[str, tuple[float, float]]] = {}
    seconds: dict[str, float] = {}
    for model in models:
        t0 = time.perf_counter()
        grids, info = _grids(model, samplers, ns, methods, st)
        t1 = time.perf_counter()
        seconds[f"{model}: grids"] = t1 - t0
        for smp in samplers:
            run = NETWORK_SAMPLERS[smp]
            if model in ("digits", "patches"):
                from symsched.models import load_model
                from symsched.stein.quality import Comparison, compare_schedules

                comp = compare_schedules(
                    model,
                    ns,
                    batches=st.batches,
                    batch=st.batch,
                    sampler=smp,
                    projections=st.projections,
                    seed=st.seed,
                    model=load_model(model),
                    grids=grids[smp],
                )
                floors[model] = {
                    "fd": Comparison.mean_se(comp.floor_fd),
                    "sw": Comparison.mean_se(comp.floor_sw),
                }
            for n in ns:
                for method in methods:
                    g = grids[smp][method][n]
                    key = ("ddim" if method == "ddim-optimal" else smp, method, n)
                    rep = dict(info.get(key, {}))
                    if model == "gm":
                        with torch.no_grad():
                            f = gm_sampler_features(st.gm, run, g)
                        vals = {
                            "mode_fraction_error": f["mode_fraction_error"],
                            "std_error": f["std_error"],
                        }
                        ses = dict.fromkeys(vals, 0.0)
                        units: dict[str, FloatArray] = {}
                        rep["sign_changes"] = f["sign_changes"]
                    elif model == "cw":
                        vals, ses, units = _measure_cw(st, smp, g)
                    else:
                        fd, sw = comp.fd[method][n], comp.sw[method][n]
                        (fm, fs), (wm, ws) = Comparison.mean_se(fd), Comparison.mean_se(sw)
                        vals, ses = {"fd": fm, "sw": wm}, {"fd": fs, "sw": ws}
                        units = {"fd": fd.copy(), "sw": sw.copy()}
                    rows.append(TransferRow(model, smp, n, method, vals, ses, g, units, rep))
        seconds[f"{model}: sampling"] = time.perf_counter() - t1
    return TransferTable(rows, st, floors, seconds)


def _model_title(model: str, settings: TransferSettings) -> str:
    """The model and its parameters, for a panel title."""
    if model == "gm":
        g = settings.gm
        return f"Gaussian mixture p = {g.p:g}, m = {g.m:g}, σ = {g.mode_sigma:g}, d = {g.dim}"
    if model == "cw":
        c = settings.cw
        return f"Curie–Weiss β = {c.beta:g}, p = {c.p:g}, d = {c.dim}"
    return f"trained {model} network"


_LABELS = {
    "mode_fraction_error": r"mode-fraction error $|\hat p - p|$",
    "std_error": r"spread error $|\widehat{\rm std}/\sigma - 1|$",
    "within_var_error": r"spread error $|\widehat{\rm var}/{\rm var} - 1|$",
    "fd": "Fréchet distance to held-out",
    "sw": "sliced $W_2$ to held-out",
}


def plot_transfer(table: TransferTable) -> Figure:
    """Each metric against N per grid (1 s.e. bars), one row per model, one column per
    (sampler, metric); log scales; titles name the model, sampler and metric; one legend.

    Parameters
    ----------
    table
        A measured table.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import REFERENCE, label, styles

    models = list(dict.fromkeys(r.model for r in table.rows))
    samplers = list(dict.fromkeys(r.sampler for r in table.rows))
    methods = list(dict.fromkeys(r.method for r in table.rows))
    ncol = 2 * len(samplers)
    fig = new_figure((3.9 * ncol, 3.3 * len(models) + 0.9))
    axes = fig.subplots(len(models), ncol, squeeze=False)
    look = styles(methods)
    for i, model in enumerate(models):
        for j, (smp, metric) in enumerate((s, k) for s in samplers for k in METRICS[model]):
            ax = axes[i, j]
            for method in methods:
                rs = sorted(
                    (
                        r
                        for r in table.rows
                        if (r.model, r.sampler, r.method) == (model, smp, method)
                    ),
                    key=lambda r: r.steps,
                )
                if not rs:
                    continue
                ax.errorbar(
                    [r.steps for r in rs],
                    [max(r.values[metric], 1e-12) for r in rs],
                    yerr=[r.stderrs[metric] for r in rs],
                    ms=4,
                    capsize=2,
                    **look[method].kwargs(),
                )
            if model in table.floors:
                ax.axhline(
                    table.floors[model][metric][0],
                    color=REFERENCE.color,
                    ls=REFERENCE.linestyle,
                    lw=1,
                    label="train vs held-out",
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ns = sorted({r.steps for r in table.rows if r.model == model})
            ax.set_xticks(ns, [str(n) for n in ns])
            ax.minorticks_off()
            ax.set_xlabel(f"steps N ({smp})")
            ax.set_ylabel(_LABELS[metric], fontsize=8)
            ax.set_title(
                f"{_model_title(model, table.settings)}\nsampler: {label(smp)}", fontsize=8
            )
    found: dict[str, Artist] = {}
    for ax in axes.ravel():  # methods in run order, then the floor (network rows only)
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(lab, h)
    labels = [k for k in [*(look[m].label for m in methods), "train vs held-out"] if k in found]
    handles = [found[k] for k in labels]
    fig.legend(handles, labels, loc="outside upper center", ncol=min(len(labels), 7), fontsize=8)
    return tidy(fig)
