r"""Model specs for ``--model`` (docs/cli.md#model-specs): a :class:`ScoreModel` by name."""

from __future__ import annotations

from pathlib import Path

from symsched._typing import FloatArray, RowsLike, SpectrumLike
from symsched.models._base import ModelError, ScoreModel

__all__ = ["MODEL_SPECS", "load_data_rows", "load_model"]

MODEL_SPECS: tuple[str, ...] = (
    "gaussian",
    "two-point",
    "gm",
    "empirical-digits",
    "empirical-patches",
    "digits",
    "patches",
)


def load_data_rows(data: str | Path | RowsLike) -> FloatArray:
    """Training rows for ``--data``: an array, or a ``.npy`` / ``.pt`` file of shape ``(n, ...)``.

    Trailing axes are flattened (images ``(n, C, H, W)`` become rows of ``C*H*W``); the model
    checks the row length against its dimension. ``.pt`` files are read with
    ``weights_only=True``.

    Parameters
    ----------
    data
        A path to a ``.npy`` or ``.pt`` file, or the rows themselves (numpy or torch).

    Returns
    -------
    FloatArray
        ``(n, prod(...))`` float64 rows, ``n >= 2``.

    Raises
    ------
    ModelError
        Missing or unreadable file, unknown suffix, a file that holds no tensor, or fewer than 2
        rows.
    """
    import numpy as np

    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise ModelError(
                f"--data {path}: no such file (give a .npy or .pt array of training rows)"
            )
        if path.suffix == ".npy":
            try:
                arr = np.load(path, allow_pickle=False)
            except ValueError as exc:
                raise ModelError(f"--data {path}: not a plain .npy array ({exc})") from None
        elif path.suffix == ".pt":
            import torch

            try:
                obj = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as exc:
                raise ModelError(
                    f"--data {path}: not a torch tensor file ({type(exc).__name__})"
                ) from None
            if not hasattr(obj, "detach"):
                raise ModelError(
                    f"--data {path}: the file holds a {type(obj).__name__}, not a tensor"
                )
            arr = obj.detach().cpu().numpy()
        else:
            raise ModelError(
                f"--data {path}: unknown file type {path.suffix!r}; save the rows with "
                "numpy.save (.npy) or torch.save (.pt)"
            )
    else:
        arr = np.asarray(data.detach().cpu().numpy() if hasattr(data, "detach") else data)
    if arr.ndim < 2 or arr.shape[0] < 2:
        raise ModelError(
            f"--data must hold at least 2 rows of shape (n, ...), got shape {arr.shape}"
        )
    rows: FloatArray = arr.reshape(arr.shape[0], -1).astype(np.float64)
    return rows


def load_model(
    spec: str,
    *,
    c: float | None = None,
    dim: int | None = None,
    eigenvalues: SpectrumLike | None = None,
    p: float | None = None,
    m: float | None = None,
    mode_sigma: float | None = None,
    data: str | Path | RowsLike | None = None,
) -> ScoreModel:
    r"""Build the model named by ``spec``.

    ``gaussian``: :math:`\mathcal N(0,c^2I_d)` (``c``, ``dim`` default 1) or
    :math:`\mathcal N(0,\mathrm{diag}\,\lambda)` (``eigenvalues``); ``two-point``: ½δ₋₁+½δ₊₁;
    ``gm``: the mixture of [aranguri2025, §3] (docs/theory/highdim.md#gaussian-mixture; ``p, m,
    mode_sigma, dim``, defaults 0.8, 1, 0.5, 1);
    ``empirical-digits`` / ``empirical-patches``: the exact denoiser of the shipped dataset (the
    memorising optimum); ``digits`` / ``patches``: the EDM denoisers trained by
    :mod:`symsched.train` and shipped in ``symsched/data``; ``diffusers:DIR``: a diffusers
    ``UNet2DModel`` with its scheduler config in a local directory
    (:func:`.adapters.load_diffusers`); a path: a local directory holding one symsched checkpoint.

    Parameters
    ----------
    spec
        The model spec (see above).
    c, dim, eigenvalues
        Options of ``gaussian`` (``dim`` also of ``gm``).
    p, m, mode_sigma
        Options of ``gm``.
    data
        ``--data FILE`` (see :func:`load_data_rows`): rows of the training set for a
        ``diffusers:DIR`` model, which carries none; the Monte Carlo and JVP Stein estimators noise
        them (docs/theory/stein.md#monte-carlo). The other models know their data and refuse it.

    Returns
    -------
    ScoreModel

    Raises
    ------
    ModelError
        Unknown spec, options the spec does not take, or a missing, corrupt or wrong-kind
        checkpoint (the message names the cause).
    """
    from symsched.models import analytic

    if not isinstance(spec, str) or not spec:
        raise ModelError(
            f"--model must be a model spec ({', '.join(MODEL_SPECS)}, diffusers:DIR or a "
            f"directory), got {spec!r}"
        )
    used: dict[str, object] = {
        "c": c,
        "dim": dim,
        "eigenvalues": eigenvalues,
        "p": p,
        "m": m,
        "mode_sigma": mode_sigma,
    }
    allowed: dict[str, set[str]] = {
        "gaussian": {"c", "dim", "eigenvalues"},
        "two-point": set(),
        "gm": {"p", "m", "mode_sigma", "dim"},
    }
    if spec in allowed:
        extra = sorted(k for k, v in used.items() if v is not None and k not in allowed[spec])
        if extra:
            raise ModelError(
                f"--model {spec} does not take "
                f"{', '.join('--' + e.replace('_', '-') for e in extra)}"
            )
    if spec == "gaussian":
        if eigenvalues is not None:
            if c is not None or dim is not None:
                raise ModelError(
                    "--model gaussian takes either --c C --dim D or --eigenvalues, not both"
                )
            return analytic.GaussianModel(eigenvalues)
        if c is None:
            raise ModelError(
                "--model gaussian needs --c C (with --dim D, default 1) or --eigenvalues L"
            )
        return analytic.GaussianModel.isotropic(c, 1 if dim is None else dim)
    if spec == "two-point":
        return analytic.two_point()
    if spec == "gm":
        return analytic.symmetric_gm(
            0.8 if p is None else p,
            1.0 if m is None else m,
            0.5 if mode_sigma is None else mode_sigma,
            1 if dim is None else dim,
        )
    if data is not None and not spec.startswith("diffusers:"):
        raise ModelError(
            f"--model {spec} knows its own data; --data applies to diffusers:DIR models only"
        )
    if any(v is not None for v in used.values()):
        raise ModelError(f"--model {spec} takes no model options")
    if spec in ("empirical-digits", "empirical-patches"):
        from symsched.datasets import load

        return analytic.EmpiricalModel(load(spec.split("-", 1)[1]), name=spec)
    if spec.startswith("diffusers:"):
        from symsched.models.adapters import load_diffusers

        target = spec[len("diffusers:") :]
        if not target:
            raise ModelError("--model diffusers:DIR needs a directory after 'diffusers:'")
        return load_diffusers(target, data=None if data is None else load_data_rows(data))
    if spec in ("digits", "patches"):
        from symsched.models.trained import load_trained

        return load_trained(spec)
    if Path(spec).is_dir():
        from symsched.models.trained import load_trained

        ckpts = sorted(Path(spec).glob("*.pt"))
        if len(ckpts) != 1:
            raise ModelError(
                f"--model {spec}: a model directory must hold exactly one .pt checkpoint "
                f"(symsched-edm-mlp-v1, from symsched.train), found {len(ckpts)}"
            )
        return load_trained(ckpts[0].stem, ckpts[0])
    raise ModelError(
        f"--model must be one of {', '.join(MODEL_SPECS)}, diffusers:DIR or an existing "
        f"directory, got {spec!r}"
    )
