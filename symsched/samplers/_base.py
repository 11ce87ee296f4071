r"""The sampler protocol and registry.

On a Gaussian source with the exact (Tweedie) denoiser every sampler below is linear in the state
along each covariance eigen-direction, so its output variance follows an exact scalar recursion
and the KL to the source is exact [sun2026, §3] (docs/theory/samplers.md). One module per sampler
subclasses :class:`Sampler` and registers an instance with :func:`register_sampler`; every list of
sampler names (command-line choices, sweeps, ranking, claims, particle oracles) is read from
:data:`SAMPLERS`.

A sampler declares:

* ``name``, ``summary``, ``reference`` (paper and algorithm);
* ``order`` — the global order p of its error: :math:`\ln r_i=O(N^{-p})`, KL :math:`=O(N^{-2p})`
  (``None`` for the exact flow, which has no discretisation error);
* ``nfe_per_step`` — denoiser evaluations per step (its :meth:`Sampler.nfe` counts a grid);
* ``knobs`` — a frozen dataclass of its typed knobs (``ancestral``: ``eta``);
* ``pure_noise_start`` — whether it accepts :math:`\sigma_0=\infty`;
* its two paths: :meth:`Sampler.log_variance_ratios` (float64, cancellation-free) and
  :meth:`Sampler.variance_ratio_mp` (the direct recursion in mpmath, the 40-digit reference).
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from symsched import _compiled, numeric
from symsched._options import make_options
from symsched._typing import ArrayBackend, Device, FloatArray, Start, TorchDType
from symsched.samplers import _stable
from symsched.samplers._linear import LinearMapForm

if TYPE_CHECKING:
    import mpmath
    import sympy as sp


__all__ = [
    "SAMPLERS",
    "NoKnobs",
    "Sampler",
    "get_sampler",
    "prior_start_log_ratio_stable",
    "register_sampler",
    "sampler_names",
    "start_log_ratio",
    "start_variance_mp",
]


@dataclass(frozen=True)
class NoKnobs:
    """The knobs of a sampler that has none."""


class Sampler(ABC):
    """A sampler whose exact output law on a Gaussian source is known in closed form."""

    name: ClassVar[str]
    summary: ClassVar[str]
    reference: ClassVar[str]
    order: ClassVar[int | None]
    nfe_per_step: ClassVar[int] = 1
    knobs: ClassVar[type[Any]] = NoKnobs
    pure_noise_start: ClassVar[bool] = True
    oracle_only: ClassVar[bool] = False
    """True for the exact flow: a zero-KL reference, not a sampler anyone runs."""
    stochastic: ClassVar[bool] = False
    """True if the sampler adds fresh noise (its output is not a linear map of its input)."""
    multistep: ClassVar[bool] = False
    """True if each step also uses the previous step's denoiser output: its linear map has a
    history term (:attr:`LinearMapForm.history`), stated here so that a size guard can tell
    without deriving the map."""

    def linear_map_form(self) -> LinearMapForm:
        r"""The sampler's per-step linear map on one eigen-direction (docs/theory/coupling.md).

        Derived from the sampler's update on the exact denoiser; :func:`symsched.samplers._linear.
        propagate` runs it to give :math:`G_i` and the coupling error
        (:func:`symsched.gaussian.coupling.coupling_error`).
        """
        raise NotImplementedError(f"sampler {self.name} states no linear map")

    def knob_values(self, knobs: Any) -> tuple[float, ...]:
        """The knob values in the order of :attr:`LinearMapForm.knob_symbols` (none by default)."""
        return ()

    def make_knobs(self, **values: object) -> Any:
        """The knobs dataclass from keywords; an unknown keyword is a ``ValueError``."""
        return make_options(self.knobs, values, owner=f"sampler {self.name}")

    def check_grid(self, sigmas: FloatArray) -> None:
        """Refuse a grid the sampler cannot start from (``ValueError`` with the fix)."""
        if math.isinf(sigmas[0]) and not self.pure_noise_start:
            raise ValueError(
                f"{self.name} needs a finite sigma_0 (sigma_max): from pure noise its first step "
                "diverges; start the grid at a finite level"
            )

    def memory_estimate(self, dimension: int, steps: int) -> tuple[float, str]:
        """Bytes the float64 path allocates at most, and what drives it (``eigenvalues`` or
        ``steps``): ~16 d-vectors and ~8 copies of the grid (the per-step work is on d-vectors;
        DDIM tiles its (steps x d) work in bounded blocks)."""
        by_d, by_n = 8.0 * 16 * dimension, 8.0 * 8 * (steps + 1)
        return by_d + by_n, "eigenvalues" if by_d > by_n else "steps"

    def nfe(self, sigmas: FloatArray) -> int:
        """Denoiser evaluations to run the grid (``nfe_per_step`` per step by default)."""
        return self.nfe_per_step * int(sigmas.size - 1)

    @abstractmethod
    def log_variance_ratios_numpy(
        self, eigenvalues: FloatArray, sigmas: FloatArray, start: Start, knobs: Any
    ) -> FloatArray:
        r"""Exact :math:`\ln r_i` in float64 (validated inputs)."""

    def log_variance_ratios(
        self,
        eigenvalues: FloatArray,
        sigmas: FloatArray,
        start: Start,
        knobs: Any,
        *,
        backend: ArrayBackend = "numpy",
        dtype: TorchDType | None = None,
        device: Device = None,
    ) -> Any:
        r"""Exact :math:`\ln r_i` on ``backend`` (numpy computes, torch receives a copy)."""
        self.check_grid(sigmas)
        out = self.log_variance_ratios_numpy(eigenvalues, sigmas, start, knobs)
        if backend == "numpy":
            return out
        return numeric.to_backend(out, backend, dtype=dtype, device=device)

    @abstractmethod
    def variance_ratio_mp(
        self, eigenvalue: mpmath.mpf, levels: Sequence[mpmath.mpf], start: Start, knobs: Any
    ) -> mpmath.mpf:
        """The ratio r of one eigenvalue by the direct recursion, at the current mpmath precision.

        ``levels`` hold ``mpmath.inf`` for a pure-noise start.
        """


SAMPLERS: dict[str, Sampler] = {}
"""Every registered sampler by name (complete once :mod:`symsched.samplers` is imported)."""


def register_sampler(cls: type[Sampler]) -> type[Sampler]:
    """Class decorator: register one instance of ``cls`` under ``cls.name``."""
    if cls.name in SAMPLERS and type(SAMPLERS[cls.name]) is not cls:
        raise ValueError(f"sampler {cls.name!r} is registered twice")
    SAMPLERS[cls.name] = cls()
    return cls


def get_sampler(name: str) -> Sampler:
    """The registered sampler ``name``; ``ValueError`` listing the valid names otherwise."""
    if name not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(sampler_names())}; got {name!r}")
    return SAMPLERS[name]


def sampler_names(
    *, include_oracles: bool = False, where: Callable[[Sampler], bool] | None = None
) -> tuple[str, ...]:
    """Registered sampler names in registration order (the exact flow only if asked for)."""
    return tuple(
        n
        for n, s in SAMPLERS.items()
        if (include_oracles or not s.oracle_only) and (where is None or where(s))
    )


@functools.cache
def _prior_start_fn(backend: str) -> Callable[..., Any]:
    return _compiled.function("prior_start_log_ratio", backend)


@functools.cache
def prior_start_log_ratio_stable() -> sp.Expr:
    r"""The prior start term over the whole input range: :math:`-\ln(1+e^{\ln\lambda-2\ln a})`.

    The log form (:func:`symsched.samplers._stable.log_form`) of the derived
    :math:`-\operatorname{log1p}(\lambda/a^2)`
    (:func:`symsched.gaussian.derive.prior_start_log_ratio`):
    ``logaddexp(0, l)`` is :math:`\operatorname{log1p}(e^l)`, accurate for any :math:`l`, so
    :math:`\lambda/a^2` never overflows or underflows.
    """
    import sympy as sp
    from sympy.codegen.numpy_nodes import logaddexp

    from symsched.gaussian import derive

    (arg,) = derive.prior_start_log_ratio().atoms(numeric.LOG1P)
    return -logaddexp(sp.Integer(0), _stable.log_form(arg.args[0]))


@functools.cache
def _prior_start_stable_fn() -> Callable[..., Any]:
    return _compiled.function("prior_start_log_ratio_stable")


def start_log_ratio(
    eigenvalues: Any, sigma0: float, start: Start, *, backend: ArrayBackend = "numpy"
) -> Any:
    r""":math:`\ln(\mathrm{Var}_0/(\lambda+\sigma_0^2))`: 0 for the exact start or pure noise.

    The prior start :math:`\mathcal N(0,\sigma_0^2)` gives
    :math:`-\operatorname{log1p}(\lambda/\sigma_0^2)`
    (:func:`symsched.gaussian.derive.prior_start_log_ratio`),
    compiled as it is inside the fast window and in its log form
    (:func:`prior_start_log_ratio_stable`) outside it.
    """
    if start == "exact" or math.isinf(sigma0):
        return eigenvalues * 0.0
    lam_np = to_np(eigenvalues.detach().cpu() if hasattr(eigenvalues, "detach") else eigenvalues)
    if _stable.fast_level(sigma0) and bool(_stable.fast_eigenvalues(lam_np).all()):
        return _prior_start_fn(backend)(sigma0, eigenvalues)
    out = np.asarray(_prior_start_stable_fn()(sigma0, lam_np), dtype=np.float64)
    if backend == "numpy":
        return out
    return numeric.to_backend(out, backend, dtype=eigenvalues.dtype, device=eigenvalues.device)


def start_variance_mp(eigenvalue: mpmath.mpf, sigma0: mpmath.mpf, start: Start) -> mpmath.mpf:
    """Variance of the start at ``sigma0`` (finite): the marginal or the prior."""
    return eigenvalue + sigma0**2 if start == "exact" else sigma0**2


def to_np(x: Any) -> FloatArray:
    """A float64 numpy copy of ``x``."""
    return np.asarray(x, dtype=np.float64)
