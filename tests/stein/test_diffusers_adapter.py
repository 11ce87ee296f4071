"""diffusers ``UNet2DModel`` checkpoints as EDM denoisers (issue 4, item 3): a tiny random UNet saved
to disk, loaded through ``--model diffusers:DIR``, checked against the DDPM x0 formula by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from symsched.models import DiffusersUNetModel, ModelError, load_model
from verify import tolerances as tol

diffusers = pytest.importorskip("diffusers")


def _save(root: Path, prediction: str, *, flat: bool = False) -> Path:
    torch.manual_seed(0)
    unet = diffusers.UNet2DModel(sample_size=8, in_channels=1, out_channels=1, layers_per_block=1,
                                 block_out_channels=(8, 16), down_block_types=("DownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "UpBlock2D"), norm_num_groups=4)
    sched = diffusers.DDPMScheduler(num_train_timesteps=1000, prediction_type=prediction)
    unet.save_pretrained(root if flat else root / "unet")
    sched.save_pretrained(root if flat else root / "scheduler")
    return root


@pytest.mark.parametrize(("prediction", "flat"), [("epsilon", False), ("v_prediction", True)])
def test_denoiser_matches_the_ddpm_x0_formula(tmp_path: Path, prediction: str, flat: bool) -> None:
    root = _save(tmp_path, prediction, flat=flat)
    model = load_model(f"diffusers:{root}")
    assert isinstance(model, DiffusersUNetModel) and model.dim == 64
    # independent reference: the same weights, the scheduler's own table, integer timesteps and
    # the DDPM forms x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab)  and  x0 = sqrt(ab) x_t - sqrt(1 - ab) v
    unet = diffusers.UNet2DModel.from_pretrained(root if flat else root / "unet").double().eval()
    ab_table = diffusers.DDPMScheduler(num_train_timesteps=1000, prediction_type=prediction).alphas_cumprod.double()
    steps = torch.tensor([0, 7, 250, 999])
    ab = ab_table[steps]
    sigma = torch.sqrt((1 - ab) / ab)  # EDM noise level of each timestep
    x = torch.randn(4, 64, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * torch.sqrt(1 + sigma**2)[:, None]
    x_t = torch.sqrt(ab)[:, None] * x  # the VP state of the VE-scale x
    with torch.no_grad():
        out = unet(x_t.reshape(4, 1, 8, 8), steps.double()).sample.reshape(4, 64)
        got = model(x, sigma)
    a, s = torch.sqrt(ab)[:, None], torch.sqrt(1 - ab)[:, None]
    ref = (x_t - s * out) / a if prediction == "epsilon" else a * x_t - s * out
    err = float(((got - ref).abs() / (ref.abs() + 1.0)).max())
    assert err <= tol.DIFFUSERS_ADAPTER_RTOL
    assert model.sigma_range == pytest.approx((float(sigma[0]), float(torch.sqrt((1 - ab_table[-1]) / ab_table[-1]))))
    # a network that ignores the prediction type would be far off: eps vs v differ by O(1) at sigma ~ 1
    other = (x_t - s * out) / a if prediction != "epsilon" else a * x_t - s * out
    assert float((other - ref)[2].abs().max()) > 1e3 * tol.DIFFUSERS_ADAPTER_RTOL


def test_sigma_between_timesteps_interpolates_in_log_sigma(tmp_path: Path) -> None:
    model = load_model(f"diffusers:{_save(tmp_path, 'epsilon')}")
    ls = model.log_sigmas
    sig = torch.tensor([math.exp(0.25 * ls[100] + 0.75 * ls[101])], dtype=torch.float64)
    assert float(model.sigma_to_t(sig)[0]) == pytest.approx(100.75, abs=1e-9)
    assert torch.isfinite(model(torch.zeros(1, 64, dtype=torch.float64), sig)).all()


def test_bad_directories(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_model(f"diffusers:{tmp_path / 'nowhere'}")
    with pytest.raises(ModelError, match="needs a directory"):
        load_model("diffusers:")
    root = _save(tmp_path / "ok", "epsilon")
    no_sched = tmp_path / "no_sched"
    (no_sched / "unet").mkdir(parents=True)
    for f in (root / "unet").iterdir():
        (no_sched / "unet" / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ModelError, match="no scheduler_config.json"):
        load_model(f"diffusers:{no_sched}")
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL"}))
    (wrong / "scheduler_config.json").write_text((root / "scheduler" / "scheduler_config.json").read_text())
    with pytest.raises(ModelError, match="wrong kind of checkpoint"):
        load_model(f"diffusers:{wrong}")
    sample = tmp_path / "sample_pred"
    _save(sample, "sample")
    with pytest.raises(ModelError, match="prediction_type 'sample' is not supported"):
        load_model(f"diffusers:{sample}")
    weights = next((root / "unet").glob("diffusion_pytorch_model.*"))
    weights.write_bytes(b"corrupt")
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_model(f"diffusers:{root}")
    with pytest.raises(ModelError, match=r"shape \(batch, 64\)"):
        load_model(f"diffusers:{_save(tmp_path / 'ok2', 'epsilon')}")(torch.zeros(2, 63, dtype=torch.float64), 1.0)
