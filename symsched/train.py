r"""Train the small EDM-preconditioned denoisers shipped with symsched.

    python -m symsched.train digits [--steps N] [--minutes 10] [--seed 0] [--out symsched/data]

Seeded and single-threaded (``torch.set_num_threads(1)``); EDM training ([karras2022, §5, Table 1],
arXiv:2206.00364): :math:`\ln\sigma\sim\mathcal N(P_\text{mean},P_\text{std}^2)`,
loss weight :math:`(\sigma^2+\sigma_d^2)/(\sigma\sigma_d)^2`, the preconditioned MLP of
:mod:`symsched.models.trained` (coefficients from
:func:`symsched.models.preconditioning.edm_preconditioning`, Eq. (7)). Trains on the ``"train"``
part of :func:`symsched.datasets.split` only (the held-out part judges the samples), and records
the split in the checkpoint's config. Writes ``NAME.pt`` (float32 weights + config, loadable with
``weights_only=True``), ``NAME_loss.png`` (the loss curve) and ``NAME_samples.png`` (64 samples
from EDM's Heun sampler, Algorithm 1, 18 steps of the rho = 7 grid, beside 64 held-out rows). A
fixed number of steps keeps runs reproducible: the step counts below finish in 1-8 minutes on one
CPU thread (idle to busy); ``--minutes`` (default 10) is only a safety cap, and a run that hits it
stops early, says so, and records ``"truncated": true``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TypedDict

import numpy as np

from symsched._typing import FloatArray
from symsched.datasets import HELDOUT_FRACTION, SPLIT_SEED, split
from symsched.models.preconditioning import edm_preconditioning, fourier_features
from symsched.models.trained import DATA_DIR, KIND, EDMConfig, EDMDenoiser, build_network

__all__ = ["CONFIGS", "FREQS", "P_MEAN", "P_STD", "SAMPLE_STEPS", "main", "sample_grid", "train"]


class TrainConfig(TypedDict):
    """Architecture and optimiser settings of one shipped model.

    Attributes
    ----------
    hidden, depth
        Width and depth of the MLP.
    steps, batch, lr
        Optimiser steps, batch size and peak learning rate (Adam, one-cycle).
    """

    hidden: int
    depth: int
    steps: int
    batch: int
    lr: float


# Step counts from measured single-thread rates on the shared 2-core machine: idle ~200 (digits)
# and ~88 (patches) steps/s, slowest seen under load 49 and 14 steps/s. At the slowest rates the
# runs take 5.1 and 7.2 minutes, inside the 10-minute cap, so the step count (not the clock) ends
# a run.
CONFIGS: dict[str, TrainConfig] = {
    "digits": {"hidden": 256, "depth": 3, "steps": 15000, "batch": 256, "lr": 2e-3},
    "patches": {"hidden": 384, "depth": 3, "steps": 6000, "batch": 256, "lr": 1e-3},
}
# EDM's CIFAR-10 step count; 36 Heun evaluations here (the grid ends at sigma_min > 0)
SAMPLE_STEPS = 18
P_MEAN, P_STD = -1.2, 1.2  # EDM's training noise distribution
FREQS = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def train(
    name: str,
    *,
    seed: int = 0,
    minutes: float = 10.0,
    out: Path = DATA_DIR,
    steps: int | None = None,
) -> Path:
    r"""Train the EDM denoiser ``name`` on the train split; write checkpoint, loss curve, samples.

    EDM training [karras2022, §5, Table 1]: :math:`\ln\sigma\sim\mathcal N(P_\text{mean},
    P_\text{std}^2)`, loss :math:`\lambda(\sigma)\|D(y+\sigma n,\sigma)-y\|^2` with
    :math:`\lambda=(\sigma^2+\sigma_d^2)/(\sigma\sigma_d)^2`, Adam with a one-cycle schedule.

    Parameters
    ----------
    name
        ``"digits"`` or ``"patches"``.
    seed
        Seeds the initialisation, the minibatches and the training noise (the split has its own
        fixed seed, :data:`symsched.datasets.SPLIT_SEED`).
    minutes
        Wall-time safety cap; reaching it truncates the run (recorded in the config).
    out
        Output directory.
    steps
        Optimiser steps (default: ``CONFIGS[name]["steps"]``).

    Returns
    -------
    Path
        The checkpoint ``out / f"{name}.pt"``.
    """
    import torch
    from tqdm.auto import tqdm  # type: ignore[import-untyped]  # tqdm ships no type information

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    cfg = CONFIGS[name]
    data = torch.as_tensor(split(name, "train"), dtype=torch.float32)
    dim = data.shape[1]
    sigma_data = float(data.std())
    net = build_network(dim, cfg["hidden"], cfg["depth"], len(FREQS))
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    n_steps = steps or cfg["steps"]
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg["lr"], total_steps=n_steps, pct_start=0.05
    )
    freqs = torch.tensor(FREQS)
    gen = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    t0, truncated = time.perf_counter(), False
    bar = tqdm(range(n_steps), desc=f"train {name}", file=sys.stderr)
    for step in bar:
        y = data[torch.randint(0, data.shape[0], (cfg["batch"],), generator=gen)]
        sigma = torch.exp(P_MEAN + P_STD * torch.randn(cfg["batch"], generator=gen))
        x = y + sigma[:, None] * torch.randn(y.shape, generator=gen)
        s = sigma[:, None]
        pre = edm_preconditioning(sigma, sigma_data)
        inp = torch.cat([pre.c_in * x, fourier_features(pre.c_noise, freqs)], 1)
        d = pre.c_skip * x + pre.c_out * net(inp)
        weight = (s**2 + sigma_data**2) / (s * sigma_data) ** 2
        loss = (weight * (d - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if step % 100 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-100:]):.4f}")
        if time.perf_counter() - t0 > 60 * minutes:
            print(
                f"train {name}: wall-time cap of {minutes} min hit at step {step + 1}/{n_steps}",
                file=sys.stderr,
            )
            truncated = True
            break
    seconds = time.perf_counter() - t0
    config: EDMConfig = {
        "dim": dim,
        "hidden": cfg["hidden"],
        "depth": cfg["depth"],
        "freqs": FREQS,
        "sigma_data": sigma_data,
        "sigma_min": 0.002,
        "sigma_max": 80.0,
        "dataset": name,
        "seed": seed,
        "steps": len(losses),
        "p_mean": P_MEAN,
        "p_std": P_STD,
        "final_loss": float(np.mean(losses[-200:])),
        "planned_steps": n_steps,
        "truncated": truncated,
        "train_seconds": round(seconds, 1),
        "split": "train",
        "split_seed": SPLIT_SEED,
        "heldout_fraction": HELDOUT_FRACTION,
        "train_rows": int(data.shape[0]),
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.pt"
    torch.save({"kind": KIND, "config": config, "state_dict": net.state_dict()}, path)
    _plot(losses, out / f"{name}_loss.png", name)
    net.eval()
    sample_grid(
        EDMDenoiser(net, config, data=None, name=f"trained-{name}"),
        out / f"{name}_samples.png",
        name,
        seed=seed,
    )
    print(
        f"train {name}: {len(losses)} steps in {seconds:.0f} s, final loss "
        f"{config['final_loss']:.4f}; wrote {path}",
        file=sys.stderr,
    )
    return path


def _plot(losses: list[float], path: Path, name: str) -> None:
    from symsched._figures import new_figure, tidy
    from symsched.plot_style import styles

    k = max(1, min(50, len(losses) // 5))
    sm = np.convolve(losses, np.ones(k) / k, mode="valid")
    fig = new_figure((5.5, 3.4))
    ax = fig.add_subplot()
    look = styles(("loss per step", "moving average"))
    ax.semilogy(losses, alpha=0.35, lw=0.5, color=look["loss per step"].color, label="per step")
    ax.semilogy(
        np.arange(k - 1, len(losses)),
        sm,
        lw=1.2,
        color=look["moving average"].color,
        label=f"moving average of {k}",
    )
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("EDM loss")
    ax.set_title(f"EDM denoiser trained on {name}: training loss", fontsize=10)
    ax.legend(fontsize=8)
    tidy(fig)
    fig.savefig(path, dpi=80)


def sample_grid(
    model: EDMDenoiser, path: Path, name: str, *, seed: int = 0, count: int = 64
) -> Path:
    r"""Write a PNG of ``count`` samples of ``model`` beside ``count`` held-out rows of ``name``.

    Samples come from :func:`symsched.models.sample_heun` [Karras et al. 2022, Algorithm 1] on the
    EDM :math:`\rho=7` grid [Eq. (5)] of :data:`SAMPLE_STEPS` steps from the model's
    ``sigma_max`` to ``sigma_min`` (80 to 0.002), started at :math:`\sigma_\max\,\varepsilon`
    (seeded); the held-out rows are a seeded random choice. Images are shown in [-1, 1] on a gray
    scale (8x8 digits, 16x16 patches).

    Parameters
    ----------
    model
        The trained denoiser.
    path
        Output PNG file.
    name
        Dataset of the held-out rows (``"digits"`` or ``"patches"``).
    seed
        Seed of the starting noise and of the choice of held-out rows.
    count
        Images per panel.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from symsched.models import sample_heun, start_noise
    from symsched.schedules.families import karras

    lo, hi = model.sigma_range
    sigmas = karras(lo, hi, 7.0).grid(SAMPLE_STEPS)
    with torch.no_grad():
        x = sample_heun(model, start_noise(count, model.dim, hi, seed), sigmas).numpy()
    side = round(model.dim**0.5)
    cols = int(np.ceil(np.sqrt(count)))
    held = split(name, "heldout")
    held = held[
        np.random.default_rng(seed).choice(
            held.shape[0], size=min(count, held.shape[0]), replace=False
        )
    ]

    def tile(rows: FloatArray) -> FloatArray:
        canvas = np.full((cols * (side + 1) - 1,) * 2, np.nan)
        for k, r in enumerate(rows):
            i, j = divmod(k, cols)
            canvas[
                i * (side + 1) : i * (side + 1) + side, j * (side + 1) : j * (side + 1) + side
            ] = r.reshape(side, side)
        return canvas

    fig, axes = plt.subplots(1, 2, figsize=(8, 4.3))
    for ax, rows, title in (
        (axes[0], x, f"samples (Heun, {SAMPLE_STEPS} steps, rho = 7)"),
        (axes[1], held, "held-out data"),
    ):
        ax.imshow(np.clip(tile(rows), -1, 1), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"{name}: {title}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m symsched.train NAME [--seed] [--minutes] [--steps] [--out]``.

    Parameters
    ----------
    argv
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success (argparse exits with 2 on bad arguments).
    """
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("name", choices=sorted(CONFIGS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    a = ap.parse_args(argv)
    train(a.name, seed=a.seed, minutes=a.minutes, out=a.out, steps=a.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
