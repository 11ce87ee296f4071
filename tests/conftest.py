"""Shared test configuration: hypothesis profiles, float64 torch, Agg plotting."""

from __future__ import annotations

import os

# One thread per process under xdist: `make test` runs two workers on two cores, and two BLAS /
# OpenMP / torch pools of two threads each oversubscribe them (the many small torch operations of
# the Curie-Weiss simulations suffer most). Set before numpy and torch are first imported, so the
# pools start with one thread; CLI subprocesses and Dask workers inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from collections.abc import Callable
from pathlib import Path

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# ci (default): deterministic, no example database, so CI runs are reproducible.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
# dev: a few examples, fast local iteration.
settings.register_profile("dev", max_examples=10, deadline=None)
# nightly: many random examples (the "longer profile").
settings.register_profile(
    "nightly",
    max_examples=500,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("SYMSCHED_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["numpy", "torch"])
def backend(request: pytest.FixtureRequest) -> str:
    """Array backend of the fast numerics (torch runs in float64 on the CPU)."""
    if request.param == "torch":
        pytest.importorskip("torch")
    return str(request.param)


@pytest.fixture
def tiny_unet() -> Callable[..., Path]:
    """Save a tiny seeded random diffusers ``UNet2DModel`` (8x8, one channel) with a DDPM scheduler.

    Returns ``save(root, prediction="epsilon", *, flat=False) -> root``: ``flat`` puts the UNet
    and the scheduler configs in ``root`` itself, otherwise in ``root/unet`` and
    ``root/scheduler`` (the pipeline layout).
    """
    diffusers = pytest.importorskip("diffusers")
    torch = pytest.importorskip("torch")

    def save(root: Path, prediction: str = "epsilon", *, flat: bool = False) -> Path:
        torch.manual_seed(0)
        unet = diffusers.UNet2DModel(
            sample_size=8,
            in_channels=1,
            out_channels=1,
            layers_per_block=1,
            block_out_channels=(8, 16),
            norm_num_groups=4,
            down_block_types=("DownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "UpBlock2D"),
        )
        sched = diffusers.DDPMScheduler(num_train_timesteps=1000, prediction_type=prediction)
        unet.save_pretrained(root if flat else root / "unet")
        sched.save_pretrained(root if flat else root / "scheduler")
        return root

    return save
