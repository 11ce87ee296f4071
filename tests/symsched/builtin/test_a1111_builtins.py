"""A1111 built-ins: the model table and k-diffusion calls against the installed k-diffusion, and
A1111's own scheduler functions against check values computed by running them
(data/a1111_check_values.json; see its ``header``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from symsched.builtin import a1111 as au
from symsched.builtin import get_builtin

DATA = json.loads((Path(__file__).parent / "data" / "a1111_check_values.json").read_text())

torch = pytest.importorskip("torch")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    K = pytest.importorskip("k_diffusion")


def _ulps(a: np.ndarray, b: np.ndarray) -> int:
    ai, bi = a.view(np.int32).astype(np.int64), b.view(np.int32).astype(np.int64)
    return int(np.abs(ai - bi).max()) if a.size else 0


@pytest.fixture(scope="module")
def denoiser() -> object:
    """The real CompVisDenoiser on LDM's float32 alphas_cumprod (float64 betas, as LDM builds)."""
    betas = (torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2).numpy()
    ac = torch.tensor(np.cumprod(1.0 - betas, axis=0), dtype=torch.float32)
    return K.external.CompVisDenoiser(SimpleNamespace(alphas_cumprod=ac))


def test_header() -> None:
    h = DATA["header"]
    assert h["repository"] == "AUTOMATIC1111/stable-diffusion-webui"
    assert h["commit"] == au.A1111_COMMIT and "gen.py" in h["route"]


TABLE_SQRT_ULPS = 1
"""torch's float32 ``** 0.5`` (its vectorised sqrt) is not correctly rounded on this CPU build: 11
of the 1000 levels lie one ulp below the correctly rounded square root reproduced here (the
float32 ``alphas_cumprod`` and the quotient are bit-identical; the ends, sigma_min and sigma_max,
are exact)."""


def test_table_is_compvis_denoiser(denoiser: object) -> None:
    ref = denoiser.sigmas.numpy()  # type: ignore[attr-defined]
    ours = au.compvis_sigmas()
    assert _ulps(ours, ref) <= TABLE_SQRT_ULPS and int((ours != ref).sum()) <= 11
    assert ours[0] == ref[0] and ours[-1] == ref[-1]
    assert np.array_equal(np.array(DATA["table"], np.float32), ref)


@pytest.mark.parametrize("n", [1, 2, 10, 11, 50, 1000])
def test_uniform_is_get_sigmas(denoiser: object, n: int) -> None:
    ref = denoiser.get_sigmas(n).numpy()  # type: ignore[attr-defined]
    ours = get_builtin("a1111:uniform").build(n).tool_sigmas
    # torch's float32 log (table) and exp within one ulp each; exp amplifies the log error by
    # |log sigma| <= 3.6: at most a few ulps
    assert ours.shape == ref.shape and _ulps(ours, ref) <= 4


@pytest.mark.parametrize("scheduler", ["karras", "exponential", "polyexponential"])
@pytest.mark.parametrize("n", [1, 2, 10, 11, 50])
def test_k_diffusion_calls(denoiser: object, scheduler: str, n: int) -> None:
    lo = denoiser.sigmas[0].item()  # type: ignore[attr-defined]
    hi = denoiser.sigmas[-1].item()  # type: ignore[attr-defined]
    fn = getattr(K.sampling, f"get_sigmas_{scheduler}")
    ref = fn(n=n, sigma_min=lo, sigma_max=hi, device="cpu").numpy()
    g = get_builtin(f"a1111:{scheduler}").build(n)
    assert g.params["sigma_min"] == lo and g.params["sigma_max"] == hi
    assert _ulps(g.tool_sigmas, ref) <= 1  # torch's exp / integer pow: one ulp


def test_rho_setting(denoiser: object) -> None:
    lo = denoiser.sigmas[0].item()  # type: ignore[attr-defined]
    hi = denoiser.sigmas[-1].item()  # type: ignore[attr-defined]
    ref = K.sampling.get_sigmas_karras(n=12, sigma_min=lo, sigma_max=hi, rho=3.0).numpy()
    assert _ulps(get_builtin("a1111:karras").build(12, rho=3.0).tool_sigmas, ref) <= 1


# torch tan within one ulp; simple/ddim pick table entries (TABLE_SQRT_ULPS); uniform adds log
# and exp; the others (AYS, beta: float64 then one rounding) are bit-exact
_ULPS = {"kl_optimal": 1, "uniform": 4, "simple": 1, "ddim": 1}


@pytest.mark.parametrize(
    "case", DATA["cases"], ids=lambda c: f"{c['scheduler']}-{c['model']}-{c['steps']}"
)
def test_against_a1111(case: dict[str, object]) -> None:
    g = get_builtin(f"a1111:{case['scheduler']}").build(
        int(case["steps"]),  # type: ignore[call-overload]
        model=case["model"],
        **case["options"],  # type: ignore[arg-type]
    )
    ref = np.array(case["sigmas"], dtype=np.float32)
    assert g.tool_sigmas.dtype == np.float32 and g.tool_sigmas.shape == ref.shape
    tol = _ULPS.get(str(case["scheduler"]), 0)
    if tol:
        assert _ulps(g.tool_sigmas, ref) <= tol
    else:
        assert np.array_equal(g.tool_sigmas, ref)


def test_survey_kl_optimal_no_trailing_zero() -> None:
    g = get_builtin("a1111:kl_optimal").build(10)
    t = g.tool_sigmas
    assert t.size == 11 and t[-1] > 0 and g.executed_steps == 10
    assert np.isclose(t[0], g.params["sigma_max"], rtol=1e-6)
    assert np.isclose(t[-1], g.params["sigma_min"], rtol=1e-6)


def test_survey_beta_is_linear_in_sigma() -> None:
    from scipy import stats

    g = get_builtin("a1111:beta").build(10)
    lo, hi = float(g.params["sigma_min"]), float(g.params["sigma_max"])  # type: ignore[arg-type]
    q = stats.beta.ppf(1 - np.linspace(0, 1, 10), 0.6, 0.6)
    assert np.allclose(g.tool_sigmas[:-1], lo + q * (hi - lo), rtol=1e-6)
    assert g.tool_sigmas[-1] == 0


def test_survey_ays_steps() -> None:
    t11 = get_builtin("a1111:align_your_steps").build(11).tool_sigmas
    assert t11.size == 12 and np.array_equal(
        t11[:-1], np.array(au.A1111_AYS_SIGMAS["sd15"], np.float32)
    )
    t10 = get_builtin("a1111:align_your_steps").build(10).tool_sigmas
    assert t10.size == 11 and t10[-2] == np.float32(0.029) and t10[-1] == 0
    assert not np.isin(t10[1:-2], np.array(au.A1111_AYS_SIGMAS["sd15"], np.float32)).any()


@pytest.mark.parametrize("name", [f"a1111:{s}" for s in au.A1111_SCHEDULERS])
def test_registered(name: str) -> None:
    g = get_builtin(name).build(10, model="sdxl")
    assert g.tool_sigmas.dtype == np.float32 and not g.tool_sigmas.flags.writeable
    assert g.units == "sigma" and (np.diff(g.sigmas) < 0).all()
    with pytest.raises(ValueError):
        get_builtin(name).build(10, model="flux")
