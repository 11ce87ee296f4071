r"""Adapters from network conventions to the EDM denoiser :math:`D(x,\sigma)`.

* :class:`KDiffusionModel` — any k-diffusion-style callable ``model(x, sigma) -> denoised``.
* :class:`VPNetworkModel` — an ε- or v-prediction network ``net(x_t, t)`` on a discrete VP
  schedule (``alphas_cumprod``, e.g. DDPM's 1000-step table), mapped as k-diffusion's
  ``DiscreteEpsDDPMDenoiser`` / ``DiscreteVDDPMDenoiser`` do: :math:`x_t=\alpha x`,
  :math:`\alpha=1/\sqrt{1+\sigma^2}`, fractional timestep by linear interpolation in
  :math:`\log\sigma`, and

  .. math:: D = x-\sigma\hat\varepsilon\quad(\varepsilon),\qquad
     D=\alpha^2x-\sigma\alpha\hat v\quad(v).

* :class:`DiffusersUNetModel` / :func:`load_diffusers` — a diffusers ``UNet2DModel`` checkpoint in
  a local directory with its scheduler config (``--model diffusers:DIR``): the VP network above,
  with ``alphas_cumprod`` and the prediction type taken from the scheduler, and states reshaped
  between ``(batch, C*H*W)`` and ``(batch, C, H, W)``.

The timestep interpolation is written in torch so ``torch.func.jvp`` differentiates through it
(docs/theory/stein.md#jvp-with-control-variates). References: [williams2024, §3] (Williams,
Campbell, Doucet, Syed, arXiv:2412.07877); [salimans2022] (Salimans & Ho, arXiv:2202.00512;
v-prediction); [crowson] (k-diffusion; docs/theory/samplers.md#reference-implementations). Page:
docs/theory/stein.md#score-models.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from symsched._typing import ArrayLike, RowsLike, TorchDType, TorchTensor
from symsched._validate import check_choice
from symsched.models._base import ModelError, ScoreModel

if TYPE_CHECKING:
    import torch

__all__ = [
    "DIFFUSERS_PREDICTIONS",
    "PREDICTIONS",
    "DiffusersUNetModel",
    "KDiffusionModel",
    "UNetLike",
    "VPNetworkModel",
    "load_diffusers",
]

PREDICTIONS: tuple[str, ...] = ("epsilon", "v")
# diffusers' scheduler.config.prediction_type -> ours
DIFFUSERS_PREDICTIONS: dict[str, str] = {"epsilon": "epsilon", "v_prediction": "v"}

TensorFn = Callable[[TorchTensor, TorchTensor], TorchTensor]
"""A network or denoiser called as ``fn(x, sigma_or_t)`` on ``(batch, dim)`` and ``(batch,)``."""


class _UNetConfig(Protocol):
    sample_size: int | Sequence[int]
    in_channels: int
    out_channels: int


class _UNetOutput(Protocol):
    sample: TorchTensor


class UNetLike(Protocol):
    """What :class:`DiffusersUNetModel` uses of a diffusers ``UNet2DModel`` (a torch module).

    Attributes
    ----------
    config
        The model config (``sample_size``, ``in_channels``, ``out_channels``).
    """

    config: _UNetConfig

    def to(self, dtype: TorchDType) -> UNetLike:
        """Cast the parameters.

        Parameters
        ----------
        dtype
            The torch dtype.

        Returns
        -------
        UNetLike
            The module with parameters of ``dtype``.
        """
        ...

    def eval(self) -> UNetLike:
        """Switch to evaluation mode.

        Returns
        -------
        UNetLike
            The module in evaluation mode.
        """
        ...

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        """The module's parameters.

        Returns
        -------
        Iterator of torch.nn.Parameter
        """
        ...

    def __call__(self, sample: TorchTensor, timestep: TorchTensor, /) -> _UNetOutput:
        """The prediction at states ``sample`` ``(batch, C, H, W)`` and timesteps ``(batch,)``.

        Parameters
        ----------
        sample
            States ``(batch, C, H, W)``.
        timestep
            Timesteps ``(batch,)``.

        Returns
        -------
        _UNetOutput
            An object whose ``sample`` is the prediction (diffusers' ``UNet2DOutput``).
        """
        ...


class KDiffusionModel(ScoreModel):
    """Wrap a callable ``fn(x, sigma) -> denoised`` (x ``(batch, dim)``, sigma ``(batch,)``).

    Parameters
    ----------
    fn
        The k-diffusion-style denoiser (torch in, torch out).
    dim
        Data dimension.
    sigma_range
        Noise levels the callable is valid for.
    data
        Optional data rows (for the Monte Carlo and JVP estimators).
    name
        Name in reports.

    Raises
    ------
    ModelError
        If ``fn`` is not callable (or as :class:`~symsched.models.ScoreModel`).
    """

    def __init__(
        self,
        fn: TensorFn,
        dim: int,
        *,
        sigma_range: tuple[float, float] = (0.0, math.inf),
        data: RowsLike | None = None,
        name: str = "k-diffusion callable",
    ) -> None:
        if not callable(fn):
            raise ModelError(f"fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        super().__init__(dim, name=name, sigma_range=sigma_range, data=data)

    def _denoise(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor:
        return self.fn(x, sigma)


class VPNetworkModel(ScoreModel):
    r"""An ε- or v-prediction network on a discrete VP schedule, seen as an EDM denoiser.

    With :math:`\alpha=1/\sqrt{1+\sigma^2}` and :math:`x_t=\alpha x`:
    :math:`D=x-\sigma\hat\varepsilon(x_t,t)` (ε) or
    :math:`D=\alpha^2x-\sigma\alpha\hat v(x_t,t)` (v, [salimans2022, §4]), ``t`` the
    fractional timestep of :meth:`sigma_to_t`.

    Parameters
    ----------
    net
        ``net(x_t, t)`` on ``(batch, dim)`` states and ``(batch,)`` fractional timesteps.
    alphas_cumprod
        The VP table :math:`\bar\alpha_t`, strictly decreasing in (0, 1).
    dim
        Data dimension.
    prediction
        ``"epsilon"`` or ``"v"``.
    data
        Optional data rows (for the Monte Carlo and JVP estimators).
    name
        Name in reports (default from ``prediction``).

    Raises
    ------
    ModelError
        If the table is not strictly decreasing in (0, 1).
    ValueError
        Unknown ``prediction``.
    """

    def __init__(
        self,
        net: TensorFn,
        alphas_cumprod: ArrayLike,
        dim: int,
        *,
        prediction: str = "epsilon",
        data: RowsLike | None = None,
        name: str | None = None,
    ) -> None:
        check_choice(prediction, "prediction", PREDICTIONS)
        ab = np.asarray(alphas_cumprod, dtype=np.float64)
        if (
            ab.ndim != 1
            or ab.size < 2
            or np.any(ab <= 0)
            or np.any(ab >= 1)
            or not np.all(np.diff(ab) < 0)
        ):
            raise ModelError("alphas_cumprod must be a strictly decreasing 1-D table in (0, 1)")
        self.net, self.prediction = net, prediction
        self.log_sigmas = np.log(np.sqrt((1 - ab) / ab))  # increasing with the timestep
        rng = (float(np.exp(self.log_sigmas[0])), float(np.exp(self.log_sigmas[-1])))
        super().__init__(
            dim, name=name or f"{prediction}-prediction VP network", sigma_range=rng, data=data
        )

    def sigma_to_t(self, sigma: TorchTensor) -> TorchTensor:
        """Fractional training timestep of ``sigma`` (linear in log sigma between table entries).

        Parameters
        ----------
        sigma
            Noise levels ``(batch,)`` (differentiable: ``torch.func.jvp`` passes through).

        Returns
        -------
        TorchTensor
            Timesteps ``(batch,)`` in the table's index scale, clamped to its first and last
            intervals.
        """
        import torch

        ls = torch.as_tensor(self.log_sigmas, dtype=sigma.dtype, device=sigma.device)
        log_s = torch.log(sigma)
        hi = torch.searchsorted(ls, log_s.detach()).clamp(1, ls.numel() - 1)
        lo = hi - 1
        w = (log_s - ls[lo]) / (ls[hi] - ls[lo])
        return lo.to(sigma.dtype) + w

    def _denoise(self, x: TorchTensor, sigma: TorchTensor) -> TorchTensor:
        alpha = 1.0 / torch_sqrt1p(sigma**2)
        x_t = alpha[:, None] * x
        out = self.net(x_t, self.sigma_to_t(sigma))
        if self.prediction == "epsilon":
            return x - sigma[:, None] * out
        return (alpha**2)[:, None] * x - (sigma * alpha)[:, None] * out


def torch_sqrt1p(v: TorchTensor) -> TorchTensor:
    """``sqrt(1 + v)`` elementwise (torch).

    Parameters
    ----------
    v
        A tensor (> -1).

    Returns
    -------
    TorchTensor
        ``torch.sqrt(1.0 + v)``.
    """
    import torch

    return torch.sqrt(1.0 + v)


class DiffusersUNetModel(VPNetworkModel):
    r"""A diffusers ``UNet2DModel`` (ε- or v-prediction on a VP beta table) as an EDM denoiser.

    States are flat rows of ``dim = C*H*W`` values (the order of ``tensor.reshape(batch, -1)``);
    the UNet is called as ``unet(x_t.reshape(batch, C, H, W), t).sample`` with the fractional
    timestep ``t`` of :meth:`VPNetworkModel.sigma_to_t`.

    Parameters
    ----------
    unet
        The UNet (in and out channels equal).
    alphas_cumprod
        The scheduler's VP table.
    prediction
        ``"epsilon"`` or ``"v"``.
    dtype
        torch dtype to evaluate the UNet in (default ``torch.float64``).
    data
        Optional data rows (flat, ``C*H*W`` values each).
    name
        Name in reports.

    Raises
    ------
    ModelError
        If the UNet's in and out channels differ (or as :class:`VPNetworkModel`).
    """

    def __init__(
        self,
        unet: UNetLike,
        alphas_cumprod: ArrayLike,
        prediction: str,
        *,
        dtype: TorchDType | None = None,
        data: RowsLike | None = None,
        name: str = "diffusers UNet2DModel",
    ) -> None:
        import torch

        cfg = unet.config
        size = cfg.sample_size
        h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        if int(cfg.in_channels) != int(cfg.out_channels):
            raise ModelError(
                f"{name}: in_channels ({cfg.in_channels}) != out_channels ({cfg.out_channels}); "
                "a denoising UNet predicts a tensor of its input's shape"
            )
        self.shape = (int(cfg.in_channels), h, w)
        self.unet = unet.to(torch.float64 if dtype is None else dtype).eval()
        for q in self.unet.parameters():
            q.requires_grad_(False)
        self._dtype = next(self.unet.parameters()).dtype
        super().__init__(
            self._call_unet,
            alphas_cumprod,
            self.shape[0] * h * w,
            prediction=prediction,
            data=data,
            name=name,
        )

    def _call_unet(self, x_t: TorchTensor, t: TorchTensor) -> TorchTensor:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        # The UNet's attention blocks call scaled_dot_product_attention; its fused CPU kernels have
        # no forward-mode derivative, which the JVP Stein estimator needs. The math backend is
        # built from differentiable primitives and gives the same values.
        with sdpa_kernel(SDPBackend.MATH):
            out = self.unet(
                x_t.reshape(x_t.shape[0], *self.shape).to(self._dtype), t.to(self._dtype)
            ).sample
        return out.reshape(x_t.shape[0], -1).to(x_t.dtype)


def load_diffusers(
    path: str | Path,
    *,
    dtype: TorchDType | None = None,
    data: RowsLike | None = None,
) -> DiffusersUNetModel:
    r"""Load a diffusers ``UNet2DModel`` and its scheduler from a local directory (no network).

    Parameters
    ----------
    path
        Either a pipeline directory holding ``unet/`` (``config.json`` + weights) and
        ``scheduler/scheduler_config.json``, or one directory holding both ``config.json`` and
        ``scheduler_config.json``.
    dtype
        torch dtype to evaluate the UNet in (default ``torch.float64``).
    data
        Optional rows of training data (needed by the Monte Carlo and JVP estimators).

    Returns
    -------
    DiffusersUNetModel
        :math:`D(x,\sigma)` with ``alphas_cumprod`` and the prediction type (``epsilon`` or
        ``v_prediction``) of the scheduler; valid for the table's noise levels.

    Raises
    ------
    ModelError
        The directory or a file is missing, ``config.json`` is not a ``UNet2DModel``, the
        scheduler has no VP beta table (``alphas_cumprod``) or predicts something else (e.g.
        ``sample``), or the weights cannot be loaded.
    """
    root = Path(path)
    if not root.is_dir():
        raise ModelError(f"--model diffusers:{path}: directory {root} does not exist")
    unet_dir = root / "unet" if (root / "unet" / "config.json").is_file() else root
    sched_file = next(
        (
            f
            for f in (root / "scheduler" / "scheduler_config.json", root / "scheduler_config.json")
            if f.is_file()
        ),
        None,
    )
    if not (unet_dir / "config.json").is_file():
        raise ModelError(
            f"--model diffusers:{path}: no UNet config.json in {root} or {root / 'unet'}"
        )
    if sched_file is None:
        raise ModelError(
            f"--model diffusers:{path}: no scheduler_config.json in {root / 'scheduler'} or {root} "
            "(the VP beta table and the prediction type come from it)"
        )
    import json

    try:
        unet_cfg = json.loads((unet_dir / "config.json").read_text())
        sched_cfg = json.loads(sched_file.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"--model diffusers:{path}: unreadable config ({type(exc).__name__}: {exc})"
        ) from None
    kind = unet_cfg.get("_class_name") if isinstance(unet_cfg, dict) else None
    if kind != "UNet2DModel":
        raise ModelError(
            f"--model diffusers:{path}: {unet_dir / 'config.json'} describes {kind!r}, not a "
            "UNet2DModel (wrong kind of checkpoint)"
        )
    import diffusers

    cls = (
        getattr(diffusers, str(sched_cfg.get("_class_name")), None)
        if isinstance(sched_cfg, dict)
        else None
    )
    if cls is None or not hasattr(cls, "from_config"):
        raise ModelError(
            f"--model diffusers:{path}: {sched_file} names no diffusers scheduler class "
            f"({sched_cfg.get('_class_name') if isinstance(sched_cfg, dict) else sched_cfg!r})"
        )
    scheduler = cls.from_config(sched_cfg)
    table = getattr(scheduler, "alphas_cumprod", None)
    if table is None:
        raise ModelError(
            f"--model diffusers:{path}: scheduler {cls.__name__} has no alphas_cumprod "
            "(not a VP beta-table scheduler)"
        )
    pred = str(scheduler.config.get("prediction_type", "epsilon"))
    if pred not in DIFFUSERS_PREDICTIONS:
        raise ModelError(
            f"--model diffusers:{path}: prediction_type {pred!r} is not supported; "
            f"expected one of {', '.join(DIFFUSERS_PREDICTIONS)}"
        )
    # diffusers leaves from_pretrained unannotated; what it returns is a UNet2DModel
    from_pretrained: Callable[..., UNetLike] = diffusers.UNet2DModel.from_pretrained
    try:
        unet = from_pretrained(unet_dir, local_files_only=True)
    except Exception as exc:
        raise ModelError(
            f"--model diffusers:{path}: UNet weights in {unet_dir} cannot be loaded "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        ) from None
    ab = np.asarray(
        table.double().cpu().numpy() if hasattr(table, "double") else table, dtype=np.float64
    )
    return DiffusersUNetModel(
        unet,
        ab,
        DIFFUSERS_PREDICTIONS[pred],
        dtype=dtype,
        data=data,
        name=f"diffusers UNet2DModel ({pred}) {root.name}",
    )
