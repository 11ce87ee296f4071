r"""Schedule families as SymPy expressions, and their N-step grids.

The families of docs/conventions.md#schedule-families.

A family maps sampling progress :math:`u\in[0,1]` to a noise level :math:`\rho=\sigma/\alpha`
with :math:`\rho(0)=\sigma_{\max}` and :math:`\rho(1)=\sigma_{\min}`; its N-step grid is the family
at :math:`u=k/N`. Time-based VP families (``vp-linear``, ``cosine``) are uniform in diffusion time
and carry the closed-form map :math:`t\mapsto\rho` and its inverse :math:`\rho\mapsto t`.

References
----------
.. [karras2022] T. Karras et al., "Elucidating the Design Space of Diffusion-Based Generative
   Models", arXiv:2206.00364, Eq. (5) (rho-polynomial grid) and Table 1 (VP sigma(t)).
.. [nichol2021] A. Nichol, P. Dhariwal, "Improved Denoising Diffusion Probabilistic Models",
   arXiv:2102.09672, Eq. (17) (cosine schedule, offset s = 0.008).
.. [ho2020] J. Ho, A. Jain, P. Abbeel, "Denoising Diffusion Probabilistic Models",
   arXiv:2006.11239, §4 (linear beta); continuous form of [song2021sde, Eq. (33)].
.. [sun2026] arXiv:2601.13602, §5.2 (tangent law; docs/theory/gaussian.md#tangent-law).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from symsched import _compiled, numeric
from symsched._typing import ArrayBackend, ArrayLike, FloatArray
from symsched._validate import check_endpoints, check_positive, check_steps

if TYPE_CHECKING:
    import sympy as sp

__all__ = [
    "Family",
    "check_time_ends",
    "cosine",
    "cosine_rho_of_t",
    "karras",
    "loglinear",
    "logsnr",
    "tangent",
    "vp_linear",
    "vp_linear_rho_of_t",
]


@functools.cache
def _symbols() -> dict[str, sp.Symbol]:
    """The symbols of the families by name (SymPy is imported here, on first use)."""
    import sympy as sp

    from symsched import symbols

    return {
        "karras_rho": sp.Symbol("karras_rho", positive=True),  # EDM's rho exponent (no level)
        "beta_min": sp.Symbol("beta_min", positive=True),
        "beta_max": sp.Symbol("beta_max", positive=True),
        "s_offset": sp.Symbol("s_offset", positive=True),  # cosine offset s
        "t_min": sp.Symbol("t_min", nonnegative=True),
        "t_max": sp.Symbol("t_max", positive=True),
        "level": sp.Symbol("level", nonnegative=True),
        "c": symbols.c,
        "sigma_max": symbols.sigma_max,
        "sigma_min": symbols.sigma_min,
        "t": symbols.t,
        "u": symbols.u,
    }


def __getattr__(name: str) -> Any:
    # the symbols of the families (karras_rho, beta_min, ..., level, u, t), built on first use
    syms = _symbols() if name in _SYMBOL_NAMES else None
    if syms is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return syms[name]


_SYMBOL_NAMES = frozenset(
    [
        "karras_rho",
        "beta_min",
        "beta_max",
        "s_offset",
        "t_min",
        "t_max",
        "level",
        "c",
        "sigma_max",
        "sigma_min",
        "t",
        "u",
    ]
)


def _family_exprs(kind: str) -> dict[str, sp.Expr | None]:
    r"""The SymPy expressions of a built-in family: ``rho`` (of ``u``), and for the time-based
    ones ``time`` (of ``u``), ``rho_of_t`` (of ``t``) and ``t_of_rho`` (of ``level``)."""
    import sympy as sp

    q = _symbols()
    u, c, lo, hi = q["u"], q["c"], q["sigma_min"], q["sigma_max"]
    if kind == "tangent":
        phi_max = sp.atan(hi / c)
        phi_min = sp.atan(lo / c)
        return {"rho": c * sp.tan(phi_max + u * (phi_min - phi_max))}
    if kind == "karras":
        kr = q["karras_rho"]
        return {"rho": (hi ** (1 / kr) + u * (lo ** (1 / kr) - hi ** (1 / kr))) ** kr}
    if kind == "loglinear":
        return {"rho": sp.exp(sp.log(hi) + u * (sp.log(lo) - sp.log(hi)))}
    if kind in ("vp-linear", "cosine"):
        rho_t, t_rho = vp_linear_rho_of_t() if kind == "vp-linear" else cosine_rho_of_t()
        time_u = q["t_max"] - u * (q["t_max"] - q["t_min"])
        return {
            "rho": rho_t.subs(q["t"], time_u),
            "time": time_u,
            "rho_of_t": rho_t,
            "t_of_rho": t_rho,
        }
    raise ValueError(f"no built-in family {kind!r}")


BUILTIN_FAMILIES: tuple[str, ...] = ("tangent", "karras", "loglinear", "vp-linear", "cosine")
"""The families built here; their numpy functions are generated (:mod:`symsched._codegen`)."""

FAMILY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "tangent": ("c", "sigma_max", "sigma_min"),
    "karras": ("karras_rho", "sigma_max", "sigma_min"),
    "loglinear": ("sigma_max", "sigma_min"),
    "vp-linear": ("beta_max", "beta_min", "sigma_max", "sigma_min", "t_max", "t_min"),
    "cosine": ("s_offset", "sigma_max", "sigma_min", "t_max", "t_min"),
}
"""The parameter symbols of each built-in family by name, sorted: the arguments after ``u`` (or
``level``) of its generated ``rho`` and ``progress_of_rho``."""

TIME_PARAMETERS: dict[str, tuple[str, ...]] = {
    "vp-linear": ("beta_max", "beta_min"),
    "cosine": ("s_offset",),
}
"""The parameters of a time-based family's ``rho_of_t`` (after ``t``) and ``t_of_rho`` (after
``level``)."""


class Family:
    r"""A schedule family: ``rho`` as a SymPy expression of ``u`` and its parameter symbols.

    A built-in family (:data:`BUILTIN_FAMILIES`, made by :func:`karras`, :func:`tangent` ...)
    holds its parameter values by symbol name and builds its SymPy expressions on first use;
    its grids and maps run the numpy code generated from them, without SymPy. A family given as
    an expression (``Family(name, rho, values, params)``) compiles it on first evaluation.

    Attributes
    ----------
    name
        Family name (docs/conventions.md#schedule-families).
    rho
        Noise level :math:`\rho(u)`.
    values
        Numeric value of every parameter symbol in ``rho`` (endpoints included).
    params
        Every parameter that produced the family, defaults included (for JSON output): all are
        real numbers.
    time
        For time-based families: diffusion time :math:`t(u)`; ``rho_of_t`` / ``t_of_rho`` are the
        closed-form maps between time and noise level.
    """

    def __init__(
        self,
        name: str,
        rho: sp.Expr | None = None,
        values: Mapping[sp.Symbol, float] | None = None,
        params: Mapping[str, float] | None = None,
        time: sp.Expr | None = None,
        rho_of_t: sp.Expr | None = None,
        t_of_rho: sp.Expr | None = None,
        *,
        numbers: Mapping[str, float] | None = None,
    ) -> None:
        if rho is None and name not in BUILTIN_FAMILIES:
            raise ValueError(f"family {name!r}: give its expression rho(u)")
        if rho is None and numbers is None:
            raise ValueError(f"family {name!r}: give its parameter values")
        self.name = name
        self.params: Mapping[str, float] = dict(params or {})
        self._exprs: dict[str, sp.Expr | None] | None = (
            None
            if rho is None
            else {"rho": rho, "time": time, "rho_of_t": rho_of_t, "t_of_rho": t_of_rho}
        )
        self._values = None if values is None else dict(values)
        self._numbers: dict[str, float] = (
            {q.name: float(v) for q, v in (values or {}).items()}
            if numbers is None
            else {k: float(v) for k, v in numbers.items()}
        )
        self._generated = rho is None  # a built-in family: its numpy code is generated

    def __repr__(self) -> str:
        return f"Family(name={self.name!r}, params={dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Family):
            return NotImplemented
        if self._generated and other._generated:
            return (self.name, self._numbers, dict(self.params)) == (
                other.name,
                other._numbers,
                dict(other.params),
            )
        return (self.name, self.rho, self.values, dict(self.params)) == (
            other.name,
            other.rho,
            other.values,
            dict(other.params),
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self._numbers.items()))))

    def _expr(self, key: str) -> sp.Expr | None:
        if self._exprs is None:
            self._exprs = _family_exprs(self.name)
        return self._exprs.get(key)

    @property
    def rho(self) -> sp.Expr:
        r"""Noise level :math:`\rho(u)` (SymPy)."""
        expr = self._expr("rho")
        assert expr is not None
        return expr

    @property
    def time(self) -> sp.Expr | None:
        """Diffusion time :math:`t(u)` of a time-based family (SymPy), else ``None``."""
        return self._expr("time")

    @property
    def rho_of_t(self) -> sp.Expr | None:
        """Noise level of diffusion time ``t`` (SymPy; time-based families), else ``None``."""
        return self._expr("rho_of_t")

    @property
    def t_of_rho(self) -> sp.Expr | None:
        """Diffusion time of the noise level ``level`` (SymPy; time-based families), else
        ``None``."""
        return self._expr("t_of_rho")

    @property
    def values(self) -> Mapping[sp.Symbol, float]:
        """Numeric value of every parameter symbol (SymPy symbols as keys)."""
        if self._values is None:
            syms = _symbols()
            self._values = {syms[k]: v for k, v in self._numbers.items()}
        return self._values

    @property
    def sigma_max(self) -> float:
        r"""The largest level :math:`\rho(0)` (may be ``inf``)."""
        return float(self.params["sigma_max"])

    @property
    def sigma_min(self) -> float:
        r"""The smallest level :math:`\rho(1)` (may be 0)."""
        return float(self.params["sigma_min"])

    def _function(self, part: str, first: str, backend: str = "numpy") -> Callable[..., Any]:
        """The compiled ``part`` (``rho``, ``progress_of_rho``, ``t_of_rho``) as a function of
        ``(first, *parameters by name)``, called with the family's values."""
        names = sorted(self._numbers)
        if self._generated and part in ("rho_of_t", "t_of_rho"):
            names = list(TIME_PARAMETERS[self.name])
        if self._generated:
            fn = _compiled.function(f"family.{self.name}.{part}", backend)
        else:
            syms = {q.name: q for q in self.values}
            expr = self.progress_of_rho if part == "progress_of_rho" else self._expr(part)
            first_sym = _symbols()[first]
            fn = numeric.lambdify((first_sym, *(syms[n] for n in names)), expr, backend)
        ordered = [self._numbers[n] for n in names]
        return lambda x: fn(x, *ordered)

    def __call__(self, progress: ArrayLike, backend: ArrayBackend = "numpy") -> FloatArray:
        r"""Evaluate :math:`\rho(u)` at ``progress``, endpoints exact.

        Parameters
        ----------
        progress
            Sampling progress ``u`` in ``[0, 1]`` (any shape).
        backend
            Where the compiled expression runs; the result is a numpy array either way.

        Returns
        -------
        FloatArray
            The levels, shaped like ``progress``; exactly ``sigma_max`` at ``u = 0`` and
            ``sigma_min`` at ``u = 1``.
        """
        f = self._function("rho", "u", backend)
        uu = np.asarray(progress, dtype=np.float64)
        out = np.array(f(uu), dtype=np.float64, copy=True)
        out[uu == 0.0] = self.sigma_max
        out[uu == 1.0] = self.sigma_min
        return out

    def grid(self, steps: int) -> FloatArray:
        """The N-step grid ``[rho(0), rho(1/N), ..., rho(1)]`` (N+1 levels, descending).

        Parameters
        ----------
        steps
            The number of steps N.

        Returns
        -------
        FloatArray
            The N+1 levels, strictly decreasing.

        Raises
        ------
        ValueError
            If ``steps`` is not a positive integer, or two levels collide in float64.
        """
        n = check_steps(steps, "steps")
        sig = self(np.arange(n + 1) / n)
        if not (np.diff(sig) < 0).all():
            raise ValueError(
                f"{self.name} with steps={n} and parameters {dict(self.params)} does not give a "
                "strictly decreasing grid (levels collide in float64); use fewer steps or ends "
                "further apart (sigma_min, sigma_max)"
            )
        return sig

    @property
    def progress_of_rho(self) -> sp.Expr:
        r"""Closed-form inverse :math:`u(\rho)` of the family, derived with ``sympy.solve``.

        Time-based families compose the time inverse :math:`t(\rho)` with the uniform time grid.
        """
        q = _symbols()
        if self.t_of_rho is not None:
            return (q["t_max"] - self.t_of_rho) / (q["t_max"] - q["t_min"])
        return _inverse_progress(self.rho)

    def progress_of(self, levels: ArrayLike) -> FloatArray:
        r"""Sampling progress ``u`` at which the family visits ``levels`` (closed-form inverse).

        Parameters
        ----------
        levels
            Noise levels inside the family's range.

        Returns
        -------
        FloatArray
            :math:`u(\rho)`, shaped like ``levels``.
        """
        f = self._function("progress_of_rho", "level")
        return np.asarray(f(np.asarray(levels, dtype=np.float64)))

    def t_of(self, levels: ArrayLike) -> FloatArray:
        r"""Diffusion time of noise ``levels`` (time-based families only).

        Parameters
        ----------
        levels
            Noise levels inside the family's range.

        Returns
        -------
        FloatArray
            :math:`t(\rho)`, shaped like ``levels``.

        Raises
        ------
        ValueError
            If the family is not defined through a diffusion time.
        """
        if self.name not in ("vp-linear", "cosine") and self.t_of_rho is None:
            raise ValueError(f"family {self.name!r} is not defined through a diffusion time")
        f = self._function("t_of_rho", "level")
        return np.asarray(f(np.asarray(levels, dtype=np.float64)))


@functools.cache
def _inverse_progress(rho_expr: sp.Expr) -> sp.Expr:
    import sympy as sp

    level = _symbols()["level"]
    sols = sp.solve(sp.Eq(rho_expr, level), _symbols()["u"])
    if len(sols) != 1:
        raise ValueError(f"no unique closed-form inverse u(rho) for {rho_expr}")
    return sp.simplify(sols[0])


# --------------------------------------------------------------------------------------------
# Tangent law [sun2026, §5.2] (docs/theory/gaussian.md#tangent-law): uniform in
# phi = arctan(rho / c).


def tangent(
    c_value: float, sigma_min_value: float = 0.0, sigma_max_value: float = math.inf
) -> Family:
    r"""Tangent family :math:`\rho(u)=c\tan(\varphi_{\max}+u(\varphi_{\min}-\varphi_{\max}))`.

    :math:`\varphi=\arctan(\sigma/c)`; with ``sigma_max = inf`` and ``sigma_min = 0`` this is
    :math:`\rho = c\tan(\pi(1-u)/2)` [sun2026, §5.2], [sabour2024, Thm. 3.1].

    Parameters
    ----------
    c_value
        The scale ``c`` (> 0; ``gamma*`` of a spectrum for the KL-optimal member).
    sigma_min_value, sigma_max_value
        The end levels, ``0 <= sigma_min < sigma_max <= inf``.

    Returns
    -------
    Family
        The tangent family.

    Raises
    ------
    ValueError
        If ``c`` is not positive or the endpoints are invalid.
    """
    cv = check_positive(c_value, "c")
    lo, hi = check_endpoints(sigma_min_value, sigma_max_value)
    return Family(
        "tangent",
        params={"c": cv, "sigma_min": lo, "sigma_max": hi},
        numbers={"c": cv, "sigma_min": lo, "sigma_max": hi},
    )


def karras(
    sigma_min_value: float = 0.002, sigma_max_value: float = 80.0, rho_value: float = 7.0
) -> Family:
    r"""EDM grid [karras2022, Eq. (5)].

    :math:`\rho(u)=(\sigma_{\max}^{1/\rho}+u(\sigma_{\min}^{1/\rho}-\sigma_{\max}^{1/\rho}))^\rho`.

    Parameters
    ----------
    sigma_min_value, sigma_max_value
        The end levels (``sigma_max`` finite).
    rho_value
        The exponent :math:`\rho` (> 0; EDM uses 7).

    Returns
    -------
    Family
        The ``karras`` family.

    Raises
    ------
    ValueError
        If ``sigma_max`` is infinite, the endpoints are invalid or ``rho`` is not positive.
    """
    lo, hi = check_endpoints(sigma_min_value, sigma_max_value)
    if math.isinf(hi):
        raise ValueError("karras needs a finite sigma_max (got inf); pass --sigma-max, e.g. 80")
    rv = check_positive(rho_value, "rho")
    return Family(
        "karras",
        params={"rho": rv, "sigma_min": lo, "sigma_max": hi},
        numbers={"sigma_min": lo, "sigma_max": hi, "karras_rho": rv},
    )


LOGLINEAR_MAX_RATIO = 1e300
r"""Largest ``sigma_max / sigma_min`` of :func:`loglinear`: its compiled form
:math:`\sigma_{\max}e^{u\ln(\sigma_{\min}/\sigma_{\max})}` underflows in the factor beyond
:math:`e^{-709}`."""


def loglinear(sigma_min_value: float = 0.002, sigma_max_value: float = 80.0) -> Family:
    r"""Geometric grid, uniform in :math:`\ln\sigma` (k-diffusion's ``exponential``).

    :math:`\rho(u)=\exp(\ln\sigma_{\max}+u(\ln\sigma_{\min}-\ln\sigma_{\max}))`.

    Parameters
    ----------
    sigma_min_value, sigma_max_value
        The end levels, ``0 < sigma_min < sigma_max < inf``.

    Returns
    -------
    Family
        The ``loglinear`` family.

    Raises
    ------
    ValueError
        If ``sigma_min`` is 0, ``sigma_max`` is infinite or the endpoints are invalid.
    """
    lo, hi = check_endpoints(sigma_min_value, sigma_max_value)
    if lo == 0 or math.isinf(hi):
        raise ValueError(
            f"loglinear needs 0 < sigma_min and a finite sigma_max (got {lo}, {hi}); it is uniform "
            "in log sigma"
        )
    if hi / lo > LOGLINEAR_MAX_RATIO:
        raise ValueError(
            f"loglinear spans at most {LOGLINEAR_MAX_RATIO:g} in sigma_max / sigma_min (beyond, "
            f"its interior levels underflow); got sigma_min = {lo:g}, sigma_max = {hi:g}"
        )
    return Family(
        "loglinear",
        params={"sigma_min": lo, "sigma_max": hi},
        numbers={"sigma_min": lo, "sigma_max": hi},
    )


# --------------------------------------------------------------------------------------------
# Time-based VP families: closed-form rho(t) and its inverse t(rho).


@functools.cache
def vp_linear_rho_of_t() -> tuple[sp.Expr, sp.Expr]:
    r"""DDPM linear-beta noise level and its inverse.

    :math:`\bar\alpha(t)=\exp(-\beta_{\min}t-\tfrac12(\beta_{\max}-\beta_{\min})t^2)`
    [song2021sde, Eq. (33)], so
    :math:`\rho=\sqrt{1/\bar\alpha-1}=\sqrt{\operatorname{expm1}(\beta_{\min}t+\tfrac12\beta_dt^2)}`;
    the inverse solves the quadratic for :math:`t\ge0` (derived with ``sympy.solve``).

    Returns
    -------
    tuple of sympy.Expr
        :math:`\rho(t)` and :math:`t(\rho)` (the latter in the symbol ``level``).
    """
    import sympy as sp

    q = _symbols()
    beta_min, beta_max, t, level = q["beta_min"], q["beta_max"], q["t"], q["level"]
    exponent = beta_min * t + (beta_max - beta_min) * t**2 / 2
    rho_t = sp.sqrt(numeric.EXPM1(exponent))
    roots = sp.solve(sp.Eq(exponent, numeric.LOG1P(level**2)), t)
    (t_rho,) = [q for q in roots if sp.simplify(q.subs({level: 1, beta_min: 1, beta_max: 2})) > 0]
    return rho_t, sp.simplify(t_rho)


@functools.cache
def cosine_rho_of_t() -> tuple[sp.Expr, sp.Expr]:
    r"""Cosine-schedule noise level and its inverse [nichol2021, Eq. (17)].

    :math:`\bar\alpha(t)=\cos^2(\theta(t))/\cos^2(\theta(0))`,
    :math:`\theta=\frac{t+s}{1+s}\frac\pi2`, so :math:`\rho=\sqrt{\cos^2\theta_0/\cos^2\theta-1}`;
    the inverse is derived with ``sympy.solve``.

    Returns
    -------
    tuple of sympy.Expr
        :math:`\rho(t)` and :math:`t(\rho)` (the latter in the symbol ``level``).
    """
    import sympy as sp

    q = _symbols()
    s_offset, t, level = q["s_offset"], q["t"], q["level"]
    theta = (t + s_offset) / (1 + s_offset) * sp.pi / 2
    theta0 = s_offset / (1 + s_offset) * sp.pi / 2
    rho_t = sp.sqrt(sp.cos(theta0) ** 2 / sp.cos(theta) ** 2 - 1)
    tt = sp.Symbol("tt", positive=True)
    # cos(theta(t)) = cos(theta0)/sqrt(1 + level^2), theta in [0, pi/2]
    t_rho = sp.solve(sp.Eq(sp.acos(sp.cos(theta0) / sp.sqrt(1 + level**2)), theta.subs(t, tt)), tt)[
        0
    ]
    return rho_t, sp.simplify(t_rho)


def _time_family(
    name: str,
    values: dict[str, float],
    params: dict[str, float],
    t_lo: float,
    t_hi: float,
    sigma_min_value: float | None,
    sigma_max_value: float | None,
    t_pure_noise: float | None = None,
) -> Family:
    """A family uniform in diffusion time on ``[t_lo, t_hi]``; given noise endpoints override the
    time range through the closed-form inverse ``t(rho)``. ``t_pure_noise`` is the time at which
    the schedule reaches alpha_bar = 0 (rho = inf), if any."""
    ordered = [values[q] for q in sorted(values)]
    rho_fn = _compiled.function(f"family.{name}.rho_of_t")
    t_fn = _compiled.function(f"family.{name}.t_of_rho")

    def rho_at(tv: float) -> float:
        if t_pure_noise is not None and tv >= t_pure_noise:
            return math.inf
        return 0.0 if tv == 0 else float(rho_fn(np.float64(tv), *ordered))

    if sigma_max_value is None:
        hi = rho_at(t_hi)
        if math.isinf(hi) and t_pure_noise is None:
            raise ValueError(
                f"{name}: t_max = {t_hi:g} gives a noise level beyond float64; choose a smaller "
                "t_max (or give sigma_max)"
            )
    else:
        hi = check_positive(sigma_max_value, "sigma_max", allow_inf=True)
        if math.isfinite(hi):
            t_hi = float(t_fn(np.float64(hi), *ordered))
        elif t_pure_noise is None:
            raise ValueError(f"{name} never reaches pure noise; pass a finite --sigma-max")
        else:
            t_hi = t_pure_noise
    if sigma_min_value is None:
        lo = rho_at(t_lo)
    else:
        lo = check_positive(sigma_min_value, "sigma_min", allow_zero=True)
        t_lo = float(t_fn(np.float64(lo), *ordered)) if lo > 0 else 0.0
    check_endpoints(lo, hi)
    for end, tv, v in (("sigma_min", t_lo, lo), ("sigma_max", t_hi, hi)):
        if math.isnan(tv):
            raise ValueError(f"{name}: {end} = {v:g} lies beyond what its time map resolves")
    if not 0 <= t_lo < t_hi:
        raise ValueError(
            f"{name}: sigma_min = {lo:g}, sigma_max = {hi:g} map to diffusion times "
            f"[{t_lo:.6g}, {t_hi:.6g}], which is empty or outside the family's time range"
        )
    vals = {**values, "t_min": t_lo, "t_max": t_hi, "sigma_min": lo, "sigma_max": hi}
    params = {**params, "t_min": t_lo, "t_max": t_hi, "sigma_min": lo, "sigma_max": hi}
    return Family(name, params=params, numbers=vals)


def vp_linear(
    beta_min_value: float = 0.1,
    beta_max_value: float = 20.0,
    t_min_value: float = 1e-3,
    t_max_value: float = 1.0,
    sigma_min_value: float | None = None,
    sigma_max_value: float | None = None,
) -> Family:
    r"""DDPM linear-beta VP schedule, uniform in time from ``t_max`` down to ``t_min``.

    [ho2020, §4], continuous form [song2021sde, Eq. (33)]; docs/conventions.md#schedule-families.

    Parameters
    ----------
    beta_min_value, beta_max_value
        The linear beta range (``0 < beta_min < beta_max``).
    t_min_value, t_max_value
        The time range of the grid.
    sigma_min_value, sigma_max_value
        When given, they set the time range through the closed-form inverse :math:`t(\rho)`.

    Returns
    -------
    Family
        The ``vp-linear`` family (time-based).

    Raises
    ------
    ValueError
        If the betas or the range are invalid, or the noise range maps to an empty time range.
    """
    bmin = check_positive(beta_min_value, "beta_min")
    bmax = check_positive(beta_max_value, "beta_max")
    if bmax <= bmin:
        raise ValueError(
            f"beta_max must be > beta_min (linear beta schedule), got {bmax} <= {bmin}"
        )
    tl = check_positive(t_min_value, "t_min", allow_zero=True)
    th = check_positive(t_max_value, "t_max")
    return _time_family(
        "vp-linear",
        {"beta_min": bmin, "beta_max": bmax},
        {"beta_min": bmin, "beta_max": bmax},
        tl,
        th,
        sigma_min_value,
        sigma_max_value,
    )


def cosine(
    s_value: float = 0.008,
    t_min_value: float = 0.0,
    t_max_value: float = 1.0,
    sigma_min_value: float | None = None,
    sigma_max_value: float | None = None,
) -> Family:
    r"""Nichol–Dhariwal cosine schedule, uniform in time from ``t_max`` down to ``t_min``.

    Pure noise at ``t = 1`` [nichol2021, Eq. (17)].

    Parameters
    ----------
    s_value
        The offset ``s`` (> 0; 0.008 in the paper).
    t_min_value, t_max_value
        The time range of the grid (``t_max <= 1``).
    sigma_min_value, sigma_max_value
        When given, they set the time range through the closed-form inverse :math:`t(\rho)`.

    Returns
    -------
    Family
        The ``cosine`` family (time-based).

    Raises
    ------
    ValueError
        If ``s`` or the range are invalid, or the noise range maps to an empty time range.
    """
    sv = check_positive(s_value, "s")
    tl = check_positive(t_min_value, "t_min", allow_zero=True)
    th = check_positive(t_max_value, "t_max")
    if th > 1:
        raise ValueError(f"t_max must be <= 1 for the cosine schedule, got {th}")
    return _time_family(
        "cosine",
        {"s_offset": sv},
        {"s": sv},
        tl,
        th,
        sigma_min_value,
        sigma_max_value,
        t_pure_noise=1.0,
    )


def logsnr(level_expr: sp.Expr) -> sp.Expr:
    r"""Log signal-to-noise ratio of a noise level, :math:`\log\mathrm{SNR}=-2\ln\rho`.

    Parameters
    ----------
    level_expr
        A noise level :math:`\rho` (SymPy).

    Returns
    -------
    sympy.Expr
        :math:`-2\ln\rho`.
    """
    import sympy as sp

    return -2 * sp.log(level_expr)


def check_time_ends(
    t_min: float | None, sigma_min: float | None, t_max: float | None, sigma_max: float | None
) -> None:
    """Refuse a time and a noise level for the same end of a time-based family, or ``t_min >=
    t_max``.

    Parameters
    ----------
    t_min, sigma_min
        The low end as a time and as a noise level (``None``: not given).
    t_max, sigma_max
        The high end as a time and as a noise level.

    Raises
    ------
    ValueError
        If both ``t_min`` and ``sigma_min`` (or both ``t_max`` and ``sigma_max``) are given:
        either sets that end, and silently preferring one would ignore the other; or if both
        times are given and ``t_min >= t_max``.
    """
    if t_min is not None and sigma_min is not None:
        raise ValueError("t_min and sigma_min both set the low end of the schedule; give one")
    if t_max is not None and sigma_max is not None:
        raise ValueError("t_max and sigma_max both set the high end of the schedule; give one")
    if t_min is not None and t_max is not None and not t_min < t_max:
        raise ValueError(f"t_min must be < t_max, got t_min={t_min}, t_max={t_max}")
