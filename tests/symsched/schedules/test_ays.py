"""Align Your Steps tables and their interpolation, against the constants diffusers ships."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symsched import build
from symsched.export import export
from symsched.schedules.ays import AYS_SIGMAS, ays_sigmas, loglinear_interp
from symsched.schedules.discrete import training_table
from symsched_verify import tolerances as tol

diffusers = pytest.importorskip("diffusers")

KEYS = {
    "sd15": "StableDiffusionSigmas",
    "sdxl": "StableDiffusionXLSigmas",
    "svd": "StableDiffusionVideoSigmas",
}
TS_KEYS = {"sd15": "StableDiffusionTimesteps", "sdxl": "StableDiffusionXLTimesteps"}


def test_svd_table_matches_diffusers() -> None:
    from diffusers.schedulers import AysSchedules

    theirs = np.array(AysSchedules[KEYS["svd"]], dtype=float)
    ours = ays_sigmas("svd", 10, zero_terminal=True)
    np.testing.assert_allclose(ours, theirs, atol=tol.AYS_TABLE_ATOL, rtol=0)


@pytest.mark.parametrize("model", sorted(TS_KEYS))
def test_comfyui_constants_are_the_sd_table_at_the_ays_timesteps(model: str) -> None:
    """Measured: ComfyUI's 10-digit SD1/SDXL constants are sigma_train[t] of the scaled_linear
    table at diffusers' AYS integer timesteps (plus t = 0), not the paper's sigmas to more
    digits."""
    from diffusers.schedulers import AysSchedules

    ts = np.array([*AysSchedules[TS_KEYS[model]], 0])
    table = training_table("scaled_linear").sigmas
    np.testing.assert_allclose(np.array(AYS_SIGMAS[model]), table[ts], rtol=tol.TRAIN_TABLE_RTOL)


@pytest.mark.parametrize("model", sorted(TS_KEYS))
def test_paper_sigmas_lie_within_one_timestep_of_the_constants(model: str) -> None:
    """diffusers' 3-decimal sigma lists (paper Table 3) differ from the constants by up to 1.4 %
    (SDXL): each lies between the table levels one timestep either side (3-decimal rounding
    aside)."""
    from diffusers.schedulers import AysSchedules

    paper = np.array(AysSchedules[KEYS[model]][:-1], dtype=float)
    ts = np.array(AysSchedules[TS_KEYS[model]])
    table = training_table("scaled_linear").sigmas
    lo = table[np.clip(ts - 1, 0, 999)] - tol.AYS_TABLE_ATOL
    hi = table[np.clip(ts + 1, 0, 999)] + tol.AYS_TABLE_ATOL
    assert np.all((lo <= paper) & (paper <= hi)), np.c_[lo, paper, hi]


@pytest.mark.parametrize(
    "model, key", [("sd15", "StableDiffusionTimesteps"), ("sdxl", "StableDiffusionXLTimesteps")]
)
def test_timesteps_export_reproduces_diffusers_ays_timesteps(model: str, key: str) -> None:
    from diffusers.schedulers import AysSchedules

    sch = build("ays", 10, model=model, sigma_min=0.0)
    ts = json.loads(export(sch, "diffusers-timesteps").text)
    theirs = AysSchedules[key]
    assert len(ts) == len(theirs) == 10
    # the published timesteps were rounded by NVIDIA from the same levels: within one timestep
    assert max(abs(a - b) for a, b in zip(ts, theirs, strict=True)) <= 1, (ts, theirs)


def test_interpolation_is_comfyui_loglinear() -> None:
    lv = np.array(AYS_SIGMAS["sd15"])
    g = ays_sigmas("sd15", 20)
    assert g.size == 21 and g[0] == lv[0] and g[-1] == lv[-1]
    np.testing.assert_allclose(
        g[::2], lv, rtol=tol.AYS_SIGMA_RTOL
    )  # 20 steps contain the 10-step nodes
    # midpoints are geometric means of their neighbours (linear in log sigma)
    np.testing.assert_allclose(g[1::2], np.sqrt(lv[:-1] * lv[1:]), rtol=tol.AYS_SIGMA_RTOL)
    assert np.all(np.diff(loglinear_interp(lv, 7)) < 0)


def test_ays_method_rejects_moved_endpoints() -> None:
    with pytest.raises(ValueError, match="sigma_max"):
        build("ays", 10, model="sd15", sigma_max=80.0)
    with pytest.raises(ValueError, match="model must be one of sd15, sdxl, svd"):
        build("ays", 10, model="sd3")
