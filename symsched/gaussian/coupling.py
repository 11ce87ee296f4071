r"""The coupling error: a sampler's teacher-trajectory error on a Gaussian source, in closed form.

For a sampler with an exact Gaussian recursion, each covariance eigen-direction maps the start
:math:`\bar x_0\sim\mathcal N(0,\Lambda+\sigma_0^2 I)` (the marginal at :math:`\sigma_0`, in the
scaled state :math:`\bar x=x/\alpha`) to :math:`\hat x_N=G_i\bar x_0+\text{noise}`, while the
exact probability-flow map takes it to :math:`\Phi(\bar x_0)=G^\star_i\bar x_0` with
:math:`G^\star_i=\sqrt{(\lambda_i+\sigma_N^2)/(\lambda_i+\sigma_0^2)}`
(:mod:`symsched.samplers._linear`). The coupling error is

.. math:: C=\frac{\mathbb E\|\hat x_N-\Phi(\bar x_0)\|^2}{\mathbb E\|\Phi(\bar x_0)\|^2}
   =\sum_i w_i\,c_i,\qquad w_i=\frac{\lambda_i+\sigma_N^2}{\sum_j(\lambda_j+\sigma_N^2)},\qquad
   c_i=(q_i-1)^2+\frac{v_i}{\lambda_i+\sigma_N^2},

with :math:`q_i=G_i/G^\star_i` and :math:`v_i` the variance of the noise an ancestral sampler
adds (docs/theory/coupling.md). Unlike the output KL it cannot be cancelled: a grid whose
output *variance* happens to be right (:math:`r_i=1`) can still move every sample far from its
teacher trajectory, and :math:`C=0` only if every :math:`q_i=1` and no noise is added, i.e. the
sampler reproduces the flow map. It is defined with the exact start whatever start the KL uses
(the teacher trajectory starts from the marginal); a pure-noise start
(:math:`\sigma_0=\infty`) takes the limit.

Numerics: for a deterministic sampler :math:`|q_i|=e^{\ell_i/2}` with :math:`\ell_i` the
sampler's cancellation-free exact-start :math:`\ln r_i`, so
:math:`c_i=\operatorname{expm1}(\ell_i/2)^2` keeps its relative accuracy however small; the
sign of :math:`q_i` is the product of the per-step gains' signs (always positive for DDIM,
DPM-Solver++(2M), ancestral and the exact flow; Euler-VP and Heun can overshoot on large
steps). :func:`coupling_error_mpmath` is the 40-digit reference from each sampler's own
mpmath recursion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched._typing import ArrayLike, FloatArray, GridLike, SpectrumLike
from symsched._validate import as_eigenvalues, as_grid, check_choice
from symsched.gaussian import exact
from symsched.samplers import Sampler, get_sampler
from symsched.samplers._linear import compiled_linear_map, propagate

if TYPE_CHECKING:
    import mpmath


__all__ = [
    "CRITERIA",
    "Criteria",
    "coupling_error",
    "coupling_error_mpmath",
    "coupling_terms",
    "criteria",
    "gain_ratios",
    "grouped_coupling_error",
    "grouped_criteria",
]

CRITERIA: tuple[str, ...] = ("kl_source_output", "kl_output_source", "coupling")
"""The exact criteria of a grid under a sampler: both KL directions and the coupling error."""


@dataclass(frozen=True)
class Criteria:
    """The exact criteria of one grid under one sampler on one spectrum.

    Attributes
    ----------
    kl_source_output, kl_output_source
        Both KL directions between the target and the sampler's output [sun2026, §4].
    coupling
        The coupling error :math:`C` (docs/theory/coupling.md).
    """

    kl_source_output: float
    kl_output_source: float
    coupling: float

    def as_dict(self) -> dict[str, float]:
        """``{"kl_source_output", "kl_output_source", "coupling"}``."""
        return {
            "kl_source_output": self.kl_source_output,
            "kl_output_source": self.kl_output_source,
            "coupling": self.coupling,
        }

    def value(self, name: str) -> float:
        """The criterion ``name`` (one of :data:`CRITERIA`)."""
        return self.as_dict()[name]


def _gain_signs(smp: Sampler, lam_v: FloatArray, sig: FloatArray, knobs: Any) -> FloatArray:
    """Sign of :math:`q_i` per eigenvalue: the product of the per-step gains' signs."""
    f = compiled_linear_map(smp.name, "numpy")
    if f.history is not None or f.noise is not None:
        # multistep 2M: nonnegative coefficients (samplers.dpmpp_2m.dpmpp_2m_ratio_forms);
        # ancestral: DDIM gains (lam + a b) / (lam + a^2) > 0
        return np.ones_like(lam_v)
    kv = smp.knob_values(knobs)
    sign = np.ones_like(lam_v)
    k0 = 1 if math.isinf(sig[0]) else 0  # the pure-noise limit u_1 is positive
    with np.errstate(all="ignore"):
        for k in range(k0, sig.size - 1):
            ak, bk = float(sig[k]), float(sig[k + 1])
            g = (f.to_zero if bk == 0 else f.step)(ak, bk, ak, lam_v, *kv)
            sign = sign * np.sign(g)
    bad = ~np.isfinite(sign) | (sign == 0)
    for i in np.flatnonzero(bad):  # a gain outside the float64 range: its sign in mpmath
        import mpmath

        with mpmath.workdps(30):
            u, _ = _propagate_mp(smp, float(lam_v[i]), sig, knobs)
        sign[i] = float(mpmath.sign(u))
    return sign


def _propagate_mp(smp: Sampler, lv: float, sig: FloatArray, knobs: Any) -> tuple[Any, Any]:
    import mpmath

    levels = [mpmath.mpf(float(v)) if math.isfinite(v) else math.inf for v in sig]
    lam_mp = mpmath.mpf(lv)
    std0 = None if math.isinf(sig[0]) else mpmath.sqrt(lam_mp + levels[0] ** 2)
    return propagate(
        compiled_linear_map(smp.name, "mpmath"),
        lam_mp,
        levels,
        std0,
        smp.knob_values(knobs),
        backend="mpmath",
    )


def _log_weights(lam_v: FloatArray, sigma_n: float, counts: FloatArray | None = None) -> FloatArray:
    r""":math:`\ln w_i`, :math:`w_i=n_i(\lambda_i+\sigma_N^2)/\sum_jn_j(\lambda_j+\sigma_N^2)`,
    in logs (no overflow or underflow anywhere in the input range); the multiplicities
    :math:`n_i` are 1 without ``counts``."""
    with np.errstate(divide="ignore"):
        log_t = np.logaddexp(np.log(lam_v), 2.0 * math.log(sigma_n) if sigma_n > 0 else -np.inf)
        if counts is not None:
            log_t = log_t + np.log(counts)
    top = float(log_t.max())
    out: FloatArray = log_t - (top + math.log(float(np.exp(log_t - top).sum())))
    return out


def gain_ratios(
    eigenvalues: SpectrumLike, sigmas: GridLike, *, sampler: str = "ddim", **knobs: float
) -> tuple[FloatArray, FloatArray]:
    r""":math:`q_i=G_i/G^\star_i` and the added-noise fraction :math:`v_i/(\lambda_i+\sigma_N^2)`.

    The sampler's linear map over the exact flow map, per eigenvalue (float64; the ancestral
    noise fraction is 0 for deterministic samplers). See :mod:`symsched.gaussian.coupling`.
    """
    lam_v, sig = as_eigenvalues(eigenvalues), as_grid(sigmas)
    smp = get_sampler(sampler)
    kn = smp.make_knobs(**knobs)
    smp.check_grid(sig)
    if compiled_linear_map(smp.name, "numpy").noise is None:
        lr = np.asarray(smp.log_variance_ratios(lam_v, sig, "exact", kn), dtype=np.float64)
        with np.errstate(over="ignore"):
            q = _gain_signs(smp, lam_v, sig, kn) * np.exp(0.5 * lr)
        return q, np.zeros_like(lam_v)
    return _stochastic_parts(smp, lam_v, sig, kn)


_FLOAT64_SPAN = 1e150
"""The widest ratio sigma_max / sigma_min (finite, nonzero levels) on which the float64 linear-map
recursion of a stochastic sampler holds its digits: centred on 1, the levels' fourth powers stay
inside the normal float64 range (see :func:`_stochastic_parts`)."""


def _stochastic_float64(
    smp: Sampler, lam_s: FloatArray, sig_s: FloatArray, kn: Any
) -> tuple[FloatArray, FloatArray]:
    """``(q, v / T)`` from the float64 linear-map recursion on a centred grid and spectrum
    (non-finite where that recursion leaves the float64 range)."""
    with np.errstate(all="ignore"):
        std0 = None if math.isinf(sig_s[0]) else np.sqrt(lam_s + sig_s[0] ** 2)
        u, v = propagate(
            compiled_linear_map(smp.name, "numpy"),
            lam_s,
            list(map(float, sig_s)),
            std0,
            smp.knob_values(kn),
        )
        t_n = lam_s + sig_s[-1] ** 2
        return u / np.sqrt(t_n), v / t_n


def _stochastic_parts(
    smp: Sampler, lam_v: FloatArray, sig: FloatArray, kn: Any
) -> tuple[FloatArray, FloatArray]:
    r"""``(q, v / T)`` of a stochastic sampler from its linear map in float64 (both terms are
    sums of positive parts there); entries outside the float64 range come from mpmath.

    Both are dimensionless, so the grid and spectrum are first rescaled by a power of two that
    centres the grid's finite nonzero levels on 1 (exact in binary, :math:`q` and :math:`v/T`
    unchanged). The float64 recursion is used only on grids spanning at most
    :data:`_FLOAT64_SPAN` (then the centred levels lie within about :math:`10^{\pm75}`): its
    widest product, the ancestral noise :math:`\sigma_{\rm up}^2=\eta^2b^2(a-b)(a+b)/a^2`, is a
    fourth power of the levels before its division and would under- or overflow beyond that
    *without* turning non-finite, so wider grids go to mpmath whole. The eigenvalues need no
    such window: they enter only through :math:`\lambda+a^2` and :math:`\lambda/(a^2+\lambda)`."""
    levels = np.asarray(sig, dtype=np.float64)
    mid = levels[np.isfinite(levels) & (levels > 0)]  # empty for one step from pure noise to 0
    top, bottom = (float(mid.max()), float(mid.min())) if mid.size else (1.0, 1.0)
    if top <= _FLOAT64_SPAN * bottom:
        scale = 2.0 ** round(0.5 * (math.log2(top) + math.log2(bottom)))
        q, frac = _stochastic_float64(smp, lam_v / scale**2, levels / scale, kn)
        bad = ~(np.isfinite(q) & np.isfinite(frac))
    else:
        q, frac = np.empty_like(lam_v), np.empty_like(lam_v)
        bad = np.ones(lam_v.shape, dtype=bool)
    for i in np.flatnonzero(bad):  # outside the float64 range of the plain recursion: mpmath
        import mpmath

        with mpmath.workdps(30):
            um, vm = _propagate_mp(smp, float(lam_v[i]), sig, kn)
            tm = mpmath.mpf(float(lam_v[i])) + mpmath.mpf(float(sig[-1])) ** 2
            q[i], frac[i] = float(um / mpmath.sqrt(tm)), float(vm / tm)
    return q, frac


def _log_coupling_terms(
    smp: Sampler, lam_v: FloatArray, sig: FloatArray, kn: Any, lr: FloatArray | None = None
) -> FloatArray:
    r""":math:`\ln c_i` (``-inf`` where :math:`c_i=0`): finite wherever :math:`c_i` is, even
    where :math:`c_i` itself would overflow float64 (``lr``: the exact-start :math:`\ln r_i` of a
    deterministic sampler, when the caller has them)."""
    if compiled_linear_map(smp.name, "numpy").noise is None:
        if lr is None:
            lr = np.asarray(smp.log_variance_ratios(lam_v, sig, "exact", kn), dtype=np.float64)
        sign = _gain_signs(smp, lam_v, sig, kn)
        h = 0.5 * lr
        big = h > 30.0  # (e^h - 1)^2 = e^(2h) (1 - e^-h)^2, and (e^h + 1)^2 alike
        hs = np.where(big, 0.0, h)
        with np.errstate(divide="ignore"):
            small_log = np.where(
                sign > 0, 2.0 * np.log(np.abs(np.expm1(hs))), 2.0 * np.log1p(np.exp(hs))
            )
            big_log = 2.0 * h + 2.0 * np.log1p(-sign * np.exp(-np.where(big, h, 30.0)))
        out: FloatArray = np.where(big, big_log, small_log)
        return out
    q, frac = _stochastic_parts(smp, lam_v, sig, kn)
    with np.errstate(divide="ignore"):
        return np.asarray(np.log((q - 1.0) ** 2 + frac), dtype=np.float64)


def coupling_terms(
    eigenvalues: SpectrumLike, sigmas: GridLike, *, sampler: str = "ddim", **knobs: float
) -> FloatArray:
    r"""Per-eigenvalue :math:`c_i=(q_i-1)^2+v_i/(\lambda_i+\sigma_N^2)` (see the module).

    For a deterministic sampler with :math:`q_i>0`, :math:`c_i=\operatorname{expm1}(\ell_i/2)^2`
    from the sampler's exact :math:`\ell_i=\ln r_i` (exact start), accurate however small
    (``inf`` only where :math:`c_i` exceeds the float64 range).
    """
    lam_v, sig = as_eigenvalues(eigenvalues), as_grid(sigmas)
    smp = get_sampler(sampler)
    kn = smp.make_knobs(**knobs)
    smp.check_grid(sig)
    with np.errstate(over="ignore"):
        out: FloatArray = np.exp(_log_coupling_terms(smp, lam_v, sig, kn))
    return out


def coupling_error(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    *,
    sampler: str = "ddim",
    weights: ArrayLike | None = None,
    **knobs: float,
) -> float:
    r"""The coupling error :math:`C=\sum_i w_i c_i` of a grid under a sampler (see the module).

    Parameters
    ----------
    eigenvalues
        Covariance eigenvalues :math:`\lambda_i>0`.
    sigmas
        The grid ``[sigma_0 > ... > sigma_N >= 0]``; ``sigma_0`` may be ``inf`` for samplers
        that start from pure noise.
    sampler
        A name of :data:`symsched.samplers.SAMPLERS`.
    weights
        Multiplicities of the eigenvalues (default 1 each; positive, e.g. the weights of a
        :class:`~symsched.gaussian.compress.CompressedSpectrum`).
    **knobs
        The sampler's knobs (``eta`` of ``ancestral``).

    Returns
    -------
    float
        :math:`C\ge0`; 0 for the exact flow.

    Examples
    --------
    >>> from symsched.gaussian.coupling import coupling_error
    >>> round(coupling_error([1.0], [80.0, 1.0, 0.0]), 6)
    0.243828
    """
    lam_v, sig = as_eigenvalues(eigenvalues), as_grid(sigmas)
    smp = get_sampler(sampler)
    kn = smp.make_knobs(**knobs)
    smp.check_grid(sig)
    return _coupling_sum(smp, lam_v, sig, kn, _counts(weights, lam_v))


def _coupling_sum(
    smp: Sampler,
    lam_v: FloatArray,
    sig: FloatArray,
    kn: Any,
    counts: FloatArray | None,
    lr: FloatArray | None = None,
) -> float:
    """:func:`coupling_error` of validated arguments (``lr`` as :func:`_log_coupling_terms`)."""
    log_t = _log_weights(lam_v, float(sig[-1]), counts)
    terms = log_t + _log_coupling_terms(smp, lam_v, sig, kn, lr)
    top = float(terms.max())
    if top == -math.inf:
        return 0.0
    with np.errstate(over="ignore"):
        return float(math.exp(top) * float(np.exp(terms - top).sum()))


def _counts(weights: ArrayLike | None, lam_v: FloatArray) -> FloatArray | None:
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != lam_v.shape or not (np.isfinite(w).all() and (w > 0).all()):
        raise ValueError(
            f"weights must be {lam_v.size} finite positive numbers, one per eigenvalue"
        )
    return w


def coupling_error_mpmath(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    *,
    sampler: str = "ddim",
    dps: int = 40,
    knobs: Mapping[str, float] | None = None,
) -> mpmath.mpf:
    r"""The coupling error at ``dps`` digits: the reference for :func:`coupling_error`.

    A deterministic sampler's :math:`|q_i|=\sqrt{r_i}` comes from its own direct mpmath
    recursion (:meth:`~symsched.samplers.Sampler.variance_ratio_mp`, exact start), independent
    of the linear-map forms; the sign and the ancestral noise from the linear map in mpmath.
    ``knobs`` are the sampler's knobs (``{"eta": 0.5}``).
    """
    import mpmath

    lam_v, sig = as_eigenvalues(eigenvalues), as_grid(sigmas)
    smp = get_sampler(sampler)
    kn = smp.make_knobs(**(knobs or {}))
    smp.check_grid(sig)
    with mpmath.workdps(dps):
        levels = [mpmath.mpf(float(v)) if math.isfinite(v) else mpmath.inf for v in sig]
        total, norm = mpmath.mpf(0), mpmath.mpf(0)
        for lv in lam_v:
            lm = mpmath.mpf(float(lv))
            t_n = lm + levels[-1] ** 2
            u, v = _propagate_mp(smp, float(lv), sig, kn)
            if compiled_linear_map(smp.name, "numpy").noise is None:
                q = mpmath.sign(u) * mpmath.sqrt(smp.variance_ratio_mp(lm, levels, "exact", kn))
                c = (q - 1) ** 2
            else:
                c = (u / mpmath.sqrt(t_n) - 1) ** 2 + v / t_n
            total += t_n * c
            norm += t_n
        return total / norm


def criteria(
    eigenvalues: SpectrumLike,
    sigmas: GridLike,
    *,
    sampler: str = "ddim",
    start: str = "exact",
    weights: ArrayLike | None = None,
    **knobs: float,
) -> Criteria:
    """Both exact KL directions (with ``start``) and the coupling error of a grid under a sampler
    (``weights``: the eigenvalues' multiplicities, as :func:`coupling_error`).

    Examples
    --------
    >>> from symsched.gaussian.coupling import criteria
    >>> c = criteria([1.0], [80.0, 1.0, 0.0], sampler="ddim")
    >>> round(c.coupling, 6), round(c.kl_source_output, 6)
    (0.243828, 0.770424)
    """
    check_choice(start, "start", exact.STARTS)
    lam_v, sig = as_eigenvalues(eigenvalues), as_grid(sigmas)
    smp = get_sampler(sampler)
    kn = smp.make_knobs(**knobs)
    smp.check_grid(sig)
    counts = _counts(weights, lam_v)
    lr = np.asarray(smp.log_variance_ratios(lam_v, sig, start, kn), dtype=np.float64)  # type: ignore[arg-type]
    kso, kos = exact.kl_from_log_ratios(lr, counts)
    # a deterministic sampler's coupling terms come from its exact-start log ratios: reuse them
    same = start == "exact" and compiled_linear_map(smp.name, "numpy").noise is None
    c = _coupling_sum(smp, lam_v, sig, kn, counts, lr if same else None)
    return Criteria(kso, kos, c)


def grouped_coupling_error(
    values: FloatArray, counts: FloatArray, sigmas: FloatArray, *, sampler: str = "ddim"
) -> float:
    r""":func:`coupling_error` over distinct eigenvalues ``values`` with multiplicities ``counts``
    (an exact regrouping: the weights :math:`\lambda_i+\sigma_N^2` times the multiplicity)."""
    return coupling_error(values, sigmas, sampler=sampler, weights=counts)


def grouped_criteria(
    values: FloatArray, counts: FloatArray, sigmas: FloatArray, *, sampler: str = "ddim"
) -> Criteria:
    """:func:`criteria` (exact start) over distinct eigenvalues with multiplicities: the same
    sums regrouped, cheaper when a spectrum has many equal eigenvalues (radial Fourier spectra).

    Examples
    --------
    >>> import numpy as np
    >>> from symsched.gaussian.coupling import criteria, grouped_criteria
    >>> g = np.array([80.0, 1.0, 0.0])
    >>> a = grouped_criteria(np.array([1.0, 2.0]), np.array([2.0, 1.0]), g)
    >>> b = criteria([1.0, 1.0, 2.0], g)
    >>> bool(np.allclose(list(a.as_dict().values()), list(b.as_dict().values()), rtol=1e-12))
    True
    """
    return criteria(values, sigmas, sampler=sampler, weights=counts)
