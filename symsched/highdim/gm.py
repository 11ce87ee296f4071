r"""The asymmetric Gaussian mixture under the interpolant ``c (1 - tau) z + tau a``, by Bayes' rule.

Data ``a ~ p N(m 1, sigma^2 I_d) + (1 - p) N(-m 1, sigma^2 I_d)``
(docs/theory/highdim.md#gaussian-mixture) and the interpolant ``I_tau = c alpha_tau z + beta_tau a``
with ``alpha = 1 - tau``, ``beta = tau``, ``c = 1`` (VP) or ``c = sqrt(d)`` (VE)
[aranguri2025, §2.1] (docs/theory/highdim.md#interpolants). Nothing below is typed in: the
posterior of the mode sign, the denoiser, the velocity and the score are derived in SymPy from the
two Gaussian likelihoods and Gaussian conditioning, and compiled through
:func:`symsched.numeric.lambdify`.

Every field has the form ``f(x) = A(tau) x + B(tau) m 1 tanh(h + K(tau) S)`` with ``S = 1 . x``,
which is what makes the exact scalar reduction possible (docs/theory/highdim.md#scalar-reduction).

References
----------
aranguri2025: S. Aranguri, G. Biroli, M. Mézard, E. Vanden-Eijnden, "Optimizing noise schedules of
generative models in high dimensions", arXiv:2501.00988v1. Page: docs/theory/highdim.md.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal, SupportsFloat, overload

import sympy as sp

from symsched import numeric
from symsched._typing import ArrayLike, FloatArray, JSONDict, TorchTensor
from symsched._validate import check_choice, check_positive
from symsched.highdim._symbols import Q, S, c, d, h, m, s, sigma, tau

__all__ = [
    "GMDerivation",
    "GaussianMixture",
    "Process",
    "check_dim",
    "check_weight",
    "derive_gm",
    "noise_scale",
    "stable_forms",
]

Process = Literal["vp", "ve"]


@dataclass(frozen=True)
class GMDerivation:
    r"""The derived GM fields, all of the form ``coef_x x + coef_1 m 1 tanh(h + tanh_slope S)``.

    Attributes
    ----------
    variance
        ``D_tau = Var(I_tau | s)`` per coordinate, ``c^2 (1 - tau)^2 + sigma^2 tau^2``.
    sign_posterior
        ``E[s | I_tau = x]`` as a function of ``S = 1 . x`` (Bayes' rule).
    tanh_slope
        ``K(tau) = tau m / D_tau``: ``E[s | x] = tanh(h + K S)``.
    denoiser_x, denoiser_1
        ``eta = denoiser_x x + denoiser_1 m 1 E[s|x]``.
    velocity_x, velocity_1
        ``b = velocity_x x + velocity_1 m 1 E[s|x]`` (probability-flow velocity).
    score_x, score_1
        ``grad log rho_tau = score_x x + score_1 m 1 E[s|x]`` (Tweedie).
    """

    variance: sp.Expr
    sign_posterior: sp.Expr
    tanh_slope: sp.Expr
    denoiser_x: sp.Expr
    denoiser_1: sp.Expr
    velocity_x: sp.Expr
    velocity_1: sp.Expr
    score_x: sp.Expr
    score_1: sp.Expr


@functools.cache
def derive_gm() -> GMDerivation:
    r"""Derive posterior, denoiser, velocity and score of the GM [aranguri2025, §3].

    The derivation of docs/theory/highdim.md#exact-gm-fields, with the velocity and score through
    the denoiser of docs/theory/highdim.md#velocity-and-score-through-the-denoiser.

    Steps (all symbolic):

    1. Given the mode sign ``s``, ``I_tau | s ~ N(tau s m 1, D I)`` with
       ``D = c^2 alpha^2 + tau^2 sigma^2``.
       The two log-likelihoods differ only through ``S = 1 . x`` (``|x|^2 = Q`` cancels), so Bayes'
       rule with prior odds ``p/(1-p) = e^{2h}`` gives ``E[s|x] = tanh(logit / 2)``.
    2. Gaussian conditioning: ``E[a | x, s] = s m 1 + (Cov(a, I) / D)(x - tau s m 1)``, linear in
       ``s``, so ``eta = E[a|x]`` replaces ``s`` by ``E[s|x]``.
    3. Velocity ``b = (alpha'/alpha) x + (beta' - alpha' beta / alpha) eta`` and Tweedie's score
       ``(beta eta - x) / (c^2 alpha^2)`` with ``alpha = 1 - tau``, ``beta = tau``.

    Returns
    -------
    GMDerivation
        The derived fields (cached).

    Raises
    ------
    AssertionError
        If the posterior log-odds are not affine in ``S`` (a derivation bug).
    """
    alpha_f, beta_f = sp.Function("alpha"), sp.Function("beta")
    alpha_e, beta_e = 1 - tau, tau
    var = sp.expand((c * alpha_e) ** 2 + beta_e**2 * sigma**2)  # Var(I | s) per coordinate

    # Step 1: log N(x; s tau m 1, D I) up to s-independent terms, with |x - s tau m 1|^2 expanded.
    def loglik(sign: int) -> sp.Expr:
        return -(Q - 2 * sign * beta_e * m * S + beta_e**2 * m**2 * d) / (2 * var)

    logit = sp.simplify(2 * h + loglik(1) - loglik(-1))  # log P(s=+1|x) - log P(s=-1|x)
    # posterior mean of a +-1 variable with log-odds L: (e^{L/2} - e^{-L/2}) / (e^{L/2} + e^{-L/2})
    half = sp.simplify(logit / 2)
    sign_post = sp.tanh(half)
    slope = sp.simplify(sp.diff(half, S))
    if sp.simplify(half - (h + slope * S)) != 0:  # pragma: no cover - the derivation guarantees it
        raise AssertionError("posterior log-odds are not affine in S")
    # Step 2: Gaussian conditioning (Cov(a_i, I_i) = beta sigma^2)
    cov = beta_e * sigma**2
    xs = sp.Symbol("xs", real=True)  # one coordinate of x
    cond_mean = s * m + cov / var * (xs - beta_e * s * m)
    den_x = sp.simplify(sp.diff(cond_mean, xs))
    den_1 = sp.simplify(sp.diff(cond_mean, s) / m)  # coefficient of s m
    # Step 3: velocity through the denoiser, with generic alpha, beta then substituted
    ad = sp.diff(alpha_f(tau), tau)
    bd = sp.diff(beta_f(tau), tau)
    coef_x_gen = ad / alpha_f(tau)
    coef_eta_gen = bd - ad * beta_f(tau) / alpha_f(tau)
    subs = {alpha_f(tau): alpha_e, beta_f(tau): beta_e}
    coef_x = sp.simplify(coef_x_gen.subs(subs).doit())
    coef_eta = sp.simplify(coef_eta_gen.subs(subs).doit())
    vel_x = sp.factor(sp.cancel(coef_x + coef_eta * den_x))
    vel_1 = sp.factor(sp.cancel(coef_eta * den_1))
    score_x = sp.factor(sp.cancel((beta_e * den_x - 1) / (c * alpha_e) ** 2))
    score_1 = sp.factor(sp.cancel(beta_e * den_1 / (c * alpha_e) ** 2))
    return GMDerivation(var, sign_post, slope, den_x, den_1, vel_x, vel_1, score_x, score_1)


al = sp.Symbol("al", nonnegative=True)  # alpha = 1 - tau, passed separately (exact complement)


@functools.cache
def stable_forms() -> dict[str, sp.Expr]:
    r"""Cancellation-free forms of :func:`derive_gm` in ``(tau, al = 1 - tau)``, checked exactly.

    The derived expressions are polynomials in ``tau`` that SymPy expands, e.g.
    ``c^2 tau^2 - 2 c^2 tau + c^2``: with ``c^2 = d = 1e8`` and ``1 - tau = 1e-5`` that loses eight
    digits. The forms below keep ``alpha = 1 - tau`` as its own argument; each is verified to equal
    the derived expression (``simplify(form(al = 1 - tau) - derived) == 0``) before it is used.

    Returns
    -------
    dict of str to sympy.Expr
        ``variance``, ``tanh_slope`` and the ``*_x`` / ``*_1`` coefficients of every field.

    Raises
    ------
    AssertionError
        If a form disagrees with the derivation.
    """
    der = derive_gm()
    var = c**2 * al**2 + sigma**2 * tau**2
    forms = {
        "variance": var,
        "tanh_slope": m * tau / var,
        "denoiser_x": sigma**2 * tau / var,
        "denoiser_1": c**2 * al**2 / var,
        "velocity_x": (sigma**2 * tau - c**2 * al) / var,
        "velocity_1": c**2 * al / var,
        "score_x": -1 / var,
        "score_1": tau / var,
    }
    for name, form in forms.items():
        if sp.simplify(form.subs(al, 1 - tau) - getattr(der, name)) != 0:  # pragma: no cover
            raise AssertionError(f"stable form of {name} disagrees with the derivation")
    return forms


def check_dim(dim: SupportsFloat | str, name: str = "dim") -> int:
    """Return ``dim`` as an int >= 1 (floats such as 1e8 with an integer value are accepted).

    Parameters
    ----------
    dim
        The dimension (int, integral float, or their text).
    name
        Name used in error messages.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        A bool or a value that is not a number.
    ValueError
        A non-integral, infinite or < 1 value.
    """
    if isinstance(dim, bool):
        raise TypeError(f"{name} must be an integer >= 1, got {dim!r}")
    try:
        v = float(dim)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an integer >= 1, got {dim!r}") from None
    if not math.isfinite(v) or v != int(v):
        raise ValueError(f"{name} must be an integer >= 1, got {dim!r}")
    if v < 1:
        raise ValueError(f"{name} must be >= 1 (a dimension), got {int(v)}")
    return int(v)


def check_weight(value: float, name: str = "p") -> float:
    """Return a mode weight strictly inside (0, 1).

    Parameters
    ----------
    value
        The weight.
    name
        Name used in error messages.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If ``value`` is not a real number strictly between 0 and 1.
    """
    v = check_positive(value, name)
    if not v < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1 (a mode weight), got {v}")
    return v


def noise_scale(process: str, dim: int) -> float:
    """The noise scale ``c``: 1 for VP, ``sqrt(d)`` for VE [aranguri2025, §2.1].

    See docs/theory/highdim.md#interpolants.

    Parameters
    ----------
    process
        ``"vp"`` or ``"ve"``.
    dim
        Dimension ``d``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Unknown ``process`` or invalid ``dim``.
    """
    check_choice(process, "process", ("vp", "ve"))
    return 1.0 if process == "vp" else math.sqrt(check_dim(dim))


@dataclass(frozen=True)
class GaussianMixture:
    r"""``p N(m 1, sigma^2 I_d) + (1 - p) N(-m 1, sigma^2 I_d)`` [aranguri2025, §3].

    See docs/theory/highdim.md#gaussian-mixture.

    Parameters
    ----------
    p
        Weight of the ``+`` mode, in (0, 1). Default 0.8 (the paper's value).
    m
        Mode offset per coordinate (> 0); the mean has norm ``m sqrt(d)``.
    mode_sigma
        Per-mode standard deviation ``sigma`` (> 0).
    dim
        Dimension ``d >= 1``.

    Examples
    --------
    >>> gm = GaussianMixture(p=0.8, m=1.0, mode_sigma=0.5, dim=100)
    >>> round(gm.h, 6)
    0.693147
    """

    p: float = 0.8
    m: float = 1.0
    mode_sigma: float = 0.5
    dim: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", check_weight(self.p, "p"))
        object.__setattr__(self, "m", check_positive(self.m, "m"))
        object.__setattr__(self, "mode_sigma", check_positive(self.mode_sigma, "mode_sigma"))
        object.__setattr__(self, "dim", check_dim(self.dim))

    @property
    def h(self) -> float:
        """``h = (1/2) log(p / (1 - p))``."""
        return 0.5 * (math.log(self.p) - math.log1p(-self.p))

    def params(self) -> JSONDict:
        """The model's parameters for JSON ``params``.

        Returns
        -------
        JSONDict
            ``p``, ``m``, ``mode_sigma`` and ``dim``.
        """
        return {"p": self.p, "m": self.m, "mode_sigma": self.mode_sigma, "dim": self.dim}

    @overload
    def coefficients(
        self,
        taus: ArrayLike,
        alphas: ArrayLike,
        c_value: float,
        field: str = ...,
        backend: Literal["numpy"] = ...,
    ) -> tuple[FloatArray, FloatArray, FloatArray]: ...
    @overload
    def coefficients(
        self,
        taus: ArrayLike | TorchTensor,
        alphas: ArrayLike | TorchTensor,
        c_value: float,
        field: str,
        backend: Literal["torch"],
    ) -> tuple[TorchTensor, TorchTensor, TorchTensor]: ...
    @overload
    def coefficients(
        self,
        taus: ArrayLike | TorchTensor,
        alphas: ArrayLike | TorchTensor,
        c_value: float,
        field: str = ...,
        *,
        backend: Literal["torch"],
    ) -> tuple[TorchTensor, TorchTensor, TorchTensor]: ...
    def coefficients(
        self,
        taus: ArrayLike | TorchTensor,
        alphas: ArrayLike | TorchTensor,
        c_value: float,
        field: str = "velocity",
        backend: Literal["numpy", "torch"] = "numpy",
    ) -> tuple[FloatArray, FloatArray, FloatArray] | tuple[TorchTensor, TorchTensor, TorchTensor]:
        r"""``(A, B, K)`` at times ``taus`` (with ``alphas = 1 - taus``) for ``field``.

        The field is ``A x + B m 1 tanh(h + K S)`` [aranguri2025, §3]
        (docs/theory/highdim.md#exact-gm-fields), compiled from the checked :func:`stable_forms` of
        :func:`derive_gm`.

        Parameters
        ----------
        taus, alphas
            Interpolant times and their exact complements.
        c_value
            Noise scale ``c``.
        field
            ``velocity``, ``denoiser`` or ``score``.
        backend
            ``"numpy"`` or ``"torch"``.

        Returns
        -------
        tuple
            ``(A, B, K)`` arrays of the backend, shaped like ``taus``.

        Raises
        ------
        ValueError
            Unknown ``field``.
        """
        check_choice(field, "field", ("velocity", "denoiser", "score"))
        forms = stable_forms()
        args = (tau, al, c, sigma, m)
        keys = (f"{field}_x", f"{field}_1", "tanh_slope")
        vals = (taus, alphas, c_value, self.mode_sigma, self.m)
        if backend == "torch":
            ta, tb, tk = (numeric.lambdify(args, forms[k], "torch") for k in keys)
            return ta(*vals), tb(*vals), tk(*vals)
        fa, fb, fk = (numeric.lambdify(args, forms[k], "numpy") for k in keys)
        return fa(*vals), fb(*vals), fk(*vals)
