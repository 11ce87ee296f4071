"""Benchmark: exact Gaussian KL at scale, and closed form vs Monte Carlo at equal accuracy.

Run on demand (not a test):  python benchmarks/bench_exact_kl.py [--quick]

1. d = 1e6 eigenvalues, N = 100 steps (1e8 eigen-steps): wall time, eigen-steps per second, and the
   ratio to a numpy "roofline" measured in the same run — one elementwise log1p pass over the same
   number of elements (the single transcendental every eigen-step needs). Target ratio <= 3.
2. Closed form vs the particle sampler at equal accuracy: the number of particles for which the
   Monte Carlo KL estimate has a 1% relative RMS error, its wall time, and the speed-up.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import symsched
from symsched.datasets import dataset_spectrum
from symsched_verify.oracles.ddim_particles import ddim_particles


def best_of(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_scale(d: int, n: int) -> None:
    lam = np.exp(np.random.default_rng(0).uniform(-9, 9, d))
    grid = symsched.tangent_sigmas(n, symsched.gamma_star(lam), 0.002, 80.0)
    symsched.kl(lam, grid)  # warm-up: lambdify + caches
    t_np = best_of(lambda: symsched.kl(lam, grid))
    try:
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))
        symsched.kl(lam, grid, backend="torch")
        t_torch = best_of(lambda: symsched.kl(lam, grid, backend="torch"))
    except ImportError:  # pragma: no cover
        t_torch = math.nan
    buf = np.empty(d)
    x = lam / (1 + lam)

    def roofline() -> None:
        for _ in range(n):
            np.log1p(x, out=buf)

    t_roof = best_of(roofline)
    steps = d * n
    print(f"[scale] d = {d:.0e}, N = {n}: {steps:.1e} eigen-steps")
    print(
        f"  numpy : {t_np:.3f} s  ({steps / t_np:.3e} eigen-steps/s)  ratio to roofline "
        f"{t_np / t_roof:.2f}"
    )
    print(
        f"  torch : {t_torch:.3f} s  ({steps / t_torch:.3e} eigen-steps/s)  ratio to roofline "
        f"{t_torch / t_roof:.2f}"
    )
    print(f"  roofline (one log1p pass per step): {t_roof:.3f} s")


def mc_kl(
    cov: np.ndarray, lam: np.ndarray, vecs: np.ndarray, grid: np.ndarray, n: int, seed: int
) -> float:
    res = ddim_particles(cov, grid, n, seed=seed)
    proj = res.samples @ vecs  # coordinates in the eigenbasis
    r_hat = (proj**2).mean(0) / (lam + grid[-1] ** 2)
    return float(0.5 * np.sum(1 / r_hat - 1 + np.log(r_hat)))


def bench_vs_monte_carlo(d: int, n_steps: int, seeds: int) -> None:
    lam_full = dataset_spectrum("digits")
    lam = lam_full[np.linspace(0, lam_full.size - 1, d).astype(int)]
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    cov = (q * lam) @ q.T
    grid = symsched.tangent_sigmas(n_steps, symsched.gamma_star(lam), 0.002, 80.0)
    exact = symsched.kl(lam, grid).kl_source_output
    t_closed = best_of(lambda: symsched.output_covariance(cov, grid), repeat=20)
    n = 1000
    while True:
        errs = [mc_kl(cov, lam, q, grid, n, s) / exact - 1 for s in range(seeds)]
        rms = math.sqrt(float(np.mean(np.square(errs))))
        if rms <= 0.01 or n >= 4_096_000:
            break
        n *= 2
    t_mc = best_of(lambda: mc_kl(cov, lam, q, grid, n, 0), repeat=1)
    print(f"[vs Monte Carlo] d = {d}, N = {n_steps}, exact KL = {exact:.4e}")
    print(
        f"  particles for 1% RMS relative error on KL ({seeds} seeds): {n}  (measured RMS "
        f"{rms:.4f})"
    )
    print(
        f"  Monte Carlo: {t_mc:.3f} s   closed form (full covariance): {t_closed * 1e3:.3f} ms   "
        f"speed-up {t_mc / t_closed:.0f}x"
    )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    args = p.parse_args()
    if args.quick:
        bench_scale(10**5, 20)
        bench_vs_monte_carlo(8, 10, 4)
    else:
        bench_scale(10**6, 100)
        bench_vs_monte_carlo(16, 20, 8)


if __name__ == "__main__":
    main()
