r"""Named compiled functions: the numpy code generated from the derivations, without SymPy.

Every numeric function the commands evaluate on their hot path has a name here (``"ddim_gain_rho"``,
``"family.karras.rho"``, ``"linear.ddim.step"`` ...) and a *spec* in :mod:`symsched._specs`: the
SymPy derivation that gives its arguments and expression. :mod:`symsched._codegen` runs every spec
at build time and prints it with SymPy's own printer (the source :func:`sympy.lambdify` generates,
``cse=True``) into :mod:`symsched._generated`, a plain-numpy module that is committed to the
repository. At run time :func:`function` returns the generated numpy function, wrapped as
:func:`symsched.numeric.lambdify` wraps its own (float64, broadcast to the inputs' shape, no
floating-point warnings), so neither SymPy nor the derivations run. The derivations stay the source
of truth: a test regenerates the module and compares its text, another compares every generated
function with the live ``lambdify`` of its derivation.

torch and mpmath functions (and a name missing from the generated module) are compiled from the
spec on first use, through :func:`symsched.numeric.lambdify`, as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from symsched._typing import BackendArrayLike, BackendDType, CompiledFunction, Device, FloatArray

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

__all__ = ["function", "generated_names", "numpy_wrap"]


def numpy_wrap(fn: Callable[..., Any], dtype: BackendDType | None = None) -> Callable[..., Any]:
    """``fn`` on float arrays (``dtype``, default float64), its result broadcast to the inputs'
    shape (a constant expression too) and computed without floating-point warnings."""
    dt = cast("DTypeLike", np.float64 if dtype is None else dtype)

    def numpy_wrapped(*values: BackendArrayLike) -> FloatArray:
        vals = [np.asarray(v, dtype=dt) for v in values]
        shape = np.broadcast_shapes(*(v.shape for v in vals)) if vals else ()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out: FloatArray = np.asarray(fn(*vals), dtype=dt)
        return np.broadcast_to(out, shape) if out.shape != shape else out

    return numpy_wrapped


@functools.cache
def _generated() -> dict[str, Callable[..., Any]]:
    try:
        from symsched._generated import FUNCTIONS
    except ImportError:  # pragma: no cover - a checkout before the first generation
        return {}
    return cast("dict[str, Callable[..., Any]]", FUNCTIONS)


def generated_names() -> tuple[str, ...]:
    """The names the generated module holds."""
    return tuple(_generated())


@functools.lru_cache(maxsize=512)
def _function(name: str, backend: str, dtype: Any, device: Any) -> CompiledFunction:
    raw = _generated().get(name) if backend == "numpy" else None
    if raw is not None:
        return cast("CompiledFunction", numpy_wrap(raw, dtype))
    from symsched import _specs, numeric

    args, expr = _specs.derive_spec(name)
    return numeric.lambdify(args, expr, backend, dtype=dtype, device=device)


def function(
    name: str, backend: str = "numpy", *, dtype: BackendDType | None = None, device: Device = None
) -> CompiledFunction:
    """The compiled function ``name`` for ``backend`` (numpy: the generated code).

    Parameters
    ----------
    name
        A name of :mod:`symsched._specs`.
    backend
        ``"numpy"`` (default), ``"torch"`` or ``"mpmath"``.
    dtype, device
        As for :func:`symsched.numeric.lambdify`.

    Returns
    -------
    CompiledFunction
        ``f(*values)``, called as the ``lambdify`` of the spec's arguments.
    """
    key_dtype, key_device = cast("Any", dtype), cast("Any", device)
    try:
        return _function(name, backend, key_dtype, key_device)
    except TypeError:  # an unhashable dtype or device: compile without the cache
        return _function.__wrapped__(name, backend, dtype, device)
