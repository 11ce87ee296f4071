"""ComfyUI built-ins against check values computed by running ComfyUI's own functions.

The fixture (data/comfyui_check_values.json) names the repository, the commit and the route; see
its ``header``. ComfyUI is not installable from the package registries.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from symsched.builtin import comfyui as cu
from symsched.builtin import get_builtin
from symsched.builtin.kdiffusion import torch_linspace_f32
from symsched_verify import tolerances as tol

DATA = json.loads((Path(__file__).parent / "data" / "comfyui_check_values.json").read_text())

# schedulers whose levels pass through a float32 exp/pow/tan in torch, per table kind (the edm
# table is itself torch's exp of a linspace)
_TRANSCENDENTAL = {
    "discrete": {"karras", "exponential", "normal", "sgm_uniform", "kl_optimal"},
    "flow": {"karras", "exponential", "kl_optimal"},
    "flux": {"karras", "exponential", "kl_optimal"},
    "edm": set(cu.KSAMPLER_SCHEDULERS),
}
_MODELS = {
    "sd15": {"model": "sd15"},
    "sd15-zsnr": {"model": "sd15", "zsnr": True},
    "sd3": {"model": "sd3"},
    "sd3-shift1": {"model": "sd3", "shift": 1.0},
    "flux": {"model": "flux"},
    "flux-0.5": {"model": "flux", "shift": 0.5},
    "edm": {"model": "edm"},
}


def _ulps(a: np.ndarray, b: np.ndarray) -> int:
    ai, bi = a.view(np.int32).astype(np.int64), b.view(np.int32).astype(np.int64)
    return int(np.abs(ai - bi).max()) if a.size else 0


def _cases() -> list[dict[str, object]]:
    return [c for c in DATA["cases"] if not (c["scheduler"] == "kl_optimal" and c["steps"] == 1)]


def test_header_names_the_source() -> None:
    h = DATA["header"]
    assert h["repository"] == "Comfy-Org/ComfyUI" and h["commit"] == cu.COMFYUI_COMMIT
    assert "gen.py" in h["route"]


@pytest.mark.parametrize(
    "case", _cases(), ids=lambda c: f"{c['model']}-{c['scheduler']}-{c['steps']}-{c['denoise']}"
)
def test_against_comfyui(case: dict[str, object]) -> None:
    m = dict(_MODELS[str(case["model"])])
    ms = cu.model_table(str(m["model"]), bool(m.get("zsnr", False)), m.get("shift"))  # type: ignore[arg-type]
    ref = np.array(case["sigmas"], dtype=np.float32)
    ours = cu.ksampler_sigmas(
        str(case["scheduler"]), ms, int(case["steps"]), case["denoise"] or 1.0
    )  # type: ignore[arg-type]
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    if case["scheduler"] in _TRANSCENDENTAL[ms.kind]:
        assert _ulps(ours, ref) <= tol.COMFY_TORCH_TRANSCENDENTAL_ULPS
    else:
        assert np.array_equal(ours, ref)


def test_every_model_has_check_values() -> None:
    assert {c["model"] for c in DATA["cases"]} == set(_MODELS)
    assert {c["scheduler"] for c in DATA["cases"] if c["model"] == "edm"} == set(
        cu.KSAMPLER_SCHEDULERS
    )


def test_edm_table_is_torchs() -> None:
    """ModelSamplingContinuousEDM's table exp(linspace(log 0.002, log 120, 1000)) with torch."""
    torch = pytest.importorskip("torch")
    lo, hi = math.log(cu.EDM_SIGMA_MIN), math.log(cu.EDM_SIGMA_MAX)
    ramp = torch.linspace(lo, hi, 1000)
    ms = cu.model_table("edm")
    assert np.array_equal(torch_linspace_f32(lo, hi, 1000), ramp.numpy())
    assert _ulps(ms.sigmas, ramp.exp().numpy()) <= tol.COMFY_TORCH_TRANSCENDENTAL_ULPS
    assert ms.kind == "edm" and not ms.is_flow and ms.sigmas.dtype == np.float32
    assert ms.timestep(ms.sigma_max) == float(np.float32(0.25) * np.float32(math.log(ms.sigma_max)))
    with pytest.raises(ValueError, match="edm"):
        cu.model_table("edm", zsnr=True)
    with pytest.raises(ValueError, match="edm"):
        cu.model_table("edm", shift=2.0)


def test_kl_optimal_nan_at_one_step_is_refused() -> None:
    ref = [c for c in DATA["cases"] if c["scheduler"] == "kl_optimal" and c["steps"] == 1]
    assert ref and all(c["sigmas"][0] is None for c in ref)  # ComfyUI gives NaN
    with pytest.raises(ValueError, match="0/0"):
        get_builtin("comfyui:kl_optimal").build(1)


@pytest.mark.parametrize(("steps", "executed"), [(200, 199), (300, 293), (500, 475), (1000, 847)])
def test_beta_returns_fewer_steps(steps: int, executed: int) -> None:
    g = get_builtin("comfyui:beta").build(steps)
    assert g.executed_steps == executed
    assert g.notes and f"asked {steps} steps, returns {executed}" in g.notes[0]


def test_simple_indices_differ_from_trailing() -> None:
    """Survey 3.6(a): ComfyUI simple picks table index 999 - floor(x*1000/N)."""
    ms = cu.model_table("sd15")
    tool = get_builtin("comfyui:simple").build(7).tool_sigmas
    idx = [int(np.nonzero(ms.sigmas == v)[0][0]) for v in tool[:-1]]
    assert idx == [999, 857, 714, 571, 428, 285, 142]


def test_manual_sigmas_regex_recorded() -> None:
    r = DATA["manual_sigmas_regex"]
    assert r["findall"] == ["1.0", "0.5", "3", "-05", "0.0"]


@pytest.mark.parametrize("name", [f"comfyui:{s}" for s in cu.KSAMPLER_SCHEDULERS])
@pytest.mark.parametrize("model", ["sd15", "sdxl", "sd3", "flux", "edm"])
def test_registered(name: str, model: str) -> None:
    g = get_builtin(name).build(10, model=model)
    assert g.tool_sigmas.dtype == np.float32 and not g.tool_sigmas.flags.writeable
    flow = model in ("sd3", "flux")
    assert g.units == ("flow-t" if flow else "sigma")
    assert g.params["model"] == model and "sigma_max" in g.params
    assert (np.diff(g.sigmas) < 0).all() and g.sigmas[-1] == 0


def test_denoise_keeps_the_last_steps() -> None:
    full = get_builtin("comfyui:simple").build(16).tool_sigmas
    part = get_builtin("comfyui:simple").build(10, denoise=0.6).tool_sigmas
    assert np.array_equal(part, full[-11:])
    with pytest.raises(ValueError, match="denoise"):
        get_builtin("comfyui:simple").build(10, denoise=0.0)


def test_option_refusals() -> None:
    with pytest.raises(ValueError, match="zsnr"):
        get_builtin("comfyui:simple").build(5, model="flux", zsnr=True)
    with pytest.raises(ValueError, match="shift"):
        get_builtin("comfyui:simple").build(5, model="sd15", shift=2.0)


# -- schedule nodes (comfy_extras) -----------------------------------------------------------------

NODES: list[dict[str, object]] = DATA["nodes"]
# nodes whose levels pass through a float32 transcendental function in torch (the table nodes
# compute in float64 numpy, then round to float32 once: bit-exact)
_NODE_TRANSCENDENTAL = {"laplace", "polyexponential", "vp"}


def test_nodes_header() -> None:
    route = DATA["header"]["nodes_route"]
    assert cu.COMFYUI_COMMIT in route and "gen_nodes.py" in route


@pytest.mark.parametrize(
    "case",
    NODES,
    ids=lambda c: f"{c['node']}-{c['steps']}-" + "-".join(map(str, c["options"].values())),
)
def test_node_against_comfyui(case: dict[str, object]) -> None:
    g = get_builtin(f"comfyui:{case['node']}").build(int(case["steps"]), **case["options"])  # type: ignore[arg-type]
    ref = np.array(case["sigmas"], dtype=np.float32)
    ours = g.tool_sigmas
    assert ours.dtype == np.float32 and ours.shape == ref.shape
    if case["node"] in _NODE_TRANSCENDENTAL:
        rho = float(case["options"].get("rho", 1.0))  # type: ignore[attr-defined]
        ulps = (
            tol.COMFY_NODE_TRANSCENDENTAL_ULPS if rho == int(rho) else tol.COMFY_NONINTEGER_POW_ULPS
        )
        assert _ulps(ours, ref) <= ulps
    else:
        assert np.array_equal(ours, ref)
    assert (np.diff(g.sigmas) < 0).all()


def test_ays_tables_are_the_project_tables() -> None:
    """ComfyUI's NOISE_LEVELS are the same numbers as symsched.schedules.ays (one copy)."""
    from symsched.schedules.ays import AYS_SIGMAS

    g = get_builtin("comfyui:ays").build(10, model_type="SDXL")
    assert np.array_equal(g.tool_sigmas[:-1], np.array(AYS_SIGMAS["sdxl"][:-1], np.float32))
    assert g.tool_sigmas[-1] == 0 and g.executed_steps == 10


def test_table_node_denoise_executes_round_steps() -> None:
    g = get_builtin("comfyui:ays").build(10, denoise=0.25)  # round(2.5) = 2 (half to even)
    assert g.executed_steps == 2 and any("round(steps*denoise)" in n for n in g.notes)
    full = get_builtin("comfyui:ays").build(10).tool_sigmas
    assert np.array_equal(g.tool_sigmas[:-1], full[-3:-1])
    with pytest.raises(ValueError, match="takes no step"):
        get_builtin("comfyui:ays").build(1, denoise=0.4)


def test_gits_tables() -> None:
    assert len(cu.GITS_COEFFS) == 15 and cu.GITS_COEFFS[0] == 0.8 and cu.GITS_COEFFS[-1] == 1.5
    for c in cu.GITS_COEFFS:
        for n in range(2, 21):
            t = cu.gits_table(c, n)
            assert len(t) == n + 1 and t[0] == 14.61464119 and t[-1] == 0.02916753
    g = get_builtin("comfyui:gits").build(21)
    assert any("resampled" in n for n in g.notes)
    with pytest.raises(ValueError, match="coeff"):
        get_builtin("comfyui:gits").build(10, coeff=1.23)
    with pytest.raises(ValueError, match=r"2 \.\. 1000"):
        get_builtin("comfyui:gits").build(1)


def test_optimal_steps_is_flow() -> None:
    g = get_builtin("comfyui:optimal-steps").build(20, model_type="Wan")
    assert g.units == "flow-t" and g.sigmas[0] == np.inf and g.sigmas[-1] == 0
    f = get_builtin("comfyui:optimal-steps").build(10)
    assert np.isclose(f.sigmas[0], 0.9968 / (1 - 0.9968), rtol=1e-5)
    with pytest.raises(ValueError, match=r"3 \.\. 1000"):
        get_builtin("comfyui:optimal-steps").build(2)


def test_laplace_has_no_final_zero() -> None:
    g = get_builtin("comfyui:laplace").build(10)
    assert g.tool_sigmas.size == 10 and g.tool_sigmas[-1] > 0 and g.executed_steps == 9
    assert g.tool_sigmas[0] == np.float32(14.614642) and g.tool_sigmas[-1] == np.float32(0.0291675)
    with pytest.raises(ValueError, match="no step"):
        get_builtin("comfyui:laplace").build(1)


def test_vp_uses_expm1_unlike_k_diffusion() -> None:
    c = get_builtin("comfyui:vp").build(50).tool_sigmas
    k = get_builtin("k-diffusion:vp").build(50).tool_sigmas
    assert not np.array_equal(c, k)
    assert np.allclose(c, k, rtol=1e-3)


def test_beta_sampling_matches_ksampler_beta_at_defaults() -> None:
    a = get_builtin("comfyui:beta-sampling").build(20).tool_sigmas
    b = get_builtin("comfyui:beta").build(20).tool_sigmas
    assert np.array_equal(a, b)
    g = get_builtin("comfyui:beta-sampling").build(20, model="flux", alpha=2.0, beta=2.0)
    assert g.units == "flow-t" and g.params["alpha"] == 2.0
