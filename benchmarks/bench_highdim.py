"""Benchmark: the high-dimensional simulators (docs/theory/highdim.md#scalar-reduction).

Run on demand (not a test):  python benchmarks/bench_highdim.py [--quick]

1. Reduced GM (exact scalar reduction of the Euler scheme), d = 1e8, 1e5 samples x 1000 steps.
   Target < 5 s. Baseline measured in the same run: 1000 numpy passes of ``tanh`` over 1e5 numbers
   (the one transcendental every sample-step needs); the ratio says how close to that floor we are.
2. Full Curie–Weiss simulation (torch, float64, two-mode denoiser), d = 1e4, 1000 samples x 100
steps.
   Target < 60 s. Baseline: 100 torch passes of ``tanh`` over the same 1e7 numbers (one per step).
3. For reference: the full d-dimensional GM simulation at d = 1e4, 1000 samples x 100 steps.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from symsched.highdim import CurieWeiss, GaussianMixture, measure, simulate


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_gm_reduced(samples: int, steps: int, d: int) -> None:
    gm = GaussianMixture(dim=d)
    grid, c = measure.make_grid("vp-dilated", steps, gm)
    simulate.gm_reduced(gm, grid, c, 1000, seed=0)  # warm-up: lambdify + caches
    t = timed(lambda: simulate.gm_reduced(gm, grid, c, samples, seed=0), repeat=2)
    x = np.random.default_rng(0).standard_normal(samples)
    buf = np.empty_like(x)

    def roofline() -> None:
        for _ in range(steps):
            np.tanh(x, out=buf)

    t_base = timed(roofline, repeat=2)
    print(
        f"[gm reduced] d = {d:.0e}, {samples:.0e} samples x {steps} steps: {t:.3f} s (target < 5 "
        "s) "
        f"{'OK' if t < 5 else 'SLOW'}; baseline (one tanh pass per step) {t_base:.3f} s, ratio "
        f"{t / t_base:.1f}"
    )


def bench_cw_full(samples: int, steps: int, d: int) -> None:
    import torch

    mdl = CurieWeiss(beta=2.0, dim=d)
    grid, c = measure.make_grid("vp-dilated", steps, mdl)
    simulate.cw_full(mdl, measure.make_grid("vp-dilated", 2, mdl)[0], c, 16, seed=0)  # warm-up
    t = timed(lambda: simulate.cw_full(mdl, grid, c, samples, seed=0))
    x = torch.randn(samples, d, dtype=torch.float64)

    def roofline() -> None:
        for _ in range(steps):
            torch.tanh(x)

    t_base = timed(roofline)
    print(
        f"[cw full] d = {d:.0e}, {samples} samples x {steps} steps: {t:.2f} s (target < 60 s) "
        f"{'OK' if t < 60 else 'SLOW'}; baseline (one tanh pass per step) {t_base:.2f} s, ratio "
        f"{t / t_base:.1f}; "
        f"torch threads {torch.get_num_threads()}"
    )


def bench_gm_full(samples: int, steps: int, d: int) -> None:
    gm = GaussianMixture(dim=d)
    grid, c = measure.make_grid("vp-dilated", steps, gm)
    t = timed(lambda: simulate.gm_full(gm, grid, c, samples, seed=0))
    print(f"[gm full] d = {d:.0e}, {samples} samples x {steps} steps: {t:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="10x smaller problems (smoke run)")
    args = ap.parse_args()
    k = 10 if args.quick else 1
    bench_gm_reduced(100_000 // k, 1000, 10**8)
    bench_cw_full(1000 // k, 100, 10**4)
    bench_gm_full(1000 // k, 100, 10**4)


if __name__ == "__main__":
    main()
