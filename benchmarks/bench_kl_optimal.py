"""Benchmark: kl-optimal (exact finite-N optimum) for N = 50 on a 1e4-eigenvalue spectrum.

Run on demand (not a test):  python benchmarks/bench_kl_optimal.py [--quick]

Target: < 30 s. Baselines measured in the same run: one exact KL + analytic gradient evaluation
(the optimiser's unit of work), and the variational geodesic (b) on the same spectrum. Also prints
the KL gains of (c) over (b) and over the tangent gamma* grid (a).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import symsched
from symsched.gaussian import tangent, variational


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="d = 1e3 instead of 1e4")
    args = ap.parse_args()
    d = 1_000 if args.quick else 10_000
    n = 50
    lam = np.exp(np.random.default_rng(1).uniform(np.log(1e-4), np.log(1e2), d))
    lo, hi = 0.002, 80.0
    g0 = tangent.tangent_sigmas(n, tangent.gamma_star(lam), lo, hi)
    variational.exact_kl_and_gradient(lam, g0)
    t0 = time.perf_counter()
    for _ in range(5):
        variational.exact_kl_and_gradient(lam, g0)
    t_eval = (time.perf_counter() - t0) / 5
    t0 = time.perf_counter()
    geo = variational.geodesic(lam, lo, hi)
    gb = geo.grid(n)
    t_geo = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = variational.kl_optimal(lam, n, lo, hi)
    t_opt = time.perf_counter() - t0
    ka = symsched.kl(lam, g0).kl_source_output
    kb = symsched.kl(lam, gb).kl_source_output
    print(f"d = {d:,} eigenvalues in [1e-4, 1e2], N = {n}, range [{lo}, {hi}]")
    print(
        f"  kl-optimal: {t_opt:8.3f} s, {res.iterations} L-BFGS iterations (target < 30 s: "
        f"{'PASS' if t_opt < 30 else 'MISS'})"
    )
    print(
        f"  baseline: one exact KL + gradient : {t_eval * 1e3:8.2f} ms   ratio optimum / "
        f"evaluation = {t_opt / t_eval:.0f}"
    )
    print(
        f"  variational geodesic (b) + grid  : {t_geo:8.3f} s   ratio kl-optimal / geodesic = "
        f"{t_opt / t_geo:.1f}"
    )
    print(
        f"  KL: (c) {res.kl:.6e}  (b) {kb:.6e} (+{100 * (kb / res.kl - 1):.2f}%)  (a) {ka:.6e} "
        f"(+{100 * (ka / res.kl - 1):.1f}%)"
    )
    print(f"  max |dKL/d ln sigma_j| at the optimum: {res.gradient_norm:.1e} (KL {res.kl:.1e})")


if __name__ == "__main__":
    main()
