r"""Input validation shared by the whole public API.

Every public function funnels user input through these helpers so that bad input fails early with
a ``ValueError`` / ``TypeError`` that names the argument and says what would be accepted, never a
NaN or a traceback from deep inside numpy, torch or SymPy.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "INPUT_MAX",
    "INPUT_MIN",
    "as_eigenvalues",
    "as_grid",
    "check_choice",
    "check_endpoints",
    "check_positive",
    "check_steps",
    "distinct_eigenvalues",
]


INPUT_MIN = 1e-300
"""Smallest eigenvalue or nonzero noise level of the input range (docs/cli.md#input-range)."""
INPUT_MAX = 1e300
"""Largest eigenvalue or finite noise level of the documented input range."""
_RANGE = "[1e-300, 1e300] (the documented input range)"


def _is_torch_tensor(x: Any) -> bool:
    mod = type(x).__module__
    return mod.startswith("torch") and hasattr(x, "detach")


def _to_float_array(values: Any, name: str) -> NDArray[np.float64]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence or array of numbers, got a string {values!r}")
    if _is_torch_tensor(values):
        if values.is_complex():
            raise TypeError(f"{name} must be real numbers, got a complex tensor ({values.dtype})")
        values = values.detach().cpu().numpy()
    if isinstance(values, numbers.Real):
        values = [values]
    if isinstance(values, numbers.Complex) or np.iscomplexobj(values):
        # np.asarray(..., float64) would drop the imaginary part with only a ComplexWarning
        raise TypeError(f"{name} must be real numbers, got complex values")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a sequence or array of real numbers ({exc})") from None
    return arr


def as_eigenvalues(values: Any, name: str = "eigenvalues") -> NDArray[np.float64]:
    """Return ``values`` as a 1-D float64 array of finite, strictly positive eigenvalues.

    Raises
    ------
    TypeError
        If ``values`` is not numeric or is complex.
    ValueError
        If it is empty, not 1-D, or holds a value that is <= 0, NaN or inf, or outside
        [:data:`INPUT_MIN`, :data:`INPUT_MAX`].
    """
    arr = _to_float_array(values, name)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional (a list of eigenvalues), got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least one eigenvalue, got none")
    bad = ~np.isfinite(arr) | (arr <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{name} must be finite and > 0 (covariance eigenvalues); "
            f"entry {i} is {float(arr[i])!r}"
        )
    out = (arr < INPUT_MIN) | (arr > INPUT_MAX)
    if out.any():
        i = int(np.argmax(out))
        raise ValueError(f"{name} must lie in {_RANGE}; entry {i} is {float(arr[i])!r}")
    return arr


def distinct_eigenvalues(eigenvalues: Any) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The distinct eigenvalues and how often each occurs (exact grouping, no rounding).

    A sum over eigenvalues of a function of one eigenvalue (both KLs, the dominant term) is
    exactly the sum over the distinct values weighted by their counts.

    Parameters
    ----------
    eigenvalues
        A spectrum.

    Returns
    -------
    (values, counts)
        The distinct values, descending, and their multiplicities (``counts.sum() == d``).
    """
    values, counts = np.unique(as_eigenvalues(eigenvalues), return_counts=True)
    return values[::-1].copy(), counts[::-1].astype(np.int64)


def as_grid(values: Any, name: str = "sigmas") -> NDArray[np.float64]:
    """Return a validated noise-level grid ``[sigma_0 > sigma_1 > ... > sigma_N >= 0]``.

    ``sigma_0`` may be ``inf`` (pure noise) and ``sigma_N`` may be 0; every other level must be
    finite and lie in [:data:`INPUT_MIN`, :data:`INPUT_MAX`]. NaN and complex values are rejected.
    """
    arr = _to_float_array(values, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size < 2:
        raise ValueError(
            f"{name} must have at least 2 levels (sigma_0 > ... > sigma_N, N >= 1 steps), "
            f"got {arr.size}"
        )
    if np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN (entry {int(np.argmax(np.isnan(arr)))})")
    if (arr < 0).any():
        i = int(np.argmax(arr < 0))
        raise ValueError(
            f"{name} must be non-negative noise levels; entry {i} is {float(arr[i])!r}"
        )
    if np.isinf(arr[1:]).any():
        raise ValueError(f"{name}: only the first level sigma_0 may be inf (pure noise)")
    if not (np.diff(arr) < 0).all():
        i = int(np.argmax(~(np.diff(arr) < 0)))
        raise ValueError(
            f"{name} must be strictly decreasing (sigma_max first); "
            f"entries {i} and {i + 1} are {float(arr[i])!r}, {float(arr[i + 1])!r}"
        )
    out = ((arr > 0) & (arr < INPUT_MIN)) | ((arr > INPUT_MAX) & np.isfinite(arr))
    if out.any():
        i = int(np.argmax(out))
        raise ValueError(
            f"{name} must be 0, inf (sigma_0 only) or lie in {_RANGE}; "
            f"entry {i} is {float(arr[i])!r}"
        )
    return arr


def check_steps(steps: Any, name: str = "steps", minimum: int = 1) -> int:
    """Return ``steps`` as an int >= ``minimum``."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        if isinstance(steps, float) and steps.is_integer():
            steps = int(steps)
        else:
            raise TypeError(f"{name} must be an integer, got {steps!r}")
    n = int(steps)
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n}")
    return n


def check_positive(
    value: Any, name: str, *, allow_inf: bool = False, allow_zero: bool = False
) -> float:
    """Return ``value`` as a float that is > 0 (or >= 0), finite unless ``allow_inf``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{name} must be a number, got NaN")
    if math.isinf(v) and not (allow_inf and v > 0):
        raise ValueError(f"{name} must be finite, got {v}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {v}")
    return v


def check_endpoints(sigma_min: Any, sigma_max: Any) -> tuple[float, float]:
    """Validate ``0 <= sigma_min < sigma_max <= inf``, finite nonzero ends in the input range."""
    lo = check_positive(sigma_min, "sigma_min", allow_zero=True)
    hi = check_positive(sigma_max, "sigma_max", allow_inf=True)
    for name, v, special in (("sigma_min", lo, "0"), ("sigma_max", hi, "inf")):
        if v != 0 and math.isfinite(v) and not INPUT_MIN <= v <= INPUT_MAX:
            raise ValueError(f"{name} must be {special} or lie in {_RANGE}, got {v:g}")
    if not lo < hi:
        raise ValueError(f"sigma_min must be < sigma_max, got sigma_min={lo}, sigma_max={hi}")
    return lo, hi


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return str(value)
