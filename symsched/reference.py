r"""Reference schedules for real model families, exported to their consumers.

For each model family, every N of :data:`REFERENCE_STEPS` and every method that applies, the
reference set holds the grid, its exports for that family's consumers and its exact KL on the
family's Gaussian proxy. Each proxy is a named spectrum (:class:`ProxySpectrum`), computed by
:func:`symsched.spectrum.photographs_spectrum`: the ring-averaged Fourier (stationary) estimate
of ``R x R x 3`` RGB patches of scikit-learn's two sample photographs in the [-1, 1] pixel scale
(docs/theory/gaussian.md#spectra-of-data), at the resolution of the family's model input and
rescaled to its data scale (docs/theory/gaussian.md#data-scale). The proxies (stated in every
record):

* ``edm`` (sigma in [0.002, 80]): photographs at 32 x 32 x 3 (EDM's CIFAR-10 setting), rescaled to
  mean eigenvalue 0.25, so that the RMS data std is EDM's sigma_data = 0.5 [karras2022, §5].
* ``sd15`` (sigma in [0.0292, 14.6146], the scaled_linear training table): photographs at
  64 x 64 x 3, the latent grid of a 512 px image, rescaled to mean eigenvalue 1 (latents are scaled
  to unit variance by the VAE factor) [rombach2022].
* ``sdxl`` (same range): photographs at 128 x 128 x 3, the latent grid of a 1024 px image, mean
  eigenvalue 1 [podell2023].
* ``ddpm`` (linear beta 1e-4..0.02, 1000 steps; sigma in [0.0100, 157.4]): photographs at
  32 x 32 x 3 as they are, in the [-1, 1] pixel scale DDPM is trained in on CIFAR-10 [ho2020].
* ``flow`` (rectified flow, x_t = (1-t) x0 + t eps, from pure noise t = 1 to data t = 0): the same
  proxy as ``sdxl``, stated as shared: photographs at 128 x 128 x 3, the latent grid of SD3 / Flux
  at 1024 px, mean eigenvalue 1 [esser2024].

The latent families' proxies are **pixel-space** spectra on the latent grid: they have the latent's
spatial size and scale, but a VAE latent has 4 (SD 1.5, SDXL) or 16 (SD3, Flux) channels and its
own, flatter spectrum, so their KLs illustrate a natural-image-like spectrum at that size; they do
not predict the real latent's. For that, save encoded latents ``(n, H, W, C)`` as ``.npy`` and run
``symsched spectrum --npy latents.npy`` (docs/cli.md#spectrum). No two families share a proxy
without saying so (:attr:`ModelFamily.shares_proxy_with`).

Methods: ``tangent`` (c = gamma* of the proxy), ``kl-optimal-c1`` (tangent with c = 1: ComfyUI's
``kl_optimal``), ``karras`` (rho = 7), ``loglinear``, ``vp-linear`` (ddpm only: uniform in
diffusion time), ``ays`` (sd15/sdxl), ``flow-uniform`` (flow only: uniform flow time, the default of
``FlowMatchEulerDiscreteScheduler``), and every other registered method that takes a spectrum
(``variational``, ``kl-optimal``; score-model methods such as ``stein`` get the Gaussian proxy as
their model when ``score_models`` is set, as they take seconds per grid); a method that does not
apply is listed with the reason. The KL is that of DDIM (docs/conventions.md#reference-schedules).

References
----------
.. [karras2022] arXiv:2206.00364, §5 (sigma_data = 0.5, the CIFAR-10 32 x 32 setting).
.. [rombach2022] R. Rombach et al., "High-Resolution Image Synthesis with Latent Diffusion
   Models", CVPR 2022, arXiv:2112.10752 (the f = 8 autoencoder, the unit-variance latent scale).
.. [podell2023] D. Podell et al., "SDXL: Improving Latent Diffusion Models for High-Resolution
   Image Synthesis", arXiv:2307.01952 (1024 px images, 128 x 128 latents).
.. [ho2020] arXiv:2006.11239 (the [-1, 1] pixel scale, CIFAR-10 32 x 32).
.. [esser2024] P. Esser et al., "Scaling Rectified Flow Transformers for High-Resolution Image
   Synthesis", ICML 2024, arXiv:2403.03206 (SD3: rectified flow on 16-channel f = 8 latents).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, fields

import numpy as np

from symsched._typing import FloatArray, JSONValue
from symsched.export import Exported, export, flow_levels
from symsched.gaussian import exact
from symsched.schedules import METHODS, Schedule, build
from symsched.schedules.discrete import training_table
from symsched.spectrum import photographs_spectrum, rescale_mean

__all__ = [
    "MODELS",
    "REFERENCE_STEPS",
    "ModelFamily",
    "ProxySpectrum",
    "proxy_spectrum",
    "reference_set",
]

REFERENCE_STEPS: tuple[int, ...] = (4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50)
"""The step counts of the reference set."""


@dataclass(frozen=True)
class ProxySpectrum:
    """A named Gaussian proxy: the photographs' spectrum at one resolution and data scale.

    The ring-averaged Fourier estimate of ``R x R x 3`` patches of the two sample photographs
    (:func:`symsched.spectrum.photographs_spectrum` with ``method="fourier", radial=True``: its
    equal eigenvalues make the optimisers' cost that of ~0.7 R distinct values per channel),
    rescaled to a mean eigenvalue or left in the [-1, 1] pixel scale.

    Attributes
    ----------
    resolution
        The patch side R.
    mean_eigenvalue
        The mean eigenvalue it is rescaled to (``None``: the [-1, 1] pixel scale, as is).
    """

    resolution: int
    mean_eigenvalue: float | None

    @property
    def name(self) -> str:
        """E.g. ``photographs-32x32x3-mean0.25`` or ``photographs-32x32x3-pixel-scale``."""
        r = self.resolution
        scale = "pixel-scale" if self.mean_eigenvalue is None else f"mean{self.mean_eigenvalue:g}"
        return f"photographs-{r}x{r}x3-{scale}"

    @property
    def dimension(self) -> int:
        """d = 3 R^2."""
        return 3 * self.resolution**2

    def eigenvalues(self) -> FloatArray:
        """The proxy's eigenvalues, descending (a copy; computed once per process).

        Returns
        -------
        FloatArray
            ``3 R^2`` eigenvalues.
        """
        return _proxy_eigenvalues(self).copy()


@functools.cache
def _proxy_eigenvalues(p: ProxySpectrum) -> FloatArray:
    lam = photographs_spectrum(p.resolution, "fourier", radial=True).eigenvalues
    out = lam.copy() if p.mean_eigenvalue is None else rescale_mean(lam, p.mean_eigenvalue)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class ModelFamily:
    """A model family: its noise range, Gaussian proxy and the exports its consumers take.

    Attributes
    ----------
    name
        The family (``edm``, ``sd15``, ``sdxl``, ``ddpm``, ``flow``).
    sigma_min, sigma_max
        Its noise range.
    spectrum
        Its Gaussian proxy, a named spectrum.
    proxy
        What the proxy is, in words (stated in every record).
    exports
        ``(format, options)`` of the exporters its consumers take.
    shares_proxy_with
        The family whose proxy this one reuses, stated (``None``: its own).
    """

    name: str
    sigma_min: float
    sigma_max: float
    spectrum: ProxySpectrum
    proxy: str
    exports: tuple[tuple[str, dict[str, object]], ...]
    shares_proxy_with: str | None = None


_DDPM_TABLE = training_table("linear")
_SD_EXPORTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("diffusers-euler", {}),
    ("comfyui", {}),
    ("diffusers-timesteps", {"train_schedule": "scaled_linear"}),
)
_FOURIER = "photographs spectrum (ring-averaged Fourier estimate of RGB patches, [-1, 1] pixels)"
_LATENT = (
    "rescaled to mean eigenvalue 1 (unit-variance latents); a pixel-space spectrum on the latent "
    "grid, not the spectrum of the VAE latent itself"
)
MODELS: tuple[ModelFamily, ...] = (
    ModelFamily(
        "edm",
        0.002,
        80.0,
        ProxySpectrum(32, 0.25),
        f"{_FOURIER} at 32x32x3 (EDM's CIFAR-10 setting), rescaled to mean eigenvalue 0.25 "
        "(sigma_data = 0.5)",
        (("k-diffusion", {}),),
    ),
    ModelFamily(
        "sd15",
        0.0292,
        14.6146,
        ProxySpectrum(64, 1.0),
        f"{_FOURIER} at 64x64x3 (the latent grid of a 512px image), {_LATENT}",
        _SD_EXPORTS,
    ),
    ModelFamily(
        "sdxl",
        0.0292,
        14.6146,
        ProxySpectrum(128, 1.0),
        f"{_FOURIER} at 128x128x3 (the latent grid of a 1024px image), {_LATENT}",
        _SD_EXPORTS,
    ),
    ModelFamily(
        "ddpm",
        float(_DDPM_TABLE.sigmas[0]),
        float(_DDPM_TABLE.sigmas[-1]),
        ProxySpectrum(32, None),
        f"{_FOURIER} at 32x32x3 in the [-1, 1] pixel scale (CIFAR-10 resolution and scale)",
        (("diffusers-timesteps", {"train_schedule": "linear"}), ("diffusers-euler", {})),
    ),
    ModelFamily(
        "flow",
        0.0,
        math.inf,
        ProxySpectrum(128, 1.0),
        f"the same proxy as sdxl: {_FOURIER} at 128x128x3 (the SD3/Flux latent grid at 1024px), "
        f"{_LATENT}",
        (("flow-matching", {"shift": 1.0}), ("flow-matching", {"shift": 3.0})),
        shares_proxy_with="sdxl",
    ),
)
"""The model families of the reference set."""

_BASELINES = frozenset({"tangent", "karras", "loglinear", "vp-linear", "cosine", "ays"})


def proxy_spectrum(m: ModelFamily) -> FloatArray:
    """The Gaussian proxy of model family ``m``: its named spectrum's eigenvalues.

    Parameters
    ----------
    m
        A model family of the reference set.

    Returns
    -------
    FloatArray
        :meth:`ProxySpectrum.eigenvalues` of ``m.spectrum`` (a copy, descending): the
        photographs' spectrum at the family's resolution and data scale
        (docs/theory/gaussian.md#data-scale).
    """
    return m.spectrum.eigenvalues()


def _methods(
    m: ModelFamily, lam: FloatArray, n: int, score_models: bool, exact_spectrum: bool = False
) -> list[tuple[str, Schedule | str]]:
    """(label, schedule or the reason it does not apply) for model ``m`` at ``n`` steps
    (``exact_spectrum``: the methods that optimise over a spectrum search the full one)."""
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
        if name == "flow":  # the shifted uniform flow-time grid: from pure noise to 0 only
            if finite or m.sigma_min > 0:
                out.append((name, "the shifted flow-time grid runs from pure noise to 0"))
                continue
            kw = {"eigenvalues": lam}  # --shift auto: the certified optimum for flow Euler
        if exact_spectrum and "exact_spectrum" in {f.name for f in fields(method.options)}:
            kw["exact_spectrum"] = True
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


def _export_all(m: ModelFamily, sch: Schedule) -> list[tuple[str, Exported | str]]:
    """Each of the family's exports of ``sch``, once: ``(key, export or the refusal)``."""
    out: list[tuple[str, Exported | str]] = []
    for fmt, opts in m.exports:
        key = fmt + (f" (shift={opts['shift']:g})" if "shift" in opts else "")
        try:
            out.append((key, export(sch, fmt, **opts)))
        except ValueError as exc:
            out.append((key, str(exc)))
    return out


def _exports_json(done: list[tuple[str, Exported | str]]) -> dict[str, JSONValue]:
    return {
        key: {"error": ex}
        if isinstance(ex, str)
        else {"value": json.loads(ex.text), "note": ex.note}
        for key, ex in done
    }


def _exports(m: ModelFamily, sch: Schedule) -> dict[str, JSONValue]:
    return _exports_json(_export_all(m, sch))


def _consumer(done: list[tuple[str, Exported | str]], lam: FloatArray) -> JSONValue:
    """The grid the family's consumers run for a schedule (its exports' levels: with
    sigma_min > 0, the method's (N-1)-step grid and the step to 0,
    docs/conventions.md#steps-and-the-final-0) and its exact DDIM KLs and coupling error."""
    from symsched.gaussian.coupling import coupling_error

    for _, ex in done:
        if isinstance(ex, str) or ex.levels is None:
            continue
        k = exact.kl(lam, ex.levels)
        return {
            "levels": [float(v) for v in ex.levels],
            "kl_source_output": k.kl_source_output,
            "kl_output_source": k.kl_output_source,
            "coupling": coupling_error(lam, ex.levels),
        }
    return None


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
        KLs of the N-step grid, the exports, and ``consumer``: the levels the exports visit with
        their exact DDIM KLs and coupling error) and ``{"skipped": {model/label: reason}}``.
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
                done = _export_all(m, sch)
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
                        "exports": _exports_json(done),
                        "consumer": _consumer(done, lam),
                    }
                )
    return records, {"skipped": skipped}
