"""Property-based checks of the exact Gaussian theory.

hypothesis; the profile is chosen with SYMSCHED_HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched import gamma_star, tangent_sigmas
from symsched.gaussian import exact, tangent
from symsched.schedules import families
from symsched_verify import tolerances as tol
from symsched_verify.oracles.ddim_particles import ddim_particles
from symsched_verify.strategies import eigenvalues, grids, spd_matrices, spectra


@settings(max_examples=8)
@given(
    spd_matrices(),
    grids(min_steps=2, max_steps=10),
    st.sampled_from(["exact", "prior"]),
    st.integers(0, 2**31 - 1),
)
def test_closed_form_covariance_matches_monte_carlo(cov, sigmas, start, seed) -> None:  # type: ignore[no-untyped-def]
    pred = exact.output_covariance(cov, sigmas, start=start)
    mc = ddim_particles(cov, sigmas, 20_000, start=start, seed=seed)
    assert np.all(np.abs(mc.covariance - pred) <= tol.Z_SCORE * mc.stderr)


@given(spectra(max_size=30), grids(max_steps=60), st.sampled_from(["exact", "prior"]))
def test_numpy_torch_mpmath_agree(lam, sigmas, start) -> None:  # type: ignore[no-untyped-def]
    ref = exact.kl_mpmath(lam, sigmas, start=start)
    rtol = tol.backend_rtol(sigmas.size - 1)
    for backend in ("numpy", "torch"):
        got = exact.kl(lam, sigmas, start=start, backend=backend)
        for field in ("kl_source_output", "kl_output_source"):
            want = float(getattr(ref, field))
            if math.isinf(want):
                assert math.isinf(getattr(got, field))
            else:
                assert abs(getattr(got, field) - want) <= rtol * want


@given(spectra(), grids())
def test_kl_positive_and_ratios_at_most_one(lam, sigmas) -> None:  # type: ignore[no-untyped-def]
    res = exact.kl(lam, sigmas, start="exact")
    assert np.all(res.log_variance_ratios <= 4 * tol.EPS64)
    assert res.kl_source_output > 0 and res.kl_output_source > 0
    flow = exact.kl(lam, sigmas, sampler="exact-flow")
    assert flow.kl_source_output == 0 and flow.kl_output_source == 0


@given(eigenvalues(1e-3, 1e3), grids(min_steps=2, max_steps=40, pure_noise=True, to_zero=True))
def test_tangent_grid_beats_any_grid_for_one_eigenvalue(lam, other) -> None:  # type: ignore[no-untyped-def]
    # any grid with the same endpoints (inf -> 0) and the same number of steps
    n = other.size - 1
    best = exact.kl([lam], tangent_sigmas(n, math.sqrt(lam))).kl_source_output
    assert exact.kl([lam], other).kl_source_output >= best * (1 - tol.OPT_RTOL)


@given(spectra(max_size=40), st.floats(-1.5, 1.5).filter(lambda v: abs(v) > 1e-3))
def test_gamma_star_minimises_dominant_term(lam, log_factor) -> None:  # type: ignore[no-untyped-def]
    gs = gamma_star(lam)
    assert tangent.asymptotic_kl_tangent(lam, gs, 10) < tangent.asymptotic_kl_tangent(
        lam, gs * math.exp(log_factor), 10
    )


@given(spectra(max_size=5), st.integers(2, 30))
def test_only_visited_levels_matter(lam, n) -> None:  # type: ignore[no-untyped-def]
    # the same levels reached through two different time parametrisations (vp-linear and cosine)
    vp, cos = families.vp_linear(), families.cosine()
    levels = vp.grid(n)
    times = cos.t_of(levels)
    back = cos(1.0 - times)  # cosine runs u = 1 - t on [0, 1]
    np.testing.assert_allclose(back, levels, rtol=1e-11)
    k1, k2 = exact.kl(lam, levels), exact.kl(lam, back)
    assert abs(k1.kl_source_output - k2.kl_source_output) <= 1e-9 * k1.kl_source_output
