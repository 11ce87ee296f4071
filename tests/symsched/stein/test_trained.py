"""Trained EDM denoisers: preconditioning, training script, checkpoint loading and its errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from symsched import stein
from symsched.models import ModelError, load_model
from symsched.models.preconditioning import edm_preconditioning
from symsched.models.trained import DATA_DIR, EDMDenoiser, build_network, load_trained
from symsched.train import train
from symsched_verify import tolerances as tol


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ckpt")
    return train("digits", seed=1, out=out, steps=30)


def test_training_is_seeded_and_writes_loss_curve(tiny_ckpt: Path, tmp_path: Path) -> None:
    again = train("digits", seed=1, out=tmp_path, steps=30)
    a = torch.load(tiny_ckpt, weights_only=True)["state_dict"]
    b = torch.load(again, weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tiny_ckpt.parent / "digits_loss.png").stat().st_size > 0


def test_local_directory_loads_and_runs(tiny_ckpt: Path) -> None:
    m = load_model(str(tiny_ckpt.parent))
    assert m.dim == 64 and m.sigma_range == (0.002, 80.0)
    est = stein.estimate_costs(m, stein.probe_levels(0.01, 10.0, 8), estimator="jvp", samples=8)
    assert np.all(np.isfinite(est.costs)) and est.total_length > 0
    with pytest.raises(ModelError, match="outside the range"):
        stein.estimate_costs(m, [100.0, 1.0], estimator="monte-carlo", samples=4)


def test_bad_checkpoints(tmp_path: Path, tiny_ckpt: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        load_trained("digits", tmp_path / "none.pt")
    bad = tmp_path / "corrupt.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="corrupt"):
        load_trained("corrupt", bad)
    wrong = tmp_path / "wrong.pt"
    torch.save({"kind": "something-else", "state_dict": {}}, wrong)
    with pytest.raises(ModelError, match="wrong kind"):
        load_trained("wrong", wrong)
    ck = torch.load(tiny_ckpt, weights_only=True)
    ck["config"] = dict(ck["config"], hidden=7)
    mism = tmp_path / "mismatch.pt"
    torch.save(ck, mism)
    with pytest.raises(ModelError, match="do not match"):
        load_trained("mismatch", mism)
    (tmp_path / "two").mkdir()
    with pytest.raises(ModelError, match="exactly one"):
        load_model(str(tmp_path / "two"))


@pytest.mark.parametrize("name", ["digits", "patches"])
def test_shipped_models_load_and_denoise(name: str) -> None:
    path = DATA_DIR / f"{name}.pt"
    assert path.is_file(), f"shipped weights {path} missing: run python -m symsched.train {name}"
    m = load_model(name)
    y = m.sample_data(256, torch.Generator().manual_seed(0))
    # measured ratios (models trained on the train split): digits 0.32 (sigma = 0.2), 0.12 (1.0);
    # patches 0.28, 0.054 (on held-out rows: digits 0.40, 0.12; patches 0.33, 0.057). Below
    # sigma ~ 0.02 the small float32 nets are no better than the identity (EDM training rarely
    # draws such sigma).
    for sigma, bound in ((0.2, 0.5), (1.0, 0.25)):
        x = y + sigma * torch.randn(
            y.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64
        )
        mse_model = float(((m(x, sigma) - y) ** 2).mean())
        mse_identity = float(((x - y) ** 2).mean())
        assert mse_model < bound * mse_identity  # a trained denoiser beats returning its input


SIGMAS = (0.002, 0.03, 0.5, 1.0, 7.0, 80.0)


def _karras_table_1(sigma: float, sigma_data: float) -> tuple[float, float, float, float]:
    # Karras et al. 2022 (arXiv:2206.00364), Table 1, "EDM" column, typed from the paper
    c_skip = sigma_data**2 / (sigma**2 + sigma_data**2)
    c_out = sigma * sigma_data / math.sqrt(sigma_data**2 + sigma**2)
    c_in = 1.0 / math.sqrt(sigma**2 + sigma_data**2)
    c_noise = 0.25 * math.log(sigma)
    return c_skip, c_out, c_in, c_noise


@pytest.mark.parametrize("sigma_data", [0.5, 0.37])
def test_edm_preconditioning_is_karras_table_1(sigma_data: float) -> None:
    pre = edm_preconditioning(torch.tensor(SIGMAS, dtype=torch.float64), sigma_data)
    for c in pre:
        assert c.shape == (len(SIGMAS), 1) and c.dtype == torch.float64
    for k, sigma in enumerate(SIGMAS):
        got = [float(c[k, 0]) for c in pre]
        want = _karras_table_1(sigma, sigma_data)
        assert got == pytest.approx(want, rel=tol.STEIN_ROUNDOFF_RTOL, abs=0.0)


def test_trained_denoiser_applies_the_preconditioning() -> None:
    # F_theta = 1 (every weight 0, last bias 1): D(x, sigma) = c_skip x + c_out, by Table 1
    dim, sigma_data = 3, 0.4
    net = build_network(dim, 8, 2, 2).double()
    with torch.no_grad():
        for q in net.parameters():
            q.zero_()
        net[-1].bias.fill_(1.0)
    cfg = {"dim": dim, "freqs": [1.0, 2.0], "sigma_data": sigma_data}
    cfg |= {"sigma_min": 0.002, "sigma_max": 80.0}  # the keys EDMDenoiser reads
    m = EDMDenoiser(net, cfg, data=None, name="constant")
    x = torch.linspace(-2.0, 2.0, len(SIGMAS) * dim, dtype=torch.float64).reshape(-1, dim)
    with torch.no_grad():
        out = m(x, torch.tensor(SIGMAS, dtype=torch.float64))
    for k, sigma in enumerate(SIGMAS):
        c_skip, c_out, _, _ = _karras_table_1(sigma, sigma_data)
        want = [c_skip * float(v) + c_out for v in x[k]]
        assert [float(v) for v in out[k]] == pytest.approx(
            want, rel=tol.STEIN_ROUNDOFF_RTOL, abs=0.0
        )
