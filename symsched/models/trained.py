r"""Small EDM-preconditioned MLP denoisers trained here (``symsched/train.py``) and shipped as weights.

:math:`D(x,\sigma)=c_\text{skip}x+c_\text{out}F_\theta(c_\text{in}x,c_\text{noise})` with EDM's
preconditioning (Karras et al., arXiv:2206.00364, Table 1): :math:`c_\text{skip}=\sigma_d^2/(\sigma^2+\sigma_d^2)`,
:math:`c_\text{out}=\sigma\sigma_d/\sqrt{\sigma^2+\sigma_d^2}`, :math:`c_\text{in}=1/\sqrt{\sigma^2+\sigma_d^2}`,
:math:`c_\text{noise}=\tfrac14\ln\sigma`. Weights load with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from symsched.models._base import ModelError, ScoreModel

__all__ = ["DATA_DIR", "TRAINED", "EDMDenoiser", "build_network", "load_trained"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TRAINED = ("digits", "patches")
KIND = "symsched-edm-mlp-v1"


def build_network(dim: int, hidden: int, depth: int, n_freq: int) -> Any:
    """The MLP :math:`F_\\theta`: input x (dim) and Fourier features of c_noise (2 n_freq)."""
    import torch

    layers: list[Any] = [torch.nn.Linear(dim + 2 * n_freq, hidden), torch.nn.SiLU()]
    for _ in range(depth - 1):
        layers += [torch.nn.Linear(hidden, hidden), torch.nn.SiLU()]
    layers.append(torch.nn.Linear(hidden, dim))
    return torch.nn.Sequential(*layers)


class EDMDenoiser(ScoreModel):
    """A trained MLP in EDM preconditioning; float64 inputs are evaluated in the weights' dtype."""

    def __init__(self, net: Any, config: dict[str, Any], *, data: Any, name: str) -> None:
        self.net, self.config = net, config
        self.sigma_data = float(config["sigma_data"])
        freqs = [float(f) for f in config["freqs"]]
        import torch

        self._freqs = torch.tensor(freqs, dtype=torch.float64)
        super().__init__(
            int(config["dim"]),
            name=name,
            sigma_range=(float(config["sigma_min"]), float(config["sigma_max"])),
            data=data,
        )

    def features(self, sigma: Any) -> Any:
        import torch

        c_noise = torch.log(sigma)[:, None] / 4
        ang = c_noise * self._freqs.to(sigma.dtype)
        return torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)

    def _denoise(self, x: Any, sigma: Any) -> Any:
        import torch

        sd = self.sigma_data
        s = sigma[:, None]
        c_skip = sd**2 / (s**2 + sd**2)
        c_out = s * sd / torch.sqrt(s**2 + sd**2)
        c_in = 1 / torch.sqrt(s**2 + sd**2)
        inp = torch.cat([c_in * x, self.features(sigma)], dim=1)
        dt = next(self.net.parameters()).dtype
        f = self.net(inp.to(dt)).to(x.dtype)
        return c_skip * x + c_out * f


def load_trained(name: str, path: str | Path | None = None) -> EDMDenoiser:
    """Load the shipped model ``name`` (``digits``/``patches``) or a checkpoint file, ``weights_only=True``."""
    import torch

    from symsched.datasets import load, split

    p = Path(path) if path is not None else DATA_DIR / f"{name}.pt"
    if not p.is_file():
        raise ModelError(
            f"--model {name}: weight file {p} is missing (train it with python -m symsched.train {name})"
        )
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(
            f"--model {name}: weight file {p} is corrupt or not a torch checkpoint ({type(exc).__name__})"
        ) from None
    if (
        not isinstance(ckpt, dict)
        or ckpt.get("kind") != KIND
        or "state_dict" not in ckpt
        or "config" not in ckpt
    ):
        raise ModelError(
            f"--model {name}: {p} is not a {KIND} checkpoint (wrong kind of checkpoint)"
        )
    cfg = ckpt["config"]
    net = build_network(int(cfg["dim"]), int(cfg["hidden"]), int(cfg["depth"]), len(cfg["freqs"]))
    try:
        net.load_state_dict(ckpt["state_dict"])
    except RuntimeError as exc:
        raise ModelError(
            f"--model {name}: weights do not match the recorded architecture ({exc})"
        ) from None
    net.eval()
    for q in net.parameters():
        q.requires_grad_(False)
    # the rows the net was trained on (its Stein estimators noise them); older checkpoints: all rows
    data = (
        split(str(cfg["dataset"]), str(cfg["split"]))
        if "split" in cfg
        else load(str(cfg["dataset"]))
    )
    return EDMDenoiser(net, cfg, data=data, name=f"trained-{name}")
