"""Benchmark: Euler–Maclaurin coefficients (J, K, both KL directions to N^-4) for 1e6 eigenvalues.

Run on demand (not a test):  python benchmarks/bench_asymptotics.py [--quick]

Target: < 2 s for d = 1e6 with the vectorised closed forms (tangent family, gamma*). Baselines
measured in the same run: (1) the exact KL of the same spectrum at N = 100 (what the expansion
replaces when only the N-dependence is wanted), (2) the one-off SymPy derivation of the closed form
(cached per process), (3) the quadrature path of a non-tangent family (karras) on the same spectrum
(above 16 384 distinct eigenvalues J and K are interpolated in log lambda from a checked grid),
(4) the direct composite Gauss–Legendre quadrature of every eigenvalue, timed on d / 100 and
scaled.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _timing import best_of

import symsched
from symsched.gaussian import asymptotics
from symsched.schedules import families


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="d = 1e5 instead of 1e6")
    args = ap.parse_args()
    d = 100_000 if args.quick else 1_000_000
    lam = np.exp(np.random.default_rng(0).uniform(-9, 9, d))
    fam = families.tangent(symsched.gamma_star(lam), 0.002, 80.0)
    t0 = time.perf_counter()
    asymptotics.coefficients(
        lam[:10], fam
    )  # SymPy derivation of the closed forms + lambdify (once)
    t_derive = time.perf_counter() - t0
    t_cf = best_of(lambda: asymptotics.coefficients(lam, fam))
    co = asymptotics.coefficients(lam, fam)
    grid = fam.grid(100)
    symsched.kl(lam, grid)
    t_kl = best_of(lambda: symsched.kl(lam, grid), repeat=2)
    kar = families.karras(0.002, 80.0, 7.0)
    asymptotics.coefficients(lam[:10], kar)
    t_q = best_of(lambda: asymptotics.coefficients(lam, kar), repeat=1)  # interpolated in log lam
    co_k = asymptotics.coefficients(lam, kar)
    sub = lam[: d // 100]
    t_direct = best_of(lambda: asymptotics._quadrature_direct(kar, sub, 128, 8), repeat=1) * 100
    j_direct, _ = asymptotics._quadrature_direct(kar, sub, 128, 8)
    err_j = float(np.max(np.abs(co_k.J[: d // 100] / j_direct - 1)))
    exact100 = symsched.kl(lam, grid).kl_source_output
    pred100 = asymptotics.predicted_kl(co, 100, 4)
    print(f"d = {d:,} eigenvalues (log-uniform over 18 e-folds), tangent gamma* on [0.002, 80]")
    print(
        f"  closed-form J, K and KL coefficients : {t_cf:8.3f} s   (target < 2 s: "
        f"{'PASS' if t_cf < 2 else 'MISS'})"
    )
    print(f"  one-off SymPy derivation (cached)     : {t_derive:8.3f} s")
    print(
        f"  baseline: exact KL at N = 100          : {t_kl:8.3f} s   ratio closed form / exact = "
        f"{t_cf / t_kl:.3f}"
    )
    print(
        f"  quadrature path (karras), interpolated : {t_q:8.3f} s   ratio closed form / "
        f"quadrature = {t_cf / t_q:.3f}"
    )
    print(
        f"  baseline: direct quadrature, scaled    : {t_direct:8.3f} s   ratio interpolated / "
        f"direct = {t_q / t_direct:.4f}; largest relative J difference {err_j:.1e}"
    )
    print(
        f"  check: KL(N=100) exact {exact100:.6e}, expansion to N^-4 {pred100:.6e} "
        f"(rel. diff {abs(pred100 / exact100 - 1):.1e})"
    )


if __name__ == "__main__":
    main()
