"""Benchmark: score evaluations and wall time to a 1% Stein-schedule error, per estimator.

Run on demand (not a test):  python benchmarks/bench_stein.py [--quick]

Estimators ([williams2024, §3], Williams, Campbell, Doucet, Syed, arXiv 2412.07877;
docs/theory/stein.md#estimators):
  jvp+cv            local metric by torch.func.jvp, fresh samples per level, control variates
  (default)
  jvp               the same without control variates
  jvp/common        without control variates, same (data, noise) at every probe level
  mc/common         finite-step Monte Carlo, common random numbers across intervals too
  mc/independent    finite-step Monte Carlo, fresh samples per interval (the baseline)
(both levels of a Monte Carlo interval always share their samples).
Each is run on a ladder of (probe intervals K, samples n), cheapest first; the first setting whose
RMS (over seeds) of the largest relative level error of the N = 10 grid is <= 1% is reported, with
its evaluations (a JVP counts as 2) and wall time. Models: N(0, 0.25 I_64) (reference: closed-form
optimum), the digits-spectrum Gaussian (reference: exact costs, K = 4000), uniform data on {-1,1}^16
(reference: 16 x the two-point quadrature metric), the trained digits denoiser (symsched/data) and
the exact denoiser of the digits data set (the memorising optimum); references for the last two:
jvp+cv with K = 64, n = 256 — its unbiasedness is tested against plain JVP in tests/stein. On
Gaussian data the Gaussian control variate is exact by construction,
so the non-Gaussian models are the informative ones for jvp+cv.
Last, the fitted EDM rho of each model's Stein grid (the paper reports rho ~ 7 on CIFAR-10).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.optimize import minimize_scalar

from symsched import stein
from symsched.datasets import dataset_spectrum
from symsched.models import GaussianModel, load_model
from symsched.schedules import families
from symsched_verify.claims.stein import (
    Hypercube,
    _optimal_iso,
    evaluations_to_target,
    hypercube_reference,
)

LO, HI, N = 0.002, 80.0, 10
VARIANTS = {
    "jvp+cv (default)": ("jvp", False, True),
    "jvp": ("jvp", False, False),
    "jvp/common": ("jvp", True, False),
    "mc/common": ("monte-carlo", True, False),
    "mc/independent": ("monte-carlo", False, False),
}
LADDER_JVP = [(k, n) for k in (32, 64, 128) for n in (4, 8, 16, 32, 64, 128)]
LADDER_MC = [(k, n) for k in (128, 256, 512, 1024, 2048) for n in (2, 4, 8, 16, 32)]


def reference(name: str, model: object) -> np.ndarray:
    if name == "gaussian c=0.5 d=64":
        return _optimal_iso(64, 0.5, N)
    if name.startswith("hypercube"):
        return hypercube_reference(16, N)
    lev = stein.probe_levels(LO, HI, 4000 if name.startswith("gaussian") else 256)
    if name.startswith("gaussian"):
        return stein.update_schedule(
            lev, stein.estimate_costs(model, lev, estimator="exact").costs, N
        )
    lev = stein.probe_levels(LO, HI, 64)
    est = stein.estimate_costs(
        model, lev, estimator="jvp", samples=256, seed=12345, control_variate=True
    )
    return stein.update_schedule(lev, est.costs, N)


def fitted_rho(grid: np.ndarray) -> tuple[float, float]:
    """EDM rho whose N-step grid is closest to ``grid`` in max |log ratio|, and that distance."""

    def f(r: float) -> float:
        return float(np.max(np.abs(np.log(families.karras(LO, HI, r).grid(N) / grid))))

    res = minimize_scalar(f, bounds=(1.0, 40.0), method="bounded")
    return float(res.x), float(res.fun)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="fewer seeds, no data-set models")
    ap.add_argument(
        "--only", default=None, help="run only the models whose name contains this text"
    )
    args = ap.parse_args()
    warnings.simplefilter("ignore", stein.SteinAccuracyWarning)
    seeds = 4 if args.quick else 10
    models = {
        "gaussian c=0.5 d=64": GaussianModel.isotropic(0.5, 64),
        "gaussian digits spectrum": GaussianModel(dataset_spectrum("digits")),
        "hypercube {-1,1}^16": Hypercube(16),
    }
    if not args.quick:
        models["trained digits (EDM MLP, symsched/data)"] = load_model("digits")
        models["empirical digits (memorising optimum)"] = load_model("empirical-digits")
    if args.only:
        models = {k: v for k, v in models.items() if args.only in k}
    for name, model in models.items():
        t0 = time.perf_counter()
        ref = reference(name, model)
        print(f"\n## {name}  (reference in {time.perf_counter() - t0:.1f} s; seeds = {seeds})")
        print(
            f"{'estimator':18s} {'reached':>7s} {'K':>5s} {'n':>4s} {'evaluations':>11s} "
            f"{'s/run':>7s} {'rms err':>8s}"
        )
        found = {}
        for label, variant in VARIANTS.items():
            ladder = LADDER_JVP if variant[0] == "jvp" else LADDER_MC
            if name.startswith(("empirical", "trained")) and variant[1]:
                continue  # common-noise variants: skipped on the data-set models
            if name.startswith("empirical"):
                ladder = [kn for kn in ladder if kn[0] * kn[1] <= 4096]
            r = evaluations_to_target(model, ref, variant, seeds, ladder, steps=N)
            last = r["tried"][-1]
            found[label] = r
            print(
                f"{label:18s} {r['reached']!s:>7s} {last['probe']:5d} {last['samples']:4d} "
                f"{r['evaluations']:11d} {last['seconds_per_run']:7.3f} {last['rms_error']:8.4f}"
            )
        base = found["mc/independent"]
        d = found["jvp+cv (default)"]
        bound = "" if base["reached"] else ">= "
        print(
            "default (jvp+cv) vs independent-noise MC: "
            f"{bound}{base['evaluations'] / d['evaluations']:.1f}x "
            "fewer evaluations"
        )
        rho, dist = fitted_rho(ref)
        print(
            f"Stein grid N={N}: closest EDM rho = {rho:.2f} (max |log ratio| {dist:.3f}); "
            f"levels {np.array2string(ref, precision=4)}"
        )


if __name__ == "__main__":
    main()
