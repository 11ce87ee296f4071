"""The sampler registry and the exact recursions: identities, 40-digit paths, oracles, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symsched.cli import main
from symsched.gaussian import exact
from symsched.samplers import SAMPLERS, get_sampler, sampler_names
from symsched_verify import tolerances as tol
from symsched_verify.oracles import particles as ps
from symsched_verify.strategies import grids, spd_matrices, spectra


@settings(max_examples=20)
@given(spectra(), grids(min_steps=1, max_steps=30), st.sampled_from(["exact", "prior"]))
def test_ancestral_eta0_is_ddim(lam: np.ndarray, sig: np.ndarray, start: str) -> None:
    a = exact.log_variance_ratios(lam, sig, sampler="ancestral", eta=0.0, start=start)
    d = exact.log_variance_ratios(lam, sig, start=start)
    finite = np.isfinite(d)
    np.testing.assert_allclose(a[finite], d[finite], rtol=1e-10, atol=1e-13)


@settings(max_examples=10)
@given(
    spd_matrices(),
    grids(min_steps=2, max_steps=15, pure_noise=False),
    st.sampled_from(["exact", "prior"]),
)
def test_deterministic_samplers_match_linear_map(
    cov: np.ndarray, sig: np.ndarray, start: str
) -> None:
    model = ps.denoiser(cov)
    eye = np.eye(cov.shape[0])
    c0 = ps.start_covariance(cov, sig[0], start)
    lam, U = np.linalg.eigh(cov)
    for name, run in (
        ("heun", lambda e: ps.sample_heun(model, e, sig)),
        ("dpmpp-2m", lambda e: ps.sample_dpmpp_2m(model, e, sig)),
        ("euler-vp", lambda e: ps.sample_euler_vp(cov, e, sig)),
    ):
        m = run(eye).T
        got = m @ c0 @ m.T
        lr = exact.log_variance_ratios(lam, sig, sampler=name, start=start)
        pred = (U * (np.exp(lr) * (lam + sig[-1] ** 2))) @ U.T
        assert np.max(np.abs(got - pred)) <= 1e3 * tol.LINEAR_MAP_RTOL * np.max(np.abs(got)), name


def test_ancestral_pure_noise_first_step_lands_on_sigma1() -> None:
    # from rho = inf, DDIM to sigma_down plus noise sigma_up: Var = sigma_down^2 + sigma_up^2 =
    # sigma_1^2
    lam = np.array([0.2, 3.0])
    lr = exact.log_variance_ratios(lam, [math.inf, 2.0], sampler="ancestral", eta=0.7)
    np.testing.assert_allclose(np.exp(lr), 4.0 / (lam + 4.0), rtol=1e-14)


def test_registry_declares_every_sampler() -> None:
    assert set(sampler_names()) == set(SAMPLERS) - {"exact-flow"}
    for name, s in SAMPLERS.items():
        assert s.name == name and s.summary and s.reference
        assert s.order in (None, 1, 2) and s.nfe_per_step >= 1
    sig = np.array([80.0, 10.0, 1.0, 0.0])
    assert get_sampler("heun").nfe(sig) == 5  # two per step, one for the final step to 0
    assert get_sampler("dpmpp-2m").nfe(sig) == 3
    with pytest.raises(ValueError, match="sampler must be one of ancestral, ddim"):
        get_sampler("lms")


@settings(max_examples=25)
@given(
    spectra(max_size=5),
    grids(min_steps=1, max_steps=12),
    st.sampled_from(["exact", "prior"]),
    st.sampled_from(sorted(SAMPLERS)),
    st.floats(0.0, 1.0),
)
def test_float64_path_matches_the_40_digit_recursion(
    lam: np.ndarray, sig: np.ndarray, start: str, name: str, eta: float
) -> None:
    # the float64 path is the stable form, the mpmath path the direct recursion: two codings
    smp = get_sampler(name)
    if not smp.pure_noise_start and math.isinf(sig[0]):
        sig = np.concatenate([[50.0 * max(float(sig[1]), 1.0)], sig[1:]])
    knobs = {"eta": eta} if name == "ancestral" else {}
    fast = exact.log_variance_ratios(lam, sig, sampler=name, start=start, **knobs)
    ref = exact.kl_mpmath(lam, sig, sampler=name, start=start, **knobs)
    want = np.array([float(v) for v in ref.variance_ratios])
    got = np.exp(fast)
    rtol = tol.dpm_mp_rtol(sig) if name == "dpmpp-2m" else tol.SAMPLER_MP_RTOL
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


def test_torch_backend_agrees(backend: str) -> None:
    lam = np.array([0.1, 1.0, 4.0])
    sig = np.array([80.0, 10.0, 2.0, 0.5, 0.0])
    for name in SAMPLERS:
        k = exact.kl(lam, sig, sampler=name, backend=backend)
        k_np = exact.kl(lam, sig, sampler=name)
        assert k.kl_source_output == pytest.approx(k_np.kl_source_output, rel=1e-13)


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="finite sigma_0"):
        exact.kl([1.0], [math.inf, 1.0, 0.0], sampler="heun")
    with pytest.raises(ValueError, match="sampler heun does not take eta; it takes no options"):
        exact.kl([1.0], [5.0, 1.0, 0.0], sampler="heun", eta=0.5)
    with pytest.raises(ValueError, match="eta"):
        exact.kl([1.0], [5.0, 1.0, 0.0], sampler="ancestral", eta=1.5)
    with pytest.raises(ValueError, match="sampler"):
        exact.kl([1.0], [5.0, 1.0, 0.0], sampler="lms")
    with pytest.raises(ValueError, match="dps must be an integer >= 15"):
        exact.kl_mpmath([1.0], [5.0, 1.0, 0.0], sampler="heun", dps=10)


def test_cli_sampler_choices(capsys: pytest.CaptureFixture[str]) -> None:
    for name in sampler_names():
        assert (
            main(
                [
                    "kl",
                    "--eigenvalues",
                    "0.1,1",
                    "--sigmas",
                    "80,10,1,0.1,0",
                    "--sampler",
                    name,
                    "--json",
                ]
            )
            == 0
        )
        out = json.loads(capsys.readouterr().out)
        assert out["sampler"] == name and out["kl_source_output"] >= 0
    assert main(["kl", "--eigenvalues", "0.1", "--sigmas", "inf,1,0", "--sampler", "heun"]) == 2
    assert "finite sigma_0" in capsys.readouterr().err
    assert (
        main(
            ["kl", "--eigenvalues", "0.1", "--sigmas", "5,1,0", "--sampler", "ddim", "--eta", "0.5"]
        )
        == 2
    )
