"""symsched.builtin.diffusers against the installed diffusers 0.42.1 schedulers.

Every built-in is built beside the real ``Scheduler(**config).set_timesteps(N)`` over configs drawn
by hypothesis, and compared:

* **bit for bit** (``np.array_equal`` and the dtype) when the reproduction is given the scheduler's
  own training table ``((1 - alphas_cumprod) / alphas_cumprod) ** 0.5`` (computed by torch);
* within ``tol.DIFFUSERS_TABLE_ULPS`` float32 ulps (levels) and
  ``tol.DIFFUSERS_DERIVED_TIMESTEP_ATOL`` (timesteps read back from levels; both in
  verify/tolerances/_conformance.py) when it builds its own table, because torch's CPU ``sqrt``
  (MKL's vector math) is not correctly rounded and numpy's is. The alphas_cumprod table itself is
  bit-exact.
* the refusals agree: the real scheduler raises exactly when the built-in raises ``ValueError``
  (``UnrepresentableGrid`` is not a refusal: the real grid is then checked to be non-decreasing).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

diffusers = pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

from symsched.builtin import diffusers as D  # noqa: E402
from symsched.builtin import get_builtin  # noqa: E402
from symsched_verify import tolerances as tol  # noqa: E402
from symsched_verify.oracles.tool_schedules import (  # noqa: E402
    zero_snr_excess,
    zero_snr_timestep_excess,
)

Arr = NDArray[Any]
Cfg = st.SearchStrategy[dict[str, Any]]

N_STEPS = st.integers(1, 200)
SETTINGS = settings(max_examples=40)

BETAS: Cfg = st.sampled_from(
    [
        {"beta_schedule": "linear"},
        {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012},
        {"beta_schedule": "squaredcos_cap_v2"},
        {"beta_schedule": "linear", "beta_start": 0.0002, "beta_end": 0.03},
    ]
)
TRAIN = st.sampled_from([1000, 1000, 500, 1200])
SPACING = st.sampled_from(["linspace", "leading", "trailing"])
CONVERSION: Cfg = st.sampled_from(
    [
        {},
        {},
        {"use_karras_sigmas": True},
        {"use_exponential_sigmas": True},
        {"use_beta_sigmas": True},
    ]
)
REFUSED_CONVERSION: Cfg = st.sampled_from(
    [
        {"use_karras_sigmas": True, "use_beta_sigmas": True},
        {"use_exponential_sigmas": True, "use_karras_sigmas": True},
    ]
)


def _ulps(mine: Arr, real: Arr) -> float:
    """Largest distance in float32 ulps (0 where both are equal, inf included)."""
    a, b = mine.astype(np.float64), real.astype(np.float64)
    same = a == b
    scale = np.spacing(np.maximum(np.abs(a), np.abs(b)).astype(np.float32)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        d = np.where(same, 0.0, np.abs(a - b) / scale)
    return float(d.max()) if d.size else 0.0


def _assert_levels_close(mine: Arr, real: Arr, cfg: dict[str, Any], ulps: int = 0) -> None:
    """The built-in's own-table levels against diffusers' (``tol.DIFFUSERS_TABLE_ULPS``,
    ``zero_snr_excess``)."""
    assert mine.dtype == real.dtype and mine.shape == real.shape, (mine.dtype, real.dtype)
    if cfg.get("rescale_betas_zero_snr"):
        assert zero_snr_excess(mine, real) <= 1.0, (mine, real)
    else:
        assert _ulps(mine, real) <= tol.DIFFUSERS_TABLE_ULPS + ulps


def _assert_derived_timesteps_close(mine: Arr, real: Arr, levels: Arr, cfg: dict[str, Any]) -> None:
    """Timesteps read back from the built-in's own-table levels against diffusers'
    (``tol.DIFFUSERS_DERIVED_TIMESTEP_ATOL``; zero-SNR: ``zero_snr_timestep_excess``)."""
    if cfg.get("rescale_betas_zero_snr"):
        assert zero_snr_timestep_excess(mine, real, levels) <= 1.0, (mine, real)
    else:
        assert np.allclose(mine, real, rtol=0, atol=tol.DIFFUSERS_DERIVED_TIMESTEP_ATOL)


def _real(cls: type, cfg: dict[str, Any], n: int, **kw: Any) -> tuple[Any, Exception | None]:
    try:
        with np.errstate(all="ignore"):  # shift_terminal with N=1 divides 0 by 0 in diffusers
            s = cls(**cfg)
            s.set_timesteps(n, **kw)
    except (ValueError, AssertionError, NotImplementedError, ImportError) as err:
        return None, err
    return s, None


def _torch_tables(s: Any) -> D.TrainingTables:
    ac = s.alphas_cumprod
    return D.TrainingTables(ac.numpy(), np.array(((1 - ac) / ac) ** 0.5))


def _assert_same(mine: Arr | None, real: Arr, what: str) -> None:
    assert mine is not None, what
    assert mine.dtype == real.dtype, (what, mine.dtype, real.dtype)
    assert mine.shape == real.shape, (what, mine.shape, real.shape)
    assert np.array_equal(mine, real), (what, np.nonzero(mine != real)[0][:5], mine, real)


def _real_levels(s: Any, cfg: dict[str, Any]) -> Arr:
    """The real scheduler's levels (DDIM keeps none: the VE levels of its timesteps, then final)."""
    if hasattr(s, "sigmas"):
        out: Arr = np.asarray(s.sigmas.numpy())
        return out
    ac = np.concatenate(
        [s.alphas_cumprod.numpy()[s.timesteps.numpy()], s.final_alpha_cumprod.numpy().reshape(1)]
    )
    with np.errstate(divide="ignore"):
        levels: Arr = np.sqrt((1 - ac) / ac)
    return levels


def _strictly_decreasing_distinct(levels: Arr) -> bool:
    x = levels.astype(np.float64)
    x = x[np.concatenate([[True], x[1:] != x[:-1]])] if x.size else x
    return x.size >= 2 and bool(np.all(np.diff(x) < 0))


def _parity(
    name: str, cls: type, cfg: dict[str, Any], n: int, opts: dict[str, Any], **kw: Any
) -> tuple[Any, Any] | None:
    """Build both; return (scheduler, grid) when both succeed, None when both refuse (or when the
    built-in finds diffusers' grid unrepresentable, checked on the real levels)."""
    s, err = _real(cls, cfg, n, **kw)
    try:
        g = get_builtin(name).build(n, **cfg, **opts)
    except D.UnrepresentableGrid:
        assert err is None, err
        assert not _strictly_decreasing_distinct(_real_levels(s, cfg))
        return None
    except ValueError as mine:
        if "outside the training table" in str(mine):  # DDIM: the real step would fail
            ts = s.timesteps.numpy()
            assert err is None and (ts.max() >= cfg["num_train_timesteps"] or ts.min() < 0)
            return None
        assert err is not None, f"built-in refuses ({mine}) but diffusers accepts {cfg}"
        return None
    assert err is None, f"diffusers refuses ({err!r}) but the built-in accepts {cfg}"
    return s, g


# ------------------------------------------------------------------------------------------
# the training tables


@given(train=TRAIN, betas=BETAS)
@SETTINGS
def test_alphas_cumprod_bit_exact(train: int, betas: dict[str, Any]) -> None:
    s = diffusers.EulerDiscreteScheduler(num_train_timesteps=train, **betas)
    mine = D.alphas_cumprod_float32(
        train, betas.get("beta_start", 0.0001), betas.get("beta_end", 0.02), betas["beta_schedule"]
    )
    _assert_same(mine, s.alphas_cumprod.numpy(), "alphas_cumprod")
    _assert_same(
        D.training_betas_float32(
            train,
            betas.get("beta_start", 0.0001),
            betas.get("beta_end", 0.02),
            betas["beta_schedule"],
        ),
        s.betas.numpy(),
        "betas",
    )


def test_heun_exp_betas_bit_exact() -> None:
    s = diffusers.HeunDiscreteScheduler(beta_schedule="exp")
    _assert_same(D.training_betas_float32(1000, 0.00085, 0.012, "exp"), s.betas.numpy(), "betas")


# ------------------------------------------------------------------------------------------
# Euler, Euler-ancestral, Heun


@st.composite
def euler_cfg(draw: st.DrawFn) -> dict[str, Any]:
    cfg: dict[str, Any] = {"num_train_timesteps": draw(TRAIN), **draw(BETAS)}
    cfg["timestep_spacing"] = draw(SPACING)
    cfg["steps_offset"] = draw(st.sampled_from([0, 1]))
    cfg.update(draw(st.one_of(CONVERSION, CONVERSION, REFUSED_CONVERSION)))
    cfg["rescale_betas_zero_snr"] = draw(st.booleans())
    cfg["final_sigmas_type"] = draw(st.sampled_from(["zero", "sigma_min"]))
    cfg["interpolation_type"] = draw(st.sampled_from(["linear", "linear", "log_linear"]))
    if draw(st.integers(0, 3)) == 0:
        cfg.update(timestep_type="continuous", prediction_type="v_prediction")
    if cfg.get("use_karras_sigmas") and draw(st.booleans()):
        cfg.update(
            sigma_min=draw(st.sampled_from([0.002, 0.03])),
            sigma_max=draw(st.sampled_from([14.6, 80.0])),
        )
    return cfg


@given(n=N_STEPS, cfg=euler_cfg())
@SETTINGS
def test_euler_matches_diffusers(n: int, cfg: dict[str, Any]) -> None:
    both = _parity("diffusers:euler", diffusers.EulerDiscreteScheduler, cfg, n, {})
    if both is None:
        return
    s, g = both
    o = get_builtin("diffusers:euler").make_options(**cfg)
    exact = D.euler_from_tables(n, o, _torch_tables(s))
    sig, ts = s.sigmas.numpy(), s.timesteps.numpy()
    if cfg["interpolation_type"] == "log_linear" and not any(
        cfg.get(k) for k in ("use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas")
    ):
        assert exact.tool_sigmas.dtype == sig.dtype
        assert _ulps(exact.tool_sigmas, sig) <= tol.DIFFUSERS_TORCH_TRANSCENDENTAL_ULPS
    else:
        _assert_same(exact.tool_sigmas, sig, "sigmas")
    if cfg.get("timestep_type") == "continuous":
        assert exact.tool_timesteps is not None and exact.tool_timesteps.dtype == ts.dtype
        assert np.allclose(
            exact.tool_timesteps, ts, rtol=0, atol=tol.DIFFUSERS_CONTINUOUS_TIMESTEP_ATOL
        )
    else:
        _assert_same(exact.tool_timesteps, ts, "timesteps")
    _assert_levels_close(g.tool_sigmas, sig, cfg, tol.DIFFUSERS_TORCH_TRANSCENDENTAL_ULPS)
    assert g.tool_timesteps is not None
    _assert_derived_timesteps_close(g.tool_timesteps, ts, sig, cfg)


@given(
    n=N_STEPS,
    train=TRAIN,
    betas=BETAS,
    spacing=SPACING,
    offset=st.sampled_from([0, 1]),
    zsnr=st.booleans(),
)
@SETTINGS
def test_euler_ancestral_matches_diffusers(
    n: int, train: int, betas: dict[str, Any], spacing: str, offset: int, zsnr: bool
) -> None:
    cfg = dict(
        num_train_timesteps=train,
        timestep_spacing=spacing,
        steps_offset=offset,
        rescale_betas_zero_snr=zsnr,
        **betas,
    )
    both = _parity(
        "diffusers:euler-ancestral", diffusers.EulerAncestralDiscreteScheduler, cfg, n, {}
    )
    if both is None:  # zero-SNR with a steep beta_end: alphas_cumprod[-2] < 2**-24, levels rise
        return
    s, g = both
    o = get_builtin("diffusers:euler-ancestral").make_options(**cfg)
    exact = D.euler_ancestral_from_tables(n, o, _torch_tables(s))
    _assert_same(exact.tool_sigmas, s.sigmas.numpy(), "sigmas")
    _assert_same(exact.tool_timesteps, s.timesteps.numpy(), "timesteps")
    _assert_same(g.tool_timesteps, s.timesteps.numpy(), "timesteps (own table)")
    _assert_levels_close(g.tool_sigmas, s.sigmas.numpy(), cfg)


@st.composite
def heun_cfg(draw: st.DrawFn) -> dict[str, Any]:
    betas = draw(st.one_of(BETAS, st.just({"beta_schedule": "exp"})))
    cfg: dict[str, Any] = {"num_train_timesteps": draw(TRAIN), **betas}
    cfg["timestep_spacing"] = draw(SPACING)
    cfg["steps_offset"] = draw(st.sampled_from([0, 1]))
    cfg.update(draw(st.one_of(CONVERSION, REFUSED_CONVERSION)))
    return cfg


@given(n=N_STEPS, cfg=heun_cfg())
@SETTINGS
def test_heun_matches_diffusers(n: int, cfg: dict[str, Any]) -> None:
    both = _parity("diffusers:heun", diffusers.HeunDiscreteScheduler, cfg, n, {})
    if both is None:
        return
    s, g = both
    o = get_builtin("diffusers:heun").make_options(**cfg)
    exact = D.heun_from_tables(n, o, _torch_tables(s))
    _assert_same(exact.tool_sigmas, s.sigmas.numpy(), "sigmas")
    _assert_same(exact.tool_timesteps, s.timesteps.numpy(), "timesteps")
    _assert_levels_close(g.tool_sigmas, s.sigmas.numpy(), cfg)
    assert g.tool_timesteps is not None
    _assert_derived_timesteps_close(g.tool_timesteps, s.timesteps.numpy(), s.sigmas.numpy(), cfg)
    # the distinct grid: tool_sigmas with the Heun repeats merged
    assert np.array_equal(g.sigmas, np.unique(g.tool_sigmas.astype(np.float64))[::-1])


# ------------------------------------------------------------------------------------------
# DPM-Solver multistep and UniPC


@st.composite
def dpm_cfg(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    cfg: dict[str, Any] = {"num_train_timesteps": draw(TRAIN), **draw(BETAS)}
    cfg["timestep_spacing"] = draw(SPACING)
    cfg["steps_offset"] = draw(st.sampled_from([0, 1]))
    cfg.update(draw(st.one_of(CONVERSION, REFUSED_CONVERSION)))
    cfg["use_lu_lambdas"] = draw(st.integers(0, 4)) == 0
    cfg["algorithm_type"] = draw(
        st.sampled_from(["dpmsolver++", "dpmsolver++", "sde-dpmsolver++", "dpmsolver"])
    )
    cfg["final_sigmas_type"] = draw(st.sampled_from(["zero", "sigma_min"]))
    cfg["rescale_betas_zero_snr"] = draw(st.booleans())
    cfg["lambda_min_clipped"] = draw(st.sampled_from([-float("inf"), -5.1]))
    extra: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:
        cfg["use_flow_sigmas"] = True
        cfg["flow_shift"] = draw(st.sampled_from([1.0, 3.0, 5.0]))
        if draw(st.booleans()):
            cfg["use_dynamic_shifting"] = True
            extra["mu"] = draw(st.sampled_from([0.5, 1.15]))
    return cfg, extra


@pytest.mark.filterwarnings("ignore::FutureWarning")
@given(n=N_STEPS, drawn=dpm_cfg())
@SETTINGS
def test_dpm_matches_diffusers(n: int, drawn: tuple[dict[str, Any], dict[str, Any]]) -> None:
    cfg, extra = drawn
    both = _parity(
        "diffusers:dpmpp-2m", diffusers.DPMSolverMultistepScheduler, cfg, n, extra, **extra
    )
    if both is None:
        return
    s, g = both
    o = get_builtin("diffusers:dpmpp-2m").make_options(**cfg, **extra)
    exact = D.dpm_from_tables(n, o, _torch_tables(s))
    _assert_same(exact.tool_sigmas, s.sigmas.numpy(), "sigmas")
    _assert_same(exact.tool_timesteps, s.timesteps.numpy(), "timesteps")
    _assert_levels_close(g.tool_sigmas, s.sigmas.numpy(), cfg)
    assert g.tool_timesteps is not None
    assert np.abs(g.tool_timesteps - s.timesteps.numpy()).max() <= 1


@st.composite
def unipc_cfg(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    cfg: dict[str, Any] = {"num_train_timesteps": draw(TRAIN), **draw(BETAS)}
    cfg["timestep_spacing"] = draw(SPACING)
    cfg["steps_offset"] = draw(st.sampled_from([0, 1]))
    cfg.update(draw(st.one_of(CONVERSION, REFUSED_CONVERSION)))
    cfg["final_sigmas_type"] = draw(st.sampled_from(["zero", "sigma_min"]))
    cfg["rescale_betas_zero_snr"] = draw(st.booleans())
    extra: dict[str, Any] = {}
    if cfg.get("use_karras_sigmas") and draw(st.booleans()):
        cfg.update(sigma_min=0.03, sigma_max=14.6)
    if draw(st.integers(0, 2)) == 0:
        cfg["use_flow_sigmas"] = True
        cfg["flow_shift"] = draw(st.sampled_from([1.0, 3.0]))
        if draw(st.booleans()):
            cfg["use_dynamic_shifting"] = True
            cfg["time_shift_type"] = draw(st.sampled_from(["exponential", "linear"]))
            extra["mu"] = draw(st.sampled_from([0.5, 1.15]))
        if draw(st.booleans()):
            cfg["shift_terminal"] = 0.1
    elif draw(st.integers(0, 5)) == 0:
        cfg["shift_terminal"] = 0.1  # refused without flow sigmas
    return cfg, extra


@given(n=N_STEPS, drawn=unipc_cfg())
@SETTINGS
def test_unipc_matches_diffusers(n: int, drawn: tuple[dict[str, Any], dict[str, Any]]) -> None:
    cfg, extra = drawn
    both = _parity("diffusers:unipc", diffusers.UniPCMultistepScheduler, cfg, n, extra, **extra)
    if both is None:
        return
    s, g = both
    o = get_builtin("diffusers:unipc").make_options(**cfg, **extra)
    exact = D.unipc_from_tables(n, o, _torch_tables(s))
    _assert_same(exact.tool_sigmas, s.sigmas.numpy(), "sigmas")
    _assert_same(exact.tool_timesteps, s.timesteps.numpy(), "timesteps")
    _assert_levels_close(g.tool_sigmas, s.sigmas.numpy(), cfg)
    assert g.tool_timesteps is not None
    assert np.abs(g.tool_timesteps - s.timesteps.numpy()).max() <= 1


# ------------------------------------------------------------------------------------------
# DDIM


@given(
    n=N_STEPS,
    train=TRAIN,
    betas=BETAS,
    spacing=SPACING,
    offset=st.sampled_from([0, 1, 5]),
    one=st.booleans(),
    zsnr=st.booleans(),
)
@SETTINGS
def test_ddim_matches_diffusers(
    n: int, train: int, betas: dict[str, Any], spacing: str, offset: int, one: bool, zsnr: bool
) -> None:
    cfg = dict(
        num_train_timesteps=train,
        timestep_spacing=spacing,
        steps_offset=offset,
        set_alpha_to_one=one,
        rescale_betas_zero_snr=zsnr,
        **betas,
    )
    both = _parity("diffusers:ddim", diffusers.DDIMScheduler, cfg, n, {})
    if both is None:
        return
    s, g = both
    ac = s.alphas_cumprod.numpy()
    ts = s.timesteps.numpy()
    final = s.final_alpha_cumprod.numpy().reshape(1).astype(np.float32)
    with np.errstate(divide="ignore"):
        want = np.sqrt(
            (np.float32(1) - np.concatenate([ac[ts], final])) / np.concatenate([ac[ts], final])
        )
    _assert_same(g.tool_timesteps, ts, "timesteps")
    if zsnr:
        _assert_levels_close(g.tool_sigmas, want, cfg)
    else:
        _assert_same(g.tool_sigmas, want, "sigmas")
    o = get_builtin("diffusers:ddim").make_options(**cfg)
    _assert_same(D.ddim_from_tables(n, o, _torch_tables(s)).tool_sigmas, want, "sigmas (tables)")


def test_ddim_refuses_more_steps_than_training() -> None:
    s = diffusers.DDIMScheduler(num_train_timesteps=100)
    with pytest.raises(ValueError):
        s.set_timesteps(101)
    with pytest.raises(ValueError, match="num_train_timesteps"):
        get_builtin("diffusers:ddim").build(101, num_train_timesteps=100)


# ------------------------------------------------------------------------------------------
# FlowMatch Euler and Heun (no training table: bit-exact throughout)


@st.composite
def flow_cfg(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    cfg: dict[str, Any] = {
        "num_train_timesteps": draw(TRAIN),
        "shift": draw(st.sampled_from([1.0, 3.0, 1.7, 5.0])),
    }
    cfg.update(draw(st.one_of(CONVERSION, CONVERSION, REFUSED_CONVERSION)))
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        cfg["use_dynamic_shifting"] = True
        cfg["time_shift_type"] = draw(st.sampled_from(["exponential", "linear"]))
        if draw(st.integers(0, 5)):
            extra["mu"] = draw(st.floats(0.3, 1.5))
    if draw(st.integers(0, 3)) == 0:
        cfg["shift_terminal"] = draw(st.sampled_from([0.02, 0.1]))
    return cfg, extra


@given(n=N_STEPS, drawn=flow_cfg(), linspace=st.booleans())
@SETTINGS
def test_flow_euler_matches_diffusers(
    n: int, drawn: tuple[dict[str, Any], dict[str, Any]], linspace: bool
) -> None:
    cfg, extra = drawn
    kw = dict(extra)
    if linspace:
        kw["sigmas"] = np.linspace(1.0, 1 / n, n)
    opts = {**extra, "sigmas": "linspace" if linspace else "scheduler"}
    both = _parity(
        "diffusers:flow-euler", diffusers.FlowMatchEulerDiscreteScheduler, cfg, n, opts, **kw
    )
    if both is None:
        return
    s, g = both
    _assert_same(g.tool_sigmas, s.sigmas.numpy(), "sigmas")
    _assert_same(g.tool_timesteps, s.timesteps.numpy(), "timesteps")
    assert g.units == "flow-t"
    assert np.isinf(g.sigmas[0]) or g.sigmas[0] == pytest.approx(
        float(g.tool_sigmas[0]) / (1 - float(g.tool_sigmas[0]))
    )


def test_flow_euler_refuses_invert_sigmas() -> None:
    s = diffusers.FlowMatchEulerDiscreteScheduler(invert_sigmas=True)
    s.set_timesteps(5)
    assert s.sigmas.numpy()[-1] == 1.0  # increasing times: not a grid here
    with pytest.raises(ValueError, match="invert_sigmas"):
        get_builtin("diffusers:flow-euler").build(5, invert_sigmas=True)


@given(n=N_STEPS, train=TRAIN, shift=st.sampled_from([1.0, 3.0, 1.7, 5.0]))
@SETTINGS
def test_flow_heun_matches_diffusers(n: int, train: int, shift: float) -> None:
    s = diffusers.FlowMatchHeunDiscreteScheduler(num_train_timesteps=train, shift=shift)
    s.set_timesteps(n)
    g = get_builtin("diffusers:flow-heun").build(n, num_train_timesteps=train, shift=shift)
    _assert_same(g.tool_sigmas, s.sigmas.numpy(), "sigmas")
    _assert_same(g.tool_timesteps, s.timesteps.numpy(), "timesteps")
    assert g.sigmas.size == n + 1


# ------------------------------------------------------------------------------------------
# AYS


def test_ays_tables_are_diffusers() -> None:
    from diffusers.schedulers.scheduling_utils import AysSchedules

    used = set()
    for model, (sig_key, ts_key) in D.AYS_DIFFUSERS.items():
        g = get_builtin(f"diffusers:ays-{model}").build(10)
        assert np.array_equal(g.tool_sigmas, np.array(AysSchedules[sig_key]))
        used.add(sig_key)
        if ts_key is not None:
            assert g.tool_timesteps is not None
            assert np.array_equal(g.tool_timesteps, np.array(AysSchedules[ts_key]))
            used.add(ts_key)
        assert g.executed_steps == 10
        with pytest.raises(ValueError, match="10-step"):
            get_builtin(f"diffusers:ays-{model}").build(12)
    assert used == set(AysSchedules)  # every table diffusers ships is covered


# ------------------------------------------------------------------------------------------
# documented pitfalls, with numbers


def test_sd15_beta_sigmas_start() -> None:
    cfg = {
        "beta_schedule": "scaled_linear",
        "beta_start": 0.00085,
        "beta_end": 0.012,
        "use_beta_sigmas": True,
    }
    g = get_builtin("diffusers:euler").build(10, **cfg)
    assert np.round(g.tool_sigmas[:3].astype(np.float64), 2).tolist() == [14.61, 13.93, 12.49]
    s, _ = _real(diffusers.EulerDiscreteScheduler, cfg, 10)
    _assert_levels_close(g.tool_sigmas, s.sigmas.numpy(), cfg)


def test_trailing_seven_steps() -> None:
    g = get_builtin("diffusers:euler").build(7, timestep_spacing="trailing")
    assert g.tool_timesteps is not None
    assert g.tool_timesteps.tolist() == [999, 856, 713, 570, 428, 285, 142]
    assert g.tool_timesteps.dtype == np.float32


def test_zero_terminal_snr_sigma_max_4096() -> None:
    g = get_builtin("diffusers:euler").build(
        10, rescale_betas_zero_snr=True, timestep_spacing="trailing"
    )
    ac = D.alphas_cumprod_float32(1000, 0.0001, 0.02, "linear", rescale_betas_zero_snr=True)
    assert ac[-1] == 2.0**-24
    assert float(g.tool_sigmas[0]) == pytest.approx(4096.0, rel=1e-6)
    s, _ = _real(
        diffusers.EulerDiscreteScheduler,
        {"rescale_betas_zero_snr": True, "timestep_spacing": "trailing"},
        10,
    )
    assert s.alphas_cumprod[-1].item() == 2.0**-24
    assert s.sigmas[0].item() == pytest.approx(4096.0, rel=1e-6)


def test_leading_without_offset_notes() -> None:
    g = get_builtin("diffusers:euler").build(10, timestep_spacing="leading")
    assert g.tool_timesteps is not None and g.tool_timesteps[0] == 900
    assert any("leading" in n for n in g.notes)


def test_dpm_zero_final_refused_for_dpmsolver() -> None:
    with pytest.warns(FutureWarning), pytest.raises(ValueError):
        diffusers.DPMSolverMultistepScheduler(algorithm_type="dpmsolver")
    with pytest.raises(ValueError, match="sigma_min"):
        get_builtin("diffusers:dpmpp-2m").build(10, algorithm_type="dpmsolver")
    g = get_builtin("diffusers:dpmpp-2m").build(
        10, algorithm_type="dpmsolver", final_sigmas_type="sigma_min"
    )
    assert g.tool_sigmas[-1] > 0


def test_more_than_one_conversion_refused() -> None:
    with pytest.raises(ValueError):
        diffusers.EulerDiscreteScheduler(use_karras_sigmas=True, use_beta_sigmas=True)
    with pytest.raises(ValueError, match="only one"):
        get_builtin("diffusers:euler").build(10, use_karras_sigmas=True, use_beta_sigmas=True)


# ------------------------------------------------------------------------------------------
# option names cannot drift from diffusers'

_CLASSES = {
    "diffusers:euler": "EulerDiscreteScheduler",
    "diffusers:euler-ancestral": "EulerAncestralDiscreteScheduler",
    "diffusers:heun": "HeunDiscreteScheduler",
    "diffusers:dpmpp-2m": "DPMSolverMultistepScheduler",
    "diffusers:unipc": "UniPCMultistepScheduler",
    "diffusers:ddim": "DDIMScheduler",
    "diffusers:flow-euler": "FlowMatchEulerDiscreteScheduler",
    "diffusers:flow-heun": "FlowMatchHeunDiscreteScheduler",
}


@pytest.mark.parametrize("name", sorted(_CLASSES))
def test_option_names_are_diffusers_parameters(name: str) -> None:
    cls = getattr(diffusers, _CLASSES[name])
    init = inspect.signature(cls.__init__).parameters
    step = inspect.signature(cls.set_timesteps).parameters
    b = get_builtin(name)
    for field in b.options.__dataclass_fields__:
        assert field in init or field in step, (name, field)
        if field in init and init[field].default is not inspect.Parameter.empty:
            assert b.options.__dataclass_fields__[field].default == init[field].default, (
                name,
                field,
            )
    # a scheduler_config.json is read through config_keys: exactly the constructor's arguments
    # (trained_betas, refused when set, aside), so no grid-changing argument is silently ignored
    assert b.config_keys == set(init) - {"self", "trained_betas"}, name
    assert b.provenance.revision == f"diffusers {diffusers.__version__}"
    assert b.provenance.symbol == f"{_CLASSES[name]}.set_timesteps"


def test_trailing_can_make_one_timestep_more() -> None:
    # arange(1000, 0, -1000/61) has 62 entries: the float step does not divide T exactly
    s, _ = _real(diffusers.EulerDiscreteScheduler, {"timestep_spacing": "trailing"}, 61)
    g = get_builtin("diffusers:euler").build(61, timestep_spacing="trailing")
    assert s.timesteps.numel() == 62
    _assert_same(g.tool_timesteps, s.timesteps.numpy(), "timesteps")
    assert g.executed_steps == 62
    assert any("62 timesteps for 61 steps" in n for n in g.notes)


def test_ddim_trailing_timestep_minus_one_refused() -> None:
    cfg = {"num_train_timesteps": 1200, "timestep_spacing": "trailing"}
    s, _ = _real(diffusers.DDIMScheduler, cfg, 55)
    assert int(s.timesteps.min()) == -1  # DDIM would read alphas_cumprod[-1], the noisiest level
    with pytest.raises(ValueError, match="outside the training table"):
        get_builtin("diffusers:ddim").build(55, **cfg)
