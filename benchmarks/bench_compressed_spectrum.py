"""Benchmark: the optimisers on a compressed spectrum, from 1e4 to 3e6 eigenvalues.

Run on demand (not a test):  python benchmarks/bench_compressed_spectrum.py [--quick]

Targets (docs/theory/gaussian.md#compressed-spectra), ratios measured in this run:

* ``kl-optimal`` (DDIM, N = 50) at d = 1e6 costs at most 2x the same at d = 1e4, and under 5 s;
* the sampler-aware optimum (Heun, N = 20) likewise, for information;
* peak memory at d = 3e6 bounded: at most 40 float64 d-vectors (the exact search would hold
  ~12 (N x d) arrays, 14 GB at N = 50);
* the answer's KL equals the exact search's (``exact_spectrum=True``, the baseline, at d = 1e4);
* the floor of the 2x target: what the answer's one full-spectrum evaluation (and the sort the
  compression needs) cost alone at d = 1e6, against the whole search at d = 1e4;
* for information, the other users of the compression at both sizes, each against its exact
  search at d = 1e4: the flow shift (DDIM, N = 28), the variational geodesic and the fewest steps
  of a Karras grid for a target KL.

The spectra are image-like: d i.i.d. log-uniform eigenvalues on [1e-6, 1e2] (the same
distribution at every d, so the compressed size is the same and only the O(d) work grows).
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np
from _timing import best_of

from symsched.flow.shift import optimal_shift
from symsched.gaussian.exact import kl as exact_kl
from symsched.gaussian.sampler_optimum import sampler_optimal
from symsched.gaussian.variational import geodesic, kl_optimal
from symsched.schedules import build
from symsched.score import steps_for_target

LO, HI = 0.002, 80.0


def spectrum(d: int, seed: int = 0) -> np.ndarray:
    """d log-uniform eigenvalues on [1e-6, 1e2]."""
    return np.exp(np.random.default_rng(seed).uniform(np.log(1e-6), np.log(1e2), d))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1e5 and 3e5 instead of 1e6 and 3e6")
    args = ap.parse_args()
    small, big, huge = (10_000, 100_000, 300_000) if args.quick else (10_000, 1_000_000, 3_000_000)
    lam_s, lam_b = spectrum(small), spectrum(big)
    kl_optimal(lam_s[:2000], 5, LO, HI)  # imports and lambdified functions, untimed
    sampler_optimal(lam_s[:2000], 5, LO, HI, sampler="heun")

    print(f"kl-optimal, DDIM, N = 50, levels [{LO}, {HI}]; spectra log-uniform on [1e-6, 1e2]")
    t_exact = best_of(lambda: kl_optimal(lam_s, 50, LO, HI, exact_spectrum=True), 1)
    exact = kl_optimal(lam_s, 50, LO, HI, exact_spectrum=True)
    res_s = kl_optimal(lam_s, 50, LO, HI)
    t_s = best_of(lambda: kl_optimal(lam_s, 50, LO, HI), 3)
    t_b = best_of(lambda: kl_optimal(lam_b, 50, LO, HI), 2)
    res_b = kl_optimal(lam_b, 50, LO, HI)
    assert res_s.compression is not None and res_b.compression is not None
    print(f"  baseline, exact search at d = {small:,}: {t_exact:7.3f} s  KL {exact.kl:.12e}")
    print(
        f"  compressed at d = {small:,} ({res_s.compression.nodes.size} nodes): {t_s:7.3f} s  "
        f"KL {res_s.kl:.12e}  (relative to the exact search {res_s.kl / exact.kl - 1:+.1e}; "
        f"speed-up {t_exact / t_s:.0f}x)"
    )
    ratio = t_b / t_s
    print(
        f"  compressed at d = {big:,} ({res_b.compression.nodes.size} nodes): {t_b:7.3f} s  "
        f"ratio to d = {small:,}: {ratio:.2f} (target <= 2: {'PASS' if ratio <= 2 else 'MISS'}; "
        f"< 5 s: {'PASS' if t_b < 5 else 'MISS'})"
    )
    if res_b.agreement is not None:
        print(
            f"  answer's KL, compressed vs full at d = {big:,}: relative "
            f"{res_b.agreement.relative_error:.1e} (fell back: {res_b.fell_back})"
        )

    t_full = best_of(lambda: exact_kl(lam_b, res_b.sigmas), 2)
    t_sort = best_of(lambda: np.sort(lam_b), 2)
    print(
        f"  floor at d = {big:,}: one full-spectrum evaluation of the answer {t_full:.3f} s and "
        f"the sort {t_sort:.3f} s, alone {(t_full + t_sort) / t_s:.2f}x the whole search at "
        f"d = {small:,}"
    )

    print("sampler-aware optimum, Heun (coupling error), N = 20")
    h_s = best_of(lambda: sampler_optimal(lam_s, 20, LO, HI, sampler="heun"), 2)
    h_b = best_of(lambda: sampler_optimal(lam_b, 20, LO, HI, sampler="heun"), 1)
    print(f"  d = {small:,}: {h_s:7.3f} s   d = {big:,}: {h_b:7.3f} s   ratio {h_b / h_s:.2f}")

    others(lam_s, lam_b)

    lam_h = spectrum(huge, seed=2)
    vec = lam_h.nbytes
    tracemalloc.start()
    res_h = kl_optimal(lam_h, 50, LO, HI)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per = peak / vec
    print(
        f"peak memory of kl-optimal at d = {huge:,}: {peak / 2**20:.0f} MiB = {per:.1f} "
        f"d-vectors (target <= 40: {'PASS' if per <= 40 else 'MISS'}; the exact search: "
        f"~{12 * 50 * vec / 2**30:.0f} GiB); KL {res_h.kl:.6e}"
    )


def others(lam_s: np.ndarray, lam_b: np.ndarray) -> None:
    """The flow shift, the geodesic and the steps-for-target search, compressed at both sizes and
    exact at the small one."""
    flow_s, flow_b = lam_s / lam_s.mean(), lam_b / lam_b.mean()  # the flow's data scale
    karras = build("karras", 10, sigma_min=LO, sigma_max=HI).sigmas

    def steps(lam: np.ndarray) -> int | None:
        return steps_for_target(lam, karras, 0.01 * float(exact_kl(lam, karras).kl_source_output))

    cases = [
        ("flow shift, DDIM, N = 28", lambda lam, ex: optimal_shift(lam, 28, exact_spectrum=ex),
         flow_s, flow_b, lambda r: r.value),
        ("variational geodesic", lambda lam, ex: geodesic(lam, LO, HI, exact_spectrum=ex),
         lam_s, lam_b, lambda r: r.dominant_coefficient),
        ("steps for 1% of Karras-10's KL", lambda lam, ex: steps(lam), lam_s, lam_b, float),
    ]  # fmt: skip
    for name, run, small, big, value in cases:
        t_s = best_of(lambda run=run, small=small: run(small, False), 2)
        t_b = best_of(lambda run=run, big=big: run(big, False), 1)
        line = f"{name}: d = {small.size:,} {t_s:.3f} s, d = {big.size:,} {t_b:.3f} s"
        if name.startswith("steps"):
            print(f"{line}; N = {run(small, False)} and {run(big, False)}")
            continue
        t_x = best_of(lambda run=run, small=small: run(small, True), 1)
        rel = value(run(small, False)) / value(run(small, True)) - 1
        print(f"{line}; exact at d = {small.size:,} {t_x:.3f} s; value vs exact {rel:+.1e}")


if __name__ == "__main__":
    main()
