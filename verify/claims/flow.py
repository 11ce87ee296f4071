r"""diffusers' flow-matching schedulers, run end to end, sample symsched's closed form
(docs/theory/samplers.md#diffusers-flow-schedulers).

Each scheduler runs its own loop on the exact velocity of :math:`\mathcal N(0,\mathrm{diag}
(\lambda))` (:mod:`symsched_verify.oracles.consumers`); symsched predicts, from its own shift maps
(:func:`symsched.flow.derive.linear_shift_rho`, :func:`~symsched.flow.derive.exponential_shift_rho`)
and the noise level of a flow time, the grid the scheduler visits, and from the sampler it runs
(``ddim`` for Euler in flow time, ``flow-heun``, ``dpmpp-2m``) the output second moments.

Needs diffusers (a test-time dependency): without it the claims fail and say so, never pass.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from symsched import numeric
from symsched._typing import FloatArray, Start
from symsched.export import flow_levels
from symsched.flow import derive
from symsched.gaussian import exact
from symsched.samplers import get_sampler
from symsched_verify import tolerances as tol
from symsched_verify.oracles.ddim_particles import covariance_stderr
from symsched_verify.registry import Budget, Outcome, claim

LAM = np.array([0.02, 0.3, 1.5])
SHIFT = 3.0
MU = 0.8  # Flux's dynamic shift at a mid resolution (e^mu = 2.2)
TRAIN_STEPS = 1000  # the training table t = k / 1000, k = 1..1000, of every FlowMatch scheduler
SRC = (
    "diffusers 0.42.1 FlowMatchEulerDiscreteScheduler, FlowMatchHeunDiscreteScheduler, "
    "DPMSolverMultistepScheduler(use_flow_sigmas=True); SD3 (Esser et al. 2024, §5.3.2: the "
    "shift); Sun, Poor, Zhang arXiv 2601.13602 §3 (closed form)"
)
DOCS = "docs/theory/samplers.md#diffusers-flow-schedulers"


def _missing() -> Outcome | None:
    try:
        importlib.import_module("diffusers")  # the real schedulers; their absence fails the claim
    except ImportError as exc:
        return Outcome(
            False,
            f"The package diffusers is not installed ({exc}); install the test extra to check "
            "its schedulers.",
        )
    return None


@functools.cache
def _shift_fns() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``rho -> s rho`` (SD3) and ``rho -> e^mu rho`` (Flux, sigma = 1), from the derived maps."""
    rho, s, mu, sig = sp.symbols("rho s mu sigma", positive=True)
    lin = numeric.lambdify((rho, s), derive.linear_shift_rho())
    expo = numeric.lambdify((rho, mu), derive.exponential_shift_rho().subs(sig, 1))
    return lin, expo


def _t_of(rho: FloatArray) -> FloatArray:
    """Flow times :math:`t=\rho/(1+\rho)` of levels (``inf -> 1``)."""
    with np.errstate(invalid="ignore"):
        out: FloatArray = np.where(np.isinf(rho), 1.0, rho / (1.0 + rho))
    return out


def predicted_grid(mode: str, steps: int, param: float) -> FloatArray:
    r"""The levels :math:`\rho` a scheduler visits, as symsched predicts them (0 appended).

    ``"shift"`` (``FlowMatchEuler/Heun(shift=s).set_timesteps(N)``): the table's ends 1 and
    1/1000 are shifted in ``__init__``, N flow times are spaced uniformly between the *shifted*
    ends and shifted again, so the last level is shifted twice (:math:`s^2\rho(10^{-3})`) while the
    first stays at :math:`t=1`. ``"dynamic"`` (``use_dynamic_shifting``, ``mu``): uniform between
    the unshifted ends, then :math:`\rho\to e^\mu\rho`. ``"dpm"``
    (``DPMSolverMultistep(use_flow_sigmas=True, flow_shift=s)``): the shifted
    :math:`t_k=(N-k)(1-10^{-3})/N`, k < N.
    """
    lin, expo = _shift_fns()
    t_min = 1.0 / TRAIN_STEPS
    if mode == "shift":
        t_lo = float(_t_of(np.array([lin(flow_levels([t_min])[0], param)]))[0])
        levels = lin(flow_levels(np.linspace(1.0, t_lo, steps)), param)
    elif mode == "dynamic":
        levels = expo(flow_levels(np.linspace(1.0, t_min, steps)), param)
    elif mode == "dpm":
        levels = lin(flow_levels(np.linspace(1.0 - t_min, 0.0, steps + 1)[:-1]), param)
    else:
        raise ValueError(f"mode must be shift, dynamic or dpm, got {mode!r}")
    return np.append(np.asarray(levels, dtype=np.float64), 0.0)


def _z(samples: FloatArray, levels: FloatArray, sampler: str, start: Start) -> float:
    """Largest |z| of the sample second moments against the closed form of ``sampler``."""
    emp, se = covariance_stderr(samples)
    lr = exact.log_variance_ratios(LAM, levels, sampler=sampler, start=start)
    pred = np.diag(np.exp(lr) * (LAM + levels[-1] ** 2))
    return float(np.max(np.abs(emp - pred) / se))


def _time_error(visited: FloatArray, want: FloatArray) -> float:
    """Largest relative difference of the flow times of two grids (0 at both ends' exact 1, 0)."""
    tv, tw = _t_of(visited), _t_of(want)
    return float(np.max(np.abs(tv - tw) / np.where(tw > 0, tw, 1.0)))


@claim(
    "flow.diffusers-end-to-end",
    statement=(
        "In diffusers, FlowMatchEulerDiscreteScheduler (shift=3 with its default grid; dynamic "
        r"exponential shifting with $\mu$; an explicit sigmas= list with shift 1), "
        "FlowMatchHeunDiscreteScheduler (shift=3) and DPMSolverMultistepScheduler "
        "(use_flow_sigmas, DPM-Solver++ order 2) visit exactly the flow times symsched predicts "
        "(default grid: both table ends shifted, then the N times shifted again), and on the "
        "exact Gaussian velocity their output second moments equal symsched's closed form for "
        "ddim, flow-heun and dpmpp-2m on those grids."
    ),
    source=SRC,
    method=(
        "the schedulers' own set_timesteps and step loops (symsched_verify.oracles.consumers) "
        "with the exact velocity of N(0, diag(0.02, 0.3, 1.5)) read at timestep / 1000 (DPM: at "
        "its own sigma), 2e5 float64 particles (quick) / 1e6 (full); grids from "
        "symsched.flow.derive's shift maps; the model calls counted against Sampler.nfe"
    ),
    tolerance=(
        f"flow times within {tol.DIFFUSERS_FLOW_TIME_RTOL:.1e} relative (16 eps32: float32 "
        f"tables); |E x x^T - closed form| <= {tol.Z_SCORE:g} s.e. per entry (the float32 cast "
        "in step() moves a moment by ~1e-6, far below one s.e.)"
    ),
    docs=DOCS,
    math=(
        r"\rho=\frac{t}{1-t},\quad\text{shift }s:\ \rho\mapsto s\rho,\quad\text{dynamic }\mu:\ "
        r"\rho\mapsto e^{\mu}\rho;\qquad\frac{|t_k^{\text{visited}}-t_k^{\text{predicted}}|}"
        r"{t_k^{\text{predicted}}}\le16\,\varepsilon_{32},\quad"
        r"\frac{|\widehat{\mathbb E}[x_ix_j]-\hat\Sigma_{ij}|}{\mathrm{se}_{ij}}"
        rf"\le{tol.Z_SCORE:g}"
    ),
)
def check_end_to_end(budget: Budget) -> Outcome:
    missing = _missing()
    if missing is not None:
        return missing
    from symsched_verify.oracles import consumers

    n = budget.pick(tol.DIFFUSERS_FLOW_PARTICLES, 5 * tol.DIFFUSERS_FLOW_PARTICLES)
    seed = budget.seed
    explicit = [1.0, 0.9, 0.75, 0.5, 0.3, 0.12]
    runs = {
        "euler shift": (
            consumers.run_flow_euler_steps(6, SHIFT, LAM, n, seed),
            predicted_grid("shift", 6, SHIFT),
            "ddim",
        ),
        "euler dynamic": (
            consumers.run_flow_euler_dynamic(6, MU, LAM, n, seed + 1),
            predicted_grid("dynamic", 6, MU),
            "ddim",
        ),
        "euler sigmas": (
            consumers.run_flow_euler(explicit, 1.0, LAM, n, seed + 2),
            np.append(flow_levels(explicit), 0.0),
            "ddim",
        ),
        "heun shift": (
            consumers.run_flow_heun(4, SHIFT, LAM, n, seed + 3),
            predicted_grid("shift", 4, SHIFT),
            "flow-heun",
        ),
        "dpm++ 2m flow": (
            consumers.run_dpm_flow(6, SHIFT, LAM, n, seed + 4),
            predicted_grid("dpm", 6, SHIFT),
            "dpmpp-2m",
        ),
    }
    zs: dict[str, float] = {}
    time_err: dict[str, float] = {}
    calls_ok = True
    for name, (run, want, sampler) in runs.items():
        time_err[name] = _time_error(run.scheduler_sigmas, want)
        start: Start = "exact"  # the marginal at a finite first level; pure noise at t = 1
        zs[name] = _z(run.samples, want, sampler, start)
        calls_ok = calls_ok and run.queried.size == get_sampler(sampler).nfe(want)
    ok = (
        calls_ok
        and all(v <= tol.Z_SCORE for v in zs.values())
        and all(v <= tol.DIFFUSERS_FLOW_TIME_RTOL for v in time_err.values())
    )
    return Outcome(
        ok,
        "The schedulers' samples lie within "
        + ", ".join(f"{v:.2f} ({k})" for k, v in zs.items())
        + " standard errors of the closed forms; the visited flow times differ from the "
        + f"predicted ones by at most {max(time_err.values()):.1e} relative, and the model calls "
        + ("equal" if calls_ok else "differ from")
        + " the samplers' NFE.",
        {"z": zs, "time_rel_error": time_err, "calls_match_nfe": calls_ok, "particles": n},
    )


@claim(
    "flow.diffusers-negative-controls",
    statement=(
        "The closed forms tell the schedulers' conventions apart: sigmas shifted by the user and "
        r"shifted again by a FlowMatchEuler scheduler with shift=3 ($\rho$ multiplied by 9) "
        "sample "
        "the closed form of the doubly shifted grid and miss the intended grid's; "
        "FlowMatchHeunDiscreteScheduler samples flow-heun (Heun in t) and misses heun (Heun in "
        r"$\rho$) on the same grid."
    ),
    source=SRC,
    method=(
        "as flow.diffusers-end-to-end: FlowMatchEuler(shift=3).set_timesteps(sigmas=shifted "
        "uniform times, N = 6); FlowMatchHeun(shift=3), N = 4, started at its second level "
        "(set_begin_index) from the exact marginal so that heun's finite-start closed form "
        "exists; 2e5 particles"
    ),
    tolerance=(
        f"the right closed form within {tol.Z_SCORE:g} s.e., the wrong one beyond "
        f"{tol.DIFFUSERS_FLOW_NEGATIVE_Z:g} s.e. (four times the band: the check keeps its power)"
    ),
    docs=DOCS,
    math=(
        r"\rho\mapsto s\rho\mapsto s^2\rho=9\rho:\quad"
        rf"|z_{{\text{{doubly shifted}}}}|\le{tol.Z_SCORE:g},\ "
        rf"|z_{{\text{{intended}}}}|>{tol.DIFFUSERS_FLOW_NEGATIVE_Z:g};\qquad"
        rf"|z_{{\text{{flow-heun}}}}|\le{tol.Z_SCORE:g},\ "
        rf"|z_{{\text{{heun}}}}|>{tol.DIFFUSERS_FLOW_NEGATIVE_Z:g}"
    ),
)
def check_negative_controls(budget: Budget) -> Outcome:
    missing = _missing()
    if missing is not None:
        return missing
    from symsched_verify.oracles import consumers

    lin, _ = _shift_fns()
    n = budget.pick(tol.DIFFUSERS_FLOW_PARTICLES, 5 * tol.DIFFUSERS_FLOW_PARTICLES)
    seed = budget.seed + 10
    uniform = np.linspace(1.0, 0.0, 7)[:-1]
    intended = np.append(lin(flow_levels(uniform), SHIFT), 0.0)
    shifted = [float(v) for v in _t_of(intended[:-1])]  # what the user passes
    trap = consumers.run_flow_euler(shifted, SHIFT, LAM, n, seed)
    twice = np.append(lin(intended[:-1], SHIFT), 0.0)
    z_intended = _z(trap.samples, intended, "ddim", "exact")
    z_twice = _z(trap.samples, twice, "ddim", "exact")
    heun = consumers.run_flow_heun(4, SHIFT, LAM, n, seed + 1, skip=1)
    grid = predicted_grid("shift", 4, SHIFT)[1:]
    z_flow_heun = _z(heun.samples, grid, "flow-heun", "exact")
    z_heun = _z(heun.samples, grid, "heun", "exact")
    ok = (
        z_twice <= tol.Z_SCORE
        and z_intended > tol.DIFFUSERS_FLOW_NEGATIVE_Z
        and z_flow_heun <= tol.Z_SCORE
        and z_heun > tol.DIFFUSERS_FLOW_NEGATIVE_Z
        and _time_error(trap.scheduler_sigmas, twice) <= tol.DIFFUSERS_FLOW_TIME_RTOL
    )
    return Outcome(
        ok,
        f"The doubly shifted sigmas' samples lie {z_twice:.2f} standard errors from the doubly "
        f"shifted grid's closed form and {z_intended:.0f} from the intended grid's; "
        f"FlowMatchHeun's samples lie {z_flow_heun:.2f} from flow-heun's closed form and "
        f"{z_heun:.0f} from heun's.",
        {
            "z_doubly_shifted": z_twice,
            "z_intended": z_intended,
            "z_flow_heun": z_flow_heun,
            "z_heun": z_heun,
            "particles": n,
        },
    )
