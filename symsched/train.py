r"""Train the small EDM-preconditioned denoisers shipped with symsched (issue 4, item 4).

    python -m symsched.train digits [--minutes 4] [--seed 0] [--out symsched/data]

Seeded and single-threaded (``torch.set_num_threads(1)``); EDM training (Karras et al.,
arXiv:2206.00364, §5 and Table 1): :math:`\ln\sigma\sim\mathcal N(P_\text{mean},P_\text{std}^2)`, loss
weight :math:`(\sigma^2+\sigma_d^2)/(\sigma\sigma_d)^2`, preconditioned MLP (:mod:`symsched.models.trained`).
Writes ``NAME.pt`` (float32 weights + config, loadable with ``weights_only=True``) and
``NAME_loss.png`` (the loss curve). A fixed number of steps keeps runs reproducible; ``--minutes``
only caps the wall time (the run stops early, and says so, if the cap is hit).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .datasets import load
from .models.trained import DATA_DIR, KIND, build_network

CONFIGS = {
    "digits": {"hidden": 256, "depth": 3, "steps": 15000, "batch": 256, "lr": 2e-3},
    "patches": {"hidden": 384, "depth": 3, "steps": 8000, "batch": 256, "lr": 1e-3},
}
P_MEAN, P_STD = -1.2, 1.2  # EDM's training noise distribution
FREQS = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def train(name: str, *, seed: int = 0, minutes: float = 4.5, out: Path = DATA_DIR, steps: int | None = None) -> Path:
    import torch
    from tqdm.auto import tqdm

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    cfg = CONFIGS[name]
    data = torch.as_tensor(load(name), dtype=torch.float32)
    dim = data.shape[1]
    sigma_data = float(data.std())
    net = build_network(dim, cfg["hidden"], cfg["depth"], len(FREQS))
    opt = torch.optim.Adam(net.parameters(), lr=cfg["lr"])
    n_steps = steps or cfg["steps"]
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=n_steps, pct_start=0.05)
    freqs = torch.tensor(FREQS)
    gen = torch.Generator().manual_seed(seed)
    losses, t0 = [], time.perf_counter()
    bar = tqdm(range(n_steps), desc=f"train {name}", file=sys.stderr)
    for step in bar:
        y = data[torch.randint(0, data.shape[0], (cfg["batch"],), generator=gen)]
        sigma = torch.exp(P_MEAN + P_STD * torch.randn(cfg["batch"], generator=gen))
        x = y + sigma[:, None] * torch.randn(y.shape, generator=gen)
        s = sigma[:, None]
        c_skip = sigma_data**2 / (s**2 + sigma_data**2)
        c_out = s * sigma_data / torch.sqrt(s**2 + sigma_data**2)
        c_in = 1 / torch.sqrt(s**2 + sigma_data**2)
        ang = (torch.log(sigma)[:, None] / 4) * freqs
        d = c_skip * x + c_out * net(torch.cat([c_in * x, torch.sin(ang), torch.cos(ang)], 1))
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
            print(f"train {name}: wall-time cap of {minutes} min hit at step {step + 1}/{n_steps}", file=sys.stderr)
            break
    config = {"dim": dim, "hidden": cfg["hidden"], "depth": cfg["depth"], "freqs": FREQS, "sigma_data": sigma_data,
              "sigma_min": 0.002, "sigma_max": 80.0, "dataset": name, "seed": seed, "steps": len(losses),
              "p_mean": P_MEAN, "p_std": P_STD, "final_loss": float(np.mean(losses[-200:]))}
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.pt"
    torch.save({"kind": KIND, "config": config, "state_dict": net.state_dict()}, path)
    _plot(losses, out / f"{name}_loss.png", name)
    print(f"train {name}: {len(losses)} steps in {time.perf_counter() - t0:.0f} s, final loss "
          f"{config['final_loss']:.4f}; wrote {path}", file=sys.stderr)
    return path


def _plot(losses: list[float], path: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = max(1, min(50, len(losses) // 5))
    sm = np.convolve(losses, np.ones(k) / k, mode="valid")
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogy(losses, alpha=0.3, lw=0.5)
    ax.semilogy(np.arange(k - 1, len(losses)), sm, lw=1.2)
    ax.set_xlabel("step"); ax.set_ylabel("EDM loss"); ax.set_title(f"{name}: training loss")
    fig.tight_layout(); fig.savefig(path, dpi=80); plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", choices=sorted(CONFIGS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=4.5)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", type=Path, default=DATA_DIR)
    a = ap.parse_args(argv)
    train(a.name, seed=a.seed, minutes=a.minutes, out=a.out, steps=a.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())

