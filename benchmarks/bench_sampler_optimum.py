"""Benchmark: the sampler-aware optimum (kl-optimal --sampler dpmpp-2m, coupling error), N = 50,
on a 1e4-eigenvalue spectrum.

Run on demand (not a test):  python benchmarks/bench_sampler_optimum.py [--quick]

Target: < 30 s. Baselines measured in the same run: one criterion + autograd gradient evaluation
(the optimiser's unit of work) and the DDIM kl-optimal (its first start) on the same spectrum.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from symsched.gaussian import sampler_optimum, variational


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="d = 1e3 instead of 1e4")
    ap.add_argument("--sampler", default="dpmpp-2m")
    args = ap.parse_args()
    d = 1_000 if args.quick else 10_000
    n = 50
    lam = np.exp(np.random.default_rng(1).uniform(np.log(1e-4), np.log(1e2), d))
    lo, hi = 0.002, 80.0
    grid = np.exp(np.linspace(np.log(hi), np.log(lo), n + 1))
    grid[0], grid[-1] = hi, lo
    sampler_optimum.objective_and_gradient(lam, grid, sampler=args.sampler)
    t0 = time.perf_counter()
    for _ in range(5):
        sampler_optimum.objective_and_gradient(lam, grid, sampler=args.sampler)
    t_eval = (time.perf_counter() - t0) / 5
    t0 = time.perf_counter()
    variational.kl_optimal(lam, n, lo, hi)
    t_ddim = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = sampler_optimum.sampler_optimal(lam, n, lo, hi, sampler=args.sampler)
    t_opt = time.perf_counter() - t0
    print(f"d = {d:,} eigenvalues in [1e-4, 1e2], N = {n}, sampler {args.sampler}")
    print(
        f"  sampler-aware optimum ({res.objective}): {t_opt:8.3f} s, {res.iterations} L-BFGS "
        f"iterations (target < 30 s: {'PASS' if t_opt < 30 else 'MISS'})"
    )
    print(
        f"  baseline: one criterion + gradient : {t_eval * 1e3:8.2f} ms   ratio optimum / "
        f"evaluation = {t_opt / t_eval:.0f}"
    )
    print(f"  DDIM kl-optimal (its first start) : {t_ddim:8.3f} s   ratio = {t_opt / t_ddim:.1f}")
    print(
        f"  criteria: coupling {res.criteria.coupling:.4e}, KL {res.criteria.kl_source_output:.4e};"
        f" max step ratio {res.max_step_ratio:.3f}; projected gradient {res.gradient_norm:.1e}"
    )


if __name__ == "__main__":
    main()
