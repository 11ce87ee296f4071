"""Benchmark: the optimal flow shift s*(N) for N = 4..100 on a 1e4-eigenvalue spectrum.

Run on demand (not a test):  python benchmarks/bench_flow_shift.py [--quick]

Target: < 5 s for the whole sweep (symsched.flow.shift.optimal_shifts). Baselines measured in the
same run: one exact KL of the shifted grid at N = 50 (symsched.gaussian.exact.kl, the unit of
work of any search) and the per-N scanned search (optimal_shift at every N), whose optima the
sweep must reproduce.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from symsched.flow import shift
from symsched.gaussian import exact


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="d = 1e3 instead of 1e4")
    args = ap.parse_args()
    d = 1_000 if args.quick else 10_000
    lam = np.arange(1, d + 1, dtype=np.float64) ** -1.0  # image-like power law, mean 1
    lam /= lam.mean()
    steps = range(4, 101)
    grid = shift.shifted_uniform_grid(50, 0.7)
    exact.kl(lam, grid)
    t0 = time.perf_counter()
    for _ in range(5):
        exact.kl(lam, grid)
    t_eval = (time.perf_counter() - t0) / 5
    t0 = time.perf_counter()
    sweep = shift.optimal_shifts(lam, steps)
    t_sweep = time.perf_counter() - t0
    check = steps[::16]
    t0 = time.perf_counter()
    scanned = [shift.optimal_shift(lam, n) for n in check]
    t_scan = (time.perf_counter() - t0) / len(check) * len(steps)
    by_n = {o.steps: o for o in sweep}
    worst = max(abs(by_n[o.steps].shift / o.shift - 1) for o in scanned)
    print(f"d = {d:,} eigenvalues (1/i, mean 1), N = 4..100 ({len(steps)} step counts)")
    print(
        f"  s*(N) sweep: {t_sweep:8.3f} s (target < 5 s: {'PASS' if t_sweep < 5 else 'MISS'}); "
        f"s*(4) = {sweep[0].shift:.6f}, s*(100) = {sweep[-1].shift:.6f}"
    )
    print(
        f"  baseline: one exact KL at N = 50: {t_eval * 1e3:8.2f} ms   ratio sweep / KL = "
        f"{t_sweep / t_eval:.0f}"
    )
    print(
        f"  per-N scanned search (extrapolated from {len(check)} N): {t_scan:8.3f} s   ratio = "
        f"{t_scan / t_sweep:.1f}; largest |s_sweep / s_scan - 1| = {worst:.1e}"
    )


if __name__ == "__main__":
    main()
