r"""Oracle simulators of the probability-flow ODE for the GM and Curie–Weiss models.

* :func:`gm_full` — the full ``d``-dimensional batched Euler simulation in torch (float64), the
  literal method of the authors' code (docs/theory/highdim.md#euler-integrator), for ``d`` up to
  about ``1e4``.
* :func:`gm_reduced` — the exact scalar reduction (docs/theory/highdim.md#scalar-reduction): the
  Euler map of ``x`` sends ``S = 1 . x`` to ``S + dtau (A S + B m d tanh(h + K S))`` and
  multiplies ``x_perp`` by ``1 + dtau A``; each sample is one scalar plus a common growth factor,
  so ``d`` up to ``1e8``.
* :func:`gm_mode_fraction_euler` — ``P(S_N > 0)`` of the Euler scheme without Monte Carlo: the
  Euler map ``S_0 -> S_N`` is strictly increasing (each factor ``1 + dtau A >= tau sigma^2 / D > 0``
  and ``B, K >= 0``), so ``P(S_N > 0) = P(S_0 > s*)`` with ``s*`` its root, ``S_0 ~ N(0, c^2 d)``.
* :func:`cw_full` — full torch simulation with the two-mode CW denoiser
  (docs/theory/highdim.md#two-mode-denoiser); :func:`cw_summary` — its per-sample statistics of
  final states (shared with :func:`symsched.highdim.noise_level.cw_sampler_run`).

All take a :class:`~symsched.highdim.schedules.TauGrid` and the noise scale ``c``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from symsched._typing import ArrayLike, FloatArray, TorchTensor
from symsched._validate import check_positive, check_steps
from symsched.highdim._grid import TauGrid
from symsched.highdim.cw import CurieWeiss, denoiser_two_mode
from symsched.highdim.gm import GaussianMixture

__all__ = [
    "MIN_SAMPLES",
    "CWRun",
    "GMRun",
    "cw_full",
    "cw_summary",
    "gm_euler_map",
    "gm_full",
    "gm_mode_fraction_euler",
    "gm_reduced",
]

MIN_SAMPLES = 10  # fewer samples cannot give a meaningful Monte Carlo error bar


def _check_samples(samples: int) -> int:
    n = check_steps(samples, "samples")
    if n < MIN_SAMPLES:
        raise ValueError(
            f"samples must be >= {MIN_SAMPLES} to give a Monte Carlo error bar, got {n}"
        )
    return n


def _no_trajectories() -> FloatArray:
    return np.zeros((0, 0))


@dataclass
class GMRun:
    """Final state of a GM run: per-sample magnetisation ``M = S/d`` and within-sample std.

    Parameters
    ----------
    magnetization
        ``M = S / d`` per sample.
    within_std
        Standard deviation of the coordinates of each sample.
    growth
        ``prod_k (1 + dtau_k A_k)``, the factor of ``x_perp``.
    trajectories
        ``(steps + 1, recorded)`` values of ``M`` (empty when none were recorded).
    """

    magnetization: FloatArray
    within_std: FloatArray
    growth: float  # prod_k (1 + dtau_k A_k), the factor of x_perp
    trajectories: FloatArray = field(default_factory=_no_trajectories)  # (steps+1, recorded) of M


@dataclass
class CWRun:
    """Final CW samples summarised per sample (the full states are not kept).

    Parameters
    ----------
    magnetization
        ``M = mean_i x_i`` per sample.
    sign_magnetization
        ``(1/d) sum_i sign(x_i)``.
    minority_fraction
        Fraction of coordinates with sign opposite to ``sign(M)``.
    within_var
        Population variance of the coordinates.
    distance_to_spins
        ``mean_i | |x_i| - 1 |``.
    trajectories
        ``(steps + 1, recorded)`` values of ``M``.
    """

    magnetization: FloatArray
    sign_magnetization: FloatArray  # (1/d) sum sign(x_i)
    minority_fraction: FloatArray  # fraction of coordinates with sign opposite to sign(M)
    within_var: FloatArray  # population variance of the coordinates
    distance_to_spins: FloatArray  # mean_i | |x_i| - 1 |
    trajectories: FloatArray = field(default_factory=_no_trajectories)


def _coefficients(
    model: GaussianMixture, grid: TauGrid, c_value: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    a, b, k = model.coefficients(grid.taus[:-1], grid.alphas[:-1], c_value, "velocity")
    return np.asarray(a), np.asarray(b), np.asarray(k), grid.dtaus


def gm_reduced(
    model: GaussianMixture,
    grid: TauGrid,
    c_value: float,
    samples: int = 10_000,
    seed: int = 0,
    record: int = 0,
    init: tuple[FloatArray, FloatArray] | None = None,
    steps_run: int | None = None,
    callback: Callable[[int], None] | None = None,
) -> GMRun:
    r"""Exact scalar reduction of the Euler scheme, ``d`` up to ``1e8``.

    The Euler map of ``x`` sends ``S = 1 . x`` to ``S + dtau (A S + B m d tanh(h + K S))`` and
    multiplies ``x_perp`` by ``1 + dtau A`` [aranguri2025, §3]
    (docs/theory/highdim.md#scalar-reduction).

    Parameters
    ----------
    model
        The Gaussian mixture.
    grid
        The time grid.
    c_value
        Noise scale ``c``.
    samples, seed
        Number of samples and their seed (ignored with ``init``).
    init
        Optional ``(S_0, |x_perp,0|^2)`` per sample (to compare with :func:`gm_full` on the same
        draws). By default ``S_0 ~ N(0, c^2 d)`` and ``|x_perp,0|^2 = c^2 chi^2_{d-1}``, drawn
        with ``seed``.
    record
        Number of samples whose trajectory of ``M`` is kept.
    steps_run
        Stop after this many Euler steps (default: all ``N``).
    callback
        Called with the number of completed steps after each step (progress bars).

    Returns
    -------
    GMRun

    Raises
    ------
    ValueError
        If ``c`` is not > 0 or ``samples < MIN_SAMPLES``.
    """
    check_positive(c_value, "c")
    d = model.dim
    if init is None:
        n = _check_samples(samples)
        rng = np.random.default_rng(seed)
        s = rng.standard_normal(n) * (c_value * math.sqrt(d))
        perp2 = c_value**2 * (rng.chisquare(d - 1, n) if d > 1 else np.zeros(n))
    else:
        s, perp2 = (np.array(v, dtype=np.float64) for v in init)
    a, b, k, dt = _coefficients(model, grid, c_value)
    bmd = b * model.m * d
    growth = 1.0
    rec = min(int(record), s.size)
    n_run = grid.steps if steps_run is None else int(steps_run)
    traj = np.empty((n_run + 1, rec))
    if rec:
        traj[0] = s[:rec] / d
    for j in range(n_run):
        s = s + dt[j] * (a[j] * s + bmd[j] * np.tanh(model.h + k[j] * s))  # Euler on S
        growth *= 1.0 + dt[j] * a[j]  # Euler on x_perp
        if rec:
            traj[j + 1] = s[:rec] / d
        if callback is not None:
            callback(j + 1)
    within = abs(growth) * np.sqrt(perp2 / max(d - 1, 1))
    return GMRun(s / d, within, growth, traj)


def gm_full(
    model: GaussianMixture,
    grid: TauGrid,
    c_value: float,
    samples: int = 1000,
    seed: int = 0,
    record: int = 0,
    x0: ArrayLike | None = None,
    device: str = "cpu",
    callback: Callable[[int], None] | None = None,
) -> GMRun:
    r"""Full ``d``-dimensional Euler simulation in torch (float64), ``X_0 ~ N(0, c^2 I_d)``.

    The literal method of the authors' code (docs/theory/highdim.md#euler-integrator): the velocity
    is the derived ``A x + B m 1 tanh(h + K 1.x)`` (:func:`symsched.highdim.gm.derive_gm`),
    evaluated at ``tau_k < 1``.

    Parameters
    ----------
    model, grid, c_value
        As :func:`gm_reduced`.
    samples, seed
        Number of samples and the seed of the torch generator (ignored with ``x0``).
    record
        Number of samples whose trajectory of ``M`` is kept.
    x0
        Optional ``(samples, d)`` initial states that override the draw.
    device
        torch device.
    callback
        Called with the number of completed steps.

    Returns
    -------
    GMRun

    Raises
    ------
    ValueError
        If ``c`` is not > 0 or ``samples < MIN_SAMPLES``.
    """
    import torch

    check_positive(c_value, "c")
    d = model.dim
    if x0 is None:
        n = _check_samples(samples)
        gen = torch.Generator(device=device).manual_seed(int(seed))
        x = torch.randn((n, d), generator=gen, dtype=torch.float64, device=device) * c_value
    else:
        x = torch.as_tensor(np.asarray(x0), dtype=torch.float64, device=device).clone()
    a, b, k, dt = _coefficients(model, grid, c_value)
    rec = min(int(record), x.shape[0])
    traj = np.empty((grid.steps + 1, rec))
    if rec:
        traj[0] = x[:rec].mean(1).cpu().numpy()
    for j in range(grid.steps):
        t = torch.tanh(model.h + float(k[j]) * x.sum(1, keepdim=True))
        x = x + float(dt[j]) * (float(a[j]) * x + float(b[j]) * model.m * t)
        if rec:
            traj[j + 1] = x[:rec].mean(1).cpu().numpy()
        if callback is not None:
            callback(j + 1)
    growth = float(np.prod(1.0 + dt * a))
    within = x.std(1).cpu().numpy() if d > 1 else np.zeros(x.shape[0])
    return GMRun(x.mean(1).cpu().numpy(), within, growth, traj)


def gm_euler_map(
    model: GaussianMixture,
    grid: TauGrid,
    c_value: float,
    s0: FloatArray,
    steps_run: int | None = None,
) -> FloatArray:
    """The Euler map ``S_0 -> S_n`` of :func:`gm_reduced`, vectorised over ``s0``.

    Parameters
    ----------
    model, grid, c_value
        As :func:`gm_reduced`.
    s0
        Initial projections ``S_0``.
    steps_run
        Number of steps ``n`` (default all).

    Returns
    -------
    FloatArray
        ``S_n``, same shape as ``s0``.
    """
    a, b, k, dt = _coefficients(model, grid, c_value)
    al, bl, kl, dl = a.tolist(), (b * model.m * model.dim).tolist(), k.tolist(), dt.tolist()
    h = model.h
    s = np.array(s0, dtype=np.float64)
    t, u = np.empty_like(s), np.empty_like(s)
    # s + dt (a s + bmd tanh(h + k s)), in place on two buffers: the same float64 operations (the
    # order of each + and x only commuted), thousands of steps at little overhead each
    for j in range(grid.steps if steps_run is None else int(steps_run)):
        np.multiply(s, kl[j], out=t)
        t += h
        np.tanh(t, out=t)
        t *= bl[j]
        t += np.multiply(s, al[j], out=u)
        t *= dl[j]
        s += t
    return s


def gm_mode_fraction_euler(
    model: GaussianMixture,
    grid: TauGrid,
    c_value: float,
    zmax: float = 12.0,
    points: int = 513,
    rounds: int = 2,
    steps_run: int | None = None,
) -> float:
    r"""``P(S_N > 0)`` of the Euler scheme, without Monte Carlo (see module docstring).

    The root ``z*`` of ``z -> S_N(c sqrt(d) z)`` is bracketed on ``[-zmax, zmax]`` by evaluating
    the map on ``points`` nodes, ``rounds`` times (resolution ``2 zmax / (points - 1)^rounds``,
    about 1e-4, so the probability is exact to ``< 4e-5``).

    Parameters
    ----------
    model, grid, c_value
        As :func:`gm_reduced`.
    zmax, points, rounds
        Bracket half-width (in units of ``c sqrt(d)``), nodes per round and rounds.
    steps_run
        Stop the map early (e.g. at ``t = 1/2``).

    Returns
    -------
    float
        ``Phi(-z*)``; 0 or 1 (to double precision) when the root lies outside the bracket.
    """
    scale = c_value * math.sqrt(model.dim)
    lo, hi = -zmax, zmax
    for _ in range(rounds):
        z = np.linspace(lo, hi, points)
        out = gm_euler_map(model, grid, c_value, z * scale, steps_run)
        pos = out > 0
        if pos.all():
            if lo == -zmax:
                return float(ndtr(zmax))
            break
        if not pos.any():
            if hi == zmax:
                return float(ndtr(-zmax))
            break
        i = int(np.argmax(pos))  # first node with S_N > 0 (the map is increasing)
        lo, hi = z[i - 1], z[i]
    return float(ndtr(-0.5 * (lo + hi)))


#: Numbers per block of rows that :func:`cw_full` steps through the whole grid at once: 64 Ki
#: float64 (512 KiB) and its temporaries stay in a core's L2 cache, where a chunk of millions
#: would stream every elementwise pass through main memory.
_BLOCK_ELEMENTS = 65_536


def cw_full(
    model: CurieWeiss,
    grid: TauGrid,
    c_value: float,
    samples: int = 1000,
    seed: int = 0,
    record: int = 0,
    device: str = "cpu",
    chunk_elements: int = 4_000_000,
    callback: Callable[[int], None] | None = None,
) -> CWRun:
    r"""Full Euler simulation of the CW probability-flow ODE with the two-mode denoiser, in torch.

    ``X_{k+1} = X_k + dtau_k (eta_k - X_k) / (1 - tau_k)`` (velocity through the denoiser for
    ``alpha = 1 - tau``, docs/theory/highdim.md#velocity-and-score-through-the-denoiser), float64,
    processed in chunks of samples so that a chunk holds at most ``chunk_elements`` numbers (the
    random draws are per chunk); within a chunk, blocks of rows of :data:`_BLOCK_ELEMENTS` numbers
    run through every step in turn, in the cache, with the same results.

    Parameters
    ----------
    model
        The Curie–Weiss model (``beta > 1``).
    grid, c_value
        The time grid and the noise scale ``c``.
    samples, seed
        Number of samples and the seed of the torch generator.
    record
        Number of samples whose trajectory of ``M`` is kept.
    device
        torch device.
    chunk_elements
        Largest number of values held in one chunk.
    callback
        Called with the number of completed steps (over all chunks).

    Returns
    -------
    CWRun

    Raises
    ------
    ValueError
        If ``c`` is not > 0, ``beta <= 1`` or ``samples < MIN_SAMPLES``.
    """
    import torch

    check_positive(c_value, "c")
    model.require_low_temperature()
    n = _check_samples(samples)
    d = model.dim
    gen = torch.Generator(device=device).manual_seed(int(seed))
    dt = grid.dtaus
    rec = min(int(record), n)
    traj = np.empty((grid.steps + 1, rec))
    out: dict[str, list[FloatArray]] = {k: [] for k in ("mag", "sgn", "minor", "var", "dist")}
    per = max(1, int(chunk_elements) // d)
    done = 0
    while done < n:
        b = min(per, n - done)
        x = torch.randn((b, d), generator=gen, dtype=torch.float64, device=device) * c_value
        keep = max(0, min(rec - done, b))
        if keep:
            traj[0, done : done + keep] = x[:keep].mean(1).cpu().numpy()
        # the samples are independent rows: each block of rows runs every step while it sits in
        # the cache (the draws above stay per chunk, so the results do not depend on the block;
        # the first block holds every recorded row, so each trajectory mean sees the same rows)
        rows = max(1, _BLOCK_ELEMENTS // d)
        starts = [0, *range(max(rows, keep), b, rows)]
        for r0, r1 in zip(starts, [*starts[1:], b], strict=True):
            xb = x[r0:r1]
            kb = keep if r0 == 0 else 0
            for j in range(grid.steps):
                tau_j, al_j = float(grid.taus[j]), float(grid.alphas[j])
                eta = denoiser_two_mode(model, xb, tau_j, al_j, c_value)
                # Euler: x + dtau (eta - x) / (1 - tau) = (1 - lam) x + lam eta
                lam = float(dt[j]) / al_j
                xb = eta.mul_(lam).add_(xb, alpha=1.0 - lam)
                if kb:
                    traj[j + 1, done : done + kb] = xb[:kb].mean(1).cpu().numpy()
            x[r0:r1] = xb
            if callback is not None:
                callback(grid.steps * (done // per) + (grid.steps * r1) // b)
        for k, v in zip(out, cw_summary(x), strict=True):
            out[k].append(v)
        done += b
    cat = {k: np.concatenate(v) for k, v in out.items()}
    return CWRun(cat["mag"], cat["sgn"], cat["minor"], cat["var"], cat["dist"], traj)


def cw_summary(
    x: TorchTensor,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-sample statistics of final CW states, the fields of :class:`CWRun` in its order.

    Parameters
    ----------
    x
        Final states ``(batch, d)`` (torch).

    Returns
    -------
    tuple of FloatArray
        Magnetisation, sign-magnetisation, minority fraction, within-sample variance and distance
        to ``+-1``, one value per sample (docs/theory/highdim.md#curie-weiss-features).
    """
    import torch

    mag = x.mean(1)
    sgn = torch.sign(x)
    return (
        mag.cpu().numpy(),
        sgn.mean(1).cpu().numpy(),
        (sgn != torch.sign(mag)[:, None]).to(torch.float64).mean(1).cpu().numpy(),
        x.var(1, unbiased=False).cpu().numpy(),
        (x.abs() - 1).abs().mean(1).cpu().numpy(),
    )
