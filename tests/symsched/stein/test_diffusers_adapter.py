"""diffusers ``UNet2DModel`` checkpoints as EDM denoisers: a tiny random UNet saved to disk, loaded
through ``--model diffusers:DIR``, checked against the DDPM x0 formula by hand."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from symsched.models import DiffusersUNetModel, ModelError, load_model
from symsched_verify import tolerances as tol

diffusers = pytest.importorskip("diffusers")


@pytest.mark.parametrize(("prediction", "flat"), [("epsilon", False), ("v_prediction", True)])
def test_denoiser_matches_the_ddpm_x0_formula(
    tmp_path: Path, prediction: str, flat: bool, tiny_unet: Callable[..., Path]
) -> None:
    root = tiny_unet(tmp_path, prediction, flat=flat)
    model = load_model(f"diffusers:{root}")
    assert isinstance(model, DiffusersUNetModel) and model.dim == 64
    # independent reference: the same weights, the scheduler's own table, integer timesteps and
    # the DDPM forms x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab) and x0 = sqrt(ab) x_t - sqrt(1 - ab) v
    unet = diffusers.UNet2DModel.from_pretrained(root if flat else root / "unet").double().eval()
    ab_table = diffusers.DDPMScheduler(
        num_train_timesteps=1000, prediction_type=prediction
    ).alphas_cumprod.double()
    steps = torch.tensor([0, 7, 250, 999])
    ab = ab_table[steps]
    sigma = torch.sqrt((1 - ab) / ab)  # EDM noise level of each timestep
    x = (
        torch.randn(4, 64, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        * torch.sqrt(1 + sigma**2)[:, None]
    )
    x_t = torch.sqrt(ab)[:, None] * x  # the VP state of the VE-scale x
    with torch.no_grad():
        out = unet(x_t.reshape(4, 1, 8, 8), steps.double()).sample.reshape(4, 64)
        got = model(x, sigma)
    a, s = torch.sqrt(ab)[:, None], torch.sqrt(1 - ab)[:, None]
    ref = (x_t - s * out) / a if prediction == "epsilon" else a * x_t - s * out
    err = float(((got - ref).abs() / (ref.abs() + 1.0)).max())
    assert err <= tol.DIFFUSERS_ADAPTER_RTOL
    assert model.sigma_range == pytest.approx(
        (float(sigma[0]), float(torch.sqrt((1 - ab_table[-1]) / ab_table[-1])))
    )
    # a network ignoring the prediction type would be far off: eps vs v differ by O(1) at sigma ~ 1
    other = (x_t - s * out) / a if prediction != "epsilon" else a * x_t - s * out
    assert float((other - ref)[2].abs().max()) > 1e3 * tol.DIFFUSERS_ADAPTER_RTOL


def test_sigma_between_timesteps_interpolates_in_log_sigma(
    tmp_path: Path, tiny_unet: Callable[..., Path]
) -> None:
    model = load_model(f"diffusers:{tiny_unet(tmp_path, 'epsilon')}")
    ls = model.log_sigmas
    sig = torch.tensor([math.exp(0.25 * ls[100] + 0.75 * ls[101])], dtype=torch.float64)
    assert float(model.sigma_to_t(sig)[0]) == pytest.approx(100.75, abs=1e-9)
    assert torch.isfinite(model(torch.zeros(1, 64, dtype=torch.float64), sig)).all()


def test_bad_directories(tmp_path: Path, tiny_unet: Callable[..., Path]) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_model(f"diffusers:{tmp_path / 'nowhere'}")
    with pytest.raises(ModelError, match="needs a directory"):
        load_model("diffusers:")
    root = tiny_unet(tmp_path / "ok", "epsilon")
    no_sched = tmp_path / "no_sched"
    (no_sched / "unet").mkdir(parents=True)
    for f in (root / "unet").iterdir():
        (no_sched / "unet" / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ModelError, match=r"no scheduler_config\.json"):
        load_model(f"diffusers:{no_sched}")
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL"}))
    (wrong / "scheduler_config.json").write_text(
        (root / "scheduler" / "scheduler_config.json").read_text()
    )
    with pytest.raises(ModelError, match="wrong kind of checkpoint"):
        load_model(f"diffusers:{wrong}")
    sample = tmp_path / "sample_pred"
    tiny_unet(sample, "sample")
    with pytest.raises(ModelError, match="prediction_type 'sample' is not supported"):
        load_model(f"diffusers:{sample}")
    weights = next((root / "unet").glob("diffusion_pytorch_model.*"))
    weights.write_bytes(b"corrupt")
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_model(f"diffusers:{root}")
    with pytest.raises(ModelError, match=r"shape \(batch, 64\)"):
        load_model(f"diffusers:{tiny_unet(tmp_path / 'ok2', 'epsilon')}")(
            torch.zeros(2, 63, dtype=torch.float64), 1.0
        )


def test_forward_mode_derivative_through_attention(
    tmp_path: Path, tiny_unet: Callable[..., Path]
) -> None:
    # The default UNet2DModel has a self-attention mid-block; the JVP Stein estimator needs
    # d D(x, sigma) / d sigma by forward-mode AD through it (fused CPU attention kernels have none).
    model = load_model(f"diffusers:{tiny_unet(tmp_path, 'epsilon')}")
    x = torch.randn(3, 64, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 2.0
    ls = model.log_sigmas
    for i in (300, 600, 900):  # mid-segment levels: the stencil stays between two training levels
        sigma = torch.tensor(math.exp(0.5 * (ls[i] + ls[i + 1])), dtype=torch.float64)
        _, tangent = torch.func.jvp(lambda s: model(x, s), (sigma,), (torch.ones_like(sigma),))
        h = 0.2 * 0.5 * float(ls[i + 1] - ls[i]) * float(sigma)
        with torch.no_grad():
            f = [model(x, sigma + k * h) for k in (-2, -1, 1, 2)]
        fd = (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * h)
        err = float(((tangent - fd).abs() / (fd.abs() + 1.0)).max())
        assert err <= tol.DIFFUSERS_JVP_RTOL, (i, err)
        assert float(fd.abs().max()) > 1e-2  # a non-trivial derivative was compared


def test_data_rows_for_a_checkpoint(tmp_path: Path, tiny_unet: Callable[..., Path]) -> None:
    from symsched.cli import main

    root = tiny_unet(tmp_path / "unet", "epsilon")
    rows = np.random.default_rng(0).uniform(-1, 1, size=(64, 1, 8, 8))
    np.save(tmp_path / "rows.npy", rows)
    torch.save(torch.as_tensor(rows), tmp_path / "rows.pt")
    ref = rows.reshape(64, 64)
    for data in (tmp_path / "rows.npy", tmp_path / "rows.pt"):  # images flattened to rows
        mean, cov = load_model(f"diffusers:{root}", data=data).data_moments()
        np.testing.assert_array_equal(mean, ref.mean(axis=0))
        np.testing.assert_array_equal(cov, np.cov(ref, rowvar=False, bias=True))
    with pytest.raises(ModelError, match="--data FILE"):
        load_model(f"diffusers:{root}").sample_data(4)
    with pytest.raises(ModelError, match=r"shape \(n, 64\)"):
        load_model(f"diffusers:{root}", data=np.zeros((8, 63)))
    with pytest.raises(ModelError, match="no such file"):
        load_model(f"diffusers:{root}", data=tmp_path / "missing.npy")
    (tmp_path / "rows.txt").write_text("1 2 3")
    with pytest.raises(ModelError, match="unknown file type"):
        load_model(f"diffusers:{root}", data=tmp_path / "rows.txt")
    with pytest.raises(ModelError, match="knows its own data"):
        load_model("digits", data=tmp_path / "rows.npy")
    # the CLI: without --data a clear one-line error (exit 2), with it a cost
    assert (
        main(
            [
                "stein-cost",
                "--model",
                f"diffusers:{root}",
                "--from",
                "2",
                "--to",
                "1",
                "--samples",
                "16",
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "stein-cost",
                "--model",
                f"diffusers:{root}",
                "--from",
                "2",
                "--to",
                "1",
                "--samples",
                "16",
                "--data",
                str(tmp_path / "rows.npy"),
                "--json",
            ]
        )
        == 0
    )
