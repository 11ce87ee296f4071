r"""Model specs for ``--model`` (conventions.md, "Model specs"): build a :class:`ScoreModel` by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._base import ModelError, ScoreModel

__all__ = ["MODEL_SPECS", "load_model"]

MODEL_SPECS: tuple[str, ...] = ("gaussian", "two-point", "gm", "empirical-digits", "empirical-patches",
                                "digits", "patches")


def load_model(spec: str, *, c: float | None = None, dim: int | None = None, eigenvalues: Any = None,
               p: float | None = None, m: float | None = None, mode_sigma: float | None = None) -> ScoreModel:
    r"""Build the model named by ``spec``.

    ``gaussian``: :math:`\mathcal N(0,c^2I_d)` (``c``, ``dim`` default 1) or :math:`\mathcal N(0,\mathrm{diag}\,\lambda)`
    (``eigenvalues``); ``two-point``: ½δ₋₁+½δ₊₁; ``gm``: high_dim.md §3.1 (``p, m, mode_sigma, dim``,
    defaults 0.8, 1, 0.5, 1); ``empirical-digits`` / ``empirical-patches``: the exact denoiser of the
    shipped dataset (the memorising optimum); ``digits`` / ``patches``: the EDM denoisers trained by
    :mod:`symsched.train` and shipped in ``symsched/data``; ``diffusers:DIR``: a diffusers
    ``UNet2DModel`` with its scheduler config in a local directory (:func:`.adapters.load_diffusers`);
    a path: a local directory holding one symsched checkpoint. Missing, corrupt or wrong-kind checkpoints raise :class:`ModelError` naming the cause.
    """
    from . import analytic

    if not isinstance(spec, str) or not spec:
        raise ModelError(f"--model must be a model spec ({', '.join(MODEL_SPECS)}, diffusers:DIR or a directory), "
                         f"got {spec!r}")
    used = {"c": c, "dim": dim, "eigenvalues": eigenvalues, "p": p, "m": m, "mode_sigma": mode_sigma}
    allowed = {"gaussian": {"c", "dim", "eigenvalues"}, "two-point": set(), "gm": {"p", "m", "mode_sigma", "dim"}}
    if spec in allowed:
        extra = sorted(k for k, v in used.items() if v is not None and k not in allowed[spec])
        if extra:
            raise ModelError(f"--model {spec} does not take {', '.join('--' + e.replace('_', '-') for e in extra)}")
    if spec == "gaussian":
        if eigenvalues is not None:
            if c is not None or dim is not None:
                raise ModelError("--model gaussian takes either --c C --dim D or --eigenvalues, not both")
            return analytic.GaussianModel(eigenvalues)
        if c is None:
            raise ModelError("--model gaussian needs --c C (with --dim D, default 1) or --eigenvalues L")
        return analytic.GaussianModel.isotropic(c, 1 if dim is None else dim)
    if spec == "two-point":
        return analytic.two_point()
    if spec == "gm":
        return analytic.symmetric_gm(0.8 if p is None else p, 1.0 if m is None else m,
                                     0.5 if mode_sigma is None else mode_sigma, 1 if dim is None else dim)
    if any(v is not None for v in used.values()):
        raise ModelError(f"--model {spec} takes no model options")
    if spec in ("empirical-digits", "empirical-patches"):
        from ..datasets import load

        return analytic.EmpiricalModel(load(spec.split("-", 1)[1]), name=spec)
    if spec.startswith("diffusers:"):
        from .adapters import load_diffusers

        target = spec[len("diffusers:"):]
        if not target:
            raise ModelError("--model diffusers:DIR needs a directory after 'diffusers:'")
        return load_diffusers(target)
    if spec in ("digits", "patches"):
        from .trained import load_trained

        return load_trained(spec)
    if Path(spec).is_dir():
        from .trained import load_trained

        ckpts = sorted(Path(spec).glob("*.pt"))
        if len(ckpts) != 1:
            raise ModelError(f"--model {spec}: a model directory must hold exactly one .pt checkpoint "
                             f"(symsched-edm-mlp-v1, from symsched.train), found {len(ckpts)}")
        return load_trained(ckpts[0].stem, ckpts[0])
    raise ModelError(f"--model must be one of {', '.join(MODEL_SPECS)}, diffusers:DIR or an existing directory, "
                     f"got {spec!r}")
