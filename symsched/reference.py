r"""Reference schedules for real model families, exported to their consumers.

For each model family, every N of :data:`REFERENCE_STEPS` and every method that applies, the
reference set holds the grid, its exports for that family's consumers and its exact KL on the
family's Gaussian proxy. The proxies (stated in every record):

* ``edm`` (sigma in [0.002, 80], sigma_data = 0.5): the digits spectrum rescaled to mean eigenvalue
  0.25, so that the RMS data std is EDM's sigma_data = 0.5 [karras2022, §5].
* ``sd15`` / ``sdxl`` (sigma in [0.0292, 14.6146], the scaled_linear training table): the digits
  spectrum rescaled to mean eigenvalue 1 (latents are scaled to unit variance by the VAE factor).
* ``ddpm`` (linear beta 1e-4..0.02, 1000 steps; sigma in [0.0100, 157.4]): the digits spectrum in
  its [-1, 1] scale, the pixel scale DDPM is trained in [ho2020].
* ``flow`` (rectified flow, x_t = (1-t) x0 + t eps, from pure noise t = 1 to data t = 0): the digits
  spectrum rescaled to mean eigenvalue 1 (latent flow models such as SD3, shift = 3).

Methods: ``tangent`` (c = gamma* of the proxy), ``kl-optimal-c1`` (tangent with c = 1: ComfyUI's
``kl_optimal``), ``karras`` (rho = 7), ``loglinear``, ``vp-linear`` (ddpm only: uniform in
diffusion time), ``ays`` (sd15/sdxl), ``flow-uniform`` (flow only: uniform flow time, the default of
``FlowMatchEulerDiscreteScheduler``), and every other registered method that takes a spectrum
(``variational``, ``kl-optimal``; score-model methods such as ``stein`` get the Gaussian proxy as
their model when ``score_models`` is set, as they take seconds per grid); a method that does not
apply is listed with the reason. The KL is that of DDIM (docs/conventions.md#reference-schedules).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from symsched._typing import FloatArray, JSONValue
from symsched.datasets import dataset_spectrum
from symsched.export import export, flow_levels
from symsched.gaussian import exact
from symsched.schedules import METHODS, Schedule, build
from symsched.schedules.discrete import training_table

__all__ = ["MODELS", "REFERENCE_STEPS", "ModelFamily", "proxy_spectrum", "reference_set"]

REFERENCE_STEPS: tuple[int, ...] = (4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50)
"""The step counts of the reference set."""


@dataclass(frozen=True)
class ModelFamily:
    """A model family: its noise range, Gaussian proxy and the exports its consumers take.

    Attributes
    ----------
    name
        The family (``edm``, ``sd15``, ``sdxl``, ``ddpm``, ``flow``).
    sigma_min, sigma_max
        Its noise range.
    mean_eigenvalue
        The mean eigenvalue the digits spectrum is rescaled to (``None``: as is).
    proxy
        A description of the Gaussian proxy.
    exports
        ``(format, options)`` of the exporters its consumers take.
    """

    name: str
    sigma_min: float
    sigma_max: float
    mean_eigenvalue: float | None  # rescale the digits spectrum to this mean (None: as is)
    proxy: str
    exports: tuple[tuple[str, dict[str, object]], ...]


_DDPM_TABLE = training_table("linear")
_SD_EXPORTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("diffusers-euler", {}),
    ("comfyui", {}),
    ("diffusers-timesteps", {"train_schedule": "scaled_linear"}),
)
_UNIT_LATENTS = "digits spectrum rescaled to mean eigenvalue 1 (unit-variance latents)"
MODELS: tuple[ModelFamily, ...] = (
    ModelFamily(
        "edm",
        0.002,
        80.0,
        0.25,
        "digits spectrum rescaled to mean eigenvalue 0.25 (sigma_data = 0.5)",
        (("k-diffusion", {}),),
    ),
    ModelFamily("sd15", 0.0292, 14.6146, 1.0, _UNIT_LATENTS, _SD_EXPORTS),
    ModelFamily("sdxl", 0.0292, 14.6146, 1.0, _UNIT_LATENTS, _SD_EXPORTS),
    ModelFamily(
        "ddpm",
        float(_DDPM_TABLE.sigmas[0]),
        float(_DDPM_TABLE.sigmas[-1]),
        None,
        "digits spectrum, [-1, 1] pixel scale",
        (("diffusers-timesteps", {"train_schedule": "linear"}), ("diffusers-euler", {})),
    ),
    ModelFamily(
        "flow",
        0.0,
        math.inf,
        1.0,
        _UNIT_LATENTS,
        (("flow-matching", {"shift": 1.0}), ("flow-matching", {"shift": 3.0})),
    ),
)
"""The model families of the reference set."""

_BASELINES = frozenset({"tangent", "karras", "loglinear", "vp-linear", "cosine", "ays"})


def proxy_spectrum(m: ModelFamily) -> FloatArray:
    """The Gaussian proxy of model family ``m``: the digits spectrum at the family's scale.

    Parameters
    ----------
    m
        A model family of the reference set.

    Returns
    -------
    FloatArray
        The dequantised digits spectrum, rescaled to the family's mean eigenvalue when it has one
        (docs/theory/gaussian.md#data-scale).
    """
    lam = dataset_spectrum("digits")
    return lam if m.mean_eigenvalue is None else lam * (m.mean_eigenvalue / lam.mean())


def _methods(
    m: ModelFamily, lam: FloatArray, n: int, score_models: bool
) -> list[tuple[str, Schedule | str]]:
    """(label, schedule or the reason it does not apply) for model ``m`` at ``n`` steps."""
    rng: dict[str, object] = {"sigma_min": m.sigma_min, "sigma_max": m.sigma_max}
    out: list[tuple[str, Schedule | str]] = [
        ("tangent", build("tangent", n, eigenvalues=lam, **rng)),
        ("kl-optimal-c1", build("tangent", n, c=1.0, **rng)),
    ]
    finite = math.isfinite(m.sigma_max) and m.sigma_min > 0
    why = "needs 0 < sigma_min and a finite sigma_max (the flow model runs from pure noise to 0)"
    out.append(("karras", build("karras", n, rho=7.0, **rng) if finite else why))
    out.append(("loglinear", build("loglinear", n, **rng) if finite else why))
    if m.name == "ddpm":
        out.append(("vp-linear", build("vp-linear", n, beta_min=0.1, beta_max=20.0, **rng)))
    if m.name in ("sd15", "sdxl"):
        out.append(("ays", build("ays", n, model=m.name)))
    if m.name == "flow":
        t = np.linspace(1.0, 0.0, n + 1)
        params = {"flow_time": "t = linspace(1, 0, N+1)", "sigma_min": 0.0, "sigma_max": math.inf}
        out.append(("flow-uniform", Schedule("flow-uniform", flow_levels(t), params)))
    for name in sorted(set(METHODS) - _BASELINES):
        method = METHODS[name]
        if not method.takes_spectrum:
            out.append((name, "takes no Gaussian spectrum (needs a model spec)"))
            continue
        kw: dict[str, object] = {"eigenvalues": lam, **rng}
        if method.needs_model:  # score-model methods (stein): the Gaussian proxy as the model
            if not score_models:
                reason = "score-model optimiser (seconds per grid): computed under --full only"
                out.append((name, reason))
                continue
            kw["model"] = "gaussian"
        try:
            out.append((name, build(name, n, **kw)))
        except ValueError as exc:
            out.append((name, f"not applicable: {exc}"))
    return out


def _exports(m: ModelFamily, sch: Schedule) -> dict[str, JSONValue]:
    res: dict[str, JSONValue] = {}
    for fmt, opts in m.exports:
        key = fmt + (f" (shift={opts['shift']:g})" if "shift" in opts else "")
        try:
            ex = export(sch, fmt, **opts)
            res[key] = {"value": json.loads(ex.text), "note": ex.note}
        except ValueError as exc:
            res[key] = {"error": str(exc)}
    return res


def reference_set(
    *, score_models: bool = False
) -> tuple[list[dict[str, JSONValue]], dict[str, JSONValue]]:
    """Build every reference schedule.

    Parameters
    ----------
    score_models
        Also build the score-model methods (``stein``) on the Gaussian proxy (seconds per grid).

    Returns
    -------
    (records, details)
        One record per schedule (name, model, label, the schedule object, the proxy, both exact
        KLs, the exports) and ``{"skipped": {model/label: reason}}``.
    """
    records: list[dict[str, JSONValue]] = []
    skipped: dict[str, JSONValue] = {}
    for m in MODELS:
        lam = proxy_spectrum(m)
        for n in REFERENCE_STEPS:
            for label, sch in _methods(m, lam, n, score_models):
                if isinstance(sch, str):
                    skipped[f"{m.name}/{label}"] = sch
                    continue
                k = exact.kl(lam, sch.sigmas)
                records.append(
                    {
                        "name": f"{m.name}-{label}-N{n}",
                        "model": m.name,
                        "label": label,
                        "schedule": sch.to_json(),
                        "proxy": m.proxy,
                        "proxy_dimension": int(lam.size),
                        "kl_source_output": k.kl_source_output,
                        "kl_output_source": k.kl_output_source,
                        "exports": _exports(m, sch),
                    }
                )
    return records, {"skipped": skipped}
