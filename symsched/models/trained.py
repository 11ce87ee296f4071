r"""Small EDM-preconditioned MLP denoisers trained by :mod:`symsched.train`, shipped as weights.

:math:`D(x,\sigma)=c_\text{skip}x+c_\text{out}F_\theta(c_\text{in}x,c_\text{noise})` with EDM's
preconditioning (Karras et al., arXiv:2206.00364, Eq. (7) and Table 1), computed by
:func:`symsched.models.preconditioning.edm_preconditioning`; :math:`F_\theta` is an MLP on the
scaled state and Fourier features of :math:`c_\text{noise}`. Weights load with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NotRequired, TypedDict

from symsched._typing import RowsLike, TorchModule, TorchTensor
from symsched.models._base import ModelError, ScoreModel
from symsched.models.preconditioning import edm_preconditioning, fourier_features

__all__ = ["DATA_DIR", "TRAINED", "EDMConfig", "EDMDenoiser", "build_network", "load_trained"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TRAINED = ("digits", "patches")
KIND = "symsched-edm-mlp-v1"


class EDMConfig(TypedDict):
    """The ``config`` of a ``symsched-edm-mlp-v1`` checkpoint (written by :mod:`symsched.train`).

    The split keys are absent from checkpoints trained before the held-out split existed (those
    were trained on all rows).

    Attributes
    ----------
    dim, hidden, depth, freqs
        The network: input dimension, width, depth and the Fourier frequencies of c_noise.
    sigma_data, sigma_min, sigma_max
        EDM's :math:`\\sigma_\\text{data}` and the trained noise range [karras2022, §5].
    dataset, seed, steps, planned_steps, truncated, train_seconds, final_loss
        The training run (``truncated``: stopped by the time budget before ``planned_steps``).
    p_mean, p_std
        The log-normal training distribution of sigma [karras2022, Table 1].
    split, split_seed, heldout_fraction, train_rows
        The held-out split the model was trained on (optional).
    """

    dim: int
    hidden: int
    depth: int
    freqs: list[float]
    sigma_data: float
    sigma_min: float
    sigma_max: float
    dataset: str
    seed: int
    steps: int
    p_mean: float
    p_std: float
    final_loss: float
    planned_steps: int
    truncated: bool
    train_seconds: float
    split: NotRequired[str]
    split_seed: NotRequired[int]
    heldout_fraction: NotRequired[float]
    train_rows: NotRequired[int]


def build_network(dim: int, hidden: int, depth: int, n_freq: int) -> TorchModule:
    r"""The MLP :math:`F_\theta`: input x (``dim``) and Fourier features of c_noise (``2 n_freq``).

    Parameters
    ----------
    dim
        Data dimension (input and output width).
    hidden
        Width of the hidden layers.
    depth
        Number of hidden layers (SiLU activations).
    n_freq
        Number of Fourier frequencies of :math:`c_\text{noise}`.

    Returns
    -------
    TorchModule
        A ``torch.nn.Sequential`` from ``dim + 2 n_freq`` to ``dim`` values.
    """
    import torch

    layers: list[torch.nn.Module] = [torch.nn.Linear(dim + 2 * n_freq, hidden), torch.nn.SiLU()]
    for _ in range(depth - 1):
        layers += [torch.nn.Linear(hidden, hidden), torch.nn.SiLU()]
    layers.append(torch.nn.Linear(hidden, dim))
    return torch.nn.Sequential(*layers)


class EDMDenoiser(ScoreModel):
    r"""A trained MLP in EDM preconditioning; float64 inputs are evaluated in the weights' dtype.

    :math:`D(x,\sigma)=c_\text{skip}x+c_\text{out}F_\theta(c_\text{in}x,c_\text{noise})`
    [karras2022, Eq. (7), Table 1] (:func:`~symsched.models.preconditioning.edm_preconditioning`).

    Parameters
    ----------
    net
        The network :math:`F_\theta` (:func:`build_network`).
    config
        The checkpoint's configuration (``sigma_data``, ``freqs``, ``dim``, ``sigma_min``,
        ``sigma_max`` are used).
    data
        Training rows (noised by the Stein estimators), or ``None``.
    name
        Name in reports.
    """

    def __init__(
        self,
        net: TorchModule,
        config: EDMConfig,
        *,
        data: RowsLike | None,
        name: str,
    ) -> None:
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

    def features(self, sigma: TorchTensor) -> TorchTensor:
        r"""Fourier features of :math:`c_\text{noise}=\tfrac14\ln\sigma`, ``(batch, 2 n_freq)``.

        Parameters
        ----------
        sigma
            Noise levels ``(batch,)``.

        Returns
        -------
        TorchTensor
            :func:`~symsched.models.preconditioning.fourier_features` of the levels.
        """
        c_noise = edm_preconditioning(sigma, self.sigma_data).c_noise
        return fourier_features(c_noise, self._freqs.to(sigma.dtype))

    def _denoise(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor:
        import torch

        pre = edm_preconditioning(sigma, self.sigma_data)
        feats = fourier_features(pre.c_noise, self._freqs.to(sigma.dtype))
        inp = torch.cat([pre.c_in * x, feats], dim=1)
        dt = next(self.net.parameters()).dtype
        f: TorchTensor = self.net(inp.to(dt)).to(x.dtype)
        return pre.c_skip * x + pre.c_out * f


def load_trained(name: str, path: str | Path | None = None) -> EDMDenoiser:
    """Load a shipped model or a checkpoint file with ``torch.load(..., weights_only=True)``.

    Parameters
    ----------
    name
        ``digits`` / ``patches`` (the shipped weights in :data:`DATA_DIR`), or the name given to
        the checkpoint at ``path``.
    path
        A ``symsched-edm-mlp-v1`` checkpoint file (default ``DATA_DIR / f"{name}.pt"``).

    Returns
    -------
    EDMDenoiser
        The network in evaluation mode, without gradients, with the rows it was trained on.

    Raises
    ------
    ModelError
        The file is missing, corrupt, not a ``symsched-edm-mlp-v1`` checkpoint, or its weights do
        not match the recorded architecture.
    """
    import torch

    from symsched.datasets import load, split

    p = Path(path) if path is not None else DATA_DIR / f"{name}.pt"
    if not p.is_file():
        raise ModelError(
            f"--model {name}: weight file {p} is missing "
            f"(train it with python -m symsched.train {name})"
        )
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(
            f"--model {name}: weight file {p} is corrupt or not a torch checkpoint "
            f"({type(exc).__name__})"
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
    cfg: EDMConfig = ckpt["config"]
    needed = ("dim", "hidden", "depth", "freqs", "sigma_data", "dataset")
    missing = [k for k in needed if not isinstance(cfg, dict) or k not in cfg]
    if missing:
        raise ModelError(
            f"--model {name}: {p} is a {KIND} checkpoint without the config keys "
            f"{', '.join(missing)}; retrain it with python -m symsched.train"
        )
    try:
        net = build_network(
            int(cfg["dim"]), int(cfg["hidden"]), int(cfg["depth"]), len(cfg["freqs"])
        )
    except (TypeError, ValueError) as exc:
        raise ModelError(f"--model {name}: {p} has an unusable config ({exc})") from None
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
