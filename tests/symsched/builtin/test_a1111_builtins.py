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
from symsched_verify import tolerances as tol

DATA = json.loads((Path(__file__).parent / "data" / "a1111_check_values.json").read_text())

torch = pytest.importorskip("torch")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    K = pytest.importorskip("k_diffusion")


def _ulps(a: np.ndarray, b: np.ndarray) -> int:
    ai, bi = a.view(np.int32).astype(np.int64), b.view(np.int32).astype(np.int64)
    return int(np.abs(ai - bi).max()) if a.size else 0


def _alphas_cumprod() -> object:
    """LDM's float32 alphas_cumprod (float64 betas and product, as LDM builds them)."""
    betas = (torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2).numpy()
    return torch.tensor(np.cumprod(1.0 - betas, axis=0), dtype=torch.float32)


@pytest.fixture(scope="module")
def compvis() -> object:
    """The real CompVisDenoiser: its table is torch's float32 ``** 0.5`` of the quotient."""
    return K.external.CompVisDenoiser(SimpleNamespace(alphas_cumprod=_alphas_cumprod()))


@pytest.fixture(scope="module")
def denoiser() -> object:
    """k-diffusion's DiscreteSchedule (CompVisDenoiser's base, with its sigma_to_t, t_to_sigma and
    get_sigmas) on the correctly rounded table: the functions are compared given the same table,
    and the table itself in test_table_is_compvis_denoiser."""
    return K.external.DiscreteSchedule(torch.from_numpy(au.compvis_sigmas().copy()), False)


def test_header() -> None:
    h = DATA["header"]
    assert h["repository"] == "AUTOMATIC1111/stable-diffusion-webui"
    assert h["commit"] == au.A1111_COMMIT and "gen.py" in h["route"]


def test_table_is_compvis_denoiser(compvis: object) -> None:
    # torch's float32 sqrt is not correctly rounded everywhere (how often depends on the CPU: 11 of
    # the 1000 levels on one x86-64 build, 168 on another): ours is the correctly rounded root of
    # the same float32 quotient, and differs from k-diffusion's table exactly where torch's root
    # of that quotient is misrounded, by one ulp
    ac = _alphas_cumprod()
    quotient = (1 - ac) / ac  # type: ignore[operator]
    misrounded = (quotient**0.5).numpy() != np.sqrt(quotient.numpy())
    ref = compvis.sigmas.numpy()  # type: ignore[attr-defined]
    ours = au.compvis_sigmas()
    assert np.array_equal(ours, np.sqrt(quotient.numpy()))
    assert np.array_equal(ours != ref, misrounded)
    assert _ulps(ours, ref) <= tol.A1111_TABLE_SQRT_ULPS
    # the table A1111 printed when the check values were recorded: the same up to that rounding
    assert _ulps(np.array(DATA["table"], np.float32), ours) <= tol.A1111_TABLE_SQRT_ULPS


@pytest.mark.parametrize("n", [1, 2, 10, 11, 50, 1000])
def test_uniform_is_get_sigmas(denoiser: object, n: int) -> None:
    ref = denoiser.get_sigmas(n).numpy()  # type: ignore[attr-defined]
    ours = get_builtin("a1111:uniform").build(n).tool_sigmas
    assert ours.shape == ref.shape and _ulps(ours, ref) <= tol.A1111_T_TO_SIGMA_ULPS


@pytest.mark.parametrize("scheduler", ["karras", "exponential", "polyexponential"])
@pytest.mark.parametrize("n", [1, 2, 10, 11, 50])
def test_k_diffusion_calls(denoiser: object, scheduler: str, n: int) -> None:
    lo = denoiser.sigmas[0].item()  # type: ignore[attr-defined]
    hi = denoiser.sigmas[-1].item()  # type: ignore[attr-defined]
    fn = getattr(K.sampling, f"get_sigmas_{scheduler}")
    ref = fn(n=n, sigma_min=lo, sigma_max=hi, device="cpu").numpy()
    g = get_builtin(f"a1111:{scheduler}").build(n)
    assert g.params["sigma_min"] == lo and g.params["sigma_max"] == hi  # the table's ends
    assert _ulps(g.tool_sigmas, ref) <= tol.A1111_KDIFFUSION_CALL_ULPS


def test_rho_setting(denoiser: object) -> None:
    lo = denoiser.sigmas[0].item()  # type: ignore[attr-defined]
    hi = denoiser.sigmas[-1].item()  # type: ignore[attr-defined]
    ref = K.sampling.get_sigmas_karras(n=12, sigma_min=lo, sigma_max=hi, rho=3.0).numpy()
    ours = get_builtin("a1111:karras").build(12, rho=3.0).tool_sigmas
    assert _ulps(ours, ref) <= tol.A1111_KDIFFUSION_CALL_ULPS


# kl_optimal: torch's tan; simple/ddim pick table entries; uniform, sgm_uniform, normal go
# through t_to_sigma; karras_exponential blends k-diffusion's karras and exponential; the others
# (AYS, beta: float64 then one rounding) are bit-exact
_ULPS = {
    "kl_optimal": tol.A1111_TAN_ULPS,
    "simple": tol.A1111_TABLE_SQRT_ULPS,
    "ddim": tol.A1111_TABLE_SQRT_ULPS,
    "uniform": tol.A1111_T_TO_SIGMA_ULPS,
    "sgm_uniform": tol.A1111_T_TO_SIGMA_ULPS,
    "normal": tol.A1111_T_TO_SIGMA_ULPS,
    "karras_exponential": tol.A1111_KARRAS_EXPONENTIAL_ULPS,
}


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
    ulps = _ULPS.get(str(case["scheduler"]), 0)
    if ulps:
        assert _ulps(g.tool_sigmas, ref) <= ulps
    else:
        assert np.array_equal(g.tool_sigmas, ref)


def test_every_scheduler_has_check_values() -> None:
    # karras, exponential, polyexponential are A1111's calls of k-diffusion: tested against it
    called = {"karras", "exponential", "polyexponential"}
    assert {c["scheduler"] for c in DATA["cases"]} == set(au.A1111_SCHEDULERS) - called
    assert "automatic" not in au.A1111_SCHEDULERS  # the sampler's karras or uniform


_RANGES = [(None, None), (0.1, 10.0), (0.01, 20.0), (0.5, 3.0)]


@pytest.mark.parametrize(("lo", "hi"), _RANGES)
def test_sigma_to_t_is_the_denoisers(denoiser: object, lo: float | None, hi: float | None) -> None:
    ls = au._log_sigmas(au.compvis_sigmas())
    table = denoiser.sigmas  # type: ignore[attr-defined]
    for s in (table[0].item(), table[-1].item(), 1.0) if lo is None else (lo, hi):
        ref = denoiser.sigma_to_t(torch.tensor(s)).numpy()  # type: ignore[attr-defined]
        ours = np.array([au._sigma_to_t(ls, s)], np.float32)
        assert _ulps(ours, ref.reshape(1)) <= tol.A1111_SIGMA_TO_T_ULPS
    assert au._sigma_to_t(ls, table[0].item()) == 0.0
    assert au._sigma_to_t(ls, table[-1].item()) == 999.0


@pytest.mark.parametrize("sgm", [True, False])
@pytest.mark.parametrize(("lo", "hi"), _RANGES)
@pytest.mark.parametrize("n", [1, 2, 10, 50, 1000])
def test_normal_and_sgm_uniform_on_the_denoiser(
    denoiser: object, sgm: bool, lo: float | None, hi: float | None, n: int
) -> None:
    """A1111's calls, on the installed CompVisDenoiser: t_to_sigma of a linspace between
    sigma_to_t of the two ends (n + 1 points, the last dropped, for sgm_uniform), then 0."""
    d = denoiser
    opts = {} if lo is None else {"sigma_min": lo, "sigma_max": hi}
    lo = d.sigmas[0].item() if lo is None else lo  # type: ignore[attr-defined]
    hi = d.sigmas[-1].item() if hi is None else hi  # type: ignore[attr-defined]
    start = d.sigma_to_t(torch.tensor(hi))  # type: ignore[attr-defined]
    end = d.sigma_to_t(torch.tensor(lo))  # type: ignore[attr-defined]
    t = torch.linspace(start, end, n + 1)[:-1] if sgm else torch.linspace(start, end, n)
    ref = torch.cat([d.t_to_sigma(t), torch.zeros(1)]).numpy()  # type: ignore[attr-defined]
    g = get_builtin("a1111:sgm_uniform" if sgm else "a1111:normal").build(n, **opts)
    assert g.tool_sigmas.shape == ref.shape
    assert _ulps(g.tool_sigmas, ref) <= tol.A1111_T_TO_SIGMA_ULPS


def test_normal_is_uniform_at_the_models_ends() -> None:
    for n in (2, 10, 50, 1000):
        a = get_builtin("a1111:normal").build(n).tool_sigmas
        assert np.array_equal(a, get_builtin("a1111:uniform").build(n).tool_sigmas)
    ref = {
        (c["scheduler"], c["steps"]): np.array(c["sigmas"], np.float32)
        for c in DATA["cases"]
        if not c["options"] and c["scheduler"] in ("normal", "uniform")
    }
    for n in (1, 2, 3, 10, 11, 12, 25, 100):  # A1111 maps each time alone: scalar exp
        assert _ulps(ref["normal", n], ref["uniform", n]) <= tol.A1111_T_TO_SIGMA_ULPS


@pytest.mark.parametrize("n", [2, 3, 10, 50])
def test_karras_exponential_calls_k_diffusion(denoiser: object, n: int) -> None:
    lo = denoiser.sigmas[0].item()  # type: ignore[attr-defined]
    hi = denoiser.sigmas[-1].item() * 1.1  # type: ignore[attr-defined]
    for fn, ours in (
        (K.sampling.get_sigmas_karras, au.get_sigmas_karras(n, lo, hi)),
        (K.sampling.get_sigmas_exponential, au.get_sigmas_exponential(n, lo, hi)),
    ):
        assert _ulps(ours, fn(n=n, sigma_min=lo, sigma_max=hi).numpy()) <= (
            tol.A1111_KDIFFUSION_CALL_ULPS
        )
    g = get_builtin("a1111:karras_exponential").build(n)
    t = g.tool_sigmas
    assert t.size == n and t[-1] > 0 and g.executed_steps == n - 1
    assert np.isclose(t[0], hi, rtol=1e-6) and t[-1] < lo
    assert any("raised by 10 %" in note for note in g.notes)


def test_karras_exponential_one_step_is_refused() -> None:
    with pytest.raises(ValueError, match="no step"):
        get_builtin("a1111:karras_exponential").build(1)


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
