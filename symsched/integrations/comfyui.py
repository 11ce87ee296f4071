r"""The functions behind the ComfyUI node pack ``comfyui/symsched_nodes`` (no ComfyUI import).

Every node of the pack is a thin adapter over one function here, so the schedule maths stays in
symsched and is testable without ComfyUI:

:func:`optimal_sigmas`
    The sampler-aware exact optimum of a grid for a sampler and N steps, ending with the step to 0
    (:func:`symsched.gaussian.sampler_optimum.sampler_optimal` with ``final_zero``;
    docs/theory/coupling.md#the-sampler-aware-optimum), on a model family's Gaussian proxy
    (:func:`symsched.reference.proxy_spectrum`) or a given spectrum. A family's own range at the
    step counts of ``symsched recommend`` is read from the precomputed table
    (``symsched/data/recommended.json``), which holds the same grid.
:func:`method_sigmas`
    Any registered method (:data:`symsched.schedules.METHODS`) by name with its options, ended at 0
    by :attr:`symsched.schedules.Schedule.ending_at_zero`.
:func:`stein_sigmas`
    The score-optimal (Stein-cost) grid [williams2024, Algorithm 1] of any callable denoiser
    ``D(x, sigma)`` on samples of a given shape (docs/theory/stein.md#end-to-end-schedule).
:func:`score_sigmas`
    Both exact KLs and the coupling error of a ``SIGMAS`` list under each sampler
    (:func:`symsched.score.score_grid`; docs/theory/coupling.md#scoring-a-grid).
:func:`scheduler_sigmas`
    What a KSampler scheduler entry returns for ``(n, sigma_min, sigma_max)``.

Conventions (docs/conventions.md#k-diffusion-and-comfyui): a ComfyUI ``SIGMAS`` value is a 1-D
float32 tensor of N+1 decreasing levels ending at 0 (N steps, the last one to 0;
docs/conventions.md#steps-and-the-final-0). A flow model's ``SIGMAS`` are flow times
:math:`t\in[0,1]` of :math:`x_t=(1-t)x_0+t\epsilon`; symsched's levels are
:math:`\rho=t/(1-t)` (docs/conventions.md#flow-matching, :mod:`symsched.export.flow_matching`).
Each function takes ``flow``: inputs are read as flow times and outputs written as flow times.

torch is imported only by :meth:`ComfySigmas.tensor` and :func:`stein_sigmas`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from symsched._typing import FloatArray, TorchTensor

if TYPE_CHECKING:
    from symsched.gaussian.sampler_optimum import Objective
    from symsched.reference import ModelFamily
    from symsched.score import SamplerScore

__all__ = [
    "FAMILIES",
    "FLOW_T_MAX",
    "ComfySigmas",
    "ScoreReport",
    "levels_from_sigmas",
    "method_sigmas",
    "optimal_sigmas",
    "parse_options",
    "resolve_spectrum",
    "scheduler_sigmas",
    "score_sigmas",
    "stein_sigmas",
    "to_tensor",
]

FAMILIES: tuple[str, ...] = ("edm", "sd15", "sdxl", "ddpm", "flow")
"""The model families of :data:`symsched.reference.MODELS` whose Gaussian proxy can be named."""

FLOW_T_MAX = 0.995
"""The largest flow time of a Stein grid of a flow model whose range reaches pure noise (t = 1):
the Stein cost needs a finite top level (:func:`stein_sigmas`)."""

Denoiser = Callable[[TorchTensor, TorchTensor], TorchTensor]
"""``D(x, sigma) -> denoised`` on ``(batch, *shape)`` and ``(batch,)`` torch tensors."""


# -- conversions ----------------------------------------------------------------------------------


def _flow_times(levels: FloatArray) -> FloatArray:
    from symsched.export.flow_matching import flow_sigmas

    return flow_sigmas(levels)


def _flow_levels(t: FloatArray) -> FloatArray:
    from symsched.export.flow_matching import flow_levels

    return flow_levels(t)


def levels_from_sigmas(sigmas: Any, *, flow: bool = False, name: str = "SIGMAS") -> FloatArray:
    r"""symsched noise levels from a ComfyUI ``SIGMAS`` value (tensor, array or list).

    Parameters
    ----------
    sigmas
        A 1-D sequence of strictly decreasing levels (a torch tensor is moved to the CPU).
    flow
        Read the values as flow times :math:`t\in[0,1]` and return :math:`\rho=t/(1-t)`.
    name
        What the values are called in error messages.

    Returns
    -------
    FloatArray
        The levels (float64), validated by :func:`symsched._validate.as_grid`.

    Raises
    ------
    ValueError
        If the values are not a 1-D strictly decreasing list of at least 2 non-negative levels
        (flow: times in ``[0, 1]``).
    """
    from symsched._validate import as_grid

    if hasattr(sigmas, "detach"):
        sigmas = sigmas.detach().to("cpu").double().numpy()
    arr = np.asarray(sigmas, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D list of noise levels, got shape {arr.shape}")
    if flow:
        if not (np.all(np.isfinite(arr)) and arr.min(initial=0.0) >= 0 and arr.max() <= 1):
            raise ValueError(f"{name} are flow times (flow is on) and must lie in [0, 1]")
        arr = _flow_levels(arr)
    return as_grid(arr, name)


def to_tensor(values: Sequence[float] | FloatArray) -> TorchTensor:
    """A ComfyUI ``SIGMAS`` tensor: 1-D float32 on the CPU.

    Parameters
    ----------
    values
        The values (finite).

    Returns
    -------
    torch.Tensor
        ``torch.float32``, shape ``(len(values),)``.
    """
    import torch

    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=torch.float32)


@dataclass(frozen=True)
class ComfySigmas:
    r"""A grid ready for ComfyUI.

    Attributes
    ----------
    levels
        symsched noise levels :math:`\rho`, N+1 decreasing, ending at 0 (the first may be
        ``inf``: pure noise, flow only).
    values
        What the ``SIGMAS`` output carries: ``levels``, or the flow times :math:`t=\rho/(1+\rho)`
        when ``flow`` (``inf -> 1``).
    flow
        Whether ``values`` are flow times.
    method
        The method (or ``sampler-optimal``, ``stein``).
    params
        The schedule's parameters (JSON-safe where it matters for the report).
    """

    levels: FloatArray
    values: FloatArray
    flow: bool
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        """N, the number of steps (``len(values) - 1``)."""
        return int(self.values.size - 1)

    def tensor(self) -> TorchTensor:
        """The ``SIGMAS`` tensor (:func:`to_tensor` of ``values``)."""
        return to_tensor(self.values)

    def summary(self) -> str:
        """One line: method, N, convention and the values."""
        unit = "flow times t" if self.flow else "sigmas"
        vals = ", ".join(f"{v:.6g}" for v in self.values)
        return f"{self.method}: {self.steps} steps, {unit} [{vals}]"


def _finish(levels: FloatArray, flow: bool, method: str, params: dict[str, Any]) -> ComfySigmas:
    """Check the convention (ends at 0, decreasing) and convert for ``flow``."""
    lev = np.asarray(levels, dtype=np.float64)
    if lev[-1] != 0.0:
        raise ValueError(f"{method}: the grid must end at 0, it ends at {lev[-1]:g}")
    if flow:
        values = _flow_times(lev)
    else:
        if math.isinf(lev[0]):
            raise ValueError(
                f"{method}: the grid starts from pure noise (sigma = inf), which a ComfyUI "
                "sampler of a VE/VP model cannot start from; give a finite sigma_max, or switch "
                "flow on for a flow model (t = 1)"
            )
        values = lev
    if values.size > 1 and not bool(np.all(np.diff(values) < 0)):
        raise ValueError(f"{method}: the grid is not strictly decreasing in float64")
    if not bool(np.all(np.diff(values.astype(np.float32)) < 0)):
        raise ValueError(
            f"{method}: two levels coincide in float32 (ComfyUI's SIGMAS dtype); use fewer steps"
        )
    return ComfySigmas(lev, values, flow, method, params)


def _range(
    sigma_min: float | None, sigma_max: float | None, *, flow: bool
) -> tuple[float | None, float | None]:
    """User ends in symsched levels (``None`` stays ``None``; flow: times converted)."""
    if not flow:
        return sigma_min, sigma_max
    out: list[float | None] = []
    for name, v in (("sigma_min", sigma_min), ("sigma_max", sigma_max)):
        if v is None:
            out.append(None)
            continue
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"{name} is a flow time (flow is on) and must lie in [0, 1], got {v}")
        out.append(float(_flow_levels(np.array([v]))[0]))
    return out[0], out[1]


# -- spectra --------------------------------------------------------------------------------------


def _family(name: str) -> ModelFamily:
    from symsched.reference import MODELS

    for m in MODELS:
        if m.name == name:
            return m
    raise ValueError(f"unknown model family {name!r}; choose one of {', '.join(FAMILIES)}")


def resolve_spectrum(spectrum: str | Sequence[float] | FloatArray) -> tuple[FloatArray, str]:
    """Eigenvalues from a family name (its Gaussian proxy) or numbers.

    Parameters
    ----------
    spectrum
        One of :data:`FAMILIES`; a text of numbers (JSON list or comma separated); or numbers.

    Returns
    -------
    (FloatArray, str)
        The eigenvalues and a phrase naming them.

    Raises
    ------
    ValueError
        An unknown family, or numbers that are not positive and finite.
    """
    from symsched._validate import as_eigenvalues

    if isinstance(spectrum, str):
        text = spectrum.strip()
        if text in FAMILIES:
            from symsched.reference import proxy_spectrum

            return proxy_spectrum(_family(text)), f"{text} Gaussian proxy"
        if not text or not (text[0].isdigit() or text[0] in "[.+"):
            raise ValueError(
                f"spectrum must be a model family ({', '.join(FAMILIES)}) or eigenvalues "
                f"(comma separated or a JSON list), got {spectrum[:40]!r}"
            )
        try:
            values = (
                json.loads(text) if text.startswith("[") else [float(v) for v in text.split(",")]
            )
        except ValueError as exc:
            raise ValueError(f"spectrum: not a list of numbers ({exc})") from None
        lam = as_eigenvalues(values)
        return lam, f"user spectrum ({lam.size} eigenvalues)"
    lam = as_eigenvalues(spectrum)
    return lam, f"user spectrum ({lam.size} eigenvalues)"


# -- the optimum ----------------------------------------------------------------------------------


def _objective(sampler: str, objective: str) -> str:
    """``recommended``: what ``symsched recommend`` minimises (coupling error for deterministic
    samplers, KL for stochastic ones); else ``kl`` / ``coupling`` as given."""
    from symsched.samplers import get_sampler

    if objective == "recommended":
        return "kl" if get_sampler(sampler).stochastic else "coupling"
    if objective not in ("kl", "coupling"):
        raise ValueError(f"objective must be recommended, kl or coupling, got {objective!r}")
    return objective


def _from_table(family: str, sampler: str, steps: int, objective: str) -> FloatArray | None:
    """The precomputed sampler-aware optimum of ``symsched recommend`` (``None`` if absent)."""
    from symsched.recommend import _table

    entry = _table().get(family, {}).get(sampler, {}).get(str(steps))
    if entry is None or _objective(sampler, "recommended") != objective:
        return None
    for cand in entry["alternatives"]:
        if cand["method"] == "sampler-optimal":
            return np.asarray([float(v) for v in cand["sigmas"]], dtype=np.float64)
    return None


def optimal_sigmas(
    steps: int,
    sampler: str = "ddim",
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    spectrum: str | Sequence[float] | FloatArray = "sdxl",
    *,
    objective: str = "recommended",
    flow: bool = False,
) -> ComfySigmas:
    r"""The sampler-aware exact optimum of an N-step grid that ends with the step to 0.

    The N - 1 steps from ``sigma_max`` to ``sigma_min`` and the step to 0 are optimised together
    (``final_zero``) on the spectrum's exact criterion for ``sampler``
    (docs/theory/coupling.md#the-sampler-aware-optimum); with ``sigma_min = 0`` the grid's last
    level is 0 itself.

    Parameters
    ----------
    steps
        N (>= 1).
    sampler
        A name of :data:`symsched.samplers.SAMPLERS` (not ``exact-flow``).
    sigma_min, sigma_max
        The range (``None``: the family's when ``spectrum`` names one, else 0.002 and 80); flow
        times when ``flow``.
    spectrum
        A family of :data:`FAMILIES` (its Gaussian proxy) or eigenvalues.
    objective
        ``recommended`` (coupling error for deterministic samplers, KL(target||output) for
        stochastic ones, as ``symsched recommend``), ``kl`` or ``coupling``.
    flow
        Ends given and values returned as flow times.

    Returns
    -------
    ComfySigmas
        N+1 levels ending at 0.

    Raises
    ------
    ValueError
        For an unknown sampler or family, a bad range, or a sampler that cannot run it.
    """
    from symsched._validate import check_steps
    from symsched.gaussian.sampler_optimum import sampler_optimal
    from symsched.samplers import get_sampler

    n = check_steps(steps, "steps")
    smp = get_sampler(sampler)
    if smp.oracle_only:
        raise ValueError(f"sampler {sampler} is the exact flow: there is no grid to choose")
    obj = _objective(sampler, objective)
    lo, hi = _range(sigma_min, sigma_max, flow=flow)
    family = (
        spectrum.strip() if isinstance(spectrum, str) and spectrum.strip() in FAMILIES else None
    )
    if family is not None:
        fam = _family(family)
        default = lo is None and hi is None
        lo = fam.sigma_min if lo is None else lo
        hi = fam.sigma_max if hi is None else hi
        if default or (lo == fam.sigma_min and hi == fam.sigma_max):
            got = _from_table(family, sampler, n, obj)
            if got is not None:
                table = {"sampler": sampler, "objective": obj, "source": "precomputed table"}
                return _finish(got, flow, "sampler-optimal", table | {"spectrum": family})
    lo = 0.002 if lo is None else lo
    hi = 80.0 if hi is None else hi
    lam, what = resolve_spectrum(spectrum)
    tail = lo > 0
    if tail and n == 1:
        return _finish(np.array([hi, 0.0]), flow, "sampler-optimal", {"sampler": sampler})
    res = sampler_optimal(
        lam, n, lo, hi, sampler=sampler, objective=cast("Objective", obj), final_zero=tail
    )
    params: dict[str, Any] = {
        "sampler": sampler,
        "objective": res.objective,
        "objective_value": res.objective_value,
        "spectrum": what,
        "sigma_min": lo,
        "sigma_max": hi,
        "final_zero": tail,
    }
    return _finish(np.asarray(res.sigmas, dtype=np.float64), flow, "sampler-optimal", params)


# -- any method -----------------------------------------------------------------------------------


def parse_options(text: str | Mapping[str, object] | None) -> dict[str, object]:
    """A method's options from a JSON object text (``""`` or ``None``: no options).

    Parameters
    ----------
    text
        ``'{"rho": 7}'``, a mapping, or empty.

    Returns
    -------
    dict
        The options.

    Raises
    ------
    ValueError
        If the text is not JSON, or not a JSON object.
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return dict(text)
    if not text.strip():
        return {}
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f'options must be a JSON object such as {{"rho": 7}}: {exc.msg} at char {exc.pos}'
        ) from None
    if not isinstance(obj, dict):
        raise ValueError(f"options must be a JSON object, got {type(obj).__name__}")
    return {str(k): (math.inf if v == "inf" else v) for k, v in obj.items()}


def method_sigmas(
    method: str,
    steps: int,
    *,
    options: str | Mapping[str, object] | None = None,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    spectrum: str | Sequence[float] | FloatArray | None = None,
    flow: bool = False,
) -> ComfySigmas:
    """Any registered method's N-step grid ending at 0.

    ``symsched.build(method, N, **options)``, then :attr:`Schedule.ending_at_zero` (a grid ending
    above 0 becomes the method's (N-1)-step grid followed by 0;
    docs/conventions.md#steps-and-the-final-0).

    Parameters
    ----------
    method
        A name of :data:`symsched.schedules.METHODS`.
    steps
        N.
    options
        The method's options (JSON object text or mapping).
    sigma_min, sigma_max
        Set the options of those names when given (and the method has them); flow times when
        ``flow``.
    spectrum
        For a method that takes a spectrum and has no ``eigenvalues`` option given: a family name
        (its proxy) or eigenvalues.
    flow
        Ends given and values returned as flow times.

    Returns
    -------
    ComfySigmas

    Raises
    ------
    ValueError
        An unknown method (the message lists them), options that are not a JSON object or that
        the method refuses, or a grid that ComfyUI cannot run.
    """
    from symsched._options import option_fields
    from symsched.schedules import get_method

    m = get_method(method)
    opts = parse_options(options)
    names = {f.name for f in option_fields(m.options)}
    lo, hi = _range(sigma_min, sigma_max, flow=flow)
    for key, v in (("sigma_min", lo), ("sigma_max", hi)):
        if v is not None and key in names and key not in opts:
            opts[key] = v
    if spectrum is not None and m.wants_source_spectrum(opts) and opts.get("eigenvalues") is None:
        opts["eigenvalues"] = resolve_spectrum(spectrum)[0]
    sched = m.build(steps, **opts).ending_at_zero
    params = {k: v for k, v in sched.params.items() if isinstance(v, (int, float, str, bool))}
    return _finish(np.asarray(sched.sigmas, dtype=np.float64), flow, method, params)


# -- Stein ----------------------------------------------------------------------------------------


def stein_sigmas(
    denoiser: Denoiser,
    shape: Sequence[int],
    steps: int,
    *,
    data: Any,
    sigma_min: float,
    sigma_max: float,
    flow: bool = False,
    estimator: str = "monte-carlo",
    samples: int = 32,
    probe_levels: int | None = None,
    seed: int = 0,
) -> ComfySigmas:
    r"""The Stein-cost (score-optimal) N-step grid of a callable denoiser, ending at 0.

    ``denoiser(x, sigma)`` is called on torch tensors ``x`` of shape ``(batch, *shape)`` and
    ``sigma`` of shape ``(batch,)`` and returns the denoised ``x`` (the k-diffusion / ComfyUI
    convention). Without ``flow``, ``x = x_0 + sigma * eps``; with ``flow`` the denoiser is a flow
    model's, ``x = (1 - t) x_0 + t eps`` with ``sigma = t``, and it is evaluated at
    :math:`t=\rho/(1+\rho)` on :math:`(1-t)y` for symsched's :math:`y=x_0+\rho\epsilon`. The grid
    is :func:`symsched.stein.stein_schedule` [williams2024, Algorithm 1] with N - 1 steps from
    ``sigma_max`` to ``sigma_min`` followed by the step to 0 (``[sigma_max, 0]`` for N = 1;
    docs/conventions.md#steps-and-the-final-0).

    Parameters
    ----------
    denoiser
        ``D(x, sigma) -> denoised`` (torch in, torch out; any device and dtype: inputs are sent in
        float64 on the CPU and the output is cast back).
    shape
        One sample's shape (e.g. ``(4, 64, 64)`` of a latent).
    steps
        N.
    data
        Rows of the data distribution, shape ``(n, *shape)`` (e.g. encoded images): the Monte
        Carlo and JVP estimators noise them (docs/theory/stein.md#estimators).
    sigma_min, sigma_max
        The range (> 0, finite); flow times in ``(0, 1)`` when ``flow``.
    flow
        The denoiser, the range and the output are in flow time.
    estimator
        ``monte-carlo`` (forward evaluations only) or ``jvp`` (forward-mode derivatives through
        the denoiser; :func:`torch.func.jvp` must go through it).
    samples, probe_levels, seed
        As :func:`symsched.stein.stein_schedule` (``probe_levels=None``: ``max(128, 8 N)``).

    Returns
    -------
    ComfySigmas
        ``params`` hold the total Stein length and the probe evaluations.

    Raises
    ------
    ValueError
        A bad range, shape or data, or an estimator that the model cannot use.
    """
    import torch

    from symsched._validate import check_steps
    from symsched.models import KDiffusionModel
    from symsched.stein import stein_schedule

    n = check_steps(steps, "steps")
    shp = tuple(int(s) for s in shape)
    if not shp or any(s < 1 for s in shp):
        raise ValueError(f"shape must be positive sizes, got {tuple(shape)}")
    if estimator not in ("monte-carlo", "jvp"):
        raise ValueError(f"estimator must be monte-carlo or jvp, got {estimator!r}")
    lo, hi = _range(sigma_min, sigma_max, flow=flow)
    assert lo is not None and hi is not None
    if not (math.isfinite(hi) and 0 < lo < hi):
        raise ValueError(
            f"the Stein grid needs 0 < sigma_min < sigma_max < inf (flow: times in (0, 1)); got "
            f"sigma_min={sigma_min}, sigma_max={sigma_max}"
        )
    dim = int(np.prod(shp))
    rows = (
        data.detach().to("cpu").double()
        if hasattr(data, "detach")
        else torch.as_tensor(np.asarray(data, dtype=np.float64))
    )
    if tuple(rows.shape[1:]) != shp:
        raise ValueError(
            f"data must have shape (n, {', '.join(map(str, shp))}), got {tuple(rows.shape)}"
        )
    rows = rows.reshape(rows.shape[0], dim)

    def fn(x: TorchTensor, rho: TorchTensor) -> TorchTensor:
        xs = x.reshape(x.shape[0], *shp)
        if flow:
            t = rho / (1.0 + rho)
            scale = (1.0 - t).reshape(-1, *([1] * len(shp)))
            out = denoiser(xs * scale, t)
        else:
            out = denoiser(xs, rho)
        return out.to(dtype=x.dtype, device=x.device).reshape(x.shape[0], dim)

    model = KDiffusionModel(fn, dim, data=rows, name="ComfyUI model")
    if n == 1:
        levels = np.array([hi, 0.0])
        return _finish(levels, flow, "stein", {"sigma_min": lo, "sigma_max": hi})
    res = stein_schedule(
        model,
        n - 1,
        sigma_min=lo,
        sigma_max=hi,
        probe=probe_levels,
        estimator=estimator,
        samples=samples,
        seed=seed,
    )
    js = res.to_json()
    params: dict[str, Any] = {
        "sigma_min": lo,
        "sigma_max": hi,
        "estimator": estimator,
        "total_length": js.get("total_length"),
        "probe_evaluations": js.get("probe_evaluations"),
    }
    levels = np.append(np.asarray(res.schedule.sigmas, dtype=np.float64), 0.0)
    return _finish(levels, flow, "stein", params)


# -- scoring --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreReport:
    """The scores of a ``SIGMAS`` list: :func:`symsched.score.score_grid` per sampler.

    Attributes
    ----------
    levels
        The grid in symsched levels.
    spectrum
        What the spectrum is.
    dimension
        Its size.
    scores
        One :class:`symsched.score.SamplerScore` per sampler.
    """

    levels: FloatArray
    spectrum: str
    dimension: int
    scores: tuple[SamplerScore, ...]

    def kl(self, sampler: str | None = None) -> float:
        """KL(target || output) under ``sampler`` (default: the first scored)."""
        for sc in self.scores:
            if sampler is None or sc.sampler == sampler:
                return float(sc.criteria.kl_source_output)
        raise ValueError(f"sampler {sampler!r} was not scored")

    def text(self) -> str:
        """A table: per sampler both KLs, the coupling error, the gap to the optimum."""
        n = self.levels.size - 1
        lines = [
            f"{n} steps, spectrum: {self.spectrum} (d = {self.dimension})",
            f"{'sampler':10s} {'KL(t||o)':>11s} {'KL(o||t)':>11s} {'coupling':>11s} "
            f"{'x optimum':>10s}",
        ]
        for sc in self.scores:
            c = sc.criteria
            gap = "-" if sc.gap is None else f"{sc.gap:.3g}"
            lines.append(
                f"{sc.sampler:10s} {c.kl_source_output:11.4g} {c.kl_output_source:11.4g} "
                f"{c.coupling:11.4g} {gap:>10s}"
            )
        lines.append(
            "x optimum: the sampler's criterion over its exact optimum for the same N and ends "
            "(docs/theory/coupling.md#scoring-a-grid)"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: the grid, the spectrum and each sampler's criteria."""
        return {
            "sigmas": [float(v) for v in self.levels],
            "spectrum": self.spectrum,
            "dimension": self.dimension,
            "scores": [
                {"sampler": s.sampler, **s.criteria.as_dict(), "gap": s.gap} for s in self.scores
            ],
        }


def score_sigmas(
    sigmas: Any,
    spectrum: str | Sequence[float] | FloatArray = "sdxl",
    samplers: str | Sequence[str] | None = None,
    *,
    flow: bool = False,
    optimum: bool = False,
) -> ScoreReport:
    """Score a ``SIGMAS`` list: both KLs and the coupling error per sampler.

    Parameters
    ----------
    sigmas
        The list (tensor, array or numbers), strictly decreasing.
    spectrum
        A family of :data:`FAMILIES` (its proxy) or eigenvalues.
    samplers
        Sampler names (a comma separated text or a sequence); ``None`` / empty: every sampler
        that accepts the grid (as ``symsched score``).
    flow
        Read ``sigmas`` as flow times.
    optimum
        Also compute each sampler's exact optimum for the gap (seconds on large spectra).

    Returns
    -------
    ScoreReport

    Raises
    ------
    ValueError
        A grid that is not decreasing, an unknown sampler, or one that cannot run the grid.
    """
    from symsched.samplers import SAMPLERS, sampler_names
    from symsched.score import score_grid

    sig = levels_from_sigmas(sigmas, flow=flow)
    lam, what = resolve_spectrum(spectrum)
    if isinstance(samplers, str):
        samplers = [s.strip() for s in samplers.split(",") if s.strip()]
    if not samplers:
        names = []
        for s in sampler_names():
            try:
                SAMPLERS[s].check_grid(sig)
            except ValueError:
                continue
            names.append(s)
    else:
        names = list(samplers)
        for s in names:
            if s not in sampler_names():
                raise ValueError(f"sampler must be among {', '.join(sampler_names())}, got {s!r}")
    scores = score_grid(lam, sig, names, optimum=optimum)
    return ScoreReport(sig, what, int(lam.size), tuple(scores))


# -- KSampler scheduler entries -------------------------------------------------------------------


def _matching_family(lo: float, hi: float) -> str | None:
    from symsched.reference import MODELS

    for m in MODELS:
        finite = m.sigma_min > 0 and math.isfinite(m.sigma_max)
        if (
            finite
            and math.isclose(lo, m.sigma_min, rel_tol=5e-3)
            and math.isclose(hi, m.sigma_max, rel_tol=5e-3)
        ):
            return m.name
    return None


def scheduler_sigmas(sampler: str, n: int, sigma_min: float, sigma_max: float) -> ComfySigmas:
    """What a KSampler scheduler entry returns: :func:`optimal_sigmas` for ``sampler`` on the
    model's range ``(sigma_min, sigma_max)`` as ComfyUI passes it.

    The spectrum is the Gaussian proxy of the family whose range matches within 0.5 % (``edm``,
    ``sd15`` (the range SD 1.5 and SDXL share), ``ddpm``), on that family's range, else the sdxl
    proxy on the range given. A range with ``sigma_max <= 1`` is a
    flow model's (times t; no VE or VP model of ComfyUI has sigma_max <= 1): the flow proxy from
    pure noise (t = 1), values returned as flow times.

    Parameters
    ----------
    sampler
        A symsched sampler name.
    n, sigma_min, sigma_max
        The arguments ComfyUI passes a ``use_ms=False`` handler.

    Returns
    -------
    ComfySigmas
    """
    lo, hi = float(sigma_min), float(sigma_max)
    if hi <= 1.0:
        return optimal_sigmas(n, sampler, lo, 1.0, "flow", flow=True)
    fam = _matching_family(lo, hi)
    if fam is not None:  # the family's own range (float32 round-off aside): its table entry
        return optimal_sigmas(n, sampler, spectrum=fam)
    return optimal_sigmas(n, sampler, lo, hi, "sdxl")
